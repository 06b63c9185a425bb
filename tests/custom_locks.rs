//! `lockwatch::custom`: locks lockwatch does not wrap, tracked around the program's own
//! acquire and release, get the built-in locks' checks: order against std locks and between
//! custom classes, self-deadlocks, try rules, the watchdog's long holds and long waits (with a
//! holder described by another process). Its own binary: it turns the thresholds down.
#![cfg(feature = "enabled")]

use std::time::Duration;

use lockwatch::custom::CustomLock;
use lockwatch::report::{Doing, Finding};
use lockwatch::sync::Mutex;
use lockwatch::{named, ReportKind};
mod common;

use common::{assert_quiet, assert_reported, wait_for_report};

#[test]
fn a_custom_lock_and_a_std_mutex_in_both_orders_is_an_inversion() {
    let file = CustomLock::new("cl-file");
    let state = named(Mutex::new(0), "cl-state");
    {
        let _f = file.before_wait().acquired();
        let _s = state.lock().unwrap();
    }
    let line = line!() + 3;
    {
        let _s = state.lock().unwrap();
        let _f = file.before_wait().acquired();
    }
    let report = assert_reported(
        ReportKind::LockOrder,
        &["cl-file", "cl-state"],
        &[&format!("custom_locks.rs:{line}")],
    );
    assert!(report.to_string().contains("Lock `cl-file`"), "{report}");
}

#[test]
fn two_custom_classes_in_both_orders_across_threads_is_an_inversion() {
    let a = CustomLock::new("cl-a");
    let b = CustomLock::new("cl-b");
    std::thread::scope(|s| {
        s.spawn(|| {
            let _a = a.before_wait().acquired();
            let _b = b.before_wait().acquired();
        })
        .join()
        .unwrap();
        s.spawn(|| {
            let _b = b.before_wait().acquired();
            let _a = a.before_wait().acquired();
        })
        .join()
        .unwrap();
    });
    assert_reported(
        ReportKind::LockOrder,
        &["cl-a", "cl-b"],
        &["custom_locks.rs:"],
    );
}

#[test]
fn waiting_for_a_custom_lock_the_thread_holds_is_reported_before_it_waits() {
    let lock = CustomLock::new("cl-self");
    let _held = lock.before_wait().acquired();
    // The program would block here; it gives up instead (drops the wait).
    drop(lock.before_wait());
    let report = assert_reported(ReportKind::LockOrder, &["cl-self"], &["custom_locks.rs:"]);
    assert!(
        matches!(report.finding(), Finding::SelfDeadlock { .. }),
        "{report}"
    );
}

#[test]
fn acquisitions_without_waiting_follow_the_trylock_rules() {
    let (t0, l1) = (CustomLock::new("cl-try-0"), CustomLock::new("cl-try-1"));
    {
        let _t = t0.acquired_without_waiting();
        let _l = l1.before_wait().acquired();
    }
    {
        let _l = l1.before_wait().acquired();
        let _t = t0.acquired_without_waiting();
    }
    assert_quiet(&["cl-try-0", "cl-try-1"]);
    let (t2, l3) = (CustomLock::new("cl-try-2"), CustomLock::new("cl-try-3"));
    {
        let _t = t2.acquired_without_waiting();
        let _l = l3.before_wait().acquired();
    }
    {
        let _l = l3.before_wait().acquired();
        let _t = t2.before_wait().acquired();
    }
    assert_reported(
        ReportKind::LockOrder,
        &["cl-try-2", "cl-try-3"],
        &["custom_locks.rs:"],
    );
}

#[test]
fn shared_holds_follow_the_read_rules() {
    let (r, m) = (
        CustomLock::new("cl-shared"),
        named(Mutex::new(()), "cl-shared-m"),
    );
    {
        let _r = r.before_wait_shared().acquired();
        let _m = m.lock().unwrap();
    }
    {
        let _m = m.lock().unwrap();
        let _r = r.acquired_shared_without_waiting();
    }
    // A shared hold then a wait for it (shared) while holding `m` in between: `[read R, lock
    // M]` then `[lock M, read R]` is a report, as for `RwLock::read`.
    {
        let _m = m.lock().unwrap();
        let _r = r.before_wait_shared().acquired();
    }
    assert_reported(
        ReportKind::LockOrder,
        &["cl-shared", "cl-shared-m"],
        &["custom_locks.rs:"],
    );
}

#[test]
fn the_watchdog_sees_custom_holds_and_waits_on_remote_holders() {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(200));
    lockwatch::watchdog::set_long_wait(Duration::from_millis(200));
    let lock = CustomLock::new("cl-watch");
    {
        let _held = lock.before_wait().acquired();
        std::thread::sleep(Duration::from_millis(600));
    }
    wait_for_report(ReportKind::LongHold, &["cl-watch"]);

    let remote = CustomLock::new("cl-remote");
    let waiting = remote.before_wait();
    waiting.held_by("process `billing` (pid 4242 on db-1), thread `main`, at src/billing.rs:40:9");
    let report = wait_for_report(ReportKind::LongWait, &["cl-remote"]);
    drop(waiting);
    let Finding::LongWait { holders, .. } = report.finding() else {
        panic!("{report}");
    };
    assert_eq!(holders.len(), 1, "{report}");
    assert!(
        holders[0].thread.starts_with("process `billing` (pid 4242"),
        "{report}"
    );
    assert_eq!(
        holders[0].hold.site.to_string(),
        "src/billing.rs:40:9",
        "{report}"
    );
    assert_eq!(holders[0].doing, Doing::InAnotherProcess, "{report}");
    let text = report.to_string();
    assert!(!text.contains("thread `process"), "{text}");
    assert!(text.contains("in another process"), "{text}");
}

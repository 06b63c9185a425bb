//! Per-test reports: `capture` and `assert_clean` while tests run in parallel threads of one
//! process and each bug is reported once per process.
#![cfg(feature = "enabled")]

use std::sync::{Arc, Barrier};
use std::thread;

use lockwatch::sync::atomic::AtomicU64;
use lockwatch::sync::Mutex;
use lockwatch::{named, Capture, Report, ReportKind};

use crate::common::lose_an_update;

/// `transfer` as an application writes it: locks `from`, then `to`.
fn transfer(from: &Mutex<i64>, to: &Mutex<i64>, amount: i64) {
    let mut from = from.lock().unwrap();
    let mut to = to.lock().unwrap();
    *from -= amount;
    *to += amount;
}

/// Accounts created at one site: one class, ordered per instance.
fn account(balance: i64) -> Mutex<i64> {
    Mutex::new(balance)
}

fn kinds(reports: &[Report]) -> Vec<ReportKind> {
    reports.iter().map(Report::kind).collect()
}

fn about(reports: &[Report], needle: &str) -> usize {
    lockwatch::reports()
        .iter()
        .chain(reports)
        .filter(|r| r.to_string().contains(needle))
        .count()
}

#[test]
fn each_capture_sees_its_own_inversion_though_the_process_reported_it_once() {
    let ((), first) = lockwatch::capture(|| {
        let (alice, bob) = (account(100), account(100));
        transfer(&alice, &bob, 1);
        transfer(&bob, &alice, 1);
    });
    let ((), second) = lockwatch::capture(|| {
        let (carol, dave) = (account(100), account(100));
        transfer(&carol, &dave, 1);
        transfer(&dave, &carol, 1);
    });
    assert_eq!(kinds(&first), [ReportKind::LockOrder]);
    assert_eq!(
        kinds(&second),
        [ReportKind::LockOrder],
        "the same bug again"
    );
    // One report in the process: the second capture was given the first one.
    let text = first[0].to_string();
    assert_eq!(second[0].to_string(), text);
    let global = lockwatch::reports()
        .into_iter()
        .filter(|r| r.to_string() == text)
        .count();
    assert_eq!(global, 1);
}

#[test]
fn a_class_inversion_reported_before_is_seen_again_by_a_capture_that_takes_both_orders() {
    fn pair() -> (Mutex<()>, Mutex<()>) {
        (
            named(Mutex::new(()), "capture-users"),
            named(Mutex::new(()), "capture-orders"),
        )
    }
    fn users_then_orders(u: &Mutex<()>, o: &Mutex<()>) {
        let _u = u.lock().unwrap();
        let _o = o.lock().unwrap();
    }
    fn orders_then_users(u: &Mutex<()>, o: &Mutex<()>) {
        let _o = o.lock().unwrap();
        let _u = u.lock().unwrap();
    }
    // Reported outside any capture first (another test, say).
    let (u, o) = pair();
    users_then_orders(&u, &o);
    orders_then_users(&u, &o);
    // Known edges, already on a reported cycle: one order alone is not this capture's bug...
    let ((), one_order) = lockwatch::capture(|| {
        let (u, o) = pair();
        users_then_orders(&u, &o);
        users_then_orders(&u, &o);
    });
    assert!(one_order.is_empty(), "{one_order:?}");
    // ...both orders are.
    let ((), both) = lockwatch::capture(|| {
        let (u, o) = pair();
        orders_then_users(&u, &o);
        users_then_orders(&u, &o);
    });
    assert_eq!(kinds(&both), [ReportKind::LockOrder]);
    assert!(both[0].to_string().contains("`capture-users`"));
}

#[test]
fn a_clean_capture_stays_clean_while_another_thread_commits_an_inversion() {
    let clean_started = Arc::new(Barrier::new(2));
    let inversion_done = Arc::new(Barrier::new(2));
    let clean = {
        let (started, done) = (Arc::clone(&clean_started), Arc::clone(&inversion_done));
        thread::spawn(move || {
            lockwatch::capture(|| {
                let a = named(Mutex::new(()), "capture-clean-a");
                let b = named(Mutex::new(()), "capture-clean-b");
                let _a = a.lock().unwrap();
                started.wait();
                done.wait(); // the inversion happens meanwhile, on the other thread
                let _b = b.lock().unwrap();
            })
            .1
        })
    };
    clean_started.wait();
    let ((), dirty) = lockwatch::capture(|| {
        let a = named(Mutex::new(()), "capture-dirty-a");
        let b = named(Mutex::new(()), "capture-dirty-b");
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    inversion_done.wait();
    let clean = clean.join().unwrap();
    assert_eq!(kinds(&dirty), [ReportKind::LockOrder]);
    assert!(clean.is_empty(), "{clean:?}");
}

#[test]
fn threads_that_join_a_capture_are_part_of_it() {
    let ((), reports) = lockwatch::capture(|| {
        let a = Arc::new(named(Mutex::new(()), "capture-joined-a"));
        let b = Arc::new(named(Mutex::new(()), "capture-joined-b"));
        let capture = Capture::current().unwrap();
        let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
        thread::spawn(move || {
            capture.in_scope(|| {
                let _a = a2.lock().unwrap();
                let _b = b2.lock().unwrap();
            })
        })
        .join()
        .unwrap();
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    });
    assert_eq!(kinds(&reports), [ReportKind::LockOrder]);
    // A thread that did not join is not part of it.
    let ((), outside) = lockwatch::capture(|| {
        let a = Arc::new(named(Mutex::new(()), "capture-unjoined-a"));
        let b = Arc::new(named(Mutex::new(()), "capture-unjoined-b"));
        let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
        thread::spawn(move || {
            let _a = a2.lock().unwrap();
            let _b = b2.lock().unwrap();
        })
        .join()
        .unwrap();
        thread::spawn(move || {
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        })
        .join()
        .unwrap();
    });
    assert!(outside.is_empty(), "{outside:?}");
    assert_eq!(about(&[], "capture-unjoined-a"), 1, "reported all the same");
}

#[test]
fn nested_captures_both_get_the_report() {
    let (((), inner), outer) = lockwatch::capture(|| {
        let a = named(Mutex::new(()), "capture-nested-a");
        let b = named(Mutex::new(()), "capture-nested-b");
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        lockwatch::capture(|| {
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        })
    });
    assert_eq!(kinds(&inner), [ReportKind::LockOrder]);
    assert_eq!(kinds(&outer), [ReportKind::LockOrder]);
}

#[test]
fn assert_clean_fails_the_test_with_the_whole_report() {
    let a = named(Mutex::new(()), "capture-assert-a");
    let b = named(Mutex::new(()), "capture-assert-b");
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lockwatch::assert_clean(|| {
            {
                let _a = a.lock().unwrap();
                let _b = b.lock().unwrap();
            }
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        })
    }));
    let message = failed.expect_err("assert_clean panics");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.starts_with("lockwatch reported 1 problem(s)"),
        "{message}"
    );
    assert!(message.contains("lock order inversion"), "{message}");
    assert!(message.contains("`capture-assert-a`"), "{message}");
    assert!(
        message.contains("tests/it/capture.rs:"),
        "the sites: {message}"
    );
    // And a clean run returns the closure's value.
    assert_eq!(lockwatch::assert_clean(|| 7), 7);
}

#[test]
fn a_lost_update_shown_again_is_captured_again() {
    let ((), first) = lockwatch::capture(|| lose_an_update(&Arc::new(AtomicU64::new(0))));
    let ((), second) = lockwatch::capture(|| lose_an_update(&Arc::new(AtomicU64::new(0))));
    assert_eq!(kinds(&first), [ReportKind::LostUpdate]);
    assert_eq!(kinds(&second), [ReportKind::LostUpdate]);
    assert_eq!(first[0].to_string(), second[0].to_string());
}

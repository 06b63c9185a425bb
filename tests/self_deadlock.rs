//! Re-locking a lock this thread holds is reported before blocking. These tests use the panic
//! policy (set for the whole binary), so that the test thread unwinds instead of hanging.
#![cfg(feature = "enabled")]

mod common;

use common::{assert_quiet, assert_reported};
use lockwatch::{named, Policy, ReportKind};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn panics(f: impl FnOnce()) -> bool {
    lockwatch::set_policy(Policy::Panic);
    catch_unwind(AssertUnwindSafe(f)).is_err()
}

#[test]
fn std_mutex_relocked_is_reported_before_blocking() {
    let m = named(lockwatch::sync::Mutex::new(()), "aa-std-mutex");
    let mut site = String::new();
    assert!(panics(|| {
        let (_first, first_site) = at!(m.lock().unwrap());
        site = first_site;
        let _second = m.lock(); // would block forever
    }));
    let report = assert_reported(ReportKind::LockOrder, &["aa-std-mutex"], &[&site]);
    assert!(report.to_string().contains("blocks forever"));
    // The mutex was released by the unwinding and still works.
    assert!(m.try_lock().is_ok() || m.is_poisoned());
}

#[test]
fn std_rwlock_read_twice_is_reported() {
    let l = named(lockwatch::sync::RwLock::new(()), "aa-std-read");
    let mut site = String::new();
    assert!(panics(|| {
        let _first = l.read().unwrap();
        let (_second, second_site) = at!(l.read());
        site = second_site;
    }));
    assert_reported(ReportKind::LockOrder, &["aa-std-read"], &[]);
    assert!(
        site.is_empty(),
        "the second read was reported before it was taken"
    );
}

// parking_lot 0.13 has no `read_recursive` on `RwLock`.
#[cfg(not(feature = "parking_lot_0_13"))]
#[test]
fn parking_lot_upgrade_over_its_own_read_is_reported_before_blocking() {
    use lockwatch::parking_lot::{RwLock, RwLockUpgradableReadGuard};
    let l = named(RwLock::new(()), "aa-pl-upgrade");
    let mut site = String::new();
    assert!(panics(|| {
        let upgradable = l.upgradable_read();
        let (_read, read_site) = at!(l.read_recursive()); // fine: reads share with it
        site = read_site;
        let _w = RwLockUpgradableReadGuard::upgrade(upgradable); // waits for `_read` forever
    }));
    let report = assert_reported(ReportKind::LockOrder, &["aa-pl-upgrade"], &[&site]);
    assert!(report.to_string().contains("blocks forever"), "{report}");
    // Both guards were dropped by the unwinding.
    assert!(l.try_write().is_some());
}

#[test]
fn parking_lot_mutex_relocked_is_reported() {
    let m = named(lockwatch::parking_lot::Mutex::new(()), "aa-pl-mutex");
    assert!(panics(|| {
        let _first = m.lock();
        let _second = m.lock();
    }));
    assert_reported(ReportKind::LockOrder, &["aa-pl-mutex"], &[]);
    assert!(!m.is_locked(), "unwinding released the first guard");
}

#[test]
fn parking_lot_read_twice_is_reported_write_after_read_too() {
    let l = named(lockwatch::parking_lot::RwLock::new(()), "aa-pl-read");
    assert!(panics(|| {
        let _first = l.read();
        let _second = l.read();
    }));
    assert_reported(ReportKind::LockOrder, &["aa-pl-read"], &[]);
    let w = named(
        lockwatch::parking_lot::RwLock::new(()),
        "aa-pl-upgrade-by-hand",
    );
    assert!(panics(|| {
        let _r = w.read();
        let _w = w.write();
    }));
    assert_reported(ReportKind::LockOrder, &["aa-pl-upgrade-by-hand"], &[]);
}

#[test]
#[cfg(not(feature = "parking_lot_0_13"))]
fn recursive_reads_and_reentrant_mutexes_are_quiet() {
    let l = named(lockwatch::parking_lot::RwLock::new(()), "aa-ok-rr");
    let r = named(lockwatch::parking_lot::ReentrantMutex::new(()), "aa-ok-re");
    assert!(!panics(|| {
        let _a = l.read();
        let _b = l.read_recursive();
        let _c = l.read_recursive();
        let _x = r.lock();
        let _y = r.lock();
    }));
    assert_quiet(&["aa-ok-rr", "aa-ok-re"]);
}

#[test]
fn a_try_lock_on_a_held_lock_is_quiet() {
    let m = named(lockwatch::sync::Mutex::new(()), "aa-try");
    assert!(!panics(|| {
        let _g = m.lock().unwrap();
        assert!(m.try_lock().is_err());
    }));
    assert_quiet(&["aa-try"]);
}

#[test]
fn recursive_once_lock_initialization_is_reported_before_it_hangs() {
    static CELL: lockwatch::sync::OnceLock<u32> = lockwatch::sync::OnceLock::new();
    assert!(panics(|| {
        CELL.get_or_init(|| *CELL.get_or_init(|| 1) + 1);
    }));
    let found: Vec<_> = lockwatch::reports()
        .into_iter()
        .filter(|r| {
            r.to_string()
                .contains("OnceLock<u32> created at tests/self_deadlock.rs")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].to_string().contains("get_or_init()"));
}

#[test]
fn recursive_lazy_lock_and_once_are_reported() {
    static LAZY: lockwatch::sync::LazyLock<u32> = lockwatch::sync::LazyLock::new(|| *LAZY + 1);
    assert!(panics(|| {
        let _ = *LAZY;
    }));
    static ONCE: lockwatch::sync::Once = lockwatch::sync::Once::new();
    assert!(panics(|| ONCE.call_once(|| ONCE.call_once(|| ()))));
    for what in [
        "LazyLock<u32> created at tests/self_deadlock.rs",
        "Once created at tests/self_deadlock.rs",
    ] {
        assert!(
            lockwatch::reports()
                .iter()
                .any(|r| r.to_string().contains(what)),
            "no report about {what}"
        );
    }
}

#[cfg(feature = "once_cell")]
#[test]
fn recursive_once_cell_initialization_is_reported() {
    static CELL: lockwatch::once_cell::sync::OnceCell<u32> =
        lockwatch::once_cell::sync::OnceCell::new();
    assert!(panics(|| {
        CELL.get_or_init(|| *CELL.get_or_init(|| 1) + 1);
    }));
    assert!(lockwatch::reports().iter().any(|r| r
        .to_string()
        .contains("OnceCell<u32> created at tests/self_deadlock.rs")
        && r.to_string().contains("get_or_init()")));
}

/// A self-deadlock reported on behalf of a tokio task (the thread's order check acts for the
/// task that holds tokio locks) panics out of that check; the thread's later reports must
/// name the thread again, not the task.
#[cfg(feature = "tokio")]
#[test]
fn a_report_panicking_out_of_a_task_leaves_the_thread_its_name() {
    use std::sync::Arc;
    lockwatch::set_policy(Policy::Panic);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tokio_lock = Arc::new(named(lockwatch::tokio::Mutex::new(()), "aa-task-held"));
    let relocked = Arc::new(named(
        lockwatch::parking_lot::Mutex::new(()),
        "aa-task-relock",
    ));
    let task = rt.spawn(async move {
        let _t = tokio_lock.lock().await;
        let _first = relocked.lock();
        let _second = relocked.lock(); // reported for the task: panics
    });
    let ended = rt.block_on(task);
    assert!(ended.is_err_and(|e| e.is_panic()));
    let in_task = assert_reported(ReportKind::LockOrder, &["aa-task-relock"], &[]);
    assert!(in_task.thread().starts_with("task "), "{in_task}");
    // Now on the test's thread, outside any task.
    let m = named(lockwatch::parking_lot::Mutex::new(()), "aa-after-task");
    assert!(panics(|| {
        let _first = m.lock();
        let _second = m.lock();
    }));
    let after = assert_reported(ReportKind::LockOrder, &["aa-after-task"], &[]);
    assert!(!after.thread().starts_with("task "), "{after}");
}

//! Deadlocks among locks of one class that the per-instance graph once lost: a lock held twice
//! that nests another of its class, and a try-acquired mutex re-taken after a condvar wait.
//! Each program comes from an independent differential check; each runs for every lock family
//! it applies to. Every lock of a program is made by one helper: one class.
#![cfg(feature = "enabled")]

use std::time::Duration;

use crate::common::{assert_quiet, assert_reported};
use lockwatch::{named, ReportKind};

/// A lock held twice (two recursive reads) nests `r2`; after the inner guard goes, the outer
/// hold orders `r1`; another thread later takes `r1` then `r0`: a real deadlock.
#[cfg(not(feature = "parking_lot_0_13"))]
#[test]
fn a_recursive_read_held_twice_keeps_ordering_after_the_inner_guard_goes() {
    use lockwatch::parking_lot::RwLock;
    fn mk() -> RwLock<()> {
        named(RwLock::new(()), "ig-rr")
    }
    let r: Vec<RwLock<()>> = (0..3).map(|_| mk()).collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            let outer = r[0].read_recursive();
            let inner = r[0].read_recursive();
            drop(r[2].write()); // r0 -> r2 while r0 is held twice
            drop(inner);
            drop(r[1].write()); // r0 -> r1 under `outer`
            drop(outer);
        });
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g1 = r[1].write();
            let _g0 = r[0].write(); // r1 -> r0: closes r0 -> r1 -> r0
        });
    });
    assert_reported(
        ReportKind::LockOrder,
        &["ig-rr"],
        &["tests/it/instance_graph.rs:"],
    );
}

/// The same with a `ReentrantMutex` entered twice.
#[test]
fn a_reentrant_mutex_entered_twice_keeps_ordering_after_the_inner_guard_goes() {
    use lockwatch::parking_lot::ReentrantMutex;
    fn mk() -> ReentrantMutex<()> {
        named(ReentrantMutex::new(()), "ig-re")
    }
    let r: Vec<ReentrantMutex<()>> = (0..3).map(|_| mk()).collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            let outer = r[0].lock();
            let inner = r[0].lock();
            drop(r[2].lock());
            drop(inner);
            drop(r[1].lock());
            drop(outer);
        });
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g1 = r[1].lock();
            let _g0 = r[0].lock();
        });
    });
    assert_reported(
        ReportKind::LockOrder,
        &["ig-re"],
        &["tests/it/instance_graph.rs:"],
    );
}

/// Without the double hold the same program was always reported: the control.
#[test]
fn a_lock_held_once_is_the_control() {
    use lockwatch::parking_lot::ReentrantMutex;
    let r: Vec<ReentrantMutex<()>> = (0..3)
        .map(|_| named(ReentrantMutex::new(()), "ig-once"))
        .collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            let outer = r[0].lock();
            drop(r[2].lock());
            drop(r[1].lock());
            drop(outer);
        });
    });
    {
        let _g1 = r[1].lock();
        let _g0 = r[0].lock();
    }
    assert_reported(ReportKind::LockOrder, &["ig-once"], &[]);
}

/// Re-taking a mutex when a condvar wait returns is a blocking acquisition, whatever took the
/// mutex first (here a `try_lock`): std.
#[test]
fn a_try_locked_std_mutex_retaken_after_a_wait_orders_like_a_lock() {
    use lockwatch::sync::{Condvar, Mutex};
    fn mk() -> Mutex<()> {
        named(Mutex::new(()), "ig-cv-std")
    }
    let (r0, r2, cv) = (mk(), mk(), Condvar::new());
    let g0 = r0.lock().unwrap();
    let g2 = r2.try_lock().unwrap();
    let g0 = cv.wait_timeout(g0, Duration::ZERO).unwrap().0; // r0 re-taken under r2: r2 -> r0
    let g2 = cv.wait_timeout(g2, Duration::ZERO).unwrap().0; // r2 re-taken under r0: r0 -> r2
    drop((g0, g2));
    assert_reported(
        ReportKind::LockOrder,
        &["ig-cv-std"],
        &["tests/it/instance_graph.rs:"],
    );
}

/// The same with parking_lot's condvar.
#[test]
fn a_try_locked_parking_lot_mutex_retaken_after_a_wait_orders_like_a_lock() {
    use lockwatch::parking_lot::{Condvar, Mutex};
    fn mk() -> Mutex<()> {
        named(Mutex::new(()), "ig-cv-pl")
    }
    let (r0, r2, cv) = (mk(), mk(), Condvar::new());
    let mut g0 = r0.lock();
    let mut g2 = r2.try_lock().unwrap();
    cv.wait_for(&mut g0, Duration::ZERO); // r2 -> r0
    cv.wait_for(&mut g2, Duration::ZERO); // r0 -> r2
    drop((g0, g2));
    assert_reported(
        ReportKind::LockOrder,
        &["ig-cv-pl"],
        &["tests/it/instance_graph.rs:"],
    );
}

/// With two classes the same condvar program was always reported: the control, and a quiet
/// variant where the try-locked mutex is never waited on.
#[test]
fn the_condvar_controls() {
    use lockwatch::sync::{Condvar, Mutex};
    let (a, b, cv) = (
        named(Mutex::new(()), "ig-cv-a"),
        named(Mutex::new(()), "ig-cv-b"),
        Condvar::new(),
    );
    let ga = a.lock().unwrap();
    let gb = b.try_lock().unwrap();
    let ga = cv.wait_timeout(ga, Duration::ZERO).unwrap().0;
    let gb = cv.wait_timeout(gb, Duration::ZERO).unwrap().0;
    drop((ga, gb));
    assert_reported(ReportKind::LockOrder, &["ig-cv-a", "ig-cv-b"], &[]);

    let (c, d) = (
        named(Mutex::new(()), "ig-cv-quiet"),
        named(Mutex::new(()), "ig-cv-quiet"),
    );
    let gc = c.lock().unwrap();
    let gd = d.try_lock().unwrap();
    let gc = cv.wait_timeout(gc, Duration::ZERO).unwrap().0; // d -> c only
    drop((gc, gd));
    assert_quiet(&["ig-cv-quiet"]);
}

/// Two threads read `r0` at once; one nests `r1` under it (so `r0` gets its node while both
/// hold it) and lets go first; the other, still reading the `r0` it took before that, nests
/// `r2`. A third takes `r2` then writes `r0`: a real deadlock with the second reader. Its
/// `r0` must be the node the first reader gave the lock, not a second node of the same lock.
#[test]
fn a_lock_read_by_two_threads_is_one_node_for_both() {
    use lockwatch::sync::RwLock;
    use std::sync::Barrier;
    fn mk() -> RwLock<()> {
        named(RwLock::new(()), "ig-two")
    }
    let r: Vec<RwLock<()>> = (0..3).map(|_| mk()).collect();
    let (both_read, first_done) = (Barrier::new(2), Barrier::new(2));
    std::thread::scope(|s| {
        s.spawn(|| {
            let _r0 = r[0].read().unwrap();
            both_read.wait();
            first_done.wait();
            drop(r[2].write().unwrap()); // r0 -> r2, r0 read since before r0 had a node
        });
        let r0 = r[0].read().unwrap();
        both_read.wait();
        drop(r[1].write().unwrap()); // r0 -> r1: r0 gets its node while held
        drop(r0);
        first_done.wait();
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g2 = r[2].write().unwrap();
            let _g0 = r[0].write().unwrap(); // r2 -> r0: closes r0 -> r2 -> r0
        });
    });
    assert_reported(
        ReportKind::LockOrder,
        &["ig-two"],
        &["tests/it/instance_graph.rs:"],
    );
}

/// The same with exclusive locks held one after the other: the first holder lets go of `r0`
/// while the second is already waiting for it.
#[test]
fn a_lock_handed_over_keeps_its_node() {
    use lockwatch::parking_lot::Mutex;
    fn mk() -> Mutex<()> {
        named(Mutex::new(()), "ig-hand")
    }
    let r: Vec<Mutex<()>> = (0..3).map(|_| mk()).collect();
    for _ in 0..200 {
        std::thread::scope(|s| {
            let first = r[0].lock();
            s.spawn(|| {
                let _r0 = r[0].lock(); // waits for the first holder
                drop(r[2].lock()); // r0 -> r2
            });
            drop(r[1].lock()); // r0 -> r1: r0 gets its node while held
            std::thread::sleep(Duration::from_micros(200));
            drop(first);
        });
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g2 = r[2].lock();
            let _g0 = r[0].lock(); // r2 -> r0: closes r0 -> r2 -> r0
        });
    });
    assert_reported(
        ReportKind::LockOrder,
        &["ig-hand"],
        &["tests/it/instance_graph.rs:"],
    );
}

/// A lock taken with a try and upgraded while another lock of its class is held (the upgrade
/// gives it its node) then nests a third; later another thread takes the third, then it: a
/// real deadlock. (Found by the differential test once it upgraded: the entry pushed at the
/// try kept no node, and the lock got a second one, from which the nesting was recorded.)
#[test]
fn an_upgraded_lock_orders_from_the_node_its_upgrade_gave_it() {
    use lockwatch::parking_lot::{RwLock, RwLockUpgradableReadGuard};
    fn mk() -> RwLock<()> {
        named(RwLock::new(()), "ig-upg")
    }
    let (a, b, c) = (mk(), mk(), mk());
    std::thread::scope(|s| {
        s.spawn(|| {
            let held = c.read();
            let upgradable = b.try_upgradable_read().expect("free");
            let b_w = RwLockUpgradableReadGuard::upgrade(upgradable); // c -> b
            drop(held);
            drop(a.write()); // b -> a
            drop(b_w);
        });
    });
    std::thread::scope(|s| {
        s.spawn(|| {
            let _a = a.write();
            let _b = b.write(); // a -> b: closes b -> a -> b
        });
    });
    assert_reported(
        ReportKind::LockOrder,
        &["ig-upg"],
        &["tests/it/instance_graph.rs:"],
    );
}

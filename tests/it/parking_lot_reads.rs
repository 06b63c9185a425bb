//! parking_lot-only rows: recursive reads, upgradable reads, reentrancy, fair mutexes.
// parking_lot 0.13 replaced `read_recursive` with `RecursiveRwLock`: tests/parking_lot_0_13.rs.
#![cfg(all(feature = "enabled", not(feature = "parking_lot_0_13")))]

use crate::common::{assert_quiet, assert_reported};
use lockwatch::parking_lot::{
    FairMutex, Mutex, ReentrantMutex, RwLock, RwLockUpgradableReadGuard, RwLockWriteGuard,
};
use lockwatch::{named, ReportKind};

#[test]
fn recursive_reads_in_both_orders_are_quiet() {
    let a = named(RwLock::new(()), "rr-a");
    let b = named(Mutex::new(()), "rr-b");
    {
        let _a = a.read_recursive();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.read_recursive();
    }
    assert_quiet(&["rr-a", "rr-b"]);
}

#[test]
fn recursive_read_against_write_is_reported() {
    let a = named(RwLock::new(()), "rrw-a");
    let b = named(Mutex::new(()), "rrw-b");
    {
        let _a = a.read_recursive();
        let _b = b.lock();
    }
    let site = {
        let _b = b.lock();
        let (_a, site) = at!(a.write());
        site
    };
    assert_reported(ReportKind::LockOrder, &["rrw-a", "rrw-b"], &[&site]);
}

#[test]
fn reentrant_mutex_reentry_is_quiet_and_ordered() {
    let r = named(ReentrantMutex::new(()), "re-r");
    let b = named(Mutex::new(()), "re-b");
    {
        let _r1 = r.lock();
        let _b = b.lock();
        let _r2 = r.lock(); // re-entry never blocks: no edge b -> r
    }
    assert_quiet(&["re-r", "re-b"]);
    let site = {
        let _b = b.lock();
        let (_r, site) = at!(r.lock());
        site
    };
    assert_reported(ReportKind::LockOrder, &["re-r", "re-b"], &[&site]);
}

#[test]
fn fair_mutex_is_tracked() {
    let a = named(FairMutex::new(()), "fair-a");
    let b = named(FairMutex::new(()), "fair-b");
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let site = {
        let _b = b.lock();
        let (_a, site) = at!(a.lock());
        site
    };
    assert_reported(ReportKind::LockOrder, &["fair-a", "fair-b"], &[&site]);
}

#[test]
fn upgrade_while_holding_a_later_lock_is_reported() {
    // Upgrading waits for A's readers while B is held; a reader of A that takes B (the order
    // A -> B this very thread used) deadlocks with it.
    let a = named(RwLock::new(0), "up-a");
    let b = named(Mutex::new(()), "up-b");
    let up = a.upgradable_read();
    let held_b = b.lock();
    let (mut w, site) = at!(RwLockUpgradableReadGuard::upgrade(up));
    *w += 1;
    drop((w, held_b));
    assert_reported(ReportKind::LockOrder, &["up-a", "up-b"], &[&site]);
}

#[test]
fn upgrade_of_a_tried_upgradable_orders_the_locks_held_before_it() {
    // The try ordered nothing, but the upgrade waits for A's readers while B is held: a reader
    // of A that takes B deadlocks with it. (Found by the differential test.)
    let a = named(RwLock::new(0), "up-try-a");
    let b = named(Mutex::new(()), "up-try-b");
    {
        let _b = b.lock();
        let up = a.try_upgradable_read().expect("free");
        let mut w = RwLockUpgradableReadGuard::upgrade(up);
        *w += 1;
    }
    let _r = a.read();
    let (_b, site) = at!(b.lock());
    assert_reported(ReportKind::LockOrder, &["up-try-a", "up-try-b"], &[&site]);
}

#[test]
fn upgrade_with_nothing_taken_since_is_quiet() {
    let a = named(RwLock::new(0), "up-ok-a");
    let b = named(Mutex::new(()), "up-ok-b");
    let _b = b.lock();
    let up = a.upgradable_read();
    let mut w = RwLockUpgradableReadGuard::upgrade(up);
    *w += 1;
    assert_quiet(&["up-ok-a", "up-ok-b"]);
}

#[test]
fn downgrade_keeps_the_lock_held_as_a_read() {
    let a = named(RwLock::new(1), "down-a");
    let w = a.write();
    let r = RwLockWriteGuard::downgrade(w);
    // A recursive read over our own read is fine; over a write it would be a self-deadlock.
    let r2 = a.read_recursive();
    assert_eq!(*r + *r2, 2);
    drop((r, r2));
    assert_quiet(&["down-a"]);
}

#[test]
fn mapped_guards_keep_the_lock_held() {
    use lockwatch::parking_lot::MutexGuard;
    let a = named(Mutex::new((1, 2)), "map-a");
    let b = named(Mutex::new(()), "map-b");
    {
        let first = MutexGuard::map(a.lock(), |p| &mut p.0);
        let _b = b.lock(); // a (mapped) is still held: a -> b
        assert_eq!(*first, 1);
    }
    let site = {
        let _b = b.lock();
        let (_a, site) = at!(a.lock());
        site
    };
    assert_reported(ReportKind::LockOrder, &["map-a", "map-b"], &[&site]);
}

#[test]
fn unlocked_releases_for_the_closure() {
    use lockwatch::parking_lot::MutexGuard;
    let a = named(Mutex::new(()), "unl-a");
    let b = named(Mutex::new(()), "unl-b");
    {
        let mut ga = a.lock();
        MutexGuard::unlocked(&mut ga, || {
            let _b = b.lock(); // a is not held here: no a -> b
        });
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_quiet(&["unl-a", "unl-b"]);
}

//! Locking through an `Arc` (the `arc_lock` feature): `lock_arc`, `read_arc` and their kin
//! are tracked like the methods they stand for, label reports with their own names, and
//! their guards (which have no lifetime) release the hold however they end: dropped,
//! `into_arc`, a fair unlock, or turned into another guard by an upgrade or a downgrade.
#![cfg(all(feature = "enabled", feature = "arc_lock"))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{assert_quiet, assert_reported};
use crate::labels::first_label;
use lockwatch::parking_lot::{
    ArcMutexGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard, Mutex, RawMutex,
    ReentrantMutex, RwLock,
};
use lockwatch::{named, ReportKind};

/// Takes `held` with `take`, then `other` under it; later `other`, then `held` blocking:
/// returns the label of the first acquisition of `held`.
macro_rules! arc_label {
    ($label:literal, $make:expr, |$l:ident| $take:expr, |$b:ident| $block:expr) => {{
        let name = concat!("arc-label-", $label);
        let other = named(Mutex::new(()), concat!("arc-label-other-", $label));
        let $l = Arc::new(named($make, name));
        let ((), reports) = lockwatch::capture(|| {
            {
                let _held = $take;
                let _o = other.lock();
            }
            let _o = other.lock();
            let $b = &$l;
            let _again = $block;
        });
        assert_eq!(first_label(&reports, name), $label, "{reports:#?}");
    }};
}

#[test]
fn arc_entry_points_print_their_own_names() {
    let t = Duration::from_secs(1);
    let until = || Instant::now() + Duration::from_secs(1);
    arc_label!("lock_arc", Mutex::new(()), |l| l.lock_arc(), |b| b.lock());
    arc_label!("try_lock_arc", Mutex::new(()), |l| l.try_lock_arc(), |b| b
        .lock());
    arc_label!(
        "try_lock_arc_for",
        Mutex::new(()),
        |l| l.try_lock_arc_for(t),
        |b| b.lock()
    );
    arc_label!(
        "try_lock_arc_until",
        Mutex::new(()),
        |l| l.try_lock_arc_until(until()),
        |b| b.lock()
    );
    arc_label!("lock_arc", ReentrantMutex::new(()), |l| l.lock_arc(), |b| b
        .lock());
    arc_label!(
        "try_lock_arc_for",
        ReentrantMutex::new(()),
        |l| l.try_lock_arc_for(t),
        |b| b.lock()
    );
    arc_label!("read_arc", RwLock::new(()), |l| l.read_arc(), |b| b.write());
    arc_label!("try_read_arc", RwLock::new(()), |l| l.try_read_arc(), |b| b
        .write());
    arc_label!("write_arc", RwLock::new(()), |l| l.write_arc(), |b| b
        .write());
    arc_label!(
        "try_write_arc",
        RwLock::new(()),
        |l| l.try_write_arc(),
        |b| b.write()
    );
    arc_label!(
        "try_read_arc_for",
        RwLock::new(()),
        |l| l.try_read_arc_for(t),
        |b| b.write()
    );
    arc_label!(
        "try_write_arc_until",
        RwLock::new(()),
        |l| l.try_write_arc_until(until()),
        |b| b.write()
    );
    arc_label!(
        "upgradable_read_arc",
        RwLock::new(()),
        |l| l.upgradable_read_arc(),
        |b| b.write()
    );
    arc_label!(
        "try_upgradable_read_arc_for",
        RwLock::new(()),
        |l| l.try_upgradable_read_arc_for(t),
        |b| b.write()
    );
    #[cfg(not(feature = "parking_lot_0_13"))]
    arc_label!(
        "read_arc_recursive",
        RwLock::new(()),
        |l| l.read_arc_recursive(),
        |b| b.write()
    );
}

#[test]
fn an_inversion_through_lock_arc_names_the_callers_line() {
    let a = Arc::new(named(Mutex::new(0), "arc-inv-a"));
    let b = Arc::new(named(Mutex::new(0), "arc-inv-b"));
    {
        let _a = a.lock_arc();
        let _b = b.lock_arc();
    }
    let line = line!() + 2;
    let _b = b.lock_arc();
    let _a = a.lock_arc();
    let report = assert_reported(
        ReportKind::LockOrder,
        &["arc-inv-a", "arc-inv-b"],
        &[&format!("tests/it/arc_guards.rs:{line}:")],
    );
    assert!(report.to_string().contains("lock_arc()"), "{report}");
}

/// Every way an `Arc` guard ends leaves this thread holding nothing: `other` then the lock
/// elsewhere is then the only order there is.
#[test]
fn every_way_an_arc_guard_ends_releases_its_hold() {
    let m = Arc::new(named(Mutex::new(0), "arc-end-m"));
    let l = Arc::new(named(RwLock::new(0), "arc-end-l"));
    let other = Arc::new(named(Mutex::new(()), "arc-end-other"));
    drop(m.lock_arc());
    let back: Arc<Mutex<i32>> = ArcMutexGuard::into_arc(m.lock_arc());
    assert!(Arc::ptr_eq(&back, &m));
    ArcMutexGuard::unlock_fair(m.lock_arc());
    drop(ArcMutexGuard::into_arc_fair(m.lock_arc()));
    let w = ArcRwLockWriteGuard::downgrade(l.write_arc());
    drop(w);
    let u = ArcRwLockWriteGuard::downgrade_to_upgradable(l.write_arc());
    let w = ArcRwLockUpgradableReadGuard::upgrade(u);
    drop(w);
    let u = l.upgradable_read_arc();
    let u = match ArcRwLockUpgradableReadGuard::try_upgrade(u) {
        Ok(w) => ArcRwLockWriteGuard::downgrade_to_upgradable(w),
        Err(u) => u,
    };
    drop(ArcRwLockUpgradableReadGuard::downgrade(u));
    let mut u = l.upgradable_read_arc();
    u.with_upgraded(|v| *v += 1);
    drop(u);
    // Nothing held here now.
    drop(other.lock());
    let (m2, l2, o2) = (Arc::clone(&m), Arc::clone(&l), Arc::clone(&other));
    std::thread::spawn(move || {
        let _o = o2.lock();
        let _m = m2.lock();
        let _l = l2.write();
    })
    .join()
    .unwrap();
    assert_quiet(&["arc-end-m", "arc-end-l", "arc-end-other"]);
    assert_eq!(*l.read(), 1);
}

#[test]
fn unlocked_on_an_arc_guard_checks_the_order_of_taking_it_back() {
    let a = Arc::new(named(Mutex::new(()), "arc-unl-a"));
    let b = Arc::new(named(Mutex::new(()), "arc-unl-b"));
    let mut ga = a.lock_arc();
    let _gb = b.lock();
    // `a` is taken back while `b` is held: `b -> a`, against `a -> b` above.
    ArcMutexGuard::unlocked(&mut ga, || ());
    assert_reported(ReportKind::LockOrder, &["arc-unl-a", "arc-unl-b"], &[]);
}

#[test]
fn an_upgrade_of_an_arc_guard_is_ordered_after_every_lock_held() {
    let l = Arc::new(named(RwLock::new(()), "arc-upg-l"));
    let m = Arc::new(named(Mutex::new(()), "arc-upg-m"));
    {
        // Upgradable `l`, then `m`, then the upgrade waits for `l`'s readers holding `m`.
        let u = l.upgradable_read_arc();
        let _m = m.lock_arc();
        let _w = ArcRwLockUpgradableReadGuard::upgrade(u);
    }
    // Elsewhere: a read of `l` under `m`.
    let (l2, m2) = (Arc::clone(&l), Arc::clone(&m));
    std::thread::spawn(move || {
        let _m = m2.lock();
        let _r = l2.read();
    })
    .join()
    .unwrap();
    assert_reported(ReportKind::LockOrder, &["arc-upg-l", "arc-upg-m"], &[]);
}

#[test]
fn an_arc_guard_keeps_its_lock_alive_after_the_last_other_arc_is_gone() {
    let guard: ArcMutexGuard<RawMutex, Vec<u8>> =
        Arc::new(named(Mutex::new(vec![1]), "arc-alive")).lock_arc();
    let mut guard = guard;
    guard.push(2);
    assert_eq!(*guard, [1, 2]);
    assert_eq!(format!("{guard:?}"), "[1, 2]");
    let lock = ArcMutexGuard::into_arc(guard);
    assert_eq!(Arc::strong_count(&lock), 1);
    assert_eq!(*lock.lock(), [1, 2]);
}

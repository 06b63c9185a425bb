//! `lockwatch::parking_lot` over parking_lot 0.13 / lock_api 0.5 (feature `parking_lot_0_13`):
//! the recursive-read type, the raw acquisition state that 0.5's unchecked and force-unlock
//! methods carry, and the read rules.
#![cfg(all(feature = "enabled", feature = "parking_lot_0_13"))]

use crate::common::{assert_quiet, assert_reported};
use lockwatch::named;
use lockwatch::parking_lot::{Mutex, RecursiveRwLock, RwLock};
use lockwatch::ReportKind;

#[test]
fn a_second_read_of_a_recursive_rwlock_is_quiet() {
    let l = named(RecursiveRwLock::new(1), "pl13-recursive");
    let a = l.read();
    let b = l.read(); // reader-biased: never waits for a queued writer
    assert_eq!(*a + *b, 2);
    drop((a, b));
    assert_quiet(&["pl13-recursive"]);
}

#[test]
fn a_second_read_of_a_write_preferring_rwlock_is_reported() {
    // Safe while no writer queues, but the next writer deadlocks it: reported, before the
    // second read could block.
    let l = named(RwLock::new(()), "pl13-fair");
    let _a = l.read();
    let _b = l.read();
    assert_reported(
        ReportKind::LockOrder,
        &["pl13-fair"],
        &["tests/it/parking_lot_0_13.rs:"],
    );
}

#[test]
fn recursive_reads_against_writes_follow_the_read_rules() {
    let a = named(RecursiveRwLock::new(()), "pl13-rr-a");
    let b = named(Mutex::new(()), "pl13-rr-b");
    {
        let _a = a.read();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.read(); // recursive read against a read: no strong cycle
    }
    assert_quiet(&["pl13-rr-a", "pl13-rr-b"]);
    {
        let _b = b.lock();
        let _a = a.write(); // a writer waits for the reader above: a real cycle
    }
    assert_reported(ReportKind::LockOrder, &["pl13-rr-a", "pl13-rr-b"], &[]);
}

#[test]
fn unchecked_guards_and_force_unlock_carry_the_raw_state() {
    use lockwatch::parking_lot::lock_api::RawMutex as _;
    let m = named(Mutex::new(5), "pl13-unchecked");
    // SAFETY: the raw lock is taken right here and its acquisition state handed over.
    let g = unsafe { m.make_guard_unchecked(m.raw().lock()) };
    assert_eq!(*g, 5);
    assert!(m.try_lock().is_none(), "held through the unchecked guard");
    drop(g);
    assert!(!m.is_locked());
    let n = named(Mutex::new(()), "pl13-force");
    // SAFETY: locked here with no guard; the state goes back to force_unlock.
    let state = unsafe { n.raw() }.lock();
    unsafe { n.force_unlock(state) };
    assert!(!n.is_locked());
    assert_quiet(&["pl13-unchecked", "pl13-force"]);
}

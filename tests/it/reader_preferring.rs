//! A reader-preferring raw rwlock of one's own: declared with `declare_recursive_reads`, its
//! reads are judged as recursive (a second read in one thread cannot deadlock); the same lock
//! undeclared is judged by lockdep's default (a queued writer blocks a read).
//! (Written for lock_api 0.4; under parking_lot 0.13 the built-in RecursiveRwLock is tested.)
#![cfg(all(feature = "enabled", not(feature = "parking_lot_0_13")))]

use crate::common::{assert_quiet, assert_reported};
use lockwatch::lock_api::{declare_recursive_reads, RwLock};
use lockwatch::{named, ReportKind};

crate::spin_rwlock!(ReaderPreferring);
crate::spin_rwlock!(Undeclared);

#[test]
fn a_declared_reader_preferring_lock_may_be_read_twice() {
    declare_recursive_reads::<ReaderPreferring>();
    let l: RwLock<ReaderPreferring, u32> = named(RwLock::new(1), "rp-declared");
    let a = l.read();
    let b = l.read();
    assert_eq!(*a + *b, 2);
    drop((a, b));
    // Reads against a write elsewhere: [read A, lock B] then [lock B, read A] cannot deadlock.
    let m = named(lockwatch::parking_lot::Mutex::new(()), "rp-declared-m");
    {
        let _a = l.read();
        let _m = m.lock();
    }
    {
        let _m = m.lock();
        let _a = l.read();
    }
    assert_quiet(&["rp-declared", "rp-declared-m"]);
}

#[test]
fn the_same_lock_undeclared_follows_the_default_rule() {
    let l: RwLock<Undeclared, u32> = named(RwLock::new(1), "rp-undeclared");
    let a = l.read();
    let b = l.read(); // would block behind a queued writer on a write-preferring lock
    drop((a, b));
    assert_reported(ReportKind::LockOrder, &["rp-undeclared"], &[]);
}

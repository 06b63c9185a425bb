//! A reader-preferring raw rwlock of one's own: declared with `declare_recursive_reads`, its
//! reads are judged as recursive (a second read in one thread cannot deadlock); the same lock
//! undeclared is judged by lockdep's default (a queued writer blocks a read).
//! (Written for lock_api 0.4; under parking_lot 0.13 the built-in RecursiveRwLock is tested.)
#![cfg(all(feature = "enabled", not(feature = "parking_lot_0_13")))]

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{assert_quiet, assert_reported};
use lockwatch::lock_api::{declare_recursive_reads, RwLock};
use lockwatch::{named, ReportKind};

const WRITER: usize = 1;
const READER: usize = 2;

/// Readers get in whenever no writer *holds* the lock, whoever waits: reader-preferring.
macro_rules! spin_rwlock {
    ($name:ident) => {
        struct $name(AtomicUsize);

        // SAFETY: A writer excludes everyone (the WRITER bit is set only when the state is
        // 0); readers count themselves in only while the WRITER bit is clear.
        unsafe impl lock_api::RawRwLock for $name {
            #[allow(clippy::declare_interior_mutable_const)]
            const INIT: Self = $name(AtomicUsize::new(0));
            type GuardMarker = lock_api::GuardSend;

            fn lock_shared(&self) {
                while !self.try_lock_shared() {
                    std::hint::spin_loop();
                }
            }

            fn try_lock_shared(&self) -> bool {
                let state = self.0.load(Ordering::Relaxed);
                state & WRITER == 0
                    && self
                        .0
                        .compare_exchange(
                            state,
                            state + READER,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        )
                        .is_ok()
            }

            unsafe fn unlock_shared(&self) {
                self.0.fetch_sub(READER, Ordering::Release);
            }

            fn lock_exclusive(&self) {
                while !self.try_lock_exclusive() {
                    std::hint::spin_loop();
                }
            }

            fn try_lock_exclusive(&self) -> bool {
                self.0
                    .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            }

            unsafe fn unlock_exclusive(&self) {
                self.0.store(0, Ordering::Release);
            }
        }
    };
}

spin_rwlock!(ReaderPreferring);
spin_rwlock!(Undeclared);

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

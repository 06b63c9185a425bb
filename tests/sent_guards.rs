//! Guards sent to another thread: a raw lock whose `GuardMarker` is `lock_api::GuardSend`
//! (parking_lot's `send_guard` feature, spin locks) lets a guard be dropped, downgraded or
//! force-unlocked on a thread other than the one that acquired it. The hold must then leave
//! the acquiring thread's held locks: otherwise that thread goes on "holding" the lock for
//! good, every lock it takes later is ordered after it (false inversions), and the watchdog
//! reports the hold as long for ever. Its own binary: it turns the long-hold threshold down.
#![cfg(all(feature = "enabled", not(feature = "parking_lot_0_13")))]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{assert_quiet, assert_reported, reports_about};
use lockwatch::lock_api::{Mutex, MutexGuard, RwLock, RwLockWriteGuard};
use lockwatch::{named, ReportKind};

/// A spin mutex whose guards may be sent between threads.
struct SpinMutex(AtomicBool);

// SAFETY: The flag is set by one compare-exchange at a time; unlock clears it.
unsafe impl lock_api::RawMutex for SpinMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SpinMutex(AtomicBool::new(false));
    type GuardMarker = lock_api::GuardSend;

    fn lock(&self) {
        while !lock_api::RawMutex::try_lock(self) {
            std::hint::spin_loop();
        }
    }

    fn try_lock(&self) -> bool {
        self.0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    unsafe fn unlock(&self) {
        self.0.store(false, Ordering::Release);
    }
}

// A spin rwlock whose guards may be sent between threads (`tests/common/spin.rs`).
spin_rwlock!(SpinRw);

// SAFETY: Readers never wait for writers here, so a recursive read is a read.
unsafe impl lock_api::RawRwLockRecursive for SpinRw {
    fn lock_shared_recursive(&self) {
        lock_api::RawRwLock::lock_shared(self);
    }

    fn try_lock_shared_recursive(&self) -> bool {
        lock_api::RawRwLock::try_lock_shared(self)
    }
}

// SAFETY: Turning the writer bit into one reader is a single store while the writer holds it.
unsafe impl lock_api::RawRwLockDowngrade for SpinRw {
    unsafe fn downgrade(&self) {
        self.0.store(SpinRw::READER, Ordering::Release);
    }
}

fn leaked<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Checks that this thread holds nothing of the locks named `names`: `other` is taken here,
/// then on another thread `other` and, under it, `taken` (the lock whose hold must be gone
/// from here); a hold of `taken` left here would make that an inversion.
fn holds_nothing_here<G, H>(
    other: impl Fn() -> G + Sync,
    taken: impl Fn() -> H + Sync,
    names: &[&str],
) {
    drop(other());
    std::thread::scope(|s| {
        s.spawn(|| {
            let _other = other();
            drop(taken());
        });
    });
    assert_quiet(names);
}

#[test]
fn a_guard_dropped_on_another_thread_is_no_longer_held_by_the_thread_that_took_it() {
    let a = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-a"));
    let b = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-b"));
    let guard = a.lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    holds_nothing_here(|| b.lock(), || a.lock(), &["sg-a", "sg-b"]);
    // And a real inversion through the same locks is still seen: a then b here.
    let line = line!() + 2;
    let _a = a.lock();
    let _b = b.lock();
    assert_reported(
        ReportKind::LockOrder,
        &["sg-a", "sg-b"],
        &[&format!("tests/sent_guards.rs:{line}:")],
    );
}

#[test]
fn re_locking_after_the_sent_guard_was_dropped_is_not_a_self_deadlock() {
    let m = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-relock"));
    let guard = m.lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    *m.lock() += 1;
    assert_quiet(&["sg-relock"]);
}

#[test]
fn a_write_guard_downgraded_on_another_thread_is_held_as_a_read() {
    let l = leaked(named(RwLock::<SpinRw, _>::new(0), "sg-rw"));
    let x = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-x"));
    let write = l.write();
    // Downgraded on another thread and sent back: this thread holds a read of `l`.
    let read = std::thread::spawn(move || RwLockWriteGuard::downgrade(write))
        .join()
        .unwrap();
    {
        // `l` (read) then `x` here; `x` then a recursive read of `l` elsewhere: not a
        // deadlock (a recursive read does not wait for a writer, and none can get in while
        // this thread reads). Held as a write it would be one.
        let _x = x.lock();
    }
    drop(read);
    std::thread::spawn(|| {
        let _x = x.lock();
        let _l = l.read_recursive();
    })
    .join()
    .unwrap();
    assert_quiet(&["sg-rw", "sg-x"]);
}

#[test]
fn with_two_readers_the_holds_come_out_even_whichever_reader_is_credited() {
    use std::sync::mpsc::channel;
    let l = leaked(named(RwLock::<SpinRw, _>::new(0), "sg-two-readers"));
    let x = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-two-x"));
    // The other reader takes its read first, so that its thread is found first when this
    // thread's read guard is dropped elsewhere (which reader took that guard is not
    // recorded): the release is credited to it.
    let (took, read_taken) = channel();
    let (release, released) = channel::<()>();
    let other = std::thread::spawn(move || {
        let read = l.read();
        took.send(()).unwrap();
        released.recv().unwrap();
        drop(read);
    });
    read_taken.recv().unwrap();
    let mine = l.read();
    std::thread::spawn(move || drop(mine)).join().unwrap();
    release.send(()).unwrap();
    other.join().unwrap();
    // Both reads are over.
    holds_nothing_here(|| x.lock(), || l.write(), &["sg-two-readers", "sg-two-x"]);
}

#[test]
fn force_unlock_on_another_thread_releases_a_leaked_guard() {
    let m = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-leak"));
    let n = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-leak-n"));
    MutexGuard::leak(m.lock());
    std::thread::spawn(|| {
        // SAFETY: The mutex is locked, by a guard leaked on the test's thread.
        unsafe { m.force_unlock() };
    })
    .join()
    .unwrap();
    holds_nothing_here(|| n.lock(), || m.lock(), &["sg-leak", "sg-leak-n"]);
}

#[test]
fn the_watchdog_does_not_report_a_hold_released_elsewhere_as_long() {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(100));
    let m = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-watched"));
    let guard = m.lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    // Many watchdog ticks past the threshold, with the test's thread alive and idle.
    std::thread::sleep(Duration::from_millis(600));
    let long: Vec<_> = reports_about(&["sg-watched"])
        .into_iter()
        .filter(|r| r.kind() == ReportKind::LongHold)
        .collect();
    assert!(long.is_empty(), "{}", long[0]);
}

/// parking_lot's own guards with its `send_guard` feature (lockwatch's `send_guard`), and an
/// `Arc` guard moved to another thread, as async code does.
#[cfg(feature = "send_guard")]
#[test]
fn parking_lot_guards_sent_with_send_guard_end_their_hold_where_they_are_dropped() {
    use lockwatch::parking_lot::Mutex as PlMutex;
    let a = leaked(named(PlMutex::new(0), "sg-pl-a"));
    let b = leaked(named(PlMutex::new(0), "sg-pl-b"));
    let guard = a.lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    #[cfg(feature = "arc_lock")]
    {
        let c = std::sync::Arc::new(named(PlMutex::new(0), "sg-pl-c"));
        let guard = c.lock_arc();
        std::thread::spawn(move || drop(guard)).join().unwrap();
        holds_nothing_here(|| b.lock(), || c.lock(), &["sg-pl-b", "sg-pl-c"]);
    }
    holds_nothing_here(|| b.lock(), || a.lock(), &["sg-pl-a", "sg-pl-b"]);
}

#[test]
fn a_guard_dropped_elsewhere_while_its_thread_keeps_locking_still_ends_its_hold() {
    use std::sync::atomic::AtomicBool;
    let x = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-busy-x"));
    let y = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-busy-y"));
    let z = leaked(named(Mutex::<SpinMutex, _>::new(0), "sg-busy-z"));
    let guard = x.lock();
    let busy = AtomicBool::new(true);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Dropped while the thread that took it changes its held locks all the time.
            std::thread::sleep(Duration::from_millis(20));
            drop(guard);
            busy.store(false, Ordering::Release);
        });
        while busy.load(Ordering::Acquire) {
            for _ in 0..1000 {
                *z.lock() += 1;
            }
        }
    });
    holds_nothing_here(|| y.lock(), || x.lock(), &["sg-busy-x", "sg-busy-y"]);
}

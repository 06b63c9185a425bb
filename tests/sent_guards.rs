//! Guards sent to another thread: a raw lock whose `GuardMarker` is `lock_api::GuardSend`
//! (parking_lot's `send_guard` feature, spin locks) lets a guard be dropped, downgraded or
//! force-unlocked on a thread other than the one that acquired it. The hold must then leave
//! the acquiring thread's held locks: otherwise that thread goes on "holding" the lock for
//! good, every lock it takes later is ordered after it (false inversions), and the watchdog
//! reports the hold as long for ever. Its own binary: it turns the long-hold threshold down.
#![cfg(all(feature = "enabled", not(feature = "parking_lot_0_13")))]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{assert_quiet, assert_reported, reports_about};
use lockwatch::lock_api::{Mutex, MutexGuard, RwLock, RwLockWriteGuard};
use lockwatch::{named, ReportKind};

/// A spin lock (mutex and rwlock) whose guards may be sent between threads.
struct Spin(AtomicUsize);

const WRITER: usize = 1;
const READER: usize = 2;

// SAFETY: The lock bit is set by one compare-exchange at a time; unlock clears it.
unsafe impl lock_api::RawMutex for Spin {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = Spin(AtomicUsize::new(0));
    type GuardMarker = lock_api::GuardSend;

    fn lock(&self) {
        while !lock_api::RawMutex::try_lock(self) {
            std::hint::spin_loop();
        }
    }

    fn try_lock(&self) -> bool {
        self.0
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    unsafe fn unlock(&self) {
        self.0.store(0, Ordering::Release);
    }
}

// SAFETY: A writer excludes everyone (set only from 0); readers count themselves in only while
// no writer holds it.
unsafe impl lock_api::RawRwLock for Spin {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = Spin(AtomicUsize::new(0));
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
                .compare_exchange(state, state + READER, Ordering::Acquire, Ordering::Relaxed)
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

// SAFETY: Readers never wait for writers here, so a recursive read is a read.
unsafe impl lock_api::RawRwLockRecursive for Spin {
    fn lock_shared_recursive(&self) {
        lock_api::RawRwLock::lock_shared(self);
    }

    fn try_lock_shared_recursive(&self) -> bool {
        lock_api::RawRwLock::try_lock_shared(self)
    }
}

// SAFETY: Turning the writer bit into one reader is a single store while the writer holds it.
unsafe impl lock_api::RawRwLockDowngrade for Spin {
    unsafe fn downgrade(&self) {
        self.0.store(READER, Ordering::Release);
    }
}

fn leaked<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

#[test]
fn a_guard_dropped_on_another_thread_is_no_longer_held_by_the_thread_that_took_it() {
    let a = leaked(named(Mutex::<Spin, _>::new(0), "sg-a"));
    let b = leaked(named(Mutex::<Spin, _>::new(0), "sg-b"));
    let guard = a.lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    // This thread holds nothing now: taking b here orders nothing before it, and b then a on
    // another thread is the only order there is.
    drop(b.lock());
    std::thread::spawn(|| {
        let _b = b.lock();
        let _a = a.lock();
    })
    .join()
    .unwrap();
    assert_quiet(&["sg-a", "sg-b"]);
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
    let m = leaked(named(Mutex::<Spin, _>::new(0), "sg-relock"));
    let guard = m.lock();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    *m.lock() += 1;
    assert_quiet(&["sg-relock"]);
}

#[test]
fn a_write_guard_downgraded_on_another_thread_is_held_as_a_read() {
    let l = leaked(named(RwLock::<Spin, _>::new(0), "sg-rw"));
    let x = leaked(named(Mutex::<Spin, _>::new(0), "sg-x"));
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
    let l = leaked(named(RwLock::<Spin, _>::new(0), "sg-two-readers"));
    let x = leaked(named(Mutex::<Spin, _>::new(0), "sg-two-x"));
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
    // Both reads are over: this thread holds nothing, so `x` here orders nothing, and `x`
    // then a write of `l` elsewhere is the only order.
    drop(x.lock());
    std::thread::spawn(|| {
        let _x = x.lock();
        let _l = l.write();
    })
    .join()
    .unwrap();
    {
        let _x = x.lock();
    }
    assert_quiet(&["sg-two-readers", "sg-two-x"]);
}

#[test]
fn force_unlock_on_another_thread_releases_a_leaked_guard() {
    let m = leaked(named(Mutex::<Spin, _>::new(0), "sg-leak"));
    let n = leaked(named(Mutex::<Spin, _>::new(0), "sg-leak-n"));
    MutexGuard::leak(m.lock());
    std::thread::spawn(|| {
        // SAFETY: The mutex is locked, by a guard leaked on the test's thread.
        unsafe { m.force_unlock() };
    })
    .join()
    .unwrap();
    drop(n.lock());
    std::thread::spawn(|| {
        let _n = n.lock();
        let _m = m.lock();
    })
    .join()
    .unwrap();
    assert_quiet(&["sg-leak", "sg-leak-n"]);
}

#[test]
fn the_watchdog_does_not_report_a_hold_released_elsewhere_as_long() {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(100));
    let m = leaked(named(Mutex::<Spin, _>::new(0), "sg-watched"));
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
        drop(b.lock());
        std::thread::spawn(move || {
            let _b = b.lock();
            let _c = c.lock();
        })
        .join()
        .unwrap();
    }
    drop(b.lock());
    std::thread::spawn(|| {
        let _b = b.lock();
        let _a = a.lock();
    })
    .join()
    .unwrap();
    assert_quiet(&["sg-pl-a", "sg-pl-b", "sg-pl-c"]);
}

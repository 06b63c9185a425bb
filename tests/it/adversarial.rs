//! Adversarial use: what a real program does to its locks, and lockwatch must survive.
#![cfg(feature = "enabled")]

use crate::common::{assert_quiet, assert_reported};
use lockwatch::parking_lot::Mutex;
use lockwatch::{named, ReportKind};
use std::sync::Arc;

#[test]
fn a_forgotten_guard_then_a_dropped_lock_leaves_no_stale_entry() {
    let a = named(Mutex::new(()), "adv-forget-a");
    let b = named(Mutex::new(()), "adv-forget-b");
    std::mem::forget(a.lock()); // `a` stays locked and marked as held
    drop(a); // ... until the lock itself goes away
    {
        let _b = b.lock(); // would record a -> b if the stale entry survived
    }
    let c = named(Mutex::new(()), "adv-forget-a");
    {
        let _b = b.lock();
        let _c = c.lock(); // b -> class of a: no cycle, since a -> b was never recorded
    }
    assert_quiet(&["adv-forget-a", "adv-forget-b"]);
}

#[test]
fn a_stale_entry_of_a_lock_dropped_by_another_thread_orders_nothing() {
    // Locks of one class nested in each other are nodes of the per-instance graph.
    let a = named(Mutex::new(()), "adv-stale");
    let x = named(Mutex::new(()), "adv-stale");
    {
        let _a = a.lock();
        drop(x.lock());
    }
    // This thread forgets a guard of `x`, and another thread drops `x`: the entry stays here,
    // naming a lock, and a node, that no longer exist.
    std::mem::forget(x.lock());
    std::thread::spawn(move || drop(x)).join().unwrap();
    // Another lock of the class takes the freed node over.
    let q = named(Mutex::new(()), "adv-stale");
    let w = named(Mutex::new(()), "adv-stale");
    std::thread::scope(|s| {
        s.spawn(|| {
            let _q = q.lock();
            drop(w.lock());
        });
    });
    // Taking `q` under the stale entry must not order anything from `x`'s old node.
    drop(q.lock());
    drop(a);
    assert_quiet(&["adv-stale"]);
}

#[test]
// lock_api 0.5's `force_unlock` takes the forgotten acquisition's raw state, which a forgotten
// guard does not give back: the scenario does not exist there (tests/parking_lot_0_13.rs has
// its own).
#[cfg(not(feature = "parking_lot_0_13"))]
fn force_unlock_after_a_forgotten_guard_clears_the_held_entry() {
    let a = named(Mutex::new(()), "adv-force-a");
    let b = named(Mutex::new(()), "adv-force-b");
    std::mem::forget(a.lock());
    // SAFETY: The guard was forgotten; nothing else holds `a`.
    unsafe { a.force_unlock() };
    {
        let _b = b.lock(); // a is no longer held: no a -> b
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_quiet(&["adv-force-a", "adv-force-b"]);
}

#[test]
fn a_panic_while_holding_keeps_the_poison_and_the_held_stack_consistent() {
    let m = Arc::new(named(lockwatch::sync::Mutex::new(1), "adv-panic-m"));
    let other = named(lockwatch::sync::Mutex::new(()), "adv-panic-o");
    let m2 = Arc::clone(&m);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _g = m2.lock().unwrap();
        panic!("while holding");
    }));
    assert!(result.is_err());
    assert!(m.is_poisoned());
    // The unwinding released the entry: taking `other` now orders nothing after `m`.
    {
        let _o = other.lock().unwrap();
        let _m = m.lock().unwrap_or_else(|e| e.into_inner());
    }
    assert_quiet(&["adv-panic-m", "adv-panic-o"]);
}

#[test]
fn a_thread_that_exits_while_holding_a_lock_leaves_nothing_behind() {
    let before = lockwatch::watchdog::stats().threads;
    let locks: &'static [Mutex<()>] = Box::leak(
        (0..100)
            .map(|_| named(Mutex::new(()), "adv-exit"))
            .collect(),
    );
    for m in locks {
        std::thread::spawn(move || std::mem::forget(m.lock()))
            .join()
            .unwrap();
        assert!(m.is_locked());
    }
    // The exited threads' state is gone (other tests' threads may come and go meanwhile).
    let after = lockwatch::watchdog::stats().threads;
    assert!(after <= before + 8, "{before} -> {after}");
}

#[test]
fn ten_thousand_short_lived_threads_leave_no_per_thread_state() {
    let m = Arc::new(named(Mutex::new(0u64), "adv-threads"));
    let before = lockwatch::watchdog::stats().threads;
    for _ in 0..100 {
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || *m.lock() += 1)
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
    assert_eq!(*m.lock(), 10_000);
    // Thread-local destructors have run by the time `join` returns for each of them.
    let after = lockwatch::watchdog::stats().threads;
    assert!(
        after <= before + 8,
        "per-thread state leaked: {before} -> {after}"
    );
}

#[test]
fn a_hundred_nested_locks_are_ordered_and_an_inversion_across_them_is_found() {
    let locks: Vec<Mutex<()>> = (0..100)
        .map(|i| named(Mutex::new(()), &format!("adv-deep-{i:03}")))
        .collect();
    {
        let _guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
    }
    assert_quiet(&["adv-deep-000", "adv-deep-099"]);
    let site = {
        let _last = locks[99].lock();
        let (_first, site) = at!(locks[0].lock());
        site
    };
    assert_reported(
        ReportKind::LockOrder,
        &["adv-deep-000", "adv-deep-099"],
        &[&site],
    );
}

#[test]
fn locks_held_past_the_published_stack_still_order_after_a_release_in_the_middle() {
    // The first 64 held locks are the rows the watchdog reads; deeper ones overflow. A release
    // from the middle rewrites the rows and pulls one entry down from the overflow.
    let locks: Vec<Mutex<()>> = (0..70)
        .map(|i| named(Mutex::new(()), &format!("adv-over-{i:02}")))
        .collect();
    let last = named(Mutex::new(()), "adv-over-last");
    {
        let mut guards: Vec<_> = locks.iter().map(|l| l.lock()).collect();
        drop(guards.remove(30));
        drop(last.lock());
    }
    assert_quiet(&["adv-over-68", "adv-over-last"]);
    let site = {
        let _last = last.lock();
        let (_deep, site) = at!(locks[68].lock());
        site
    };
    assert_reported(
        ReportKind::LockOrder,
        &["adv-over-68", "adv-over-last"],
        &[&site],
    );
}

#[test]
fn locks_sent_between_threads_while_unlocked_keep_their_identity() {
    let a = named(Mutex::new(0), "adv-send-a");
    let b = named(Mutex::new(0), "adv-send-b");
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    // Move both locks to another thread, which takes them in the other order.
    let (a, b, site) = std::thread::spawn(move || {
        let site = {
            let _b = b.lock();
            let (_a, site) = at!(a.lock());
            site
        };
        (a, b, site)
    })
    .join()
    .unwrap();
    assert_reported(
        ReportKind::LockOrder,
        &["adv-send-a", "adv-send-b"],
        &[&site],
    );
    drop((a, b));
}

thread_local! {
    static IN_TLS: Guarded = const { Guarded };
}

struct Guarded;

static TLS_LOCK: lockwatch::sync::Mutex<u32> = lockwatch::sync::Mutex::new(0);

impl Drop for Guarded {
    fn drop(&mut self) {
        // Runs while the thread's locals are being torn down, lockwatch's included.
        *TLS_LOCK.lock().unwrap() += 1;
    }
}

#[test]
fn tracked_locks_work_in_thread_local_destructors() {
    std::thread::spawn(|| {
        IN_TLS.with(|_| ());
        let _warm = TLS_LOCK.lock().unwrap(); // lockwatch's own thread state exists too
    })
    .join()
    .unwrap();
    assert_eq!(*TLS_LOCK.lock().unwrap(), 1);
}

static LAZY_TABLE: lockwatch::sync::LazyLock<Vec<u32>> = lockwatch::sync::LazyLock::new(|| {
    // A tracked lock used inside a static initializer.
    *TLS_LOCK.lock().unwrap() += 0;
    vec![1, 2, 3]
});

#[test]
fn tracked_locks_work_in_static_initializers() {
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| LAZY_TABLE.len()))
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 3);
    }
}

/// A panic in the closure of `unlocked` unwinds with the lock taken back: the lock is still
/// held for the order checks that follow.
#[test]
fn a_panic_inside_unlocked_leaves_the_lock_held() {
    use lockwatch::parking_lot::MutexGuard;
    let a = named(Mutex::new(()), "adv-unlocked-a");
    let b = named(Mutex::new(()), "adv-unlocked-b");
    let mut guard = a.lock();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        MutexGuard::unlocked(&mut guard, || panic!("inside unlocked"));
    }));
    assert!(panicked.is_err());
    assert!(a.is_locked());
    drop(b.lock()); // a -> b: `a` is held again
    drop(guard);
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_reported(
        ReportKind::LockOrder,
        &["adv-unlocked-a", "adv-unlocked-b"],
        &[],
    );
}

/// The same for a panic in a parking_lot `wait_while` condition.
#[test]
fn a_panic_in_a_wait_while_condition_leaves_the_lock_held() {
    use lockwatch::parking_lot::Condvar;
    let a = named(Mutex::new(0), "adv-waitwhile-a");
    let b = named(Mutex::new(()), "adv-waitwhile-b");
    let cv = Condvar::new();
    let mut guard = a.lock();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cv.wait_while(&mut guard, |_| panic!("inside the condition"));
    }));
    assert!(panicked.is_err());
    drop(b.lock()); // a -> b
    drop(guard);
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert_reported(
        ReportKind::LockOrder,
        &["adv-waitwhile-a", "adv-waitwhile-b"],
        &[],
    );
}

/// A raw mutex whose `try_lock` panics while `PANIC_NEXT` is set: a broken user lock
/// (lock_api 0.4's trait).
#[cfg(not(feature = "parking_lot_0_13"))]
struct PanickyRaw(parking_lot::RawMutex);

#[cfg(not(feature = "parking_lot_0_13"))]
static PANIC_NEXT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

// SAFETY: Forwards to parking_lot's raw mutex, which upholds the contract; the panic happens
// before anything is locked.
#[cfg(not(feature = "parking_lot_0_13"))]
unsafe impl lock_api::RawMutex for PanickyRaw {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = PanickyRaw(<parking_lot::RawMutex as lock_api::RawMutex>::INIT);
    type GuardMarker = lock_api::GuardNoSend;

    fn lock(&self) {
        self.0.lock();
    }

    fn try_lock(&self) -> bool {
        if PANIC_NEXT.swap(false, std::sync::atomic::Ordering::Relaxed) {
            panic!("a broken raw lock");
        }
        self.0.try_lock()
    }

    unsafe fn unlock(&self) {
        // SAFETY: Forwarded from the caller.
        unsafe { self.0.unlock() }
    }
}

/// A blocking acquisition records the hold before its fast try: a try that unwinds must take
/// the record off again, or the lock would stay held by this thread and order what follows.
#[cfg(not(feature = "parking_lot_0_13"))]
#[test]
fn a_raw_lock_whose_try_panics_leaves_no_entry() {
    let x: lockwatch::lock_api::Mutex<PanickyRaw, ()> =
        named(lockwatch::lock_api::Mutex::new(()), "adv-panicky-x");
    let y = named(Mutex::new(()), "adv-panicky-y");
    PANIC_NEXT.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(x.lock())));
    assert!(result.is_err());
    assert!(!x.is_locked());
    // A stale entry of `x` would order x -> y here, and y -> x below would close a cycle.
    drop(y.lock());
    {
        let _y = y.lock();
        let _x = x.lock();
    }
    assert_quiet(&["adv-panicky-x", "adv-panicky-y"]);
}

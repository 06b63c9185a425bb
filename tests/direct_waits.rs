//! Waits on locks that were contended before: such a lock is taken without a try first, the
//! call announced in the thread's held stack (its next row) until it returns, and the hold
//! pushed after (only one acquisition in the profile's sampling period tries first and times
//! its wait). The watchdog must read the announcement as a wait, not a hold: long waits,
//! deadlocks, the contention profile and blame all go on seeing these waits; and a call that
//! unwinds, or one during which the raw lock takes another tracked lock, must leave no wait
//! behind and lose none.
//!
//! The profile's rate is set to about one acquisition in 2^24 for the whole binary, so that
//! every wait after a lock's first contention is a direct one.
#![cfg(feature = "enabled")]

mod common;

use common::{
    contend_mutex_once, contend_once, folded_total, hold_for_a_while, reports_about,
    wait_for_report, wait_for_the_lock,
};
use lockwatch::contention::{self, View};
use lockwatch::parking_lot::{Mutex, RwLock};
use lockwatch::{named, ReportKind};
use std::sync::{Arc, Barrier, Once};
use std::thread;
use std::time::Duration;

/// Profiling nearly off (the binary's tests share the setting), reports sooner.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        contention::set_sample_rate(Duration::from_secs(1));
        lockwatch::watchdog::set_long_hold(Duration::from_secs(60));
        lockwatch::watchdog::set_long_wait(Duration::from_millis(100));
    });
}

/// Two threads named `names`, the first taking `a` then `b`, the second `b` then `a`, each
/// with `take(first, second, both)`, which is to take the second once both hold their first
/// (`both`): they deadlock, and are leaked.
fn cross<L: Send + Sync + 'static>(
    names: [&str; 2],
    a: &Arc<L>,
    b: &Arc<L>,
    take: fn(&L, &L, &Barrier),
) {
    let both = Arc::new(Barrier::new(2));
    for (name, first, second) in [
        (names[0], Arc::clone(a), Arc::clone(b)),
        (names[1], Arc::clone(b), Arc::clone(a)),
    ] {
        let both = Arc::clone(&both);
        thread::Builder::new()
            .name(name.into())
            .spawn(move || take(&first, &second, &both))
            .unwrap();
    }
}

/// A thread's first acquisition sets up its held stack (and is never a direct one): a
/// thread that is to wait directly takes some lock first.
fn first_lock_of_the_thread() {
    drop(Mutex::new(()).lock());
}

#[test]
fn a_direct_wait_is_reported_long_and_its_thread_is_not_a_holder() {
    setup();
    let m = Arc::new(named(Mutex::new(0), "dw-long"));
    contend_mutex_once(&m);
    let locked = Arc::new(Barrier::new(2));
    let (m2, locked2) = (Arc::clone(&m), Arc::clone(&locked));
    let holder = thread::Builder::new()
        .name("dw-holder".into())
        .spawn(move || hold_for_a_while(&m2, &locked2, Duration::from_millis(400)))
        .unwrap();
    locked.wait();
    let waiter = {
        let m = Arc::clone(&m);
        thread::Builder::new()
            .name("dw-waiter".into())
            .spawn(move || {
                first_lock_of_the_thread();
                wait_for_the_lock(&m)
            })
            .unwrap()
    };
    let report = wait_for_report(ReportKind::LongWait, &["dw-long"]);
    waiter.join().unwrap();
    holder.join().unwrap();
    let text = report.to_string();
    assert!(text.contains("thread `dw-waiter` has waited"), "{text}");
    // The waiter's row, pushed before its lock call, is a wait: the holder is the one holder.
    let (_, holders) = text.split_once("held by:").expect(&text);
    assert!(holders.contains("thread `dw-holder`"), "{text}");
    assert!(!holders.contains("dw-waiter"), "{text}");
    assert!(
        !reports_about(&["dw-long"])
            .iter()
            .any(|r| r.kind() == ReportKind::LongHold),
        "a 400 ms wait under a 60 s long-hold threshold is no long hold"
    );
}

#[test]
fn a_deadlock_between_direct_waits_is_reported() {
    setup();
    let a = Arc::new(named(Mutex::new(0), "dw-dl-a"));
    let b = Arc::new(named(Mutex::new(0), "dw-dl-b"));
    contend_mutex_once(&a);
    contend_mutex_once(&b);
    cross(["dw-dl-t1", "dw-dl-t2"], &a, &b, |first, second, both| {
        let _first = first.lock();
        both.wait();
        let _second = second.lock(); // blocks forever
    });
    let report = wait_for_report(ReportKind::Deadlock, &["dw-dl-a", "dw-dl-b"]);
    let text = report.to_string();
    for needle in [
        "thread `dw-dl-t1` waits for",
        "thread `dw-dl-t2` waits for",
        "holding Mutex `dw-dl-a`",
        "holding Mutex `dw-dl-b`",
        "tests/direct_waits.rs:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn a_reader_waiting_directly_behind_a_writer_is_part_of_a_deadlock() {
    setup();
    let a = Arc::new(named(RwLock::new(()), "dw-rw-a"));
    let b = Arc::new(named(RwLock::new(()), "dw-rw-b"));
    // Each lock's first contention: a reader waits for a writer.
    for lock in [&a, &b] {
        contend_once(&**lock, |l| Box::new(l.write()), |l| Box::new(l.read()));
    }
    // Each thread writes one lock, then reads the other: each read waits behind the other's
    // write.
    cross(["dw-rw-t1", "dw-rw-t2"], &a, &b, |first, second, both| {
        let _w = first.write();
        both.wait();
        let _r = second.read(); // blocks forever
    });
    let report = wait_for_report(ReportKind::Deadlock, &["dw-rw-a", "dw-rw-b"]);
    let text = report.to_string();
    for needle in ["thread `dw-rw-t1` waits for", "thread `dw-rw-t2` waits for"] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn long_direct_waits_are_profiled_and_blamed_on_their_holder() {
    setup();
    let m = Arc::new(named(Mutex::new(0), "dw-prof"));
    contend_mutex_once(&m);
    let mut measured = 0;
    for _ in 0..3 {
        let locked = Arc::new(Barrier::new(2));
        let (m2, locked2) = (Arc::clone(&m), Arc::clone(&locked));
        let holder =
            thread::spawn(move || hold_for_a_while(&m2, &locked2, Duration::from_millis(40)));
        locked.wait();
        measured += wait_for_the_lock(&m).as_nanos() as u64;
        holder.join().unwrap();
    }
    let waiters = contention::folded();
    let recorded = folded_total(&waiters, &["wait_for_the_lock", "`dw-prof`"]);
    // Each wait (40 ms, over the 2 ms after which a wait is in the profile whatever the
    // draw) is recorded from the coarse tick it began at, which trails the clock by up to
    // about a millisecond: allow 20% under and 2 ms over per wait.
    assert!(
        recorded >= measured - measured / 5 && recorded <= measured + 3 * 2_000_000,
        "recorded {recorded} ns of {measured} ns waited\n{waiters}"
    );
    let blame = contention::folded_view(View::Blame);
    let blamed = folded_total(&blame, &["hold_for_a_while", "`dw-prof`"]);
    assert!(
        blamed > measured / 2 && blamed <= measured + measured / 5 + 6_000_000,
        "blamed {blamed} ns of {measured} ns waited\n{blame}"
    );
    assert_eq!(
        folded_total(&blame, &["wait_for_the_lock", "`dw-prof`"]),
        0,
        "the waiter is not to blame\n{blame}"
    );
}

/// A spin mutex whose lock call can be made to panic, or to take a tracked lock first (its own
/// bookkeeping, say), on the calling thread.
#[cfg(not(feature = "parking_lot_0_13"))]
mod picky {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};

    thread_local! {
        pub static PANIC_IN_LOCK: Cell<bool> = const { Cell::new(false) };
        pub static TAKE_INNER: Cell<Option<&'static super::Mutex<u64>>> = const { Cell::new(None) };
    }

    pub struct Raw(AtomicBool);

    // SAFETY: The flag is set by one compare-exchange at a time; unlock clears it.
    unsafe impl lock_api::RawMutex for Raw {
        #[allow(clippy::declare_interior_mutable_const)]
        const INIT: Self = Raw(AtomicBool::new(false));
        type GuardMarker = lock_api::GuardNoSend;

        fn lock(&self) {
            if PANIC_IN_LOCK.take() {
                // Unwinds without the panic hook, which (with RUST_BACKTRACE set) can spend
                // longer than the long-wait threshold printing a backtrace from inside the call.
                std::panic::resume_unwind(Box::new("the raw lock call fails"));
            }
            if let Some(inner) = TAKE_INNER.get() {
                *inner.lock() += 1;
            }
            while !lock_api::RawMutex::try_lock(self) {
                std::thread::sleep(std::time::Duration::from_millis(1));
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

    pub type Mutex<T> = lockwatch::lock_api::Mutex<Raw, T>;
}

#[cfg(not(feature = "parking_lot_0_13"))]
#[test]
fn a_direct_lock_call_that_unwinds_leaves_no_wait_behind() {
    setup();
    let m = Arc::new(named(picky::Mutex::new(0u64), "dw-unwind"));
    contend_once(&*m, |m| Box::new(m.lock()), |m| Box::new(m.lock()));
    let m2 = Arc::clone(&m);
    thread::Builder::new()
        .name("dw-unwinder".into())
        .spawn(move || {
            first_lock_of_the_thread();
            picky::PANIC_IN_LOCK.set(true);
            let unwound =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(m2.lock())));
            assert!(unwound.is_err());
            // An announcement left behind would be a wait for ever, reported long after
            // 100 ms; and it would send the thread's later acquisitions the slow way.
            thread::sleep(Duration::from_millis(400));
            *m2.lock() += 1;
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(*m.lock(), 1);
    common::assert_quiet(&["dw-unwind"]);
}

#[cfg(not(feature = "parking_lot_0_13"))]
#[test]
fn a_tracked_lock_taken_inside_a_direct_lock_call_leaves_that_call_a_wait() {
    setup();
    static INNER: Mutex<u64> = Mutex::new(0);
    let m = Arc::new(named(picky::Mutex::new(0u64), "dw-outer"));
    contend_once(&*m, |m| Box::new(m.lock()), |m| Box::new(m.lock()));
    contend_mutex_once(&INNER);
    let locked = Arc::new(Barrier::new(2));
    let holder = {
        let (m, locked) = (Arc::clone(&m), Arc::clone(&locked));
        thread::Builder::new()
            .name("dw-outer-holder".into())
            .spawn(move || {
                let _g = m.lock();
                locked.wait();
                thread::sleep(Duration::from_millis(400));
            })
            .unwrap()
    };
    locked.wait();
    let waiter = {
        let m = Arc::clone(&m);
        thread::Builder::new()
            .name("dw-outer-waiter".into())
            .spawn(move || {
                first_lock_of_the_thread();
                // Inside this lock call the raw lock takes INNER (a lock contended before),
                // and then spins: the call must stay this thread's wait.
                picky::TAKE_INNER.set(Some(&INNER));
                *m.lock() += 1;
                picky::TAKE_INNER.set(None);
            })
            .unwrap()
    };
    let report = wait_for_report(ReportKind::LongWait, &["dw-outer"]);
    waiter.join().unwrap();
    holder.join().unwrap();
    let text = report.to_string();
    assert!(
        text.contains("thread `dw-outer-waiter` has waited"),
        "{text}"
    );
    assert_eq!(*INNER.lock(), 1, "taken once, inside the call");
}

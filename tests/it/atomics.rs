//! Tracked atomics: lost updates reported, read-modify-writes quiet, std's behaviour kept.
#![cfg(feature = "enabled")]

use lockwatch::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use lockwatch::{Report, ReportKind};
use std::sync::Barrier;
use std::thread;

/// The LostUpdate reports whose text contains `site`.
fn lost_updates_at(site: &str) -> Vec<Report> {
    lockwatch::reports()
        .into_iter()
        .filter(|r| r.kind() == ReportKind::LostUpdate && r.to_string().contains(site))
        .collect()
}

macro_rules! here {
    () => {
        format!("{}:{}:", file!(), line!())
    };
}

#[test]
fn load_then_store_across_a_foreign_write_is_a_lost_update() {
    let (counter, created) = (AtomicU64::new(0), here!());
    let step = Barrier::new(2);
    let (load_site, store_site, other_site) = thread::scope(|s| {
        let other = s.spawn(|| {
            step.wait(); // 1: the main thread has loaded
            let ((), site) = (counter.store(10, SeqCst), here!());
            step.wait(); // 2: written
            site
        });
        let (v, load_site) = (counter.load(SeqCst), here!());
        step.wait();
        step.wait();
        // This store erases the other thread's 10.
        let ((), store_site) = (counter.store(v + 1, SeqCst), here!());
        (load_site, store_site, other.join().unwrap())
    });
    assert_eq!(counter.load(SeqCst), 1, "the update really was lost");
    let found = lost_updates_at(&created);
    assert_eq!(found.len(), 1, "{found:#?}");
    let text = found[0].to_string();
    for site in [&load_site, &store_site, &other_site] {
        assert!(text.contains(site.as_str()), "missing {site} in\n{text}");
    }
    // The test harness names the test's thread after the test.
    assert_eq!(
        found[0].thread(),
        "atomics::load_then_store_across_a_foreign_write_is_a_lost_update"
    );
}

#[test]
fn fetch_add_from_many_threads_is_quiet_and_exact() {
    let (counter, created) = (AtomicUsize::new(0), here!());
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    counter.fetch_add(1, Relaxed);
                }
            });
        }
    });
    assert_eq!(counter.load(Relaxed), 40_000);
    assert!(lost_updates_at(&created).is_empty());
}

#[test]
fn one_threads_load_then_store_is_quiet() {
    let (value, created) = (AtomicU64::new(1), here!());
    for _ in 0..100 {
        let v = value.load(Acquire);
        value.store(v * 2 % 1_000_003, Release);
    }
    assert!(lost_updates_at(&created).is_empty());
}

#[test]
fn a_cas_loop_under_contention_is_quiet_and_exact() {
    let (value, created) = (AtomicU64::new(0), here!());
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..5_000 {
                    let mut cur = value.load(Relaxed);
                    while let Err(actual) =
                        value.compare_exchange_weak(cur, cur + 1, AcqRel, Relaxed)
                    {
                        cur = actual;
                    }
                }
            });
        }
    });
    assert_eq!(value.load(Relaxed), 20_000);
    assert!(value.fetch_update(AcqRel, Acquire, |v| Some(v + 1)).is_ok());
    assert!(lost_updates_at(&created).is_empty());
}

#[test]
fn check_then_act_on_a_flag_is_reported() {
    let (flag, created) = (AtomicBool::new(false), here!());
    let step = Barrier::new(2);
    let initialised_twice = thread::scope(|s| {
        s.spawn(|| {
            step.wait();
            flag.store(true, Release); // another thread claims it in between
            step.wait();
        });
        let claimed = !flag.load(Acquire);
        step.wait();
        step.wait();
        if claimed {
            flag.store(true, Release); // and this thread claims it too
        }
        claimed
    });
    assert!(initialised_twice);
    assert_eq!(lost_updates_at(&created).len(), 1);
}

#[test]
fn each_load_store_site_pair_is_reported_once() {
    let (counter, created) = (AtomicU64::new(0), here!());
    for _ in 0..3 {
        let step = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                step.wait();
                counter.fetch_add(5, SeqCst);
                step.wait();
            });
            let v = counter.load(SeqCst);
            step.wait();
            step.wait();
            counter.store(v, SeqCst);
        });
    }
    assert_eq!(lost_updates_at(&created).len(), 1);
}

#[test]
fn a_tracked_atomic_is_its_value_plus_24_bytes() {
    assert_eq!(std::mem::size_of::<AtomicU64>(), 32);
    assert_eq!(std::mem::size_of::<AtomicBool>(), 32);
}

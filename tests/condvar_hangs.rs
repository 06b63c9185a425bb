//! Waits beyond locks: threads stuck in `Condvar::wait` for notifiers that can no longer run,
//! reported while they hang; an idle pool left alone; a long wait whose holder is parked in a
//! condvar wait says so. Its own binary: it turns the watchdog's thresholds down and leaves
//! stuck threads behind.
#![cfg(feature = "enabled")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockwatch::report::{Doing, Finding};
use lockwatch::sync::{Condvar, Mutex};
mod common;

use common::{assert_quiet, wait_for_report};
use lockwatch::{named, ReportKind};

/// The waiter holds `state` while it waits on the condvar; the notifier needs `state` before
/// it can notify. The first round works (and teaches lockwatch who notifies); the second hangs.
#[test]
fn a_waiter_holding_the_lock_its_notifier_needs_is_a_deadlock() {
    let state = Arc::new(named(Mutex::new(0u32), "cv-state"));
    let pair = Arc::new((named(Mutex::new(false), "cv-flag"), Condvar::new()));
    let round = Arc::new(Barrier::new(2));
    {
        let (state, pair, round) = (Arc::clone(&state), Arc::clone(&pair), Arc::clone(&round));
        thread::Builder::new()
            .name("cv-waiter".into())
            .spawn(move || {
                for r in 0..2 {
                    let _s = if r == 1 {
                        Some(state.lock().unwrap())
                    } else {
                        None
                    };
                    let mut ready = pair.0.lock().unwrap();
                    round.wait();
                    while !*ready {
                        ready = pair.1.wait(ready).unwrap(); // round 2: holding `state`
                    }
                    *ready = false;
                }
            })
            .unwrap();
    }
    thread::Builder::new()
        .name("cv-notifier".into())
        .spawn(move || {
            for _ in 0..2 {
                round.wait();
                *state.lock().unwrap() += 1; // round 2: blocks, the waiter holds it
                *pair.0.lock().unwrap() = true;
                pair.1.notify_one();
            }
        })
        .unwrap();
    let report = wait_for_report(ReportKind::Deadlock, &["cv-state"]);
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report:?}")
    };
    let names: Vec<&str> = threads.iter().map(|t| t.thread.as_str()).collect();
    assert_eq!(names, ["cv-notifier", "cv-waiter"], "{report}");
    let waiter = &threads[1];
    let notifiers = waiter
        .condvar_notifiers
        .as_ref()
        .expect("parked on the condvar");
    assert_eq!(notifiers[0].thread, "cv-notifier");
    assert!(notifiers[0].site.file.ends_with("condvar_hangs.rs"));
    let text = report.to_string();
    assert!(
        text.contains("is parked in Condvar::wait at tests/condvar_hangs.rs"),
        "{text}"
    );
    assert!(text.contains("notifies that condvar"), "{text}");
}

/// Two threads, each parked on a condvar only the other notifies.
#[test]
fn two_threads_waiting_for_each_others_notify_are_a_deadlock() {
    let a = Arc::new((named(Mutex::new(0u32), "cv-ping"), Condvar::new()));
    let b = Arc::new((named(Mutex::new(0u32), "cv-pong"), Condvar::new()));
    let start = Arc::new(Barrier::new(2));
    for (mine, theirs, name, notify_first) in [
        (Arc::clone(&a), Arc::clone(&b), "cv-ping-thread", true),
        (Arc::clone(&b), Arc::clone(&a), "cv-pong-thread", false),
    ] {
        let start = Arc::clone(&start);
        thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // One exchange that works (each learns the other notifies), then both wait
                // for a notify the other will never send.
                if notify_first {
                    *theirs.0.lock().unwrap() += 1;
                    theirs.1.notify_one();
                }
                let mut n = mine.0.lock().unwrap();
                while *n == 0 {
                    n = mine.1.wait(n).unwrap();
                }
                drop(n);
                if !notify_first {
                    *theirs.0.lock().unwrap() += 1;
                    theirs.1.notify_one();
                }
                start.wait();
                let mut n = mine.0.lock().unwrap();
                while *n < 2 {
                    n = mine.1.wait(n).unwrap();
                }
            })
            .unwrap();
    }
    let report = wait_for_report(ReportKind::Deadlock, &["cv-ping"]);
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report:?}")
    };
    assert_eq!(threads.len(), 2, "{report}");
    assert!(
        threads.iter().all(|t| t.condvar_notifiers.is_some()),
        "{report}"
    );
}

/// Workers parked for work that does not come, with a producer that notified before and is
/// alive: nothing to report, however long.
#[test]
fn an_idle_pool_is_quiet() {
    let queue = Arc::new((
        named(Mutex::new(Vec::<u32>::new()), "cv-idle"),
        Condvar::new(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let (queue, stop) = (Arc::clone(&queue), Arc::clone(&stop));
            thread::Builder::new()
                .name(format!("cv-idle-worker-{i}"))
                .spawn(move || loop {
                    let mut jobs = queue.0.lock().unwrap();
                    while jobs.is_empty() && !stop.load(Ordering::Relaxed) {
                        jobs = queue.1.wait(jobs).unwrap();
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    jobs.pop();
                })
                .unwrap()
        })
        .collect();
    // One job, so the producer is a known notifier; then nothing for a while.
    queue.0.lock().unwrap().push(1);
    queue.1.notify_one();
    thread::sleep(Duration::from_millis(1_500));
    assert_quiet(&["cv-idle"]);
    stop.store(true, Ordering::Relaxed);
    queue.1.notify_all();
    for w in workers {
        w.join().unwrap();
    }
}

/// A long wait for a lock whose holder is parked in a condvar wait says so, and gives the fix
/// that fits.
#[test]
fn a_long_wait_says_the_holder_is_parked_in_a_condvar_wait() {
    lockwatch::watchdog::set_long_wait(Duration::from_millis(100));
    let held = Arc::new(named(Mutex::new(()), "cv-held"));
    let pair = Arc::new((named(Mutex::new(false), "cv-bell"), Condvar::new()));
    let parked = Arc::new(Barrier::new(2));
    let holder = {
        let (held, pair, parked) = (Arc::clone(&held), Arc::clone(&pair), Arc::clone(&parked));
        thread::Builder::new()
            .name("cv-holder".into())
            .spawn(move || {
                let _h = held.lock().unwrap();
                let mut rang = pair.0.lock().unwrap();
                parked.wait();
                while !*rang {
                    rang = pair.1.wait(rang).unwrap();
                }
            })
            .unwrap()
    };
    parked.wait();
    let waiter = {
        let held = Arc::clone(&held);
        thread::Builder::new()
            .name("cv-blocked".into())
            .spawn(move || drop(held.lock().unwrap()))
            .unwrap()
    };
    let report = wait_for_report(ReportKind::LongWait, &["cv-held"]);
    *pair.0.lock().unwrap() = true;
    pair.1.notify_one();
    holder.join().unwrap();
    waiter.join().unwrap();
    let Finding::LongWait { holders, .. } = report.finding() else {
        panic!("{report:?}")
    };
    assert!(
        matches!(holders[0].doing, Doing::ParkedInCondvarWait(_)),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("it is parked in Condvar::wait at tests/condvar_hangs.rs"),
        "{text}"
    );
    assert!(
        text.contains("until someone notifies that condvar"),
        "{text}"
    );
    assert!(!text.contains("shorten what the holder does"), "{text}");
}

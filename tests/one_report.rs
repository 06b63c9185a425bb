//! One bug, one report: a self-deadlock in a loop, a self-deadlock that really hangs, an ABBA
//! that really deadlocks, and a worker pool's long holds and waits at one site. Its own
//! binary: it turns the watchdog's thresholds down and leaves blocked threads behind.
#![cfg(feature = "enabled")]

use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use lockwatch::report::Finding;
use lockwatch::sync::{Mutex, RwLock};
use lockwatch::{named, Report, ReportKind};

/// The reports naming a lock of class `name`.
fn about(name: &str) -> Vec<Report> {
    lockwatch::reports()
        .into_iter()
        .filter(|r| r.locks().iter().any(|l| l.name == Some(name)))
        .collect()
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

fn thresholds() {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(80));
    lockwatch::watchdog::set_long_wait(Duration::from_millis(80));
}

#[test]
fn a_self_deadlock_in_a_loop_is_one_report_counted() {
    let map: Vec<RwLock<u32>> = (0..1_000)
        .map(|_| named(RwLock::new(0), "one-loop"))
        .collect();
    for shard in &map {
        let _r = shard.read().unwrap();
        let _again = shard.read().unwrap(); // std reads: a queued writer would block this
    }
    let reports = about("one-loop");
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert!(matches!(reports[0].finding(), Finding::SelfDeadlock { .. }));
    assert_eq!(reports[0].occurrences(), 1_000);
    assert!(reports[0].to_string().contains("seen 1000 times"));
}

#[test]
fn a_self_deadlock_that_hangs_leaves_exactly_one_report() {
    thresholds();
    let m = Arc::new(named(Mutex::new(()), "one-self"));
    let m2 = Arc::clone(&m);
    thread::Builder::new()
        .name("one-self-thread".into())
        .spawn(move || {
            let _g = m2.lock().unwrap();
            let _again = m2.lock(); // reported, then blocks for good
        })
        .unwrap();
    wait_until("the hang to be seen", || {
        about("one-self")
            .first()
            .is_some_and(|r| r.outcome() == Some("it hung"))
    });
    // Long past the hold and wait thresholds: still one report.
    thread::sleep(Duration::from_millis(400));
    let reports = about("one-self");
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].kind(), ReportKind::LockOrder);
    assert!(reports[0]
        .to_string()
        .contains("recursive locking (self-deadlock)"));
}

#[test]
fn an_abba_that_deadlocks_is_one_order_report_and_one_deadlock() {
    thresholds();
    let a = Arc::new(named(Mutex::new(()), "one-abba-a"));
    let b = Arc::new(named(Mutex::new(()), "one-abba-b"));
    let both = Arc::new(Barrier::new(2));
    for (first, second, name) in [
        (Arc::clone(&a), Arc::clone(&b), "one-abba-1"),
        (Arc::clone(&b), Arc::clone(&a), "one-abba-2"),
    ] {
        let both = Arc::clone(&both);
        thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _f = first.lock().unwrap();
                both.wait();
                let _s = second.lock().unwrap();
            })
            .unwrap();
    }
    wait_until("the deadlock", || {
        about("one-abba-a")
            .iter()
            .any(|r| r.kind() == ReportKind::Deadlock)
    });
    thread::sleep(Duration::from_millis(400)); // the holds and waits are long now
    let mut kinds: Vec<ReportKind> = about("one-abba-a").iter().map(Report::kind).collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(kinds, [ReportKind::Deadlock, ReportKind::LockOrder]);
}

#[test]
fn a_three_thread_cycle_that_deadlocks_is_one_order_report_and_one_deadlock() {
    thresholds();
    let locks: Vec<_> = ["one-ring-a", "one-ring-b", "one-ring-c"]
        .into_iter()
        .map(|name| Arc::new(named(Mutex::new(()), name)))
        .collect();
    let all = Arc::new(Barrier::new(3));
    for i in 0..3 {
        let (first, second) = (Arc::clone(&locks[i]), Arc::clone(&locks[(i + 1) % 3]));
        let all = Arc::clone(&all);
        thread::Builder::new()
            .name(format!("one-ring-{i}"))
            .spawn(move || {
                let _f = first.lock().unwrap();
                all.wait();
                let _s = second.lock().unwrap();
            })
            .unwrap();
    }
    let ring = || -> Vec<Report> {
        lockwatch::reports()
            .into_iter()
            .filter(|r| {
                r.locks()
                    .iter()
                    .any(|l| l.name.is_some_and(|n| n.starts_with("one-ring-")))
            })
            .collect()
    };
    wait_until("the deadlock", || {
        ring().iter().any(|r| r.kind() == ReportKind::Deadlock)
    });
    thread::sleep(Duration::from_millis(400)); // the holds and waits are long now
    let reports = ring();
    let mut kinds: Vec<ReportKind> = reports.iter().map(Report::kind).collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(
        kinds,
        [ReportKind::Deadlock, ReportKind::LockOrder],
        "{reports:#?}"
    );
    let deadlock = reports
        .iter()
        .find(|r| r.kind() == ReportKind::Deadlock)
        .unwrap();
    let Finding::Deadlock { threads, .. } = deadlock.finding() else {
        panic!("{deadlock}")
    };
    assert_eq!(threads.len(), 3, "{deadlock}");
}

#[test]
fn a_worker_pools_long_holds_and_waits_at_one_site_are_one_report_each() {
    thresholds();
    // The Rust Book's pool: each worker holds the job queue's lock while it waits for a job.
    let (jobs, queue) = mpsc::channel::<u32>();
    let queue = Arc::new(named(Mutex::new(queue), "one-queue"));
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("one-worker-{i}"))
                .spawn(move || loop {
                    let job = queue.lock().unwrap().recv();
                    if job.is_err() {
                        break;
                    }
                })
                .unwrap()
        })
        .collect();
    for n in 0..4 {
        thread::sleep(Duration::from_millis(150)); // a hold (and waits) past the thresholds
        jobs.send(n).unwrap();
    }
    thread::sleep(Duration::from_millis(150));
    drop(jobs);
    for w in workers {
        w.join().unwrap();
    }
    let holds: Vec<Report> = about("one-queue")
        .into_iter()
        .filter(|r| r.kind() == ReportKind::LongHold)
        .collect();
    let waits: Vec<Report> = about("one-queue")
        .into_iter()
        .filter(|r| r.kind() == ReportKind::LongWait)
        .collect();
    assert_eq!(holds.len(), 1, "{holds:#?}");
    assert_eq!(waits.len(), 1, "{waits:#?}");
    assert!(holds[0].occurrences() >= 3, "{}", holds[0].occurrences());
    assert!(waits[0].occurrences() >= 2, "{}", waits[0].occurrences());
    assert!(holds[0].longest().unwrap() >= Duration::from_millis(80));
}

//! rayon's nested `install` across two pools, as a small program: each pool has one worker and
//! a job queue; `install` queues a job and parks the caller on its own latch (a mutex, a flag
//! and a condvar kept per thread, as rayon's `LockLatch`) until the job is done. Nesting
//! `a → b → a` parks pool a's only worker on a latch that only pool b's worker can set, while
//! b's worker waits for a job queued on a. Every latch has been notified before (the first
//! round works), so lockwatch knows who notifies each: the three threads form a knot of
//! condvar waits, reported while they hang. Its own binary: the threads stay stuck.
#![cfg(feature = "enabled")]

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lockwatch::report::Finding;
use lockwatch::sync::{Condvar, Mutex};
use lockwatch::{named, ReportKind};

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    jobs: Mutex<VecDeque<Job>>,
    work: Condvar,
}

/// A thread's latch: set by the job it waits for.
struct Latch {
    done: Mutex<bool>,
    set: Condvar,
}

thread_local! {
    static LATCH: Arc<Latch> = Arc::new(Latch {
        done: named(Mutex::new(false), "latch"),
        set: Condvar::new(),
    });
}

fn pool(name: &'static str) -> Arc<Pool> {
    let pool = Arc::new(Pool {
        jobs: named(Mutex::new(VecDeque::new()), "pool-jobs"),
        work: Condvar::new(),
    });
    let worker = Arc::clone(&pool);
    thread::Builder::new()
        .name(name.into())
        .spawn(move || loop {
            let job = {
                let mut jobs = worker.jobs.lock().unwrap();
                loop {
                    match jobs.pop_front() {
                        Some(job) => break job,
                        None => jobs = worker.work.wait(jobs).unwrap(),
                    }
                }
            };
            job();
        })
        .unwrap();
    pool
}

/// Runs `f` on `pool` and parks this thread until it is done.
fn install(pool: &Pool, f: impl FnOnce() + Send + 'static) {
    let latch = LATCH.with(Arc::clone);
    *latch.done.lock().unwrap() = false;
    let done = Arc::clone(&latch);
    pool.jobs.lock().unwrap().push_back(Box::new(move || {
        f();
        *done.done.lock().unwrap() = true;
        done.set.notify_all();
    }));
    pool.work.notify_one();
    let mut finished = latch.done.lock().unwrap();
    while !*finished {
        finished = latch.set.wait(finished).unwrap();
    }
}

#[test]
fn nested_installs_across_two_pools_are_a_deadlock_reported_while_they_hang() {
    lockwatch::watchdog::set_long_wait(Duration::from_millis(100));
    let (a, b) = (pool("pool-a-worker"), pool("pool-b-worker"));
    thread::Builder::new()
        .name("caller".into())
        .spawn(move || {
            // The first round works and sets every thread's latch once.
            let b2 = Arc::clone(&b);
            install(&a, move || install(&b2, || ()));
            let a2 = Arc::clone(&a);
            install(&b, move || install(&a2, || ()));
            // a → b → a: a's only worker waits for b, b's for a job queued on a.
            let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
            install(&a, move || install(&b2, move || install(&a2, || ())));
            unreachable!("the nested install returned");
        })
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let report = loop {
        let found: Vec<_> = lockwatch::reports()
            .into_iter()
            .filter(|r| r.kind() == ReportKind::Deadlock)
            .collect();
        if let Some(r) = found.first() {
            // Give the watchdog a few more passes: the hang stays one report.
            thread::sleep(Duration::from_millis(500));
            let deadlocks = lockwatch::reports()
                .into_iter()
                .filter(|r| r.kind() == ReportKind::Deadlock)
                .count();
            assert_eq!(deadlocks, 1, "one hang, one report");
            break r.clone();
        }
        assert!(Instant::now() < deadline, "no Deadlock report");
        thread::sleep(Duration::from_millis(10));
    };
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report:?}")
    };
    let mut names: Vec<&str> = threads.iter().map(|t| t.thread.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["caller", "pool-a-worker", "pool-b-worker"],
        "{report}"
    );
    for t in threads {
        let notifiers = t.condvar_notifiers.as_ref().expect("a condvar wait");
        assert!(!notifiers.is_empty(), "{report}");
        assert!(notifiers.iter().all(|n| !n.exited), "{report}");
    }
    // pool a's worker waits for the latch that pool b's worker sets.
    let a_worker = threads
        .iter()
        .find(|t| t.thread == "pool-a-worker")
        .unwrap();
    let notifiers = a_worker.condvar_notifiers.as_ref().unwrap();
    assert!(
        notifiers.iter().any(|n| n.thread == "pool-b-worker"),
        "{report}"
    );
    let text = report.to_string();
    assert!(text.contains("is parked in Condvar::wait"), "{text}");
    assert!(text.contains("`latch`"), "{text}");
    assert!(
        text.contains("fix: each thread waits for a notify only another"),
        "{text}"
    );
}

//! Backtraces switched on while threads run: a thread whose locks were contended before takes
//! them the direct way, untimed and without its stack, unless the acquisition is drawn for the
//! profile. With backtraces on every acquisition is drawn, and a thread that was already
//! running must not make one more wait without its stack: the watchdog draws every thread's
//! next direct acquisition when it finds backtraces on. Its own binary: it switches backtraces
//! on part-way, which every other test in a binary would see.
#![cfg(feature = "enabled")]

mod common;

use lockwatch::parking_lot::Mutex;
use lockwatch::report::Finding;
use lockwatch::{named, ReportKind};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

#[test]
fn a_deadlock_right_after_backtraces_are_switched_on_carries_each_wait_backtrace() {
    lockwatch::contention::set_sample_rate(Duration::from_secs(1));
    let a = Arc::new(named(Mutex::new(()), "bt-late-a"));
    let b = Arc::new(named(Mutex::new(()), "bt-late-b"));
    common::contend_mutex_once(&a);
    common::contend_mutex_once(&b);
    let (holding, go) = (Arc::new(Barrier::new(3)), Arc::new(Barrier::new(3)));
    for (name, first, second) in [
        ("bt-late-1", Arc::clone(&a), Arc::clone(&b)),
        ("bt-late-2", Arc::clone(&b), Arc::clone(&a)),
    ] {
        let (holding, go) = (Arc::clone(&holding), Arc::clone(&go));
        thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                drop(Mutex::new(()).lock()); // the thread's held stack
                let _first = first.lock(); // direct, backtraces off
                holding.wait();
                go.wait();
                let _second = second.lock(); // blocks forever: the thread is leaked
            })
            .unwrap();
    }
    holding.wait();
    lockwatch::set_backtraces(true);
    // A few watchdog scans (every 10 ms) with backtraces on.
    thread::sleep(Duration::from_millis(60));
    go.wait();
    let report = common::wait_for_report(ReportKind::Deadlock, &["bt-late-a", "bt-late-b"]);
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report}")
    };
    assert_eq!(threads.len(), 2, "{report}");
    for t in threads {
        assert!(t.backtrace.is_some(), "a wait without its stack:\n{report}");
    }
}

//! Edges keep the `tracing` span they were first seen in, and a backtrace when asked.
#![cfg(feature = "enabled")]

mod common;

use common::assert_reported;
use lockwatch::sync::Mutex;
use lockwatch::{named, ReportKind};

fn transfer_in_span(a: &Mutex<()>, b: &Mutex<()>) {
    let span = tracing::info_span!("handle_request");
    let _entered = span.enter();
    let _a = a.lock().unwrap();
    let _b = b.lock().unwrap();
}

#[test]
fn reports_name_the_span_of_each_edge_and_its_backtrace() {
    let subscriber = tracing_subscriber::fmt().with_test_writer().finish();
    let _default = tracing::subscriber::set_default(subscriber);
    lockwatch::set_backtraces(true);
    let a = named(Mutex::new(()), "span-a");
    let b = named(Mutex::new(()), "span-b");
    transfer_in_span(&a, &b);
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    let report = assert_reported(ReportKind::LockOrder, &["span-a", "span-b"], &[]);
    let text = report.to_string();
    assert!(text.contains("(in span `handle_request`)"), "{text}");
    assert!(text.contains("backtrace:"), "{text}");
    assert!(text.contains("transfer_in_span"), "{text}");
}

/// A helper that takes the lock on one line for every caller, as wrappers do.
fn lock_in_helper(m: &Mutex<()>) -> lockwatch::sync::MutexGuard<'_, ()> {
    m.lock().unwrap()
}

fn first_frame(text: &str) -> &str {
    let at = text.find("backtrace:").expect("a backtrace");
    text[at..].lines().nth(1).expect("a frame").trim()
}

#[test]
fn backtraces_are_trimmed_to_the_users_frames_and_name_the_callers_of_helpers() {
    lockwatch::set_backtraces(true);
    let a = named(Mutex::new(()), "helper-a");
    let b = named(Mutex::new(()), "helper-b");
    let forward = {
        let _a = lock_in_helper(&a);
        let (_b, forward) = (lock_in_helper(&b), line!());
        forward
    };
    let reverse = {
        let _b = lock_in_helper(&b);
        let (_a, reverse) = (lock_in_helper(&a), line!());
        reverse
    };
    let report = assert_reported(ReportKind::LockOrder, &["helper-a", "helper-b"], &[]);
    let text = report.to_string();
    let file = file!();
    // Every site is the helper's line; the callers' lines tell the two orders apart.
    let forward = format!("(called from {file}:{forward}:");
    let reverse = format!("(called from {file}:{reverse}:");
    assert!(
        text.contains(&forward),
        "no caller for the first order:\n{text}"
    );
    assert!(
        text.contains(&reverse),
        "no caller for the second order:\n{text}"
    );
    assert!(
        text.contains("in spans_and_backtraces::backtraces_are_trimmed"),
        "{text}"
    );
    // Trimmed: the innermost frame shown is the user's helper, not lockwatch's code, and
    // the harness's frames below the test are gone.
    let first = first_frame(&text);
    assert!(
        first.starts_with("spans_and_backtraces::lock_in_helper"),
        "{text}"
    );
    assert!(!text.contains("lockwatch::tracker"), "{text}");
    assert!(!text.contains("std::rt::"), "{text}");
    assert!(!text.contains("test::run_test"), "{text}");
    // The data carries the caller too.
    let lockwatch::report::Finding::LockOrder { cycle, .. } = report.finding() else {
        panic!("not a lock-order finding: {text}");
    };
    assert!(cycle.iter().all(|s| s.to.called_from.is_some()), "{text}");
}

#[test]
fn a_self_deadlock_carries_its_backtrace() {
    lockwatch::set_backtraces(true);
    let lock = named(lockwatch::sync::RwLock::new(()), "twice-read");
    let _first = lock.read().unwrap();
    let (_second, call) = (read_again(&lock), line!());
    let report = assert_reported(ReportKind::LockOrder, &["twice-read"], &[]);
    let text = report.to_string();
    assert!(text.contains("  backtrace:\n"), "{text}");
    assert!(
        first_frame(&text).starts_with("spans_and_backtraces::read_again"),
        "{text}"
    );
    let here = format!("(called from {}:{call}:", file!());
    assert!(text.contains(&here), "{text}");
}

fn read_again(lock: &lockwatch::sync::RwLock<()>) -> lockwatch::sync::RwLockReadGuard<'_, ()> {
    lock.read().unwrap()
}

fn take_both(first: &Mutex<()>, second: &Mutex<()>, ready: &std::sync::Barrier) {
    let _first = first.lock().unwrap();
    ready.wait();
    let _second = second.lock().unwrap(); // blocks forever: the other thread holds it
}

#[test]
fn a_deadlock_carries_each_threads_wait_backtrace() {
    use std::sync::{Arc, Barrier};
    lockwatch::set_backtraces(true);
    let a = Arc::new(named(Mutex::new(()), "stuck-a"));
    let b = Arc::new(named(Mutex::new(()), "stuck-b"));
    let ready = Arc::new(Barrier::new(2));
    for (name, first, second) in [
        ("stuck-1", Arc::clone(&a), Arc::clone(&b)),
        ("stuck-2", Arc::clone(&b), Arc::clone(&a)),
    ] {
        let ready = Arc::clone(&ready);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || take_both(&first, &second, &ready))
            .unwrap();
    }
    let report = common::wait_for_report(ReportKind::Deadlock, &["stuck-a", "stuck-b"]);
    let lockwatch::report::Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report}")
    };
    assert_eq!(threads.len(), 2, "{report}");
    for t in threads {
        let bt = t.backtrace.as_deref().expect("a wait backtrace");
        let first = bt.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("spans_and_backtraces::take_both"),
            "{report}"
        );
        assert!(!bt.contains("lockwatch::"), "{report}");
        assert!(t.waits_for.called_from.is_some(), "{report}");
    }
    let text = report.to_string();
    assert!(
        text.contains("    backtrace:\n      spans_and_backtraces::take_both"),
        "{text}"
    );
    // Each wait line names the line behind it.
    let waits: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" waits for Mutex `stuck-"))
        .collect();
    assert_eq!(waits.len(), 2, "{text}");
    assert!(waits.iter().all(|l| l.contains(" (called from ")), "{text}");
}

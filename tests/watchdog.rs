//! Long holds, long waits and actual deadlocks, reported while they happen.
#![cfg(feature = "enabled")]

mod common;

use common::reports_about;
use lockwatch::{named, Report, ReportKind};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

fn low_thresholds() {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(100));
    lockwatch::watchdog::set_long_wait(Duration::from_millis(100));
}

/// Polls until a report of `kind` names all of `names`, for up to five seconds.
fn wait_for(kind: ReportKind, names: &[&str]) -> Option<Report> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Some(r) = reports_about(names).into_iter().find(|r| r.kind() == kind) {
            return Some(r);
        }
        thread::sleep(Duration::from_millis(5));
    }
    None
}

#[test]
fn a_long_hold_is_reported_while_held_then_finished_on_release() {
    low_thresholds();
    let m = named(lockwatch::sync::Mutex::new(()), "wd-hold");
    let (guard, site) = at!(m.lock().unwrap());
    let report = wait_for(ReportKind::LongHold, &["wd-hold"]).expect("a LongHold report");
    // Still holding: the report came while the hold goes on.
    let text = report.to_string();
    assert!(text.contains(&site), "{text}");
    assert!(text.contains(&format!("thread `{}`", thread::current().name().unwrap())));
    assert_eq!(report.outcome(), None);
    drop(guard);
    let finished = reports_about(&["wd-hold"])
        .into_iter()
        .find(|r| r.kind() == ReportKind::LongHold)
        .unwrap();
    let outcome = finished
        .outcome()
        .expect("the release adds the final duration");
    assert!(outcome.starts_with("released after "), "{outcome}");
    assert_eq!(reports_about(&["wd-hold"]).len(), 1, "one report per hold");
}

#[test]
fn a_long_hold_keeps_its_report_when_a_lock_below_it_is_released_first() {
    low_thresholds();
    let below = named(lockwatch::sync::Mutex::new(()), "wd-shift-below");
    let above = named(lockwatch::sync::Mutex::new(()), "wd-shift-above");
    // The report on `above` itself (the one on `below` lists `above` too).
    let about_above = || {
        reports_about(&["wd-shift-above"])
            .into_iter()
            .find(|r| r.kind() == ReportKind::LongHold && r.summary().contains("wd-shift-above"))
    };
    let guard_below = below.lock().unwrap();
    let guard_above = above.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while about_above().is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        about_above().is_some(),
        "a LongHold report on wd-shift-above"
    );
    // Out of order: the held stack closes the gap, moving `above` down a row.
    drop(guard_below);
    drop(guard_above);
    let finished = about_above().unwrap();
    let outcome = finished
        .outcome()
        .expect("the release adds the final duration after the move");
    assert!(outcome.starts_with("released after "), "{outcome}");
}

#[test]
fn a_condvar_wait_is_not_a_hold_but_another_lock_held_across_it_is() {
    low_thresholds();
    let m = named(lockwatch::sync::Mutex::new(()), "wd-cv-mutex");
    let other = named(lockwatch::sync::Mutex::new(()), "wd-cv-other");
    let cv = lockwatch::sync::Condvar::new();
    let held_other = other.lock().unwrap();
    let g = m.lock().unwrap();
    let (g, _) = cv.wait_timeout(g, Duration::from_millis(400)).unwrap();
    drop(g);
    assert!(wait_for(ReportKind::LongHold, &["wd-cv-other"]).is_some());
    drop(held_other);
    // The condvar's mutex is named (the holder is parked waiting on it, released), but is
    // neither a long hold nor a long wait.
    let about_mutex: Vec<_> = reports_about(&["wd-cv-mutex"])
        .into_iter()
        .filter(|r| match r.finding() {
            lockwatch::report::Finding::LongHold { hold, .. } => {
                hold.lock.name == Some("wd-cv-mutex")
            }
            lockwatch::report::Finding::LongWait { waits_for, .. } => {
                waits_for.lock.name == Some("wd-cv-mutex")
            }
            _ => true,
        })
        .collect();
    assert!(about_mutex.is_empty(), "{about_mutex:#?}");
}

#[test]
fn a_long_wait_names_the_holder() {
    low_thresholds();
    let m = Arc::new(named(lockwatch::parking_lot::Mutex::new(()), "wd-wait"));
    let held = Arc::clone(&m);
    let ready = Arc::new(Barrier::new(2));
    let ready2 = Arc::clone(&ready);
    let holder = thread::Builder::new()
        .name("wd-holder".into())
        .spawn(move || {
            let (_g, site) = at!(held.lock());
            ready2.wait();
            thread::sleep(Duration::from_millis(400));
            site
        })
        .unwrap();
    ready.wait();
    let (_g, _) = at!(m.lock()); // blocks ~400 ms
    let holder_site = holder.join().unwrap();
    let report = wait_for(ReportKind::LongWait, &["wd-wait"]).expect("a LongWait report");
    let text = report.to_string();
    assert!(text.contains("thread `wd-holder`"), "{text}");
    assert!(text.contains(&holder_site), "{text}");
}

#[test]
fn short_holds_under_churn_stay_quiet() {
    low_thresholds();
    let m = Arc::new(named(lockwatch::parking_lot::Mutex::new(0u64), "wd-churn"));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                for _ in 0..20_000 {
                    *m.lock() += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(*m.lock(), 80_000);
    thread::sleep(Duration::from_millis(150));
    assert!(reports_about(&["wd-churn"]).is_empty());
}

/// Spawns a named thread that takes `first`, waits for the others, then takes `second`.
fn deadlocker<F: FnOnce() + Send + 'static>(name: &str, work: F) {
    thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .unwrap();
}

#[test]
fn a_two_thread_mutex_deadlock_is_reported_with_threads_and_sites() {
    let a = Arc::new(named(lockwatch::sync::Mutex::new(()), "dl2-a"));
    let b = Arc::new(named(lockwatch::sync::Mutex::new(()), "dl2-b"));
    let both = Arc::new(Barrier::new(2));
    let (a1, b1, both1) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both));
    deadlocker("dl2-t1", move || {
        let _a = a1.lock().unwrap();
        both1.wait();
        let _b = b1.lock().unwrap(); // blocks forever: the thread is leaked
    });
    let (a2, b2, both2) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both));
    deadlocker("dl2-t2", move || {
        let _b = b2.lock().unwrap();
        both2.wait();
        let _a = a2.lock().unwrap();
    });
    let report = wait_for(ReportKind::Deadlock, &["dl2-a", "dl2-b"]).expect("a Deadlock report");
    let text = report.to_string();
    for needle in [
        "thread `dl2-t1` waits for",
        "thread `dl2-t2` waits for",
        "holding Mutex `dl2-a`",
        "holding Mutex `dl2-b`",
        "tests/watchdog.rs:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // The process goes on; the deadlock is reported once.
    thread::sleep(Duration::from_millis(100));
    assert_eq!(
        reports_about(&["dl2-a", "dl2-b"])
            .iter()
            .filter(|r| r.kind() == ReportKind::Deadlock)
            .count(),
        1
    );
}

#[test]
fn a_three_thread_rwlock_deadlock_is_reported() {
    use lockwatch::parking_lot::RwLock;
    let locks: Arc<Vec<RwLock<()>>> =
        Arc::new((0..3).map(|_| named(RwLock::new(()), "dl3")).collect());
    let all = Arc::new(Barrier::new(3));
    for i in 0..3 {
        let (locks, all) = (Arc::clone(&locks), Arc::clone(&all));
        deadlocker(&format!("dl3-t{i}"), move || {
            // Thread i reads lock i, then wants to write lock i+1, held for reading by its
            // neighbour: a writer waits for readers, in a ring.
            let _r = locks[i].read();
            all.wait();
            let _w = locks[(i + 1) % 3].write();
        });
    }
    let report = wait_for(ReportKind::Deadlock, &["dl3"]).expect("a Deadlock report");
    let text = report.to_string();
    for i in 0..3 {
        assert!(
            text.contains(&format!(
                "thread `dl3-t{i}` waits for RwLock `dl3` in write()"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains("holding RwLock `dl3`, taken with read()"),
        "{text}"
    );
}

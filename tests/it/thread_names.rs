//! Threads a user can tell apart in reports: unnamed ones by their OS thread id, and threads
//! that share a name (a pool's workers) by that id too.
#![cfg(feature = "enabled")]

use std::sync::{Arc, Barrier};
use std::thread;

use lockwatch::parking_lot::Mutex;
use lockwatch::report::Finding;
use lockwatch::{named, Report};

fn inversion_steps(reports: &[Report]) -> Vec<String> {
    let Some(Finding::LockOrder { cycle, .. }) = reports.first().map(Report::finding) else {
        panic!("{reports:#?}");
    };
    cycle.iter().map(|s| s.thread.clone()).collect()
}

#[test]
fn workers_sharing_a_name_are_told_apart() {
    let a = Arc::new(named(Mutex::new(()), "names-shared-a"));
    let b = Arc::new(named(Mutex::new(()), "names-shared-b"));
    let first_done = Arc::new(Barrier::new(2));
    let second_done = Arc::new(Barrier::new(2));
    let ((), reports) = lockwatch::capture(|| {
        let capture = lockwatch::Capture::current().unwrap();
        let spawn = |first: bool| {
            let (a, b, c) = (Arc::clone(&a), Arc::clone(&b), capture.clone());
            let (f, s) = (Arc::clone(&first_done), Arc::clone(&second_done));
            thread::Builder::new()
                .name("names-worker".into())
                .spawn(move || {
                    c.in_scope(|| {
                        if first {
                            drop((a.lock(), b.lock()));
                            f.wait(); // stays alive (and named) while the other runs
                            s.wait();
                        } else {
                            f.wait();
                            drop((b.lock(), a.lock()));
                            s.wait();
                        }
                    })
                })
                .unwrap()
        };
        let (one, two) = (spawn(true), spawn(false));
        one.join().unwrap();
        two.join().unwrap();
    });
    let threads = inversion_steps(&reports);
    assert_eq!(threads.len(), 2);
    assert_ne!(threads[0], threads[1], "told apart: {threads:?}");
    assert!(
        threads.iter().all(|t| t.starts_with("names-worker")),
        "{threads:?}"
    );
    #[cfg(target_os = "linux")]
    assert!(threads.iter().any(|t| t.contains("(tid ")), "{threads:?}");
}

#[test]
#[cfg(target_os = "linux")]
fn an_unnamed_thread_shows_its_os_thread_id() {
    let a = Arc::new(named(Mutex::new(()), "names-unnamed-a"));
    let b = Arc::new(named(Mutex::new(()), "names-unnamed-b"));
    drop((a.lock(), b.lock()));
    let ((), reports) = lockwatch::capture(|| {
        let c = lockwatch::Capture::current().unwrap();
        let (a, b) = (Arc::clone(&a), Arc::clone(&b));
        thread::spawn(move || c.in_scope(|| drop((b.lock(), a.lock()))))
            .join()
            .unwrap();
    });
    assert!(
        reports[0].thread().starts_with("unnamed thread (tid "),
        "{}",
        reports[0].thread()
    );
}

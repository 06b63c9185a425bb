//! A lost wake-up: the notifier sets the flag and notifies before the waiter waits (without
//! the mutex), then exits. The waiter is parked for good and no thread is left that could
//! wake it: every thread with tracking state is blocked, which is reported while it hangs. Its
//! own binary: the rule looks at every thread of the process.
#![cfg(feature = "enabled")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

mod common;

use common::wait_for_report;
use lockwatch::report::Finding;
use lockwatch::sync::{Condvar, Mutex};
use lockwatch::{named, ReportKind};

#[test]
fn a_lost_wake_up_is_reported_while_it_hangs() {
    lockwatch::watchdog::set_long_wait(Duration::from_millis(100));
    let latch = Arc::new((named(Mutex::new(()), "lost-latch"), Condvar::new()));
    let flag = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(Barrier::new(2));
    let notified = Arc::new(Barrier::new(2));
    {
        let (latch, flag, checked, notified) = (
            Arc::clone(&latch),
            Arc::clone(&flag),
            Arc::clone(&checked),
            Arc::clone(&notified),
        );
        thread::Builder::new()
            .name("lost-waiter".into())
            .spawn(move || {
                let guard = latch.0.lock().unwrap();
                let ready = flag.load(Ordering::SeqCst); // false: not yet
                checked.wait();
                notified.wait(); // the notify has come and gone
                if !ready {
                    let _guard = latch.1.wait(guard).unwrap(); // forever
                }
            })
            .unwrap();
    }
    thread::Builder::new()
        .name("lost-notifier".into())
        .spawn(move || {
            checked.wait();
            flag.store(true, Ordering::SeqCst);
            latch.1.notify_all(); // without the mutex: nobody is waiting yet
            notified.wait();
        })
        .unwrap()
        .join()
        .unwrap();
    let report = wait_for_report(ReportKind::Deadlock, &[]);
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report:?}")
    };
    assert_eq!(threads.len(), 1, "{report}");
    assert_eq!(threads[0].thread, "lost-waiter");
    let notifiers = threads[0].condvar_notifiers.as_ref().unwrap();
    assert_eq!(notifiers[0].thread, "lost-notifier");
    assert!(notifiers[0].exited, "{report}");
    let text = report.to_string();
    assert!(text.contains("exited since"), "{text}");
    assert!(text.contains("is parked in Condvar::wait"), "{text}");
    assert!(text.contains("(a lost wake-up)"), "{text}");
}

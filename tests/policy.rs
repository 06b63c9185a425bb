//! Report delivery: the callback policy, callbacks that take tracked locks, panicking
//! callbacks, and Report's accessors. One binary: the policy is global.
#![cfg(feature = "enabled")]

mod common;

use common::reports_about;
use lockwatch::sync::Mutex;
use lockwatch::{named, Policy, ReportKind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static JOURNAL: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[test]
fn callbacks_see_reports_take_tracked_locks_and_survive_panics() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    lockwatch::set_policy(Policy::callback(move |report| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        // A callback may take tracked locks, even while the reporting thread holds some.
        JOURNAL.lock().unwrap().push(report.summary().to_owned());
        if n == 1 {
            panic!("a callback that panics");
        }
    }));

    let a = named(Mutex::new(()), "cb-a");
    let b = named(Mutex::new(()), "cb-b");
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap(); // first report
    }
    let c = named(Mutex::new(()), "cb-c");
    let d = named(Mutex::new(()), "cb-d");
    {
        let _c = c.lock().unwrap();
        let _d = d.lock().unwrap();
    }
    {
        let _d = d.lock().unwrap();
        let _c = c.lock().unwrap(); // second report: the callback panics, caught
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let journal = JOURNAL.lock().unwrap();
    assert_eq!(journal.len(), 2);
    assert!(journal[0].contains("cb-"), "{}", journal[0]);
    drop(journal);

    let report = &reports_about(&["cb-a", "cb-b"])[0];
    assert_eq!(report.kind(), ReportKind::LockOrder);
    assert_eq!(
        report.thread(),
        "callbacks_see_reports_take_tracked_locks_and_survive_panics"
    );
    assert!(format!("{report:?}").contains("LockOrder"));
    assert!(!report.summary().contains('\n'));
    // The locks still work after the panicking callback.
    drop(c.lock().unwrap());
    lockwatch::set_policy(Policy::Log);
}

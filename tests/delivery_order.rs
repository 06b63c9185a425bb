//! A report is logged before it is kept: a program that finds a report in
//! `lockwatch::reports()` and then exits has its log line out. (The deadlock example did
//! exactly that, and once exited before the watchdog's line was written.) Likewise a report's
//! outcome, once its follow-up line is out. Its own binary: it sets the global subscriber and
//! the long-hold threshold.
#![cfg(feature = "enabled")]

mod common;

use std::io::Write;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use common::wait_for_report;
use lockwatch::sync::Mutex;
use lockwatch::{named, ReportKind};

/// Every log line that names a needle: the needle, how many kept reports named it while the
/// line was being written, and how many of those had an outcome.
static SEEN: StdMutex<Vec<(String, usize, usize)>> = StdMutex::new(Vec::new());

/// A log writer that, on each line, counts the kept reports naming the same lock.
struct Checking(Vec<u8>);

impl Write for Checking {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Checking {
    fn drop(&mut self) {
        let line = String::from_utf8_lossy(&self.0).into_owned();
        for needle in ["logged-first-a", "logged-first-held"] {
            if line.contains(needle) {
                let kept: Vec<_> = lockwatch::reports()
                    .into_iter()
                    .filter(|r| r.to_string().contains(needle))
                    .collect();
                let finished = kept.iter().filter(|r| r.outcome().is_some()).count();
                SEEN.lock()
                    .unwrap()
                    .push((needle.to_owned(), kept.len(), finished));
            }
        }
    }
}

/// For each line naming `needle`: (kept reports naming it, how many of them had an outcome).
fn logged(needle: &str) -> Vec<(usize, usize)> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(n, _, _)| n == needle)
        .map(|&(_, kept, finished)| (kept, finished))
        .collect()
}

#[test]
fn reports_are_logged_before_they_are_kept() {
    tracing_subscriber::fmt()
        .with_writer(|| Checking(Vec::new()))
        .with_ansi(false)
        .init();

    // Raised on this thread: an inversion.
    let a = named(Mutex::new(()), "logged-first-a");
    let b = named(Mutex::new(()), "logged-first-b");
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    wait_for_report(ReportKind::LockOrder, &["logged-first-a"]);
    assert_eq!(
        logged("logged-first-a"),
        [(0, 0)],
        "the line was written after the report was kept"
    );

    // Raised on the watchdog's thread: a long hold.
    lockwatch::watchdog::set_long_hold(Duration::from_millis(20));
    let held = named(Mutex::new(()), "logged-first-held");
    let report = {
        let _held = held.lock().unwrap();
        wait_for_report(ReportKind::LongHold, &["logged-first-held"])
    };
    // Its release (on this thread) says how long it lasted: the follow-up line, then the
    // outcome.
    assert!(report.outcome().is_some(), "{report}");
    let lines = logged("logged-first-held");
    assert_eq!(lines.len(), 2, "the report and its follow-up: {lines:?}");
    assert_eq!(
        lines[0],
        (0, 0),
        "the line was written after the report was kept"
    );
    assert_eq!(
        lines[1],
        (1, 0),
        "the follow-up line was written after the outcome was recorded"
    );
}

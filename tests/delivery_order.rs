//! A report is logged before it is kept: a program that finds a report in
//! `lockwatch::reports()` and then exits has its log line out. (The deadlock example did
//! exactly that, and once exited before the watchdog's line was written.) Its own binary: it
//! sets the global subscriber and the long-hold threshold.
#![cfg(feature = "enabled")]

mod common;

use std::io::Write;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

use common::wait_for_report;
use lockwatch::sync::Mutex;
use lockwatch::{named, ReportKind};

/// Every log line that names `needle`, with how many kept reports named it while the line
/// was being written.
static SEEN: StdMutex<Vec<(String, usize)>> = StdMutex::new(Vec::new());

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
                let kept = lockwatch::reports()
                    .iter()
                    .filter(|r| r.to_string().contains(needle))
                    .count();
                SEEN.lock().unwrap().push((needle.to_owned(), kept));
            }
        }
    }
}

fn logged(needle: &str) -> Vec<usize> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == needle)
        .map(|(_, kept)| *kept)
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
        [0],
        "the line was written after the report was kept"
    );

    // Raised on the watchdog's thread: a long hold.
    lockwatch::watchdog::set_long_hold(Duration::from_millis(20));
    let held = named(Mutex::new(()), "logged-first-held");
    {
        let _held = held.lock().unwrap();
        wait_for_report(ReportKind::LongHold, &["logged-first-held"]);
    }
    let lines = logged("logged-first-held");
    assert!(!lines.is_empty(), "the long hold was never logged");
    assert_eq!(
        lines[0], 0,
        "the line was written after the report was kept"
    );
}

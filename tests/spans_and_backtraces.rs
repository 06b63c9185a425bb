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

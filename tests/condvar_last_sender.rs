//! TiKV's last clone dropped without `notify_all`, as a small program: a channel whose
//! receiver waits while the queue is empty and senders remain; the last sender's `Drop`
//! lowers the count but forgets to wake the receiver. The sender notified for every message
//! before, so lockwatch knows who wakes the receiver; once it has exited, the receiver waits
//! for a notify no thread is left to send, and that is reported while it hangs. Its own
//! binary: the receiver stays stuck.
#![cfg(feature = "enabled")]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

mod common;

use common::wait_for_report;
use lockwatch::report::Finding;
use lockwatch::sync::{Condvar, Mutex};
use lockwatch::{named, ReportKind};

struct Shared {
    queue: Mutex<VecDeque<u32>>,
    ready: Condvar,
    senders: AtomicUsize,
}

struct Sender(Arc<Shared>);

impl Sender {
    fn send(&self, v: u32) {
        self.0.queue.lock().unwrap().push_back(v);
        self.0.ready.notify_one();
    }
}

impl Clone for Sender {
    fn clone(&self) -> Sender {
        self.0.senders.fetch_add(1, Ordering::SeqCst);
        Sender(Arc::clone(&self.0))
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // The bug: the last sender leaves without `self.0.ready.notify_all()`.
        self.0.senders.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The next message, or `None` once every sender is gone.
fn recv(shared: &Shared) -> Option<u32> {
    let mut queue = shared.queue.lock().unwrap();
    loop {
        if let Some(v) = queue.pop_front() {
            return Some(v);
        }
        if shared.senders.load(Ordering::SeqCst) == 0 {
            return None;
        }
        queue = shared.ready.wait(queue).unwrap();
    }
}

#[test]
fn the_last_sender_leaving_without_notify_all_is_reported_while_the_receiver_hangs() {
    lockwatch::watchdog::set_long_wait(Duration::from_millis(100));
    let shared = Arc::new(Shared {
        queue: named(Mutex::new(VecDeque::new()), "channel-queue"),
        ready: Condvar::new(),
        senders: AtomicUsize::new(1),
    });
    let sender = Sender(Arc::clone(&shared));
    let receiver = thread::Builder::new()
        .name("receiver".into())
        .spawn(move || {
            let mut got = 0;
            while recv(&shared).is_some() {
                got += 1;
            }
            got
        })
        .unwrap();
    thread::Builder::new()
        .name("sender".into())
        .spawn(move || {
            for v in 0..3 {
                sender.send(v);
                thread::sleep(Duration::from_millis(20)); // the receiver waits in between
            }
            let second = sender.clone();
            drop(sender);
            drop(second); // the last clone: the receiver is never woken
        })
        .unwrap()
        .join()
        .unwrap();
    let report = wait_for_report(ReportKind::Deadlock, &["channel-queue"]);
    assert!(!receiver.is_finished(), "the receiver returned");
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report:?}")
    };
    assert_eq!(threads.len(), 1, "{report}");
    assert_eq!(threads[0].thread, "receiver");
    let notifiers = threads[0]
        .condvar_notifiers
        .as_ref()
        .expect("a condvar wait");
    assert_eq!(notifiers.len(), 1, "{report}");
    assert_eq!(notifiers[0].thread, "sender");
    assert!(notifiers[0].exited, "{report}");
    let text = report.to_string();
    assert!(text.contains("`channel-queue`"), "{text}");
    assert!(
        text.contains("`notify_all` when the last handle drops"),
        "{text}"
    );
}

//! The ledger's own tests, with lockwatch on. They run in parallel threads of one process
//! (plain `cargo test`): each checks only the reports that belong to it.

use std::sync::Arc;
use std::thread;

use ledger::{transfer, transfer_ordered, Account};
use lockwatch::ReportKind;

#[test]
fn ordered_transfers_are_clean() {
    let (alice, bob) = (Arc::new(Account::new(1, 100)), Arc::new(Account::new(2, 100)));
    let capture = lockwatch::Capture::current();
    lockwatch::assert_clean(|| {
        let capture = lockwatch::Capture::current().unwrap();
        let tellers: Vec<_> = (0..4)
            .map(|t| {
                let (alice, bob, capture) = (Arc::clone(&alice), Arc::clone(&bob), capture.clone());
                thread::spawn(move || {
                    capture.in_scope(|| {
                        for _ in 0..1_000 {
                            if t % 2 == 0 {
                                transfer_ordered(&alice, &bob, 1);
                            } else {
                                transfer_ordered(&bob, &alice, 1);
                            }
                        }
                    })
                })
            })
            .collect();
        for t in tellers {
            t.join().unwrap();
        }
    });
    assert!(capture.is_none(), "a test is not inside a capture of its own");
    assert_eq!(alice.balance() + bob.balance(), 200);
}

#[test]
fn paying_each_other_is_caught_even_though_nothing_hung() {
    let (alice, bob) = (Account::new(1, 100), Account::new(2, 100));
    let ((), reports) = lockwatch::capture(|| {
        transfer(&alice, &bob, 10); // alice, then bob
        transfer(&bob, &alice, 10); // bob, then alice: the inversion
    });
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].kind(), ReportKind::LockOrder);
    let text = reports[0].to_string();
    assert!(text.contains("src/lib.rs:"), "the report names the ledger's lines:\n{text}");
}

/// How a project's test fails on the bug: the panic message is the whole report.
#[test]
#[should_panic(expected = "lock order inversion")]
fn assert_clean_fails_on_the_inversion() {
    let (carol, dave) = (Account::new(3, 100), Account::new(4, 100));
    lockwatch::assert_clean(|| {
        transfer(&carol, &dave, 5);
        transfer(&dave, &carol, 5);
    });
}

/// Two tellers really deadlock. Run alone, with `LOCKWATCH_ON_DEADLOCK=abort`, the watchdog
/// prints the deadlock report and aborts the test process within a second or so, so CI fails
/// with the report instead of hanging until its timeout (lockwatch's test command does this).
#[test]
#[ignore = "deadlocks on purpose: run with LOCKWATCH_ON_DEADLOCK=abort -- --ignored"]
fn tellers_deadlock_for_real() {
    let alice = Arc::new(Account::new(1, 100));
    let bob = Arc::new(Account::new(2, 100));
    let both_started = Arc::new(std::sync::Barrier::new(2));
    let teller = |from: Arc<Account>, to: Arc<Account>, start: Arc<std::sync::Barrier>| {
        thread::spawn(move || {
            start.wait();
            loop {
                transfer(&from, &to, 1);
            }
        })
    };
    let a = teller(Arc::clone(&alice), Arc::clone(&bob), Arc::clone(&both_started));
    let b = teller(bob, alice, both_started);
    a.join().unwrap();
    b.join().unwrap();
}

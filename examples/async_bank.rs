//! The bank, served by tokio tasks: lockwatch follows each task's locks across `.await` and
//! across worker threads.
//!
//! ```text
//! cargo run --example async_bank --features enabled,tokio
//! ```
//!
//! `transfer` locks the source account, awaits a fraud check (a network call), then locks the
//! destination. One task pays Bob from Alice's account, another pays Alice from Bob's: at the
//! same moment each would hold one account and await the other forever. Here they run one
//! after the other, so nothing hangs, yet lockwatch reports the inversion between the two
//! tasks, with both `transfer` sites. The fixed transfer locks accounts in id order, and 32
//! tasks run it at once on 4 workers, quietly.
//!
//! Then the nightly audit holds the ledger lock across a slow `.await` (an upload): the
//! watchdog reports the long hold while it is going on, naming the task and the site, and the
//! fix for async code. Last, the same audit done right: copy, drop the guard, then upload.

use std::sync::Arc;
use std::time::Duration;

use lockwatch::tokio::Mutex;

struct Account {
    id: u32,
    owner: &'static str,
    balance: Mutex<i64>,
}

fn open(id: u32, owner: &'static str, balance: i64) -> Account {
    Account {
        id,
        owner,
        // All accounts are one lock class, "account": lockwatch orders them per instance.
        balance: lockwatch::named(Mutex::new(balance), "account"),
    }
}

/// A call to the fraud service: the task is suspended, maybe resumed on another worker.
async fn fraud_check(amount: i64) -> bool {
    tokio::time::sleep(Duration::from_millis(5)).await;
    amount < 1_000
}

/// Locks `from`, then `to`: the order depends on the caller.
async fn transfer(from: &Account, to: &Account, amount: i64) {
    let mut source = from.balance.lock().await;
    if !fraud_check(amount).await {
        return;
    }
    let mut destination = to.balance.lock().await;
    *source -= amount;
    *destination += amount;
}

/// Locks the account with the lower id first, whichever way the money goes.
async fn transfer_ordered(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };
    let mut a = first.balance.lock().await;
    if !fraud_check(amount).await {
        return;
    }
    let mut b = second.balance.lock().await;
    let (source, destination) = if from.id < to.id {
        (&mut *a, &mut *b)
    } else {
        (&mut *b, &mut *a)
    };
    *source -= amount;
    *destination += amount;
}

async fn total(accounts: &[Account]) -> i64 {
    let mut sum = 0;
    for a in accounts {
        sum += *a.balance.lock().await;
    }
    sum
}

/// Uploads the ledger to "slow storage" without letting go of the lock: every task that
/// needs the ledger waits for the upload.
async fn audit(ledger: &Mutex<Vec<String>>) -> usize {
    let entries = ledger.lock().await;
    tokio::time::sleep(Duration::from_millis(400)).await; // the upload, under the lock
    entries.len()
}

/// The audit done right: copy under the lock, upload after dropping it.
async fn audit_copy(ledger: &Mutex<Vec<String>>) -> usize {
    let entries = ledger.lock().await.clone();
    tokio::time::sleep(Duration::from_millis(400)).await;
    entries.len()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    // Colours only on a terminal: a redirected log stays plain text.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Low thresholds so that the demo is quick (defaults: 1 s, or LOCKWATCH_LONG_HOLD_MS).
    lockwatch::watchdog::set_long_hold(Duration::from_millis(250));
    if !cfg!(feature = "enabled") {
        println!("lockwatch is off: run with `--features enabled,tokio` to see its reports.\n");
    }

    println!("== 1. transfer() locks `from`, awaits a fraud check, locks `to`; two tasks ==");
    let before = lockwatch::reports().len();
    let bank = Arc::new([open(1, "alice", 500), open(2, "bob", 500)]);
    let b = Arc::clone(&bank);
    tokio::spawn(async move { transfer(&b[0], &b[1], 100).await })
        .await
        .unwrap();
    let b = Arc::clone(&bank);
    tokio::spawn(async move { transfer(&b[1], &b[0], 40).await })
        .await
        .unwrap();
    println!(
        "{} pays {}, then {} pays {}: no hang this run, {} report(s); total {}\n",
        bank[0].owner,
        bank[1].owner,
        bank[1].owner,
        bank[0].owner,
        lockwatch::reports().len() - before,
        total(&*bank).await
    );

    println!("== 2. transfer_ordered() locks by account id; 32 tasks at once on 4 workers ==");
    let before = lockwatch::reports().len();
    let bank = Arc::new([
        open(1, "alice", 500),
        open(2, "bob", 500),
        open(3, "carol", 500),
    ]);
    let tasks: Vec<_> = (0..32usize)
        .map(|t| {
            let bank = Arc::clone(&bank);
            tokio::spawn(async move {
                for i in 0..10usize {
                    let from = &bank[(i + t) % 3];
                    let to = &bank[(i + t + 1 + t % 2) % 3];
                    transfer_ordered(from, to, 1).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "320 transfers, {} new report(s); total {}\n",
        lockwatch::reports().len() - before,
        total(&*bank).await
    );

    println!("== 3. the audit holds the ledger across a slow upload ==");
    let ledger = Arc::new(lockwatch::named(
        Mutex::new(vec!["opening balance".to_owned(); 3]),
        "ledger",
    ));
    let before = lockwatch::reports().len();
    let l = Arc::clone(&ledger);
    let entries = tokio::spawn(async move { audit(&l).await }).await.unwrap();
    // Give the watchdog's "long hold over" line a moment to follow the release.
    tokio::time::sleep(Duration::from_millis(50)).await;
    println!(
        "audited {entries} entries, {} new report(s)\n",
        lockwatch::reports().len() - before
    );

    println!("== 4. the audit copies the ledger and uploads without the lock ==");
    let before = lockwatch::reports().len();
    let l = Arc::clone(&ledger);
    let entries = tokio::spawn(async move { audit_copy(&l).await })
        .await
        .unwrap();
    println!(
        "audited {entries} entries, {} new report(s)",
        lockwatch::reports().len() - before
    );
}

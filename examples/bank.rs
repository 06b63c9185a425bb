//! The bank: two tellers move money between accounts, and lockwatch finds the deadlock that
//! did not happen (this time).
//!
//! ```text
//! cargo run --example bank --features enabled
//! ```
//!
//! First the deposit counter, an atomic updated with a load then a store: two tellers at once
//! lose deposits, and lockwatch reports the lost update with both sites. `fetch_add` fixes it.
//!
//! `transfer` locks the source account, then the destination. Teller 1 pays Bob from Alice's
//! account while teller 2 pays Alice from Bob's: run at the same moment, each holds one account
//! and waits for the other forever. Here they run one after the other, so the program never
//! hangs, yet lockwatch reports the inversion with both `transfer` sites. The fixed transfer
//! locks accounts in id order, and runs quietly with the tellers truly concurrent.
//!
//! Then the nightly audit writes the ledger to slow storage while holding the ledger lock:
//! the watchdog reports the long hold while it is going on, and its final duration after.
//!
//! Last, the branch office: four tellers post to one journal and format receipts while holding
//! it. The contention profile shows where they waited (`post_entry`, the journal's `lock()`)
//! and who made them wait (`post_entry` again: its guard lives to the end of the function, so
//! `format_receipt` runs under the lock); the flame graphs go to `target/lockwatch/`.

use std::thread;
use std::time::Duration;

use lockwatch::sync::atomic::{AtomicU64, Ordering};
use lockwatch::sync::{Arc, Mutex};

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

/// Locks `from`, then `to`: the order depends on the caller.
fn transfer(from: &Account, to: &Account, amount: i64) {
    let mut source = from.balance.lock().unwrap();
    let mut destination = to.balance.lock().unwrap();
    *source -= amount;
    *destination += amount;
}

/// Locks the account with the lower id first, whichever way the money goes.
fn transfer_ordered(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };
    let mut a = first.balance.lock().unwrap();
    let mut b = second.balance.lock().unwrap();
    let (source, destination) = if from.id < to.id {
        (&mut *a, &mut *b)
    } else {
        (&mut *b, &mut *a)
    };
    *source -= amount;
    *destination += amount;
}

/// Counts a deposit with a load and a store: another teller's deposit in between is lost.
fn count_deposit_racy(deposits: &AtomicU64) {
    let seen = deposits.load(Ordering::Relaxed);
    deposits.store(seen + 1, Ordering::Relaxed);
}

/// Counts a deposit in one read-modify-write.
fn count_deposit(deposits: &AtomicU64) {
    deposits.fetch_add(1, Ordering::Relaxed);
}

fn count_deposits(count: fn(&AtomicU64)) -> u64 {
    let deposits = Arc::new(AtomicU64::new(0));
    let tellers: Vec<_> = (0..2)
        .map(|t| {
            let deposits = Arc::clone(&deposits);
            teller(&format!("teller-{}", t + 1), move || {
                for _ in 0..1_000_000 {
                    count(&deposits);
                }
            })
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
    deposits.load(Ordering::Relaxed)
}

fn teller(name: &str, work: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .expect("spawn teller")
}

fn total(accounts: &[Account]) -> i64 {
    accounts.iter().map(|a| *a.balance.lock().unwrap()).sum()
}

/// Copies the ledger to "slow storage" without letting go of the lock: every teller that
/// needs the ledger waits for the disk.
fn audit(ledger: &Mutex<Vec<String>>) -> usize {
    let entries = ledger.lock().unwrap();
    thread::sleep(Duration::from_millis(400)); // the slow write, under the lock
    entries.len()
}

/// Formats a receipt: slow, and (the bug) done while the journal is locked.
#[inline(never)]
fn format_receipt(journal: &mut Vec<String>, teller: usize, n: usize) {
    let receipt = format!("teller {teller} receipt {n}: {}", "=".repeat(64));
    thread::sleep(Duration::from_micros(200));
    journal.push(receipt);
}

/// Posts one entry to the shared journal.
#[inline(never)]
fn post_entry(journal: &Mutex<Vec<String>>, teller: usize, n: usize) {
    let mut entries = journal.lock().unwrap();
    format_receipt(&mut entries, teller, n);
}

fn main() {
    // Colours only on a terminal: a redirected log stays plain text.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Low thresholds so that the demo is quick (defaults: 1 s, or LOCKWATCH_LONG_HOLD_MS).
    lockwatch::watchdog::set_long_hold(Duration::from_millis(250));
    if !cfg!(feature = "enabled") {
        println!("lockwatch is off: run with `--features enabled` to see its reports.\n");
    }

    println!("== 1. two tellers count 2000000 deposits with load-then-store ==");
    let counted = count_deposits(count_deposit_racy);
    println!("counted {counted} of 2000000 deposits\n");
    let before = lockwatch::reports().len();
    let counted = count_deposits(count_deposit);
    println!(
        "with fetch_add: counted {counted} of 2000000, {} new report(s)\n",
        lockwatch::reports().len() - before
    );

    println!("== 2. transfer() locks `from` then `to`; the tellers pay each other ==");
    let before = lockwatch::reports().len();
    let bank = Arc::new([open(1, "alice", 500), open(2, "bob", 500)]);
    let b = Arc::clone(&bank);
    teller("teller-1", move || transfer(&b[0], &b[1], 100))
        .join()
        .unwrap();
    let b = Arc::clone(&bank);
    teller("teller-2", move || transfer(&b[1], &b[0], 40))
        .join()
        .unwrap();
    let found = lockwatch::reports().len() - before;
    println!(
        "{} pays {}, then {} pays {}: no hang this run, {found} report(s); total {}\n",
        bank[0].owner,
        bank[1].owner,
        bank[1].owner,
        bank[0].owner,
        total(&*bank)
    );

    println!("== 3. transfer_ordered() locks by account id; the tellers run at once ==");
    let before = lockwatch::reports().len();
    let bank = Arc::new([
        open(1, "alice", 500),
        open(2, "bob", 500),
        open(3, "carol", 500),
    ]);
    let tellers: Vec<_> = (0..4)
        .map(|t| {
            let bank = Arc::clone(&bank);
            teller(&format!("teller-{}", t + 1), move || {
                for i in 0..10_000usize {
                    let from = &bank[(i + t) % 3];
                    let to = &bank[(i + t + 1 + t % 2) % 3];
                    transfer_ordered(from, to, 1);
                }
            })
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
    let new_reports = lockwatch::reports().len() - before;
    println!(
        "40000 concurrent transfers: {new_reports} new report(s); total {} (money is conserved)\n",
        total(&*bank)
    );

    println!("== 4. the audit writes the ledger to disk while holding its lock ==");
    let ledger = lockwatch::named(Mutex::new(vec!["opening balance".to_string()]), "ledger");
    let audited = audit(&ledger);
    let hold = lockwatch::reports()
        .into_iter()
        .find(|r| r.kind() == lockwatch::ReportKind::LongHold);
    match hold.as_ref().and_then(|r| r.outcome()) {
        Some(outcome) => println!("{}: long hold reported, {outcome}\n", entries(audited)),
        None => println!("{}\n", entries(audited)),
    }

    println!("== 5. the branch office: four tellers post to one journal ==");
    lockwatch::contention::reset();
    let journal = Arc::new(lockwatch::named(Mutex::new(Vec::new()), "journal"));
    let tellers: Vec<_> = (0..4)
        .map(|t| {
            let journal = Arc::clone(&journal);
            teller(&format!("branch-teller-{}", t + 1), move || {
                for n in 0..150 {
                    post_entry(&journal, t + 1, n);
                }
            })
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
    let posted = journal.lock().unwrap().len();
    let dir = std::path::Path::new("target/lockwatch");
    let written = [
        (
            lockwatch::contention::View::Waiters,
            dir.join("bank-waiters.svg"),
        ),
        (
            lockwatch::contention::View::Blame,
            dir.join("bank-blame.svg"),
        ),
    ]
    .into_iter()
    .map(|(view, path)| lockwatch::contention::write_flamegraph_view(view, &path).map(|()| path))
    .collect::<Result<Vec<_>, _>>();
    let waited: u64 = lockwatch::contention::folded()
        .lines()
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum();
    println!(
        "{posted} entries posted; the tellers waited {:.1} ms in all for the journal",
        waited as f64 / 1e6
    );
    match written {
        Ok(paths) => {
            for p in paths {
                println!("flame graph: {}", p.display());
            }
        }
        Err(e) => println!("could not write the flame graphs: {e}"),
    }
}

fn entries(n: usize) -> String {
    format!("audited {n} {}", if n == 1 { "entry" } else { "entries" })
}

//! The bank: two tellers move money between accounts, and lockwatch finds the deadlock that
//! did not happen (this time).
//!
//! ```text
//! cargo run --example bank --features enabled
//! ```
//!
//! `transfer` locks the source account, then the destination. Teller 1 pays Bob from Alice's
//! account while teller 2 pays Alice from Bob's: run at the same moment, each holds one account
//! and waits for the other forever. Here they run one after the other, so the program never
//! hangs, yet lockwatch reports the inversion with both `transfer` sites. The fixed transfer
//! locks accounts in id order, and runs quietly with the tellers truly concurrent.

use std::thread;

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

fn teller(name: &str, work: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .expect("spawn teller")
}

fn total(accounts: &[Account]) -> i64 {
    accounts.iter().map(|a| *a.balance.lock().unwrap()).sum()
}

fn main() {
    tracing_subscriber::fmt().with_target(true).init();
    if !cfg!(feature = "enabled") {
        println!("lockwatch is off: run with `--features enabled` to see its reports.\n");
    }

    println!("== 1. transfer() locks `from` then `to`; the tellers pay each other ==");
    let bank = Arc::new([open(1, "alice", 500), open(2, "bob", 500)]);
    let b = Arc::clone(&bank);
    teller("teller-1", move || transfer(&b[0], &b[1], 100))
        .join()
        .unwrap();
    let b = Arc::clone(&bank);
    teller("teller-2", move || transfer(&b[1], &b[0], 40))
        .join()
        .unwrap();
    let found = lockwatch::reports().len();
    println!(
        "{} pays {}, then {} pays {}: no hang this run, {found} report(s); total {}\n",
        bank[0].owner,
        bank[1].owner,
        bank[1].owner,
        bank[0].owner,
        total(&*bank)
    );

    println!("== 2. transfer_ordered() locks by account id; the tellers run at once ==");
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
    let new_reports = lockwatch::reports().len() - found;
    println!(
        "40000 concurrent transfers: {new_reports} new report(s); total {} (money is conserved)",
        total(&*bank)
    );
}

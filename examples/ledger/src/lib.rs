//! A tiny ledger, the way an application writes it, with its lock imports swapped to
//! lockwatch. Its release build uses plain std locks; its tests turn tracking on.

use lockwatch::sync::Mutex;

/// An account: a balance behind its own lock.
pub struct Account {
    pub id: u32,
    balance: Mutex<i64>,
}

impl Account {
    pub fn new(id: u32, balance: i64) -> Self {
        Account {
            id,
            balance: Mutex::new(balance),
        }
    }

    pub fn balance(&self) -> i64 {
        *self.balance.lock().unwrap()
    }
}

/// Locks `from`, then `to`: two tellers paying each other at once deadlock.
pub fn transfer(from: &Account, to: &Account, amount: i64) {
    let mut from_balance = from.balance.lock().unwrap();
    let mut to_balance = to.balance.lock().unwrap();
    *from_balance -= amount;
    *to_balance += amount;
}

/// Locks the account with the smaller id first: one order everywhere, no deadlock.
pub fn transfer_ordered(from: &Account, to: &Account, amount: i64) {
    let (first, second) = if from.id < to.id { (from, to) } else { (to, from) };
    let mut first_balance = first.balance.lock().unwrap();
    let mut second_balance = second.balance.lock().unwrap();
    let (from_balance, to_balance) = if from.id < to.id {
        (&mut *first_balance, &mut *second_balance)
    } else {
        (&mut *second_balance, &mut *first_balance)
    };
    *from_balance -= amount;
    *to_balance += amount;
}

//! A hang no lock-order check sees: a worker waits on a condvar while still holding the
//! `stock` lock, and the only thread that notifies it needs `stock` first. The watchdog reports
//! it while it hangs, naming the waiter, the notifier and the notify site that can no longer
//! run.
//!
//! ```text
//! cargo run --example condvar_hang --features enabled
//! ```

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use lockwatch::sync::{Condvar, Mutex};

fn main() {
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if !cfg!(feature = "enabled") {
        println!("lockwatch is off: run with `--features enabled`.");
        return;
    }
    let stock = Arc::new(lockwatch::named(Mutex::new(10u32), "stock"));
    let order = Arc::new((lockwatch::named(Mutex::new(None), "order"), Condvar::new()));
    let round = Arc::new(Barrier::new(2));

    let (s, o, r) = (Arc::clone(&stock), Arc::clone(&order), Arc::clone(&round));
    thread::Builder::new()
        .name("packer".into())
        .spawn(move || {
            for day in 0..2 {
                // Day two, the packer keeps `stock` locked while it waits for an order.
                let _counted = (day == 1).then(|| s.lock().unwrap());
                let mut next = o.0.lock().unwrap();
                r.wait();
                while next.is_none() {
                    next = o.1.wait(next).unwrap();
                }
                *next = None;
            }
        })
        .unwrap();
    let (s, o) = (Arc::clone(&stock), Arc::clone(&order));
    thread::Builder::new()
        .name("shop".into())
        .spawn(move || {
            for _ in 0..2 {
                round.wait();
                *s.lock().unwrap() -= 1; // day two: waits for the packer, forever
                *o.0.lock().unwrap() = Some(1);
                o.1.notify_one();
            }
        })
        .unwrap();

    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Some(r) = lockwatch::reports()
            .iter()
            .find(|r| r.kind() == lockwatch::ReportKind::Deadlock)
        {
            println!(
                "found {:?} after the hang began: {}",
                start.elapsed(),
                r.summary()
            );
            return; // the two threads stay stuck; the process exits
        }
        thread::sleep(Duration::from_millis(10));
    }
    println!("no deadlock report within 5 s");
    std::process::exit(1);
}

//! An actual deadlock, caught by the watchdog while the program keeps running.
//!
//! ```text
//! cargo run --example deadlock --features enabled
//! LOCKWATCH_ON_DEADLOCK=abort cargo run --example deadlock --features enabled  # CI style
//! ```

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use lockwatch::parking_lot::Mutex;

fn main() {
    // Colours only on a terminal: a redirected log stays plain text.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if !cfg!(feature = "enabled") {
        println!("lockwatch is off: run with `--features enabled`.");
        return;
    }
    let inventory = Arc::new(lockwatch::named(Mutex::new(0u32), "inventory"));
    let orders = Arc::new(lockwatch::named(Mutex::new(0u32), "orders"));
    let both_hold_one = Arc::new(Barrier::new(2));

    let (i, o, b) = (
        Arc::clone(&inventory),
        Arc::clone(&orders),
        Arc::clone(&both_hold_one),
    );
    thread::Builder::new()
        .name("restock".into())
        .spawn(move || {
            let mut stock = i.lock();
            b.wait();
            *o.lock() += 1; // waits for `shipping`, forever
            *stock += 1;
        })
        .unwrap();
    let (i, o, b) = (
        Arc::clone(&inventory),
        Arc::clone(&orders),
        Arc::clone(&both_hold_one),
    );
    thread::Builder::new()
        .name("shipping".into())
        .spawn(move || {
            let mut pending = o.lock();
            b.wait();
            *i.lock() -= 1; // waits for `restock`, forever
            *pending -= 1;
        })
        .unwrap();

    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Some(r) = lockwatch::reports()
            .iter()
            .find(|r| r.kind() == lockwatch::ReportKind::Deadlock)
        {
            println!(
                "the watchdog found it {:?} after the threads started: {}",
                start.elapsed(),
                r.summary()
            );
            return; // the two threads stay blocked; the process exits
        }
        thread::sleep(Duration::from_millis(10));
    }
    println!("no deadlock report within 5 s");
    std::process::exit(1);
}

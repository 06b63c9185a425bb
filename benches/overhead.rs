//! ns per operation, lockwatch against parking_lot and std in the same process.
//!
//! ```text
//! cargo bench --bench overhead --features enabled
//! ```
//!
//! Each figure is the median of several runs; implementations alternate run by run so that a
//! noisy neighbour hurts all of them alike.

use std::hint::black_box;
use std::time::Instant;

const RUNS: usize = 11;
const ITERS: u64 = 2_000_000;

fn median_ns(mut f: impl FnMut(u64)) -> f64 {
    let mut samples: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f(ITERS);
            start.elapsed().as_nanos() as f64 / ITERS as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[RUNS / 2]
}

struct Row {
    name: &'static str,
    base: f64,
    ours: f64,
}

fn main() {
    let mut rows = Vec::new();

    let pl = parking_lot::Mutex::new(0u64);
    let lw = lockwatch::parking_lot::Mutex::new(0u64);
    rows.push(Row {
        name: "uncontended lock+unlock (parking_lot)",
        base: median_ns(|n| (0..n).for_each(|_| *black_box(&pl).lock() += 1)),
        ours: median_ns(|n| (0..n).for_each(|_| *black_box(&lw).lock() += 1)),
    });

    let (pa, pb) = (parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64));
    let (la, lb) = (
        lockwatch::parking_lot::Mutex::new(0u64),
        lockwatch::parking_lot::Mutex::new(0u64),
    );
    rows.push(Row {
        name: "nested pair, known edge (parking_lot)",
        base: median_ns(|n| {
            (0..n).for_each(|_| {
                let _a = black_box(&pa).lock();
                *black_box(&pb).lock() += 1;
            })
        }),
        ours: median_ns(|n| {
            (0..n).for_each(|_| {
                let _a = black_box(&la).lock();
                *black_box(&lb).lock() += 1;
            })
        }),
    });

    let sm = std::sync::Mutex::new(0u64);
    let lsm = lockwatch::sync::Mutex::new(0u64);
    rows.push(Row {
        name: "uncontended lock+unlock (std)",
        base: median_ns(|n| (0..n).for_each(|_| *black_box(&sm).lock().unwrap() += 1)),
        ours: median_ns(|n| (0..n).for_each(|_| *black_box(&lsm).lock().unwrap() += 1)),
    });

    rows.push(Row {
        name: "create + new edge + drop (parking_lot)",
        base: median_ns(|n| {
            let outer = parking_lot::Mutex::new(());
            (0..n / 8).for_each(|_| {
                let m = parking_lot::Mutex::new(0u64);
                let _o = outer.lock();
                *black_box(&m).lock() += 1;
            })
        }),
        ours: median_ns(|n| {
            let outer = lockwatch::parking_lot::Mutex::new(());
            (0..n / 8).for_each(|_| {
                let m = lockwatch::parking_lot::Mutex::new(0u64);
                let _o = outer.lock();
                *black_box(&m).lock() += 1;
            })
        }),
    });

    println!(
        "lockwatch {} (tracking {}), median of {RUNS} runs x {ITERS} ops",
        env!("CARGO_PKG_VERSION"),
        if cfg!(feature = "enabled") {
            "on"
        } else {
            "off"
        }
    );
    println!(
        "{:<42} {:>10} {:>10} {:>7}",
        "operation", "base ns", "ours ns", "ratio"
    );
    for r in rows {
        println!(
            "{:<42} {:>10.2} {:>10.2} {:>6.2}x",
            r.name,
            r.base,
            r.ours,
            r.ours / r.base
        );
    }
}

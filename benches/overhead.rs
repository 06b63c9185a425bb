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

fn time_ns(f: &mut impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    f(ITERS);
    start.elapsed().as_nanos() as f64 / ITERS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Medians of `base` and `ours`, run alternately.
fn compare(mut base: impl FnMut(u64), mut ours: impl FnMut(u64)) -> (f64, f64) {
    let (mut b, mut o) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        b.push(time_ns(&mut base));
        o.push(time_ns(&mut ours));
    }
    (median(b), median(o))
}

struct Row {
    name: &'static str,
    base: f64,
    ours: f64,
}

impl Row {
    fn new(name: &'static str, (base, ours): (f64, f64)) -> Self {
        Row { name, base, ours }
    }
}

fn main() {
    let mut rows = Vec::new();

    let pl = parking_lot::Mutex::new(0u64);
    let lw = lockwatch::parking_lot::Mutex::new(0u64);
    let uncontended_pl = |n| (0..n).for_each(|_| *black_box(&pl).lock() += 1);
    let uncontended_lw = |n| (0..n).for_each(|_| *black_box(&lw).lock() += 1);
    rows.push(Row::new(
        "uncontended lock+unlock (parking_lot)",
        compare(uncontended_pl, uncontended_lw),
    ));

    let (pa, pb) = (parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64));
    let (la, lb) = (
        lockwatch::parking_lot::Mutex::new(0u64),
        lockwatch::parking_lot::Mutex::new(0u64),
    );
    rows.push(Row::new(
        "nested pair, known edge (parking_lot)",
        compare(
            |n| {
                (0..n).for_each(|_| {
                    let _a = black_box(&pa).lock();
                    *black_box(&pb).lock() += 1;
                })
            },
            |n| {
                (0..n).for_each(|_| {
                    let _a = black_box(&la).lock();
                    *black_box(&lb).lock() += 1;
                })
            },
        ),
    ));

    let sm = std::sync::Mutex::new(0u64);
    let lsm = lockwatch::sync::Mutex::new(0u64);
    rows.push(Row::new(
        "uncontended lock+unlock (std)",
        compare(
            |n| (0..n).for_each(|_| *black_box(&sm).lock().unwrap() += 1),
            |n| (0..n).for_each(|_| *black_box(&lsm).lock().unwrap() += 1),
        ),
    ));

    let outer_pl = parking_lot::Mutex::new(());
    let outer_lw = lockwatch::parking_lot::Mutex::new(());
    rows.push(Row::new(
        "create + lock under a held lock + drop",
        compare(
            |n| {
                (0..n).for_each(|_| {
                    let m = parking_lot::Mutex::new(0u64);
                    let _o = outer_pl.lock();
                    *black_box(&m).lock() += 1;
                })
            },
            |n| {
                (0..n).for_each(|_| {
                    let m = lockwatch::parking_lot::Mutex::new(0u64);
                    let _o = outer_lw.lock();
                    *black_box(&m).lock() += 1;
                })
            },
        ),
    ));

    // The same uncontended case with the watchdog switched off: what its clock and scans cost.
    lockwatch::watchdog::set_enabled(false);
    rows.push(Row::new(
        "uncontended lock+unlock, watchdog off",
        compare(uncontended_pl, uncontended_lw),
    ));

    println!(
        "lockwatch {} (tracking {}), median of {RUNS} alternating runs x {ITERS} ops",
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

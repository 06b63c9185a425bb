//! The hot path in a tight loop, for instruction counts: callgrind counts instructions, which
//! stay the same from run to run on a noisy machine where timings do not.
//!
//! ```text
//! cargo build --release --example hot_loop --features enabled
//! valgrind --tool=callgrind target/release/examples/hot_loop lockwatch single 100000
//! valgrind --tool=callgrind target/release/examples/hot_loop parking_lot pair 100000
//! ```
//!
//! `single` is one uncontended lock/unlock per iteration, `pair` a nested pair whose order is
//! known. The difference between a run with N iterations and one with 0, divided by N, is the
//! instructions per iteration.

use std::hint::black_box;

/// The loops, over any mutex type with a `lock()` whose guard unlocks on drop.
macro_rules! run {
    ($a:expr, $b:expr, $shape:expr, $n:expr) => {{
        let (a, b) = ($a, $b);
        // Warm up: the classes, the thread's state and the edge a -> b exist before counting
        // starts, as in a program that has been running a while.
        {
            let _outer = a.lock();
            drop(b.lock());
        }
        if $shape == "single" {
            for _ in 0..$n {
                drop(black_box(&a).lock());
            }
        } else {
            for _ in 0..$n {
                let _outer = black_box(&a).lock();
                drop(black_box(&b).lock());
            }
        }
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, shape) = (
        args.first().map_or("lockwatch", |s| s),
        args.get(1).map_or("single", |s| s),
    );
    let n: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    match which {
        "parking_lot" => run!(
            parking_lot::Mutex::new(0u64),
            parking_lot::Mutex::new(0u64),
            shape,
            n
        ),
        "lockwatch" => run!(
            lockwatch::named(lockwatch::parking_lot::Mutex::new(0u64), "outer"),
            lockwatch::named(lockwatch::parking_lot::Mutex::new(0u64), "inner"),
            shape,
            n
        ),
        other => eprintln!("unknown implementation `{other}`: parking_lot or lockwatch"),
    }
}

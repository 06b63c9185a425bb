//! The hot path in a tight loop, for instruction counts: callgrind counts instructions, which
//! stay the same from run to run on a noisy machine where timings do not.
//!
//! ```text
//! cargo bench --no-run --bench hot_loop --features enabled   # prints the binary's path
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> lockwatch single 100000
//! valgrind --tool=callgrind target/release/deps/hot_loop-<hash> parking_lot pair 100000
//! LOCKWATCH=off valgrind --tool=callgrind target/release/deps/hot_loop-<hash> lockwatch single 100000
//! ```
//!
//! The implementations are `parking_lot`, `lockwatch` (its parking_lot facade), `std` and
//! `lockwatch-std` (`lockwatch::sync`), and `parking_lot-try`: parking_lot's `try_lock` first,
//! its `lock` if that fails, as lockwatch's blocking acquisitions do (no tracking). `single` is one uncontended lock/unlock per
//! iteration, `pair` a nested pair whose order is known. The difference between a run with N
//! iterations and one with 0, divided by N, is the instructions per iteration. `contended`
//! runs two threads taking one lock N times each, pinned to two CPUs (see `common/pin.rs`):
//! time it, and count its context switches
//! (`/usr/bin/time -f "%e s %w switches" <binary> lockwatch contended 3000000`), which show
//! whether waiters spin or sleep. A fourth argument places the locks that many bytes into a
//! 64-byte cache line instead of on the stack (`<binary> lockwatch contended 1000000 48`):
//! where a lock sits decides whether the fields lockwatch reads before taking it share the
//! raw lock's line, which under contention moves from core to core (see `LockMeta`).
//!
//! With `--features enabled,tokio`, `tokio` and `lockwatch-tokio` count `lock().await` in a
//! task the same way (`single` or `pair`).
//!
//! `cargo bench --bench hot_loop --features enabled -- time` times the uncontended loop
//! instead, parking_lot and lockwatch alternating, and prints parking_lot's ns and
//! lockwatch's ratio for each of 40 rounds, in order: on a shared machine the ratio can sit
//! in one regime for minutes and then in another.

use std::hint::black_box;

#[allow(dead_code)] // Its `describe` is for the overhead table.
#[path = "common/pin.rs"]
mod pin;
#[path = "common/placed.rs"]
mod placed;

use placed::Placed;

/// The loops, over any mutex type: `|m| lock` takes `m` and returns a guard that unlocks on
/// drop.
macro_rules! run {
    ($a:expr, $b:expr, $shape:expr, $n:expr, $offset:expr, |$m:ident| $lock:expr) => {{
        let (a, b) = match $offset {
            Some(offset) => (
                Where::At(Placed::new($a, offset)),
                Where::At(Placed::new($b, offset)),
            ),
            None => (Where::Here($a), Where::Here($b)),
        };
        let (a, b) = (&*a, &*b);
        // Warm up: the classes, the thread's state and the edge a -> b exist before counting
        // starts, as in a program that has been running a while.
        {
            let _outer = {
                let $m = a;
                $lock
            };
            drop({
                let $m = b;
                $lock
            });
        }
        if $shape == "contended" {
            // Two threads on `a`, `$n` acquisitions each.
            std::thread::scope(|s| {
                for cpu in 0..2 {
                    s.spawn(move || {
                        pin::pin_to_nth(cpu, 2);
                        for _ in 0..$n {
                            drop({
                                let $m = black_box(a);
                                $lock
                            });
                        }
                    });
                }
            });
        } else if $shape == "single" {
            for _ in 0..$n {
                drop({
                    let $m = black_box(a);
                    $lock
                });
            }
        } else {
            for _ in 0..$n {
                let _outer = {
                    let $m = black_box(a);
                    $lock
                };
                drop({
                    let $m = black_box(b);
                    $lock
                });
            }
        }
    }};
}

/// A lock on the stack (`Here`), or at a chosen offset into a cache line (`At`).
enum Where<T> {
    Here(T),
    At(Placed<T>),
}

impl<T> std::ops::Deref for Where<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            Where::Here(value) => value,
            Where::At(value) => value,
        }
    }
}

/// 40 rounds of (parking_lot ns, lockwatch / parking_lot), each the median of 5 runs.
fn time_rounds() {
    use std::time::Instant;
    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    }
    const N: u32 = 500_000;
    let pl = parking_lot::Mutex::new(0u64);
    let lw = lockwatch::parking_lot::Mutex::new(0u64);
    let ns = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..N {
            f();
        }
        start.elapsed().as_nanos() as f64 / f64::from(N)
    };
    for _ in 0..40 {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            a.push(ns(&|| drop(black_box(&pl).lock())));
            b.push(ns(&|| drop(black_box(&lw).lock())));
        }
        let (a, b) = (median(a), median(b));
        print!("{a:.1}/{:.2}x ", b / a);
    }
    println!();
}

/// `tokio` and `lockwatch-tokio` (with the `tokio` feature): `lock().await` inside a task on
/// a current-thread runtime, `single` or `pair` as above (no `contended`).
#[cfg(feature = "tokio")]
fn tokio_loop(which: &str, shape: &str, n: u64) {
    use std::sync::Arc;
    macro_rules! in_task {
        ($a:expr, $b:expr) => {{
            let (a, b) = (Arc::new($a), Arc::new($b));
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let pair = shape == "pair";
            rt.block_on(rt.spawn(async move {
                // Warm up, as `run!` does: the task's state and the edge a -> b exist first.
                {
                    let _a = a.lock().await;
                    drop(b.lock().await);
                }
                for _ in 0..n {
                    let _outer = if pair {
                        Some(black_box(&*a).lock().await)
                    } else {
                        None
                    };
                    *black_box(&*b).lock().await += 1;
                }
            }))
            .unwrap();
        }};
    }
    match which {
        "tokio" => in_task!(tokio::sync::Mutex::new(0u64), tokio::sync::Mutex::new(0u64)),
        _ => in_task!(
            lockwatch::named(lockwatch::tokio::Mutex::new(0u64), "outer"),
            lockwatch::named(lockwatch::tokio::Mutex::new(0u64), "inner")
        ),
    }
}

fn main() {
    // `cargo bench` adds `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().is_some_and(|a| a == "time") {
        time_rounds();
        return;
    }
    let (which, shape) = (
        args.first().map_or("lockwatch", |s| s),
        args.get(1).map_or("single", |s| s),
    );
    let n: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let offset: Option<usize> = args.get(3).and_then(|a| a.parse().ok());
    match which {
        "parking_lot" => run!(
            parking_lot::Mutex::new(0u64),
            parking_lot::Mutex::new(0u64),
            shape,
            n,
            offset,
            |m| m.lock()
        ),
        "parking_lot-try" => run!(
            parking_lot::Mutex::new(0u64),
            parking_lot::Mutex::new(0u64),
            shape,
            n,
            offset,
            |m| m.try_lock().unwrap_or_else(|| m.lock())
        ),
        "lockwatch" => run!(
            lockwatch::named(lockwatch::parking_lot::Mutex::new(0u64), "outer"),
            lockwatch::named(lockwatch::parking_lot::Mutex::new(0u64), "inner"),
            shape,
            n,
            offset,
            |m| m.lock()
        ),
        "std" => run!(
            std::sync::Mutex::new(0u64),
            std::sync::Mutex::new(0u64),
            shape,
            n,
            offset,
            |m| m.lock().unwrap()
        ),
        "lockwatch-std" => run!(
            lockwatch::named(lockwatch::sync::Mutex::new(0u64), "outer"),
            lockwatch::named(lockwatch::sync::Mutex::new(0u64), "inner"),
            shape,
            n,
            offset,
            |m| m.lock().unwrap()
        ),
        #[cfg(feature = "tokio")]
        "tokio" | "lockwatch-tokio" => tokio_loop(which, shape, n),
        other => eprintln!(
            "unknown implementation `{other}`: parking_lot, parking_lot-try, lockwatch, std, \
             lockwatch-std, or with the tokio feature tokio or lockwatch-tokio"
        ),
    }
}

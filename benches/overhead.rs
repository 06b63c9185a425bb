//! lockwatch against std, parking_lot and tracing-mutex, in one process.
//!
//! ```text
//! tools/bench.sh          # both builds: tracking on, then off
//! cargo bench --bench overhead --features enabled
//! ```
//!
//! Every figure is the median of several rounds, the implementations alternating within each
//! round so that a noisy neighbour hurts all of them alike; a ratio is the median of the
//! per-round ratios. Ratios are against parking_lot (std for std's types and the atomics).
//! Memory is counted by a counting global allocator. `LOCKWATCH_BENCH_ONLY=text` runs only
//! the rows whose name contains `text` (`memory`: the heap rows); `LOCKWATCH_BENCH_ROUNDS=1`
//! prints every round's ratio too. The rows with two threads pin them to two CPUs (see
//! `common/pin.rs`; `LOCKWATCH_BENCH_PIN=0` does not). The single-thread rows call one
//! operation at a time through a function the loop cannot inline, on locks on the heap at
//! eight placements in a cache line (see `placed_runs`); the rows with two threads on one
//! lock run inline loops.

use std::hint::black_box;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

#[path = "../tests/common/counting.rs"]
mod counting;
#[path = "common/pin.rs"]
mod pin;
#[path = "common/placed.rs"]
mod placed;

use counting::heap;
use placed::Placed;

const RUNS: usize = 15;

/// Operations per run: `LOCKWATCH_BENCH_ITERS`, default one million.
fn iters() -> u64 {
    std::env::var("LOCKWATCH_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn time_ns(iters: u64, f: &mut dyn FnMut(u64)) -> f64 {
    let start = Instant::now();
    f(iters);
    start.elapsed().as_nanos() as f64 / iters as f64
}

/// Each implementation's median ns per operation, and its median ratio to the first one
/// over the rounds. The implementations run one after another within each round, so a ratio
/// pairs runs a few milliseconds apart: slow drift on a shared machine (a neighbour's load
/// coming and going) cancels out of it, where a ratio of two medians would keep it.
struct Timing {
    ns: Vec<f64>,
    ratio: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `body` on two threads at once, pinned to two CPUs (see `common/pin.rs`).
fn on_two_cpus(body: impl Fn() + Sync) {
    let body = &body;
    std::thread::scope(|s| {
        for cpu in 0..2 {
            s.spawn(move || {
                pin::pin_to_nth(cpu, 2);
                body()
            });
        }
    });
}

fn compare(iters: u64, fs: &mut [&mut dyn FnMut(u64)]) -> Timing {
    let mut samples = vec![Vec::new(); fs.len()];
    for _ in 0..RUNS {
        for (i, f) in fs.iter_mut().enumerate() {
            samples[i].push(time_ns(iters, *f));
        }
    }
    let per_round: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| {
            s.iter()
                .zip(&samples[0])
                .map(|(t, base)| t / base)
                .collect()
        })
        .collect();
    if std::env::var_os("LOCKWATCH_BENCH_ROUNDS").is_some() {
        // Every round's ratio of the second implementation, in run order: shows whether the
        // machine changed regime during the run (a busy neighbour comes and goes).
        let rounds: Vec<String> = per_round[1].iter().map(|r| format!("{r:.2}")).collect();
        println!("  rounds: {}", rounds.join(" "));
    }
    let ratio = per_round.into_iter().map(median).collect();
    Timing {
        ns: samples.into_iter().map(median).collect(),
        ratio,
    }
}

/// Where the single-thread rows put their locks, in turn: bytes past the start of a cache line.
const PLACEMENTS: [usize; 8] = [0, 8, 16, 24, 32, 40, 48, 56];

/// The single-thread rows' shape: `op` (a function the loop cannot inline, as a program locks
/// inside functions of its own) called `n` times in all, `n / 8` on locks made by `make` at
/// each of [`PLACEMENTS`] in turn. An inlined loop over a lock on its stack measured the
/// layout as much as the lock: there `LOCKWATCH=off`, one relaxed load and a branch per
/// acquisition, cost 1.13x over parking_lot's facade and 0.87x to 1.00x over std's, and with
/// the locks moved to the heap 0.89x and 1.15x; the tracked lock ran in the same 15.1 to 15.2
/// ns as the switched-off one on the stack. Called per operation over eight placements, both
/// switched-off facades measure 0.99x to 1.01x and the uncontended tracked row stays at
/// 1.13x to 1.16x; the nested rows cost more than inline (the call saves the registers the
/// tracked path needs: a nested pair 1.29x became 1.40x, four nested 1.60x became 1.69x,
/// before the held stack's fingerprint took them back to 1.38x and 1.56x).
fn placed_runs<T>(n: u64, make: impl Fn() -> T, op: impl Fn(&T)) {
    for at in PLACEMENTS {
        let locks = Placed::new(make(), at);
        for _ in 0..n / PLACEMENTS.len() as u64 {
            op(black_box(&*locks));
        }
    }
}

/// The same benchmark bodies for each lock family.
macro_rules! family {
    ($name:ident, $mutex:ty, $rwlock:ty, |$m:ident| $lock:expr, |$l:ident| $read:expr, |$n:ident, $v:ident| $new:expr) => {
        #[allow(dead_code)] // Not every family runs every body.
        mod $name {
            use super::*;
            type M = $mutex;
            type L = $rwlock;

            /// A lock of class `name`: locks created inside a macro share one creation site,
            /// so lockwatch's are named to keep the classes apart, as separate sites would.
            #[inline(always)]
            fn new(name: &str) -> M {
                let ($n, $v) = (name, 0);
                $new
            }

            #[inline(always)]
            fn lock(m: &M) -> impl Sized + '_ {
                let $m = m;
                $lock
            }

            pub fn uncontended(n: u64) {
                #[inline(never)]
                fn op(m: &M) {
                    drop(lock(m));
                }
                placed_runs(n, || new("bench-1"), op);
            }

            pub fn nested2(n: u64) {
                #[inline(never)]
                fn op([a, b]: &[M; 2]) {
                    let _a = lock(a);
                    drop(lock(b));
                }
                placed_runs(n, || [new("bench-2"), new("bench-3")], op);
            }

            pub fn nested4(n: u64) {
                #[inline(never)]
                fn op([a, b, c, d]: &[M; 4]) {
                    let _a = lock(a);
                    let _b = lock(b);
                    let _c = lock(c);
                    drop(lock(d));
                }
                let make = || ["bench-4a", "bench-4b", "bench-4c", "bench-4d"].map(new);
                placed_runs(n, make, op);
            }

            /// Two threads, each nesting its own pair: per-thread ns per pair.
            pub fn disjoint_pairs(n: u64) {
                on_two_cpus(|| nested2(n));
            }

            /// Two threads on one lock: ns per acquisition, per thread.
            pub fn one_lock(n: u64) {
                let m = &new("bench-5");
                on_two_cpus(|| {
                    for _ in 0..n {
                        drop(lock(black_box(m)));
                    }
                });
            }

            /// Two threads on one lock, each doing a little work of its own (about 100 ns)
            /// between acquisitions, as a program does: ns per acquisition, per thread.
            pub fn one_lock_with_work(n: u64) {
                let m = &new("bench-5w");
                on_two_cpus(|| {
                    let mut x = 1u64;
                    for _ in 0..n {
                        for _ in 0..64 {
                            x = black_box(x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 1);
                        }
                        drop(lock(black_box(m)));
                    }
                    black_box(x);
                });
            }

            /// Create a lock, take it under a held one (an order edge), drop it.
            pub fn create_edge_drop(n: u64) {
                #[inline(never)]
                fn op(outer: &M) {
                    let m = new("bench-7");
                    let _o = lock(outer);
                    drop(lock(black_box(&m)));
                }
                placed_runs(n, || new("bench-6"), op);
            }

            pub fn read(n: u64) {
                #[inline(never)]
                fn op($l: &L) {
                    drop($read);
                }
                placed_runs(n, || L::new(0), op);
            }

            /// Heap bytes per live lock with each lock nested under one outer lock (an edge
            /// per lock), and heap left after they are all dropped.
            pub fn memory(count: usize, same_class_chain: bool) -> (f64, isize) {
                let outer = new("bench-8");
                drop(lock(&outer));
                let start = heap();
                let mut locks: Vec<M> = Vec::with_capacity(count);
                let before = heap();
                for _ in 0..count {
                    locks.push(new("bench-9"));
                }
                if same_class_chain {
                    for w in locks.windows(2) {
                        let _a = lock(&w[0]);
                        drop(lock(&w[1]));
                    }
                } else {
                    for m in &locks {
                        let _o = lock(&outer);
                        drop(lock(m));
                    }
                }
                let live = (heap() - before) as f64 / count as f64;
                drop(locks);
                (live, heap() - start)
            }

            /// Heap bytes per live lock with each lock nested under one outer lock of the same
            /// class (an instance edge per lock), and heap left after they are dropped while
            /// the outer lock lives on.
            pub fn memory_under_same_class(count: usize) -> (f64, isize) {
                let outer = new("bench-10");
                drop(lock(&outer));
                let start = heap();
                let locks: Vec<M> = (0..count).map(|_| new("bench-10")).collect();
                let before = heap();
                {
                    let _o = lock(&outer);
                    for m in &locks {
                        drop(lock(m));
                    }
                }
                let live = (heap() - before) as f64 / count as f64;
                drop(locks);
                // Measured while `outer` lives on.
                (live, heap() - start)
            }
        }
    };
}

family!(
    fam_std,
    std::sync::Mutex<u64>,
    std::sync::RwLock<u64>,
    |m| m.lock().unwrap(),
    |l| l.read().unwrap(),
    |_n, v| M::new(v)
);
family!(
    fam_pl,
    parking_lot::Mutex<u64>,
    parking_lot::RwLock<u64>,
    |m| m.lock(),
    |l| l.read(),
    |_n, v| M::new(v)
);
family!(
    fam_tm,
    tracing_mutex::parkinglot::tracing::Mutex<u64>,
    tracing_mutex::parkinglot::tracing::RwLock<u64>,
    |m| m.lock(),
    |l| l.read(),
    |_n, v| M::new(v)
);
family!(
    fam_lw,
    lockwatch::parking_lot::Mutex<u64>,
    lockwatch::parking_lot::RwLock<u64>,
    |m| m.lock(),
    |l| l.read(),
    |n, v| lockwatch::named(M::new(v), n)
);
family!(
    fam_lws,
    lockwatch::sync::Mutex<u64>,
    lockwatch::sync::RwLock<u64>,
    |m| m.lock().unwrap(),
    |l| l.read().unwrap(),
    |n, v| lockwatch::named(M::new(v), n)
);

/// One table row: the first implementation's ns, then each other's ns and ratio to it.
fn row(name: &str, base_name: &str, t: &Timing, labels: &[&str]) {
    let mut line = format!("{name:<40} {base_name:>12} {:>8.2}", t.ns[0]);
    for (i, label) in labels.iter().enumerate() {
        line.push_str(&format!(
            "  {label} {:>8.2} ({:>5.2}x)",
            t.ns[i + 1],
            t.ratio[i + 1]
        ));
    }
    println!("{line}");
}

fn atomics() {
    use lockwatch::sync::atomic::AtomicU64 as LwAtomic;
    use std::sync::atomic::AtomicU64 as StdAtomic;
    let (s, l) = (StdAtomic::new(0), LwAtomic::new(0));
    let r = compare(
        iters() * 4,
        &mut [
            &mut |n| {
                (0..n).for_each(|_| {
                    black_box(black_box(&s).load(Relaxed));
                })
            },
            &mut |n| {
                (0..n).for_each(|_| {
                    black_box(black_box(&l).load(Relaxed));
                })
            },
        ],
    );
    row("atomic load (Relaxed)", "std", &r, &["lockwatch"]);
    let r = compare(
        iters() * 4,
        &mut [
            &mut |n| (0..n).for_each(|i| black_box(&s).store(i, Relaxed)),
            &mut |n| (0..n).for_each(|i| black_box(&l).store(i, Relaxed)),
        ],
    );
    row("atomic store (Relaxed)", "std", &r, &["lockwatch"]);
    let r = compare(
        iters() * 4,
        &mut [
            &mut |n| {
                (0..n).for_each(|_| {
                    black_box(&s).fetch_add(1, Relaxed);
                })
            },
            &mut |n| {
                (0..n).for_each(|_| {
                    black_box(&l).fetch_add(1, Relaxed);
                })
            },
        ],
    );
    row("atomic fetch_add", "std", &r, &["lockwatch"]);
    println!(
        "{:<40} {:>12} {:>8}  lockwatch {:>8}",
        "size of AtomicU64 / AtomicBool (bytes)",
        "std",
        format!(
            "{}/{}",
            size_of::<StdAtomic>(),
            size_of::<std::sync::atomic::AtomicBool>()
        ),
        format!(
            "{}/{}",
            size_of::<LwAtomic>(),
            size_of::<lockwatch::sync::atomic::AtomicBool>()
        )
    );
}

/// 10,000 classes and 100,000 order edges, all in one consistent order, then one edge that
/// closes a cycle through all of them.
fn graph_scale() {
    const CLASSES: usize = 10_000;
    const EDGES: usize = 100_000;
    let names: Vec<String> = (0..CLASSES).map(|i| format!("scale-{i:05}")).collect();
    let locks: Vec<lockwatch::parking_lot::Mutex<()>> = names
        .iter()
        .map(|n| lockwatch::named(lockwatch::parking_lot::Mutex::new(()), n))
        .collect();
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut pairs = Vec::with_capacity(EDGES);
    while pairs.len() < EDGES {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let a = (rng % CLASSES as u64) as usize;
        let b = ((rng >> 32) % CLASSES as u64) as usize;
        if a != b {
            pairs.push((a.min(b), a.max(b)));
        }
    }
    // Touch every lock once so that class interning is not part of the edge timing.
    for l in &locks {
        drop(l.lock());
    }
    let heap_before = heap();
    let start = Instant::now();
    for &(a, b) in &pairs {
        let _a = locks[a].lock();
        drop(locks[b].lock());
    }
    let insert = start.elapsed();
    let stats = lockwatch::graph_stats();
    let heap_graph = heap() - heap_before;
    // Edges taken in random order against a consistent global order: every one is new or
    // known; now one edge from the last class to the first closes a long cycle.
    let start = Instant::now();
    {
        let _z = locks[CLASSES - 1].lock();
        drop(locks[0].lock());
    }
    let closing = start.elapsed();
    println!(
        "graph scale: {} class edges over {} classes inserted in {:.1} ms ({:.0} ns per acquisition pair), \
         heap {:.1} MiB ({:.0} B/edge); one cycle-closing edge checked in {:.2} ms",
        stats.class_edges,
        stats.class_nodes,
        insert.as_secs_f64() * 1e3,
        insert.as_nanos() as f64 / EDGES as f64,
        heap_graph as f64 / (1 << 20) as f64,
        heap_graph as f64 / stats.class_edges.max(1) as f64,
        closing.as_secs_f64() * 1e3
    );
}

/// Same-class fan-out: one lock and `n` more made by one helper (one class, so every nesting
/// is an instance edge), each locked once under the first, then all dropped. The cost per
/// lock must not grow with `n`.
fn fan_out() {
    fn make() -> lockwatch::parking_lot::Mutex<u32> {
        lockwatch::parking_lot::Mutex::new(0)
    }
    let mut per_lock = Vec::new();
    for n in [4_000usize, 32_000] {
        let parent = make();
        let children: Vec<_> = (0..n).map(|_| make()).collect();
        let start = Instant::now();
        {
            let _p = parent.lock();
            for c in &children {
                drop(c.lock());
            }
        }
        let nest = start.elapsed().as_nanos() as f64 / n as f64;
        let start = Instant::now();
        drop(children);
        let dropped = start.elapsed().as_nanos() as f64 / n as f64;
        println!(
            "same-class fan-out, {n:>6} children of one lock: {nest:>7.0} ns per nest, \
             {dropped:>7.0} ns per drop"
        );
        per_lock.push(nest + dropped);
    }
    println!(
        "same-class fan-out: per-lock cost at 32k is {:.2}x that at 4k (linear: ~1x)",
        per_lock[1] / per_lock[0]
    );
    // A hand-over-hand walk down a complete binary tree of 100k locks of one class (depth
    // 17): each step locks a child, then releases its parent.
    const NODES: usize = 100_000;
    let tree: Vec<_> = (0..NODES).map(|_| make()).collect();
    let walks = 20_000;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let start = Instant::now();
    let mut steps = 0u64;
    for _ in 0..walks {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut at = 0;
        let mut guard = tree[0].lock();
        let mut path = rng;
        while 2 * at + 2 < NODES {
            let child = 2 * at + 1 + (path & 1) as usize;
            path >>= 1;
            let next = tree[child].lock();
            drop(std::mem::replace(&mut guard, next));
            at = child;
            steps += 1;
        }
        drop(guard);
    }
    let walked = start.elapsed();
    let start = Instant::now();
    drop(tree);
    println!(
        "hand-over-hand walks down a tree of {NODES} locks of one class: {:.0} ns per step, \
         {:.0} ns per lock to drop the tree",
        walked.as_nanos() as f64 / steps as f64,
        start.elapsed().as_nanos() as f64 / NODES as f64
    );
}

/// Heap per live lock, and left after the locks are dropped, for each implementation.
fn memory() {
    // The watchdog's own scans allocate; keep them out of the heap counts.
    lockwatch::watchdog::set_enabled(false);
    std::thread::sleep(std::time::Duration::from_millis(50));
    for (label, chain) in [
        ("each under an outer lock", false),
        ("same-class chain", true),
    ] {
        let (lw_live, lw_left) = fam_lw::memory(10_000, chain);
        let (tm_live, tm_left) = fam_tm::memory(10_000, chain);
        let (pl_live, pl_left) = fam_pl::memory(10_000, chain);
        println!(
            "heap per live lock, {label:<25} parking_lot {pl_live:>6.1} B (left {pl_left} B)  \
             lockwatch {lw_live:>6.1} B (left {lw_left} B)  tracing-mutex {tm_live:>6.1} B (left {tm_left} B)"
        );
    }
    // 100k children of one live lock of their class, then dropped: what they cost must go back
    // while the outer lock (and so the instance graph) lives on.
    const CHILDREN: usize = 100_000;
    let (lw_live, lw_left) = fam_lw::memory_under_same_class(CHILDREN);
    let (tm_live, tm_left) = fam_tm::memory_under_same_class(CHILDREN);
    println!(
        "heap per live lock, 100k children of one lock of their class: lockwatch {lw_live:.1} B, \
         left {:.2} B per dropped lock ({lw_left} B)  tracing-mutex {tm_live:.1} B, left {:.2} B \
         per dropped lock",
        lw_left as f64 / CHILDREN as f64,
        tm_left as f64 / CHILDREN as f64
    );
}

/// A million short-lived locks nested per instance: the heap must stay flat.
fn churn() {
    let outer = lockwatch::parking_lot::Mutex::new(());
    let run = |n: usize| {
        for _ in 0..n {
            let pair = [
                lockwatch::parking_lot::Mutex::new(0u8),
                lockwatch::parking_lot::Mutex::new(0u8),
            ];
            let _o = outer.lock();
            let _a = pair[0].lock();
            drop(pair[1].lock());
        }
    };
    run(1_000);
    let before = heap();
    let start = Instant::now();
    run(1_000_000);
    println!(
        "churn: 1,000,000 create + nested lock + drop cycles in {:.0} ms, heap change {} bytes",
        start.elapsed().as_secs_f64() * 1e3,
        heap() - before
    );
}

/// The main contended row (two threads trading one lock) at three profile rates, measured
/// before any tokio task has taken a lock, like that row (see the row after the tokio rows).
fn sampling_rows(only: &str) {
    for (label, rate) in [
        ("every wait profiled", 0u64),
        ("default sampling", 10_000),
        ("profiling ~off", 1_000_000_000),
    ] {
        let name = format!("two threads on one lock, {label}");
        if !name.contains(only) {
            continue;
        }
        lockwatch::contention::set_sample_rate(std::time::Duration::from_nanos(rate));
        let r = compare(
            iters() / 4,
            &mut [&mut fam_pl::one_lock, &mut fam_lw::one_lock],
        );
        row(&name, "parking_lot", &r, &["lockwatch"]);
    }
    lockwatch::contention::set_sample_rate(std::time::Duration::from_nanos(10_000));
}

/// `lock().await` inside a task (on a current-thread runtime): tokio's mutex against
/// lockwatch's, alone and nested in a pair.
#[cfg(feature = "tokio")]
fn tokio_rows(only: &str) {
    use std::sync::Arc;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // The loop runs as a spawned task, so that lockwatch sees a task id.
    macro_rules! task_loop {
        ($n:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {{
            let (a, b) = (Arc::clone(&$a), Arc::clone(&$b));
            let n = $n;
            rt.block_on(rt.spawn(async move {
                let ($x, $y) = (&*a, &*b);
                for _ in 0..n {
                    $body;
                }
            }))
            .unwrap();
        }};
    }
    let (ta, tb) = (
        Arc::new(tokio::sync::Mutex::new(0u64)),
        Arc::new(tokio::sync::Mutex::new(0u64)),
    );
    let (la, lb) = (
        Arc::new(lockwatch::tokio::Mutex::new(0u64)),
        Arc::new(lockwatch::tokio::Mutex::new(0u64)),
    );
    if "tokio lock().await uncontended".contains(only) {
        let r = compare(
            iters(),
            &mut [
                &mut |n| task_loop!(n, ta, tb, |a, _b| *black_box(a).lock().await += 1),
                &mut |n| task_loop!(n, la, lb, |a, _b| *black_box(a).lock().await += 1),
            ],
        );
        row(
            "tokio lock().await uncontended",
            "tokio",
            &r,
            &["lockwatch"],
        );
    }
    if "tokio nested pair in a task".contains(only) {
        let r = compare(
            iters() / 2,
            &mut [
                &mut |n| {
                    task_loop!(n, ta, tb, |a, b| {
                        let _a = black_box(a).lock().await;
                        *black_box(b).lock().await += 1
                    })
                },
                &mut |n| {
                    task_loop!(n, la, lb, |a, b| {
                        let _a = black_box(a).lock().await;
                        *black_box(b).lock().await += 1
                    })
                },
            ],
        );
        row("tokio nested pair in a task", "tokio", &r, &["lockwatch"]);
    }
}

fn main() {
    let tracking = cfg!(feature = "enabled");
    println!(
        "lockwatch {} (tracking {}), {} cores, medians of {RUNS} alternating rounds, {}",
        env!("CARGO_PKG_VERSION"),
        if tracking {
            "on"
        } else {
            "off: lockwatch's types are std's and parking_lot's"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        pin::describe()
    );
    println!("ns per operation (median); ratios against the first column (median of the per-round ratios)\n");

    // `LOCKWATCH_BENCH_ONLY=text` runs only the rows whose name contains it;
    // `LOCKWATCH_BENCH_ONLY=memory` only the heap rows.
    let only = std::env::var("LOCKWATCH_BENCH_ONLY").unwrap_or_default();
    macro_rules! bench {
        ($name:literal, $f:ident, $iters:expr) => {
            if $name.contains(only.as_str()) {
                let r = compare(
                    $iters,
                    &mut [&mut fam_pl::$f, &mut fam_lw::$f, &mut fam_tm::$f],
                );
                row($name, "parking_lot", &r, &["lockwatch", "tracing-mutex"]);
            }
        };
    }
    bench!("uncontended lock+unlock", uncontended, iters());
    bench!("nested pair, known edge", nested2, iters());
    bench!("nested 4, known edges", nested4, iters() / 2);
    bench!(
        "two threads, each its own pair",
        disjoint_pairs,
        iters() / 2
    );
    bench!("two threads on one lock", one_lock, iters() / 2);
    bench!(
        "two threads on one lock, work between",
        one_lock_with_work,
        iters() / 4
    );
    bench!(
        "create + lock under another + drop",
        create_edge_drop,
        iters() / 4
    );
    bench!("RwLock read, uncontended", read, iters());
    if tracking {
        sampling_rows(&only);
    }
    #[cfg(feature = "tokio")]
    tokio_rows(&only);
    if only == "memory" {
        memory();
        return;
    }
    if only == "fan-out" {
        if tracking {
            lockwatch::set_policy(lockwatch::Policy::Silent);
            fan_out();
        }
        return;
    }
    // The rows below are filtered by name too; the tables after them run unfiltered only.
    let wanted = |name: &str| name.contains(only.as_str());
    if wanted("std Mutex uncontended") {
        let r = compare(
            iters(),
            &mut [&mut fam_std::uncontended, &mut fam_lws::uncontended],
        );
        row("std Mutex uncontended", "std", &r, &["lockwatch::sync"]);
    }
    if wanted("std RwLock read, uncontended") {
        let r = compare(iters(), &mut [&mut fam_std::read, &mut fam_lws::read]);
        row(
            "std RwLock read, uncontended",
            "std",
            &r,
            &["lockwatch::sync"],
        );
    }

    if tracking {
        if wanted("uncontended, watchdog off") {
            lockwatch::watchdog::set_enabled(false);
            let r = compare(
                iters(),
                &mut [&mut fam_pl::uncontended, &mut fam_lw::uncontended],
            );
            row(
                "uncontended, watchdog off",
                "parking_lot",
                &r,
                &["lockwatch"],
            );
            lockwatch::watchdog::set_enabled(true);
        }
        // The run-time switch, as `LOCKWATCH=off` sets it: one load and a branch per call.
        lockwatch::set_enabled(false);
        // (row, operations, parking_lot's body, lockwatch's body)
        type Pair = (&'static str, u64, fn(u64), fn(u64));
        let off: [Pair; 3] = [
            (
                "uncontended, LOCKWATCH=off",
                iters(),
                fam_pl::uncontended,
                fam_lw::uncontended,
            ),
            (
                "nested pair, LOCKWATCH=off",
                iters(),
                fam_pl::nested2,
                fam_lw::nested2,
            ),
            (
                "two threads on one lock, LOCKWATCH=off",
                iters() / 2,
                fam_pl::one_lock,
                fam_lw::one_lock,
            ),
        ];
        for (name, n, mut plain, mut tracked) in off {
            if wanted(name) {
                let r = compare(n, &mut [&mut plain, &mut tracked]);
                row(name, "parking_lot", &r, &["lockwatch"]);
            }
        }
        if wanted("std Mutex uncontended, LOCKWATCH=off") {
            let r = compare(
                iters(),
                &mut [&mut fam_std::uncontended, &mut fam_lws::uncontended],
            );
            row(
                "std Mutex uncontended, LOCKWATCH=off",
                "std",
                &r,
                &["lockwatch::sync"],
            );
        }
        lockwatch::set_enabled(true);
        #[cfg(feature = "tokio")]
        if wanted("two threads on one lock, after tokio tasks") {
            // The main row's loop again, now that tasks have taken tokio locks: from then on
            // every std or parking_lot acquisition asks tokio whether it runs in a task.
            let r = compare(
                iters() / 4,
                &mut [&mut fam_pl::one_lock, &mut fam_lw::one_lock],
            );
            row(
                "two threads on one lock, after tokio tasks",
                "parking_lot",
                &r,
                &["lockwatch"],
            );
        }
    }
    if !only.is_empty() {
        return;
    }
    println!();
    atomics();
    println!();
    memory();
    if tracking {
        println!();
        churn();
        lockwatch::set_policy(lockwatch::Policy::Silent);
        graph_scale();
        fan_out();
    }
}

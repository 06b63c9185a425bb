//! Workloads a user would recognise, as throughput: an in-memory sharded key-value store and a
//! job queue, over parking_lot, lockwatch and tracing-mutex in one process.
//!
//! ```text
//! cargo bench --bench workload --features enabled   # tracking on, then LOCKWATCH=off
//! cargo bench --bench workload                      # tracking off: the plain types
//! ```
//!
//! The key-value store: 16 shards, each a `RwLock<HashMap>`, over 100,000 keys; 4 threads do
//! 90 % reads and 10 % writes at random keys, count every operation in an atomic and every
//! 64th in a global stats `Mutex`. Shards made in one loop are one class in lockwatch, as in a
//! real program. The job queue: a `Mutex<VecDeque>` and a `Condvar`, one producer and three
//! workers (tracing-mutex has no condvar for its parking_lot flavour, so it sits that one
//! out). Figures are medians of rounds in which the implementations alternate; ratios are
//! against parking_lot.

use std::hint::black_box;
use std::time::Instant;

const ROUNDS: usize = 11;
const THREADS: usize = 4;
const KEYS: u64 = 100_000;
const SHARDS: usize = 16;
const OPS_PER_THREAD: u64 = 200_000;
const JOBS: u64 = 200_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// The key-value store over one lock family: `$k` is the module with its `Mutex` and
/// `RwLock`, `$atomic` its `AtomicU64`.
macro_rules! kv_store {
    ($name:ident, $k:path, $atomic:ty) => {
        mod $name {
            use super::*;
            use std::collections::HashMap;
            use std::sync::atomic::Ordering::Relaxed;
            use $k as k;

            struct Store {
                shards: Vec<k::RwLock<HashMap<u64, u64>>>,
                stats: k::Mutex<(u64, u64)>,
                ops: $atomic,
            }

            /// ns per operation, all threads together.
            pub fn run() -> f64 {
                let store = Store {
                    shards: (0..SHARDS)
                        .map(|_| k::RwLock::new(HashMap::new()))
                        .collect(),
                    stats: k::Mutex::new((0, 0)),
                    ops: <$atomic>::new(0),
                };
                for key in 0..KEYS {
                    store.shards[key as usize % SHARDS].write().insert(key, key);
                }
                let start = Instant::now();
                std::thread::scope(|s| {
                    for t in 0..THREADS {
                        let store = &store;
                        s.spawn(move || {
                            let mut next = xorshift(0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1));
                            let (mut reads, mut writes) = (0u64, 0u64);
                            for i in 0..OPS_PER_THREAD {
                                let r = next();
                                let key = r % KEYS;
                                let shard = &store.shards[key as usize % SHARDS];
                                if r % 10 == 0 {
                                    shard.write().insert(key, i);
                                    writes += 1;
                                } else {
                                    black_box(shard.read().get(&key).copied());
                                    reads += 1;
                                }
                                store.ops.fetch_add(1, Relaxed);
                                if i % 64 == 63 {
                                    let mut stats = store.stats.lock();
                                    stats.0 += reads;
                                    stats.1 += writes;
                                    (reads, writes) = (0, 0);
                                }
                            }
                        });
                    }
                });
                let elapsed = start.elapsed().as_nanos() as f64;
                assert_eq!(store.ops.load(Relaxed), THREADS as u64 * OPS_PER_THREAD);
                elapsed / (THREADS as u64 * OPS_PER_THREAD) as f64
            }
        }
    };
}

kv_store!(kv_pl, parking_lot, std::sync::atomic::AtomicU64);
kv_store!(
    kv_lw,
    lockwatch::parking_lot,
    lockwatch::sync::atomic::AtomicU64
);
kv_store!(
    kv_tm,
    tracing_mutex::parkinglot::tracing,
    std::sync::atomic::AtomicU64
);

/// The job queue over a family with a `Condvar`.
macro_rules! job_queue {
    ($name:ident, $k:path) => {
        mod $name {
            use super::*;
            use std::collections::VecDeque;
            use $k as k;

            struct Queue {
                jobs: k::Mutex<(VecDeque<u64>, bool)>,
                ready: k::Condvar,
            }

            /// ns per job, from the first push to the last worker's exit.
            pub fn run() -> f64 {
                let queue = Queue {
                    jobs: k::Mutex::new((VecDeque::new(), false)),
                    ready: k::Condvar::new(),
                };
                let start = Instant::now();
                let done: u64 = std::thread::scope(|s| {
                    let workers: Vec<_> = (0..THREADS - 1)
                        .map(|_| {
                            let queue = &queue;
                            s.spawn(move || {
                                let mut done = 0u64;
                                loop {
                                    let job = {
                                        let mut jobs = queue.jobs.lock();
                                        loop {
                                            if let Some(job) = jobs.0.pop_front() {
                                                break Some(job);
                                            }
                                            if jobs.1 {
                                                break None;
                                            }
                                            queue.ready.wait(&mut jobs);
                                        }
                                    };
                                    match job {
                                        Some(job) => {
                                            black_box(job.wrapping_mul(0x9E37_79B9));
                                            done += 1;
                                        }
                                        None => return done,
                                    }
                                }
                            })
                        })
                        .collect();
                    for job in 0..JOBS {
                        queue.jobs.lock().0.push_back(job);
                        queue.ready.notify_one();
                    }
                    queue.jobs.lock().1 = true;
                    queue.ready.notify_all();
                    workers.into_iter().map(|w| w.join().unwrap()).sum()
                });
                assert_eq!(done, JOBS);
                start.elapsed().as_nanos() as f64 / JOBS as f64
            }
        }
    };
}

job_queue!(jq_pl, parking_lot);
job_queue!(jq_lw, lockwatch::parking_lot);

/// Medians over alternating rounds; ratios are medians of the per-round ratios.
fn compare(name: &str, runs: &mut [(&str, &mut dyn FnMut() -> f64)]) {
    let mut samples = vec![Vec::new(); runs.len()];
    for _ in 0..ROUNDS {
        for (i, (_, run)) in runs.iter_mut().enumerate() {
            samples[i].push(run());
        }
    }
    let mut line = format!("{name:<40}");
    for (i, (label, _)) in runs.iter().enumerate() {
        let ns = median(samples[i].clone());
        if i == 0 {
            line += &format!("  {label} {ns:>7.1}");
        } else {
            let ratios = samples[i]
                .iter()
                .zip(&samples[0])
                .map(|(t, base)| t / base)
                .collect();
            line += &format!("  {label} {ns:>7.1} ({:>5.2}x)", median(ratios));
        }
    }
    println!("{line}");
}

fn main() {
    let tracking = cfg!(feature = "enabled");
    // The workloads hold nothing long; keep reports of the shards' one class quiet anyway.
    lockwatch::set_policy(lockwatch::Policy::Silent);
    println!(
        "lockwatch {} (tracking {}), {} cores; ns per operation, medians of {ROUNDS} alternating \
         rounds, ratios against parking_lot",
        env!("CARGO_PKG_VERSION"),
        if tracking { "on" } else { "off" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let modes: &[(&str, bool)] = if tracking {
        &[("", true), (", LOCKWATCH=off", false)]
    } else {
        &[("", true)]
    };
    for &(label, on) in modes {
        lockwatch::set_enabled(on);
        compare(
            &format!("kv store, {THREADS} threads, 90/10{label}"),
            &mut [
                ("parking_lot", &mut kv_pl::run),
                ("lockwatch", &mut kv_lw::run),
                ("tracing-mutex", &mut kv_tm::run),
            ],
        );
        compare(
            &format!("job queue, 1 + {} workers{label}", THREADS - 1),
            &mut [
                ("parking_lot", &mut jq_pl::run),
                ("lockwatch", &mut jq_lw::run),
            ],
        );
    }
    lockwatch::set_enabled(true);
}

//! What lockwatch adds to a Redis lease round trip (acquire + release on loopback).
//!
//! ```text
//! cargo bench --bench redis_lease --features enabled,redis
//! ```
//!
//! Starts a `redis-server` of its own on a free loopback port. Rows, per acquire + release:
//! the same two commands sent by hand (`SET NX PX`, then the compare-and-delete script) on one
//! connection; `LeaseLock` with tracking switched off; `LeaseLock` tracked. Medians of rounds
//! that alternate the three, and the ratio of each to the hand-written round trip.

use std::time::{Duration, Instant};

use lockwatch::redis::LeaseLock;

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

const ROUNDS: usize = 15;

fn iters() -> u64 {
    std::env::var("LOCKWATCH_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let server = redis_server::RedisServer::start();
    let client = server.client();
    let mut raw = client.get_connection().unwrap();
    let release = redis::Script::new(
        r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end"#,
    );
    let lease = LeaseLock::new(&client, "bench:lease:1", Duration::from_secs(5));
    let n = iters();

    let mut by_hand = |n: u64| {
        for i in 0..n {
            let value = format!("token-{i}");
            let set: Option<String> = redis::cmd("SET")
                .arg("bench:raw:1")
                .arg(&value)
                .arg("NX")
                .arg("PX")
                .arg(5_000)
                .query(&mut raw)
                .unwrap();
            assert!(set.is_some());
            let deleted: i64 = release
                .key("bench:raw:1")
                .arg(&value)
                .invoke(&mut raw)
                .unwrap();
            assert_eq!(deleted, 1);
        }
    };
    let mut lease_loop = |n: u64| {
        for _ in 0..n {
            let guard = lease.lock().unwrap();
            assert!(guard.release().unwrap());
        }
    };
    let time = |f: &mut dyn FnMut(u64)| {
        let start = Instant::now();
        f(n);
        start.elapsed().as_nanos() as f64 / n as f64
    };
    let mut samples = vec![Vec::new(); 3];
    for _ in 0..ROUNDS {
        samples[0].push(time(&mut by_hand));
        lockwatch::set_enabled(false);
        samples[1].push(time(&mut lease_loop));
        lockwatch::set_enabled(true);
        samples[2].push(time(&mut lease_loop));
    }
    let ratios = |i: usize| {
        median(
            samples[i]
                .iter()
                .zip(&samples[0])
                .map(|(t, base)| t / base)
                .collect(),
        )
    };
    println!(
        "Redis lease acquire + release on loopback, {} cores, {n} round trips x {ROUNDS} rounds \
         (median µs per round trip; ratio to the commands sent by hand)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let tracked = cfg!(feature = "enabled");
    for (i, name) in [
        "SET NX PX + compare-and-delete, by hand",
        "LeaseLock, tracking off",
        if tracked {
            "LeaseLock, tracked"
        } else {
            "LeaseLock (no `enabled`)"
        },
    ]
    .iter()
    .enumerate()
    {
        println!(
            "{name:<42} {:>8.1} µs  ({:.3}x)",
            median(samples[i].clone()) / 1_000.0,
            ratios(i)
        );
    }
    if tracked {
        let added = median(
            samples[2]
                .iter()
                .zip(&samples[1])
                .map(|(t, off)| t / off - 1.0)
                .collect(),
        );
        println!("tracking adds {:+.1}% to the round trip", added * 100.0);
    }
}

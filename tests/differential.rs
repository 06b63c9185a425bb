//! Differential testing: random lock programs, run through lockwatch, against a brute-force
//! oracle that applies the rules of the README's "What it reports" table to the same
//! acquisitions.
//!
//! Each program has locks in a few classes, and a few threads of lock / try / read /
//! read_recursive / write / unlock / `unlocked` steps nested up to depth 6: locks of one class
//! nested in each other, locks held twice (two recursive reads), releases out of order, and
//! locks released and taken back while others stay held (`unlocked`, the path a condvar wait
//! takes), including try-acquired ones. The threads run one after the
//! other, so nothing ever waits. The oracle records every blocking acquisition with every
//! lock then held (no shortcuts), builds lockdep's typed edges (class-level between classes,
//! per instance within one), and searches for a strong cycle by brute force. lockwatch must
//! report a lock-order inversion for exactly the programs whose oracle graph has one.
//!
//! `LOCKWATCH_FUZZ_PROGRAMS=N` runs N programs (default 20,000); `LOCKWATCH_FUZZ_SEED=S`
//! replays one program.
// parking_lot 0.13 has no `read_recursive` on `RwLock`; the tracker under test is the same.
#![cfg(not(feature = "parking_lot_0_13"))]
#![cfg(feature = "enabled")]

mod common;

use common::Rng;
use lockwatch::parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use lockwatch::{named, ReportKind};
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Write(usize),
    Read(usize),
    ReadRecursive(usize),
    TryWrite(usize),
    TryRead(usize),
    Unlock(usize), // index into the held list
    /// `unlocked` on the guard at this index of the held list: released, then taken back
    /// (blocking) with the others still held; it moves to the end of the list. A read guard
    /// takes its lock back with a plain read.
    Unlocked(usize),
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Exclusive,
    Read,
    Recursive,
}

#[derive(Clone, Copy)]
struct HeldLock {
    lock: usize,
    mode: Mode,
}

struct Program {
    classes: usize,
    class_of: Vec<usize>,
    threads: Vec<Vec<Op>>,
}

/// A random program whose threads, run one at a time, never block on themselves.
fn generate(seed: u64) -> Program {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // One class (all locks made by one helper) is the per-instance graph alone.
    let classes = 1 + rng.below(4);
    let locks = classes + rng.below(4);
    let class_of: Vec<usize> = (0..locks)
        .map(|l| if l < classes { l } else { rng.below(classes) })
        .collect();
    let threads = (0..1 + rng.below(3))
        .map(|_| {
            let mut ops = Vec::new();
            let mut held: Vec<HeldLock> = Vec::new();
            for _ in 0..4 + rng.below(12) {
                if !held.is_empty() && rng.below(6) == 0 {
                    let i = rng.below(held.len());
                    let lock = held[i].lock;
                    if held.iter().filter(|h| h.lock == lock).count() == 1 {
                        let mut h = held.remove(i);
                        if h.mode != Mode::Exclusive {
                            h.mode = Mode::Read;
                        }
                        held.push(h);
                        ops.push(Op::Unlocked(i));
                        continue;
                    }
                }
                if !held.is_empty() && (held.len() >= 6 || rng.below(3) == 0) {
                    let i = rng.below(held.len());
                    held.remove(i);
                    ops.push(Op::Unlock(i));
                    continue;
                }
                // Now and then a lock this thread holds already: double holds (two recursive
                // reads) nest others, as in the per-instance graph's hardest cases.
                let lock = if !held.is_empty() && rng.below(4) == 0 {
                    held[rng.below(held.len())].lock
                } else {
                    rng.below(locks)
                };
                let mine: Vec<Mode> = held
                    .iter()
                    .filter(|h| h.lock == lock)
                    .map(|h| h.mode)
                    .collect();
                let op = match rng.below(5) {
                    0 | 1 if mine.is_empty() => Op::Write(lock),
                    2 if mine.is_empty() => Op::Read(lock),
                    3 if mine.iter().all(|m| *m != Mode::Exclusive) => Op::ReadRecursive(lock),
                    4 if mine.is_empty() => {
                        if rng.below(2) == 0 {
                            Op::TryWrite(lock)
                        } else {
                            Op::TryRead(lock)
                        }
                    }
                    _ => continue,
                };
                let mode = match op {
                    Op::Write(_) | Op::TryWrite(_) => Mode::Exclusive,
                    Op::Read(_) | Op::TryRead(_) => Mode::Read,
                    _ => Mode::Recursive,
                };
                held.push(HeldLock { lock, mode });
                ops.push(op);
            }
            ops
        })
        .collect();
    Program {
        classes,
        class_of,
        threads,
    }
}

/// lockdep's typed edge: (from node, to node, tail held shared, head recursive).
type Edge = (usize, usize, bool, bool);

/// Replays the program's acquisitions without lockwatch and returns the oracle's two graphs:
/// class edges and same-class instance edges.
fn oracle_edges(p: &Program) -> (HashSet<Edge>, HashSet<Edge>) {
    let (mut classes, mut instances) = (HashSet::new(), HashSet::new());
    for ops in &p.threads {
        let mut held: Vec<(HeldLock, bool)> = Vec::new();
        for op in ops {
            let (lock, mode, try_) = match *op {
                Op::Unlock(i) => {
                    held.remove(i);
                    continue;
                }
                Op::Unlocked(i) => {
                    let (h, _) = held.remove(i);
                    let mode = if h.mode == Mode::Exclusive {
                        Mode::Exclusive
                    } else {
                        Mode::Read
                    };
                    (h.lock, mode, false)
                }
                Op::Write(l) => (l, Mode::Exclusive, false),
                Op::Read(l) => (l, Mode::Read, false),
                Op::ReadRecursive(l) => (l, Mode::Recursive, false),
                Op::TryWrite(l) => (l, Mode::Exclusive, true),
                Op::TryRead(l) => (l, Mode::Read, true),
            };
            // Sequential runs never fail a try on another's lock; a try succeeds here exactly
            // when it does in the real run (the generator only tries locks not held).
            let reentry = held.iter().any(|(h, _)| h.lock == lock);
            if !try_ && !reentry {
                for (h, _) in &held {
                    let edge_type = (h.mode != Mode::Exclusive, mode == Mode::Recursive);
                    if p.class_of[h.lock] == p.class_of[lock] {
                        instances.insert((h.lock, lock, edge_type.0, edge_type.1));
                    } else {
                        classes.insert((
                            p.class_of[h.lock],
                            p.class_of[lock],
                            edge_type.0,
                            edge_type.1,
                        ));
                    }
                }
            }
            held.push((HeldLock { lock, mode }, try_));
        }
    }
    (classes, instances)
}

/// Whether the typed graph has a strong cycle: no step entering a node as a recursive reader
/// and leaving it as a shared holder.
fn has_strong_cycle(edges: &HashSet<Edge>) -> bool {
    for &(u, v, tail_s, head_r) in edges {
        // Is there a strong path v ->* u, entered by (tail_s, head_r), that chains back into it?
        let mut seen = HashSet::new();
        let mut stack = vec![(v, head_r)];
        while let Some((node, entered_r)) = stack.pop() {
            if node == u && !(entered_r && tail_s) && (node, entered_r) != (v, head_r) {
                return true;
            }
            if node == u && (node, entered_r) != (v, head_r) {
                continue;
            }
            if !seen.insert((node, entered_r)) {
                continue;
            }
            for &(a, b, s, r) in edges {
                if a == node && !(entered_r && s) {
                    stack.push((b, r));
                }
            }
        }
    }
    false
}

/// Runs the program through lockwatch, one thread at a time; returns whether a lock-order
/// report names its classes.
fn run_with_lockwatch(p: &Program, tag: &str) -> bool {
    let before = SEEN.lock().unwrap().len();
    let names: Vec<String> = (0..p.classes).map(|c| format!("{tag}-c{c}")).collect();
    let locks: Vec<RwLock<()>> = p
        .class_of
        .iter()
        .map(|&c| named(RwLock::new(()), &names[c]))
        .collect();
    for ops in &p.threads {
        std::thread::scope(|s| {
            s.spawn(|| {
                // The guards are only held, to be dropped by `Unlock`.
                #[allow(dead_code)]
                enum G<'a> {
                    R(RwLockReadGuard<'a, ()>),
                    W(RwLockWriteGuard<'a, ()>),
                }
                let mut held: Vec<G> = Vec::new();
                for op in ops {
                    match *op {
                        Op::Unlock(i) => drop(held.remove(i)),
                        Op::Unlocked(i) => {
                            let mut g = held.remove(i);
                            match &mut g {
                                G::R(r) => RwLockReadGuard::unlocked(r, || ()),
                                G::W(w) => RwLockWriteGuard::unlocked(w, || ()),
                            }
                            held.push(g);
                        }
                        Op::Write(l) => held.push(G::W(locks[l].write())),
                        Op::Read(l) => held.push(G::R(locks[l].read())),
                        Op::ReadRecursive(l) => held.push(G::R(locks[l].read_recursive())),
                        Op::TryWrite(l) => held.push(G::W(
                            locks[l].try_write().expect("free in a sequential run"),
                        )),
                        Op::TryRead(l) => {
                            held.push(G::R(locks[l].try_read().expect("free in a sequential run")))
                        }
                    }
                }
            });
        });
    }
    let prefix = format!("`{tag}-c");
    SEEN.lock().unwrap()[before..]
        .iter()
        .any(|s| s.contains(&prefix))
}

/// Lock-order report summaries, collected by the callback policy (cheaper than scanning
/// `reports()` after every program).
static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[test]
fn lockwatch_reports_exactly_the_programs_the_oracle_finds_cycles_in() {
    lockwatch::set_policy(lockwatch::Policy::callback(|r| {
        if r.kind() == ReportKind::LockOrder {
            SEEN.lock().unwrap().push(r.summary().to_owned());
        }
    }));
    lockwatch::watchdog::set_enabled(false);
    let seeds: Vec<u64> = match std::env::var("LOCKWATCH_FUZZ_SEED") {
        Ok(seed) => vec![seed.parse().expect("a number")],
        Err(_) => {
            let n = std::env::var("LOCKWATCH_FUZZ_PROGRAMS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(20_000);
            (1..=n).collect()
        }
    };
    let (mut cyclic, mut acyclic) = (0, 0);
    for seed in seeds {
        let program = generate(seed);
        let (classes, instances) = oracle_edges(&program);
        let expected = has_strong_cycle(&classes) || has_strong_cycle(&instances);
        let reported = run_with_lockwatch(&program, &format!("fz{seed}"));
        assert_eq!(
            reported, expected,
            "seed {seed}: lockwatch {} but the oracle {} (replay: LOCKWATCH_FUZZ_SEED={seed})\nclasses {:?}\nthreads {:?}\nclass edges {classes:?}\ninstance edges {instances:?}",
            if reported { "reported" } else { "stayed quiet" },
            if expected { "finds a strong cycle" } else { "finds none" },
            program.class_of,
            program.threads,
        );
        if expected {
            cyclic += 1;
        } else {
            acyclic += 1;
        }
    }
    // Both verdicts must actually occur, or the comparison proves little.
    if std::env::var("LOCKWATCH_FUZZ_SEED").is_err() {
        assert!(
            cyclic > 50 && acyclic > 50,
            "cyclic {cyclic}, acyclic {acyclic}"
        );
    }
    eprintln!("differential: {cyclic} programs with a cycle, {acyclic} without, all agreed");
}

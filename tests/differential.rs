//! Differential testing: random lock programs, run through lockwatch, against a brute-force
//! oracle that applies the rules of the README's "What it reports" table to the same
//! acquisitions.
//!
//! Each program has locks in a few classes (parking_lot's `RwLock`, `Mutex` and
//! `ReentrantMutex`, std's `Mutex` and `RwLock` through `lockwatch::sync`), and a few threads of
//! lock / try / read / read_recursive / write / upgradable / upgrade / try_upgrade /
//! with_upgraded / downgrade / map / unlock steps nested up to depth 6: locks of one class
//! nested in each other, locks held twice (two recursive reads, a reentrant mutex re-entered),
//! releases out of order, and locks released and taken back while others stay held
//! (`unlocked`, and real condvar waits on both facades' mutexes), including try-acquired ones.
//! Between two threads a lock may be dropped: what was learned through it must outlive it
//! (the per-instance graph contracts its node). With `arc_lock`, a third of the acquisitions
//! of parking_lot's locks go through the lock's `Arc` (see [`arced`]). The threads run one after the
//! other, so nothing ever waits. The oracle records every blocking acquisition with every
//! lock then held (no shortcuts), builds lockdep's typed edges (class-level between classes,
//! per instance within one), and searches for a strong cycle by brute force. lockwatch must
//! report a lock-order inversion for exactly the programs whose oracle graph has one.
//!
//! With the `tokio` feature the same programs also run as tokio tasks: over tokio `RwLock`s
//! only (on two workers, tasks moving between them while they hold guards), and mixing tokio
//! and parking_lot locks in one task.
//!
//! `LOCKWATCH_FUZZ_PROGRAMS=N` runs N programs (default 20,000; a quarter of N of each tokio
//! kind), from seed 1 or from `LOCKWATCH_FUZZ_FIRST=F` (to try programs no run has tried);
//! `LOCKWATCH_FUZZ_SEED=S` replays one program (of each tokio kind, in the tokio test).
// parking_lot 0.13 has no `read_recursive` on `RwLock`; the tracker under test is the same.
#![cfg(not(feature = "parking_lot_0_13"))]
#![cfg(feature = "enabled")]

mod common;

use common::Rng;
use lockwatch::parking_lot::{
    Condvar, MappedMutexGuard, MappedReentrantMutexGuard, MappedRwLockReadGuard,
    MappedRwLockWriteGuard, Mutex, MutexGuard, ReentrantMutex, ReentrantMutexGuard, RwLock,
    RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};
use lockwatch::{named, sync, ReportKind};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

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
    /// takes its lock back with a plain read, an upgradable one as upgradable.
    Unlocked(usize),
    /// parking_lot's `upgradable_read`.
    Upgradable(usize),
    /// parking_lot's `try_upgradable_read`.
    TryUpgradable(usize),
    /// `upgrade` of the upgradable guard at this index of the held list (it stays there): it
    /// waits for readers while every other lock is held (those taken before a tried one
    /// included).
    Upgrade(usize),
    /// `try_upgrade` of the upgradable guard at this index (it succeeds in a sequential run):
    /// a try, so no order edges.
    TryUpgrade(usize),
    /// `with_upgraded` on the upgradable guard at this index: upgraded like `Upgrade` for a
    /// moment, then upgradable again.
    WithUpgraded(usize),
    /// `downgrade` of the write or upgradable guard at this index (to a read guard).
    Downgrade(usize),
    /// `map` of the parking_lot guard at this index (to the same data): the mapped guard
    /// releases the lock when dropped, and is only ever dropped.
    Map(usize),
    /// A condvar wait (timing out at once) on the mutex guard at this index of the held list:
    /// the mutex is released and taken back with the others still held, as with `unlocked`,
    /// through the condvar's own path. It moves to the end of the list.
    Wait(usize),
}

impl Op {
    /// The lock this op acquires, if it is an acquisition.
    fn acquires(self) -> Option<usize> {
        match self {
            Op::Write(l)
            | Op::Read(l)
            | Op::ReadRecursive(l)
            | Op::TryWrite(l)
            | Op::TryRead(l)
            | Op::Upgradable(l)
            | Op::TryUpgradable(l) => Some(l),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Exclusive,
    Read,
    Recursive,
    Upgradable,
    /// A `ReentrantMutex`'s lock: exclusive to others, re-entered by its owner.
    Reentrant,
}

impl Mode {
    /// lockdep's "S" tail: held this way, the lock lets readers in.
    fn shared(self) -> bool {
        matches!(self, Mode::Read | Mode::Recursive | Mode::Upgradable)
    }
}

/// What type a class's locks are (parking_lot's, in the threads' runs; tokio programs use
/// `RwLock`s).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    RwLock,
    Mutex,
    Reentrant,
    /// `lockwatch::sync::Mutex` (std's), waited on with std's `Condvar`.
    StdMutex,
    /// `lockwatch::sync::RwLock` (std's): `read` is not recursive, no upgrades.
    StdRwLock,
}

impl Kind {
    fn std(self) -> bool {
        matches!(self, Kind::StdMutex | Kind::StdRwLock)
    }

    /// Whether a guard of this kind can be waited on with a condvar.
    fn waitable(self) -> bool {
        matches!(self, Kind::Mutex | Kind::StdMutex)
    }
}

#[derive(Clone, Copy)]
struct HeldLock {
    lock: usize,
    mode: Mode,
    /// Its guard was mapped (`MutexGuard::map`, ...): it can only be dropped now.
    mapped: bool,
}

struct Program {
    classes: usize,
    class_of: Vec<usize>,
    /// Which locks are `lockwatch::tokio::RwLock`s (the rest are parking_lot's).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    tokio: Vec<bool>,
    /// Each lock's type (by its class).
    kind: Vec<Kind>,
    threads: Vec<Vec<Op>>,
    /// The lock dropped after each thread, if any (threads' programs only).
    drops: Vec<Option<usize>>,
}

/// Which locks of a program are tokio's.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
enum Tokio {
    None,
    All,
    /// Each lock tokio's or parking_lot's at random.
    Some,
}

/// A random program whose threads, run one at a time, never block on themselves.
/// `ReadRecursive` goes only to parking_lot locks (tokio's `RwLock` has no recursive read).
fn generate(seed: u64, tokio: Tokio) -> Program {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // One class (all locks made by one helper) is the per-instance graph alone.
    let classes = 1 + rng.below(4);
    let locks = classes + rng.below(4);
    let class_of: Vec<usize> = (0..locks)
        .map(|l| if l < classes { l } else { rng.below(classes) })
        .collect();
    // Decided per class: locks of one class are of one type.
    let class_tokio: Vec<bool> = (0..classes)
        .map(|_| match tokio {
            Tokio::None => false,
            Tokio::All => true,
            Tokio::Some => rng.below(2) == 0,
        })
        .collect();
    // Without tokio, some classes are mutexes, reentrant mutexes or std's locks.
    let class_kind: Vec<Kind> = (0..classes)
        .map(|_| match (tokio, rng.below(6)) {
            (Tokio::None, 0) => Kind::Mutex,
            (Tokio::None, 1) => Kind::Reentrant,
            (Tokio::None, 2) => Kind::StdMutex,
            (Tokio::None, 3) => Kind::StdRwLock,
            _ => Kind::RwLock,
        })
        .collect();
    let kind: Vec<Kind> = class_of.iter().map(|&c| class_kind[c]).collect();
    // Mapped guards only in threads' programs (the tokio runs have no mapped guards).
    let threads_only = tokio == Tokio::None;
    let tokio: Vec<bool> = class_of.iter().map(|&c| class_tokio[c]).collect();
    // Locks not dropped yet: after a thread, now and then one is dropped (in threads'
    // programs), and what was learned through it must outlive it.
    let mut alive = vec![true; locks];
    let mut drops = Vec::new();
    let threads = (0..1 + rng.below(3))
        .map(|_| {
            let mut ops = Vec::new();
            let mut held: Vec<HeldLock> = Vec::new();
            for _ in 0..4 + rng.below(12) {
                if !held.is_empty() && rng.below(6) == 0 {
                    let i = rng.below(held.len());
                    let lock = held[i].lock;
                    // std's guards have no `unlocked`; a mutex's is also waited on a condvar.
                    let wait = kind[lock].waitable() && (kind[lock].std() || rng.below(2) == 0);
                    if held.iter().filter(|h| h.lock == lock).count() == 1
                        && (wait || !kind[lock].std())
                        && !held[i].mapped
                    {
                        let mut h = held.remove(i);
                        if h.mode == Mode::Recursive {
                            h.mode = Mode::Read;
                        }
                        held.push(h);
                        ops.push(if wait { Op::Wait(i) } else { Op::Unlocked(i) });
                        continue;
                    }
                }
                // Now and then a guard mapped, in threads (parking_lot's, not upgradable ones).
                if !held.is_empty() && threads_only && rng.below(10) == 0 {
                    let i = rng.below(held.len());
                    let h = &mut held[i];
                    if !h.mapped && !kind[h.lock].std() && h.mode != Mode::Upgradable {
                        h.mapped = true;
                        ops.push(Op::Map(i));
                        continue;
                    }
                }
                // Now and then an upgrade or a downgrade, of a parking_lot lock held once.
                if !held.is_empty() && rng.below(8) == 0 {
                    let i = rng.below(held.len());
                    let lock = held[i].lock;
                    let once =
                        held.iter().filter(|h| h.lock == lock).count() == 1 && !held[i].mapped;
                    match held[i].mode {
                        Mode::Upgradable if once && rng.below(2) == 0 => {
                            let op = match rng.below(4) {
                                0 => Op::TryUpgrade(i),
                                1 => Op::WithUpgraded(i),
                                _ => Op::Upgrade(i),
                            };
                            if op != Op::WithUpgraded(i) {
                                held[i].mode = Mode::Exclusive;
                            }
                            ops.push(op);
                            continue;
                        }
                        Mode::Upgradable | Mode::Exclusive
                            if once && kind[lock] == Kind::RwLock =>
                        {
                            held[i].mode = Mode::Read;
                            ops.push(Op::Downgrade(i));
                            continue;
                        }
                        _ => {}
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
                if !alive[lock] {
                    continue;
                }
                let mine: Vec<Mode> = held
                    .iter()
                    .filter(|h| h.lock == lock)
                    .map(|h| h.mode)
                    .collect();
                let op = match (kind[lock], rng.below(6)) {
                    // A reentrant mutex is taken again by its owner as readily as first.
                    (Kind::Reentrant, 0..=2) => Op::Write(lock),
                    (Kind::Mutex | Kind::Reentrant | Kind::StdMutex, 3 | 4) if mine.is_empty() => {
                        Op::TryWrite(lock)
                    }
                    (Kind::Mutex | Kind::StdMutex, 0..=2) if mine.is_empty() => Op::Write(lock),
                    (Kind::Mutex | Kind::Reentrant | Kind::StdMutex, _) => continue,
                    (Kind::RwLock | Kind::StdRwLock, 0 | 1) if mine.is_empty() => Op::Write(lock),
                    (Kind::RwLock, 5) if mine.is_empty() && !tokio[lock] => {
                        if rng.below(3) == 0 {
                            Op::TryUpgradable(lock)
                        } else {
                            Op::Upgradable(lock)
                        }
                    }
                    (Kind::RwLock | Kind::StdRwLock, 2) if mine.is_empty() => Op::Read(lock),
                    (Kind::RwLock, 3)
                        if !tokio[lock] && mine.iter().all(|m| *m != Mode::Exclusive) =>
                    {
                        Op::ReadRecursive(lock)
                    }
                    (Kind::RwLock | Kind::StdRwLock, 4) if mine.is_empty() => {
                        if rng.below(2) == 0 {
                            Op::TryWrite(lock)
                        } else {
                            Op::TryRead(lock)
                        }
                    }
                    _ => continue,
                };
                let mode = match op {
                    _ if kind[lock] == Kind::Reentrant => Mode::Reentrant,
                    Op::Write(_) | Op::TryWrite(_) => Mode::Exclusive,
                    Op::Read(_) | Op::TryRead(_) => Mode::Read,
                    Op::Upgradable(_) | Op::TryUpgradable(_) => Mode::Upgradable,
                    _ => Mode::Recursive,
                };
                held.push(HeldLock {
                    lock,
                    mode,
                    mapped: false,
                });
                ops.push(op);
            }
            let living: Vec<usize> = (0..locks).filter(|&l| alive[l]).collect();
            drops.push(if threads_only && living.len() > 1 && rng.below(2) == 0 {
                let l = living[rng.below(living.len())];
                alive[l] = false;
                Some(l)
            } else {
                None
            });
            ops
        })
        .collect();
    Program {
        classes,
        class_of,
        tokio,
        kind,
        threads,
        drops,
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
                Op::Unlocked(i) | Op::Wait(i) => {
                    let (h, _) = held.remove(i);
                    let mode = if h.mode == Mode::Recursive {
                        Mode::Read
                    } else {
                        h.mode
                    };
                    (h.lock, mode, false)
                }
                Op::TryUpgrade(i) => {
                    held[i].0.mode = Mode::Exclusive;
                    continue;
                }
                Op::Map(_) => continue,
                Op::Upgrade(i) | Op::WithUpgraded(i) => {
                    // Waits (as a writer) for the lock while every other lock is held.
                    let lock = held[i].0.lock;
                    for (h, _) in held.iter().filter(|(h, _)| h.lock != lock) {
                        let edge = (h.mode.shared(), false);
                        if p.class_of[h.lock] == p.class_of[lock] {
                            instances.insert((h.lock, lock, edge.0, edge.1));
                        } else {
                            classes.insert((p.class_of[h.lock], p.class_of[lock], edge.0, edge.1));
                        }
                    }
                    if *op == Op::Upgrade(i) {
                        held[i].0.mode = Mode::Exclusive;
                    }
                    continue;
                }
                Op::Downgrade(i) => {
                    held[i].0.mode = Mode::Read;
                    continue;
                }
                Op::Upgradable(l) => (l, Mode::Upgradable, false),
                Op::TryUpgradable(l) => (l, Mode::Upgradable, true),
                Op::Write(l) if p.kind[l] == Kind::Reentrant => (l, Mode::Reentrant, false),
                Op::TryWrite(l) if p.kind[l] == Kind::Reentrant => (l, Mode::Reentrant, true),
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
                    let edge_type = (h.mode.shared(), mode == Mode::Recursive);
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
            held.push((
                HeldLock {
                    lock,
                    mode,
                    mapped: false,
                },
                try_,
            ));
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
/// A program's lock in a threads' run (parking_lot's in an `Arc`, which some acquisitions go
/// through: see [`arced`]).
enum L {
    Rw(Arc<RwLock<()>>),
    /// With its condvar (a condvar serves one mutex).
    M(Arc<Mutex<()>>, Condvar),
    Re(Arc<ReentrantMutex<()>>),
    Sm(sync::Mutex<()>, sync::Condvar),
    Srw(sync::RwLock<()>),
}

const FREE: &str = "free in a sequential run";

/// With the `arc_lock` feature, a third of the acquisitions of parking_lot's locks (chosen by
/// the step and the lock, so a replay makes the same choice) go through the lock's `Arc`
/// (`write_arc`, `lock_arc`, `read_arc_recursive`, ...), and the ops on their guards through
/// the `Arc` guards' own methods: the same rules must hold.
#[cfg(feature = "arc_lock")]
mod arced {
    use super::{Op, FREE, L};
    use lockwatch::parking_lot::{
        ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
        ArcRwLockWriteGuard, RawMutex, RawRwLock, RawThreadId,
    };

    /// Acquisitions made through an `Arc` so far (the test checks that there are some).
    pub(super) static TAKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    #[allow(dead_code)] // Only held, to be dropped.
    pub(super) enum Arced {
        R(ArcRwLockReadGuard<RawRwLock, ()>),
        W(ArcRwLockWriteGuard<RawRwLock, ()>),
        U(ArcRwLockUpgradableReadGuard<RawRwLock, ()>),
        M(ArcMutexGuard<RawMutex, ()>),
        Re(ArcReentrantMutexGuard<RawMutex, RawThreadId, ()>),
    }

    /// The acquisition `op`, step `step` of its thread, through the lock's `Arc`, if this one
    /// goes that way.
    pub(super) fn acquire(op: Op, step: usize, locks: &[Option<L>]) -> Option<(usize, Arced)> {
        let l = op.acquires()?;
        if (step * 7 + l) % 3 != 0 {
            return None;
        }
        let guard = match (op, locks[l].as_ref().expect("not dropped yet")) {
            (Op::Write(_), L::Rw(x)) => Arced::W(x.write_arc()),
            (Op::Write(_), L::M(x, _)) => Arced::M(x.lock_arc()),
            (Op::Write(_), L::Re(x)) => Arced::Re(x.lock_arc()),
            (Op::Read(_), L::Rw(x)) => Arced::R(x.read_arc()),
            (Op::ReadRecursive(_), L::Rw(x)) => Arced::R(x.read_arc_recursive()),
            (Op::TryWrite(_), L::Rw(x)) => Arced::W(x.try_write_arc().expect(FREE)),
            (Op::TryWrite(_), L::M(x, _)) => Arced::M(x.try_lock_arc().expect(FREE)),
            (Op::TryWrite(_), L::Re(x)) => Arced::Re(x.try_lock_arc().expect(FREE)),
            (Op::TryRead(_), L::Rw(x)) => Arced::R(x.try_read_arc().expect(FREE)),
            (Op::Upgradable(_), L::Rw(x)) => Arced::U(x.upgradable_read_arc()),
            (Op::TryUpgradable(_), L::Rw(x)) => Arced::U(x.try_upgradable_read_arc().expect(FREE)),
            // std's locks have no `Arc` acquisitions.
            _ => return None,
        };
        TAKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some((l, guard))
    }

    impl Arced {
        /// `unlocked` (also standing in for a condvar wait, which takes a borrowed guard).
        pub(super) fn unlocked(&mut self) {
            match self {
                Arced::R(g) => ArcRwLockReadGuard::unlocked(g, || ()),
                Arced::W(g) => ArcRwLockWriteGuard::unlocked(g, || ()),
                Arced::U(g) => ArcRwLockUpgradableReadGuard::unlocked(g, || ()),
                Arced::M(g) => ArcMutexGuard::unlocked(g, || ()),
                Arced::Re(g) => ArcReentrantMutexGuard::unlocked(g, || ()),
            }
        }

        /// `upgrade`, or `try_upgrade` (which succeeds in a sequential run).
        pub(super) fn upgrade(self, try_: bool) -> Arced {
            let Arced::U(u) = self else {
                unreachable!("an upgrade of an upgradable guard")
            };
            Arced::W(if try_ {
                ArcRwLockUpgradableReadGuard::try_upgrade(u).unwrap_or_else(|_| panic!("{FREE}"))
            } else {
                ArcRwLockUpgradableReadGuard::upgrade(u)
            })
        }

        pub(super) fn with_upgraded(&mut self) {
            let Arced::U(u) = self else {
                unreachable!("an upgrade of an upgradable guard")
            };
            u.with_upgraded(|_| ());
        }

        pub(super) fn downgrade(self) -> Arced {
            Arced::R(match self {
                Arced::W(w) => ArcRwLockWriteGuard::downgrade(w),
                Arced::U(u) => ArcRwLockUpgradableReadGuard::downgrade(u),
                _ => unreachable!("a downgrade of a write or upgradable guard"),
            })
        }
    }
}

fn run_with_lockwatch(p: &Program, tag: &str) -> bool {
    let before = SEEN.lock().unwrap().len();
    let names: Vec<String> = (0..p.classes).map(|c| format!("{tag}-c{c}")).collect();
    let mut locks: Vec<Option<L>> = p
        .class_of
        .iter()
        .enumerate()
        .map(|(l, &c)| {
            Some(match p.kind[l] {
                Kind::RwLock => L::Rw(Arc::new(named(RwLock::new(()), &names[c]))),
                Kind::Mutex => L::M(Arc::new(named(Mutex::new(()), &names[c])), Condvar::new()),
                Kind::Reentrant => L::Re(Arc::new(named(ReentrantMutex::new(()), &names[c]))),
                Kind::StdMutex => {
                    L::Sm(named(sync::Mutex::new(()), &names[c]), sync::Condvar::new())
                }
                Kind::StdRwLock => L::Srw(named(sync::RwLock::new(()), &names[c])),
            })
        })
        .collect();
    for (ops, dropped) in p.threads.iter().zip(&p.drops) {
        let lock = |l: usize| locks[l].as_ref().expect("not dropped yet");
        let rw = |l: usize| match lock(l) {
            L::Rw(lock) => lock,
            _ => unreachable!("a read or an upgrade of parking_lot's RwLock"),
        };
        std::thread::scope(|s| {
            s.spawn(|| {
                // The guards are only held, to be dropped by `Unlock` (or at the thread's end).
                #[allow(dead_code)]
                enum G<'a> {
                    R(RwLockReadGuard<'a, ()>),
                    W(RwLockWriteGuard<'a, ()>),
                    U(RwLockUpgradableReadGuard<'a, ()>),
                    M(MutexGuard<'a, ()>),
                    Re(ReentrantMutexGuard<'a, ()>),
                    Sm(sync::MutexGuard<'a, ()>),
                    Sr(sync::RwLockReadGuard<'a, ()>),
                    Sw(sync::RwLockWriteGuard<'a, ()>),
                    Mapped(Mapped<'a>),
                    #[cfg(feature = "arc_lock")]
                    Arc(arced::Arced),
                }
                #[allow(dead_code)]
                enum Mapped<'a> {
                    M(MappedMutexGuard<'a, ()>),
                    R(MappedRwLockReadGuard<'a, ()>),
                    W(MappedRwLockWriteGuard<'a, ()>),
                    Re(MappedReentrantMutexGuard<'a, ()>),
                }
                // Each guard with its lock's index.
                let mut held: Vec<(usize, G)> = Vec::new();
                // The step picks the acquisitions made through an `Arc` (`arc_lock`).
                #[cfg_attr(not(feature = "arc_lock"), allow(clippy::unused_enumerate_index))]
                for (_step, op) in ops.iter().enumerate() {
                    #[cfg(feature = "arc_lock")]
                    if let Some((l, g)) = arced::acquire(*op, _step, &locks) {
                        held.push((l, G::Arc(g)));
                        continue;
                    }
                    let next = match *op {
                        Op::Unlock(i) => {
                            drop(held.remove(i));
                            continue;
                        }
                        Op::Unlocked(i) => {
                            let (l, mut g) = held.remove(i);
                            match &mut g {
                                G::R(r) => RwLockReadGuard::unlocked(r, || ()),
                                G::W(w) => RwLockWriteGuard::unlocked(w, || ()),
                                G::U(u) => RwLockUpgradableReadGuard::unlocked(u, || ()),
                                G::M(m) => MutexGuard::unlocked(m, || ()),
                                G::Re(r) => ReentrantMutexGuard::unlocked(r, || ()),
                                #[cfg(feature = "arc_lock")]
                                G::Arc(a) => a.unlocked(),
                                G::Sm(_) | G::Sr(_) | G::Sw(_) | G::Mapped(_) => {
                                    unreachable!("not generated: no `unlocked` on these guards")
                                }
                            }
                            (l, g)
                        }
                        Op::Wait(i) => {
                            let (l, g) = held.remove(i);
                            let g = match (g, lock(l)) {
                                (G::M(mut m), L::M(_, cv)) => {
                                    assert!(cv.wait_for(&mut m, Duration::ZERO).timed_out());
                                    G::M(m)
                                }
                                (G::Sm(m), L::Sm(_, cv)) => {
                                    let (m, timeout) = cv.wait_timeout(m, Duration::ZERO).unwrap();
                                    assert!(timeout.timed_out());
                                    G::Sm(m)
                                }
                                #[cfg(feature = "arc_lock")]
                                (G::Arc(mut a), _) => {
                                    a.unlocked();
                                    G::Arc(a)
                                }
                                _ => unreachable!("a wait on a mutex's guard"),
                            };
                            (l, g)
                        }
                        Op::Upgrade(i) | Op::TryUpgrade(i) => {
                            let try_ = matches!(op, Op::TryUpgrade(_));
                            let (l, g) = held.remove(i);
                            let g = match g {
                                G::U(u) if try_ => G::W(
                                    RwLockUpgradableReadGuard::try_upgrade(u)
                                        .unwrap_or_else(|_| panic!("{FREE}")),
                                ),
                                G::U(u) => G::W(RwLockUpgradableReadGuard::upgrade(u)),
                                #[cfg(feature = "arc_lock")]
                                G::Arc(a) => G::Arc(a.upgrade(try_)),
                                _ => unreachable!("an upgrade of an upgradable guard"),
                            };
                            held.insert(i, (l, g));
                            continue;
                        }
                        Op::WithUpgraded(i) => {
                            match &mut held[i].1 {
                                G::U(u) => u.with_upgraded(|_| ()),
                                #[cfg(feature = "arc_lock")]
                                G::Arc(a) => a.with_upgraded(),
                                _ => unreachable!("an upgrade of an upgradable guard"),
                            }
                            continue;
                        }
                        Op::Map(i) => {
                            let (l, g) = held.remove(i);
                            let mapped = match g {
                                G::M(m) => G::Mapped(Mapped::M(MutexGuard::map(m, |d| d))),
                                G::R(r) => G::Mapped(Mapped::R(RwLockReadGuard::map(r, |d| d))),
                                G::W(w) => G::Mapped(Mapped::W(RwLockWriteGuard::map(w, |d| d))),
                                G::Re(r) => {
                                    G::Mapped(Mapped::Re(ReentrantMutexGuard::map(r, |d| d)))
                                }
                                // `Arc` guards have no `map`: it stays as it is (only dropped
                                // from now on, as a mapped one).
                                #[cfg(feature = "arc_lock")]
                                g @ G::Arc(_) => g,
                                _ => unreachable!("a map of a parking_lot guard, not upgradable"),
                            };
                            held.insert(i, (l, mapped));
                            continue;
                        }
                        Op::Downgrade(i) => {
                            let (l, g) = held.remove(i);
                            let g = match g {
                                G::W(w) => G::R(RwLockWriteGuard::downgrade(w)),
                                G::U(u) => G::R(RwLockUpgradableReadGuard::downgrade(u)),
                                #[cfg(feature = "arc_lock")]
                                G::Arc(a) => G::Arc(a.downgrade()),
                                _ => unreachable!("a downgrade of a read guard or a mutex's"),
                            };
                            held.insert(i, (l, g));
                            continue;
                        }
                        Op::Upgradable(l) => (l, G::U(rw(l).upgradable_read())),
                        Op::TryUpgradable(l) => (l, G::U(rw(l).try_upgradable_read().expect(FREE))),
                        Op::Write(l) => (
                            l,
                            match lock(l) {
                                L::Rw(lock) => G::W(lock.write()),
                                L::M(lock, _) => G::M(lock.lock()),
                                L::Re(lock) => G::Re(lock.lock()),
                                L::Sm(lock, _) => G::Sm(lock.lock().unwrap()),
                                L::Srw(lock) => G::Sw(lock.write().unwrap()),
                            },
                        ),
                        Op::Read(l) => (
                            l,
                            match lock(l) {
                                L::Srw(lock) => G::Sr(lock.read().unwrap()),
                                _ => G::R(rw(l).read()),
                            },
                        ),
                        Op::ReadRecursive(l) => (l, G::R(rw(l).read_recursive())),
                        Op::TryWrite(l) => (
                            l,
                            match lock(l) {
                                L::Rw(lock) => G::W(lock.try_write().expect(FREE)),
                                L::M(lock, _) => G::M(lock.try_lock().expect(FREE)),
                                L::Re(lock) => G::Re(lock.try_lock().expect(FREE)),
                                L::Sm(lock, _) => G::Sm(lock.try_lock().expect(FREE)),
                                L::Srw(lock) => G::Sw(lock.try_write().expect(FREE)),
                            },
                        ),
                        Op::TryRead(l) => (
                            l,
                            match lock(l) {
                                L::Srw(lock) => G::Sr(lock.try_read().expect(FREE)),
                                _ => G::R(rw(l).try_read().expect(FREE)),
                            },
                        ),
                    };
                    held.push(next);
                }
            });
        });
        if let Some(l) = *dropped {
            locks[l] = None;
        }
    }
    let prefix = format!("`{tag}-c");
    SEEN.lock().unwrap()[before..]
        .iter()
        .any(|s| s.contains(&prefix))
}

#[cfg(feature = "tokio")]
/// A program's lock: parking_lot's or tokio's `RwLock`.
enum AnyLock {
    Pl(RwLock<()>),
    Tokio(lockwatch::tokio::RwLock<()>),
}

#[cfg(feature = "tokio")]
fn make_locks(p: &Program, tag: &str) -> Vec<AnyLock> {
    let names: Vec<String> = (0..p.classes).map(|c| format!("{tag}-c{c}")).collect();
    p.class_of
        .iter()
        .zip(&p.tokio)
        .map(|(&c, &tokio)| {
            if tokio {
                AnyLock::Tokio(named(lockwatch::tokio::RwLock::new(()), &names[c]))
            } else {
                AnyLock::Pl(named(RwLock::new(()), &names[c]))
            }
        })
        .collect()
}

#[cfg(feature = "tokio")]
fn reported_since(before: usize, tag: &str) -> bool {
    let prefix = format!("`{tag}-c");
    SEEN.lock().unwrap()[before..]
        .iter()
        .any(|s| s.contains(&prefix))
}

#[cfg(feature = "tokio")]
/// Runs the program's threads as tokio tasks, one after the other, yielding between steps.
/// On a current-thread runtime in a `LocalSet` when parking_lot locks are in it (their guards
/// are held across the task's `.await`s, on its one thread); on a multi-thread runtime when
/// all are tokio's, so that tasks move between workers while they hold guards.
fn run_in_tasks(p: &Program, tag: &str, rt: &tokio::runtime::Runtime) -> bool {
    let before = SEEN.lock().unwrap().len();
    let locks = std::sync::Arc::new(make_locks(p, tag));
    for ops in &p.threads {
        let (ops, locks) = (ops.clone(), std::sync::Arc::clone(&locks));
        if p.tokio.iter().all(|&t| t) {
            rt.block_on(rt.spawn(async move { run_tokio_ops(&ops, &locks).await }))
                .unwrap();
        } else {
            let local = tokio::task::LocalSet::new();
            local.block_on(rt, async move {
                tokio::task::spawn_local(async move { run_mixed_ops(&ops, &locks).await })
                    .await
                    .unwrap();
            });
        }
    }
    reported_since(before, tag)
}

#[cfg(feature = "tokio")]
/// One program thread over tokio locks only (a `Send` future).
async fn run_tokio_ops(ops: &[Op], locks: &[AnyLock]) {
    use lockwatch::tokio::{RwLockReadGuard as R, RwLockWriteGuard as W};
    #[allow(dead_code)]
    enum G<'a> {
        R(R<'a, ()>),
        W(W<'a, ()>),
    }
    let tokio = |l: usize| match &locks[l] {
        AnyLock::Tokio(l) => l,
        AnyLock::Pl(_) => unreachable!("all tokio"),
    };
    let mut held: Vec<(usize, G)> = Vec::new();
    for &op in ops {
        let next = match op {
            Op::Unlock(i) => {
                held.remove(i);
                None
            }
            Op::Unlocked(i) => {
                let (l, g) = held.remove(i);
                Some(match g {
                    G::R(r) => {
                        drop(r);
                        (l, G::R(tokio(l).read().await))
                    }
                    G::W(w) => {
                        drop(w);
                        (l, G::W(tokio(l).write().await))
                    }
                })
            }
            Op::Write(l) => Some((l, G::W(tokio(l).write().await))),
            Op::Read(l) => Some((l, G::R(tokio(l).read().await))),
            Op::TryWrite(l) => Some((l, G::W(tokio(l).try_write().unwrap()))),
            Op::TryRead(l) => Some((l, G::R(tokio(l).try_read().unwrap()))),
            Op::Downgrade(i) => {
                let (l, G::W(w)) = held.remove(i) else {
                    unreachable!("a tokio lock's downgrade is of a write guard")
                };
                held.insert(i, (l, G::R(w.downgrade())));
                None
            }
            Op::ReadRecursive(_)
            | Op::Upgradable(_)
            | Op::TryUpgradable(_)
            | Op::Upgrade(_)
            | Op::TryUpgrade(_)
            | Op::WithUpgraded(_)
            | Op::Map(_)
            | Op::Wait(_) => {
                unreachable!("not generated for tokio locks")
            }
        };
        held.extend(next);
        tokio::task::yield_now().await;
    }
}

#[cfg(feature = "tokio")]
/// One program thread over parking_lot and tokio locks, in a local task.
async fn run_mixed_ops(ops: &[Op], locks: &[AnyLock]) {
    use lockwatch::tokio::{RwLockReadGuard as TR, RwLockWriteGuard as TW};
    #[allow(dead_code)]
    enum G<'a> {
        R(RwLockReadGuard<'a, ()>),
        W(RwLockWriteGuard<'a, ()>),
        U(RwLockUpgradableReadGuard<'a, ()>),
        TR(TR<'a, ()>),
        TW(TW<'a, ()>),
    }
    let mut held: Vec<(usize, G)> = Vec::new();
    for &op in ops {
        let next = match op {
            Op::Unlock(i) => {
                held.remove(i);
                None
            }
            Op::Unlocked(i) => {
                let (l, g) = held.remove(i);
                let tokio = || match &locks[l] {
                    AnyLock::Tokio(lock) => lock,
                    AnyLock::Pl(_) => unreachable!("a tokio guard of a tokio lock"),
                };
                let g = match g {
                    G::R(mut r) => {
                        RwLockReadGuard::unlocked(&mut r, || ());
                        G::R(r)
                    }
                    G::W(mut w) => {
                        RwLockWriteGuard::unlocked(&mut w, || ());
                        G::W(w)
                    }
                    G::U(mut u) => {
                        RwLockUpgradableReadGuard::unlocked(&mut u, || ());
                        G::U(u)
                    }
                    G::TR(r) => {
                        drop(r);
                        G::TR(tokio().read().await)
                    }
                    G::TW(w) => {
                        drop(w);
                        G::TW(tokio().write().await)
                    }
                };
                Some((l, g))
            }
            Op::Write(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::W(lock.write()),
                    AnyLock::Tokio(lock) => G::TW(lock.write().await),
                },
            )),
            Op::Read(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::R(lock.read()),
                    AnyLock::Tokio(lock) => G::TR(lock.read().await),
                },
            )),
            Op::ReadRecursive(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::R(lock.read_recursive()),
                    AnyLock::Tokio(_) => unreachable!("not generated for tokio locks"),
                },
            )),
            Op::Upgradable(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::U(lock.upgradable_read()),
                    AnyLock::Tokio(_) => unreachable!("not generated for tokio locks"),
                },
            )),
            Op::TryUpgradable(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::U(lock.try_upgradable_read().unwrap()),
                    AnyLock::Tokio(_) => unreachable!("not generated for tokio locks"),
                },
            )),
            Op::Upgrade(i) => {
                let (l, G::U(u)) = held.remove(i) else {
                    unreachable!("an upgrade of an upgradable guard")
                };
                held.insert(i, (l, G::W(RwLockUpgradableReadGuard::upgrade(u))));
                None
            }
            Op::TryUpgrade(i) => {
                let (l, G::U(u)) = held.remove(i) else {
                    unreachable!("an upgrade of an upgradable guard")
                };
                let w = RwLockUpgradableReadGuard::try_upgrade(u)
                    .unwrap_or_else(|_| panic!("free in a sequential run"));
                held.insert(i, (l, G::W(w)));
                None
            }
            Op::WithUpgraded(i) => {
                let (_, G::U(u)) = &mut held[i] else {
                    unreachable!("an upgrade of an upgradable guard")
                };
                u.with_upgraded(|_| ());
                None
            }
            Op::Downgrade(i) => {
                let (l, g) = held.remove(i);
                let g = match g {
                    G::W(w) => G::R(RwLockWriteGuard::downgrade(w)),
                    G::U(u) => G::R(RwLockUpgradableReadGuard::downgrade(u)),
                    G::TW(w) => G::TR(w.downgrade()),
                    _ => unreachable!("a downgrade of a write or upgradable guard"),
                };
                held.insert(i, (l, g));
                None
            }
            Op::Wait(_) | Op::Map(_) => unreachable!("not generated for tokio programs"),
            Op::TryWrite(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::W(lock.try_write().unwrap()),
                    AnyLock::Tokio(lock) => G::TW(lock.try_write().unwrap()),
                },
            )),
            Op::TryRead(l) => Some((
                l,
                match &locks[l] {
                    AnyLock::Pl(lock) => G::R(lock.try_read().unwrap()),
                    AnyLock::Tokio(lock) => G::TR(lock.try_read().unwrap()),
                },
            )),
        };
        held.extend(next);
        tokio::task::yield_now().await;
    }
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
    let (mut cyclic, mut acyclic) = (0, 0);
    // Programs that re-enter a reentrant mutex, take a mutex, upgrade, use std's locks, wait
    // on a condvar: the generator must keep making each.
    let (mut reentered, mut mutexes, mut upgrades, mut std_locks, mut waits, mut maps) =
        (0, 0, 0, 0, 0, 0);
    let mut drops = 0;
    for seed in seeds(20_000) {
        let program = generate(seed, Tokio::None);
        let has = |f: fn(&Op) -> bool| u64::from(program.threads.iter().flatten().any(f));
        reentered += u64::from(program.reenters());
        mutexes += u64::from(program.kind.contains(&Kind::Mutex));
        upgrades +=
            has(|op| matches!(op, Op::Upgrade(_) | Op::TryUpgrade(_) | Op::WithUpgraded(_)));
        waits += has(|op| matches!(op, Op::Wait(_)));
        maps += has(|op| matches!(op, Op::Map(_)));
        // A lock dropped before a later thread runs.
        drops += u64::from(
            program.drops[..program.drops.len() - 1]
                .iter()
                .any(Option::is_some),
        );
        std_locks += u64::from(program.kind.iter().any(|k| k.std()));
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
    both_verdicts_occur(cyclic, acyclic);
    if std::env::var_os("LOCKWATCH_FUZZ_SEED").is_none() {
        assert!(
            [reentered, mutexes, upgrades, std_locks, waits, maps, drops]
                .iter()
                .all(|&n| n > 50),
            "re-entered {reentered}, with a mutex {mutexes}, upgrading {upgrades}, \
             with std's locks {std_locks}, waiting on a condvar {waits}, mapping {maps}, \
             dropping a lock {drops}"
        );
        #[cfg(feature = "arc_lock")]
        assert!(arced::TAKEN.load(std::sync::atomic::Ordering::Relaxed) > 50);
    }
    eprintln!(
        "differential: {cyclic} programs with a cycle, {acyclic} without, all agreed \
         ({reentered} re-entering a reentrant mutex, {mutexes} with a mutex, {upgrades} upgrading, \
         {std_locks} with std's locks, {waits} waiting on a condvar, {maps} mapping a guard, \
         {drops} dropping a lock before another thread runs)"
    );
    #[cfg(feature = "arc_lock")]
    eprintln!(
        "  {} acquisitions through an Arc",
        arced::TAKEN.load(std::sync::atomic::Ordering::Relaxed)
    );
}

impl Program {
    /// Whether a thread takes a reentrant mutex it already holds.
    fn reenters(&self) -> bool {
        self.threads.iter().any(|ops| {
            let mut held: Vec<usize> = Vec::new();
            ops.iter().any(|op| match (*op, op.acquires()) {
                (_, Some(l)) => {
                    let again = self.kind[l] == Kind::Reentrant && held.contains(&l);
                    held.push(l);
                    again
                }
                (Op::Unlock(i), _) => {
                    held.remove(i);
                    false
                }
                (Op::Unlocked(i) | Op::Wait(i), _) => {
                    let l = held.remove(i);
                    held.push(l);
                    false
                }
                _ => false,
            })
        })
    }
}

/// The seeds to run: the one of `LOCKWATCH_FUZZ_SEED`, or `LOCKWATCH_FUZZ_PROGRAMS` of them
/// (`default` if unset) from `LOCKWATCH_FUZZ_FIRST` (1 if unset).
fn seeds(default: u64) -> std::ops::RangeInclusive<u64> {
    let var = |name: &str| {
        std::env::var(name).ok().map(|v| {
            v.parse::<u64>()
                .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
        })
    };
    if let Some(seed) = var("LOCKWATCH_FUZZ_SEED") {
        return seed..=seed;
    }
    let first = var("LOCKWATCH_FUZZ_FIRST").unwrap_or(1);
    let n = var("LOCKWATCH_FUZZ_PROGRAMS").unwrap_or(default);
    first..=first + n.max(1) - 1
}

/// Both verdicts must actually occur, or the comparison proves little (unless one program is
/// replayed).
fn both_verdicts_occur(cyclic: u64, acyclic: u64) {
    if std::env::var_os("LOCKWATCH_FUZZ_SEED").is_none() {
        assert!(
            cyclic > 50 && acyclic > 50,
            "cyclic {cyclic}, acyclic {acyclic}"
        );
    }
}

/// The same comparison for tokio's locks, held per task: programs over tokio `RwLock`s only
/// (tasks moving between two workers while they hold guards), and programs mixing tokio and
/// parking_lot locks in one task. `LOCKWATCH_FUZZ_PROGRAMS` sets the count here too (a
/// quarter of it for each kind; default 5,000 in all).
#[cfg(feature = "tokio")]
#[test]
fn tokio_tasks_report_exactly_the_programs_the_oracle_finds_cycles_in() {
    lockwatch::set_policy(lockwatch::Policy::callback(|r| {
        if r.kind() == ReportKind::LockOrder {
            SEEN.lock().unwrap().push(r.summary().to_owned());
        }
    }));
    lockwatch::watchdog::set_enabled(false);
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let single = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // A quarter of the programs for each kind.
    let all = seeds(10_000);
    let (first, n) = (*all.start(), (all.end() - all.start() + 1).div_ceil(4));
    let (mut cyclic, mut acyclic) = (0, 0);
    for (kind, rt) in [(Tokio::All, &multi), (Tokio::Some, &single)] {
        for seed in first..first + n {
            let program = generate(seed, kind);
            let (classes, instances) = oracle_edges(&program);
            let expected = has_strong_cycle(&classes) || has_strong_cycle(&instances);
            let tag = format!("tk{}-{seed}", kind == Tokio::All);
            let reported = run_in_tasks(&program, &tag, rt);
            assert_eq!(
                reported, expected,
                "{tag}: lockwatch {} but the oracle {} (replay: LOCKWATCH_FUZZ_SEED={seed})\nclasses {:?}\ntokio {:?}\nthreads {:?}\nclass edges {classes:?}\ninstance edges {instances:?}",
                if reported { "reported" } else { "stayed quiet" },
                if expected { "finds a strong cycle" } else { "finds none" },
                program.class_of,
                program.tokio,
                program.threads,
            );
            if expected {
                cyclic += 1;
            } else {
                acyclic += 1;
            }
        }
    }
    both_verdicts_occur(cyclic, acyclic);
    eprintln!(
        "differential (tokio tasks): {cyclic} programs with a cycle, {acyclic} without, all agreed"
    );
}

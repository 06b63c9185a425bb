//! loom models of the lock-free parts, over loom's atomics. The files under test are the
//! crate's own, included by path; they take their atomics from the `primitive` module below.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --test loom
//! ```
#![cfg(loom)]

mod primitive {
    pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};
}

#[allow(dead_code)]
#[path = "../src/tracker/seqlock.rs"]
mod seqlock;

#[allow(dead_code)]
#[path = "../src/tracker/lazy_id.rs"]
mod lazy_id;

#[allow(dead_code)]
#[path = "../src/tracker/wait_slot.rs"]
mod wait_slot;

use loom::sync::Arc;
use loom::thread;

/// Explores every interleaving with at most `bound` preemptions (loom's usual bound: bugs
/// need few).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// The published held-lock stack: a reader never sees a torn row while the writer releases a
/// hold and takes another in its slot.
#[test]
fn a_snapshot_never_sees_a_torn_row() {
    model(5, || {
        let rows = Arc::new(seqlock::SeqRows::<1, 2>::new());
        let writer = {
            let rows = Arc::clone(&rows);
            thread::spawn(move || {
                assert!(rows.push([1, 1]));
                rows.pop();
                assert!(rows.push([2, 2]));
            })
        };
        if let Some(seen) = rows.read_with_next(1).map(|(rows, _)| rows) {
            assert!(
                seen.is_empty() || seen == vec![[1, 1]] || seen == vec![[2, 2]],
                "torn {seen:?}"
            );
        }
        writer.join().unwrap();
        assert_eq!(
            rows.read_with_next(1).map(|(rows, _)| rows),
            Some(vec![[2, 2]])
        );
    });
}

/// A pop races a snapshot: the reader sees the row whole or not at all.
#[test]
fn a_pop_never_shows_half_a_row() {
    model(5, || {
        let rows = Arc::new(seqlock::SeqRows::<1, 2>::new());
        assert!(rows.push([7, 7]));
        let writer = {
            let rows = Arc::clone(&rows);
            thread::spawn(move || rows.pop())
        };
        if let Some(seen) = rows.read_with_next(1).map(|(rows, _)| rows) {
            assert!(seen.is_empty() || seen == vec![[7, 7]], "{seen:?}");
        }
        writer.join().unwrap();
        assert_eq!(rows.read_with_next(1).map(|(rows, _)| rows), Some(vec![]));
    });
}

/// A release from the middle of the stack rewrites the rows above it in place: a reader sees
/// the stack before or after (or the kept part alone), never a mix.
#[test]
fn rewriting_rows_in_place_is_never_seen_half_done() {
    model(4, || {
        let rows = Arc::new(seqlock::SeqRows::<2, 2>::new());
        assert!(rows.push([1, 1]));
        assert!(rows.push([2, 2]));
        let writer = {
            let rows = Arc::clone(&rows);
            thread::spawn(move || rows.replace_from(0, &[[3, 3]]))
        };
        if let Some(seen) = rows.read_with_next(1).map(|(rows, _)| rows) {
            assert!(
                seen.is_empty() || seen == vec![[1, 1], [2, 2]] || seen == vec![[3, 3]],
                "{seen:?}"
            );
        }
        writer.join().unwrap();
        assert_eq!(
            rows.read_with_next(1).map(|(rows, _)| rows),
            Some(vec![[3, 3]])
        );
    });
}

/// A direct lock call: the writer releases a hold, announces the next row, withdraws it and
/// pushes the hold, releases that and announces another. A reader sees a wait or holds,
/// never a wait alongside a hold (the one popped before it, or its own pushed after it), and
/// never an announcement torn between two calls.
#[test]
fn an_announced_row_is_seen_whole_and_never_with_a_hold() {
    model(4, || {
        let rows = Arc::new(seqlock::SeqRows::<1, 2>::new());
        assert!(rows.push([1, 1]));
        let writer = {
            let rows = Arc::clone(&rows);
            thread::spawn(move || {
                rows.pop();
                rows.announce([5, 5]);
                rows.withdraw(0, 1);
                assert!(rows.push([5, 5]));
                rows.pop();
                rows.announce([6, 6]);
            })
        };
        if let Some((seen, next)) = rows.read_with_next(1) {
            if next[0] != 0 {
                assert!(next == [5, 5] || next == [6, 6], "torn {next:?}");
                assert!(seen.is_empty(), "waiting while holding {seen:?}");
            } else {
                assert!(
                    seen.is_empty() || seen == vec![[1, 1]] || seen == vec![[5, 5]],
                    "{seen:?}"
                );
            }
        }
        writer.join().unwrap();
        assert_eq!(rows.read_with_next(1), Some((vec![], [6, 6])));
    });
}

/// Lazy lock identity: racing first uses agree on one id, and whoever sees the id sees the
/// class word published with it.
#[test]
fn racing_first_uses_agree_on_one_identity() {
    const CLASS: u64 = 0xC1A55;
    model(5, || {
        let ident = Arc::new(lazy_id::LazyId::from_parts(
            primitive::AtomicU64::new(0),
            primitive::AtomicU64::new(0),
        ));
        let racers: Vec<_> = [10u64, 20]
            .into_iter()
            .map(|fresh| {
                let ident = Arc::clone(&ident);
                thread::spawn(move || match ident.get() {
                    Some(seen) => seen,
                    None => ident.init(fresh, CLASS),
                })
            })
            .collect();
        if let Some((_, class)) = ident.get() {
            assert_eq!(class, CLASS, "an id seen without its class");
        }
        let results: Vec<(u64, u64)> = racers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results[0], results[1], "two identities for one lock");
        assert_eq!(results[0].1, CLASS);
        assert_eq!(ident.get(), Some(results[0]));
    });
}

/// A thread's published lock wait: the watchdog's copy is a whole wait (the one before, or
/// the one after) or none, never words of two waits.
#[test]
fn a_wait_is_read_whole_or_not_at_all() {
    model(4, || {
        let slot = Arc::new(wait_slot::WaitSlot::new());
        let owner = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || {
                slot.publish([1, 1, 1, 1, 1, 1], false);
                slot.end();
                slot.publish([2, 2, 2, 2, 2, 2], false);
            })
        };
        if let Some(seen) = slot.read(1) {
            assert!(
                seen == [1; wait_slot::WORDS] || seen == [2; wait_slot::WORDS],
                "torn {seen:?}"
            );
        }
        owner.join().unwrap();
        assert_eq!(slot.read(1), Some([2; wait_slot::WORDS]));
    });
}

/// The watchdog's promotion of a wait runs only while the wait is on (what it points at is
/// alive: the owner clears `alive` only after its wait ended), and the owner learns of it.
#[test]
fn a_promotion_runs_only_while_the_wait_is_on() {
    model(4, || {
        use loom::sync::atomic::{AtomicBool, Ordering::*};
        let slot = Arc::new(wait_slot::WaitSlot::new());
        let alive = Arc::new(AtomicBool::new(true));
        let promoted = Arc::new(AtomicBool::new(false));
        slot.publish([7, 1, 1, 1, 10, 99], false);
        let watchdog = {
            let (slot, alive, promoted) =
                (Arc::clone(&slot), Arc::clone(&alive), Arc::clone(&promoted));
            thread::spawn(move || {
                slot.promote(10, |context, since, sampled| {
                    assert!(alive.load(Relaxed), "promoted after the wait ended");
                    assert_eq!((context, since, sampled), (99, 10, false));
                    promoted.store(true, Relaxed);
                });
            })
        };
        let ended = slot.end();
        alive.store(false, Relaxed);
        watchdog.join().unwrap();
        assert_eq!(
            ended == wait_slot::PROMOTED,
            promoted.load(Relaxed),
            "the owner knows whether its wait was taken over"
        );
        assert!(ended == wait_slot::PROMOTED || ended == wait_slot::WAITING);
    });
}

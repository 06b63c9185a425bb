//! loom models of the lock-free parts, over loom's atomics. The files under test are the
//! crate's own, included by path; they take their atomics from the `primitive` module below.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --test loom
//! ```
#![cfg(loom)]

mod primitive {
    pub(crate) use loom::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
}

#[allow(dead_code)]
#[path = "../src/tracker/seqlock.rs"]
mod seqlock;

#[allow(dead_code)]
#[path = "../src/tracker/lazy_id.rs"]
mod lazy_id;

use loom::sync::Arc;
use loom::thread;

/// Explores every interleaving with at most `bound` preemptions (loom's usual bound: bugs
/// need few).
fn model(bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// The published held-lock inventory: a reader never sees a torn row while the writer
/// replaces it (a hold released and another taken in its slot).
#[test]
fn a_snapshot_never_sees_a_torn_row() {
    model(5, || {
        let rows = Arc::new(seqlock::SeqRows::<1, 2>::new());
        let writer = {
            let rows = Arc::clone(&rows);
            thread::spawn(move || {
                rows.write(0, [1, 1], 1);
                rows.write(0, [2, 2], 1);
            })
        };
        if let Some(seen) = rows.read(1) {
            for row in seen {
                assert!(
                    row == [0, 0] || row == [1, 1] || row == [2, 2],
                    "torn row {row:?}"
                );
            }
        }
        writer.join().unwrap();
        assert_eq!(rows.read(1), Some(vec![[2, 2]]));
    });
}

/// A pop races a snapshot: the reader sees the row whole or not at all.
#[test]
fn a_pop_never_shows_half_a_row() {
    model(5, || {
        let rows = Arc::new(seqlock::SeqRows::<1, 2>::new());
        rows.write(0, [7, 7], 1);
        let writer = {
            let rows = Arc::clone(&rows);
            thread::spawn(move || rows.set_len(0))
        };
        if let Some(seen) = rows.read(1) {
            assert!(seen.is_empty() || seen == vec![[7, 7]], "{seen:?}");
        }
        writer.join().unwrap();
        assert_eq!(rows.read(1), Some(vec![]));
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

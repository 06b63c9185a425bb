//! A lock's identity, assigned on first use: an id and a companion word (its class), published
//! together. Readers that see the id see the word.
//!
//! This file takes its atomics from `super::primitive`, so that the loom model
//! (`tests/loom.rs`, run with `--cfg loom`) checks this very code against loom's.

use super::primitive::{AtomicU64, Ordering::*};

pub(crate) struct LazyId {
    /// 0 until assigned; ids are never reused.
    id: AtomicU64,
    word: AtomicU64,
}

impl LazyId {
    /// From two zeroed atomics (taken as arguments so that this stays a `const fn` with std's
    /// atomics and still builds over loom's).
    #[inline]
    pub(crate) const fn from_parts(id: AtomicU64, word: AtomicU64) -> Self {
        LazyId { id, word }
    }

    /// (id, word) once assigned.
    #[inline(always)]
    pub(crate) fn get(&self) -> Option<(u64, u64)> {
        let id = self.id.load(Acquire);
        if id == 0 {
            return None;
        }
        Some((id, self.word.load(Relaxed)))
    }

    /// Assigns `(fresh, word)` unless another thread got there first, and returns what holds.
    /// Every thread that races here must pass the same `word` (a lock's class is a function of
    /// the lock), so the loser's store of it is harmless.
    pub(crate) fn init(&self, fresh: u64, word: u64) -> (u64, u64) {
        self.word.store(word, Relaxed);
        match self.id.compare_exchange(0, fresh, AcqRel, Acquire) {
            Ok(_) => (fresh, word),
            Err(existing) => (existing, self.word.load(Relaxed)),
        }
    }
}

//! A thread's current lock wait, published without a lock: one writer (the waiting thread),
//! any number of readers (the watchdog), and a small hand-over protocol for the watchdog's
//! promotion of a wait that lasts.
//!
//! The words are written under a sequence word, as the held rows are: odd while the owner
//! writes, even when whole; a reader that finds the same even value before and after its copy
//! has a whole copy. `state` is the protocol: the owner publishes `WAITING` (or `SAMPLED`);
//! the watchdog may move it to `PROMOTING` with a compare-exchange, do its work (the owner
//! cannot end the wait meanwhile, so what the wait points at is alive), and store `PROMOTED`
//! (or `LONG_SAMPLED`); the owner ends a wait with a compare-exchange to `IDLE`, waiting out a
//! promotion in progress.
//!
//! This file takes its atomics from `super::primitive`, so that the loom model
//! (`tests/loom.rs`, run with `--cfg loom`) checks this very code against loom's.

use super::primitive::{fence, AtomicU64, Ordering::*};

/// Words of a published wait.
pub(crate) const WORDS: usize = 6;
/// The word that says when the wait began (compared by [`WaitSlot::promote`]).
pub(crate) const SINCE: usize = 4;
/// The word with the wait's context for a promotion (nonzero).
pub(crate) const CONTEXT: usize = 5;

pub(crate) const IDLE: u64 = 0;
pub(crate) const WAITING: u64 = 1;
/// Timed by its owner, who registered it for blame itself.
pub(crate) const SAMPLED: u64 = 2;
const PROMOTING: u64 = 3;
/// Untimed, and taken over by the watchdog when it lasted.
pub(crate) const PROMOTED: u64 = 4;
/// Timed, and found lasting by the watchdog.
pub(crate) const LONG_SAMPLED: u64 = 5;

pub(crate) struct WaitSlot {
    /// Even when the words are whole; odd while the owner rewrites them.
    seq: AtomicU64,
    /// Word 0 is nonzero while there is a wait.
    words: [AtomicU64; WORDS],
    state: AtomicU64,
}

impl WaitSlot {
    pub(crate) fn new() -> WaitSlot {
        WaitSlot {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
            state: AtomicU64::new(IDLE),
        }
    }

    /// Owner only: publishes a wait (`words[0]` nonzero); `sampled` if the owner times it.
    #[inline]
    pub(crate) fn publish(&self, words: [u64; WORDS], sampled: bool) {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq + 1, Relaxed);
        // Orders the odd sequence before the words, for a reader that sees a word.
        fence(Release);
        for (cell, word) in self.words.iter().zip(words) {
            cell.store(word, Relaxed);
        }
        self.state
            .store(if sampled { SAMPLED } else { WAITING }, Release);
        self.seq.store(seq + 2, Release);
    }

    /// Owner only: ends the wait; returns the state it ended in (`WAITING`, `SAMPLED`,
    /// `PROMOTED` or `LONG_SAMPLED`; `IDLE` if there was none), after any promotion in progress.
    #[inline]
    pub(crate) fn end(&self) -> u64 {
        let ended = loop {
            let state = self.state.load(Acquire);
            if state == PROMOTING {
                // The watchdog finishes in a moment.
                std::hint::spin_loop();
                #[cfg(loom)]
                loom::thread::yield_now();
                continue;
            }
            if self
                .state
                .compare_exchange(state, IDLE, Acquire, Acquire)
                .is_ok()
            {
                break state;
            }
        };
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq + 1, Relaxed);
        fence(Release);
        self.words[0].store(0, Relaxed);
        self.seq.store(seq + 2, Release);
        ended
    }

    /// Any thread: a whole copy of the current wait's words, or `None` if there is no wait
    /// (or the owner kept rewriting them).
    pub(crate) fn read(&self, attempts: usize) -> Option<[u64; WORDS]> {
        for _ in 0..attempts {
            let before = self.seq.load(Acquire);
            if before & 1 == 0 {
                let words: [u64; WORDS] = std::array::from_fn(|i| self.words[i].load(Relaxed));
                fence(Acquire);
                if self.seq.load(Relaxed) == before {
                    return (words[0] != 0).then_some(words);
                }
            }
            std::hint::spin_loop();
            #[cfg(loom)]
            loom::thread::yield_now();
        }
        None
    }

    /// The watchdog's part: if the current wait began at or before `before` (its `SINCE` word)
    /// and was not taken over yet, runs `promote(context, since, sampled)` while the owner
    /// cannot end the wait, then marks it taken over.
    pub(crate) fn promote(&self, before: u64, promote: impl FnOnce(u64, u64, bool)) {
        let state = self.state.load(Relaxed);
        if !(state == WAITING || state == SAMPLED) || self.words[SINCE].load(Relaxed) > before {
            return;
        }
        if self
            .state
            .compare_exchange(state, PROMOTING, Acquire, Relaxed)
            .is_err()
        {
            return;
        }
        // Written before the state (a release store), read after it (an acquire): this wait's.
        let (context, since) = (
            self.words[CONTEXT].load(Relaxed),
            self.words[SINCE].load(Relaxed),
        );
        if since > before || context == 0 {
            // A newer wait than the one seen: left as it is.
            self.state.store(state, Release);
            return;
        }
        let sampled = state == SAMPLED;
        promote(context, since, sampled);
        self.state
            .store(if sampled { LONG_SAMPLED } else { PROMOTED }, Release);
    }
}

//! A stack of rows of words with one writer and any number of readers.
//!
//! The writer (a thread: these rows are its held-lock stack) only ever stores, and a push
//! costs the row's words plus one more store: the state word, `pushes << 8 | len`. Rows are
//! written only at or above the length the state word last showed, after a release fence,
//! and every push bumps the count. So a reader that copies the rows below the length and
//! then finds the state word unchanged has seen no row being rewritten: to rewrite a row
//! below that length the writer must first pop to it (a store the reader's second look
//! cannot miss once it has seen any word of the new row) and push again (a new count). Every
//! field is an atomic, so a torn read is detected, never undefined.
//!
//! Above the stack sits one more row, the *next* row: words the writer announces before a
//! call that may block (which row it means to push once the call returns) and withdraws
//! before it pushes. Word 0 says whether it is on (the caller's encoding); it is stored last
//! with release ordering and loaded first with acquire, so a reader that sees it on sees the
//! words announced with it. A reader copies it between its two looks at the state word, so a
//! copy of the stack and the next row together never shows the row both announced and pushed
//! (the withdrawal comes before the push) nor announced alongside a row popped before it.
//! Announcing costs its words' stores and no state store.
//!
//! This file takes its atomics from `super::primitive`, so that the loom model
//! (`tests/loom.rs`, run with `--cfg loom`) checks this very code against loom's.

use super::primitive::{fence, AtomicU64, Ordering::*};

const LEN_BITS: u32 = 8;
const LEN_MASK: u64 = (1 << LEN_BITS) - 1;

/// A stack of up to `N` rows of `W` words (`N` below 256).
pub(crate) struct SeqRows<const N: usize, const W: usize> {
    /// `pushes << 8 | len`.
    state: AtomicU64,
    rows: [[AtomicU64; W]; N],
    /// The next row (see the module docs).
    next: [AtomicU64; W],
}

impl<const N: usize, const W: usize> SeqRows<N, W> {
    pub(crate) fn new() -> Self {
        const { assert!(N as u64 <= LEN_MASK) };
        SeqRows {
            state: AtomicU64::new(0),
            rows: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            next: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Writer only: how many rows the stack holds.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        (self.state.load(Relaxed) & LEN_MASK) as usize
    }

    /// Writer only: pushes `row`, or returns false if the stack is full.
    #[inline(always)]
    pub(crate) fn push(&self, row: [u64; W]) -> bool {
        let state = self.state.load(Relaxed);
        let len = (state & LEN_MASK) as usize;
        if len >= N {
            return false;
        }
        // Orders the pop that freed this row (if any) before the row's new words.
        fence(Release);
        for (cell, word) in self.rows[len].iter().zip(row) {
            cell.store(word, Relaxed);
        }
        self.state
            .store((state | LEN_MASK) + 1 + len as u64 + 1, Release);
        true
    }

    /// Writer only: pops the top row. A release store: a reader whose first look sees this
    /// length must also see the rows below it as they were pushed (the loom model does not
    /// catch a relaxed store here; the rule does).
    #[inline(always)]
    pub(crate) fn pop(&self) {
        let state = self.state.load(Relaxed);
        debug_assert!(state & LEN_MASK != 0, "pop from an empty stack");
        self.state.store(state - 1, Release);
    }

    /// Writer only: keeps the rows below `from` and pushes `rows` above them.
    pub(crate) fn replace_from(&self, from: usize, rows: &[[u64; W]]) {
        let keep = from.min(self.len());
        let state = self.state.load(Relaxed);
        self.state.store(state & !LEN_MASK | keep as u64, Release);
        for row in rows {
            if !self.push(*row) {
                break;
            }
        }
    }

    /// Writer only: reads back a word it wrote.
    #[inline(always)]
    pub(crate) fn word(&self, i: usize, w: usize) -> u64 {
        self.rows[i][w].load(Relaxed)
    }

    /// Writer only: the rows below the length.
    #[inline(always)]
    pub(crate) fn rows(&self) -> &[[AtomicU64; W]] {
        &self.rows[..self.len()]
    }

    /// Any thread: the rows below the length as last seen, for a hint (words may be read
    /// while the writer rewrites them).
    pub(crate) fn rows_hint(&self) -> &[[AtomicU64; W]] {
        let len = ((self.state.load(Acquire) & LEN_MASK) as usize).min(N);
        &self.rows[..len]
    }

    /// Writer only: the state word (`pushes << 8 | len`), read for a decision before a push.
    #[inline(always)]
    pub(crate) fn state(&self) -> u64 {
        self.state.load(Relaxed)
    }

    /// Writer only: announces the next row's first `K` words (word 0 last; see the module
    /// docs). The other words keep what they held.
    #[inline(always)]
    pub(crate) fn announce<const K: usize>(&self, words: [u64; K]) {
        const { assert!(K >= 1 && K <= W) };
        // Orders the last pop before the words, for a reader that sees one of them (the loom
        // model does not catch its absence; the rule does, as for `push`).
        fence(Release);
        for (cell, word) in self.next[1..K].iter().zip(&words[1..]) {
            cell.store(*word, Relaxed);
        }
        self.next[0].store(words[0], Release);
    }

    /// Writer only: withdraws the next row, storing `off` in its word 0, and returns its word
    /// `w` as it was. A plain load and store: a bit another thread sets in that word between
    /// the two is lost (see [`SeqRows::set_next_bits`]).
    #[inline(always)]
    pub(crate) fn withdraw(&self, off: u64, w: usize) -> u64 {
        let was = self.next[w].load(Relaxed);
        self.next[0].store(off, Relaxed);
        was
    }

    /// Any thread: stores `new` in the next row's word 0 if it holds `old` (a compare-exchange:
    /// a writer's own store to it meanwhile wins).
    pub(crate) fn swap_next_word0(&self, old: u64, new: u64) {
        let _ = self.next[0].compare_exchange(old, new, Relaxed, Relaxed);
    }

    /// Any thread: word `w` of the next row, for a hint (word 0 first: see the module docs).
    pub(crate) fn next_word(&self, w: usize) -> u64 {
        self.next[w].load(if w == 0 { Acquire } else { Relaxed })
    }

    /// Any thread: sets bits in word `w` of the next row (a flag for the writer to see when
    /// it withdraws the row; lost if it withdraws meanwhile).
    pub(crate) fn set_next_bits(&self, w: usize, bits: u64) {
        self.next[w].fetch_or(bits, Relaxed);
    }

    /// Any thread: sets bits in one word (a flag for the writer to see later). Not part of the
    /// protocol: the writer's next push to that row overwrites it.
    pub(crate) fn set_bits(&self, i: usize, w: usize, bits: u64) {
        self.rows[i][w].fetch_or(bits, Relaxed);
    }

    /// Any thread: a consistent copy of the rows and of the next row, or `None` if the writer
    /// kept writing.
    pub(crate) fn read_with_next(&self, attempts: usize) -> Option<(Vec<[u64; W]>, [u64; W])> {
        for _ in 0..attempts {
            let before = self.state.load(Acquire);
            let len = ((before & LEN_MASK) as usize).min(N);
            let rows: Vec<[u64; W]> = self.rows[..len]
                .iter()
                .map(|row| std::array::from_fn(|w| row[w].load(Relaxed)))
                .collect();
            let next = std::array::from_fn(|w| self.next_word(w));
            fence(Acquire);
            if self.state.load(Relaxed) == before {
                return Some((rows, next));
            }
            std::hint::spin_loop();
        }
        None
    }
}

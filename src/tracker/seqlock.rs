//! Rows of words with one writer and any number of readers: a sequence lock.
//!
//! The writer (a thread publishing its held locks) only ever stores: it makes the sequence
//! odd, writes, and makes it even again. A reader copies the rows and retries if the sequence
//! moved or was odd. Every field is an atomic, so a torn read is detected, never undefined.
//!
//! This file takes its atomics from `super::primitive`, so that the loom model
//! (`tests/loom.rs`, run with `--cfg loom`) checks this very code against loom's.

use super::primitive::{fence, AtomicU64, AtomicUsize, Ordering::*};

/// `N` rows of `W` words.
pub(crate) struct SeqRows<const N: usize, const W: usize> {
    seq: AtomicU64,
    len: AtomicUsize,
    rows: [[AtomicU64; W]; N],
}

impl<const N: usize, const W: usize> SeqRows<N, W> {
    pub(crate) fn new() -> Self {
        SeqRows {
            seq: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            rows: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }

    /// Writer only: starts a write (the sequence turns odd) and returns the value that ends it.
    #[inline(always)]
    fn begin(&self) -> u64 {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq + 1, Relaxed);
        fence(Release);
        seq + 2
    }

    /// Writer only: sets row `i` and the length to `len`.
    #[inline(always)]
    pub(crate) fn write(&self, i: usize, row: [u64; W], len: usize) {
        let end = self.begin();
        for (cell, word) in self.rows[i].iter().zip(row) {
            cell.store(word, Relaxed);
        }
        self.len.store(len, Relaxed);
        self.seq.store(end, Release);
    }

    /// Writer only: sets the length (a pop). No sequence bump: a pop changes no row, so a
    /// reader racing it sees the rows whole, with or without the popped one; a later write to
    /// that row bumps the sequence and is caught as usual.
    #[inline(always)]
    pub(crate) fn set_len(&self, len: usize) {
        self.len.store(len, Release);
    }

    /// Writer only: reads back a word it wrote.
    #[inline(always)]
    pub(crate) fn word(&self, i: usize, w: usize) -> u64 {
        self.rows[i][w].load(Relaxed)
    }

    /// Any thread: sets bits in one word (a flag for the writer to see later). Not part of the
    /// sequence: the writer's next write of that row clears it.
    pub(crate) fn set_bits(&self, i: usize, w: usize, bits: u64) {
        self.rows[i][w].fetch_or(bits, Relaxed);
    }

    /// Any thread: a consistent copy of the rows, or `None` if the writer kept writing.
    pub(crate) fn read(&self, attempts: usize) -> Option<Vec<[u64; W]>> {
        for _ in 0..attempts {
            let before = self.seq.load(Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let len = self.len.load(Relaxed).min(N);
            let rows: Vec<[u64; W]> = self.rows[..len]
                .iter()
                .map(|row| std::array::from_fn(|w| row[w].load(Relaxed)))
                .collect();
            fence(Acquire);
            if self.seq.load(Relaxed) == before {
                return Some(rows);
            }
        }
        None
    }
}

//! The atomics the lock-free parts are written against: std's here, loom's in the loom model
//! (`tests/loom.rs` declares its own `primitive` module over loom and includes those files).

pub(crate) use std::sync::atomic::{fence, AtomicU64, Ordering};

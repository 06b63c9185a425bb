//! Drop-in replacements for [`std::sync`].
//!
//! With the `enabled` feature, [`Mutex`], [`RwLock`], [`Condvar`] (and their guards), [`Once`],
//! [`OnceLock`], [`LazyLock`] and the [`atomic`] types are tracked versions with std's exact
//! API; everything else is std's own, re-exported, so that
//! `use lockwatch::sync::...` can replace every `use std::sync::...`. Without the feature this
//! module is `pub use std::sync::*`.
//!
//! # Examples
//!
//! ```
//! use lockwatch::sync::{Arc, Mutex, RwLock};
//!
//! let accounts = Arc::new(Mutex::new(vec![100, 50]));
//! let audit = RwLock::new(0u32);
//! accounts.lock().unwrap()[0] -= 10;
//! *audit.write().unwrap() += 1;
//! assert_eq!(accounts.lock().unwrap()[0], 90);
//! ```

#[cfg(not(feature = "enabled"))]
pub use std::sync::*;

#[cfg(feature = "enabled")]
pub mod atomic;
#[cfg(feature = "enabled")]
mod condvar;
#[cfg(feature = "enabled")]
mod mutex;
#[cfg(feature = "enabled")]
mod once;
#[cfg(feature = "enabled")]
mod poisoning;
#[cfg(feature = "enabled")]
mod rwlock;

// Glob imports are shadowed by the named ones below: std's items except the tracked ones.
#[cfg(feature = "enabled")]
pub use std::sync::*;

#[cfg(feature = "enabled")]
pub use self::{
    condvar::Condvar,
    mutex::{Mutex, MutexGuard},
    once::{LazyLock, Once, OnceLock},
    rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard},
};

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

/// Initialization value for static [`Once`] values: std's deprecated constant, for lockwatch's
/// `Once` (so that `static O: Once = ONCE_INIT;` keeps compiling after the import swap). Every
/// `Once` made from it has this constant's line as its creation site: give it a name with
/// [`crate::named`], or use `Once::new()`, for reports that name your line.
///
/// # Examples
///
/// ```
/// #![allow(deprecated)]
/// use lockwatch::sync::{Once, ONCE_INIT};
///
/// static START: Once = ONCE_INIT;
/// START.call_once(|| {});
/// assert!(START.is_completed());
/// ```
#[cfg(feature = "enabled")]
#[deprecated(since = "1.38.0", note = "the `Once::new()` function is now preferred")]
#[allow(clippy::declare_interior_mutable_const)] // As std's: a fresh `Once` per use.
pub const ONCE_INIT: Once = Once::new();

//! Drop-in replacements for the `parking_lot` crate.
//!
//! With the `enabled` feature, every lock type here is a tracked [`crate::lock_api`] type over
//! parking_lot's raw locks, exactly as parking_lot builds its own from `lock_api`, and
//! [`Condvar`] works with the tracked [`MutexGuard`]. [`Once`], the raw locks and the rest are
//! parking_lot's own. [`raw`] is the original crate. Without the feature this module is
//! `pub use parking_lot::*`.
//!
//! # Examples
//!
//! ```
//! use lockwatch::parking_lot::{Mutex, RwLock};
//!
//! let cache = RwLock::new(Vec::new());
//! let hits = Mutex::new(0u64);
//! cache.write().push("a");
//! *hits.lock() += 1;
//! assert_eq!(cache.read().len(), 1);
//! ```

/// The original `parking_lot` crate, for what lockwatch does not wrap.
pub use ::parking_lot as raw;

#[cfg(not(feature = "enabled"))]
pub use ::user_pl::*;

#[cfg(feature = "enabled")]
mod condvar;
#[cfg(feature = "enabled")]
pub use self::condvar::Condvar;
#[cfg(feature = "enabled")]
pub use tracked::*;

#[cfg(feature = "enabled")]
mod tracked {
    // parking_lot's items, shadowed below by the tracked ones.
    pub use ::user_pl::{
        Once, OnceState, RawFairMutex, RawMutex, RawRwLock, RawThreadId, WaitTimeoutResult,
    };

    /// The original, untracked `lock_api` crate, exactly as `parking_lot::lock_api` is: for
    /// its raw-lock traits (`lock_api::RawMutex` and the rest). The *tracked* lock types over
    /// any raw lock are [`crate::lock_api`]'s.
    pub use ::user_pl::lock_api;
    #[cfg(feature = "parking_lot_0_13")]
    pub use ::user_pl::{RawCondvar, RawRwLockRecursive};

    use ::user_pl::{RawFairMutex as RF, RawMutex as RM, RawRwLock as RW, RawThreadId as RT};

    /// The guards of locks taken through an `Arc` (the `arc_lock` feature), generic over the
    /// raw lock as parking_lot re-exports them from lock_api: `ArcMutexGuard<RawMutex, T>`.
    #[cfg(feature = "arc_lock")]
    pub use crate::lock_api::{
        ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
        ArcRwLockWriteGuard,
    };

    use crate::lock_api as tracked;

    /// A mutual exclusion primitive, tracked: [`parking_lot::Mutex`](https://docs.rs/parking_lot/0.12/parking_lot/type.Mutex.html).
    pub type Mutex<T> = tracked::Mutex<RM, T>;
    /// The guard of a [`Mutex`].
    pub type MutexGuard<'a, T> = tracked::MutexGuard<'a, RM, T>;
    /// A guard of a component of a [`Mutex`]'s data.
    pub type MappedMutexGuard<'a, T> = tracked::MappedMutexGuard<'a, RM, T>;

    /// A fair mutex, tracked: [`parking_lot::FairMutex`](https://docs.rs/parking_lot/0.12/parking_lot/type.FairMutex.html).
    pub type FairMutex<T> = tracked::Mutex<RF, T>;
    /// The guard of a [`FairMutex`].
    pub type FairMutexGuard<'a, T> = tracked::MutexGuard<'a, RF, T>;
    /// A guard of a component of a [`FairMutex`]'s data.
    pub type MappedFairMutexGuard<'a, T> = tracked::MappedMutexGuard<'a, RF, T>;

    /// A reader-writer lock, tracked: [`parking_lot::RwLock`](https://docs.rs/parking_lot/0.12/parking_lot/type.RwLock.html).
    pub type RwLock<T> = tracked::RwLock<RW, T>;
    /// Shared access to a [`RwLock`].
    pub type RwLockReadGuard<'a, T> = tracked::RwLockReadGuard<'a, RW, T>;
    /// Exclusive access to a [`RwLock`].
    pub type RwLockWriteGuard<'a, T> = tracked::RwLockWriteGuard<'a, RW, T>;
    /// Upgradable shared access to a [`RwLock`].
    pub type RwLockUpgradableReadGuard<'a, T> = tracked::RwLockUpgradableReadGuard<'a, RW, T>;
    /// Shared access to a component of a [`RwLock`]'s data.
    pub type MappedRwLockReadGuard<'a, T> = tracked::MappedRwLockReadGuard<'a, RW, T>;
    /// Exclusive access to a component of a [`RwLock`]'s data.
    pub type MappedRwLockWriteGuard<'a, T> = tracked::MappedRwLockWriteGuard<'a, RW, T>;

    /// A reader-writer lock whose reads are recursive (reader-biased), tracked:
    /// parking_lot 0.13's `RecursiveRwLock`. Its `read` never waits for a queued writer, so a
    /// second `read` in one thread is fine and is not reported.
    #[cfg(feature = "parking_lot_0_13")]
    pub type RecursiveRwLock<T> = tracked::RwLock<::user_pl::RawRwLockRecursive, T>;
    /// Shared access to a [`RecursiveRwLock`].
    #[cfg(feature = "parking_lot_0_13")]
    pub type RecursiveRwLockReadGuard<'a, T> =
        tracked::RwLockReadGuard<'a, ::user_pl::RawRwLockRecursive, T>;
    /// Exclusive access to a [`RecursiveRwLock`].
    #[cfg(feature = "parking_lot_0_13")]
    pub type RecursiveRwLockWriteGuard<'a, T> =
        tracked::RwLockWriteGuard<'a, ::user_pl::RawRwLockRecursive, T>;
    /// Upgradable shared access to a [`RecursiveRwLock`].
    #[cfg(feature = "parking_lot_0_13")]
    pub type RecursiveRwLockUpgradableReadGuard<'a, T> =
        tracked::RwLockUpgradableReadGuard<'a, ::user_pl::RawRwLockRecursive, T>;
    /// Shared access to a component of a [`RecursiveRwLock`]'s data.
    #[cfg(feature = "parking_lot_0_13")]
    pub type MappedRecursiveRwLockReadGuard<'a, T> =
        tracked::MappedRwLockReadGuard<'a, ::user_pl::RawRwLockRecursive, T>;
    /// Exclusive access to a component of a [`RecursiveRwLock`]'s data.
    #[cfg(feature = "parking_lot_0_13")]
    pub type MappedRecursiveRwLockWriteGuard<'a, T> =
        tracked::MappedRwLockWriteGuard<'a, ::user_pl::RawRwLockRecursive, T>;

    /// A reentrant mutex, tracked:
    /// [`parking_lot::ReentrantMutex`](https://docs.rs/parking_lot/0.12/parking_lot/type.ReentrantMutex.html).
    pub type ReentrantMutex<T> = tracked::ReentrantMutex<RM, RT, T>;
    /// The guard of a [`ReentrantMutex`].
    pub type ReentrantMutexGuard<'a, T> = tracked::ReentrantMutexGuard<'a, RM, RT, T>;
    /// A guard of a component of a [`ReentrantMutex`]'s data.
    pub type MappedReentrantMutexGuard<'a, T> = tracked::MappedReentrantMutexGuard<'a, RM, RT, T>;

    // parking_lot 0.13 dropped these (`new` is `const`).
    #[cfg(not(feature = "parking_lot_0_13"))]
    /// Creates a new mutex in a `const` context (as `Mutex::new`, which is `const` too).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::{const_mutex, Mutex};
    ///
    /// static M: Mutex<i32> = const_mutex(0);
    /// *M.lock() += 1;
    /// assert_eq!(*M.lock(), 1);
    /// ```
    #[track_caller]
    pub const fn const_mutex<T>(val: T) -> Mutex<T> {
        Mutex::new(val)
    }

    // parking_lot 0.13 dropped these (`new` is `const`).
    #[cfg(not(feature = "parking_lot_0_13"))]
    /// Creates a new fair mutex in a `const` context.
    #[track_caller]
    pub const fn const_fair_mutex<T>(val: T) -> FairMutex<T> {
        FairMutex::new(val)
    }

    // parking_lot 0.13 dropped these (`new` is `const`).
    #[cfg(not(feature = "parking_lot_0_13"))]
    /// Creates a new reader-writer lock in a `const` context.
    #[track_caller]
    pub const fn const_rwlock<T>(val: T) -> RwLock<T> {
        RwLock::new(val)
    }

    // parking_lot 0.13 dropped these (`new` is `const`).
    #[cfg(not(feature = "parking_lot_0_13"))]
    /// Creates a new reentrant mutex in a `const` context.
    #[track_caller]
    pub const fn const_reentrant_mutex<T>(val: T) -> ReentrantMutex<T> {
        ReentrantMutex::new(val)
    }
}

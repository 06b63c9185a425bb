//! Drop-in replacements for [`tokio::sync`] (feature `tokio`).
//!
//! With the `enabled` feature, [`Mutex`], [`RwLock`] and their guards are tracked versions with
//! tokio's exact API; everything else is tokio's own, re-exported, so that
//! `use lockwatch::tokio::...` can replace every `use tokio::sync::...`. Without `enabled`
//! this module is `pub use tokio::sync::*`.
//!
//! # Per task, not per thread
//!
//! A task's guards follow it across worker threads and `.await` points: the locks a task
//! holds are the task's (by its tokio task id), whichever worker polls it. Outside a task (a
//! plain thread, `block_on`, `blocking_lock` from sync code) the thread's held stack is used,
//! as for std's locks. An owned guard counts as held by the task that took it until it is
//! dropped, wherever that happens.
//!
//! Tokio locks join the same lock graph as std and parking_lot locks: a thread that holds a
//! std mutex and `blocking_lock`s a tokio mutex, and a task that takes them the other way, is
//! an inversion.
//!
//! - `lock().await`, `read().await`, `write().await` (and `blocking_*`, `*_owned`) wait: their
//!   order is checked against what the task holds, and reported, before the task waits.
//! - `try_lock` and its kin follow the trylock rules: held if they succeed, no edge into them.
//! - Tokio's `RwLock` is fair (write-preferring): a `read` waits behind a queued writer, so a
//!   second `read().await` in a task that holds a read is reported: it deadlocks as soon as a
//!   writer queues between the two.
//! - A task awaiting a lock it already holds is reported before it awaits.
//!
//! The watchdog sees tasks: a guard held across `.await`s longer than the long-hold threshold,
//! a task waiting longer than the long-wait threshold (naming the task that holds the lock),
//! and tasks waiting for each other in a cycle are reported while they happen. Tasks are named
//! by id and the site of their first lock: `task 17 (first lock at src/jobs.rs:40:9)`.
//!
//! Owned guards (`lock_owned`, `read_owned`, `write_owned` and their mapped forms) need
//! `T: 'static` here, which `Arc`s shared between tasks always are.
//!
//! # Examples
//!
//! ```
//! # #[cfg(feature = "tokio")] {
//! use lockwatch::tokio::{Mutex, RwLock};
//! use std::sync::Arc;
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! rt.block_on(async {
//!     let accounts = Arc::new(Mutex::new(vec![100, 50]));
//!     let audit = RwLock::new(0u32);
//!     accounts.lock().await[0] -= 10;
//!     *audit.write().await += 1;
//!     assert_eq!(accounts.lock().await[0], 90);
//!     assert_eq!(*audit.read().await, 1);
//! });
//! # }
//! ```

#[cfg(not(feature = "enabled"))]
pub use ::tokio::sync::*;

#[cfg(feature = "enabled")]
mod mutex;
#[cfg(feature = "enabled")]
mod rwlock;

// Glob imports are shadowed by the named ones below: tokio's items except the tracked ones.
#[cfg(feature = "enabled")]
pub use ::tokio::sync::*;

#[cfg(feature = "enabled")]
pub use self::{
    mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard},
    rwlock::{
        OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
        RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
    },
};

/// A `&'static` view of what `lock` points at, for an owned guard that keeps `lock` beside
/// the borrowed guard it wraps.
///
/// # Safety
///
/// The returned reference must only be stored in a value that also owns `lock` (a clone of
/// it) and drops every use of the reference before that `Arc`.
#[cfg(feature = "enabled")]
unsafe fn extend<T: ?Sized + 'static>(lock: &std::sync::Arc<T>) -> &'static T {
    // SAFETY: The `Arc`'s allocation does not move and, by the caller's promise, outlives
    // every use of the reference.
    unsafe { &*std::sync::Arc::as_ptr(lock) }
}

/// `Deref` (and with `mut`, `DerefMut`), `Debug` and `Display` for a guard whose `inner`
/// field derefs to `$target`, as tokio's guards have them.
#[cfg(feature = "enabled")]
macro_rules! guard_impls {
    ([$($g:tt)*] $ty:ty => $target:ty, mut) => {
        super::guard_impls!([$($g)*] $ty => $target);

        impl<$($g)*> std::ops::DerefMut for $ty {
            #[inline]
            fn deref_mut(&mut self) -> &mut $target {
                &mut self.inner
            }
        }
    };
    ([$($g:tt)*] $ty:ty => $target:ty) => {
        impl<$($g)*> std::ops::Deref for $ty {
            type Target = $target;
            #[inline]
            fn deref(&self) -> &$target {
                &self.inner
            }
        }

        impl<$($g)*> std::fmt::Debug for $ty
        where
            $target: std::fmt::Debug,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&*self.inner, f)
            }
        }

        impl<$($g)*> std::fmt::Display for $ty
        where
            $target: std::fmt::Display,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&*self.inner, f)
            }
        }
    };
}
#[cfg(feature = "enabled")]
use guard_impls;

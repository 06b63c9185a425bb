//! Tracked versions of the `lock_api` crate's lock types, generic over the raw lock.
//!
//! [`crate::parking_lot`] is built from these, exactly as `parking_lot` is built from
//! `lock_api`. Use them directly to track other `lock_api` locks (spin locks, for example).
//! Without the `enabled` feature this module is `pub use lock_api::*`.

#[cfg(not(feature = "enabled"))]
pub use ::lock_api::*;

/// Deref, DerefMut, Debug and Display for a guard whose `inner` field is the lock_api guard.
#[cfg(feature = "enabled")]
macro_rules! guard_traits {
    ([$($gen:tt)*] $ty:ty, mut) => {
        guard_traits!([$($gen)*] $ty);
        impl<$($gen)*> std::ops::DerefMut for $ty {
            #[inline]
            fn deref_mut(&mut self) -> &mut T {
                &mut self.inner
            }
        }
    };
    ([$($gen:tt)*] $ty:ty) => {
        impl<$($gen)*> std::ops::Deref for $ty {
            type Target = T;
            #[inline]
            fn deref(&self) -> &T {
                &self.inner
            }
        }
        impl<$($gen)*> std::fmt::Debug for $ty
        where
            T: std::fmt::Debug,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&*self.inner, f)
            }
        }
        impl<$($gen)*> std::fmt::Display for $ty
        where
            T: std::fmt::Display,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&*self.inner, f)
            }
        }
    };
}

/// A tracked try-acquisition that forwards to the lock_api method of the same name: held if it
/// succeeds, no order edge into the lock (a try never waits, or gives up).
#[cfg(feature = "enabled")]
macro_rules! tracked_try {
    ($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $make:ident($mode:expr);) => {
        $(#[$attr])*
        #[inline]
        #[track_caller]
        pub fn $name(&self, $($arg: $ty),*) -> Option<$ret> {
            let held = self
                .meta
                .try_lock($mode, Location::caller(), || self.inner.$name($($arg),*))?;
            Some(self.$make(held))
        }
    };
}

#[cfg(feature = "enabled")]
mod mutex;
#[cfg(feature = "enabled")]
mod remutex;
#[cfg(feature = "enabled")]
mod rwlock;

// Glob imports are shadowed by the named ones below: the raw-lock traits stay lock_api's.
#[cfg(feature = "enabled")]
pub use ::lock_api::*;

#[cfg(feature = "enabled")]
pub use self::{
    mutex::{MappedMutexGuard, Mutex, MutexGuard},
    remutex::{MappedReentrantMutexGuard, ReentrantMutex, ReentrantMutexGuard},
    rwlock::{
        MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard,
        RwLockUpgradableReadGuard, RwLockWriteGuard,
    },
};

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{self as std_sync, LockResult, TryLockResult};

use super::poisoning::{blocking, try_std, wrap, wrap_try};

use crate::tracker::{Guarded, LockKind, LockMeta, Mode};

/// A reader-writer lock, tracked: [`std::sync::RwLock`] with its exact API.
///
/// `read` is a non-recursive read: a writer queued between two reads of one thread blocks the
/// second, so reading twice in one thread, or `[read A, lock B]` against `[lock B, write A]`,
/// is reported.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().unwrap();
///     assert_eq!(*r1, 5);
/// }
/// *lock.write().unwrap() += 1;
/// assert_eq!(*lock.read().unwrap(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    meta: LockMeta,
    inner: std_sync::RwLock<T>,
}

/// Shared access to the data of a [`RwLock`], released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    inner: Guarded<std_sync::RwLockReadGuard<'a, T>>,
}

/// Exclusive access to the data of a [`RwLock`], released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    inner: Guarded<std_sync::RwLockWriteGuard<'a, T>>,
}

impl<T> RwLock<T> {
    /// Creates a new, unlocked `RwLock`. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::RwLock;
    ///
    /// static CONFIG: RwLock<u32> = RwLock::new(0);
    /// *CONFIG.write().unwrap() = 3;
    /// assert_eq!(*CONFIG.read().unwrap(), 3);
    /// ```
    #[inline]
    #[track_caller]
    pub const fn new(t: T) -> RwLock<T> {
        RwLock {
            meta: LockMeta::new(
                LockKind::RwLock,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: std_sync::RwLock::new(t),
        }
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for shared read access, blocking until it can be acquired.
    ///
    /// # Errors
    ///
    /// If the lock is poisoned, the error contains the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::sync::RwLock::new(1);
    /// assert_eq!(*lock.read().unwrap(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let (result, token) = self.meta.lock(
            Mode::Read,
            crate::tracker::method!("read"),
            Location::caller(),
            || try_std(self.inner.try_read()),
            || blocking(self.inner.read()),
        );
        wrap(result, token, |inner, token| RwLockReadGuard {
            inner: Guarded::new(inner, token),
        })
    }

    /// Attempts shared read access without blocking.
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`](std::sync::TryLockError::WouldBlock) if a writer holds it, [`TryLockError::Poisoned`](std::sync::TryLockError::Poisoned) if it
    /// is poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::sync::RwLock::new(1);
    /// let w = lock.write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert_eq!(*lock.try_read().unwrap(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        wrap_try(
            &self.meta,
            Mode::Read,
            crate::tracker::method!("try_read"),
            Location::caller(),
            || self.inner.try_read(),
            |inner, token| RwLockReadGuard {
                inner: Guarded::new(inner, token),
            },
        )
    }

    /// Locks for exclusive write access, blocking until it can be acquired.
    ///
    /// # Errors
    ///
    /// If the lock is poisoned, the error contains the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::sync::RwLock::new(1);
    /// *lock.write().unwrap() = 2;
    /// assert_eq!(*lock.read().unwrap(), 2);
    /// ```
    #[inline]
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let (result, token) = self.meta.lock(
            Mode::Exclusive,
            crate::tracker::method!("write"),
            Location::caller(),
            || try_std(self.inner.try_write()),
            || blocking(self.inner.write()),
        );
        wrap(result, token, |inner, token| RwLockWriteGuard {
            inner: Guarded::new(inner, token),
        })
    }

    /// Attempts exclusive write access without blocking.
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`](std::sync::TryLockError::WouldBlock) if it is held, [`TryLockError::Poisoned`](std::sync::TryLockError::Poisoned) if poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::sync::RwLock::new(1);
    /// let r = lock.read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// ```
    #[inline]
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        wrap_try(
            &self.meta,
            Mode::Exclusive,
            crate::tracker::method!("try_write"),
            Location::caller(),
            || self.inner.try_write(),
            |inner, token| RwLockWriteGuard {
                inner: Guarded::new(inner, token),
            },
        )
    }

    /// Whether a thread panicked while holding this lock for writing.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::sync::RwLock::new(0);
    /// assert!(!lock.is_poisoned());
    /// ```
    #[inline]
    pub fn is_poisoned(&self) -> bool {
        self.inner.is_poisoned()
    }

    /// Clears the poisoned state.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{Arc, RwLock};
    ///
    /// let lock = Arc::new(RwLock::new(0));
    /// let l2 = Arc::clone(&lock);
    /// let _ = std::thread::spawn(move || {
    ///     let _w = l2.write().unwrap();
    ///     panic!("poison");
    /// })
    /// .join();
    /// assert!(lock.is_poisoned());
    /// lock.clear_poison();
    /// assert!(!lock.is_poisoned());
    /// ```
    #[inline]
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Errors
    ///
    /// If the lock is poisoned, the error contains the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::sync::RwLock::new(String::from("x"));
    /// assert_eq!(lock.into_inner().unwrap(), "x");
    /// ```
    #[inline]
    pub fn into_inner(self) -> LockResult<T>
    where
        T: Sized,
    {
        self.inner.into_inner()
    }

    /// A mutable reference to the data, without locking.
    ///
    /// # Errors
    ///
    /// If the lock is poisoned, the error contains the reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = lockwatch::sync::RwLock::new(0);
    /// *lock.get_mut().unwrap() = 4;
    /// assert_eq!(*lock.read().unwrap(), 4);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Downgrades a write lock to a read lock without letting a writer in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let mut w = lock.write().unwrap();
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// ```
    #[cfg(lockwatch_rust_1_92)] // As in std: Rust 1.92 and later (build.rs).
    #[allow(clippy::incompatible_msrv)]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, T> {
        let (inner, token) = s.inner.into_parts();
        token.set_mode(Mode::Read);
        RwLockReadGuard {
            inner: Guarded::new(std_sync::RwLockWriteGuard::downgrade(inner), token),
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(t: T) -> Self {
        RwLock::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

macro_rules! fmt_guard {
    ($guard:ident) => {
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.inner, f)
            }
        }
        impl<T: ?Sized + fmt::Display> fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&*self.inner, f)
            }
        }
    };
}
fmt_guard!(RwLockReadGuard);
fmt_guard!(RwLockWriteGuard);

impl<T> crate::sealed::Sealed for RwLock<T> {}

impl<T> crate::Trackable for RwLock<T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

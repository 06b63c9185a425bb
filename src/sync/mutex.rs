use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{self as std_sync, LockResult, TryLockResult};

use super::poisoning::{blocking, try_std, wrap, wrap_try};

use crate::tracker::{Guarded, LockKind, LockMeta, Mode};

/// A mutual exclusion primitive, tracked: [`std::sync::Mutex`] with its exact API.
///
/// Every [`lock`](Mutex::lock) is checked against the locks the thread already holds before
/// it blocks; see the [crate docs](crate) for what is reported.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::{Arc, Mutex};
/// use std::thread;
///
/// let counter = Arc::new(Mutex::new(0));
/// let handles: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         thread::spawn(move || *counter.lock().unwrap() += 1)
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// assert_eq!(*counter.lock().unwrap(), 4);
/// ```
pub struct Mutex<T: ?Sized> {
    meta: LockMeta,
    inner: std_sync::Mutex<T>,
}

/// The guard of a [`Mutex`]: the lock is released when it is dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    pub(super) inner: Guarded<std_sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// Creates a new mutex in an unlocked state. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::Mutex;
    ///
    /// static GLOBAL: Mutex<Vec<u32>> = Mutex::new(Vec::new());
    /// GLOBAL.lock().unwrap().push(1);
    /// assert_eq!(GLOBAL.lock().unwrap().len(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub const fn new(t: T) -> Mutex<T> {
        Mutex {
            meta: LockMeta::new(
                LockKind::Mutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: std_sync::Mutex::new(t),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Acquires the mutex, blocking the current thread until it is able to do so.
    ///
    /// Before blocking, the acquisition is checked against the locks this thread holds: a
    /// new order that closes a cycle, or re-locking this mutex, is reported first.
    ///
    /// # Errors
    ///
    /// If another user of this mutex panicked while holding it, this returns an error
    /// containing the guard, as std does.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::Mutex;
    ///
    /// let m = Mutex::new(1);
    /// *m.lock().unwrap() += 1;
    /// assert_eq!(*m.lock().unwrap(), 2);
    /// ```
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let (result, token) = self.meta.lock(
            Mode::Exclusive,
            crate::tracker::method!("lock"),
            Location::caller(),
            || try_std(self.inner.try_lock()),
            || blocking(self.inner.lock()),
        );
        wrap(result, token, |inner, token| MutexGuard {
            inner: Guarded::new(inner, token),
        })
    }

    /// Attempts to acquire the mutex without blocking. A successful try is held (it orders
    /// later acquisitions) but, never having waited, adds no order edge into this mutex.
    ///
    /// # Errors
    ///
    /// [`TryLockError::WouldBlock`](std::sync::TryLockError::WouldBlock) if the mutex is locked, [`TryLockError::Poisoned`](std::sync::TryLockError::Poisoned) if it
    /// is poisoned (the guard is inside).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{Mutex, TryLockError};
    ///
    /// let m = Mutex::new(0);
    /// let held = m.lock().unwrap();
    /// assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    /// drop(held);
    /// assert!(m.try_lock().is_ok());
    /// ```
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        wrap_try(
            &self.meta,
            Mode::Exclusive,
            crate::tracker::method!("try_lock"),
            Location::caller(),
            || self.inner.try_lock(),
            |inner, token| MutexGuard {
                inner: Guarded::new(inner, token),
            },
        )
    }

    /// Whether a thread panicked while holding this mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{Arc, Mutex};
    ///
    /// let m = Arc::new(Mutex::new(0));
    /// let m2 = Arc::clone(&m);
    /// let _ = std::thread::spawn(move || {
    ///     let _g = m2.lock().unwrap();
    ///     panic!("poison");
    /// })
    /// .join();
    /// assert!(m.is_poisoned());
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
    /// use lockwatch::sync::{Arc, Mutex};
    ///
    /// let m = Arc::new(Mutex::new(0));
    /// let m2 = Arc::clone(&m);
    /// let _ = std::thread::spawn(move || {
    ///     let _g = m2.lock().unwrap();
    ///     panic!("poison");
    /// })
    /// .join();
    /// m.clear_poison();
    /// assert!(!m.is_poisoned());
    /// ```
    #[inline]
    pub fn clear_poison(&self) {
        self.inner.clear_poison()
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Errors
    ///
    /// If the mutex is poisoned, the error contains the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::sync::Mutex::new(7);
    /// assert_eq!(m.into_inner().unwrap(), 7);
    /// ```
    #[inline]
    pub fn into_inner(self) -> LockResult<T>
    where
        T: Sized,
    {
        self.inner.into_inner()
    }

    /// A mutable reference to the data; no locking is needed since `self` is borrowed
    /// mutably.
    ///
    /// # Errors
    ///
    /// If the mutex is poisoned, the error contains the reference.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockwatch::sync::Mutex::new(0);
    /// *m.get_mut().unwrap() = 10;
    /// assert_eq!(*m.lock().unwrap(), 10);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.inner.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl<T> crate::sealed::Sealed for Mutex<T> {}

impl<T> crate::Trackable for Mutex<T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

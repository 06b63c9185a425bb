use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use ::tokio::sync as tokio_sync;
use ::tokio::sync::TryLockError;

use crate::tracker::{method, LockKind, LockMeta, Mode, TaskToken};

/// An asynchronous mutex, tracked per task: [`tokio::sync::Mutex`](https://docs.rs/tokio/1/tokio/sync/struct.Mutex.html)
/// with its exact API.
///
/// Every [`lock`](Mutex::lock) is checked against the locks the task (or, outside a task,
/// the thread) already holds before it waits; see the [module docs](super).
///
/// # Examples
///
/// ```
/// use lockwatch::tokio::Mutex;
/// use std::sync::Arc;
///
/// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// # rt.block_on(async {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..4)
///     .map(|_| {
///         let count = Arc::clone(&count);
///         tokio::spawn(async move { *count.lock().await += 1 })
///     })
///     .collect();
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 4);
/// # });
/// ```
pub struct Mutex<T: ?Sized> {
    meta: LockMeta,
    inner: tokio_sync::Mutex<T>,
}

/// The guard of a [`Mutex`]: the lock is released when it is dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    // Declared first: it drops (and blames waiters) while the lock is still held.
    token: TaskToken,
    inner: tokio_sync::MutexGuard<'a, T>,
    lock: &'a Mutex<T>,
}

/// An owned guard of a [`Mutex`] in an `Arc` (from [`Mutex::lock_owned`]): it keeps the mutex
/// alive and can be moved to another task.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized + 'static> {
    token: TaskToken,
    inner: tokio_sync::MutexGuard<'static, T>,
    // Declared last: `inner` borrows it.
    lock: Arc<Mutex<T>>,
}

/// A guard of a [`Mutex`] narrowed to a part of the data ([`MutexGuard::map`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    token: TaskToken,
    inner: tokio_sync::MappedMutexGuard<'a, T>,
}

/// An owned guard narrowed to a part of the data ([`OwnedMutexGuard::map`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMappedMutexGuard<T: ?Sized + 'static, U: ?Sized + 'static = T> {
    token: TaskToken,
    inner: tokio_sync::MappedMutexGuard<'static, U>,
    lock: Arc<Mutex<T>>,
}

impl<T: ?Sized> Mutex<T> {
    /// Creates a new, unlocked mutex. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::tokio::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    #[track_caller]
    pub fn new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            meta: LockMeta::new(
                LockKind::Mutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: tokio_sync::Mutex::new(t),
        }
    }

    /// Creates a new, unlocked mutex in a `const` context (a `static`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::Mutex;
    ///
    /// static JOBS: Mutex<Vec<u32>> = Mutex::const_new(Vec::new());
    /// ```
    #[track_caller]
    pub const fn const_new(t: T) -> Self
    where
        T: Sized,
    {
        Mutex {
            meta: LockMeta::new(
                LockKind::Mutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: tokio_sync::Mutex::const_new(t),
        }
    }

    /// Locks the mutex, waiting (asynchronously) until it is free.
    ///
    /// Before the task waits, the acquisition is checked against the locks it holds: a new
    /// order that closes a cycle, or locking this mutex again, is reported first.
    ///
    /// # Cancel safety
    ///
    /// As tokio's: dropping the future gives up its place in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let m = lockwatch::tokio::Mutex::new(1);
    /// *m.lock().await += 1;
    /// assert_eq!(*m.lock().await, 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let (inner, token) = self
                .meta
                .lock_async(
                    Mode::Exclusive,
                    method!("lock"),
                    site,
                    || self.inner.try_lock().ok(),
                    || self.inner.lock(),
                )
                .await;
            MutexGuard {
                token,
                inner,
                lock: self,
            }
        }
    }

    /// Locks the mutex from synchronous code, blocking the thread.
    ///
    /// # Panics
    ///
    /// As tokio's: when called inside an asynchronous execution context.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::tokio::Mutex::new(1);
    /// *m.blocking_lock() += 1;
    /// assert_eq!(*m.blocking_lock(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let (inner, token) = self.meta.lock_blocking(
            Mode::Exclusive,
            method!("blocking_lock"),
            Location::caller(),
            || self.inner.try_lock().ok(),
            || self.inner.blocking_lock(),
        );
        MutexGuard {
            token,
            inner,
            lock: self,
        }
    }

    /// Locks the mutex in an `Arc` from synchronous code, blocking the thread, and returns an
    /// owned guard.
    ///
    /// # Panics
    ///
    /// As tokio's: when called inside an asynchronous execution context.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(lockwatch::tokio::Mutex::new(1));
    /// *Arc::clone(&m).blocking_lock_owned() += 1;
    /// assert_eq!(*m.blocking_lock(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T>
    where
        T: 'static,
    {
        // SAFETY: `lock` and the guard borrowing it are stored together in the owned guard,
        // which drops the borrowed guard first.
        let lock = unsafe { super::extend(&self) };
        let (inner, token) = lock.meta.lock_blocking(
            Mode::Exclusive,
            method!("blocking_lock_owned"),
            Location::caller(),
            || lock.inner.try_lock().ok(),
            || lock.inner.blocking_lock(),
        );
        OwnedMutexGuard {
            token,
            inner,
            lock: self,
        }
    }

    /// Locks the mutex in an `Arc`, waiting until it is free, and returns an owned guard
    /// that can be moved to another task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let m = Arc::new(lockwatch::tokio::Mutex::new(1));
    /// let mut guard = Arc::clone(&m).lock_owned().await;
    /// *guard += 1;
    /// drop(guard);
    /// assert_eq!(*m.lock().await, 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>>
    where
        T: 'static,
    {
        let site = Location::caller();
        async move {
            // SAFETY: As in `blocking_lock_owned`.
            let lock = unsafe { super::extend(&self) };
            let (inner, token) = lock
                .meta
                .lock_async(
                    Mode::Exclusive,
                    method!("lock_owned"),
                    site,
                    || lock.inner.try_lock().ok(),
                    || lock.inner.lock(),
                )
                .await;
            OwnedMutexGuard {
                token,
                inner,
                lock: self,
            }
        }
    }

    /// Attempts to lock the mutex without waiting. A successful try is held (it orders later
    /// acquisitions) but, never having waited, adds no order edge into this mutex.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the mutex is locked.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::tokio::Mutex::new(1);
    /// let held = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(held);
    /// assert!(m.try_lock().is_ok());
    /// ```
    #[track_caller]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        let (inner, token) = self.meta.try_lock_task(
            Mode::Exclusive,
            method!("try_lock"),
            Location::caller(),
            || self.inner.try_lock(),
        )?;
        Ok(MutexGuard {
            token,
            inner,
            lock: self,
        })
    }

    /// Attempts to lock the mutex in an `Arc` without waiting, returning an owned guard.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the mutex is locked.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(lockwatch::tokio::Mutex::new(1));
    /// let held = Arc::clone(&m).try_lock_owned().unwrap();
    /// assert!(Arc::clone(&m).try_lock_owned().is_err());
    /// drop(held);
    /// ```
    #[track_caller]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError>
    where
        T: 'static,
    {
        // SAFETY: As in `blocking_lock_owned`.
        let lock = unsafe { super::extend(&self) };
        let (inner, token) = lock.meta.try_lock_task(
            Mode::Exclusive,
            method!("try_lock_owned"),
            Location::caller(),
            || lock.inner.try_lock(),
        )?;
        Ok(OwnedMutexGuard {
            token,
            inner,
            lock: self,
        })
    }

    /// A mutable reference to the data; no locking is needed since `self` is borrowed
    /// mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockwatch::tokio::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockwatch::tokio::Mutex::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.inner.into_inner()
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(t: T) -> Self {
        Mutex::new(t)
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> crate::sealed::Sealed for Mutex<T> {}

impl<T> crate::Trackable for Mutex<T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the data; the lock stays held by the new guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new((1, 2));
    /// let mut second = MutexGuard::map(m.blocking_lock(), |pair| &mut pair.1);
    /// *second = 5;
    /// drop(second);
    /// assert_eq!(*m.blocking_lock(), (1, 5));
    /// ```
    #[inline]
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let MutexGuard { token, inner, .. } = this;
        MappedMutexGuard {
            token,
            inner: tokio_sync::MutexGuard::map(inner, f),
        }
    }

    /// Narrows the guard to a part of the data if `f` finds one; otherwise hands the guard
    /// back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new(vec![1]);
    /// assert!(MutexGuard::try_map(m.blocking_lock(), |v| v.get_mut(3)).is_err());
    /// ```
    #[inline]
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let MutexGuard { token, inner, lock } = this;
        match tokio_sync::MutexGuard::try_map(inner, f) {
            Ok(inner) => Ok(MappedMutexGuard { token, inner }),
            Err(inner) => Err(MutexGuard { token, inner, lock }),
        }
    }

    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, MutexGuard};
    ///
    /// let m = Mutex::new(1);
    /// let guard = m.blocking_lock();
    /// assert!(std::ptr::eq(MutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized + 'static> OwnedMutexGuard<T> {
    /// Narrows the guard to a part of the data; the lock stays held by the new guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(Mutex::new((1, 2)));
    /// let mut first = OwnedMutexGuard::map(Arc::clone(&m).blocking_lock_owned(), |p| &mut p.0);
    /// *first = 3;
    /// drop(first);
    /// assert_eq!(*m.blocking_lock(), (3, 2));
    /// ```
    #[inline]
    pub fn map<U: ?Sized + 'static, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let OwnedMutexGuard { token, inner, lock } = this;
        OwnedMappedMutexGuard {
            token,
            inner: tokio_sync::MutexGuard::map(inner, f),
            lock,
        }
    }

    /// Narrows the guard to a part of the data if `f` finds one; otherwise hands the guard
    /// back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(Mutex::new(vec![1]));
    /// let guard = Arc::clone(&m).blocking_lock_owned();
    /// assert!(OwnedMutexGuard::try_map(guard, |v| v.get_mut(0)).is_ok());
    /// ```
    #[inline]
    pub fn try_map<U: ?Sized + 'static, F>(
        this: Self,
        f: F,
    ) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let OwnedMutexGuard { token, inner, lock } = this;
        match tokio_sync::MutexGuard::try_map(inner, f) {
            Ok(inner) => Ok(OwnedMappedMutexGuard { token, inner, lock }),
            Err(inner) => Err(OwnedMutexGuard { token, inner, lock }),
        }
    }

    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(Mutex::new(1));
    /// let guard = Arc::clone(&m).blocking_lock_owned();
    /// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &m));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let m = Mutex::new(((1, 2), 3));
    /// let pair = MutexGuard::map(m.blocking_lock(), |p| &mut p.0);
    /// let mut two = MappedMutexGuard::map(pair, |p| &mut p.1);
    /// *two = 20;
    /// drop(two);
    /// assert_eq!(m.blocking_lock().0 .1, 20);
    /// ```
    #[inline]
    pub fn map<U, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let MappedMutexGuard { token, inner } = this;
        MappedMutexGuard {
            token,
            inner: tokio_sync::MappedMutexGuard::map(inner, f),
        }
    }

    /// Narrows the guard further if `f` finds a part; otherwise hands the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{MappedMutexGuard, Mutex, MutexGuard};
    ///
    /// let m = Mutex::new((vec![1], 3));
    /// let v = MutexGuard::map(m.blocking_lock(), |p| &mut p.0);
    /// assert!(MappedMutexGuard::try_map(v, |v| v.get_mut(5)).is_err());
    /// ```
    #[inline]
    pub fn try_map<U, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let MappedMutexGuard { token, inner } = this;
        match tokio_sync::MappedMutexGuard::try_map(inner, f) {
            Ok(inner) => Ok(MappedMutexGuard { token, inner }),
            Err(inner) => Err(MappedMutexGuard { token, inner }),
        }
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> OwnedMappedMutexGuard<T, U> {
    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(Mutex::new(((1, 2), 3)));
    /// let pair = OwnedMutexGuard::map(Arc::clone(&m).blocking_lock_owned(), |p| &mut p.0);
    /// let one = OwnedMappedMutexGuard::map(pair, |p| &mut p.0);
    /// assert_eq!(*one, 1);
    /// ```
    #[inline]
    pub fn map<S: 'static, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        let OwnedMappedMutexGuard { token, inner, lock } = this;
        OwnedMappedMutexGuard {
            token,
            inner: tokio_sync::MappedMutexGuard::map(inner, f),
            lock,
        }
    }

    /// Narrows the guard further if `f` finds a part; otherwise hands the guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(Mutex::new((vec![1], 3)));
    /// let v = OwnedMutexGuard::map(Arc::clone(&m).blocking_lock_owned(), |p| &mut p.0);
    /// assert!(OwnedMappedMutexGuard::try_map(v, |v| v.get_mut(9)).is_err());
    /// ```
    #[inline]
    pub fn try_map<S: 'static, F>(this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let OwnedMappedMutexGuard { token, inner, lock } = this;
        match tokio_sync::MappedMutexGuard::try_map(inner, f) {
            Ok(inner) => Ok(OwnedMappedMutexGuard { token, inner, lock }),
            Err(inner) => Err(OwnedMappedMutexGuard { token, inner, lock }),
        }
    }

    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};
    /// use std::sync::Arc;
    ///
    /// let m = Arc::new(Mutex::new((1, 2)));
    /// let one = OwnedMutexGuard::map(Arc::clone(&m).blocking_lock_owned(), |p| &mut p.0);
    /// assert!(Arc::ptr_eq(OwnedMappedMutexGuard::mutex(&one), &m));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

super::guard_impls!(['a, T: ?Sized] MutexGuard<'a, T> => T, mut);
super::guard_impls!([T: ?Sized + 'static] OwnedMutexGuard<T> => T, mut);
super::guard_impls!(['a, T: ?Sized] MappedMutexGuard<'a, T> => T, mut);
super::guard_impls!([T: ?Sized + 'static, U: ?Sized + 'static] OwnedMappedMutexGuard<T, U> => U, mut);

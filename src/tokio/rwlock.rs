use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use ::tokio::sync as tokio_sync;
use ::tokio::sync::TryLockError;

use crate::tracker::{method, LockKind, LockMeta, Mode, TaskToken};

/// An asynchronous reader-writer lock, tracked per task:
/// [`tokio::sync::RwLock`](https://docs.rs/tokio/1/tokio/sync/struct.RwLock.html) with its exact API.
///
/// Tokio's lock is fair: a [`read`](RwLock::read) waits behind a queued writer. So reads are
/// not recursive: a task that holds a read and reads again is reported (it deadlocks as soon
/// as a writer queues in between), and reads and writes take part in lock order like any lock
/// (lockdep's rules, see the [crate docs](crate)).
///
/// # Examples
///
/// ```
/// use lockwatch::tokio::RwLock;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let config = RwLock::new(String::from("v1"));
/// assert_eq!(*config.read().await, "v1");
/// *config.write().await = String::from("v2");
/// assert_eq!(*config.read().await, "v2");
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    meta: LockMeta,
    inner: tokio_sync::RwLock<T>,
}

/// Shared access to a [`RwLock`], released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    token: TaskToken,
    inner: tokio_sync::RwLockReadGuard<'a, T>,
}

/// Exclusive access to a [`RwLock`], released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    token: TaskToken,
    inner: tokio_sync::RwLockWriteGuard<'a, T>,
}

/// Exclusive access narrowed to a part of the data ([`RwLockWriteGuard::map`]).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    token: TaskToken,
    inner: tokio_sync::RwLockMappedWriteGuard<'a, T>,
}

/// Owned shared access to a [`RwLock`] in an `Arc` ([`RwLock::read_owned`]), possibly
/// narrowed to a part `U` of the data.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized + 'static, U: ?Sized + 'static = T> {
    token: TaskToken,
    inner: tokio_sync::RwLockReadGuard<'static, U>,
    lock: Arc<RwLock<T>>,
}

/// Owned exclusive access to a [`RwLock`] in an `Arc` ([`RwLock::write_owned`]).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized + 'static> {
    token: TaskToken,
    inner: tokio_sync::RwLockWriteGuard<'static, T>,
    lock: Arc<RwLock<T>>,
}

/// Owned exclusive access narrowed to a part `U` of the data
/// ([`OwnedRwLockWriteGuard::map`]).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized + 'static, U: ?Sized + 'static = T> {
    token: TaskToken,
    inner: tokio_sync::RwLockMappedWriteGuard<'static, U>,
    lock: Arc<RwLock<T>>,
}

impl<T: ?Sized> RwLock<T> {
    /// Creates a new, unlocked lock. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::new(5);
    /// assert_eq!(lock.into_inner(), 5);
    /// ```
    #[track_caller]
    pub fn new(value: T) -> Self
    where
        T: Sized,
    {
        RwLock {
            meta: meta::<T>(),
            inner: tokio_sync::RwLock::new(value),
        }
    }

    /// Creates a new, unlocked lock that lets at most `max_reads` readers in at once.
    ///
    /// # Panics
    ///
    /// As tokio's: if `max_reads` is more than `u32::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::with_max_readers(5, 1024);
    /// assert_eq!(*lock.blocking_read(), 5);
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> Self
    where
        T: Sized,
    {
        RwLock {
            meta: meta::<T>(),
            inner: tokio_sync::RwLock::with_max_readers(value, max_reads),
        }
    }

    /// Creates a new, unlocked lock in a `const` context (a `static`).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::RwLock;
    ///
    /// static CONFIG: RwLock<u32> = RwLock::const_new(0);
    /// ```
    #[track_caller]
    pub const fn const_new(value: T) -> Self
    where
        T: Sized,
    {
        RwLock {
            meta: meta::<T>(),
            inner: tokio_sync::RwLock::const_new(value),
        }
    }

    /// Creates a new lock with a reader limit in a `const` context.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::RwLock;
    ///
    /// static CONFIG: RwLock<u32> = RwLock::const_with_max_readers(0, 16);
    /// ```
    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> Self
    where
        T: Sized,
    {
        RwLock {
            meta: meta::<T>(),
            inner: tokio_sync::RwLock::const_with_max_readers(value, max_reads),
        }
    }

    /// Locks for reading, waiting until no writer holds or waits for the lock.
    ///
    /// Checked before the task waits: a new order that closes a cycle, or a read of a lock the
    /// task already holds (for writing, or for reading: a queued writer would block the second
    /// read for good), is reported first.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// assert_eq!(*lock.read().await, 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn read(&self) -> impl Future<Output = RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let (inner, token) = self
                .meta
                .lock_async(
                    Mode::Read,
                    method!("read"),
                    site,
                    || self.inner.try_read().ok(),
                    || self.inner.read(),
                )
                .await;
            RwLockReadGuard { token, inner }
        }
    }

    /// Locks for reading from synchronous code, blocking the thread.
    ///
    /// # Panics
    ///
    /// As tokio's: when called inside an asynchronous execution context.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// assert_eq!(*lock.blocking_read(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        let (inner, token) = self.meta.lock_blocking(
            Mode::Read,
            method!("blocking_read"),
            Location::caller(),
            || self.inner.try_read().ok(),
            || self.inner.blocking_read(),
        );
        RwLockReadGuard { token, inner }
    }

    /// Locks the lock in an `Arc` for reading and returns an owned guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = Arc::new(lockwatch::tokio::RwLock::new(1));
    /// assert_eq!(*Arc::clone(&lock).read_owned().await, 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn read_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockReadGuard<T>>
    where
        T: 'static,
    {
        let site = Location::caller();
        async move {
            // SAFETY: `lock` and the guard borrowing it are stored together in the owned
            // guard, which drops the borrowed guard first.
            let lock = unsafe { super::extend(&self) };
            let (inner, token) = lock
                .meta
                .lock_async(
                    Mode::Read,
                    method!("read_owned"),
                    site,
                    || lock.inner.try_read().ok(),
                    || lock.inner.read(),
                )
                .await;
            OwnedRwLockReadGuard {
                token,
                inner,
                lock: self,
            }
        }
    }

    /// Attempts to lock for reading without waiting. A successful try is held but adds no
    /// order edge into this lock.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert!(lock.try_read().is_ok());
    /// ```
    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let (inner, token) =
            self.meta
                .try_lock_task(Mode::Read, method!("try_read"), Location::caller(), || {
                    self.inner.try_read()
                })?;
        Ok(RwLockReadGuard { token, inner })
    }

    /// Attempts to lock the lock in an `Arc` for reading without waiting.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock or waits for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(lockwatch::tokio::RwLock::new(1));
    /// assert_eq!(*Arc::clone(&lock).try_read_owned().unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError>
    where
        T: 'static,
    {
        // SAFETY: As in `read_owned`.
        let lock = unsafe { super::extend(&self) };
        let (inner, token) = lock.meta.try_lock_task(
            Mode::Read,
            method!("try_read_owned"),
            Location::caller(),
            || lock.inner.try_read(),
        )?;
        Ok(OwnedRwLockReadGuard {
            token,
            inner,
            lock: self,
        })
    }

    /// Locks for writing, waiting until no one else holds the lock.
    ///
    /// Checked before the task waits, like [`read`](RwLock::read).
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// *lock.write().await += 1;
    /// assert_eq!(*lock.read().await, 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn write(&self) -> impl Future<Output = RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let (inner, token) = self
                .meta
                .lock_async(
                    Mode::Exclusive,
                    method!("write"),
                    site,
                    || self.inner.try_write().ok(),
                    || self.inner.write(),
                )
                .await;
            RwLockWriteGuard { token, inner }
        }
    }

    /// Locks for writing from synchronous code, blocking the thread.
    ///
    /// # Panics
    ///
    /// As tokio's: when called inside an asynchronous execution context.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// *lock.blocking_write() += 1;
    /// assert_eq!(*lock.blocking_read(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        let (inner, token) = self.meta.lock_blocking(
            Mode::Exclusive,
            method!("blocking_write"),
            Location::caller(),
            || self.inner.try_write().ok(),
            || self.inner.blocking_write(),
        );
        RwLockWriteGuard { token, inner }
    }

    /// Locks the lock in an `Arc` for writing and returns an owned guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = Arc::new(lockwatch::tokio::RwLock::new(1));
    /// *Arc::clone(&lock).write_owned().await += 1;
    /// assert_eq!(*lock.read().await, 2);
    /// # });
    /// ```
    #[track_caller]
    pub fn write_owned(self: Arc<Self>) -> impl Future<Output = OwnedRwLockWriteGuard<T>>
    where
        T: 'static,
    {
        let site = Location::caller();
        async move {
            // SAFETY: As in `read_owned`.
            let lock = unsafe { super::extend(&self) };
            let (inner, token) = lock
                .meta
                .lock_async(
                    Mode::Exclusive,
                    method!("write_owned"),
                    site,
                    || lock.inner.try_write().ok(),
                    || lock.inner.write(),
                )
                .await;
            OwnedRwLockWriteGuard {
                token,
                inner,
                lock: self,
            }
        }
    }

    /// Attempts to lock for writing without waiting.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if anyone holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// ```
    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let (inner, token) = self.meta.try_lock_task(
            Mode::Exclusive,
            method!("try_write"),
            Location::caller(),
            || self.inner.try_write(),
        )?;
        Ok(RwLockWriteGuard { token, inner })
    }

    /// Attempts to lock the lock in an `Arc` for writing without waiting.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if anyone holds the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(lockwatch::tokio::RwLock::new(1));
    /// *Arc::clone(&lock).try_write_owned().unwrap() = 3;
    /// assert_eq!(*lock.blocking_read(), 3);
    /// ```
    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError>
    where
        T: 'static,
    {
        // SAFETY: As in `read_owned`.
        let lock = unsafe { super::extend(&self) };
        let (inner, token) = lock.meta.try_lock_task(
            Mode::Exclusive,
            method!("try_write_owned"),
            Location::caller(),
            || lock.inner.try_write(),
        )?;
        Ok(OwnedRwLockWriteGuard {
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
    /// let mut lock = lockwatch::tokio::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(lockwatch::tokio::RwLock::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        self.inner.into_inner()
    }
}

/// The tracking state of a new lock created at the caller's caller.
#[track_caller]
const fn meta<T>() -> LockMeta {
    LockMeta::new(
        LockKind::RwLock,
        Location::caller(),
        std::any::type_name::<T>,
    )
}

impl<T> From<T> for RwLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> crate::sealed::Sealed for RwLock<T> {}

impl<T> crate::Trackable for RwLock<T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new((1, 2));
    /// let second = RwLockReadGuard::map(lock.blocking_read(), |p| &p.1);
    /// assert_eq!(*second, 2);
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let RwLockReadGuard { token, inner } = this;
        RwLockReadGuard {
            token,
            inner: tokio_sync::RwLockReadGuard::map(inner, f),
        }
    }

    /// Narrows the guard to a part of the data if `f` finds one.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockReadGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// assert!(RwLockReadGuard::try_map(lock.blocking_read(), |v| v.get(4)).is_err());
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let RwLockReadGuard { token, inner } = this;
        match tokio_sync::RwLockReadGuard::try_map(inner, f) {
            Ok(inner) => Ok(RwLockReadGuard { token, inner }),
            Err(inner) => Err(RwLockReadGuard { token, inner }),
        }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Narrows the guard to a part of the data; the lock stays held for writing.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((1, 2));
    /// *RwLockWriteGuard::map(lock.blocking_write(), |p| &mut p.1) = 5;
    /// assert_eq!(*lock.blocking_read(), (1, 5));
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let RwLockWriteGuard { token, inner } = this;
        RwLockMappedWriteGuard {
            token,
            inner: tokio_sync::RwLockWriteGuard::map(inner, f),
        }
    }

    /// Downgrades to a read guard narrowed to a part of the data, atomically (no writer gets
    /// in between).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((1, 2));
    /// let first = RwLockWriteGuard::downgrade_map(lock.blocking_write(), |p| &p.0);
    /// assert_eq!(*first, 1);
    /// ```
    #[inline]
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let RwLockWriteGuard { token, inner } = this;
        token.set_mode(Mode::Read);
        RwLockReadGuard {
            token,
            inner: tokio_sync::RwLockWriteGuard::downgrade_map(inner, f),
        }
    }

    /// Narrows the guard to a part of the data if `f` finds one.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// assert!(RwLockWriteGuard::try_map(lock.blocking_write(), |v| v.get_mut(0)).is_ok());
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let RwLockWriteGuard { token, inner } = this;
        match tokio_sync::RwLockWriteGuard::try_map(inner, f) {
            Ok(inner) => Ok(RwLockMappedWriteGuard { token, inner }),
            Err(inner) => Err(RwLockWriteGuard { token, inner }),
        }
    }

    /// Downgrades to a read guard narrowed to a part of the data if `f` finds one; otherwise
    /// hands the write guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(vec![1]);
    /// let one = RwLockWriteGuard::try_downgrade_map(lock.blocking_write(), |v| v.first());
    /// assert_eq!(*one.unwrap(), 1);
    /// ```
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let RwLockWriteGuard { token, inner } = this;
        match tokio_sync::RwLockWriteGuard::try_downgrade_map(inner, f) {
            Ok(inner) => {
                token.set_mode(Mode::Read);
                Ok(RwLockReadGuard { token, inner })
            }
            Err(inner) => Err(RwLockWriteGuard { token, inner }),
        }
    }

    /// Turns the guard into a mapped one over the whole data.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// *RwLockWriteGuard::into_mapped(lock.blocking_write()) = 2;
    /// assert_eq!(*lock.blocking_read(), 2);
    /// ```
    #[inline]
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        let RwLockWriteGuard { token, inner } = this;
        RwLockMappedWriteGuard {
            token,
            inner: tokio_sync::RwLockWriteGuard::into_mapped(inner),
        }
    }

    /// Downgrades to a read guard, atomically: no writer gets in between, and the task now
    /// holds the lock for reading.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::tokio::RwLock::new(1);
    /// let mut w = lock.blocking_write();
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// ```
    #[inline]
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let RwLockWriteGuard { token, inner } = self;
        token.set_mode(Mode::Read);
        RwLockReadGuard {
            token,
            inner: inner.downgrade(),
        }
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(((1, 2), 3));
    /// let pair = RwLockWriteGuard::map(lock.blocking_write(), |p| &mut p.0);
    /// *RwLockMappedWriteGuard::map(pair, |p| &mut p.1) = 20;
    /// assert_eq!(lock.blocking_read().0 .1, 20);
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let RwLockMappedWriteGuard { token, inner } = this;
        RwLockMappedWriteGuard {
            token,
            inner: tokio_sync::RwLockMappedWriteGuard::map(inner, f),
        }
    }

    /// Narrows the guard further if `f` finds a part.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{RwLock, RwLockMappedWriteGuard, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new((vec![1], 3));
    /// let v = RwLockWriteGuard::map(lock.blocking_write(), |p| &mut p.0);
    /// assert!(RwLockMappedWriteGuard::try_map(v, |v| v.get_mut(7)).is_err());
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let RwLockMappedWriteGuard { token, inner } = this;
        match tokio_sync::RwLockMappedWriteGuard::try_map(inner, f) {
            Ok(inner) => Ok(RwLockMappedWriteGuard { token, inner }),
            Err(inner) => Err(RwLockMappedWriteGuard { token, inner }),
        }
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> OwnedRwLockReadGuard<T, U> {
    /// Narrows the guard to a part of the data.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockReadGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let second = OwnedRwLockReadGuard::map(lock.read_owned().await, |p| &p.1);
    /// assert_eq!(*second, 2);
    /// # });
    /// ```
    #[inline]
    pub fn map<F, V: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let OwnedRwLockReadGuard { token, inner, lock } = this;
        OwnedRwLockReadGuard {
            token,
            inner: tokio_sync::RwLockReadGuard::map(inner, f),
            lock,
        }
    }

    /// Narrows the guard to a part of the data if `f` finds one.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockReadGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let guard = Arc::clone(&lock).try_read_owned().unwrap();
    /// assert!(OwnedRwLockReadGuard::try_map(guard, |v| v.get(3)).is_err());
    /// ```
    #[inline]
    pub fn try_map<F, V: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let OwnedRwLockReadGuard { token, inner, lock } = this;
        match tokio_sync::RwLockReadGuard::try_map(inner, f) {
            Ok(inner) => Ok(OwnedRwLockReadGuard { token, inner, lock }),
            Err(inner) => Err(OwnedRwLockReadGuard { token, inner, lock }),
        }
    }

    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockReadGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = Arc::clone(&lock).try_read_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&guard), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized + 'static> OwnedRwLockWriteGuard<T> {
    /// Narrows the guard to a part of the data; the lock stays held for writing.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// *OwnedRwLockWriteGuard::map(guard, |p| &mut p.0) = 9;
    /// assert_eq!(*lock.blocking_read(), (9, 2));
    /// ```
    #[inline]
    pub fn map<F, U: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let OwnedRwLockWriteGuard { token, inner, lock } = this;
        OwnedRwLockMappedWriteGuard {
            token,
            inner: tokio_sync::RwLockWriteGuard::map(inner, f),
            lock,
        }
    }

    /// Downgrades to a read guard narrowed to a part of the data, atomically.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// assert_eq!(*OwnedRwLockWriteGuard::downgrade_map(guard, |p| &p.1), 2);
    /// ```
    #[inline]
    pub fn downgrade_map<F, U: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let OwnedRwLockWriteGuard { token, inner, lock } = this;
        token.set_mode(Mode::Read);
        OwnedRwLockReadGuard {
            token,
            inner: tokio_sync::RwLockWriteGuard::downgrade_map(inner, f),
            lock,
        }
    }

    /// Narrows the guard to a part of the data if `f` finds one.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// assert!(OwnedRwLockWriteGuard::try_map(guard, |v| v.get_mut(5)).is_err());
    /// ```
    #[inline]
    pub fn try_map<F, U: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let OwnedRwLockWriteGuard { token, inner, lock } = this;
        match tokio_sync::RwLockWriteGuard::try_map(inner, f) {
            Ok(inner) => Ok(OwnedRwLockMappedWriteGuard { token, inner, lock }),
            Err(inner) => Err(OwnedRwLockWriteGuard { token, inner, lock }),
        }
    }

    /// Downgrades to a read guard narrowed to a part of the data if `f` finds one; otherwise
    /// hands the write guard back.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(vec![1]));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// assert!(OwnedRwLockWriteGuard::try_downgrade_map(guard, |v| v.first()).is_ok());
    /// ```
    #[inline]
    pub fn try_downgrade_map<F, U: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let OwnedRwLockWriteGuard { token, inner, lock } = this;
        match tokio_sync::RwLockWriteGuard::try_downgrade_map(inner, f) {
            Ok(inner) => {
                token.set_mode(Mode::Read);
                Ok(OwnedRwLockReadGuard { token, inner, lock })
            }
            Err(inner) => Err(OwnedRwLockWriteGuard { token, inner, lock }),
        }
    }

    /// Turns the guard into a mapped one over the whole data.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// *OwnedRwLockWriteGuard::into_mapped(guard) = 4;
    /// assert_eq!(*lock.blocking_read(), 4);
    /// ```
    #[inline]
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        let OwnedRwLockWriteGuard { token, inner, lock } = this;
        OwnedRwLockMappedWriteGuard {
            token,
            inner: tokio_sync::RwLockWriteGuard::into_mapped(inner),
            lock,
        }
    }

    /// Downgrades to a read guard, atomically.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::RwLock;
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let read = Arc::clone(&lock).try_write_owned().unwrap().downgrade();
    /// assert_eq!(*read, 1);
    /// assert!(lock.try_read().is_ok());
    /// ```
    #[inline]
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let OwnedRwLockWriteGuard { token, inner, lock } = self;
        token.set_mode(Mode::Read);
        OwnedRwLockReadGuard {
            token,
            inner: inner.downgrade(),
            lock,
        }
    }

    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let guard = Arc::clone(&lock).try_write_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedRwLockWriteGuard::rwlock(&guard), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized + 'static, U: ?Sized + 'static> OwnedRwLockMappedWriteGuard<T, U> {
    /// Narrows the guard further.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new(((1, 2), 3)));
    /// let pair = OwnedRwLockWriteGuard::map(Arc::clone(&lock).try_write_owned().unwrap(), |p| &mut p.0);
    /// *OwnedRwLockMappedWriteGuard::map(pair, |p| &mut p.0) = 7;
    /// assert_eq!(lock.blocking_read().0 .0, 7);
    /// ```
    #[inline]
    pub fn map<F, V: ?Sized + 'static>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let OwnedRwLockMappedWriteGuard { token, inner, lock } = this;
        OwnedRwLockMappedWriteGuard {
            token,
            inner: tokio_sync::RwLockMappedWriteGuard::map(inner, f),
            lock,
        }
    }

    /// Narrows the guard further if `f` finds a part.
    ///
    /// # Errors
    ///
    /// The original guard, when `f` returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new((vec![1], 3)));
    /// let v = OwnedRwLockWriteGuard::map(Arc::clone(&lock).try_write_owned().unwrap(), |p| &mut p.0);
    /// assert!(OwnedRwLockMappedWriteGuard::try_map(v, |v| v.get_mut(8)).is_err());
    /// ```
    #[inline]
    pub fn try_map<F, V: ?Sized + 'static>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let OwnedRwLockMappedWriteGuard { token, inner, lock } = this;
        match tokio_sync::RwLockMappedWriteGuard::try_map(inner, f) {
            Ok(inner) => Ok(OwnedRwLockMappedWriteGuard { token, inner, lock }),
            Err(inner) => Err(OwnedRwLockMappedWriteGuard { token, inner, lock }),
        }
    }

    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::tokio::{OwnedRwLockMappedWriteGuard, OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(RwLock::new((1, 2)));
    /// let one = OwnedRwLockWriteGuard::map(Arc::clone(&lock).try_write_owned().unwrap(), |p| &mut p.0);
    /// assert!(Arc::ptr_eq(OwnedRwLockMappedWriteGuard::rwlock(&one), &lock));
    /// ```
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

super::guard_impls!(['a, T: ?Sized] RwLockReadGuard<'a, T> => T);
super::guard_impls!(['a, T: ?Sized] RwLockWriteGuard<'a, T> => T, mut);
super::guard_impls!(['a, T: ?Sized] RwLockMappedWriteGuard<'a, T> => T, mut);
super::guard_impls!([T: ?Sized + 'static, U: ?Sized + 'static] OwnedRwLockReadGuard<T, U> => U);
super::guard_impls!([T: ?Sized + 'static] OwnedRwLockWriteGuard<T> => T, mut);
super::guard_impls!([T: ?Sized + 'static, U: ?Sized + 'static] OwnedRwLockMappedWriteGuard<T, U> => U, mut);

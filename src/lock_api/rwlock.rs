use std::fmt;
use std::panic::Location;

use user_la::{
    RawRwLock, RawRwLockDowngrade, RawRwLockFair, RawRwLockTimed, RawRwLockUpgrade,
    RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
};
#[cfg(not(feature = "parking_lot_0_13"))]
use user_la::{RawRwLockRecursive, RawRwLockRecursiveTimed};

use crate::tracker::{Guarded, HeldToken, LockKind, LockMeta, Mode};

/// A reader-writer lock over any raw rwlock, tracked: [`lock_api::RwLock`] with its exact
/// API. [`crate::parking_lot::RwLock`] is this type over parking_lot's raw lock.
///
/// `read` is non-recursive (a queued writer blocks it), `read_recursive` is recursive; the
/// verdicts follow lockdep's read rules.
///
/// # Examples
///
/// ```
/// use lockwatch::parking_lot::RwLock;
///
/// let lock = RwLock::new(1);
/// {
///     let a = lock.read();
///     let b = lock.read_recursive(); // a second read in one thread: use read_recursive
///     assert_eq!(*a + *b, 2);
/// }
/// *lock.write() = 3;
/// ```
pub struct RwLock<R, T: ?Sized> {
    meta: LockMeta,
    inner: user_la::RwLock<R, T>,
}

/// Shared access to a [`RwLock`]'s data, released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, R: RawRwLock, T: ?Sized> {
    inner: Guarded<user_la::RwLockReadGuard<'a, R, T>>,
    rwlock: &'a RwLock<R, T>,
}

/// Exclusive access to a [`RwLock`]'s data, released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, R: RawRwLock, T: ?Sized> {
    inner: Guarded<user_la::RwLockWriteGuard<'a, R, T>>,
    rwlock: &'a RwLock<R, T>,
}

/// Upgradable shared access to a [`RwLock`]'s data, released on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockUpgradableReadGuard<'a, R: RawRwLockUpgrade, T: ?Sized> {
    inner: Guarded<user_la::RwLockUpgradableReadGuard<'a, R, T>>,
    rwlock: &'a RwLock<R, T>,
}

/// Shared access to a component of a [`RwLock`]'s data.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct MappedRwLockReadGuard<'a, R: RawRwLock, T: ?Sized> {
    inner: Guarded<user_la::MappedRwLockReadGuard<'a, R, T>>,
}

/// Exclusive access to a component of a [`RwLock`]'s data.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct MappedRwLockWriteGuard<'a, R: RawRwLock, T: ?Sized> {
    inner: Guarded<user_la::MappedRwLockWriteGuard<'a, R, T>>,
}

impl<R: RawRwLock, T> RwLock<R, T> {
    /// Creates a new, unlocked `RwLock`. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::RwLock;
    ///
    /// static TABLE: RwLock<Vec<u8>> = RwLock::new(Vec::new());
    /// TABLE.write().push(1);
    /// assert_eq!(TABLE.read().len(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub const fn new(val: T) -> RwLock<R, T> {
        RwLock {
            meta: LockMeta::new(
                LockKind::RwLock,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::RwLock::new(val),
        }
    }

    /// Consumes the lock, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::parking_lot::RwLock::new(8);
    /// assert_eq!(lock.into_inner(), 8);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<R, T> RwLock<R, T> {
    /// Creates a new `RwLock` from a raw rwlock and a value.
    #[inline]
    #[track_caller]
    pub const fn from_raw(raw_rwlock: R, val: T) -> RwLock<R, T> {
        RwLock {
            meta: LockMeta::new(
                LockKind::RwLock,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::RwLock::from_raw(raw_rwlock, val),
        }
    }

    // lock_api 0.5 dropped it (its `new` and `from_raw` are `const`).
    #[cfg(not(feature = "parking_lot_0_13"))]
    /// The older name of [`from_raw`](Self::from_raw).
    #[inline]
    #[track_caller]
    pub const fn const_new(raw_rwlock: R, val: T) -> RwLock<R, T> {
        RwLock::from_raw(raw_rwlock, val)
    }
}

impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    /// The mode an acquisition is tracked in: a `read` is recursive when the raw lock says
    /// so (see [`declare_recursive_reads`](super::declare_recursive_reads)).
    #[inline(always)]
    fn mode_of(&self, mode: Mode) -> Mode {
        if mode == Mode::Read {
            self.meta.read_mode(std::any::type_name::<R>)
        } else {
            mode
        }
    }

    fn read_guard<'a>(
        &'a self,
        (inner, token): (user_la::RwLockReadGuard<'a, R, T>, HeldToken),
    ) -> RwLockReadGuard<'a, R, T> {
        RwLockReadGuard {
            inner: Guarded::new(inner, token),
            rwlock: self,
        }
    }

    fn write_guard<'a>(
        &'a self,
        (inner, token): (user_la::RwLockWriteGuard<'a, R, T>, HeldToken),
    ) -> RwLockWriteGuard<'a, R, T> {
        RwLockWriteGuard {
            inner: Guarded::new(inner, token),
            rwlock: self,
        }
    }

    tracked_unchecked! {
        /// Creates a read guard without locking.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::make_read_guard_unchecked`]: this thread holds a read lock.
        unsafe fn make_read_guard_unchecked [guard: R::SharedGuard] -> RwLockReadGuard<'_, R, T> = read_guard(Mode::Read);
    }

    tracked_unchecked! {
        /// Creates a write guard without locking.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::make_write_guard_unchecked`]: this thread holds the write lock.
        unsafe fn make_write_guard_unchecked [guard: R::ExclusiveGuard] -> RwLockWriteGuard<'_, R, T> = write_guard(Mode::Exclusive);
    }

    tracked_lock! {
        /// Locks for shared read access, blocking until it can be acquired. Non-recursive: a
        /// second `read` in a thread that already reads it is reported (use
        /// [`read_recursive`](Self::read_recursive)).
        ///
        /// # Examples
        ///
        /// ```
        /// let lock = lockwatch::parking_lot::RwLock::new(2);
        /// assert_eq!(*lock.read(), 2);
        /// ```
        fn read / try_read -> RwLockReadGuard<'_, R, T> = read_guard(Mode::Read);
    }

    tracked_try! {
        /// Attempts shared read access without blocking.
        ///
        /// # Examples
        ///
        /// ```
        /// let lock = lockwatch::parking_lot::RwLock::new(2);
        /// let w = lock.write();
        /// assert!(lock.try_read().is_none());
        /// drop(w);
        /// assert!(lock.try_read().is_some());
        /// ```
        fn try_read() -> RwLockReadGuard<'_, R, T> = read_guard(Mode::Read);
    }

    tracked_lock! {
        /// Locks for exclusive write access, blocking until it can be acquired.
        ///
        /// # Examples
        ///
        /// ```
        /// let lock = lockwatch::parking_lot::RwLock::new(2);
        /// *lock.write() *= 5;
        /// assert_eq!(*lock.read(), 10);
        /// ```
        fn write / try_write -> RwLockWriteGuard<'_, R, T> = write_guard(Mode::Exclusive);
    }

    tracked_try! {
        /// Attempts exclusive write access without blocking.
        ///
        /// # Examples
        ///
        /// ```
        /// let lock = lockwatch::parking_lot::RwLock::new(2);
        /// let r = lock.read();
        /// assert!(lock.try_write().is_none());
        /// drop(r);
        /// assert!(lock.try_write().is_some());
        /// ```
        fn try_write() -> RwLockWriteGuard<'_, R, T> = write_guard(Mode::Exclusive);
    }

    /// A mutable reference to the data, without locking.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Whether the lock is held in any mode.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the lock is held exclusively.
    #[inline]
    pub fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }

    force_unlock! {
        /// Forcibly releases a read lock.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::force_unlock_read`].
        unsafe fn force_unlock_read [guard: R::SharedGuard]
    }

    force_unlock! {
        /// Forcibly releases the write lock.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::force_unlock_write`].
        unsafe fn force_unlock_write [guard: R::ExclusiveGuard]
    }

    /// The underlying raw rwlock.
    ///
    /// # Safety
    ///
    /// As [`lock_api::RwLock::raw`]. Locking it directly bypasses tracking.
    #[inline]
    pub unsafe fn raw(&self) -> &R {
        // SAFETY: Forwarded from the caller.
        unsafe { self.inner.raw() }
    }

    /// A raw pointer to the data.
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }
}

impl<R: RawRwLockFair, T: ?Sized> RwLock<R, T> {
    force_unlock! {
        /// Forcibly releases a read lock, fairly.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::force_unlock_read_fair`].
        unsafe fn force_unlock_read_fair [guard: R::SharedGuard]
    }

    force_unlock! {
        /// Forcibly releases the write lock, fairly.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::force_unlock_write_fair`].
        unsafe fn force_unlock_write_fair [guard: R::ExclusiveGuard]
    }
}

impl<R: RawRwLockTimed, T: ?Sized> RwLock<R, T> {
    tracked_try! {
        /// Attempts shared access until `timeout` has passed (a try-lock).
        fn try_read_for(timeout: R::Duration) -> RwLockReadGuard<'_, R, T> = read_guard(Mode::Read);
    }

    tracked_try! {
        /// Attempts shared access until `timeout` is reached (a try-lock).
        fn try_read_until(timeout: R::Instant) -> RwLockReadGuard<'_, R, T> = read_guard(Mode::Read);
    }

    tracked_try! {
        /// Attempts exclusive access until `timeout` has passed (a try-lock).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let lock = lockwatch::parking_lot::RwLock::new(0);
        /// let r = lock.read();
        /// assert!(lock.try_write_for(Duration::from_millis(1)).is_none());
        /// drop(r);
        /// ```
        fn try_write_for(timeout: R::Duration) -> RwLockWriteGuard<'_, R, T> = write_guard(Mode::Exclusive);
    }

    tracked_try! {
        /// Attempts exclusive access until `timeout` is reached (a try-lock).
        fn try_write_until(timeout: R::Instant) -> RwLockWriteGuard<'_, R, T> = write_guard(Mode::Exclusive);
    }
}

// lock_api 0.5 has no recursive-read methods: a raw lock whose reads are recursive is its own
// type there (parking_lot 0.13's `RecursiveRwLock`).
#[cfg(not(feature = "parking_lot_0_13"))]
impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
    tracked_lock! {
        /// Locks for shared access even when a writer is queued, so a thread may read it again
        /// while reading it. `[read_recursive A, lock B]` against `[lock B, read_recursive A]` is
        /// not a deadlock and stays quiet.
        ///
        /// # Examples
        ///
        /// ```
        /// let lock = lockwatch::parking_lot::RwLock::new(1);
        /// let a = lock.read_recursive();
        /// let b = lock.read_recursive();
        /// assert_eq!(*a, *b);
        /// ```
        fn read_recursive / try_read_recursive -> RwLockReadGuard<'_, R, T> = read_guard(Mode::RecursiveRead);
    }

    tracked_try! {
        /// Attempts a recursive read without blocking.
        fn try_read_recursive() -> RwLockReadGuard<'_, R, T> = read_guard(Mode::RecursiveRead);
    }
}

#[cfg(not(feature = "parking_lot_0_13"))]
impl<R: RawRwLockRecursiveTimed, T: ?Sized> RwLock<R, T> {
    tracked_try! {
        /// Attempts a recursive read until `timeout` has passed (a try-lock).
        fn try_read_recursive_for(timeout: R::Duration) -> RwLockReadGuard<'_, R, T> = read_guard(Mode::RecursiveRead);
    }

    tracked_try! {
        /// Attempts a recursive read until `timeout` is reached (a try-lock).
        fn try_read_recursive_until(timeout: R::Instant) -> RwLockReadGuard<'_, R, T> = read_guard(Mode::RecursiveRead);
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    fn upgradable_guard<'a>(
        &'a self,
        (inner, token): (user_la::RwLockUpgradableReadGuard<'a, R, T>, HeldToken),
    ) -> RwLockUpgradableReadGuard<'a, R, T> {
        RwLockUpgradableReadGuard {
            inner: Guarded::new(inner, token),
            rwlock: self,
        }
    }

    tracked_unchecked! {
        /// Creates an upgradable guard without locking.
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::make_upgradable_guard_unchecked`].
        unsafe fn make_upgradable_guard_unchecked [guard: R::UpgradableGuard] -> RwLockUpgradableReadGuard<'_, R, T> = upgradable_guard(Mode::Upgradable);
    }

    tracked_lock! {
        /// Locks for upgradable shared access: shares with readers, excludes writers and other
        /// upgradable readers.
        ///
        /// # Examples
        ///
        /// ```
        /// use lockwatch::parking_lot::{RwLock, RwLockUpgradableReadGuard};
        ///
        /// let lock = RwLock::new(1);
        /// let up = lock.upgradable_read();
        /// assert_eq!(*up, 1);
        /// let mut w = RwLockUpgradableReadGuard::upgrade(up);
        /// *w = 2;
        /// ```
        fn upgradable_read / try_upgradable_read -> RwLockUpgradableReadGuard<'_, R, T> = upgradable_guard(Mode::Upgradable);
    }

    tracked_try! {
        /// Attempts upgradable access without blocking.
        fn try_upgradable_read() -> RwLockUpgradableReadGuard<'_, R, T> = upgradable_guard(Mode::Upgradable);
    }
}

impl<R: RawRwLockUpgradeTimed, T: ?Sized> RwLock<R, T> {
    tracked_try! {
        /// Attempts upgradable access until `timeout` has passed (a try-lock).
        fn try_upgradable_read_for(timeout: R::Duration) -> RwLockUpgradableReadGuard<'_, R, T> = upgradable_guard(Mode::Upgradable);
    }

    tracked_try! {
        /// Attempts upgradable access until `timeout` is reached (a try-lock).
        fn try_upgradable_read_until(timeout: R::Instant) -> RwLockUpgradableReadGuard<'_, R, T> = upgradable_guard(Mode::Upgradable);
    }
}

impl<R: RawRwLock, T: Default> Default for RwLock<R, T> {
    #[track_caller]
    fn default() -> RwLock<R, T> {
        RwLock::new(T::default())
    }
}

impl<R: RawRwLock, T> From<T> for RwLock<R, T> {
    #[track_caller]
    fn from(t: T) -> RwLock<R, T> {
        RwLock::new(t)
    }
}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for RwLock<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<R: RawRwLock, T> crate::sealed::Sealed for RwLock<R, T> {}

impl<R: RawRwLock, T> crate::Trackable for RwLock<R, T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> RwLockReadGuard<'a, R, T> {
    /// The lock this guard reads.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    map_methods!(
        /// A guard of a component of the locked data.
        user_la::RwLockReadGuard => MappedRwLockReadGuard[], [&], { rwlock }, try_map_or_err
    );
    unlocked_method!(
        /// Unlocks while `f` runs, then locks again (checking the order first).
        unlocked, user_la::RwLockReadGuard, relock = |g: &Self| g.rwlock.mode_of(Mode::Read)
    );
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> RwLockReadGuard<'a, R, T> {
    fair_methods!(
        user_la::RwLockReadGuard,
        relock = |g: &Self| g.rwlock.mode_of(Mode::Read)
    );
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// The lock this guard writes.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    map_methods!(
        /// A guard of a component of the locked data.
        user_la::RwLockWriteGuard => MappedRwLockWriteGuard[], [&mut], { rwlock }, try_map_or_err
    );
    unlocked_method!(
        /// Unlocks while `f` runs, then locks again (checking the order first).
        unlocked, user_la::RwLockWriteGuard
    );
}

impl<'a, R: RawRwLockDowngrade + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// Turns the write lock into a read lock without letting a writer in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::{RwLock, RwLockWriteGuard};
    ///
    /// let lock = RwLock::new(1);
    /// let mut w = lock.write();
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_some());
    /// ```
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        let RwLockWriteGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        token.set_mode(Mode::Read);
        RwLockReadGuard {
            inner: Guarded::new(user_la::RwLockWriteGuard::downgrade(inner), token),
            rwlock,
        }
    }
}

impl<'a, R: RawRwLockUpgradeDowngrade + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    /// Turns the write lock into an upgradable read lock.
    pub fn downgrade_to_upgradable(s: Self) -> RwLockUpgradableReadGuard<'a, R, T> {
        let RwLockWriteGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        token.set_mode(Mode::Upgradable);
        RwLockUpgradableReadGuard {
            inner: Guarded::new(
                user_la::RwLockWriteGuard::downgrade_to_upgradable(inner),
                token,
            ),
            rwlock,
        }
    }
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> RwLockWriteGuard<'a, R, T> {
    fair_methods!(user_la::RwLockWriteGuard);
}

impl<'a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// The lock this guard reads.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    unlocked_method!(
        /// Unlocks while `f` runs, then locks again (checking the order first).
        unlocked, user_la::RwLockUpgradableReadGuard
    );

    /// Upgrades to exclusive access, blocking until the other readers are gone. Locks taken
    /// since the upgradable read are now held while waiting for it, and that order is checked.
    #[track_caller]
    pub fn upgrade(s: Self) -> RwLockWriteGuard<'a, R, T> {
        let RwLockUpgradableReadGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        token.upgrade();
        RwLockWriteGuard {
            inner: Guarded::new(user_la::RwLockUpgradableReadGuard::upgrade(inner), token),
            rwlock,
        }
    }

    /// Upgrades to exclusive access if that is possible without blocking.
    pub fn try_upgrade(s: Self) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        let RwLockUpgradableReadGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        match user_la::RwLockUpgradableReadGuard::try_upgrade(inner) {
            Ok(inner) => {
                token.set_mode(Mode::Exclusive);
                Ok(RwLockWriteGuard {
                    inner: Guarded::new(inner, token),
                    rwlock,
                })
            }
            Err(inner) => Err(RwLockUpgradableReadGuard {
                inner: Guarded::new(inner, token),
                rwlock,
            }),
        }
    }
}

impl<'a, R: RawRwLockUpgradeFair + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    fair_methods!(user_la::RwLockUpgradableReadGuard);
}

impl<'a, R: RawRwLockUpgradeDowngrade + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Turns the upgradable read into a plain read.
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        let RwLockUpgradableReadGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        token.set_mode(Mode::Read);
        RwLockReadGuard {
            inner: Guarded::new(user_la::RwLockUpgradableReadGuard::downgrade(inner), token),
            rwlock,
        }
    }

    /// Runs `f` with the lock upgraded to exclusive, then goes back to upgradable.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::parking_lot::RwLock::new(1);
    /// let mut up = lock.upgradable_read();
    /// up.with_upgraded(|v| *v = 7);
    /// assert_eq!(*up, 7);
    /// ```
    #[track_caller]
    pub fn with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Ret {
        self.inner.token().upgrade();
        let out = self.inner.with_upgraded(f);
        self.inner.token().set_mode(Mode::Upgradable);
        out
    }

    /// Runs `f` with the lock upgraded, if the upgrade is possible without blocking.
    pub fn try_with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Option<Ret> {
        self.inner.try_with_upgraded(f)
    }
}

impl<'a, R: RawRwLockUpgradeTimed + 'a, T: ?Sized + 'a> RwLockUpgradableReadGuard<'a, R, T> {
    /// Upgrades, giving up after `timeout` (a try).
    pub fn try_upgrade_for(
        s: Self,
        timeout: R::Duration,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        let RwLockUpgradableReadGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        match user_la::RwLockUpgradableReadGuard::try_upgrade_for(inner, timeout) {
            Ok(inner) => {
                token.set_mode(Mode::Exclusive);
                Ok(RwLockWriteGuard {
                    inner: Guarded::new(inner, token),
                    rwlock,
                })
            }
            Err(inner) => Err(RwLockUpgradableReadGuard {
                inner: Guarded::new(inner, token),
                rwlock,
            }),
        }
    }

    /// Upgrades, giving up at `timeout` (a try).
    pub fn try_upgrade_until(
        s: Self,
        timeout: R::Instant,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        let RwLockUpgradableReadGuard { inner, rwlock } = s;
        let (inner, token) = inner.into_parts();
        match user_la::RwLockUpgradableReadGuard::try_upgrade_until(inner, timeout) {
            Ok(inner) => {
                token.set_mode(Mode::Exclusive);
                Ok(RwLockWriteGuard {
                    inner: Guarded::new(inner, token),
                    rwlock,
                })
            }
            Err(inner) => Err(RwLockUpgradableReadGuard {
                inner: Guarded::new(inner, token),
                rwlock,
            }),
        }
    }
}

impl<'a, R: RawRwLockUpgradeTimed + RawRwLockUpgradeDowngrade + 'a, T: ?Sized + 'a>
    RwLockUpgradableReadGuard<'a, R, T>
{
    /// Runs `f` upgraded, if the upgrade succeeds within `timeout`.
    pub fn try_with_upgraded_for<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Duration,
        f: F,
    ) -> Option<Ret> {
        self.inner.try_with_upgraded_for(timeout, f)
    }

    /// Runs `f` upgraded, if the upgrade succeeds by `timeout`.
    pub fn try_with_upgraded_until<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Instant,
        f: F,
    ) -> Option<Ret> {
        self.inner.try_with_upgraded_until(timeout, f)
    }
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> MappedRwLockReadGuard<'a, R, T> {
    // lock_api 0.4 names the third method `try_map_or_else` on this guard; 0.5 renamed it.
    #[cfg(not(feature = "parking_lot_0_13"))]
    map_methods!(
        /// A guard of a component of the mapped data.
        user_la::MappedRwLockReadGuard => MappedRwLockReadGuard[], [&], {}, try_map_or_else
    );
    #[cfg(feature = "parking_lot_0_13")]
    map_methods!(
        /// A guard of a component of the mapped data.
        user_la::MappedRwLockReadGuard => MappedRwLockReadGuard[], [&], {}, try_map_or_err
    );
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> MappedRwLockReadGuard<'a, R, T> {
    /// Unlocks with a fair unlock protocol.
    #[inline]
    pub fn unlock_fair(s: Self) {
        let (inner, token) = s.inner.into_parts();
        user_la::MappedRwLockReadGuard::unlock_fair(inner);
        drop(token);
    }
}

impl<'a, R: RawRwLock + 'a, T: ?Sized + 'a> MappedRwLockWriteGuard<'a, R, T> {
    map_methods!(
        /// A guard of a component of the mapped data.
        user_la::MappedRwLockWriteGuard => MappedRwLockWriteGuard[], [&mut], {}, try_map_or_err
    );
}

impl<'a, R: RawRwLockFair + 'a, T: ?Sized + 'a> MappedRwLockWriteGuard<'a, R, T> {
    /// Unlocks with a fair unlock protocol.
    #[inline]
    pub fn unlock_fair(s: Self) {
        let (inner, token) = s.inner.into_parts();
        user_la::MappedRwLockWriteGuard::unlock_fair(inner);
        drop(token);
    }
}

guard_traits!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] RwLockReadGuard<'a, R, T>);
guard_traits!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] RwLockWriteGuard<'a, R, T>, mut);
guard_traits!(['a, R: RawRwLockUpgrade + 'a, T: ?Sized + 'a] RwLockUpgradableReadGuard<'a, R, T>);
guard_traits!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] MappedRwLockReadGuard<'a, R, T>);
guard_traits!(['a, R: RawRwLock + 'a, T: ?Sized + 'a] MappedRwLockWriteGuard<'a, R, T>, mut);

/// An `Arc` guard made without locking, from the guard `$make` makes (unsafe, as it).
#[cfg(feature = "arc_lock")]
macro_rules! arc_unchecked {
    ($(#[$attr:meta])* unsafe fn $name:ident = $make:ident $([$state:ident: $sty:ty])? -> $ret:ty;) => {
        $(#[$attr])*
        #[inline]
        #[track_caller]
        pub unsafe fn $name(
            self: &std::sync::Arc<Self>,
            $(#[cfg(feature = "parking_lot_0_13")] $state: $sty)?
        ) -> $ret {
            // SAFETY: The guard goes into an `ArcGuard` with a clone of `self`; the rest is
            // the caller's promise, forwarded.
            let guard = unsafe {
                crate::lock_api::arc::extend(self)
                    .$make($(#[cfg(feature = "parking_lot_0_13")] $state)?)
            };
            crate::lock_api::arc::ArcGuard::new(std::sync::Arc::clone(self), guard)
        }
    };
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    tracked_lock_arc! {
        /// Locks for shared read access through the lock's `Arc`, like [`read`](Self::read);
        /// the guard keeps a clone of the `Arc` and has no lifetime.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let lock = Arc::new(lockwatch::parking_lot::RwLock::new(2));
        /// let g = lock.read_arc();
        /// assert_eq!(*g, 2);
        /// ```
        fn read_arc = read / try_read -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::Read);
    }

    tracked_try_arc! {
        /// Attempts shared read access through the lock's `Arc` without blocking.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let lock = Arc::new(lockwatch::parking_lot::RwLock::new(2));
        /// let w = lock.write_arc();
        /// assert!(lock.try_read_arc().is_none());
        /// drop(w);
        /// ```
        fn try_read_arc = try_read() -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::Read);
    }

    tracked_lock_arc! {
        /// Locks for exclusive write access through the lock's `Arc`, like
        /// [`write`](Self::write).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let lock = Arc::new(lockwatch::parking_lot::RwLock::new(2));
        /// *lock.write_arc() += 1;
        /// assert_eq!(*lock.read(), 3);
        /// ```
        fn write_arc = write / try_write -> crate::lock_api::ArcRwLockWriteGuard<R, T> = write_guard(Mode::Exclusive);
    }

    tracked_try_arc! {
        /// Attempts exclusive write access through the lock's `Arc` without blocking.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let lock = Arc::new(lockwatch::parking_lot::RwLock::new(2));
        /// let r = lock.read_arc();
        /// assert!(lock.try_write_arc().is_none());
        /// drop(r);
        /// ```
        fn try_write_arc = try_write() -> crate::lock_api::ArcRwLockWriteGuard<R, T> = write_guard(Mode::Exclusive);
    }

    arc_unchecked! {
        /// Creates an `Arc` read guard without locking, like
        /// [`make_read_guard_unchecked`](Self::make_read_guard_unchecked).
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::make_arc_read_guard_unchecked`]: this thread holds a read
        /// lock.
        unsafe fn make_arc_read_guard_unchecked = make_read_guard_unchecked [guard: R::SharedGuard] -> crate::lock_api::ArcRwLockReadGuard<R, T>;
    }

    arc_unchecked! {
        /// Creates an `Arc` write guard without locking, like
        /// [`make_write_guard_unchecked`](Self::make_write_guard_unchecked).
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::make_arc_write_guard_unchecked`]: this thread holds the
        /// write lock.
        unsafe fn make_arc_write_guard_unchecked = make_write_guard_unchecked [guard: R::ExclusiveGuard] -> crate::lock_api::ArcRwLockWriteGuard<R, T>;
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockTimed, T: ?Sized> RwLock<R, T> {
    tracked_try_arc! {
        /// Attempts shared read access through the lock's `Arc` until `timeout` has passed.
        fn try_read_arc_for = try_read_for(timeout: R::Duration) -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::Read);
    }

    tracked_try_arc! {
        /// Attempts shared read access through the lock's `Arc` until `timeout` is reached.
        fn try_read_arc_until = try_read_until(timeout: R::Instant) -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::Read);
    }

    tracked_try_arc! {
        /// Attempts exclusive write access through the lock's `Arc` until `timeout` has
        /// passed.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::{sync::Arc, time::Duration};
        ///
        /// let lock = Arc::new(lockwatch::parking_lot::RwLock::new(0));
        /// assert!(lock.try_write_arc_for(Duration::from_millis(1)).is_some());
        /// ```
        fn try_write_arc_for = try_write_for(timeout: R::Duration) -> crate::lock_api::ArcRwLockWriteGuard<R, T> = write_guard(Mode::Exclusive);
    }

    tracked_try_arc! {
        /// Attempts exclusive write access through the lock's `Arc` until `timeout` is
        /// reached.
        fn try_write_arc_until = try_write_until(timeout: R::Instant) -> crate::lock_api::ArcRwLockWriteGuard<R, T> = write_guard(Mode::Exclusive);
    }
}

#[cfg(all(feature = "arc_lock", not(feature = "parking_lot_0_13")))]
impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
    tracked_lock_arc! {
        /// Locks for a recursive read through the lock's `Arc`, like
        /// [`read_recursive`](Self::read_recursive) (lock_api's name for it).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let lock = Arc::new(lockwatch::parking_lot::RwLock::new(1));
        /// let a = lock.read_arc_recursive();
        /// let b = lock.read_arc_recursive();
        /// assert_eq!(*a + *b, 2);
        /// ```
        fn read_arc_recursive = read_recursive / try_read_recursive -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::RecursiveRead);
    }

    tracked_try_arc! {
        /// Attempts a recursive read through the lock's `Arc` without blocking (lock_api's
        /// name for it).
        fn try_read_recursive_arc = try_read_recursive() -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::RecursiveRead);
    }
}

#[cfg(all(feature = "arc_lock", not(feature = "parking_lot_0_13")))]
impl<R: RawRwLockRecursiveTimed, T: ?Sized> RwLock<R, T> {
    tracked_try_arc! {
        /// Attempts a recursive read through the lock's `Arc` until `timeout` has passed.
        fn try_read_arc_recursive_for = try_read_recursive_for(timeout: R::Duration) -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::RecursiveRead);
    }

    tracked_try_arc! {
        /// Attempts a recursive read through the lock's `Arc` until `timeout` is reached.
        fn try_read_arc_recursive_until = try_read_recursive_until(timeout: R::Instant) -> crate::lock_api::ArcRwLockReadGuard<R, T> = read_guard(Mode::RecursiveRead);
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    tracked_lock_arc! {
        /// Locks for upgradable read access through the lock's `Arc`, like
        /// [`upgradable_read`](Self::upgradable_read).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// use lockwatch::parking_lot::{ArcRwLockUpgradableReadGuard, RwLock};
        ///
        /// let lock = Arc::new(RwLock::new(1));
        /// let u = lock.upgradable_read_arc();
        /// let mut w = ArcRwLockUpgradableReadGuard::upgrade(u);
        /// *w += 1;
        /// drop(w);
        /// assert_eq!(*lock.read(), 2);
        /// ```
        fn upgradable_read_arc = upgradable_read / try_upgradable_read -> crate::lock_api::ArcRwLockUpgradableReadGuard<R, T> = upgradable_guard(Mode::Upgradable);
    }

    tracked_try_arc! {
        /// Attempts upgradable read access through the lock's `Arc` without blocking.
        fn try_upgradable_read_arc = try_upgradable_read() -> crate::lock_api::ArcRwLockUpgradableReadGuard<R, T> = upgradable_guard(Mode::Upgradable);
    }

    arc_unchecked! {
        /// Creates an upgradable `Arc` guard without locking, like
        /// [`make_upgradable_guard_unchecked`](Self::make_upgradable_guard_unchecked).
        ///
        /// # Safety
        ///
        /// As [`lock_api::RwLock::make_upgradable_arc_guard_unchecked`]: this thread holds
        /// an upgradable read lock.
        unsafe fn make_upgradable_arc_guard_unchecked = make_upgradable_guard_unchecked [guard: R::UpgradableGuard] -> crate::lock_api::ArcRwLockUpgradableReadGuard<R, T>;
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawRwLockUpgradeTimed, T: ?Sized> RwLock<R, T> {
    tracked_try_arc! {
        /// Attempts upgradable read access through the lock's `Arc` until `timeout` has
        /// passed.
        fn try_upgradable_read_arc_for = try_upgradable_read_for(timeout: R::Duration) -> crate::lock_api::ArcRwLockUpgradableReadGuard<R, T> = upgradable_guard(Mode::Upgradable);
    }

    tracked_try_arc! {
        /// Attempts upgradable read access through the lock's `Arc` until `timeout` is
        /// reached.
        fn try_upgradable_read_arc_until = try_upgradable_read_until(timeout: R::Instant) -> crate::lock_api::ArcRwLockUpgradableReadGuard<R, T> = upgradable_guard(Mode::Upgradable);
    }
}

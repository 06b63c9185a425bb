use std::fmt;
use std::panic::Location;

use user_la::{GetThreadId, RawMutex, RawMutexFair, RawMutexTimed};

use crate::tracker::{Guarded, HeldToken, LockKind, LockMeta, Mode};

/// A mutex the owning thread may lock again, tracked: [`lock_api::ReentrantMutex`] with its
/// exact API. Re-entry by the owner is never reported; ordering against other locks is
/// checked as for any mutex.
///
/// # Examples
///
/// ```
/// use lockwatch::parking_lot::ReentrantMutex;
///
/// let m = ReentrantMutex::new(1);
/// let outer = m.lock();
/// let inner = m.lock(); // re-entry: fine, and quiet
/// assert_eq!(*outer + *inner, 2);
/// ```
#[cfg(not(feature = "parking_lot_0_13"))]
pub struct ReentrantMutex<R, G, T: ?Sized> {
    meta: LockMeta,
    inner: user_la::ReentrantMutex<R, G, T>,
}

/// A mutex the owning thread may lock again, tracked: [`lock_api::ReentrantMutex`] with its
/// exact API. Re-entry by the owner is never reported; ordering against other locks is
/// checked as for any mutex.
///
/// # Examples
///
/// ```
/// use lockwatch::parking_lot::ReentrantMutex;
///
/// let m = ReentrantMutex::new(1);
/// let outer = m.lock();
/// let inner = m.lock(); // re-entry: fine, and quiet
/// assert_eq!(*outer + *inner, 2);
/// ```
#[cfg(feature = "parking_lot_0_13")]
pub struct ReentrantMutex<R: RawMutex, G, T: ?Sized> {
    meta: LockMeta,
    inner: user_la::ReentrantMutex<R, G, T>,
}

/// The guard of a [`ReentrantMutex`]: shared access, released on drop.
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
pub struct ReentrantMutexGuard<'a, R: RawMutex, G: GetThreadId, T: ?Sized> {
    inner: Guarded<user_la::ReentrantMutexGuard<'a, R, G, T>>,
    remutex: &'a ReentrantMutex<R, G, T>,
}

/// A guard of a component of a [`ReentrantMutex`]'s data.
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
pub struct MappedReentrantMutexGuard<'a, R: RawMutex, G: GetThreadId, T: ?Sized> {
    inner: Guarded<user_la::MappedReentrantMutexGuard<'a, R, G, T>>,
}

impl<R: RawMutex, G: GetThreadId, T> ReentrantMutex<R, G, T> {
    /// Creates a new, unlocked reentrant mutex. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::ReentrantMutex;
    ///
    /// static LOG: ReentrantMutex<()> = ReentrantMutex::new(());
    /// let _a = LOG.lock();
    /// let _b = LOG.lock();
    /// assert!(LOG.is_owned_by_current_thread());
    /// ```
    #[inline]
    #[track_caller]
    pub const fn new(val: T) -> ReentrantMutex<R, G, T> {
        ReentrantMutex {
            meta: LockMeta::new(
                LockKind::ReentrantMutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::ReentrantMutex::new(val),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::parking_lot::ReentrantMutex::new(4);
    /// assert_eq!(m.into_inner(), 4);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

#[cfg(not(feature = "parking_lot_0_13"))]
impl<R, G, T> ReentrantMutex<R, G, T> {
    /// Creates a reentrant mutex from a raw mutex, a thread-id getter and a value.
    #[inline]
    #[track_caller]
    pub const fn from_raw(raw_mutex: R, get_thread_id: G, val: T) -> ReentrantMutex<R, G, T> {
        ReentrantMutex {
            meta: LockMeta::new(
                LockKind::ReentrantMutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::ReentrantMutex::from_raw(raw_mutex, get_thread_id, val),
        }
    }

    /// The older name of [`from_raw`](Self::from_raw).
    #[inline]
    #[track_caller]
    pub const fn const_new(raw_mutex: R, get_thread_id: G, val: T) -> ReentrantMutex<R, G, T> {
        ReentrantMutex::from_raw(raw_mutex, get_thread_id, val)
    }
}

#[cfg(feature = "parking_lot_0_13")]
impl<R: RawMutex, G, T> ReentrantMutex<R, G, T> {
    /// Creates a reentrant mutex from a raw mutex, a thread-id getter and a value.
    #[inline]
    #[track_caller]
    pub const fn from_raw(raw_mutex: R, get_thread_id: G, val: T) -> ReentrantMutex<R, G, T> {
        ReentrantMutex {
            meta: LockMeta::new(
                LockKind::ReentrantMutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::ReentrantMutex::from_raw(raw_mutex, get_thread_id, val),
        }
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    /// The mode an acquisition is tracked in (the facade macros ask every lock type).
    #[inline(always)]
    fn mode_of(&self, mode: Mode) -> Mode {
        mode
    }

    fn guard<'a>(
        &'a self,
        (inner, token): (user_la::ReentrantMutexGuard<'a, R, G, T>, HeldToken),
    ) -> ReentrantMutexGuard<'a, R, G, T> {
        ReentrantMutexGuard {
            inner: Guarded::new(inner, token),
            remutex: self,
        }
    }

    tracked_lock! {
        /// Acquires the mutex, blocking until it is available; the owner re-enters at once.
        ///
        /// # Examples
        ///
        /// ```
        /// let m = lockwatch::parking_lot::ReentrantMutex::new(String::from("a"));
        /// assert_eq!(m.lock().as_str(), "a");
        /// ```
        fn lock / try_lock -> ReentrantMutexGuard<'_, R, G, T> = guard(Mode::Reentrant);
    }

    tracked_try! {
        /// Attempts to acquire the mutex without blocking.
        ///
        /// # Examples
        ///
        /// ```
        /// let m = lockwatch::parking_lot::ReentrantMutex::new(0);
        /// let _g = m.lock();
        /// assert!(m.try_lock().is_some()); // the owner may re-enter
        /// ```
        fn try_lock() -> ReentrantMutexGuard<'_, R, G, T> = guard(Mode::Reentrant);
    }

    tracked_unchecked! {
        /// Creates a guard without locking.
        ///
        /// # Safety
        ///
        /// As [`lock_api::ReentrantMutex::make_guard_unchecked`]: the current thread must hold
        /// the lock.
        unsafe fn make_guard_unchecked -> ReentrantMutexGuard<'_, R, G, T> = guard(Mode::Reentrant);
    }

    /// A mutable reference to the data, without locking.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Whether the mutex is locked by any thread.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    /// Whether the current thread holds the mutex.
    #[inline]
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.inner.is_owned_by_current_thread()
    }

    force_unlock! {
        /// Forcibly unlocks the mutex.
        ///
        /// # Safety
        ///
        /// As [`lock_api::ReentrantMutex::force_unlock`].
        unsafe fn force_unlock
    }

    /// The underlying raw mutex.
    ///
    /// # Safety
    ///
    /// As [`lock_api::ReentrantMutex::raw`]. Locking it directly bypasses tracking.
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

impl<R: RawMutexFair, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    force_unlock! {
        /// Forcibly unlocks the mutex with a fair unlock protocol.
        ///
        /// # Safety
        ///
        /// As [`lock_api::ReentrantMutex::force_unlock_fair`].
        unsafe fn force_unlock_fair
    }
}

impl<R: RawMutexTimed, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    tracked_try! {
        /// Attempts to acquire the mutex until `timeout` has passed (a try-lock).
        fn try_lock_for(timeout: R::Duration) -> ReentrantMutexGuard<'_, R, G, T> = guard(Mode::Reentrant);
    }

    tracked_try! {
        /// Attempts to acquire the mutex until `timeout` is reached (a try-lock).
        fn try_lock_until(timeout: R::Instant) -> ReentrantMutexGuard<'_, R, G, T> = guard(Mode::Reentrant);
    }
}

impl<R: RawMutex, G: GetThreadId, T: Default> Default for ReentrantMutex<R, G, T> {
    #[track_caller]
    fn default() -> Self {
        ReentrantMutex::new(T::default())
    }
}

impl<R: RawMutex, G: GetThreadId, T> From<T> for ReentrantMutex<R, G, T> {
    #[track_caller]
    fn from(t: T) -> Self {
        ReentrantMutex::new(t)
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<R, G, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<R: RawMutex, G: GetThreadId, T> crate::sealed::Sealed for ReentrantMutex<R, G, T> {}

impl<R: RawMutex, G: GetThreadId, T> crate::Trackable for ReentrantMutex<R, G, T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<'a, R: RawMutex + 'a, G: GetThreadId + 'a, T: ?Sized + 'a> ReentrantMutexGuard<'a, R, G, T> {
    /// The mutex this guard locks.
    pub fn remutex(s: &Self) -> &'a ReentrantMutex<R, G, T> {
        s.remutex
    }

    map_methods!(
        /// A guard of a component of the locked data.
        ///
        /// # Examples
        ///
        /// ```
        /// use lockwatch::parking_lot::{ReentrantMutex, ReentrantMutexGuard};
        ///
        /// let m = ReentrantMutex::new((1, 2));
        /// let first = ReentrantMutexGuard::map(m.lock(), |pair| &pair.0);
        /// assert_eq!(*first, 1);
        /// ```
        user_la::ReentrantMutexGuard => MappedReentrantMutexGuard[G], [&], { remutex }, try_map_or_err
    );

    unlocked_method!(
        /// Unlocks while `f` runs, then locks again (checking the order first).
        unlocked, user_la::ReentrantMutexGuard
    );
}

impl<'a, R: RawMutexFair + 'a, G: GetThreadId + 'a, T: ?Sized + 'a>
    ReentrantMutexGuard<'a, R, G, T>
{
    fair_methods!(user_la::ReentrantMutexGuard);
}

impl<'a, R: RawMutex + 'a, G: GetThreadId + 'a, T: ?Sized + 'a>
    MappedReentrantMutexGuard<'a, R, G, T>
{
    map_methods!(
        /// A guard of a component of the mapped data.
        user_la::MappedReentrantMutexGuard => MappedReentrantMutexGuard[G], [&], {}, try_map_or_err
    );
}

impl<'a, R: RawMutexFair + 'a, G: GetThreadId + 'a, T: ?Sized + 'a>
    MappedReentrantMutexGuard<'a, R, G, T>
{
    /// Unlocks with a fair unlock protocol.
    #[inline]
    pub fn unlock_fair(s: Self) {
        let (inner, token) = s.inner.into_parts();
        user_la::MappedReentrantMutexGuard::unlock_fair(inner);
        drop(token);
    }
}

guard_traits!(['a, R: RawMutex + 'a, G: GetThreadId + 'a, T: ?Sized + 'a] ReentrantMutexGuard<'a, R, G, T>);
guard_traits!(['a, R: RawMutex + 'a, G: GetThreadId + 'a, T: ?Sized + 'a] MappedReentrantMutexGuard<'a, R, G, T>);

#[cfg(feature = "arc_lock")]
impl<R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    tracked_lock_arc! {
        /// Acquires the mutex through its `Arc`, like [`lock`](Self::lock); the guard keeps a
        /// clone of the `Arc` and has no lifetime.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let m = Arc::new(lockwatch::parking_lot::ReentrantMutex::new(1));
        /// let a = m.lock_arc();
        /// let b = m.lock_arc(); // the owner re-enters
        /// assert_eq!(*a + *b, 2);
        /// ```
        fn lock_arc = lock / try_lock -> crate::lock_api::ArcReentrantMutexGuard<R, G, T> = guard(Mode::Reentrant);
    }

    tracked_try_arc! {
        /// Attempts to acquire the mutex through its `Arc` without blocking, like
        /// [`try_lock`](Self::try_lock).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let m = Arc::new(lockwatch::parking_lot::ReentrantMutex::new(0));
        /// assert!(m.try_lock_arc().is_some());
        /// ```
        fn try_lock_arc = try_lock() -> crate::lock_api::ArcReentrantMutexGuard<R, G, T> = guard(Mode::Reentrant);
    }

    /// Creates an `Arc` guard without locking, like
    /// [`make_guard_unchecked`](Self::make_guard_unchecked).
    ///
    /// # Safety
    ///
    /// As [`lock_api::ReentrantMutex::make_arc_guard_unchecked`]: the current thread must hold
    /// the lock.
    #[inline]
    #[track_caller]
    pub unsafe fn make_arc_guard_unchecked(
        self: &std::sync::Arc<Self>,
    ) -> crate::lock_api::ArcReentrantMutexGuard<R, G, T> {
        // SAFETY: The guard goes into an `ArcGuard` with a clone of `self`; the caller holds
        // the lock (forwarded).
        let guard = unsafe { crate::lock_api::arc::extend(self).make_guard_unchecked() };
        crate::lock_api::arc::ArcGuard::new(std::sync::Arc::clone(self), guard)
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutexTimed, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    tracked_try_arc! {
        /// Attempts to acquire the mutex through its `Arc` until `timeout` has passed (a
        /// try-lock).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::{sync::Arc, time::Duration};
        ///
        /// let m = Arc::new(lockwatch::parking_lot::ReentrantMutex::new(0));
        /// assert!(m.try_lock_arc_for(Duration::from_millis(1)).is_some());
        /// ```
        fn try_lock_arc_for = try_lock_for(timeout: R::Duration) -> crate::lock_api::ArcReentrantMutexGuard<R, G, T> = guard(Mode::Reentrant);
    }

    tracked_try_arc! {
        /// Attempts to acquire the mutex through its `Arc` until `timeout` is reached (a
        /// try-lock).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::{sync::Arc, time::{Duration, Instant}};
        ///
        /// let m = Arc::new(lockwatch::parking_lot::ReentrantMutex::new(0));
        /// assert!(m.try_lock_arc_until(Instant::now() + Duration::from_millis(1)).is_some());
        /// ```
        fn try_lock_arc_until = try_lock_until(timeout: R::Instant) -> crate::lock_api::ArcReentrantMutexGuard<R, G, T> = guard(Mode::Reentrant);
    }
}

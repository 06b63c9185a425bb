use std::fmt;
use std::panic::Location;

use user_la::{RawMutex, RawMutexFair, RawMutexTimed};

use crate::tracker::{Guarded, HeldToken, LockKind, LockMeta, Mode};

/// A mutual exclusion primitive over any raw mutex, tracked: [`lock_api::Mutex`] with its
/// exact API. [`crate::parking_lot::Mutex`] and [`FairMutex`](crate::parking_lot::FairMutex)
/// are this type over parking_lot's raw locks.
///
/// # Examples
///
/// ```
/// use lockwatch::parking_lot::Mutex;
///
/// let m = Mutex::new(1);
/// *m.lock() += 1;
/// assert_eq!(*m.lock(), 2);
/// ```
pub struct Mutex<R, T: ?Sized> {
    meta: LockMeta,
    inner: user_la::Mutex<R, T>,
}

/// The guard of a [`Mutex`]: the lock is released when it is dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, R: RawMutex, T: ?Sized> {
    pub(crate) inner: Guarded<user_la::MutexGuard<'a, R, T>>,
    mutex: &'a Mutex<R, T>,
}

/// A guard of a component of a [`Mutex`]'s data, made by [`MutexGuard::map`].
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, R: RawMutex, T: ?Sized> {
    inner: Guarded<user_la::MappedMutexGuard<'a, R, T>>,
}

impl<R: RawMutex, T> Mutex<R, T> {
    /// Creates a new, unlocked mutex. Its lock class is this call's site.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::Mutex;
    ///
    /// static COUNT: Mutex<u32> = Mutex::new(0);
    /// *COUNT.lock() += 1;
    /// assert_eq!(*COUNT.lock(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub const fn new(val: T) -> Mutex<R, T> {
        Mutex {
            meta: LockMeta::new(
                LockKind::Mutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::Mutex::new(val),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::parking_lot::Mutex::new(3);
    /// assert_eq!(m.into_inner(), 3);
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<R, T> Mutex<R, T> {
    /// Creates a new mutex from a raw mutex and a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// use lockwatch::lock_api::Mutex;
    ///
    /// let m: Mutex<parking_lot::RawMutex, i32> = Mutex::from_raw(parking_lot::RawMutex::INIT, 5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[inline]
    #[track_caller]
    pub const fn from_raw(raw_mutex: R, val: T) -> Mutex<R, T> {
        Mutex {
            meta: LockMeta::new(
                LockKind::Mutex,
                Location::caller(),
                std::any::type_name::<T>,
            ),
            inner: user_la::Mutex::from_raw(raw_mutex, val),
        }
    }

    // lock_api 0.5 dropped it (its `new` and `from_raw` are `const`).
    #[cfg(not(feature = "parking_lot_0_13"))]
    /// Creates a new mutex from a raw mutex and a value (the older name of
    /// [`from_raw`](Self::from_raw)).
    ///
    /// # Examples
    ///
    /// ```
    /// use lock_api::RawMutex as _;
    /// use lockwatch::lock_api::Mutex;
    ///
    /// let m: Mutex<parking_lot::RawMutex, i32> = Mutex::const_new(parking_lot::RawMutex::INIT, 5);
    /// assert_eq!(*m.lock(), 5);
    /// ```
    #[inline]
    #[track_caller]
    pub const fn const_new(raw_mutex: R, val: T) -> Mutex<R, T> {
        Mutex::from_raw(raw_mutex, val)
    }
}

impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
    /// The mode an acquisition is tracked in (the facade macros ask every lock type).
    #[inline(always)]
    fn mode_of(&self, mode: Mode) -> Mode {
        mode
    }

    fn guard<'a>(
        &'a self,
        (inner, token): (user_la::MutexGuard<'a, R, T>, HeldToken),
    ) -> MutexGuard<'a, R, T> {
        MutexGuard {
            inner: Guarded::new(inner, token),
            mutex: self,
        }
    }

    tracked_lock! {
        /// Acquires the mutex, blocking until it is available. Before blocking, the acquisition is
        /// checked against the locks this thread holds (re-locking it is reported first).
        ///
        /// # Examples
        ///
        /// ```
        /// let m = lockwatch::parking_lot::Mutex::new(vec![1]);
        /// m.lock().push(2);
        /// assert_eq!(*m.lock(), [1, 2]);
        /// ```
        fn lock / try_lock -> MutexGuard<'_, R, T> = guard(Mode::Exclusive);
    }

    tracked_try! {
        /// Attempts to acquire the mutex without blocking. A successful try is held but adds no
        /// order edge into this mutex.
        ///
        /// # Examples
        ///
        /// ```
        /// let m = lockwatch::parking_lot::Mutex::new(0);
        /// let g = m.lock();
        /// assert!(m.try_lock().is_none());
        /// drop(g);
        /// assert!(m.try_lock().is_some());
        /// ```
        fn try_lock() -> MutexGuard<'_, R, T> = guard(Mode::Exclusive);
    }

    tracked_unchecked! {
        /// Creates a guard without locking: the caller has locked the raw mutex.
        ///
        /// # Safety
        ///
        /// The mutex must be locked by the current thread, as for
        /// [`lock_api::Mutex::make_guard_unchecked`].
        unsafe fn make_guard_unchecked [guard: R::Guard] -> MutexGuard<'_, R, T> = guard(Mode::Exclusive);
    }

    /// A mutable reference to the data, without locking.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = lockwatch::parking_lot::Mutex::new(0);
    /// *m.get_mut() = 9;
    /// assert_eq!(*m.lock(), 9);
    /// ```
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Whether the mutex is currently locked.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::parking_lot::Mutex::new(0);
    /// let g = m.lock();
    /// assert!(m.is_locked());
    /// drop(g);
    /// assert!(!m.is_locked());
    /// ```
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    force_unlock! {
        /// Forcibly unlocks the mutex (after a guard was forgotten with `mem::forget`).
        ///
        /// # Safety
        ///
        /// As [`lock_api::Mutex::force_unlock`]: the mutex must be locked with no live guard.
        unsafe fn force_unlock [guard: R::Guard]
    }

    /// The underlying raw mutex.
    ///
    /// # Safety
    ///
    /// As [`lock_api::Mutex::raw`]: do not unlock it while a guard exists. Locking it directly
    /// bypasses tracking.
    #[inline]
    pub unsafe fn raw(&self) -> &R {
        // SAFETY: Forwarded from the caller.
        unsafe { self.inner.raw() }
    }

    /// A raw pointer to the data.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = lockwatch::parking_lot::Mutex::new(1);
    /// let g = m.lock();
    /// assert_eq!(unsafe { *m.data_ptr() }, 1);
    /// drop(g);
    /// ```
    #[inline]
    pub fn data_ptr(&self) -> *mut T {
        self.inner.data_ptr()
    }
}

impl<R: RawMutexFair, T: ?Sized> Mutex<R, T> {
    force_unlock! {
        /// Forcibly unlocks the mutex with a fair unlock protocol.
        ///
        /// # Safety
        ///
        /// As [`lock_api::Mutex::force_unlock_fair`].
        unsafe fn force_unlock_fair [guard: R::Guard]
    }
}

impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
    tracked_try! {
        /// Attempts to acquire the mutex until `timeout` has passed. Treated as a try-lock: it
        /// gives up instead of deadlocking.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let m = lockwatch::parking_lot::Mutex::new(0);
        /// assert!(m.try_lock_for(Duration::from_millis(1)).is_some());
        /// ```
        fn try_lock_for(timeout: R::Duration) -> MutexGuard<'_, R, T> = guard(Mode::Exclusive);
    }

    tracked_try! {
        /// Attempts to acquire the mutex until `timeout` is reached. Treated as a try-lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::{Duration, Instant};
        ///
        /// let m = lockwatch::parking_lot::Mutex::new(0);
        /// let g = m.lock();
        /// assert!(m.try_lock_until(Instant::now() + Duration::from_millis(1)).is_none());
        /// drop(g);
        /// ```
        fn try_lock_until(timeout: R::Instant) -> MutexGuard<'_, R, T> = guard(Mode::Exclusive);
    }
}

impl<R: RawMutex, T: Default> Default for Mutex<R, T> {
    #[track_caller]
    fn default() -> Mutex<R, T> {
        Mutex::new(T::default())
    }
}

impl<R: RawMutex, T> From<T> for Mutex<R, T> {
    #[track_caller]
    fn from(t: T) -> Mutex<R, T> {
        Mutex::new(t)
    }
}

impl<R: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for Mutex<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<R: RawMutex, T> crate::sealed::Sealed for Mutex<R, T> {}

impl<R: RawMutex, T> crate::Trackable for Mutex<R, T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> MutexGuard<'a, R, T> {
    /// The mutex this guard locks.
    pub fn mutex(s: &Self) -> &'a Mutex<R, T> {
        s.mutex
    }

    map_methods!(
        /// A guard of a component of the locked data.
        ///
        /// # Examples
        ///
        /// ```
        /// use lockwatch::parking_lot::{Mutex, MutexGuard};
        ///
        /// let m = Mutex::new((1, 2));
        /// let mut second = MutexGuard::map(m.lock(), |pair| &mut pair.1);
        /// *second = 5;
        /// drop(second);
        /// assert_eq!(*m.lock(), (1, 5));
        /// ```
        user_la::MutexGuard => MappedMutexGuard[], [&mut], { mutex }, try_map_or_err
    );

    unlocked_method!(
        /// Unlocks the mutex while `f` runs, then locks it again (checking the order first).
        ///
        /// # Examples
        ///
        /// ```
        /// use lockwatch::parking_lot::{Mutex, MutexGuard};
        ///
        /// let m = Mutex::new(0);
        /// let mut g = m.lock();
        /// MutexGuard::unlocked(&mut g, || assert!(m.try_lock().is_some()));
        /// *g += 1;
        /// ```
        unlocked, user_la::MutexGuard
    );

    /// Leaks the guard: the mutex stays locked (and held by this thread) for good.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::{Mutex, MutexGuard};
    ///
    /// let m = Box::leak(Box::new(Mutex::new(1)));
    /// let data: &mut i32 = MutexGuard::leak(m.lock());
    /// *data = 2;
    /// assert!(m.is_locked());
    /// ```
    #[inline]
    pub fn leak(s: Self) -> &'a mut T {
        let (inner, token) = s.inner.into_parts();
        token.leak();
        user_la::MutexGuard::leak(inner)
    }
}

impl<'a, R: RawMutexFair + 'a, T: ?Sized + 'a> MutexGuard<'a, R, T> {
    fair_methods!(user_la::MutexGuard);
}

impl<'a, R: RawMutex + 'a, T: ?Sized + 'a> MappedMutexGuard<'a, R, T> {
    map_methods!(
        /// A guard of a component of the mapped data.
        user_la::MappedMutexGuard => MappedMutexGuard[], [&mut], {}, try_map_or_err
    );
}

impl<'a, R: RawMutexFair + 'a, T: ?Sized + 'a> MappedMutexGuard<'a, R, T> {
    /// Unlocks with a fair unlock protocol.
    #[inline]
    pub fn unlock_fair(s: Self) {
        let (inner, token) = s.inner.into_parts();
        user_la::MappedMutexGuard::unlock_fair(inner);
        drop(token);
    }
}

guard_traits!(['a, R: RawMutex + 'a, T: ?Sized + 'a] MutexGuard<'a, R, T>, mut);
guard_traits!(['a, R: RawMutex + 'a, T: ?Sized + 'a] MappedMutexGuard<'a, R, T>, mut);

#[cfg(feature = "arc_lock")]
impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
    tracked_lock_arc! {
        /// Acquires the mutex through its `Arc`, like [`lock`](Self::lock); the guard keeps a
        /// clone of the `Arc` and has no lifetime.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        ///
        /// let m = Arc::new(lockwatch::parking_lot::Mutex::new(1));
        /// let mut g = m.lock_arc();
        /// *g += 1;
        /// drop(g);
        /// assert_eq!(*m.lock(), 2);
        /// ```
        fn lock_arc = lock / try_lock -> crate::lock_api::ArcMutexGuard<R, T> = guard(Mode::Exclusive);
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
        /// let m = Arc::new(lockwatch::parking_lot::Mutex::new(1));
        /// let g = m.try_lock_arc().unwrap();
        /// assert!(m.try_lock_arc().is_none());
        /// drop(g);
        /// ```
        fn try_lock_arc = try_lock() -> crate::lock_api::ArcMutexGuard<R, T> = guard(Mode::Exclusive);
    }
}

#[cfg(feature = "arc_lock")]
impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
    tracked_try_arc! {
        /// Attempts to acquire the mutex through its `Arc` until `timeout` has passed, like
        /// [`try_lock_for`](Self::try_lock_for).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::{sync::Arc, time::Duration};
        ///
        /// let m = Arc::new(lockwatch::parking_lot::Mutex::new(1));
        /// assert!(m.try_lock_arc_for(Duration::from_millis(1)).is_some());
        /// ```
        fn try_lock_arc_for = try_lock_for(timeout: R::Duration) -> crate::lock_api::ArcMutexGuard<R, T> = guard(Mode::Exclusive);
    }

    tracked_try_arc! {
        /// Attempts to acquire the mutex through its `Arc` until `timeout` is reached, like
        /// [`try_lock_until`](Self::try_lock_until).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::{sync::Arc, time::{Duration, Instant}};
        ///
        /// let m = Arc::new(lockwatch::parking_lot::Mutex::new(1));
        /// let g = m.lock_arc();
        /// assert!(m.try_lock_arc_until(Instant::now() + Duration::from_millis(1)).is_none());
        /// drop(g);
        /// ```
        fn try_lock_arc_until = try_lock_until(timeout: R::Instant) -> crate::lock_api::ArcMutexGuard<R, T> = guard(Mode::Exclusive);
    }
}

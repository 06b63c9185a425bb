//! Tracked versions of the `lock_api` crate's lock types, generic over the raw lock.
//!
//! [`crate::parking_lot`] is built from these, exactly as `parking_lot` is built from
//! `lock_api`. Use them directly to track other `lock_api` locks (spin locks, for example).
//! The raw-lock traits here are lock_api's own (re-exported). Without the `enabled` feature
//! this module is `pub use lock_api::*`.
//!
//! Not to be confused with `lockwatch::parking_lot::lock_api`, which is the original crate,
//! untracked, as `parking_lot::lock_api` is (parity with parking_lot's paths).

#[cfg(not(feature = "enabled"))]
pub use ::user_la::*;

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
            tracked_try!(@try self, $name = $name($($arg),*), $make($mode))
        }
    };
    // The body, for `$this` (a lock reference), labelled `$label` in reports.
    (@try $this:ident, $label:ident = $name:ident($($arg:ident),*), $make:ident($mode:expr)) => {{
        let held = $this.meta.try_lock(
            $this.mode_of($mode),
            crate::tracker::method!(stringify!($label)),
            Location::caller(),
            || $this.inner.$name($($arg),*),
        )?;
        Some($this.$make(held))
    }};
}

/// `try_lock_arc` and its kin (the `arc_lock` feature): the try `$name` of the lock inside the
/// `Arc`, labelled `$label`, its guard kept with a clone of the `Arc` (see
/// [`arc::ArcGuard`]).
#[cfg(all(feature = "enabled", feature = "arc_lock"))]
macro_rules! tracked_try_arc {
    ($(#[$attr:meta])* fn $label:ident = $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $make:ident($mode:expr);) => {
        $(#[$attr])*
        #[inline]
        #[track_caller]
        pub fn $label(self: &std::sync::Arc<Self>, $($arg: $ty),*) -> Option<$ret> {
            // SAFETY: The guard goes into an `ArcGuard` with a clone of `self`.
            let this = unsafe { crate::lock_api::arc::extend(self) };
            // (The body's `?` returns `None` from here.)
            let guard = tracked_try!(@try this, $label = $name($($arg),*), $make($mode))?;
            Some(crate::lock_api::arc::ArcGuard::new(std::sync::Arc::clone(self), guard))
        }
    };
}

/// A tracked blocking acquisition forwarding to the lock_api method of the same name: the
/// order is checked before blocking, the fast try runs first, and the wait (if any) is timed.
#[cfg(feature = "enabled")]
macro_rules! tracked_lock {
    ($(#[$attr:meta])* fn $name:ident / $try:ident -> $ret:ty = $make:ident($mode:expr);) => {
        $(#[$attr])*
        #[inline]
        #[track_caller]
        pub fn $name(&self) -> $ret {
            tracked_lock!(@lock self, $name = $name / $try, $make($mode))
        }
    };
    // The body, for `$this` (a lock reference), labelled `$label` in reports.
    (@lock $this:ident, $label:ident = $name:ident / $try:ident, $make:ident($mode:expr)) => {
        $this.$make($this.meta.lock(
            $this.mode_of($mode),
            crate::tracker::method!(stringify!($label)),
            Location::caller(),
            || $this.inner.$try(),
            || $this.inner.$name(),
        ))
    };
}

/// `lock_arc` and its kin (the `arc_lock` feature): the blocking acquisition `$name` of the
/// lock inside the `Arc`, labelled `$label`, its guard kept with a clone of the `Arc` (see
/// [`arc::ArcGuard`]).
#[cfg(all(feature = "enabled", feature = "arc_lock"))]
macro_rules! tracked_lock_arc {
    ($(#[$attr:meta])* fn $label:ident = $name:ident / $try:ident -> $ret:ty = $make:ident($mode:expr);) => {
        $(#[$attr])*
        #[inline]
        #[track_caller]
        pub fn $label(self: &std::sync::Arc<Self>) -> $ret {
            // SAFETY: The guard goes into an `ArcGuard` with a clone of `self`.
            let this = unsafe { crate::lock_api::arc::extend(self) };
            let guard = tracked_lock!(@lock this, $label = $name / $try, $make($mode));
            crate::lock_api::arc::ArcGuard::new(std::sync::Arc::clone(self), guard)
        }
    };
}

/// A guard made without locking (the caller locked the raw lock), forwarding to the lock_api
/// method of the same name; recorded as held, like a successful try. `[state: Type]` is the
/// raw lock's acquisition state that lock_api 0.5 (parking_lot 0.13) passes along; lock_api
/// 0.4 has none.
#[cfg(feature = "enabled")]
macro_rules! tracked_unchecked {
    ($(#[$attr:meta])* unsafe fn $name:ident $([$state:ident: $sty:ty])? -> $ret:ty = $make:ident($mode:expr);) => {
        $(#[$attr])*
        #[inline]
        #[track_caller]
        pub unsafe fn $name(&self $(, #[cfg(feature = "parking_lot_0_13")] $state: $sty)?) -> $ret {
            let method = crate::tracker::method!(stringify!($name));
            let held = self.meta.try_lock(self.mode_of($mode), method, Location::caller(), || {
                // SAFETY: Forwarded from the caller, who holds the lock as required.
                Some(unsafe { self.inner.$name($(#[cfg(feature = "parking_lot_0_13")] $state)?) })
            });
            self.$make(held.expect("an infallible attempt succeeds"))
        }
    };
}

/// `force_unlock*`: drops this thread's held entry for the lock, then forwards (with the raw
/// acquisition state under lock_api 0.5, as in [`tracked_unchecked`]).
#[cfg(feature = "enabled")]
macro_rules! force_unlock {
    ($(#[$attr:meta])* unsafe fn $name:ident $([$state:ident: $sty:ty])?) => {
        $(#[$attr])*
        #[inline]
        pub unsafe fn $name(&self $(, #[cfg(feature = "parking_lot_0_13")] $state: $sty)?) {
            self.meta.forget_held();
            // SAFETY: Forwarded from the caller.
            unsafe { self.inner.$name($(#[cfg(feature = "parking_lot_0_13")] $state)?) }
        }
    };
}

/// `map`, `try_map` and `try_map_or_err` (lock_api calls the last `try_map_or_else` on one
/// guard), into the mapped guard: `$gp` are the mapped guard's generics between `R` and `U`,
/// `$r` the reference kind, `$field`s rebuild the original guard on refusal; `map` takes the
/// docs given first.
#[cfg(feature = "enabled")]
macro_rules! map_methods {
    (
        $(#[$doc:meta])*
        $lib:ident :: $guard:ident => $mapped:ident [$($gp:ident),*], [$($r:tt)*],
        { $($field:ident),* }, $or_err:ident
    ) => {
        $(#[$doc])*
        #[inline]
        pub fn map<U: ?Sized, F>(s: Self, f: F) -> $mapped<'a, R, $($gp,)* U>
        where
            F: FnOnce($($r)* T) -> $($r)* U,
        {
            let (inner, token) = s.inner.into_parts();
            $mapped {
                inner: Guarded::new($lib::$guard::map(inner, f), token),
            }
        }

        /// A guard of a component of the data, or the original guard if `f` returns `None`.
        #[inline]
        pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<$mapped<'a, R, $($gp,)* U>, Self>
        where
            F: FnOnce($($r)* T) -> Option<$($r)* U>,
        {
            let $guard { inner, $($field),* } = s;
            let (inner, token) = inner.into_parts();
            match $lib::$guard::try_map(inner, f) {
                Ok(inner) => Ok($mapped { inner: Guarded::new(inner, token) }),
                Err(inner) => Err($guard { inner: Guarded::new(inner, token), $($field),* }),
            }
        }

        /// A guard of a component of the data, or the original guard and `f`'s error.
        #[inline]
        pub fn $or_err<U: ?Sized, F, E>(
            s: Self,
            f: F,
        ) -> Result<$mapped<'a, R, $($gp,)* U>, (Self, E)>
        where
            F: FnOnce($($r)* T) -> Result<$($r)* U, E>,
        {
            let $guard { inner, $($field),* } = s;
            let (inner, token) = inner.into_parts();
            match $lib::$guard::$or_err(inner, f) {
                Ok(inner) => Ok($mapped { inner: Guarded::new(inner, token) }),
                Err((inner, e)) => Err(($guard { inner: Guarded::new(inner, token), $($field),* }, e)),
            }
        }
    };
}

/// `unlocked` (and, for fair locks, `unlocked_fair`): release while `f` runs, check the order
/// before taking the lock back. Takes the method's docs first. `relock` names the mode the
/// lock is taken back in when it differs from the guard's (a read guard of lock_api re-takes
/// its lock with `lock_shared`, a plain read, however it was first taken).
#[cfg(feature = "enabled")]
macro_rules! unlocked_method {
    ($(#[$doc:meta])* $name:ident, $lib:ident :: $guard:ident $(, relock = $relock:expr)?) => {
        $(#[$doc])*
        #[inline]
        #[track_caller]
        pub fn $name<F, U>(s: &mut Self, f: F) -> U
        where
            F: FnOnce() -> U,
        {
            #[allow(unused_mut)]
            let mut parked = s.inner.token().suspend();
            $(parked.relock_as(($relock)(&*s));)?
            let out = $lib::$guard::$name(&mut *s.inner, || {
                let out = f();
                parked.check_resume();
                out
            });
            parked.restore();
            out
        }
    };
}

/// `unlock_fair`, `unlocked_fair` and `bump` for a guard over a fair raw lock.
#[cfg(feature = "enabled")]
macro_rules! fair_methods {
    ($lib:ident :: $guard:ident $(, relock = $relock:expr)?) => {
        /// Unlocks with a fair unlock protocol.
        #[inline]
        pub fn unlock_fair(s: Self) {
            let (inner, token) = s.inner.into_parts();
            $lib::$guard::unlock_fair(inner);
            drop(token);
        }

        unlocked_method!(
            /// Unlocks fairly while `f` runs, then locks again (checking the order first).
            unlocked_fair, $lib::$guard $(, relock = $relock)?
        );

        /// Lets a waiting thread take the lock if there is one, then takes it back.
        #[inline]
        pub fn bump(s: &mut Self) {
            $lib::$guard::bump(&mut *s.inner)
        }
    };
}

/// Declares that `R`'s `read` never waits for a queued writer (the lock is reader-preferring),
/// so that a second `read` of a lock this thread already reads, and read-then-lock orders
/// against writers, are judged as recursive reads: no report where nothing can deadlock.
///
/// By default a `read` is taken to block behind a queued writer (parking_lot's `RawRwLock`
/// is write-preferring, and std promises no policy), which is lockdep's rule. Built in as
/// recursive: parking_lot 0.13's `RawRwLockRecursive` (its `RecursiveRwLock`) and dashmap's
/// shard lock. Declare a raw lock before its locks are first read: a lock keeps the policy
/// it learned at its first read. Without the `enabled` feature it does nothing.
///
/// # Examples
///
/// ```
/// use lockwatch::lock_api::RwLock;
///
/// // A raw lock of your own whose readers never queue behind writers.
/// type MyRaw = parking_lot::RawRwLock; // (standing in for it here)
/// lockwatch::lock_api::declare_recursive_reads::<MyRaw>();
///
/// let lock: RwLock<MyRaw, u32> = RwLock::new(1);
/// let a = lock.read();
/// let b = lock.read(); // a second read in one thread: fine for this raw lock
/// assert_eq!(*a + *b, 2);
/// # drop((a, b));
/// # #[cfg(feature = "enabled")]
/// assert!(lockwatch::reports().is_empty());
/// ```
pub fn declare_recursive_reads<R: ?Sized>() {
    #[cfg(feature = "enabled")]
    crate::tracker::declare_recursive_reads(std::any::type_name::<R>());
}

#[cfg(all(feature = "enabled", feature = "arc_lock"))]
pub mod arc;
#[cfg(feature = "enabled")]
mod mutex;
#[cfg(feature = "enabled")]
mod remutex;
#[cfg(feature = "enabled")]
mod rwlock;

// Glob imports are shadowed by the named ones below: the raw-lock traits stay lock_api's.
#[cfg(feature = "enabled")]
pub use ::user_la::*;

#[cfg(feature = "enabled")]
pub use self::{
    mutex::{MappedMutexGuard, Mutex, MutexGuard},
    remutex::{MappedReentrantMutexGuard, ReentrantMutex, ReentrantMutexGuard},
    rwlock::{
        MappedRwLockReadGuard, MappedRwLockWriteGuard, RwLock, RwLockReadGuard,
        RwLockUpgradableReadGuard, RwLockWriteGuard,
    },
};

#[cfg(all(feature = "enabled", feature = "arc_lock"))]
pub use self::arc::{
    ArcMutexGuard, ArcReentrantMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard,
    ArcRwLockWriteGuard,
};

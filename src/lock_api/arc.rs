//! Guards that hold their lock through an `Arc` (the `arc_lock` feature, as lock_api's and
//! parking_lot's): [`Mutex::lock_arc`], [`RwLock::read_arc`] and their kin return them, and
//! they have no lifetime, so they can be kept in a struct or moved into a task.
//!
//! Each is the tracked guard of the lock inside the `Arc`, kept with a clone of the `Arc`:
//! acquiring, releasing, `unlocked`, upgrades and downgrades are the tracked guard's, checked
//! and reported the same way (labelled `lock_arc()`, `read_arc()`, ...). lock_api names each
//! guard type; here they are one generic type, [`ArcGuard`], under those names.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use lockwatch::parking_lot::{ArcMutexGuard, Mutex, RawMutex};
//!
//! struct Session {
//!     // Held for as long as the session lives: no lifetime to carry.
//!     state: ArcMutexGuard<RawMutex, Vec<u32>>,
//! }
//!
//! let shared = Arc::new(Mutex::new(vec![1]));
//! let mut session = Session { state: shared.lock_arc() };
//! session.state.push(2);
//! drop(session);
//! assert_eq!(*shared.lock(), [1, 2]);
//! ```

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use user_la::{
    GetThreadId, RawMutex, RawMutexFair, RawRwLock, RawRwLockDowngrade, RawRwLockFair,
    RawRwLockUpgrade, RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
};

use super::{
    Mutex, MutexGuard, ReentrantMutex, ReentrantMutexGuard, RwLock, RwLockReadGuard,
    RwLockUpgradableReadGuard, RwLockWriteGuard,
};

/// A guard of type `G` of the lock `L` inside an `Arc`, kept with a clone of that `Arc`.
/// Dereferences to the data; dropping it releases the lock, then the `Arc`.
#[must_use = "if unused the lock will immediately unlock"]
pub struct ArcGuard<L: ?Sized, G> {
    /// Borrows `*lock`, its lifetime extended to `'static`: the `Arc` keeps the lock alive
    /// and in place for as long as this lives, and is dropped after it (see `Drop`).
    guard: ManuallyDrop<G>,
    lock: Arc<L>,
}

/// The guard of [`Mutex::lock_arc`].
pub type ArcMutexGuard<R, T> = ArcGuard<Mutex<R, T>, MutexGuard<'static, R, T>>;
/// The guard of [`ReentrantMutex::lock_arc`].
pub type ArcReentrantMutexGuard<R, G, T> =
    ArcGuard<ReentrantMutex<R, G, T>, ReentrantMutexGuard<'static, R, G, T>>;
/// The guard of [`RwLock::read_arc`].
pub type ArcRwLockReadGuard<R, T> = ArcGuard<RwLock<R, T>, RwLockReadGuard<'static, R, T>>;
/// The guard of [`RwLock::write_arc`].
pub type ArcRwLockWriteGuard<R, T> = ArcGuard<RwLock<R, T>, RwLockWriteGuard<'static, R, T>>;
/// The guard of [`RwLock::upgradable_read_arc`].
pub type ArcRwLockUpgradableReadGuard<R, T> =
    ArcGuard<RwLock<R, T>, RwLockUpgradableReadGuard<'static, R, T>>;

/// The lock inside `arc`, borrowed for `'static`.
///
/// # Safety
///
/// Whatever borrows the result must be dropped before the last clone of `arc` that the
/// caller keeps for it: here, a guard put into an [`ArcGuard`] with a clone of `arc`.
#[inline]
pub(crate) unsafe fn extend<L: ?Sized>(arc: &Arc<L>) -> &'static L {
    // SAFETY: The `Arc`'s allocation stays in place while a clone lives (the caller's promise).
    unsafe { &*Arc::as_ptr(arc) }
}

impl<L: ?Sized, G> ArcGuard<L, G> {
    /// `guard` must borrow the lock inside `lock` (see [`extend`]).
    #[inline]
    pub(crate) fn new(lock: Arc<L>, guard: G) -> Self {
        ArcGuard {
            guard: ManuallyDrop::new(guard),
            lock,
        }
    }

    /// The guard and the `Arc`, to be dropped in that order.
    #[inline]
    fn into_parts(self) -> (G, Arc<L>) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so each field is taken out exactly once.
        unsafe {
            (
                ManuallyDrop::take(&mut this.guard),
                std::ptr::read(&this.lock),
            )
        }
    }

    /// The same `Arc` with the guard turned into another of its lock (an upgrade, a
    /// downgrade), or this guard back with `f`'s refusal.
    #[inline]
    fn convert<H, E>(
        self,
        f: impl FnOnce(G) -> Result<H, (G, E)>,
    ) -> Result<ArcGuard<L, H>, (Self, E)> {
        let (guard, lock) = self.into_parts();
        match f(guard) {
            Ok(guard) => Ok(ArcGuard::new(lock, guard)),
            Err((guard, e)) => Err((ArcGuard::new(lock, guard), e)),
        }
    }

    /// The same `Arc` with the guard turned into another of its lock.
    #[inline]
    fn map<H>(self, f: impl FnOnce(G) -> H) -> ArcGuard<L, H> {
        let (guard, lock) = self.into_parts();
        ArcGuard::new(lock, f(guard))
    }

    /// The lock's `Arc`.
    #[inline]
    fn arc(&self) -> &Arc<L> {
        &self.lock
    }

    /// Releases the lock (dropping the guard) and returns the `Arc`.
    #[inline]
    fn release_with(self, unlock: impl FnOnce(G)) -> Arc<L> {
        let (guard, lock) = self.into_parts();
        unlock(guard);
        lock
    }
}

impl<L: ?Sized, G> Drop for ArcGuard<L, G> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: Dropped once, here, before the `Arc` it borrows from (the field drops after).
        unsafe { ManuallyDrop::drop(&mut self.guard) }
    }
}

impl<L: ?Sized, G: Deref> Deref for ArcGuard<L, G> {
    type Target = G::Target;

    #[inline]
    fn deref(&self) -> &G::Target {
        &self.guard
    }
}

impl<L: ?Sized, G: DerefMut> DerefMut for ArcGuard<L, G> {
    #[inline]
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.guard
    }
}

impl<L: ?Sized, G: fmt::Debug> fmt::Debug for ArcGuard<L, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.guard, f)
    }
}

impl<L: ?Sized, G: fmt::Display> fmt::Display for ArcGuard<L, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.guard, f)
    }
}

/// `into_arc` and `unlocked`, for an `Arc` guard whose borrowed guard type is `$guard`.
macro_rules! arc_common {
    ($lock_fn:ident -> $lock:ty, $guard:ident) => {
        /// The lock this guard holds, in its `Arc`.
        #[inline]
        pub fn $lock_fn(s: &Self) -> &Arc<$lock> {
            s.arc()
        }

        /// Releases the lock and returns its `Arc`.
        #[inline]
        pub fn into_arc(s: Self) -> Arc<$lock> {
            s.release_with(drop)
        }

        /// Releases the lock while `f` runs, then takes it again (checking the order first,
        /// like [`lock`](Mutex::lock)).
        #[inline]
        #[track_caller]
        pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
        where
            F: FnOnce() -> U,
        {
            $guard::unlocked(&mut s.guard, f)
        }
    };
}

/// The fair-unlock methods, for an `Arc` guard whose borrowed guard type is `$guard`.
macro_rules! arc_fair {
    ($lock:ty, $guard:ident) => {
        /// Releases the lock with a fair unlock protocol.
        #[inline]
        pub fn unlock_fair(s: Self) {
            drop(Self::into_arc_fair(s));
        }

        /// Releases the lock with a fair unlock protocol and returns its `Arc`.
        #[inline]
        pub fn into_arc_fair(s: Self) -> Arc<$lock> {
            s.release_with($guard::unlock_fair)
        }

        /// Releases the lock fairly while `f` runs, then takes it again.
        #[inline]
        #[track_caller]
        pub fn unlocked_fair<F, U>(s: &mut Self, f: F) -> U
        where
            F: FnOnce() -> U,
        {
            $guard::unlocked_fair(&mut s.guard, f)
        }

        /// Lets a waiting thread take the lock if there is one, then takes it back.
        #[inline]
        pub fn bump(s: &mut Self) {
            $guard::bump(&mut s.guard)
        }
    };
}

impl<R: RawMutex, T: ?Sized> ArcMutexGuard<R, T> {
    arc_common!(mutex -> Mutex<R, T>, MutexGuard);
}

impl<R: RawMutexFair, T: ?Sized> ArcMutexGuard<R, T> {
    arc_fair!(Mutex<R, T>, MutexGuard);
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> ArcReentrantMutexGuard<R, G, T> {
    arc_common!(remutex -> ReentrantMutex<R, G, T>, ReentrantMutexGuard);
}

impl<R: RawMutexFair, G: GetThreadId, T: ?Sized> ArcReentrantMutexGuard<R, G, T> {
    arc_fair!(ReentrantMutex<R, G, T>, ReentrantMutexGuard);
}

impl<R: RawRwLock, T: ?Sized> ArcRwLockReadGuard<R, T> {
    arc_common!(rwlock -> RwLock<R, T>, RwLockReadGuard);
}

impl<R: RawRwLockFair, T: ?Sized> ArcRwLockReadGuard<R, T> {
    arc_fair!(RwLock<R, T>, RwLockReadGuard);
}

impl<R: RawRwLock, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    arc_common!(rwlock -> RwLock<R, T>, RwLockWriteGuard);
}

impl<R: RawRwLockFair, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    arc_fair!(RwLock<R, T>, RwLockWriteGuard);
}

impl<R: RawRwLockDowngrade, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// Turns the write lock into a read lock without letting a writer in.
    #[inline]
    pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
        s.map(RwLockWriteGuard::downgrade)
    }
}

impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> ArcRwLockWriteGuard<R, T> {
    /// Turns the write lock into an upgradable read lock without letting a writer in.
    #[inline]
    pub fn downgrade_to_upgradable(s: Self) -> ArcRwLockUpgradableReadGuard<R, T> {
        s.map(RwLockWriteGuard::downgrade_to_upgradable)
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    arc_common!(rwlock -> RwLock<R, T>, RwLockUpgradableReadGuard);

    /// Upgrades to a write lock, waiting for the other readers to go (ordered against every
    /// other lock this thread holds, like [`RwLockUpgradableReadGuard::upgrade`]).
    #[inline]
    #[track_caller]
    pub fn upgrade(s: Self) -> ArcRwLockWriteGuard<R, T> {
        s.map(RwLockUpgradableReadGuard::upgrade)
    }

    /// Upgrades to a write lock if no other reader holds it, or gives the guard back.
    #[inline]
    pub fn try_upgrade(s: Self) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        s.convert(|g| RwLockUpgradableReadGuard::try_upgrade(g).map_err(|g| (g, ())))
            .map_err(|(s, ())| s)
    }
}

impl<R: RawRwLockUpgradeFair, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    arc_fair!(RwLock<R, T>, RwLockUpgradableReadGuard);
}

impl<R: RawRwLockUpgradeDowngrade, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// Turns the upgradable read lock into a plain read lock.
    #[inline]
    pub fn downgrade(s: Self) -> ArcRwLockReadGuard<R, T> {
        s.map(RwLockUpgradableReadGuard::downgrade)
    }

    /// Upgrades to a write lock for the length of `f` (waiting for the other readers to go),
    /// then goes back to an upgradable read.
    #[inline]
    #[track_caller]
    pub fn with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Ret {
        self.guard.with_upgraded(f)
    }

    /// Like [`with_upgraded`](Self::with_upgraded) if no other reader holds the lock, else
    /// `None` without running `f`.
    #[inline]
    pub fn try_with_upgraded<Ret, F: FnOnce(&mut T) -> Ret>(&mut self, f: F) -> Option<Ret> {
        self.guard.try_with_upgraded(f)
    }
}

impl<R: RawRwLockUpgradeTimed, T: ?Sized> ArcRwLockUpgradableReadGuard<R, T> {
    /// Upgrades to a write lock, giving up (and the guard back) after `timeout`.
    #[inline]
    pub fn try_upgrade_for(
        s: Self,
        timeout: R::Duration,
    ) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        s.convert(|g| RwLockUpgradableReadGuard::try_upgrade_for(g, timeout).map_err(|g| (g, ())))
            .map_err(|(s, ())| s)
    }

    /// Upgrades to a write lock, giving up (and the guard back) at `timeout`.
    #[inline]
    pub fn try_upgrade_until(
        s: Self,
        timeout: R::Instant,
    ) -> Result<ArcRwLockWriteGuard<R, T>, Self> {
        s.convert(|g| RwLockUpgradableReadGuard::try_upgrade_until(g, timeout).map_err(|g| (g, ())))
            .map_err(|(s, ())| s)
    }
}

impl<R: RawRwLockUpgradeTimed + RawRwLockUpgradeDowngrade, T: ?Sized>
    ArcRwLockUpgradableReadGuard<R, T>
{
    /// Runs `f` upgraded, if the upgrade succeeds within `timeout`.
    #[inline]
    pub fn try_with_upgraded_for<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Duration,
        f: F,
    ) -> Option<Ret> {
        self.guard.try_with_upgraded_for(timeout, f)
    }

    /// Runs `f` upgraded, if the upgrade succeeds by `timeout`.
    #[inline]
    pub fn try_with_upgraded_until<Ret, F: FnOnce(&mut T) -> Ret>(
        &mut self,
        timeout: R::Instant,
        f: F,
    ) -> Option<Ret> {
        self.guard.try_with_upgraded_until(timeout, f)
    }
}

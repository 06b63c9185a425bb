use std::fmt;
use std::panic::Location;
use std::sync::{self as std_sync, LockResult, PoisonError, WaitTimeoutResult};
use std::time::Duration;

use super::mutex::MutexGuard;
use crate::tracker::Guarded;

/// A condition variable for the tracked [`Mutex`](super::Mutex): [`std::sync::Condvar`] with
/// its exact API.
///
/// While a thread waits, the mutex it waits with is not held (it is not part of the thread's
/// held locks, and not a long hold); other locks the thread still holds stay held. Re-taking
/// the mutex after the wait is checked like any acquisition.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::{Arc, Condvar, Mutex};
/// use std::thread;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// thread::spawn(move || {
///     let (lock, cvar) = &*pair2;
///     *lock.lock().unwrap() = true;
///     cvar.notify_one();
/// });
/// let (lock, cvar) = &*pair;
/// let mut started = lock.lock().unwrap();
/// while !*started {
///     started = cvar.wait(started).unwrap();
/// }
/// assert!(*started);
/// ```
#[derive(Default)]
pub struct Condvar {
    inner: std_sync::Condvar,
}

/// Runs a std wait on the guard's inner std guard, with the held entry set aside and the
/// thread published as parked on `condvar` (timed or not) at `site`.
fn waiting<'a, T: ?Sized, R>(
    condvar: &Condvar,
    timed: bool,
    site: &'static Location<'static>,
    guard: MutexGuard<'a, T>,
    wait: impl FnOnce(std_sync::MutexGuard<'a, T>) -> LockResult<(std_sync::MutexGuard<'a, T>, R)>,
) -> LockResult<(MutexGuard<'a, T>, R)> {
    let (inner, token) = guard.inner.into_parts();
    let parked = token.suspend();
    parked.park_on(condvar as *const Condvar as usize, timed, site);
    let result = wait(inner);
    // std re-took the mutex inside `wait`; the order is checked right after.
    parked.check_resume();
    parked.restore();
    match result {
        Ok((inner, r)) => Ok((
            MutexGuard {
                inner: Guarded::new(inner, token),
            },
            r,
        )),
        Err(e) => {
            let (inner, r) = e.into_inner();
            Err(PoisonError::new((
                MutexGuard {
                    inner: Guarded::new(inner, token),
                },
                r,
            )))
        }
    }
}

fn first<G, R>(r: LockResult<(G, R)>) -> LockResult<G> {
    match r {
        Ok((g, _)) => Ok(g),
        Err(e) => Err(PoisonError::new(e.into_inner().0)),
    }
}

impl Condvar {
    /// Creates a new condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// static READY: lockwatch::sync::Condvar = lockwatch::sync::Condvar::new();
    /// READY.notify_all();
    /// ```
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            inner: std_sync::Condvar::new(),
        }
    }

    /// Blocks until notified, releasing the mutex for the wait.
    ///
    /// # Errors
    ///
    /// If the mutex is poisoned when re-acquired, the error contains the guard.
    ///
    /// # Examples
    ///
    /// See the [type-level example](Condvar).
    #[track_caller]
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        first(waiting(
            self,
            false,
            Location::caller(),
            guard,
            |g| match self.inner.wait(g) {
                Ok(g) => Ok((g, ())),
                Err(e) => Err(PoisonError::new((e.into_inner(), ()))),
            },
        ))
    }

    /// Blocks while `condition` returns true.
    ///
    /// # Errors
    ///
    /// If the mutex is poisoned when re-acquired, the error contains the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{Arc, Condvar, Mutex};
    ///
    /// let pair = Arc::new((Mutex::new(0), Condvar::new()));
    /// let pair2 = Arc::clone(&pair);
    /// std::thread::spawn(move || {
    ///     *pair2.0.lock().unwrap() = 3;
    ///     pair2.1.notify_all();
    /// });
    /// let guard = pair.1.wait_while(pair.0.lock().unwrap(), |n| *n < 3).unwrap();
    /// assert_eq!(*guard, 3);
    /// ```
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        first(waiting(
            self,
            false,
            Location::caller(),
            guard,
            |g| match self.inner.wait_while(g, condition) {
                Ok(g) => Ok((g, ())),
                Err(e) => Err(PoisonError::new((e.into_inner(), ()))),
            },
        ))
    }

    /// Blocks until notified or until `dur` has passed.
    ///
    /// # Errors
    ///
    /// If the mutex is poisoned when re-acquired, the error contains the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{Condvar, Mutex};
    /// use std::time::Duration;
    ///
    /// let m = Mutex::new(());
    /// let cv = Condvar::new();
    /// let (_g, timeout) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(1)).unwrap();
    /// assert!(timeout.timed_out());
    /// ```
    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        waiting(self, true, Location::caller(), guard, |g| {
            self.inner.wait_timeout(g, dur)
        })
    }

    /// Blocks while `condition` returns true, for at most `dur`.
    ///
    /// # Errors
    ///
    /// If the mutex is poisoned when re-acquired, the error contains the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::{Condvar, Mutex};
    /// use std::time::Duration;
    ///
    /// let m = Mutex::new(false);
    /// let cv = Condvar::new();
    /// let (g, t) = cv
    ///     .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(1), |ready| !*ready)
    ///     .unwrap();
    /// assert!(t.timed_out());
    /// assert!(!*g);
    /// ```
    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
        condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        waiting(self, true, Location::caller(), guard, |g| {
            self.inner.wait_timeout_while(g, dur, condition)
        })
    }

    /// Wakes up one thread blocked on this condvar.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = lockwatch::sync::Condvar::new();
    /// cv.notify_one(); // nobody waits: nothing happens
    /// ```
    #[inline]
    #[track_caller]
    pub fn notify_one(&self) {
        crate::tracker::notified(self as *const Condvar as usize);
        self.inner.notify_one()
    }

    /// Wakes up all threads blocked on this condvar.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = lockwatch::sync::Condvar::new();
    /// cv.notify_all();
    /// ```
    #[inline]
    #[track_caller]
    pub fn notify_all(&self) {
        crate::tracker::notified(self as *const Condvar as usize);
        self.inner.notify_all()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use ::user_pl::WaitTimeoutResult;

use super::MutexGuard;

/// A condition variable, tracked: [`parking_lot::Condvar`](https://docs.rs/parking_lot/0.12/parking_lot/struct.Condvar.html) with its
/// exact API, working with the tracked [`MutexGuard`].
///
/// While waiting, the mutex is not held by the waiting thread (no long hold, no order edges
/// from it); other locks the thread keeps are still held. Re-taking the mutex after the wait
/// is checked like any acquisition.
///
/// # Examples
///
/// ```
/// use lockwatch::parking_lot::{Condvar, Mutex};
/// use std::sync::Arc;
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = Arc::clone(&pair);
/// std::thread::spawn(move || {
///     *pair2.0.lock() = true;
///     pair2.1.notify_one();
/// });
/// let mut ready = pair.0.lock();
/// while !*ready {
///     pair.1.wait(&mut ready);
/// }
/// assert!(*ready);
/// ```
#[derive(Default)]
pub struct Condvar {
    inner: ::user_pl::Condvar,
}

impl Condvar {
    /// Creates a new condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// static CV: lockwatch::parking_lot::Condvar = lockwatch::parking_lot::Condvar::new();
    /// assert!(!CV.notify_one());
    /// ```
    #[inline]
    pub const fn new() -> Condvar {
        Condvar {
            inner: ::user_pl::Condvar::new(),
        }
    }

    /// Wakes up one blocked thread; returns whether one was woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = lockwatch::parking_lot::Condvar::new();
    /// assert!(!cv.notify_one());
    /// ```
    #[inline]
    #[track_caller]
    pub fn notify_one(&self) -> bool {
        crate::tracker::notified(self as *const Condvar as usize);
        self.inner.notify_one()
    }

    /// Wakes up all blocked threads; returns how many were woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = lockwatch::parking_lot::Condvar::new();
    /// assert_eq!(cv.notify_all(), 0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn notify_all(&self) -> usize {
        crate::tracker::notified(self as *const Condvar as usize);
        self.inner.notify_all()
    }

    /// Runs one parking_lot wait with the guard's held entry set aside.
    #[track_caller]
    fn waiting<T: ?Sized, R>(
        &self,
        timed: bool,
        guard: &mut MutexGuard<'_, T>,
        wait: impl FnOnce(&mut ::user_pl::MutexGuard<'_, T>) -> R,
    ) -> R {
        let parked = guard.inner.token().suspend();
        parked.park_on(self as *const Condvar as usize, timed, Location::caller());
        let out = wait(&mut guard.inner);
        parked.check_resume();
        parked.restore();
        out
    }

    /// Blocks until notified, releasing the mutex for the wait.
    ///
    /// # Examples
    ///
    /// See the [type-level example](Condvar).
    #[inline]
    #[track_caller]
    pub fn wait<T: ?Sized>(&self, mutex_guard: &mut MutexGuard<'_, T>) {
        self.waiting(false, mutex_guard, |g| self.inner.wait(g))
    }

    /// Blocks until notified or until `timeout` is reached.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let m = lockwatch::parking_lot::Mutex::new(());
    /// let cv = lockwatch::parking_lot::Condvar::new();
    /// let mut g = m.lock();
    /// let r = cv.wait_until(&mut g, Instant::now() + Duration::from_millis(1));
    /// assert!(r.timed_out());
    /// ```
    #[inline]
    #[track_caller]
    pub fn wait_until<T: ?Sized>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        timeout: Instant,
    ) -> WaitTimeoutResult {
        self.waiting(true, mutex_guard, |g| self.inner.wait_until(g, timeout))
    }

    /// Blocks until notified or until `timeout` has passed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let m = lockwatch::parking_lot::Mutex::new(());
    /// let cv = lockwatch::parking_lot::Condvar::new();
    /// let mut g = m.lock();
    /// assert!(cv.wait_for(&mut g, Duration::from_millis(1)).timed_out());
    /// ```
    #[inline]
    #[track_caller]
    pub fn wait_for<T: ?Sized>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        self.waiting(true, mutex_guard, |g| self.inner.wait_for(g, timeout))
    }

    /// Blocks while `condition` returns true.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::parking_lot::{Condvar, Mutex};
    /// use std::sync::Arc;
    ///
    /// let pair = Arc::new((Mutex::new(0), Condvar::new()));
    /// let pair2 = Arc::clone(&pair);
    /// std::thread::spawn(move || {
    ///     *pair2.0.lock() = 2;
    ///     pair2.1.notify_all();
    /// });
    /// let mut g = pair.0.lock();
    /// pair.1.wait_while(&mut g, |n| *n < 2);
    /// assert_eq!(*g, 2);
    /// ```
    #[inline]
    #[track_caller]
    pub fn wait_while<T, F>(&self, mutex_guard: &mut MutexGuard<'_, T>, condition: F)
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        self.waiting(false, mutex_guard, |g| self.inner.wait_while(g, condition))
    }

    /// Blocks while `condition` returns true, until `timeout` is reached.
    #[inline]
    #[track_caller]
    pub fn wait_while_until<T, F>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        condition: F,
        timeout: Instant,
    ) -> WaitTimeoutResult
    where
        T: ?Sized,
        F: FnMut(&mut T) -> bool,
    {
        self.waiting(true, mutex_guard, |g| {
            self.inner.wait_while_until(g, condition, timeout)
        })
    }

    /// Blocks while `condition` returns true, for at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let m = lockwatch::parking_lot::Mutex::new(false);
    /// let cv = lockwatch::parking_lot::Condvar::new();
    /// let mut g = m.lock();
    /// let r = cv.wait_while_for(&mut g, |ready| !*ready, Duration::from_millis(1));
    /// assert!(r.timed_out());
    /// ```
    #[inline]
    #[track_caller]
    pub fn wait_while_for<T: ?Sized, F>(
        &self,
        mutex_guard: &mut MutexGuard<'_, T>,
        condition: F,
        timeout: Duration,
    ) -> WaitTimeoutResult
    where
        F: FnMut(&mut T) -> bool,
    {
        self.waiting(true, mutex_guard, |g| {
            self.inner.wait_while_for(g, condition, timeout)
        })
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Condvar { .. }")
    }
}

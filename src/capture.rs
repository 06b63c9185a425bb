//! Reports per test: [`capture`] and [`assert_clean`].
//!
//! [`crate::reports`] is global to the process, and each bug is reported once per process,
//! which does not suit a test suite: `cargo test` runs tests in parallel threads of one
//! process, so a clean test asserting "no reports" would fail because another test found
//! something, and the second test to show a bug would see nothing. A capture collects the
//! reports that belong to the code it runs:
//!
//! - every report raised on a thread inside the capture (the closure's thread, and threads
//!   that joined it with [`Capture::in_scope`]);
//! - a lock-order cycle or lost update reported earlier in the process, when the captured code
//!   shows it again: it takes every edge of that cycle itself (both orders of an inversion),
//!   or repeats the lost update's load and store. So the assertion sees its own test's bug
//!   whichever test happened to report it first.
//!
//! Reports raised elsewhere (another test's threads, the watchdog thread) are not captured;
//! they are still in [`crate::reports`] and logged by the [`crate::Policy`]. An inversion whose
//! two orders are taken by two different tests is reported in the test that closes the
//! cycle.
//!
//! Without the `enabled` feature nothing is ever reported, so a capture is always empty.

use crate::Report;

/// Runs `f` and returns its value with the reports that belong to it (see the module docs).
///
/// # Examples
///
/// ```
/// use lockwatch::sync::Mutex;
///
/// let (a, b) = (Mutex::new(()), Mutex::new(()));
/// let ((), reports) = lockwatch::capture(|| {
///     {
///         let _a = a.lock().unwrap();
///         let _b = b.lock().unwrap();
///     }
///     let _b = b.lock().unwrap();
///     let _a = a.lock().unwrap(); // the inversion
/// });
/// # #[cfg(feature = "enabled")]
/// assert_eq!(reports[0].kind(), lockwatch::ReportKind::LockOrder);
/// # #[cfg(not(feature = "enabled"))]
/// # assert!(reports.is_empty());
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<Report>) {
    #[cfg(not(feature = "enabled"))]
    crate::settings::warn_if_set_while_disabled();
    let capture = Capture::new();
    let value = capture.in_scope(f);
    (value, capture.take())
}

/// Runs `f` and returns its value; panics, with every report in full, if lockwatch reported
/// anything that belongs to it (see [`capture`]). For tests: the failure message is the
/// report, sites included.
///
/// # Panics
///
/// If a report belongs to `f`'s run.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::Mutex;
///
/// let (a, b) = (Mutex::new(1), Mutex::new(2));
/// let sum = lockwatch::assert_clean(|| {
///     let a = a.lock().unwrap();
///     let b = b.lock().unwrap(); // always a, then b: clean
///     *a + *b
/// });
/// assert_eq!(sum, 3);
/// ```
#[track_caller]
pub fn assert_clean<R>(f: impl FnOnce() -> R) -> R {
    let (value, reports) = capture(f);
    if !reports.is_empty() {
        let mut message = format!(
            "lockwatch reported {} problem(s) in code that should be clean:",
            reports.len()
        );
        for report in &reports {
            message.push_str("\n\n");
            message.push_str(&report.to_string());
        }
        panic!("{message}");
    }
    value
}

/// A capture that other threads can join, so that their reports count too.
///
/// # Examples
///
/// ```
/// use lockwatch::Capture;
///
/// let ((), reports) = lockwatch::capture(|| {
///     let capture = Capture::current().expect("inside a capture");
///     std::thread::spawn(move || capture.in_scope(|| { /* the worker's locking */ }))
///         .join()
///         .unwrap();
/// });
/// assert!(reports.is_empty());
/// ```
#[derive(Clone)]
pub struct Capture {
    #[cfg(feature = "enabled")]
    state: std::sync::Arc<crate::report::CaptureState>,
}

impl Capture {
    fn new() -> Self {
        Capture {
            #[cfg(feature = "enabled")]
            state: Default::default(),
        }
    }

    /// The innermost capture the calling thread is in, to hand to threads it starts.
    /// Without the `enabled` feature: a capture that collects nothing, inside a capture or
    /// not, so that code written for both builds compiles and runs alike.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(lockwatch::Capture::current().is_none() || cfg!(not(feature = "enabled")));
    /// lockwatch::capture(|| assert!(lockwatch::Capture::current().is_some()));
    /// ```
    pub fn current() -> Option<Capture> {
        #[cfg(feature = "enabled")]
        return crate::report::current_capture().map(|state| Capture { state });
        #[cfg(not(feature = "enabled"))]
        Some(Capture::new())
    }

    /// Runs `f` on the calling thread as part of this capture.
    ///
    /// # Examples
    ///
    /// ```
    /// let ((), reports) = lockwatch::capture(|| {
    ///     let capture = lockwatch::Capture::current().unwrap();
    ///     std::thread::scope(|s| {
    ///         s.spawn(|| capture.in_scope(|| ()));
    ///     });
    /// });
    /// assert!(reports.is_empty());
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "enabled")]
        return crate::report::in_capture(&self.state, f);
        #[cfg(not(feature = "enabled"))]
        f()
    }

    fn take(&self) -> Vec<Report> {
        #[cfg(feature = "enabled")]
        return self.state.take();
        #[cfg(not(feature = "enabled"))]
        Vec::new()
    }
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

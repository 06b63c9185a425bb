//! Runtime reports: locks held too long, waits too long, and deadlocks that actually happen.
//!
//! With the `enabled` feature, a background thread named `lockwatch-watchdog` starts with the
//! first tracked acquisition. While any lock is held it keeps a coarse clock (a relaxed atomic
//! advanced about every millisecond, so acquisitions never read the system clock) and every
//! 10 ms looks at what each thread holds and waits for:
//!
//! - [`ReportKind::LongHold`](crate::ReportKind::LongHold): a lock held longer than the
//!   long-hold threshold, reported *while it is still held*, once per hold; its
//!   [`outcome`](crate::Report::outcome) gets the final duration when it is released. A
//!   condvar wait does not count as holding its mutex.
//! - [`ReportKind::LongWait`](crate::ReportKind::LongWait): a thread blocked on a lock longer
//!   than the long-wait threshold, with who holds it, where they took it and for how long.
//! - [`ReportKind::Deadlock`](crate::ReportKind::Deadlock): threads blocked in a wait-for
//!   cycle, seen by two scans in a row: each thread, the lock it waits for and where, and the
//!   locks it holds and where it took them. Reported within about 20 ms of forming.
//!
//! **Condvar waits are waits.** A thread parked in `Condvar::wait` (std's and parking_lot's,
//! every variant) is published with the condvar, its mutex (released) and the wait site, and
//! each `notify_*` teaches which threads notify which condvar. A parked thread waits for those
//! notifiers. The evidence for a deadlock through condvars, so that an idle pool is never
//! reported, is exactly this:
//!
//! - a *knot*: a set of threads each of which is blocked on a lock held (or, for a read, ahead
//!   of it) by a thread in the set, or parked in an untimed wait on a condvar whose known
//!   notifiers (threads that called `notify_*` on it and are alive) are all in the set, and at
//!   least one of them; reported as a Deadlock naming the waiters, the notifiers and their
//!   notify sites;
//! - or *every* thread with tracking state blocked in lockwatch's primitives longer than the
//!   long-wait threshold, the condvar waits among them on condvars that someone has notified
//!   before (a lost wake-up, or the last notifier exited without `notify_all`), as Go's runtime
//!   reports "all goroutines are asleep".
//!
//! A timed wait, a condvar that was never notified, or a notifier that is running (or blocked
//! outside lockwatch) is never evidence: workers idle in a wait for work that does not come are
//! quiet, however long. There is no long-wait report for condvar waits.
//!
//! **One bug, one report.** The long holds and waits of threads and locks in a reported
//! deadlock belong to it and are not reported again; a thread that hangs on a lock it holds
//! itself is the outcome of its self-deadlock report; the same long hold or long wait at one
//! site again (every worker of a pool) counts in the first report
//! ([`Report::occurrences`](crate::Report::occurrences)). Any report that names a holder says
//! what it is doing now: running, blocked on a lock, or parked in a condvar wait.
//!
//! When nothing is held the watchdog sleeps (an acquisition wakes it; it also looks by
//! itself once a second).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `LOCKWATCH_LONG_HOLD_MS` | long-hold threshold, 1 to 86400000 ms | 1000 |
//! | `LOCKWATCH_LONG_WAIT_MS` | long-wait threshold, 1 to 86400000 ms | 1000 |
//! | `LOCKWATCH_WATCHDOG` | `on`, or `off`: no watchdog thread work at all | `on` |
//! | `LOCKWATCH_ON_DEADLOCK` | `report`, or `abort` the process after reporting (CI fails fast instead of hanging) | `report` |
//!
//! A value that does not parse, or is out of range, gets one warning on stderr and the
//! default. The functions below override the environment. Without the `enabled` feature they
//! do nothing and [`stats`] is all zero.

use std::time::Duration;

pub use crate::settings::OnDeadlock;

/// Counters of the watchdog's activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchdogStats {
    /// How many times the watchdog thread woke up.
    pub wakeups: u64,
    /// How many times it looked at every thread's locks.
    pub scans: u64,
    /// Threads that currently have tracking state (those that took a tracked lock and have
    /// not exited).
    pub threads: usize,
}

/// Sets the long-hold threshold (at least 1 ms).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// lockwatch::watchdog::set_long_hold(Duration::from_millis(250));
/// ```
pub fn set_long_hold(threshold: Duration) {
    #[cfg(feature = "enabled")]
    crate::tracker::watchdog::set_long_hold(threshold);
    #[cfg(not(feature = "enabled"))]
    let _ = threshold;
}

/// Sets the long-wait threshold (at least 1 ms).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// lockwatch::watchdog::set_long_wait(Duration::from_secs(2));
/// ```
pub fn set_long_wait(threshold: Duration) {
    #[cfg(feature = "enabled")]
    crate::tracker::watchdog::set_long_wait(threshold);
    #[cfg(not(feature = "enabled"))]
    let _ = threshold;
}

/// Switches the watchdog on (the default) or off. Off, nothing reads the clock or scans the
/// threads: no long holds, long waits or deadlocks are reported (lock-order reports go on).
/// Also off when the environment variable `LOCKWATCH_WATCHDOG` is `off`.
///
/// # Examples
///
/// ```
/// lockwatch::watchdog::set_enabled(false);
/// # lockwatch::watchdog::set_enabled(true);
/// ```
pub fn set_enabled(on: bool) {
    #[cfg(feature = "enabled")]
    crate::tracker::watchdog::set_enabled(on);
    #[cfg(not(feature = "enabled"))]
    let _ = on;
}

/// Sets what happens after an actual deadlock is reported.
///
/// # Examples
///
/// ```
/// use lockwatch::watchdog::{set_on_deadlock, OnDeadlock};
/// set_on_deadlock(OnDeadlock::Report);
/// ```
pub fn set_on_deadlock(what: OnDeadlock) {
    #[cfg(feature = "enabled")]
    crate::tracker::watchdog::set_on_deadlock(what);
    #[cfg(not(feature = "enabled"))]
    let _ = what;
}

/// The watchdog's activity so far.
///
/// # Examples
///
/// ```
/// let stats = lockwatch::watchdog::stats();
/// assert!(stats.scans <= stats.wakeups);
/// ```
pub fn stats() -> WatchdogStats {
    #[cfg(feature = "enabled")]
    {
        let (wakeups, scans, threads) = crate::tracker::watchdog::stats();
        WatchdogStats {
            wakeups,
            scans,
            threads,
        }
    }
    #[cfg(not(feature = "enabled"))]
    WatchdogStats::default()
}

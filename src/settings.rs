//! Every setting lockwatch has: the environment variables, parsed and validated here with one
//! warning per bad value, and the run-time overrides the public functions set. Compiled in
//! both builds, so that a variable set for a build without `enabled` is noticed rather than
//! silently ignored. Everything else reads settings from here, and nothing here reads
//! anything else.
//!
//! One idiom for all of them: a [`Settings`] made from the environment once, on first use, of
//! atomics the setters overwrite. The run-time switch (`LOCKWATCH`) is the exception, read on
//! every acquisition: one byte with its own lazy read, so that the hot path is one load.

use std::io::Write as _;
#[cfg(feature = "enabled")]
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
#[cfg(feature = "enabled")]
use std::sync::OnceLock;

/// What to do when the watchdog finds an actual deadlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnDeadlock {
    /// Report it and let the program go on (its deadlocked threads stay blocked).
    #[default]
    Report,
    /// Report it, then abort the process, so that a CI job fails at once instead of hanging
    /// until its timeout.
    Abort,
}

/// What `LOCKWATCH_POLICY` asks for; the report module turns it into its `Policy`.
#[cfg(feature = "enabled")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyName {
    Log,
    Panic,
    Silent,
}

/// Prints `message` on stderr the first time `key` is seen, never again: past any output
/// capture (a test's), since lockwatch's own threads may be the ones saying it.
pub(crate) fn warn_once(key: &str, message: &str) {
    static WARNED: parking_lot::Mutex<Vec<String>> = parking_lot::Mutex::new(Vec::new());
    let mut warned = WARNED.lock();
    if !warned.iter().any(|w| w == key) {
        warned.push(key.to_owned());
        drop(warned);
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}

/// One warning per bad variable, then the default is used.
#[cfg(feature = "enabled")]
fn warn_bad_env(var: &str, value: &str, expected: &str) {
    warn_once(
        var,
        &format!("lockwatch: ignoring {var}={value:?}: expected {expected}; using the default"),
    );
}

/// A variable with a fixed set of spellings; `default` when unset, empty or bad.
#[cfg(feature = "enabled")]
fn env_choice<T: Copy>(var: &str, choices: &[(&str, T)], default: T, expected: &str) -> T {
    match std::env::var(var) {
        Err(_) => default,
        Ok(text) if text.is_empty() => default,
        Ok(text) => match choices.iter().find(|(name, _)| *name == text) {
            Some(&(_, value)) => value,
            None => {
                warn_bad_env(var, &text, expected);
                default
            }
        },
    }
}

/// A whole number in `range`; `default` when unset or bad.
#[cfg(feature = "enabled")]
fn env_number(
    var: &str,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
    expected: &str,
) -> u64 {
    match std::env::var(var) {
        Err(_) => default,
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                warn_bad_env(var, &text, expected);
                default
            }
        },
    }
}

/// The longest threshold taken from the environment: a day. Larger is surely a typo.
#[cfg(feature = "enabled")]
const MAX_THRESHOLD_MS: u64 = 86_400_000;
/// The default contention sampling rate.
#[cfg(feature = "enabled")]
pub(crate) const DEFAULT_RATE_NS: u64 = 10_000;

/// Worked out from two settings, the profile rate and the backtraces: which of a thread's
/// acquisitions are drawn for the profile (see `contention::profile::sample_threshold`). A
/// plain static, so that an acquisition reads it with one load; 0 until worked out, and again
/// whenever either setting changes (their setters clear it).
#[cfg(feature = "enabled")]
pub(crate) static DRAW_THRESHOLD: AtomicU64 = AtomicU64::new(0);

/// Every setting but the run-time switch: read from the environment once, overwritten by the
/// public setters.
#[cfg(feature = "enabled")]
pub(crate) struct Settings {
    /// `LOCKWATCH_WATCHDOG`, `watchdog::set_enabled`.
    pub(crate) watchdog: AtomicBool,
    /// `LOCKWATCH_LONG_HOLD_MS`, `watchdog::set_long_hold`.
    pub(crate) long_hold_ms: AtomicU64,
    /// `LOCKWATCH_LONG_WAIT_MS`, `watchdog::set_long_wait`.
    pub(crate) long_wait_ms: AtomicU64,
    /// `LOCKWATCH_ON_DEADLOCK=abort`, `watchdog::set_on_deadlock`.
    pub(crate) abort_on_deadlock: AtomicBool,
    /// `LOCKWATCH_BACKTRACE` (`1` trimmed to the user's frames, `full`), `set_backtraces`:
    /// 0 off, 1 trimmed, 2 full.
    pub(crate) backtraces: AtomicU8,
    /// `LOCKWATCH_PROFILE_RATE_NS`, `contention::set_sample_rate`.
    pub(crate) profile_rate_ns: AtomicU64,
    /// `LOCKWATCH_POLICY` (the report module keeps the `Policy` itself, callbacks and all).
    pub(crate) policy: PolicyName,
}

/// The settings, read from the environment on first use.
#[cfg(feature = "enabled")]
pub(crate) fn get() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let threshold = "a whole number of milliseconds from 1 to 86400000";
        Settings {
            watchdog: AtomicBool::new(env_choice(
                "LOCKWATCH_WATCHDOG",
                &[("on", true), ("off", false)],
                true,
                "on or off",
            )),
            long_hold_ms: AtomicU64::new(env_number(
                "LOCKWATCH_LONG_HOLD_MS",
                1..=MAX_THRESHOLD_MS,
                1_000,
                threshold,
            )),
            long_wait_ms: AtomicU64::new(env_number(
                "LOCKWATCH_LONG_WAIT_MS",
                1..=MAX_THRESHOLD_MS,
                1_000,
                threshold,
            )),
            abort_on_deadlock: AtomicBool::new(env_choice(
                "LOCKWATCH_ON_DEADLOCK",
                &[("report", false), ("abort", true)],
                false,
                "report or abort",
            )),
            backtraces: AtomicU8::new(env_choice(
                "LOCKWATCH_BACKTRACE",
                &[
                    ("1", 1),
                    ("true", 1),
                    ("on", 1),
                    ("full", 2),
                    ("0", 0),
                    ("false", 0),
                    ("off", 0),
                ],
                0,
                "0, 1 or full",
            )),
            profile_rate_ns: AtomicU64::new(env_number(
                "LOCKWATCH_PROFILE_RATE_NS",
                0..=1_000_000_000,
                DEFAULT_RATE_NS,
                "nanoseconds from 0 (record every wait) to 1000000000",
            )),
            policy: env_choice(
                "LOCKWATCH_POLICY",
                &[
                    ("log", PolicyName::Log),
                    ("panic", PolicyName::Panic),
                    ("silent", PolicyName::Silent),
                ],
                PolicyName::Log,
                "log, panic or silent",
            ),
        }
    })
}

/// The run-time switch (`LOCKWATCH`, [`crate::set_enabled`]).
#[cfg(feature = "enabled")]
mod switch {
    use super::*;

    /// Unknown until first read.
    static TRACKING: AtomicU8 = AtomicU8::new(UNKNOWN);
    const UNKNOWN: u8 = 0;
    const OFF: u8 = 1;
    const ON: u8 = 2;

    /// Whether acquisitions are tracked now: one relaxed load and a compare on the hot path.
    #[inline(always)]
    pub(crate) fn tracking() -> bool {
        let state = TRACKING.load(Relaxed);
        if state == ON {
            return true;
        }
        state == UNKNOWN && tracking_from_env()
    }

    #[cold]
    #[inline(never)]
    fn tracking_from_env() -> bool {
        let on = env_choice(
            "LOCKWATCH",
            &[("on", true), ("1", true), ("off", false), ("0", false)],
            true,
            "on or off",
        );
        // A `set_enabled` that raced with this first read wins.
        let _ = TRACKING.compare_exchange(UNKNOWN, if on { ON } else { OFF }, Relaxed, Relaxed);
        TRACKING.load(Relaxed) == ON
    }

    pub(crate) fn set_tracking(on: bool) {
        TRACKING.store(if on { ON } else { OFF }, Relaxed);
    }
}
#[cfg(feature = "enabled")]
pub(crate) use switch::{set_tracking, tracking};

/// `LOCKWATCH_DIR`, if set and not empty.
pub(crate) fn dir() -> Option<std::path::PathBuf> {
    std::env::var_os("LOCKWATCH_DIR")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

/// In a build without `enabled`: says once, at the first call of a lockwatch function that
/// would have used them, that lockwatch's variables have no effect.
#[cfg(not(feature = "enabled"))]
pub(crate) fn warn_if_set_while_disabled() {
    for var in ["LOCKWATCH_DIR", "LOCKWATCH"] {
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            warn_once(
                "disabled build",
                &format!(
                    "lockwatch: {var} is set, but this program was built without lockwatch's \
                     `enabled` feature: nothing is tracked or written"
                ),
            );
            return;
        }
    }
}

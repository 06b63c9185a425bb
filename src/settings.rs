//! Settings read from the environment: parsed and validated here, with one warning per bad
//! value. Compiled in both builds, so that a variable set for a build without `enabled` is
//! noticed rather than silently ignored.

#[cfg(feature = "enabled")]
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// One warning per bad variable on stderr, then the default is used.
#[cfg(feature = "enabled")]
pub(crate) fn warn_bad_env(var: &str, value: &str, expected: &str) {
    warn_once(
        var,
        &format!("lockwatch: ignoring {var}={value:?}: expected {expected}; using the default"),
    );
}

/// Prints `message` on stderr the first time `key` is seen, never again.
pub(crate) fn warn_once(key: &str, message: &str) {
    static WARNED: parking_lot::Mutex<Vec<String>> = parking_lot::Mutex::new(Vec::new());
    let mut warned = WARNED.lock();
    if !warned.iter().any(|w| w == key) {
        warned.push(key.to_owned());
        drop(warned);
        // Past any output capture (a test's): a warning may come from lockwatch's own threads.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}

#[cfg(feature = "enabled")]
mod switch {
    use super::*;

    /// The run-time switch (`LOCKWATCH`, [`crate::set_enabled`]): unknown until first read.
    static TRACKING: AtomicU8 = AtomicU8::new(UNKNOWN);
    const UNKNOWN: u8 = 0;
    const OFF: u8 = 1;
    const ON: u8 = 2;

    /// Whether acquisitions are tracked now: one relaxed load and a compare on the hot path.
    #[inline(always)]
    pub(crate) fn tracking() -> bool {
        match TRACKING.load(Relaxed) {
            ON => true,
            OFF => false,
            _ => tracking_from_env(),
        }
    }

    #[cold]
    #[inline(never)]
    fn tracking_from_env() -> bool {
        let on = match std::env::var("LOCKWATCH").as_deref() {
            Err(_) | Ok("on" | "1" | "") => true,
            Ok("off" | "0") => false,
            Ok(other) => {
                warn_bad_env("LOCKWATCH", other, "on or off");
                true
            }
        };
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

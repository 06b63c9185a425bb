//! The tracker's one time origin: the watchdog's ticks and published waits are measured from
//! it, so that a wait's start can be stored in one word and read back as an `Instant`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The origin: the first time anyone asked.
pub(crate) fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `at` in nanoseconds after the origin (0 before it).
pub(crate) fn nanos_of(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_nanos() as u64
}

/// The inverse of [`nanos_of`].
pub(crate) fn instant_at(nanos: u64) -> Instant {
    epoch() + Duration::from_nanos(nanos)
}

//! Contention profiles: where threads waited for locks, and who made them wait.
//!
//! Only the contended path records anything: a wait is timed only if its acquisition was drawn
//! for the profile (or the wait lasted), and then the waiter's stack is captured (instruction
//! pointers, no symbols). Samples are aggregated by (stack, lock class) and symbolized when
//! exported.
//!
//! Three views:
//!
//! - [`View::Waiters`] (what [`folded`] and [`write_flamegraph`] give): the stacks of threads
//!   that waited, with the lock class as the leaf frame, weighted by nanoseconds waited. Wide
//!   frames are where the program loses time to locks.
//! - [`View::Blame`]: the stacks of *holders* that released a lock while others waited,
//!   weighted by the waiters' delay, as Go's mutex profile does. Wide frames are the critical
//!   sections to shorten.
//! - [`View::CasRetries`]: failed compare-exchanges of the tracked atomics (hot CAS loops),
//!   weighted by the number of failures (sampled one in 16 and scaled up).
//!
//! # Sampling
//!
//! A blocking acquisition decides before the lock call whether its wait, if it has one, is
//! timed: one acquisition in `rate / 100 ns`, rounded up to a power of two (the rate: default
//! 10 µs, so one in 128; `LOCKWATCH_PROFILE_RATE_NS` or [`set_sample_rate`]), tries the lock
//! first and, if the try fails, times its wait, counted that many times, so totals stay
//! unbiased while the other acquisitions pay no try, no clock reading and no bookkeeping. A
//! rate of zero times every wait. (A lock's first contention, and a thread's acquisitions
//! before its first, draw per failed try instead.) Waits that last are always recorded, for
//! themselves alone: the watchdog marks a wait it finds still going on after 2 ms (it looks
//! every 10 ms), which is then recorded and blamed on its holders whatever the draw; a drawn
//! wait is timed by the clock, another from the watchdog's millisecond tick it began at.
//! (Waits on locks lockwatch does not wrap and tokio tasks' waits are timed one by one: at
//! least the rate always, shorter ones with probability `wait / rate`.)
//!
//! Without the `enabled` feature nothing is recorded: the folded views are empty and the
//! flame graph is an empty-profile SVG.
//!
//! # Examples
//!
//! ```no_run
//! // After a slow run:
//! lockwatch::contention::write_flamegraph("target/lockwatch/waiters.svg")?;
//! let folded = lockwatch::contention::folded();
//! println!("{} contended stacks", folded.lines().count());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::path::Path;
use std::time::Duration;

mod pprof;
#[cfg(feature = "enabled")]
pub(crate) mod profile;

/// Which contention profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum View {
    /// Where threads waited for locks, in nanoseconds waited.
    Waiters,
    /// Which holders made others wait, in nanoseconds of the waiters' delay.
    Blame,
    /// Failed compare-exchanges on tracked atomics, in failures.
    CasRetries,
}

impl View {
    pub(crate) fn title(self) -> &'static str {
        match self {
            View::Waiters => "lock contention: where threads waited",
            View::Blame => "lock contention: who made others wait",
            View::CasRetries => "compare-exchange retries",
        }
    }

    pub(crate) fn unit(self) -> &'static str {
        match self {
            View::Waiters | View::Blame => "ns",
            View::CasRetries => "retries",
        }
    }
}

/// The waiters view as folded stacks: one `frame;frame;...;leaf count` line per stack, root
/// first, the lock class as the leaf, the count in nanoseconds waited.
///
/// # Examples
///
/// ```
/// for line in lockwatch::contention::folded().lines() {
///     let (stack, ns) = line.rsplit_once(' ').unwrap();
///     assert!(ns.parse::<u64>().is_ok(), "{stack}");
/// }
/// ```
pub fn folded() -> String {
    folded_view(View::Waiters)
}

/// One view as folded stacks (see [`View`] for its unit).
///
/// # Examples
///
/// ```
/// use lockwatch::contention::{folded_view, View};
/// let blame = folded_view(View::Blame);
/// assert!(blame.lines().all(|l| l.rsplit_once(' ').is_some()));
/// ```
pub fn folded_view(view: View) -> String {
    #[cfg(feature = "enabled")]
    return profile::folded(view);
    #[cfg(not(feature = "enabled"))]
    {
        let _ = view;
        String::new()
    }
}

/// Writes the waiters view as a flame graph SVG (titled, in ns), creating parent folders.
///
/// # Errors
///
/// If the file cannot be written.
pub fn write_flamegraph(path: impl AsRef<Path>) -> io::Result<()> {
    write_flamegraph_view(View::Waiters, path)
}

/// Writes one view as a flame graph SVG, creating parent folders.
///
/// # Errors
///
/// If the file cannot be written.
pub fn write_flamegraph_view(view: View, path: impl AsRef<Path>) -> io::Result<()> {
    #[cfg(not(feature = "enabled"))]
    crate::settings::warn_if_set_while_disabled();
    let svg = flamegraph_svg(&folded_view(view), view.title(), view.unit())?;
    write_file(path.as_ref(), &svg)
}

/// Renders folded stacks as a flame graph SVG. An empty profile gives a small SVG that says
/// so (inferno refuses empty input).
///
/// # Errors
///
/// If inferno fails to render the input (malformed folded lines).
pub fn flamegraph_svg(folded: &str, title: &str, unit: &str) -> io::Result<Vec<u8>> {
    if folded.trim().is_empty() {
        return Ok(empty_svg(title).into_bytes());
    }
    #[cfg(feature = "enabled")]
    {
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_owned();
        options.count_name = unit.to_owned();
        options.name_type = "Frame:".to_owned();
        let mut svg = Vec::new();
        inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg)?;
        Ok(svg)
    }
    #[cfg(not(feature = "enabled"))]
    {
        let _ = unit;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "rendering flame graphs needs lockwatch's `enabled` feature",
        ))
    }
}

fn empty_svg(title: &str) -> String {
    let title = title.replace('&', "&amp;").replace('<', "&lt;");
    let why = if !cfg!(feature = "enabled") {
        "tracking is off: this program was built without lockwatch's `enabled` feature"
    } else if !crate::is_enabled() {
        "tracking is switched off at run time (LOCKWATCH=off or lockwatch::set_enabled)"
    } else {
        "no samples: nothing waited"
    };
    format!(
        "<?xml version=\"1.0\" standalone=\"no\"?>\n\
         <svg version=\"1.1\" width=\"600\" height=\"60\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <title>{title}: {why}</title>\n\
         <text x=\"300\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">{title}</text>\n\
         <text x=\"300\" y=\"48\" text-anchor=\"middle\" font-size=\"12\">{why}</text>\n\
         </svg>\n"
    )
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    std::fs::write(path, bytes)
}

/// One view as a pprof profile (`profile.proto`, uncompressed): sample types
/// `contentions/count` and `delay/nanoseconds` as Go's mutex profile, one location per
/// frame, and a `lock` label naming the lock class. `go tool pprof -http=: FILE` opens it.
///
/// # Examples
///
/// ```
/// let bytes = lockwatch::contention::pprof(lockwatch::contention::View::Waiters);
/// assert!(!bytes.is_empty()); // at least the sample types and string table
/// ```
pub fn pprof(view: View) -> Vec<u8> {
    #[cfg(feature = "enabled")]
    return pprof::encode(&profile::resolved(view));
    #[cfg(not(feature = "enabled"))]
    {
        let _ = view;
        pprof::encode_empty()
    }
}

/// Writes [`pprof()`] of `view` to `path`, creating parent folders.
///
/// # Errors
///
/// If the file cannot be written.
pub fn write_pprof(view: View, path: impl AsRef<Path>) -> io::Result<()> {
    write_file(path.as_ref(), &pprof(view))
}

/// Sets the sampling rate (see the module docs): the waits of one acquisition in
/// `rate / 100 ns` (rounded up to a power of two) are timed; zero times every wait.
///
/// # Examples
///
/// ```
/// lockwatch::contention::set_sample_rate(std::time::Duration::from_micros(10));
/// ```
pub fn set_sample_rate(rate: Duration) {
    #[cfg(feature = "enabled")]
    profile::set_rate(rate);
    #[cfg(not(feature = "enabled"))]
    let _ = rate;
}

/// Forgets everything recorded so far (to profile one phase of a program).
///
/// # Examples
///
/// ```
/// lockwatch::contention::reset();
/// assert!(lockwatch::contention::folded().is_empty());
/// ```
pub fn reset() {
    #[cfg(feature = "enabled")]
    profile::reset();
}

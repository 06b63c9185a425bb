//! The data files under `LOCKWATCH_DIR` (folded profiles, the lock graph), written by the
//! watchdog every few seconds while locks are in use, at exit, and before an abort: no
//! rendering, so it stays cheap. [`crate::export`] is the public side (and renders SVGs on
//! demand); this part sits in the tracker so that the watchdog needs nothing above it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::contention::profile;
use crate::contention::View;
use crate::outdir::{self, write_whole};

/// How often the data files are rewritten while locks are in use.
static EVERY_MS: AtomicU64 = AtomicU64::new(5_000);

pub(crate) fn set_interval(every: Duration) {
    EVERY_MS.store((every.as_millis() as u64).max(1), Relaxed);
}

/// The data files, into `dir`.
pub(crate) fn write_data(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (which, name) in [
        (View::Waiters, "waiters.folded"),
        (View::Blame, "blame.folded"),
        (View::CasRetries, "cas-retries.folded"),
    ] {
        written.push(write_whole(dir, name, profile::folded(which).as_bytes())?);
    }
    written.push(write_whole(
        dir,
        "lock-graph.dot",
        super::dot::graph_dot().as_bytes(),
    )?);
    Ok(written)
}

/// Writes the data files to this process's folder; returns whether there is one.
pub(crate) fn flush() -> io::Result<bool> {
    let Some(dir) = outdir::process_dir() else {
        return Ok(false);
    };
    // One writer at a time: the watchdog's periodic write, the exit hook, an abort.
    static WRITING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _one = WRITING.lock();
    write_data(dir)?;
    Ok(true)
}

fn flush_or_say() {
    if let Err(e) = flush() {
        if let Some(dir) = outdir::process_dir() {
            outdir::problem(dir, &e);
        }
    }
}

/// The watchdog's periodic write (cold: called about every tick while locks are held).
pub(crate) fn periodic(last: &mut u64, now_ms: u64) {
    if now_ms >= *last + EVERY_MS.load(Relaxed) {
        *last = now_ms;
        flush_or_say();
    }
}

/// Arranges the exit-time write and the write before a `Policy::Panic` panic, and makes the
/// process folder (so that a problem with it is said now). Cold: once, from the watchdog's
/// start.
pub(crate) fn install() {
    if outdir::process_dir().is_none() {
        return;
    }
    crate::report::set_before_panic(flush_or_say);
    #[cfg(unix)]
    {
        extern "C" fn at_exit() {
            flush_at_exit();
        }
        // SAFETY: `at_exit` is a plain `extern "C" fn()` with no captured state, as
        // `atexit` requires.
        let registered = unsafe { libc::atexit(at_exit) };
        if registered != 0 {
            eprintln!("lockwatch: could not register the exit-time write to LOCKWATCH_DIR");
        }
    }
}

/// Before `LOCKWATCH_ON_DEADLOCK=abort` aborts the process.
pub(crate) fn before_abort() {
    flush_or_say();
}

/// The exit-time write, on a thread of its own: the exiting thread's thread-locals (ours, and
/// those of the crates we call) may already be destroyed. Waits for it a few seconds at most,
/// polling with plain sleeps (no thread-local is touched here either), so that exit never
/// hangs.
#[cfg(unix)]
fn flush_at_exit() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Instant;

    let done = Arc::new(AtomicBool::new(false));
    let signal = Arc::clone(&done);
    let spawned = std::thread::Builder::new()
        .name("lockwatch-exit".into())
        .spawn(move || {
            flush_or_say();
            signal.store(true, std::sync::atomic::Ordering::Release);
        });
    if spawned.is_err() {
        return; // The reports are on disk already; only the last profile data is missing.
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done.load(std::sync::atomic::Ordering::Acquire) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

//! Writing what lockwatch knows to a directory: reports, profiles, the lock graph.
//!
//! # `LOCKWATCH_DIR`
//!
//! With the environment variable `LOCKWATCH_DIR` set, each process writes into its own folder
//! `LOCKWATCH_DIR/<program>-<pid>/` (the test binaries and doctests of one `cargo test`, or a
//! service's workers, never overwrite each other; `lockwatch reports DIR` and the other CLI
//! commands read a folder of many processes at once):
//!
//! | when | what |
//! |---|---|
//! | each report, as it is made | one line appended to `reports.jsonl` (one `write`: a crash never tears a line); a report's later outcome is one more line |
//! | every 5 s while locks are in use ([`set_flush_interval`]), at exit, and before `LOCKWATCH_ON_DEADLOCK=abort` or a [`Policy::Panic`](crate::Policy::Panic) panic | the data files: `waiters.folded`, `blame.folded`, `cas-retries.folded`, `lock-graph.dot`, each written to a temporary name and renamed (never half a file) |
//! | on demand ([`to_dir`]), or from the data files with `lockwatch render DIR` | the flame graphs `waiters.svg`, `blame.svg` and the pprof files |
//!
//! So a run that aborts loses no report, and at most the last interval of profile data. The
//! exit-time write does no rendering; it runs on a thread of its own (the exiting thread's
//! thread-locals may be gone) and is given at most a few seconds.
//!
//! `reports.jsonl` holds one JSON object a line, schema 1: the report's kind, thread, summary
//! and rendered text, the locks it names (kind, name, creation site, instance), every site
//! (`file`, `line`, `col`), and the finding itself (a lock-order cycle's steps with both sites
//! and the thread that first took them, a deadlock's threads, ...); a report's later outcome
//! is a line of its own, `{"schema":1,"seq":N,"outcome":"released after 3.2s"}`. The full
//! format is in [`crate::report`]'s docs.
//!
//! A problem with the folder (a file in the way, no permission, no space) is said once on
//! stderr, with the path, when first met; the program goes on.

use std::io;
use std::path::{Path, PathBuf};

use crate::contention::{self, View};
use crate::outdir::{self, write_whole};

/// The lock-order graph in Graphviz DOT: lock classes (and, for locks of one class nested in
/// each other, instances) as nodes labelled by name or creation site; edges labelled by the
/// sites and thread where they were first seen; edges on a reported cycle in red. Empty graph
/// without the `enabled` feature.
///
/// # Examples
///
/// ```
/// let dot = lockwatch::export::graph_dot();
/// assert!(dot.starts_with("digraph lock_order {"));
/// ```
pub fn graph_dot() -> String {
    #[cfg(feature = "enabled")]
    return crate::tracker::dot::graph_dot();
    #[cfg(not(feature = "enabled"))]
    String::from("digraph lock_order {\n}\n")
}

/// Every report so far as `reports.jsonl` lines (schema above), outcomes included.
///
/// # Examples
///
/// ```
/// for line in lockwatch::export::reports_jsonl().lines() {
///     assert!(line.starts_with("{\"schema\":1,"));
/// }
/// ```
pub fn reports_jsonl() -> String {
    crate::reports()
        .iter()
        .map(crate::Report::json_line)
        .collect()
}

/// Writes every file of the table above, the rendered ones included, into `dir` (created if
/// needed), and returns their paths. `reports.jsonl` is written whole, with outcomes in the
/// report lines.
///
/// # Errors
///
/// The first file that could not be written.
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join("lockwatch-doc-export");
/// let written = lockwatch::export::to_dir(&dir)?;
/// assert!(written.iter().any(|p| p.ends_with("lock-graph.dot")));
/// assert!(written.iter().any(|p| p.ends_with("waiters.svg")));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn to_dir(dir: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir)?;
    let mut written = vec![write_whole(
        dir,
        "reports.jsonl",
        reports_jsonl().as_bytes(),
    )?];
    written.extend(write_data(dir)?);
    for view in [View::Waiters, View::Blame] {
        let stem = stem(view);
        let svg = contention::flamegraph_svg(
            &std::fs::read_to_string(dir.join(format!("{stem}.folded")))?,
            view.title(),
            view.unit(),
        )?;
        written.push(write_whole(dir, &format!("{stem}.svg"), &svg)?);
        written.push(write_whole(
            dir,
            &format!("{stem}.pprof"),
            &contention::pprof(view),
        )?);
    }
    Ok(written)
}

fn stem(view: View) -> &'static str {
    match view {
        View::Waiters => "waiters",
        View::Blame => "blame",
        View::CasRetries => "cas-retries",
    }
}

/// The data files (folded profiles and the graph): what the periodic and exit-time writes
/// produce (empty ones without `enabled`).
fn write_data(dir: &Path) -> io::Result<Vec<PathBuf>> {
    #[cfg(feature = "enabled")]
    return crate::tracker::dump::write_data(dir);
    #[cfg(not(feature = "enabled"))]
    {
        let mut written = Vec::new();
        for view in [View::Waiters, View::Blame, View::CasRetries] {
            written.push(write_whole(dir, &format!("{}.folded", stem(view)), b"")?);
        }
        written.push(write_whole(dir, "lock-graph.dot", graph_dot().as_bytes())?);
        Ok(written)
    }
}

/// `LOCKWATCH_DIR`, if set and not empty (each process writes into a folder of its own below
/// it: see [`process_dir`]).
///
/// # Examples
///
/// ```
/// if let Some(dir) = lockwatch::export::env_dir() {
///     println!("lockwatch writes below {}", dir.display());
/// }
/// ```
pub fn env_dir() -> Option<PathBuf> {
    outdir::base()
}

/// This process's folder, `LOCKWATCH_DIR/<program>-<pid>`, created on first use; `None`
/// without `LOCKWATCH_DIR`, in a build without `enabled`, or when the folder cannot be made.
///
/// # Examples
///
/// ```
/// if let Some(dir) = lockwatch::export::process_dir() {
///     assert!(dir.starts_with(lockwatch::export::env_dir().unwrap()));
/// }
/// ```
pub fn process_dir() -> Option<PathBuf> {
    #[cfg(feature = "enabled")]
    return outdir::process_dir().map(Path::to_path_buf);
    #[cfg(not(feature = "enabled"))]
    {
        crate::settings::warn_if_set_while_disabled();
        None
    }
}

/// Writes the data files to this process's folder now (reports are already there: they are
/// appended as they are made); returns whether `LOCKWATCH_DIR` is set.
///
/// # Errors
///
/// As [`to_dir`].
///
/// # Examples
///
/// ```
/// let wrote = lockwatch::export::flush()?;
/// assert_eq!(wrote, lockwatch::export::process_dir().is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn flush() -> io::Result<bool> {
    #[cfg(feature = "enabled")]
    return crate::tracker::dump::flush();
    #[cfg(not(feature = "enabled"))]
    Ok(process_dir().is_some())
}

/// Sets how often the data files are rewritten while locks are in use (default 5 s; at least
/// 1 ms). Without the `enabled` feature it does nothing.
///
/// # Examples
///
/// ```
/// lockwatch::export::set_flush_interval(std::time::Duration::from_secs(1));
/// ```
pub fn set_flush_interval(every: std::time::Duration) {
    #[cfg(feature = "enabled")]
    crate::tracker::dump::set_interval(every);
    #[cfg(not(feature = "enabled"))]
    let _ = every;
}

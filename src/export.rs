//! Writing what lockwatch knows to a directory: reports, profiles, flame graphs, the graph.
//!
//! With the environment variable `LOCKWATCH_DIR` set, the same files are written there at
//! process exit (on unix) and, while the program runs, every few seconds by the watchdog, so
//! a run that crashes loses at most the last few seconds. [`to_dir`] writes them on demand.
//!
//! | file | content |
//! |---|---|
//! | `reports.jsonl` | every report, one JSON object a line: `kind`, `thread`, `summary`, `text`, `outcome` |
//! | `waiters.folded`, `blame.folded`, `cas-retries.folded` | the [`crate::contention`] views as folded stacks |
//! | `waiters.svg`, `blame.svg` | their flame graphs |
//! | `waiters.pprof`, `blame.pprof` | their pprof profiles |
//! | `lock-graph.dot` | the lock-order graph ([`graph_dot`]) |

use std::io;
use std::path::{Path, PathBuf};

use crate::contention::{self, View};

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
    return crate::tracker::graph_dot();
    #[cfg(not(feature = "enabled"))]
    String::from("digraph lock_order {\n}\n")
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every report so far as JSON lines: `{"kind":..,"thread":..,"summary":..,"text":..,
/// "outcome":..}` (`outcome` is `null` until there is one).
///
/// # Examples
///
/// ```
/// for line in lockwatch::export::reports_jsonl().lines() {
///     assert!(line.starts_with("{\"kind\":"));
/// }
/// ```
pub fn reports_jsonl() -> String {
    let mut out = String::new();
    for r in crate::reports() {
        let outcome = r.outcome().map_or_else(|| "null".to_owned(), json_string);
        out.push_str(&format!(
            "{{\"kind\":{},\"thread\":{},\"summary\":{},\"text\":{},\"outcome\":{}}}\n",
            json_string(&format!("{:?}", r.kind())),
            json_string(r.thread()),
            json_string(r.summary()),
            json_string(&report_text(&r)),
            outcome
        ));
    }
    out
}

/// The report's text without the outcome line `Display` appends (it has its own field).
fn report_text(r: &crate::Report) -> String {
    let text = r.to_string();
    match r.outcome() {
        Some(outcome) => text
            .strip_suffix(&format!("\n  outcome: {outcome}"))
            .unwrap_or(&text)
            .to_owned(),
        None => text,
    }
}

/// Writes every file of the table above into `dir` (created if needed) and returns their
/// paths.
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
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn to_dir(dir: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| -> io::Result<()> {
        let path = dir.join(name);
        // Write then rename, so that a reader never sees half a file.
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        written.push(path);
        Ok(())
    };
    put("reports.jsonl", reports_jsonl().as_bytes())?;
    for (view, stem) in [
        (View::Waiters, "waiters"),
        (View::Blame, "blame"),
        (View::CasRetries, "cas-retries"),
    ] {
        let folded = contention::folded_view(view);
        put(&format!("{stem}.folded"), folded.as_bytes())?;
        if view != View::CasRetries {
            let (title, unit) = match view {
                View::Blame => ("lock contention: who made others wait", "ns"),
                _ => ("lock contention: where threads waited", "ns"),
            };
            put(
                &format!("{stem}.svg"),
                &contention::flamegraph_svg(&folded, title, unit)?,
            )?;
            put(&format!("{stem}.pprof"), &contention::pprof(view))?;
        }
    }
    put("lock-graph.dot", graph_dot().as_bytes())?;
    Ok(written)
}

/// The directory named by `LOCKWATCH_DIR`, if set and not empty.
///
/// # Examples
///
/// ```
/// if let Some(dir) = lockwatch::export::env_dir() {
///     println!("lockwatch writes to {}", dir.display());
/// }
/// ```
pub fn env_dir() -> Option<PathBuf> {
    std::env::var_os("LOCKWATCH_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Writes everything to `LOCKWATCH_DIR` now, if it is set; returns whether it was.
///
/// # Errors
///
/// As [`to_dir`].
pub fn flush() -> io::Result<bool> {
    match env_dir() {
        Some(dir) => to_dir(dir).map(|_| true),
        None => Ok(false),
    }
}

/// Arranges the exit-time export (cold: once, from the watchdog's start).
#[cfg(feature = "enabled")]
pub(crate) fn install_exit_hook() {
    #[cfg(unix)]
    if env_dir().is_some() {
        extern "C" fn at_exit() {
            if let Err(e) = flush() {
                eprintln!("lockwatch: could not write LOCKWATCH_DIR at exit: {e}");
            }
        }
        // SAFETY: `at_exit` is a plain `extern "C" fn()` with no captured state, as
        // `atexit` requires; it only writes files.
        let registered = unsafe { libc::atexit(at_exit) };
        if registered != 0 {
            eprintln!("lockwatch: could not register the exit-time export to LOCKWATCH_DIR");
        }
    }
}

//! Backtraces for reports (`LOCKWATCH_BACKTRACE`): captured on cold paths only, trimmed to
//! the user's frames (lockwatch's own frames at the top and the runtime's at the bottom go;
//! `LOCKWATCH_BACKTRACE=full` keeps them), and used to find the line in the user's own code
//! behind a lock taken in a helper or inside a dependency.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::report::Site;

/// One frame: the function, and where, if the debug info says.
pub(crate) struct Frame {
    function: String,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
}

/// A captured, symbolized, trimmed stack, innermost frame first.
pub(crate) struct Trace {
    frames: Vec<Frame>,
}

/// A backtrace of the calling thread, if backtraces are on.
#[cold]
pub(crate) fn capture() -> Option<Arc<Trace>> {
    let level = crate::report::backtrace_level();
    (level > 0).then(|| Arc::new(Trace::of(&backtrace::Backtrace::new(), level)))
}

/// The calling thread's stack, not yet symbolized (a stack walk: cheap next to a blocking
/// wait), if backtraces are on: a wait keeps it until the watchdog reports the wait.
#[cold]
pub(crate) fn capture_unresolved() -> Option<backtrace::Backtrace> {
    (crate::report::backtrace_level() > 0).then(backtrace::Backtrace::new_unresolved)
}

/// A stack from [`capture_unresolved`], symbolized and trimmed.
#[cold]
pub(crate) fn resolve(mut bt: backtrace::Backtrace) -> Trace {
    bt.resolve();
    Trace::of(&bt, crate::report::backtrace_level().max(1))
}

impl Trace {
    /// `bt`'s frames, trimmed to the user's at level 1.
    fn of(bt: &backtrace::Backtrace, level: u8) -> Trace {
        let cwd = std::env::current_dir().ok();
        let mut frames: Vec<Frame> = bt
            .frames()
            .iter()
            .flat_map(|f| f.symbols())
            .map(|s| Frame {
                function: s
                    .name()
                    .map_or_else(|| "<unknown>".to_owned(), |n| format!("{n:#}")),
                file: s.filename().map(|p| {
                    // The user's files as the compiler names them: relative to where they run.
                    cwd.as_deref()
                        .and_then(|cwd| p.strip_prefix(cwd).ok())
                        .unwrap_or(p)
                        .display()
                        .to_string()
                }),
                line: s.lineno(),
                column: s.colno(),
            })
            .collect();
        if level == 1 {
            let own = frames
                .iter()
                .take_while(|f| is_own(&f.function) || is_std(f))
                .count();
            frames.drain(..own);
            if let Some(entry) = frames.iter().position(|f| is_runtime_entry(&f.function)) {
                frames.truncate(entry);
            }
            // The glue between the entry and the program's own closure.
            while frames
                .last()
                .is_some_and(|f| !matches!(f.file.as_deref(), Some(p) if !is_foreign(p)))
            {
                frames.pop();
            }
        }
        Trace { frames }
    }
}

/// lockwatch's own frames (and the capture's).
fn is_own(function: &str) -> bool {
    let f = function.trim_start_matches('<');
    f.starts_with("lockwatch::") || f.starts_with("backtrace::") || f == "<unknown>"
}

/// The standard library's frames (between lockwatch's own at the top of a capture).
fn is_std(f: &Frame) -> bool {
    let function = f.function.trim_start_matches('<');
    f.file.as_deref().is_some_and(|p| p.starts_with("/rustc/"))
        || ["core::", "std::", "alloc::"]
            .iter()
            .any(|p| function.starts_with(p))
}

/// Where the runtime hands over to the program: `main`'s and every thread's (and every test's)
/// closure is called through this frame, as in std's short panic backtraces.
fn is_runtime_entry(function: &str) -> bool {
    function.contains("__rust_begin_short_backtrace")
}

/// Code of a dependency or of the standard library, not the user's own.
fn is_foreign(file: &str) -> bool {
    file.contains("/.cargo/registry/")
        || file.contains("/.cargo/git/")
        || file.starts_with("/rustc/")
        || file.contains("/library/std/")
        || file.contains("/library/core/")
}

impl Trace {
    /// The frames, one a line (the report indents them).
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.frames {
            out.push_str(&f.function);
            if let (Some(file), Some(line)) = (&f.file, f.line) {
                let _ = write!(out, " at {file}:{line}");
                if let Some(col) = f.column {
                    let _ = write!(out, ":{col}");
                }
            }
            out.push('\n');
        }
        out
    }

    /// The first frame in the user's own code below the frame at `site`: the line that
    /// called a helper which took the lock, or the call into a dependency that did.
    pub(crate) fn called_from(&self, site: Site) -> Option<String> {
        // The site's frame (inlined frames may repeat it).
        let here = |f: &Frame| {
            f.line == Some(site.line) && f.file.as_deref().is_some_and(|p| p.ends_with(site.file))
        };
        let at = self.frames.iter().position(here)?;
        self.frames[at + 1..]
            .iter()
            .find(|f| !here(f) && f.file.as_deref().is_some_and(|p| !is_foreign(p)))
            .map(|f| {
                format!(
                    "{}:{}:{} in {}",
                    f.file.as_deref().unwrap_or("?"),
                    f.line.unwrap_or(0),
                    f.column.unwrap_or(0),
                    f.function
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::{Frame, Trace};
    use crate::report::Site;

    fn frame(function: &str, file: &str, line: u32) -> Frame {
        Frame {
            function: function.to_owned(),
            file: Some(file.to_owned()),
            line: Some(line),
            column: Some(5),
        }
    }

    const SHARD: &str = "/home/u/.cargo/registry/src/index.crates.io-0000/dashmap-5.5.3/src/lib.rs";

    #[test]
    fn a_lock_inside_a_dependency_is_called_from_the_users_line() {
        let trace = Trace {
            frames: vec![
                frame("dashmap::DashMap<K,V>::_get", SHARD, 922),
                frame("dashmap::DashMap<K,V>::get", SHARD, 470),
                frame("app::refresh", "src/main.rs", 31),
                frame("app::main", "src/main.rs", 12),
            ],
        };
        let site = Site {
            file: SHARD,
            line: 922,
            column: 5,
        };
        assert_eq!(
            trace.called_from(site).as_deref(),
            Some("src/main.rs:31:5 in app::refresh")
        );
    }

    #[test]
    fn a_lock_in_a_helper_is_called_from_the_helpers_caller() {
        let trace = Trace {
            frames: vec![
                frame("app::Store::rl", "src/store.rs", 8),
                frame(
                    "core::ops::function::FnOnce::call_once",
                    "/rustc/abc/library/core/src/ops/function.rs",
                    250,
                ),
                frame("app::handle", "src/handle.rs", 40),
            ],
        };
        let site = Site {
            file: "src/store.rs",
            line: 8,
            column: 5,
        };
        assert_eq!(
            trace.called_from(site).as_deref(),
            Some("src/handle.rs:40:5 in app::handle")
        );
        // A site the trace does not hold names no caller.
        let elsewhere = Site {
            file: "src/other.rs",
            ..site
        };
        assert_eq!(trace.called_from(elsewhere), None);
    }
}

//! This process's own folder under `LOCKWATCH_DIR`, and the two ways files get there: whole
//! files written to a temporary name and renamed (a reader never sees half a file), and lines
//! appended with one `write` each (a crash never tears a line).
//!
//! Every process writes to `LOCKWATCH_DIR/<program>-<pid>/`, so the test binaries and doctests
//! of one `cargo test`, or the workers of one service, never overwrite each other. A problem
//! with the folder (it is a file, read-only, the disk is full) is reported once on stderr, with
//! the path, when it is first met; the program goes on.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `LOCKWATCH_DIR`, if set and not empty.
pub(crate) fn base() -> Option<PathBuf> {
    crate::settings::dir()
}

/// This process's folder's name: the program's file name (without extension) and the pid.
pub(crate) fn process_name() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "process".to_owned());
    format!("{program}-{}", std::process::id())
}

/// This process's folder under `LOCKWATCH_DIR`, created on first use. `None` when the
/// variable is not set, or the folder cannot be made (said once, with the path).
pub(crate) fn process_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = base()?.join(process_name());
        match fs::create_dir_all(&dir) {
            Ok(()) => Some(dir),
            Err(e) => {
                problem(&dir, &e);
                None
            }
        }
    })
    .as_deref()
}

/// Says once, for the whole process, that `path` could not be written.
pub(crate) fn problem(path: &Path, e: &io::Error) {
    crate::settings::warn_once(
        "LOCKWATCH_DIR",
        &format!(
            "lockwatch: cannot write {} ({e}); LOCKWATCH_DIR output is incomplete from here on, \
             the program goes on",
            path.display()
        ),
    );
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub(crate) fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Appends `line` (ending in a newline) to `name` in this process's folder, with one `write`,
/// so that a line is either whole in the file or not there. Does nothing without
/// `LOCKWATCH_DIR`.
#[cfg_attr(not(feature = "enabled"), allow(dead_code))]
pub(crate) fn append(name: &str, line: &str) {
    let Some(dir) = process_dir() else { return };
    let path = dir.join(name);
    let written = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = written {
        problem(&path, &e);
    }
}

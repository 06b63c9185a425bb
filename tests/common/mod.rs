//! Helpers shared by the integration tests: finding the reports about a test's own locks.
//!
//! Tests in one binary run in parallel and share lockwatch's global state, so every test gives
//! its locks class names of its own and looks only at the reports naming them.

#![allow(dead_code)]

use lockwatch::{Report, ReportKind};

/// Evaluates `$e` and returns it with the `file:line:` it was written at.
#[macro_export]
macro_rules! at {
    ($e:expr) => {
        ($e, format!("{}:{}:", file!(), line!()))
    };
}

/// The reports whose text names every one of `names` (class names, matched with backticks).
pub fn reports_about(names: &[&str]) -> Vec<Report> {
    lockwatch::reports()
        .into_iter()
        .filter(|r| {
            let text = r.to_string();
            names.iter().all(|n| text.contains(&format!("`{n}`")))
        })
        .collect()
}

/// Asserts exactly one report of `kind` names all of `names` and that its text contains
/// every one of `sites`; returns it.
#[track_caller]
pub fn assert_reported(kind: ReportKind, names: &[&str], sites: &[&str]) -> Report {
    let found: Vec<Report> = reports_about(names)
        .into_iter()
        .filter(|r| r.kind() == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind:?} report about {names:?}, got {}:\n{}",
        found.len(),
        found
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    let text = found[0].to_string();
    for site in sites {
        assert!(text.contains(site), "report does not name {site}:\n{text}");
    }
    found[0].clone()
}

/// Asserts no report names any of `names`.
#[track_caller]
pub fn assert_quiet(names: &[&str]) {
    for name in names {
        let found = reports_about(&[name]);
        assert!(
            found.is_empty(),
            "expected no report about {name}, got:\n{}",
            found
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
    }
}

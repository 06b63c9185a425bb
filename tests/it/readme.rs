//! The README's pasted outputs are what the examples print now, line numbers included.
//!
//! A block in README.md preceded by `<!-- output of: NAME -->` must match the output of
//! `examples/NAME.rs`: every line of the block appears in the output, after both sides are
//! normalised (colours and timestamps dropped, and every number replaced by `#` except the
//! `file.rs:line:col` sites, which must match exactly).
#![cfg(feature = "enabled")]

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, built now with tracking on, in a target folder of its own (the
/// binaries beside this test may be another build's: `cargo test` without `enabled` builds
/// the examples too).
fn example(name: &str) -> PathBuf {
    let target = concat!(env!("CARGO_MANIFEST_DIR"), "/target/readme-examples");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--example",
            name,
            "--features",
            features(name),
        ])
        .args(["--target-dir", target])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "cannot build example {name}");
    PathBuf::from(target).join("debug/examples").join(name)
}

/// The features an example is built with: tracking, and tokio or redis for theirs.
fn features(name: &str) -> &'static str {
    if name.starts_with("async_") {
        "enabled,tokio"
    } else if name.starts_with("redis_") {
        "enabled,redis"
    } else {
        "enabled"
    }
}

/// Whether this run of the suite has the feature an example needs.
fn has_features(name: &str) -> bool {
    let needs = features(name);
    (!needs.contains("tokio") || cfg!(feature = "tokio"))
        && (!needs.contains("redis") || cfg!(feature = "redis"))
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Colours, a leading timestamp and surrounding blanks dropped; numbers to `#` but for sites.
fn normalise(line: &str) -> String {
    let line = strip_ansi(line);
    let mut line = line.trim();
    if line.len() > 20 && line.as_bytes()[4] == b'-' && line.as_bytes()[10] == b'T' {
        line = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start();
    }
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if line[i..].starts_with(".rs:") {
            // A site: `.rs:` then `line:col`, kept as it is.
            let mut end = i + 4;
            while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b':') {
                end += 1;
            }
            out.push_str(&line[i..end]);
            i = end;
        } else if bytes[i].is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            out.push('#');
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    // Another machine's name: `(pid # on HOST...)` reads `(pid # on #...)`.
    let mut rest = out.as_str();
    let mut hosts = String::new();
    while let Some(at) = rest.find("(pid # on ") {
        let (before, after) = rest.split_at(at + "(pid # on ".len());
        hosts.push_str(before);
        let end = after.find([')', ':']).unwrap_or(after.len());
        hosts.push('#');
        rest = &after[end..];
    }
    hosts.push_str(rest);
    hosts
}

/// `(example, block lines)` for every checked block of the README.
fn checked_blocks() -> Vec<(String, Vec<String>)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line
            .strip_prefix("<!-- output of: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(
            lines.next(),
            Some("```text"),
            "a text block follows the marker"
        );
        let block: Vec<String> = lines
            .by_ref()
            .take_while(|l| *l != "```")
            .map(str::to_owned)
            .collect();
        blocks.push((name.to_owned(), block));
    }
    blocks
}

#[test]
fn the_readme_shows_what_the_examples_print() {
    let blocks = checked_blocks();
    assert!(
        blocks.len() >= 4,
        "the README's reports are checked: {}",
        blocks.len()
    );
    let mut outputs = std::collections::HashMap::new();
    for (name, block) in blocks {
        if !has_features(&name) {
            // The run of the suite with that feature checks these blocks.
            continue;
        }
        let output = outputs.entry(name.clone()).or_insert_with(|| {
            let out = Command::new(example(&name))
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env_remove("LOCKWATCH_DIR")
                .output()
                .unwrap();
            assert!(out.status.success(), "examples/{name}.rs failed: {out:?}");
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(!text.contains('\u{1b}'), "colours in a redirected log");
            text.lines().map(normalise).collect::<Vec<_>>()
        });
        for line in block.iter().filter(|l| !l.trim().is_empty()) {
            let want = normalise(line);
            assert!(
                output.contains(&want),
                "README line not printed by examples/{name}.rs:\n  {line}\nnormalised:\n  {want}\noutput:\n{}",
                output.join("\n")
            );
        }
    }
}

#[test]
fn normalising_keeps_sites_and_drops_what_varies() {
    assert_eq!(
        normalise("\u{1b}[2m2026-11-26T10:00:00.1Z\u{1b}[0m  WARN lockwatch: held for 254ms at examples/bank.rs:114:26"),
        "WARN lockwatch: held for #ms at examples/bank.rs:114:26"
    );
    assert_ne!(normalise("at a.rs:1:2"), normalise("at a.rs:1:3"));
}

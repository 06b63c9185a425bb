//! The lock graph as DOT, and everything written to a directory.
#![cfg(feature = "enabled")]

use lockwatch::named;
use lockwatch::sync::Mutex;
use std::collections::HashMap;
use std::process::Command;

/// A small structural reader for the DOT lockwatch writes: node labels by id, and edges with
/// their attributes.
struct Dot {
    nodes: HashMap<String, String>,
    edges: Vec<(String, String, String)>,
}

fn attr<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    let start = attrs.find(&format!("{key}="))? + key.len() + 1;
    let rest = &attrs[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut end = 0;
        let bytes = quoted.as_bytes();
        while end < bytes.len() && !(bytes[end] == b'"' && (end == 0 || bytes[end - 1] != b'\\')) {
            end += 1;
        }
        Some(&quoted[..end])
    } else {
        Some(rest.split([',', ']']).next().unwrap().trim())
    }
}

fn parse(dot: &str) -> Dot {
    let mut lines = dot.lines();
    assert_eq!(lines.next(), Some("digraph lock_order {"));
    assert_eq!(dot.lines().last(), Some("}"));
    let mut d = Dot {
        nodes: HashMap::new(),
        edges: Vec::new(),
    };
    for line in lines {
        let line = line.trim();
        if line == "}" || line.starts_with("rankdir") || line.starts_with("node ") {
            continue;
        }
        let (head, attrs) = line.split_once(" [").expect("a statement with attributes");
        assert!(attrs.ends_with("];"), "{line}");
        match head.split_once(" -> ") {
            Some((from, to)) => d.edges.push((from.into(), to.into(), attrs.into())),
            None => {
                d.nodes
                    .insert(head.into(), attr(attrs, "label").unwrap().into());
            }
        }
    }
    for (from, to, _) in &d.edges {
        assert!(
            d.nodes.contains_key(from) && d.nodes.contains_key(to),
            "edge to an undeclared node"
        );
    }
    d
}

#[test]
fn the_lock_graph_exports_as_dot_with_the_cycle_in_red() {
    let a = named(Mutex::new(()), "dot-a");
    let b = named(Mutex::new(()), "dot-b");
    let c = named(Mutex::new(()), "dot-c");
    {
        let _a = a.lock().unwrap();
        let _c = c.lock().unwrap(); // a -> c, on no cycle
    }
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    let dot = parse(&lockwatch::export::graph_dot());
    let id = |name: &str| {
        dot.nodes
            .iter()
            .find(|(_, label)| label.contains(&format!("`{name}`")))
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no node for {name}"))
    };
    let (ia, ib, ic) = (id("dot-a"), id("dot-b"), id("dot-c"));
    let edge = |f: &str, t: &str| {
        dot.edges
            .iter()
            .find(|(x, y, _)| x == f && y == t)
            .map(|e| e.2.clone())
    };
    for (f, t) in [(&ia, &ib), (&ib, &ia)] {
        let attrs = edge(f, t).expect("cycle edge");
        assert_eq!(attr(&attrs, "color"), Some("red"), "{attrs}");
        assert!(attr(&attrs, "label").unwrap().contains("tests/export.rs:"));
    }
    let plain = edge(&ia, &ic).expect("a -> c");
    assert_eq!(attr(&plain, "color"), None, "{plain}");
}

/// Whether this process is a child run by one of the tests below.
fn in_child() -> bool {
    std::env::var_os("LOCKWATCH_CHILD").is_some()
}

/// Runs the test `name` of this binary as a child process writing to a fresh `dir`.
fn run_child(name: &str, dir: &std::path::Path) -> std::process::Output {
    let _ = std::fs::remove_dir_all(dir);
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1"])
        .env("LOCKWATCH_CHILD", "1")
        .env("LOCKWATCH_DIR", dir)
        .output()
        .unwrap()
}

/// Takes two locks in both orders (one lock-order report) and returns them.
fn an_inversion() -> (Mutex<()>, Mutex<()>) {
    let a = Mutex::new(());
    let b = Mutex::new(());
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    (a, b)
}

#[test]
fn child_writes_at_exit() {
    if in_child() {
        // No explicit export: the exit hook writes LOCKWATCH_DIR.
        an_inversion();
    }
}

#[test]
fn lockwatch_dir_gets_every_file_at_exit() {
    if in_child() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lockwatch-export-{}", std::process::id()));
    let out = run_child("child_writes_at_exit", &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "reports.jsonl",
        "waiters.folded",
        "blame.folded",
        "cas-retries.folded",
        "waiters.svg",
        "blame.svg",
        "waiters.pprof",
        "blame.pprof",
        "lock-graph.dot",
    ] {
        assert!(dir.join(name).exists(), "{name} missing");
    }
    let reports = std::fs::read_to_string(dir.join("reports.jsonl")).unwrap();
    let line = reports
        .lines()
        .find(|l| l.contains("\"kind\":\"LockOrder\""))
        .expect("the inversion");
    assert!(line.contains("tests/export.rs:"), "{line}");
    assert!(line.ends_with("\"outcome\":null}"), "{line}");
    parse(&std::fs::read_to_string(dir.join("lock-graph.dot")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_crashes_after_a_while() {
    if !in_child() {
        return;
    }
    let (a, _b) = an_inversion();
    let _a = a.lock().unwrap();
    // Held, so the watchdog stays awake and flushes; then a crash skips the exit hook.
    std::thread::sleep(std::time::Duration::from_millis(5_600));
    std::process::abort();
}

#[test]
fn a_crash_loses_only_what_came_after_the_last_periodic_flush() {
    if in_child() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lockwatch-crash-{}", std::process::id()));
    let out = run_child("child_crashes_after_a_while", &dir);
    assert!(!out.status.success(), "the child aborts");
    let reports = std::fs::read_to_string(dir.join("reports.jsonl")).expect("a periodic flush");
    assert!(reports.contains("\"kind\":\"LockOrder\""), "{reports}");
    let _ = std::fs::remove_dir_all(&dir);
}

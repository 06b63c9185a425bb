//! lockwatch's own modules form no circle: no module uses one that uses it back, whether
//! modules are taken one by one or with their submodules folded into them (so `export` using
//! `tracker` while `tracker::watchdog` used `export` counts).
//!
//! A use is any path `crate::a::b` or `super::x` in a file (comments dropped, `use` groups
//! expanded), resolved to the longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`crate::tracker::held`) -> source file contents, comments dropped.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                let name = if parts == ["lib"] {
                    "crate".to_owned()
                } else {
                    format!("crate::{}", parts.join("::"))
                };
                let text: String = std::fs::read_to_string(&path)
                    .unwrap()
                    .lines()
                    .map(|l| l.split("//").next().unwrap())
                    .collect::<Vec<_>>()
                    .join("\n");
                out.insert(name, text);
            }
        }
    }
    out
}

/// Every `crate::...` / `super::...` path in `text`, `use` groups expanded.
fn paths(text: &str) -> Vec<String> {
    let is_path = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let boundary = i == 0 || !is_path(bytes[i - 1]);
        if boundary && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let mut j = i;
            while j < bytes.len() && is_path(bytes[j]) {
                j += 1;
            }
            let head: String = bytes[i..j].iter().collect();
            let head = head.trim_end_matches(':').to_owned();
            if bytes.get(j) == Some(&'{') {
                let end = (j..bytes.len()).find(|&k| bytes[k] == '}').unwrap_or(j);
                let group: String = bytes[j + 1..end].iter().collect();
                for item in group.split(',') {
                    let item = item.split_whitespace().next().unwrap_or("");
                    if !item.is_empty() {
                        out.push(format!("{head}::{item}"));
                    }
                }
            }
            out.push(head);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The module `path` (seen from module `from`) names, if any: the longest known prefix.
fn resolve(mods: &BTreeMap<String, String>, from: &str, path: &str) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = match segs[0] {
        "crate" => {
            segs.remove(0);
            vec!["crate"]
        }
        _ => {
            let mut base: Vec<&str> = from.split("::").collect();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                base.pop();
            }
            base
        }
    };
    let mut best = None;
    for seg in std::iter::once(None).chain(segs.iter().map(Some)) {
        if let Some(seg) = seg {
            base.push(seg);
        }
        let name = base.join("::");
        if mods.contains_key(&name) {
            best = Some(name);
        }
    }
    best
}

fn graph(fold: usize) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let folded = |m: &str| m.split("::").take(fold).collect::<Vec<_>>().join("::");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, text) in &mods {
        for p in paths(text) {
            let Some(t) = resolve(&mods, m, &p) else {
                continue;
            };
            let (a, b) = (folded(m), folded(&t));
            // A module and its own submodules (or parent) are one thing.
            if a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::")) {
                continue;
            }
            edges.entry(a).or_default().insert(b);
        }
    }
    edges
}

/// A circle in `edges`, if there is one.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            return Some(path[at..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for next in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    for fold in [usize::MAX, 2] {
        let edges = graph(fold);
        assert!(edges.len() > 10, "the modules were read: {edges:?}");
        if let Some(c) = circle(&edges) {
            let how = if fold == 2 {
                "top-level modules"
            } else {
                "modules"
            };
            panic!("{how} in a circle: {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_checker_sees_a_circle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert!(circle(&edges).is_none());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(circle(&edges).unwrap(), ["a", "b", "c"]);
    let found = paths("use crate::tracker::{held::Held, watchdog};\nlet x = super::dump::flush();");
    assert!(
        found.contains(&"crate::tracker::held::Held".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"crate::tracker::watchdog".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"super::dump::flush".to_owned()),
        "{found:?}"
    );
}

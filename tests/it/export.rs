//! The lock graph as DOT, and everything written to a directory.
#![cfg(feature = "enabled")]

use lockwatch::named;
use lockwatch::sync::Mutex;
use std::collections::HashMap;

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
        assert!(attr(&attrs, "label")
            .unwrap()
            .contains("tests/it/export.rs:"));
    }
    let plain = edge(&ia, &ic).expect("a -> c");
    assert_eq!(attr(&plain, "color"), None, "{plain}");
}

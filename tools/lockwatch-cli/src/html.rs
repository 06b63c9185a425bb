//! `lockwatch html DIR`: one self-contained page from what lockwatch wrote under
//! `LOCKWATCH_DIR`: the reports grouped by kind, the lock-order graph drawn as SVG with the
//! reported cycles in red, and the waiters and blame flame graphs.
//!
//! The page is well-formed XML (XHTML syntax in an HTML5 page), so tools can read it too.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

/// More nodes than this and the graph shows the locks on cycles and their neighbours only.
const MAX_NODES: usize = 60;

/// One report as the page shows it.
pub struct PageReport {
    pub kind: String,
    pub summary: String,
    pub text: String,
    pub sites: Vec<String>,
    pub process: String,
}

/// A lock-order edge: from, to (node labels), a tooltip, on a reported cycle.
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub cycle: bool,
}

/// The edges of a DOT graph lockwatch wrote (`lock-graph.dot`): its own simple format.
pub fn dot_edges(dot: &str) -> Vec<Edge> {
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut raw = Vec::new();
    for line in dot.lines().map(str::trim) {
        let Some((head, attrs)) = line.split_once(" [") else {
            continue;
        };
        let label = attr(attrs, "label").unwrap_or_default();
        match head.split_once(" -> ") {
            Some((from, to)) => raw.push((
                from.to_owned(),
                to.to_owned(),
                label,
                attr(attrs, "color").as_deref() == Some("red"),
            )),
            None => {
                labels.insert(head.to_owned(), label);
            }
        }
    }
    raw.into_iter()
        .map(|(from, to, label, cycle)| Edge {
            from: labels.get(&from).cloned().unwrap_or(from),
            to: labels.get(&to).cloned().unwrap_or(to),
            label,
            cycle,
        })
        .collect()
}

/// A DOT attribute's value (quoted, with `\"` and `\\` escapes, or bare).
fn attr(attrs: &str, key: &str) -> Option<String> {
    let start = attrs.find(&format!("{key}="))? + key.len() + 1;
    let rest = &attrs[start..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '"' => return Some(out),
                c => out.push(c),
            }
        }
        None
    } else {
        Some(
            rest.split([',', ']'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        )
    }
}

/// The cycle edges of a `LockOrder` finding (`finding.cycle` of reports.jsonl): they stay on
/// the page after their locks are gone from the live graph.
pub fn cycle_edges(finding: &serde_json::Value) -> Vec<Edge> {
    let lock = |a: &serde_json::Value| {
        let l = &a["lock"];
        // The class as the library names it (and the DOT graph labels its node).
        let class = match (l["label"].as_str(), l["name"].as_str()) {
            (Some(label), _) => label.to_owned(),
            (None, Some(name)) => format!("{} `{name}`", l["kind"].as_str().unwrap_or("lock")),
            (None, None) => format!(
                "{} created at {}",
                l["kind"].as_str().unwrap_or("lock"),
                site(&l["created"])
            ),
        };
        match l["instance"].as_u64() {
            Some(id) => format!("{class} #{id}"),
            None => class,
        }
    };
    finding["cycle"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| Edge {
            from: lock(&step["from"]),
            to: lock(&step["to"]),
            label: format!(
                "{} -> {} ({})",
                site(&step["from"]["site"]),
                site(&step["to"]["site"]),
                step["thread"].as_str().unwrap_or("?")
            ),
            cycle: true,
        })
        .collect()
}

/// `file:line:col` of a JSON site.
pub fn site(v: &serde_json::Value) -> String {
    format!(
        "{}:{}:{}",
        v["file"].as_str().unwrap_or("?"),
        v["line"],
        v["col"]
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ABC[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The graph as SVG: a layered layout (each edge points right unless it closes a cycle),
/// cycle edges in red. Large graphs keep the locks on cycles and their neighbours.
fn graph_svg(edges: &[Edge]) -> String {
    let mut edges: Vec<&Edge> = edges.iter().collect();
    // One edge per (from, to): a cycle edge wins.
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut unique: Vec<&Edge> = Vec::new();
    for e in edges.drain(..) {
        match seen.get(&(e.from.as_str(), e.to.as_str())) {
            Some(&i) if !unique[i].cycle && e.cycle => unique[i] = e,
            Some(_) => {}
            None => {
                seen.insert((&e.from, &e.to), unique.len());
                unique.push(e);
            }
        }
    }
    let all: BTreeSet<&str> = unique
        .iter()
        .flat_map(|e| [e.from.as_str(), e.to.as_str()])
        .collect();
    let mut note = String::new();
    let shown: BTreeSet<&str> = if all.len() > MAX_NODES {
        let on_cycle: BTreeSet<&str> = unique
            .iter()
            .filter(|e| e.cycle)
            .flat_map(|e| [e.from.as_str(), e.to.as_str()])
            .collect();
        let mut near = on_cycle.clone();
        for e in &unique {
            if on_cycle.contains(e.from.as_str()) || on_cycle.contains(e.to.as_str()) {
                near.extend([e.from.as_str(), e.to.as_str()]);
            }
        }
        let with_neighbours = near.len() <= MAX_NODES;
        let keep = if with_neighbours { near } else { on_cycle };
        note = format!(
            "{} of {} locks shown: those on reported cycles{}.",
            keep.len(),
            all.len(),
            if with_neighbours {
                " and their neighbours"
            } else {
                ""
            }
        );
        keep
    } else {
        all
    };
    let edges: Vec<&Edge> = unique
        .into_iter()
        .filter(|e| shown.contains(e.from.as_str()) && shown.contains(e.to.as_str()))
        .collect();
    let nodes: Vec<&str> = shown.into_iter().collect();
    if nodes.is_empty() {
        return "<p class=\"empty\">No lock-order edges were recorded.</p>".to_owned();
    }
    let index: HashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let outs: Vec<Vec<usize>> = (0..nodes.len())
        .map(|i| {
            edges
                .iter()
                .filter(|e| index[e.from.as_str()] == i)
                .map(|e| index[e.to.as_str()])
                .collect()
        })
        .collect();
    // Back edges of a depth-first search are left out of the layering: what remains is acyclic.
    let mut state = vec![0u8; nodes.len()]; // 0 new, 1 on the path, 2 done
    let mut back = BTreeSet::new();
    for start in 0..nodes.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((n, i)) = stack.pop() {
            if let Some(&m) = outs[n].get(i) {
                stack.push((n, i + 1));
                match state[m] {
                    0 => {
                        state[m] = 1;
                        stack.push((m, 0));
                    }
                    1 => {
                        back.insert((n, m));
                    }
                    _ => {}
                }
            } else {
                state[n] = 2;
            }
        }
    }
    let mut layer = vec![0usize; nodes.len()];
    for _ in 0..nodes.len() {
        let mut changed = false;
        for (n, targets) in outs.iter().enumerate() {
            for &m in targets {
                if !back.contains(&(n, m)) && layer[m] < layer[n] + 1 {
                    layer[m] = layer[n] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (n, &l) in layer.iter().enumerate() {
        rows.entry(l).or_default().push(n);
    }
    let (w, h, gap_x, gap_y) = (230.0, 36.0, 90.0, 28.0);
    let mut pos = vec![(0.0f64, 0.0f64); nodes.len()];
    let mut height: f64 = 0.0;
    for (&l, members) in &rows {
        for (i, &n) in members.iter().enumerate() {
            pos[n] = (20.0 + l as f64 * (w + gap_x), 40.0 + i as f64 * (h + gap_y));
            height = height.max(pos[n].1 + h + 40.0);
        }
    }
    let width = 20.0 + rows.len() as f64 * (w + gap_x);
    let mut svg = format!(
        "<svg id=\"lock-graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" \
         markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" \
         fill=\"#555\"/></marker><marker id=\"arrow-red\" viewBox=\"0 0 10 10\" refX=\"10\" \
         refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">\
         <path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#c62828\"/></marker></defs>"
    );
    for e in &edges {
        let (a, b) = (index[e.from.as_str()], index[e.to.as_str()]);
        let (ax, ay) = (pos[a].0 + w, pos[a].1 + h / 2.0);
        let (bx, by) = (pos[b].0, pos[b].1 + h / 2.0);
        let d = if bx > ax {
            let mid = (ax + bx) / 2.0;
            format!("M {ax:.0} {ay:.0} C {mid:.0} {ay:.0}, {mid:.0} {by:.0}, {bx:.0} {by:.0}")
        } else {
            // Against the layout: around the top.
            let top = pos[a].1.min(pos[b].1) - 30.0;
            format!(
                "M {:.0} {:.0} C {:.0} {top:.0}, {:.0} {top:.0}, {:.0} {:.0}",
                pos[a].0 + w / 2.0,
                pos[a].1,
                pos[a].0 + w / 2.0,
                pos[b].0 + w / 2.0,
                pos[b].0 + w / 2.0,
                pos[b].1
            )
        };
        let (class, stroke, marker, width) = if e.cycle {
            ("edge cycle", "#c62828", "arrow-red", 2.5)
        } else {
            ("edge", "#555", "arrow", 1.2)
        };
        let _ = write!(
            svg,
            "<path class=\"{class}\" d=\"{d}\" fill=\"none\" stroke=\"{stroke}\" \
             stroke-width=\"{width}\" marker-end=\"url(#{marker})\"><title>{} -&gt; {}: {}</title></path>",
            esc(&e.from),
            esc(&e.to),
            esc(&e.label)
        );
    }
    for (n, name) in nodes.iter().enumerate() {
        let (x, y) = pos[n];
        let on_cycle = edges
            .iter()
            .any(|e| e.cycle && (e.from == *name || e.to == *name));
        let shown_name: String = if name.chars().count() > 34 {
            name.chars().take(33).chain(std::iter::once('…')).collect()
        } else {
            (*name).to_owned()
        };
        let _ = write!(
            svg,
            "<g class=\"node{}\"><title>{}</title><rect x=\"{x:.0}\" y=\"{y:.0}\" width=\"{w:.0}\" \
             height=\"{h:.0}\" rx=\"6\" fill=\"{}\" stroke=\"{}\"/><text x=\"{:.0}\" y=\"{:.0}\" \
             font-family=\"monospace\" font-size=\"12\" text-anchor=\"middle\">{}</text></g>",
            if on_cycle { " on-cycle" } else { "" },
            esc(name),
            if on_cycle { "#ffebee" } else { "#f5f5f5" },
            if on_cycle { "#c62828" } else { "#999" },
            x + w / 2.0,
            y + h / 2.0 + 4.0,
            esc(&shown_name)
        );
    }
    svg.push_str("</svg>");
    if !note.is_empty() {
        svg.push_str(&format!("<p class=\"note\">{}</p>", esc(&note)));
    }
    svg
}

/// The page.
pub fn page(
    source: &str,
    reports: &[PageReport],
    edges: &[Edge],
    flamegraphs: &[(&str, Vec<u8>)],
) -> String {
    let mut by_kind: BTreeMap<&str, Vec<&PageReport>> = BTreeMap::new();
    for r in reports {
        by_kind.entry(r.kind.as_str()).or_default().push(r);
    }
    let mut out = String::from(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\
         <meta charset=\"utf-8\"/><title>lockwatch report</title><style>\
         body{font-family:system-ui,sans-serif;margin:2em;max-width:110em;color:#222}\
         h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
         nav a{margin-right:1em}pre{background:#fafafa;border:1px solid #eee;padding:.8em;\
         overflow-x:auto;font-size:12px}article{margin:1em 0}ul.sites{font-family:monospace;\
         font-size:12px;color:#555}.count{color:#888;font-weight:normal}.graph{overflow:auto;\
         border:1px solid #eee}img.flamegraph{width:100%;border:1px solid #eee}\
         .note,.empty{color:#666}</style></head>\n<body>\n",
    );
    let _ = writeln!(
        out,
        "<h1>lockwatch report</h1><p>From <code>{}</code>: {} report(s).</p><nav>\
         <a href=\"#reports\">Reports</a><a href=\"#graph\">Lock order</a>\
         <a href=\"#contention\">Contention</a></nav>",
        esc(source),
        reports.len()
    );
    out.push_str("<section id=\"reports\"><h2>Reports</h2>\n");
    if reports.is_empty() {
        out.push_str("<p class=\"empty\">No reports: nothing was found.</p>\n");
    }
    for (kind, group) in &by_kind {
        let _ = writeln!(
            out,
            "<h3 id=\"kind-{kind}\">{kind} <span class=\"count\">({})</span></h3>",
            group.len()
        );
        for r in group {
            let _ = write!(
                out,
                "<article class=\"report\" data-kind=\"{}\"><h4>{}</h4><p class=\"process\">{}</p>\
                 <ul class=\"sites\">",
                esc(&r.kind),
                esc(&r.summary),
                esc(&r.process)
            );
            for s in &r.sites {
                let _ = write!(out, "<li>{}</li>", esc(s));
            }
            let _ = writeln!(out, "</ul><pre>{}</pre></article>", esc(&r.text));
        }
    }
    out.push_str("</section>\n<section id=\"graph\"><h2>Lock order</h2>\n");
    out.push_str(
        "<p>Each arrow is an order seen in the program: the lock at its head was taken while \
         the one at its tail was held. Red arrows are on a reported cycle. Hover for the sites \
         and the thread.</p><div class=\"graph\">",
    );
    out.push_str(&graph_svg(edges));
    out.push_str("</div></section>\n<section id=\"contention\"><h2>Contention</h2>\n");
    for (name, svg) in flamegraphs {
        let _ = writeln!(
            out,
            "<h3>{}</h3><img class=\"flamegraph\" alt=\"{}\" src=\"data:image/svg+xml;base64,{}\"/>",
            esc(name),
            esc(name),
            base64(svg)
        );
    }
    out.push_str("</section>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn dot_edges_read_lockwatch_dot() {
        let dot = "digraph lock_order {\n  rankdir=LR;\n  node [shape=box];\n  c1 [label=\"Mutex `a`\"];\n  c2 [label=\"Mutex \\\"b\\\"\"];\n  c1 -> c2 [label=\"x.rs:1:1 -> x.rs:2:2 (main)\", color=red, penwidth=2];\n  c2 -> c1 [label=\"y\"];\n}\n";
        let edges = dot_edges(dot);
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0].from, "Mutex `a`");
        assert_eq!(edges[0].to, "Mutex \"b\"");
        assert!(edges[0].cycle && !edges[1].cycle);
    }
}

//! The lock-order graph in Graphviz DOT, from the tracker's graphs.

use super::graph::LockRef;
use super::order::with_graphs;

/// The lock-order graph in Graphviz DOT: classes (and nested instances) as nodes labelled by
/// name or creation site, edges labelled by the sites where they were first seen, edges on a
/// reported cycle in red.
pub(crate) fn graph_dot() -> String {
    use std::fmt::Write as _;
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    with_graphs(|g| {
        let mut out = String::from(
            "digraph lock_order {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        );
        let mut nodes = std::collections::BTreeMap::new();
        let mut lines = Vec::new();
        for (instances, graph) in [(false, &g.classes), (true, &g.instances)] {
            for (from, to, witness) in graph.edges() {
                let (first, last) = (&witness[0], &witness[witness.len() - 1]);
                let name = |r: &LockRef| {
                    if instances {
                        (format!("i{}", r.id), format!("{} #{}", r.class, r.id))
                    } else {
                        (format!("c{}", r.class.id), r.class.to_string())
                    }
                };
                let (from_id, from_label) = name(&first.from());
                let (to_id, to_label) = name(&last.to());
                nodes.insert(from_id.clone(), from_label);
                nodes.insert(to_id.clone(), to_label);
                let label = format!("{} -> {} ({})", first.from_site, last.to_site, first.thread);
                let style = if g.cycle_edges.contains_key(&(instances, from, to)) {
                    ", color=red, fontcolor=red, penwidth=2"
                } else {
                    ""
                };
                lines.push(format!(
                    "  {from_id} -> {to_id} [label=\"{}\"{style}];\n",
                    esc(&label)
                ));
            }
        }
        for (id, label) in nodes {
            let _ = writeln!(out, "  {id} [label=\"{}\"];", esc(&label));
        }
        for line in lines {
            out.push_str(&line);
        }
        out.push_str("}\n");
        out
    })
}

//! The lock-order graph: which lock was ever taken while which other was held, with the
//! first witness of every edge, and the search for cycles that a new edge closes.
//!
//! Two graphs share one algorithm: the class graph (an order between different classes holds
//! for all their instances) and the instance graph (locks of one class nested in each other
//! are ordered per instance). A cycle that mixes both always contains a class cycle, so the
//! two never need to be searched together.
//!
//! Edges carry lockdep's four types (exclusive or shared tail, recursive or not head) and a
//! cycle is a deadlock only if it is *strong*: nowhere does a path enter a lock as a recursive
//! reader and leave it as a shared holder. Such graphs may legitimately contain weak cycles,
//! so no topological order exists to maintain incrementally (Pearce–Kelly, as in petgraph's
//! `Acyclic`, rejects every cycle); instead each *new* edge runs one bounded breadth-first
//! search. New edges are rare (each distinct order is seen once), so this stays off the hot
//! path.

use std::backtrace::Backtrace;
use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::Location;
use std::sync::Arc;

use super::class::LockClass;

/// lockdep's edge type, two bits: tail held shared (`S`, else `E`), head taken as a recursive
/// reader (`R`, else `N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct EdgeType(pub(crate) u8);

impl EdgeType {
    pub(crate) fn new(tail_shared: bool, head_recursive: bool) -> Self {
        EdgeType(((tail_shared as u8) << 1) | head_recursive as u8)
    }
    pub(crate) fn tail_shared(self) -> bool {
        self.0 & 2 != 0
    }
    pub(crate) fn head_recursive(self) -> bool {
        self.0 & 1 != 0
    }
    /// Whether a path may continue from an edge of type `self` into one of type `next`.
    fn chains_into(self, next: EdgeType) -> bool {
        !(self.head_recursive() && next.tail_shared())
    }
}

/// One lock as an end of an order step.
#[derive(Clone, Copy)]
pub(crate) struct LockRef {
    pub(crate) class: &'static LockClass,
    pub(crate) id: u64,
}

/// "`to` was taken at `to_site` while `from`, taken at `from_site`, was held".
pub(crate) struct Step {
    pub(crate) from: LockRef,
    pub(crate) to: LockRef,
    pub(crate) from_site: &'static Location<'static>,
    pub(crate) to_site: &'static Location<'static>,
    pub(crate) from_mode: &'static str,
    pub(crate) to_mode: &'static str,
    pub(crate) thread: Arc<str>,
    pub(crate) span: Option<&'static str>,
    pub(crate) backtrace: Option<Arc<Backtrace>>,
}

/// The first evidence of an edge: one step, or several when the edge was learned through a
/// lock that has since been dropped.
pub(crate) type Witness = Arc<[Arc<Step>]>;

#[derive(Default)]
struct Edge {
    by_type: [Option<Witness>; 4],
}

#[derive(Default)]
struct Node {
    out: HashMap<u64, Edge>,
    ins: HashSet<u64>,
}

/// A directed graph of typed, witnessed order edges over `u64` node ids.
#[derive(Default)]
pub(crate) struct OrderGraph {
    nodes: HashMap<u64, Node>,
}

/// A search state: a node, and the type of the edge the path entered it by (the start is
/// entered by the closing edge).
type State = (u64, EdgeType);

/// One edge of a found cycle.
pub(crate) struct CycleEdge {
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) witness: Witness,
}

impl OrderGraph {
    pub(crate) fn contains(&self, from: u64, to: u64, ty: EdgeType) -> bool {
        self.nodes
            .get(&from)
            .and_then(|n| n.out.get(&to))
            .is_some_and(|e| e.by_type[ty.0 as usize].is_some())
    }

    /// Inserts `from -> to` of type `ty`; returns false if it was already there.
    pub(crate) fn insert(&mut self, from: u64, to: u64, ty: EdgeType, witness: Witness) -> bool {
        let slot = &mut self
            .nodes
            .entry(from)
            .or_default()
            .out
            .entry(to)
            .or_default()
            .by_type[ty.0 as usize];
        if slot.is_some() {
            return false;
        }
        *slot = Some(witness);
        self.nodes.entry(to).or_default().ins.insert(from);
        true
    }

    /// The shortest strong path from `start` back to `goal` that, together with the edge
    /// `goal -> start` of type `closing`, forms a strong cycle.
    pub(crate) fn strong_path(
        &self,
        start: u64,
        goal: u64,
        closing: EdgeType,
    ) -> Option<Vec<CycleEdge>> {
        let mut came_from: HashMap<State, (State, Witness)> = HashMap::new();
        let mut queue: VecDeque<State> = VecDeque::new();
        let first = (start, closing);
        queue.push_back(first);
        let mut seen: HashSet<State> = HashSet::new();
        seen.insert(first);
        while let Some(state @ (node, entered_by)) = queue.pop_front() {
            if node == goal && state != first {
                if entered_by.chains_into(closing) {
                    return Some(Self::unwind(&came_from, state, first));
                }
                continue;
            }
            let Some(n) = self.nodes.get(&node) else {
                continue;
            };
            for (&next, edge) in &n.out {
                for (t, witness) in edge.by_type.iter().enumerate() {
                    let Some(witness) = witness else { continue };
                    let ty = EdgeType(t as u8);
                    if !entered_by.chains_into(ty) {
                        continue;
                    }
                    let next_state = (next, ty);
                    if seen.insert(next_state) {
                        came_from.insert(next_state, (state, witness.clone()));
                        queue.push_back(next_state);
                    }
                }
            }
        }
        None
    }

    fn unwind(
        came_from: &HashMap<State, (State, Witness)>,
        mut state: State,
        first: State,
    ) -> Vec<CycleEdge> {
        let mut path = Vec::new();
        while state != first {
            let (prev, witness) = &came_from[&state];
            path.push(CycleEdge {
                from: prev.0,
                to: state.0,
                witness: witness.clone(),
            });
            state = *prev;
        }
        path.reverse();
        path
    }

    /// Removes node `id`, replacing every strong two-step path `p -> id -> s` by an edge
    /// `p -> s` whose witness is both steps: what was learned through the lock outlives it.
    pub(crate) fn contract(&mut self, id: u64) {
        let Some(node) = self.nodes.remove(&id) else {
            return;
        };
        let mut preds = Vec::with_capacity(node.ins.len());
        for p in &node.ins {
            if let Some(pn) = self.nodes.get_mut(p) {
                if let Some(edge) = pn.out.remove(&id) {
                    preds.push((*p, edge));
                }
            }
        }
        for s in node.out.keys() {
            if let Some(sn) = self.nodes.get_mut(s) {
                sn.ins.remove(&id);
            }
        }
        for (p, pe) in &preds {
            for (s, se) in &node.out {
                if p == s {
                    continue;
                }
                for (t1, w1) in pe.by_type.iter().enumerate() {
                    let Some(w1) = w1 else { continue };
                    for (t2, w2) in se.by_type.iter().enumerate() {
                        let Some(w2) = w2 else { continue };
                        let (t1, t2) = (EdgeType(t1 as u8), EdgeType(t2 as u8));
                        if !t1.chains_into(t2) {
                            continue;
                        }
                        let ty = EdgeType::new(t1.tail_shared(), t2.head_recursive());
                        if !self.contains(*p, *s, ty) {
                            let joined: Witness = w1.iter().chain(w2.iter()).cloned().collect();
                            self.insert(*p, *s, ty, joined);
                        }
                    }
                }
            }
        }
        self.prune(
            preds
                .iter()
                .map(|(p, _)| *p)
                .chain(node.out.keys().copied()),
        );
    }

    /// Drops nodes left with no edges at all, so churn leaves nothing behind.
    fn prune(&mut self, candidates: impl Iterator<Item = u64>) {
        let candidates: Vec<u64> = candidates.collect();
        for c in candidates {
            if self
                .nodes
                .get(&c)
                .is_some_and(|n| n.out.is_empty() && n.ins.is_empty())
            {
                self.nodes.remove(&c);
            }
        }
    }

    /// Every edge with its first witness (any type), for export.
    pub(crate) fn edges(&self) -> Vec<(u64, u64, Witness)> {
        let mut out = Vec::new();
        for (from, node) in &self.nodes {
            for (to, edge) in &node.out {
                if let Some(w) = edge.by_type.iter().flatten().next() {
                    out.push((*from, *to, w.clone()));
                }
            }
        }
        out.sort_by_key(|(f, t, _)| (*f, *t));
        out
    }

    /// (nodes, edges), each edge type counted once.
    pub(crate) fn size(&self) -> (usize, usize) {
        let edges = self
            .nodes
            .values()
            .flat_map(|n| n.out.values())
            .map(|e| e.by_type.iter().filter(|w| w.is_some()).count())
            .sum();
        (self.nodes.len(), edges)
    }
}

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

/// "`to` was taken at `to_site` while `from`, taken at `from_site`, was held": the two
/// locks' ids, and the rest, which many steps share (see [`StepInfo`], reached through
/// `Deref`).
pub(crate) struct Step {
    from_id: u64,
    to_id: u64,
    info: Arc<StepInfo>,
}

impl Step {
    pub(crate) fn from(&self) -> LockRef {
        LockRef {
            class: self.info.from_class,
            id: self.from_id,
        }
    }

    pub(crate) fn to(&self) -> LockRef {
        LockRef {
            class: self.info.to_class,
            id: self.to_id,
        }
    }
}

impl std::ops::Deref for Step {
    type Target = StepInfo;

    fn deref(&self) -> &StepInfo {
        &self.info
    }
}

/// The first evidence of an edge: one step, or several when the edge was learned through a
/// lock that has since been dropped.
pub(crate) type Witness = Arc<[Arc<Step>]>;

/// A step without the ends' instance ids: what many edges share (every pair of accounts
/// nested at the same two sites in the same thread), so an edge stores it by reference.
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct StepInfo {
    pub(crate) from_class: &'static LockClass,
    pub(crate) to_class: &'static LockClass,
    pub(crate) from_site: &'static Location<'static>,
    pub(crate) to_site: &'static Location<'static>,
    pub(crate) from_mode: &'static str,
    pub(crate) to_mode: &'static str,
    pub(crate) thread: Arc<str>,
    pub(crate) span: Option<&'static str>,
    pub(crate) backtrace: Option<ById<Backtrace>>,
}

/// An `Arc` compared and hashed by address (backtraces are unique per capture).
pub(crate) struct ById<T>(pub(crate) Arc<T>);

impl<T> PartialEq for ById<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Eq for ById<T> {}

impl<T> std::hash::Hash for ById<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.0).hash(state);
    }
}

/// The step between the locks `from` and `to` (instance ids, or class ids in the class
/// graph).
pub(crate) fn step(info: &Arc<StepInfo>, from: u64, to: u64) -> Step {
    Step {
        from_id: from,
        to_id: to,
        info: info.clone(),
    }
}

/// What an edge keeps of its first witness: a shared single step (the ends are the edge's
/// own), or the steps of a path through dropped locks.
#[derive(Clone)]
pub(crate) enum Evidence {
    Direct(Arc<StepInfo>),
    Path(Witness),
}

impl Evidence {
    /// The witness of the edge `from -> to` that keeps this evidence.
    pub(crate) fn witness(&self, from: u64, to: u64) -> Witness {
        match self {
            Evidence::Direct(info) => Arc::from([Arc::new(step(info, from, to))]),
            Evidence::Path(steps) => steps.clone(),
        }
    }
}

/// One out-edge of one type.
struct OutEdge {
    to: u64,
    ty: EdgeType,
    evidence: Evidence,
}

#[derive(Default)]
struct Node {
    /// Out-edges, one entry per target and type. Small vectors grown one entry at a time
    /// while small: most locks nest with one or two others, and every byte here is paid per
    /// live lock.
    out: Vec<OutEdge>,
    /// Sources of in-edges.
    ins: Vec<u64>,
    /// Position in a topological order of the untyped graph (Pearce–Kelly), valid while the
    /// graph has no cycle at all.
    ord: u64,
}

/// Pushes onto a vector that lives per graph node: exact capacity while small.
fn push_small<T>(v: &mut Vec<T>, item: T) {
    if v.len() == v.capacity() && v.len() < 4 {
        v.reserve_exact(1);
    }
    v.push(item);
}

impl Node {
    fn has_target(&self, to: u64) -> bool {
        self.out.iter().any(|e| e.to == to)
    }

    fn edge(&self, to: u64, ty: EdgeType) -> Option<&OutEdge> {
        self.out.iter().find(|e| e.to == to && e.ty == ty)
    }
}

/// A directed graph of typed, witnessed order edges over `u64` node ids.
///
/// While the graph (ignoring edge types) is acyclic, a topological order is maintained
/// incrementally (Pearce–Kelly, as in petgraph's `Acyclic`): an edge that agrees with the
/// order cannot close a cycle and needs no search, and one that does not only searches the
/// nodes between its ends. Once some cycle exists (a reported one, or a weak one that
/// recursive reads allow), every new edge runs the typed search instead.
#[derive(Default)]
pub(crate) struct OrderGraph {
    /// Boxed: a map slot then costs 16 bytes instead of a node's 56 (the map keeps about
    /// 40% of its slots empty), and the node is allocated to size.
    nodes: HashMap<u64, Box<Node>>,
    next_ord: u64,
    /// Some cycle exists: the topological order is gone.
    cyclic: bool,
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
            .is_some_and(|n| n.edge(to, ty).is_some())
    }

    fn node(&mut self, id: u64) -> &mut Node {
        let next = &mut self.next_ord;
        self.nodes.entry(id).or_insert_with(|| {
            *next += 1;
            Box::new(Node {
                ord: *next,
                ..Node::default()
            })
        })
    }

    /// Inserts `from -> to` of type `ty` (no cycle search); returns false if it was already
    /// there. For edges implied by existing paths (contraction), which keep the order valid.
    fn insert(&mut self, from: u64, to: u64, ty: EdgeType, evidence: Evidence) -> bool {
        self.node(to);
        let node = self.node(from);
        if node.edge(to, ty).is_some() {
            return false;
        }
        push_small(&mut node.out, OutEdge { to, ty, evidence });
        let ins = &mut self.node(to).ins;
        if !ins.contains(&from) {
            push_small(ins, from);
        }
        true
    }

    /// Adds the edge `from -> to` of type `ty`. `None` if it was already known; otherwise
    /// `Some` of the strong cycle it closes, if any.
    pub(crate) fn add(
        &mut self,
        from: u64,
        to: u64,
        ty: EdgeType,
        evidence: Evidence,
    ) -> Option<Option<Vec<CycleEdge>>> {
        let untyped_new = self.nodes.get(&from).is_none_or(|n| !n.has_target(to));
        if !self.insert(from, to, ty, evidence) {
            return None;
        }
        if !self.cyclic {
            if !untyped_new || self.nodes[&from].ord < self.nodes[&to].ord {
                // Agrees with the topological order (or adds only a type to an edge of an
                // acyclic graph): no cycle can close.
                return Some(None);
            }
            if self.reorder(from, to) {
                return Some(None);
            }
            self.cyclic = true;
        }
        Some(self.strong_path(to, from, ty))
    }

    /// Pearce–Kelly: after adding `from -> to` against the order, restores a topological order
    /// by moving the nodes between them. Returns false if `to` reaches `from` (a cycle).
    fn reorder(&mut self, from: u64, to: u64) -> bool {
        let (lower, upper) = (self.nodes[&to].ord, self.nodes[&from].ord);
        // Forward from `to`, among nodes ordered before `from`.
        let mut forward = Vec::new();
        let mut seen = HashSet::from([to]);
        let mut stack = vec![to];
        while let Some(n) = stack.pop() {
            forward.push(n);
            for e in &self.nodes[&n].out {
                if e.to == from {
                    return false;
                }
                let ord = self.nodes[&e.to].ord;
                if ord < upper && seen.insert(e.to) {
                    stack.push(e.to);
                }
            }
        }
        // Backward from `from`, among nodes ordered after `to`.
        let mut backward = Vec::new();
        let mut stack = vec![from];
        seen.insert(from);
        while let Some(n) = stack.pop() {
            backward.push(n);
            for prev in &self.nodes[&n].ins {
                let ord = self.nodes[prev].ord;
                if ord > lower && seen.insert(*prev) {
                    stack.push(*prev);
                }
            }
        }
        // Everything that must precede `to` goes first, in its old relative order, then the
        // nodes reached from `to`; they reuse the same positions.
        let by_ord =
            |v: &mut Vec<u64>, nodes: &HashMap<u64, Box<Node>>| v.sort_by_key(|n| nodes[n].ord);
        by_ord(&mut backward, &self.nodes);
        by_ord(&mut forward, &self.nodes);
        let mut slots: Vec<u64> = backward
            .iter()
            .chain(forward.iter())
            .map(|n| self.nodes[n].ord)
            .collect();
        slots.sort_unstable();
        for (n, ord) in backward.iter().chain(forward.iter()).zip(slots) {
            if let Some(node) = self.nodes.get_mut(n) {
                node.ord = ord;
            }
        }
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
        let mut came_from: HashMap<State, (State, Evidence)> = HashMap::new();
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
            for e in &n.out {
                if !entered_by.chains_into(e.ty) {
                    continue;
                }
                let next_state = (e.to, e.ty);
                if seen.insert(next_state) {
                    came_from.insert(next_state, (state, e.evidence.clone()));
                    queue.push_back(next_state);
                }
            }
        }
        None
    }

    fn unwind(
        came_from: &HashMap<State, (State, Evidence)>,
        mut state: State,
        first: State,
    ) -> Vec<CycleEdge> {
        let mut path = Vec::new();
        while state != first {
            let (prev, evidence) = &came_from[&state];
            path.push(CycleEdge {
                from: prev.0,
                to: state.0,
                witness: evidence.witness(prev.0, state.0),
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
            self.shrink();
            return;
        };
        // The in-edges into `id`, taken out of their sources.
        let mut preds: Vec<(u64, OutEdge)> = Vec::new();
        for p in &node.ins {
            if let Some(pn) = self.nodes.get_mut(p) {
                let mut i = 0;
                while i < pn.out.len() {
                    if pn.out[i].to == id {
                        preds.push((*p, pn.out.swap_remove(i)));
                    } else {
                        i += 1;
                    }
                }
                pn.out.shrink_to_fit();
            }
        }
        for e in &node.out {
            if let Some(sn) = self.nodes.get_mut(&e.to) {
                sn.ins.retain(|p| *p != id);
                sn.ins.shrink_to_fit();
            }
        }
        for (p, pe) in &preds {
            for se in &node.out {
                if *p == se.to || !pe.ty.chains_into(se.ty) {
                    continue;
                }
                let ty = EdgeType::new(pe.ty.tail_shared(), se.ty.head_recursive());
                if !self.contains(*p, se.to, ty) {
                    let joined: Witness = pe
                        .evidence
                        .witness(*p, id)
                        .iter()
                        .chain(se.evidence.witness(id, se.to).iter())
                        .cloned()
                        .collect();
                    self.insert(*p, se.to, ty, Evidence::Path(joined));
                }
            }
        }
        self.prune(
            preds
                .iter()
                .map(|(p, _)| *p)
                .chain(node.out.iter().map(|e| e.to)),
        );
    }

    /// Drops nodes left with no edges at all, and gives memory back once the graph has shrunk
    /// well below its peak, so churn leaves nothing behind.
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
        self.shrink();
    }

    fn shrink(&mut self) {
        if self.nodes.len() * 4 < self.nodes.capacity() {
            self.nodes.shrink_to_fit();
        }
    }

    /// Every edge with its first witness (any type), for export.
    pub(crate) fn edges(&self) -> Vec<(u64, u64, Witness)> {
        let mut out: Vec<(u64, u64, Witness)> = Vec::new();
        for (from, node) in &self.nodes {
            let first = out.len();
            for e in &node.out {
                if !out[first..].iter().any(|(_, t, _)| *t == e.to) {
                    out.push((*from, e.to, e.evidence.witness(*from, e.to)));
                }
            }
        }
        out.sort_by_key(|(f, t, _)| (*f, *t));
        out
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// (nodes, edges), each edge type counted once.
    pub(crate) fn size(&self) -> (usize, usize) {
        let edges = self.nodes.values().map(|n| n.out.len()).sum();
        (self.nodes.len(), edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::Location;

    fn witness() -> Evidence {
        static CLASS: std::sync::OnceLock<&'static LockClass> = std::sync::OnceLock::new();
        let class = *CLASS.get_or_init(|| {
            super::super::class::intern(
                super::super::class::LockKind::Mutex,
                Location::caller(),
                Some("graph-test"),
            )
        });
        Evidence::Direct(Arc::new(StepInfo {
            from_class: class,
            to_class: class,
            from_site: Location::caller(),
            to_site: Location::caller(),
            from_mode: "lock",
            to_mode: "lock",
            thread: Arc::from("t"),
            span: None,
            backtrace: None,
        }))
    }

    /// Whether `to` reaches `from` in `edges` (brute force).
    fn reaches(edges: &HashSet<(u64, u64)>, start: u64, goal: u64) -> bool {
        let mut stack = vec![start];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if n == goal {
                return true;
            }
            if seen.insert(n) {
                stack.extend(edges.iter().filter(|(f, _)| *f == n).map(|(_, t)| *t));
            }
        }
        false
    }

    #[test]
    fn incremental_order_agrees_with_brute_force_reachability() {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let exclusive = EdgeType::new(false, false);
        for round in 0..200 {
            let nodes = 3 + round % 12;
            let mut graph = OrderGraph::default();
            let mut edges = HashSet::new();
            for _ in 0..nodes * 3 {
                let (from, to) = (next() % nodes, next() % nodes);
                if from == to {
                    continue;
                }
                let closes = !edges.contains(&(from, to)) && reaches(&edges, to, from);
                let result = graph.add(from, to, exclusive, witness());
                match result {
                    None => assert!(edges.contains(&(from, to))),
                    Some(cycle) => {
                        assert_eq!(cycle.is_some(), closes, "round {round}: {from}->{to}")
                    }
                }
                edges.insert((from, to));
            }
        }
    }
}

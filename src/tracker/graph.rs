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
//! reader and leave it as a shared holder. While the graph (edge types aside) has no cycle at
//! all, a topological order is kept incrementally (Pearce–Kelly), so an edge that agrees with
//! it needs no search; once a cycle exists (a weak one is legal, which is why petgraph's
//! `Acyclic`, rejecting every cycle, does not fit), each *new* edge runs one bounded search
//! for a strong path back. New edges are rare (each distinct order is seen once), so this
//! stays off the hot path.

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
    pub(crate) backtrace: Option<ById<super::trace::Trace>>,
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
/// own), or the steps of a path through dropped locks. One pointer, so that an edge record
/// stays small.
#[derive(Clone)]
pub(crate) struct Evidence(Arc<Kind>);

enum Kind {
    Direct(Arc<StepInfo>),
    Path(Witness),
}

impl Evidence {
    pub(crate) fn direct(info: Arc<StepInfo>) -> Self {
        Evidence(Arc::new(Kind::Direct(info)))
    }

    pub(crate) fn path(steps: Witness) -> Self {
        Evidence(Arc::new(Kind::Path(steps)))
    }

    /// The witness of the edge `from -> to` that keeps this evidence.
    pub(crate) fn witness(&self, from: u64, to: u64) -> Witness {
        match &*self.0 {
            Kind::Direct(info) => Arc::from([Arc::new(step(info, from, to))]),
            Kind::Path(steps) => steps.clone(),
        }
    }

    /// Whether some edge besides this handle keeps it.
    pub(crate) fn in_use(&self) -> bool {
        Arc::strong_count(&self.0) > 1
    }
}

/// A node's place in the graph's arena. Locks and classes keep their own (0: not a node), so
/// the graph needs no map from ids to nodes.
pub(crate) type Slot = u32;

/// No edge (the end of a list).
const NIL: u32 = 0;

/// The two high bits of an edge's `from_ty` word hold its type; nodes are fewer than 2^30.
const TY_SHIFT: u32 = 30;
const SLOT_MASK: u32 = (1 << TY_SHIFT) - 1;

/// One node: the lock (or class) id, its place in a topological order, and the heads of its
/// out- and in-edge lists. 24 bytes; a free slot has id 0.
#[derive(Clone, Copy, Default)]
struct Node {
    id: u64,
    /// Position in a topological order of the untyped graph (Pearce–Kelly), valid while the
    /// graph has no cycle at all.
    ord: u64,
    first_out: u32,
    first_in: u32,
}

/// One edge of one type, on its source's out-list and its target's in-list. 24 bytes; a free
/// record has no evidence.
struct Edge {
    /// `ty << 30 | from`.
    from_ty: u32,
    to: u32,
    next_out: u32,
    next_in: u32,
    evidence: Option<Evidence>,
}

/// Which of a node's two edge lists.
#[derive(Clone, Copy)]
enum List {
    Out,
    In,
}

impl List {
    fn head(self, node: &Node) -> &u32 {
        match self {
            List::Out => &node.first_out,
            List::In => &node.first_in,
        }
    }

    fn head_mut(self, node: &mut Node) -> &mut u32 {
        match self {
            List::Out => &mut node.first_out,
            List::In => &mut node.first_in,
        }
    }

    fn next(self, edge: &Edge) -> &u32 {
        match self {
            List::Out => &edge.next_out,
            List::In => &edge.next_in,
        }
    }

    fn next_mut(self, edge: &mut Edge) -> &mut u32 {
        match self {
            List::Out => &mut edge.next_out,
            List::In => &mut edge.next_in,
        }
    }
}

impl Edge {
    fn from(&self) -> Slot {
        self.from_ty & SLOT_MASK
    }

    fn ty(&self) -> EdgeType {
        EdgeType((self.from_ty >> TY_SHIFT) as u8)
    }
}

/// A directed graph of typed, witnessed order edges, in an arena: nodes and edges are records
/// in two vectors addressed by 32-bit indices, each node heading linked lists of its out- and
/// in-edges. Every live lock nested in its own class is a node of the instance graph, so a
/// node and an edge cost 24 bytes each and nothing else.
///
/// While the graph (ignoring edge types) is acyclic, a topological order is maintained
/// incrementally (Pearce–Kelly, as in petgraph's `Acyclic`): an edge that agrees with the
/// order cannot close a cycle and needs no search, and one that does not only searches the
/// nodes between its ends. Once some cycle exists (a reported one, or a weak one that
/// recursive reads allow), every new edge runs the typed search instead.
#[derive(Default)]
pub(crate) struct OrderGraph {
    /// Index 0 is a placeholder, so that slot 0 can mean "not a node".
    nodes: Vec<Node>,
    free_nodes: Vec<u32>,
    /// Index 0 is a placeholder: `NIL`.
    edges: Vec<Edge>,
    free_edges: Vec<u32>,
    live_nodes: usize,
    live_edges: usize,
    /// Records of removed edges still on one list (their other end's), awaiting a sweep.
    dead_edges: usize,
    next_ord: u64,
    /// Some cycle exists: the topological order is gone.
    cyclic: bool,
}

/// A search state: a node, and the type of the edge the path entered it by (the start is
/// entered by the closing edge).
type State = (Slot, EdgeType);

/// What [`OrderGraph::add`] did with an edge.
pub(crate) enum Added {
    /// The edge (of that type) was there already.
    Known,
    /// A new edge that closes no strong cycle.
    New,
    /// A new edge closing a strong cycle: the path back from its head to its tail.
    ClosesCycle(Vec<CycleEdge>),
}

/// One edge of a found cycle, by the ids of its ends.
pub(crate) struct CycleEdge {
    pub(crate) from: u64,
    pub(crate) to: u64,
    pub(crate) witness: Witness,
}

/// Dead edge records tolerated beyond the live nodes and edges before a sweep (none in unit
/// tests, so that their random graphs sweep often).
const SWEEP_SLACK: usize = if cfg!(test) { 0 } else { 64 };

/// Free records tolerated beyond the live ones before the arenas give memory back.
const SHRINK_SLACK: usize = if cfg!(test) { 0 } else { 1024 };

/// Shrinks `v` once a quarter of its capacity or less is in use.
fn shrink<T>(v: &mut Vec<T>) {
    if v.len() < v.capacity() / 4 {
        v.shrink_to_fit();
    }
}

/// Pushes onto an arena vector, growing it by an eighth at a time: the arenas hold one record
/// per live nested lock, and doubling would leave up to half of them empty.
fn push_record<T>(v: &mut Vec<T>, item: T) -> u32 {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 8).max(4));
    }
    v.push(item);
    (v.len() - 1) as u32
}

impl OrderGraph {
    /// A new node for `id` (not 0).
    pub(crate) fn add_node(&mut self, id: u64) -> Slot {
        if self.nodes.is_empty() {
            push_record(&mut self.nodes, Node::default());
            push_record(
                &mut self.edges,
                Edge {
                    from_ty: 0,
                    to: 0,
                    next_out: NIL,
                    next_in: NIL,
                    evidence: None,
                },
            );
        }
        self.next_ord += 1;
        let node = Node {
            id,
            ord: self.next_ord,
            first_out: NIL,
            first_in: NIL,
        };
        self.live_nodes += 1;
        // Slots beyond the arena's end were cut off with it (see `give_back`).
        while let Some(slot) = self.free_nodes.pop() {
            if (slot as usize) < self.nodes.len() {
                self.nodes[slot as usize] = node;
                return slot;
            }
        }
        push_record(&mut self.nodes, node)
    }

    /// The id of the node in `slot`.
    fn id(&self, slot: Slot) -> u64 {
        self.nodes[slot as usize].id
    }

    /// Whether `slot` is the live node of `id` (a slot read from a held-stack entry whose lock
    /// was dropped elsewhere may be free, or another lock's by now).
    pub(crate) fn is_node_of(&self, slot: Slot, id: u64) -> bool {
        slot != 0 && self.nodes.get(slot as usize).is_some_and(|n| n.id == id)
    }

    /// Every record on `slot`'s out-list or in-list, dead ones included, with their indices.
    fn raw_list(&self, slot: Slot, list: List) -> impl Iterator<Item = (u32, &Edge)> + '_ {
        let mut e = *list.head(&self.nodes[slot as usize]);
        std::iter::from_fn(move || {
            (e != NIL).then(|| {
                let at = e;
                let edge = &self.edges[at as usize];
                e = *list.next(edge);
                (at, edge)
            })
        })
    }

    /// The live edges on `slot`'s out-list or in-list, with their indices.
    fn list(&self, slot: Slot, list: List) -> impl Iterator<Item = (u32, &Edge)> + '_ {
        self.raw_list(slot, list)
            .filter(|(_, e)| e.evidence.is_some())
    }

    fn outs(&self, slot: Slot) -> impl Iterator<Item = (u32, &Edge)> + '_ {
        self.list(slot, List::Out)
    }

    fn ins(&self, slot: Slot) -> impl Iterator<Item = (u32, &Edge)> + '_ {
        self.list(slot, List::In)
    }

    pub(crate) fn contains(&self, from: Slot, to: Slot, ty: EdgeType) -> bool {
        self.find(from, to, |e| e.ty() == ty)
    }

    /// Whether an edge `from -> to` that satisfies `matches` exists. Such an edge is on both
    /// `from`'s out-list and `to`'s in-list, so walking the two in step finds it (or ends)
    /// within the shorter list: a lock with many children, or many parents, costs nothing
    /// extra to each of them.
    fn find(&self, from: Slot, to: Slot, matches: impl Fn(&Edge) -> bool) -> bool {
        let (mut outs, mut ins) = (self.outs(from), self.ins(to));
        loop {
            match (outs.next(), ins.next()) {
                (Some((_, o)), Some((_, i))) => {
                    if (o.to == to && matches(o)) || (i.from() == from && matches(i)) {
                        return true;
                    }
                }
                // One list is done, and it would have held the edge.
                _ => return false,
            }
        }
    }

    /// Inserts `from -> to` of type `ty` (no cycle search); returns false if it was already
    /// there. For edges implied by existing paths (contraction), which keep the order valid.
    fn insert(&mut self, from: Slot, to: Slot, ty: EdgeType, evidence: Evidence) -> bool {
        // A lock is never ordered after itself (re-taking it is checked before any edge); a
        // loop would also sit on both of the node's lists at once.
        if from == to || self.contains(from, to, ty) {
            return false;
        }
        let edge = Edge {
            from_ty: (u32::from(ty.0) << TY_SHIFT) | from,
            to,
            next_out: self.nodes[from as usize].first_out,
            next_in: self.nodes[to as usize].first_in,
            evidence: Some(evidence),
        };
        let at = match self.free_edges.pop() {
            Some(at) => {
                self.edges[at as usize] = edge;
                at
            }
            None => push_record(&mut self.edges, edge),
        };
        self.nodes[from as usize].first_out = at;
        self.nodes[to as usize].first_in = at;
        self.live_edges += 1;
        true
    }

    /// Adds the edge `from -> to` of type `ty`, and says what it did.
    pub(crate) fn add(&mut self, from: Slot, to: Slot, ty: EdgeType, evidence: Evidence) -> Added {
        let untyped_new = !self.find(from, to, |_| true);
        if !self.insert(from, to, ty, evidence) {
            return Added::Known;
        }
        if !self.cyclic {
            let (f, t) = (&self.nodes[from as usize], &self.nodes[to as usize]);
            if !untyped_new || f.ord < t.ord {
                // Agrees with the topological order (or adds only a type to an edge of an
                // acyclic graph): no cycle can close.
                return Added::New;
            }
            if self.reorder(from, to) {
                return Added::New;
            }
            self.cyclic = true;
        }
        match self.strong_path(to, from, ty) {
            Some(path) => Added::ClosesCycle(path),
            None => Added::New,
        }
    }

    /// Pearce–Kelly: after adding `from -> to` against the order, restores a topological order
    /// by moving the nodes between them. Returns false if `to` reaches `from` (a cycle).
    fn reorder(&mut self, from: Slot, to: Slot) -> bool {
        let (lower, upper) = (self.nodes[to as usize].ord, self.nodes[from as usize].ord);
        // Forward from `to`, among nodes ordered before `from`.
        let mut forward = Vec::new();
        let mut seen = HashSet::from([to]);
        let mut stack = vec![to];
        while let Some(n) = stack.pop() {
            forward.push(n);
            for (_, e) in self.outs(n) {
                if e.to == from {
                    return false;
                }
                if self.nodes[e.to as usize].ord < upper && seen.insert(e.to) {
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
            for (_, e) in self.ins(n) {
                let prev = e.from();
                if self.nodes[prev as usize].ord > lower && seen.insert(prev) {
                    stack.push(prev);
                }
            }
        }
        // Everything that must precede `to` goes first, in its old relative order, then the
        // nodes reached from `to`; they reuse the same positions.
        backward.sort_by_key(|n| self.nodes[*n as usize].ord);
        forward.sort_by_key(|n| self.nodes[*n as usize].ord);
        let mut positions: Vec<u64> = backward
            .iter()
            .chain(forward.iter())
            .map(|n| self.nodes[*n as usize].ord)
            .collect();
        positions.sort_unstable();
        for (n, ord) in backward.iter().chain(forward.iter()).zip(positions) {
            self.nodes[*n as usize].ord = ord;
        }
        true
    }

    /// The shortest strong path from `start` back to `goal` that, together with the edge
    /// `goal -> start` of type `closing`, forms a strong cycle.
    pub(crate) fn strong_path(
        &self,
        start: Slot,
        goal: Slot,
        closing: EdgeType,
    ) -> Option<Vec<CycleEdge>> {
        let mut came_from: HashMap<State, (State, u32)> = HashMap::new();
        let mut queue: VecDeque<State> = VecDeque::new();
        let first = (start, closing);
        queue.push_back(first);
        let mut seen: HashSet<State> = HashSet::new();
        seen.insert(first);
        while let Some(state @ (node, entered_by)) = queue.pop_front() {
            if node == goal && state != first {
                if entered_by.chains_into(closing) {
                    return Some(self.unwind(&came_from, state, first));
                }
                continue;
            }
            for (at, e) in self.outs(node) {
                if !entered_by.chains_into(e.ty()) {
                    continue;
                }
                let next_state = (e.to, e.ty());
                if seen.insert(next_state) {
                    came_from.insert(next_state, (state, at));
                    queue.push_back(next_state);
                }
            }
        }
        None
    }

    fn unwind(
        &self,
        came_from: &HashMap<State, (State, u32)>,
        mut state: State,
        first: State,
    ) -> Vec<CycleEdge> {
        let mut path = Vec::new();
        while state != first {
            let (prev, at) = came_from[&state];
            let (from, to) = (self.id(prev.0), self.id(state.0));
            if let Some(evidence) = &self.edges[at as usize].evidence {
                path.push(CycleEdge {
                    from,
                    to,
                    witness: evidence.witness(from, to),
                });
            }
            state = prev;
        }
        path.reverse();
        path
    }

    /// Frees record `at`, on no list any more.
    fn free_edge(&mut self, at: u32) {
        self.edges[at as usize].evidence = None;
        self.free_edges.push(at);
    }

    /// Gives freed records back to the allocator, each at O(1) amortized: free node slots at
    /// the arena's end are cut off (a live lock keeps its slot, so only those can go), and once
    /// free edge records outnumber the live ones the edge arena is rebuilt with the live only.
    /// Both arenas then shrink when a quarter of their capacity or less is in use.
    #[cold]
    #[inline(never)]
    fn give_back(&mut self) {
        let before = self.nodes.len();
        // Slot 0 is the placeholder; some node is live (the caller checked).
        while self.nodes.len() > 1 && self.nodes.last().is_some_and(|n| n.id == 0) {
            self.nodes.pop();
        }
        // Free-list entries for slots cut off go once they outnumber the valid ones.
        let valid = self.nodes.len() - 1 - self.live_nodes;
        let stale = self.free_nodes.len().saturating_sub(valid);
        if self.nodes.len() < before && stale > valid + SHRINK_SLACK {
            let len = self.nodes.len();
            self.free_nodes.retain(|&slot| (slot as usize) < len);
            shrink(&mut self.free_nodes);
        }
        shrink(&mut self.nodes);
        if self.free_edges.len() > self.live_edges + SHRINK_SLACK {
            self.rebuild_edges();
        }
    }

    /// The edge arena anew, with the live edges only (dead ones swept first): every list's
    /// links renumbered.
    #[cold]
    #[inline(never)]
    fn rebuild_edges(&mut self) {
        if self.dead_edges > 0 {
            self.sweep();
        }
        let mut renumber = vec![NIL; self.edges.len()];
        let mut edges = Vec::with_capacity(self.live_edges + 1);
        for (at, e) in self.edges.iter_mut().enumerate() {
            if at == 0 || e.evidence.is_some() {
                renumber[at] = edges.len() as u32;
                edges.push(Edge {
                    evidence: e.evidence.take(),
                    ..*e
                });
            }
        }
        for e in &mut edges {
            e.next_out = renumber[e.next_out as usize];
            e.next_in = renumber[e.next_in as usize];
        }
        for n in &mut self.nodes {
            n.first_out = renumber[n.first_out as usize];
            n.first_in = renumber[n.first_in as usize];
        }
        self.edges = edges;
        self.free_edges = Vec::new();
    }

    /// Takes every dead record off the list it still sits on, and frees it. Run when the dead
    /// outnumber the live, so each dead record costs O(1) amortized.
    #[cold]
    #[inline(never)]
    fn sweep(&mut self) {
        for slot in 1..self.nodes.len() as Slot {
            if self.nodes[slot as usize].id == 0 {
                continue;
            }
            for list in [List::Out, List::In] {
                let mut prev = NIL;
                let mut e = *list.head(&self.nodes[slot as usize]);
                while e != NIL {
                    let next = *list.next(&self.edges[e as usize]);
                    if self.edges[e as usize].evidence.is_some() {
                        prev = e;
                    } else {
                        if prev == NIL {
                            *list.head_mut(&mut self.nodes[slot as usize]) = next;
                        } else {
                            *list.next_mut(&mut self.edges[prev as usize]) = next;
                        }
                        self.free_edge(e);
                        self.dead_edges -= 1;
                    }
                    e = next;
                }
            }
        }
    }

    /// Removes the node in `slot`, replacing every strong two-step path `p -> it -> s` by an
    /// edge `p -> s` whose witness is both steps: what was learned through the lock outlives
    /// it.
    pub(crate) fn contract(&mut self, slot: Slot) {
        let id = self.id(slot);
        let ins: Vec<(Slot, EdgeType, Evidence)> = self
            .ins(slot)
            .filter_map(|(_, e)| Some((e.from(), e.ty(), e.evidence.clone()?)))
            .collect();
        let outs: Vec<(Slot, EdgeType, Evidence)> = self
            .outs(slot)
            .filter_map(|(_, e)| Some((e.to, e.ty(), e.evidence.clone()?)))
            .collect();
        // This node's lists go with it. A live edge on them stays, dead, on its other end's
        // list until that list is swept (unlinking it now would walk that whole list: a lock
        // with many children would pay for each); a dead one was waiting only for this list.
        let records: Vec<(u32, bool)> = self
            .raw_list(slot, List::In)
            .chain(self.raw_list(slot, List::Out))
            .map(|(at, e)| (at, e.evidence.is_some()))
            .collect();
        for (at, live) in records {
            if live {
                self.edges[at as usize].evidence = None;
                self.live_edges -= 1;
                self.dead_edges += 1;
            } else {
                self.free_edge(at);
                self.dead_edges -= 1;
            }
        }
        for (p, t1, w1) in &ins {
            for (s, t2, w2) in &outs {
                if p == s || !t1.chains_into(*t2) {
                    continue;
                }
                let ty = EdgeType::new(t1.tail_shared(), t2.head_recursive());
                if !self.contains(*p, *s, ty) {
                    let (pid, sid) = (self.id(*p), self.id(*s));
                    let joined: Witness = w1
                        .witness(pid, id)
                        .iter()
                        .chain(w2.witness(id, sid).iter())
                        .cloned()
                        .collect();
                    self.insert(*p, *s, ty, Evidence::path(joined));
                }
            }
        }
        self.nodes[slot as usize] = Node::default();
        self.free_nodes.push(slot);
        self.live_nodes -= 1;
        if self.live_nodes == 0 {
            // Nothing left: give the arenas back.
            *self = OrderGraph::default();
        } else {
            if self.dead_edges > SWEEP_SLACK + self.live_nodes + self.live_edges {
                self.sweep();
            }
            self.give_back();
        }
    }

    /// Every edge with its first witness (any type), by the ids of its ends, for export.
    pub(crate) fn edges(&self) -> Vec<(u64, u64, Witness)> {
        let mut out: Vec<(u64, u64, Witness)> = Vec::new();
        for (slot, node) in self.nodes.iter().enumerate().skip(1) {
            if node.id == 0 {
                continue;
            }
            for (_, e) in self.outs(slot as Slot) {
                let to = self.id(e.to);
                if let Some(evidence) = &e.evidence {
                    out.push((node.id, to, evidence.witness(node.id, to)));
                }
            }
        }
        // One per pair (of several types, the first on the list); a stable sort keeps it first.
        out.sort_by_key(|(f, t, _)| (*f, *t));
        out.dedup_by_key(|(f, t, _)| (*f, *t));
        out
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live_nodes == 0
    }

    /// (nodes, edges), each edge type counted once.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.live_nodes, self.live_edges)
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
                "",
            )
        });
        Evidence::direct(Arc::new(StepInfo {
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

    fn xorshift(mut rng: u64) -> impl FnMut() -> u64 {
        move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        }
    }

    #[test]
    fn a_lock_with_many_children_keeps_the_edges_of_dropped_ones_bounded() {
        let exclusive = EdgeType::new(false, false);
        let mut graph = OrderGraph::default();
        let parent = graph.add_node(1);
        let kids: Vec<Slot> = (0..1_000).map(|i| graph.add_node(i + 2)).collect();
        for &k in &kids {
            assert!(matches!(
                graph.add(parent, k, exclusive, witness()),
                Added::New
            ));
        }
        for &k in &kids {
            assert!(matches!(
                graph.add(parent, k, exclusive, witness()),
                Added::Known
            ));
        }
        for &k in &kids[..900] {
            graph.contract(k);
        }
        assert_eq!(graph.size(), (101, 100));
        assert_eq!(graph.outs(parent).count(), 100);
        // The dropped children's records wait on the parent's list only until a sweep.
        let limit = SWEEP_SLACK + 101 + 100;
        assert!(graph.dead_edges <= limit, "{} dead", graph.dead_edges);
        assert_eq!(
            graph.raw_list(parent, List::Out).count(),
            100 + graph.dead_edges
        );
        assert_eq!(
            graph.free_edges.len() + graph.live_edges + graph.dead_edges,
            graph.edges.len() - 1,
            "every record is live, dead or free"
        );
        // What is left still answers: a known edge, and the reverse closes a cycle.
        assert!(graph.contains(parent, kids[950], exclusive));
        assert!(matches!(
            graph.add(kids[950], parent, exclusive, witness()),
            Added::ClosesCycle(_)
        ));
        // A slot reused by a new node does not inherit a dropped child's edges.
        let fresh = graph.add_node(5_000);
        assert!(!graph.contains(parent, fresh, exclusive));
        assert!(matches!(
            graph.add(parent, fresh, exclusive, witness()),
            Added::New
        ));
        // Once the children are all gone, their memory is too, though the parent lives on.
        graph.contract(fresh);
        for &k in &kids[900..] {
            graph.contract(k);
        }
        assert_eq!(graph.size(), (1, 0));
        assert!(graph.nodes.len() <= 2, "{} node slots", graph.nodes.len());
        assert!(graph.nodes.capacity() < 64, "{}", graph.nodes.capacity());
        assert!(graph.edges.capacity() < 64, "{}", graph.edges.capacity());
        assert!(graph.free_nodes.len() <= 1, "{}", graph.free_nodes.len());
        // And the graph still works.
        let again = graph.add_node(6_000);
        assert!(matches!(
            graph.add(parent, again, exclusive, witness()),
            Added::New
        ));
        assert!(matches!(
            graph.add(again, parent, exclusive, witness()),
            Added::ClosesCycle(_)
        ));
    }

    #[test]
    fn incremental_order_agrees_with_brute_force_reachability() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        let exclusive = EdgeType::new(false, false);
        for round in 0..200 {
            let nodes = 3 + round % 12;
            let mut graph = OrderGraph::default();
            let slots: Vec<Slot> = (0..nodes).map(|n| graph.add_node(n + 1)).collect();
            let mut edges = HashSet::new();
            for _ in 0..nodes * 3 {
                let (from, to) = (next() % nodes, next() % nodes);
                if from == to {
                    continue;
                }
                let closes = !edges.contains(&(from, to)) && reaches(&edges, to, from);
                let result = graph.add(
                    slots[from as usize],
                    slots[to as usize],
                    exclusive,
                    witness(),
                );
                match result {
                    Added::Known => assert!(edges.contains(&(from, to))),
                    Added::New => assert!(!closes, "round {round}: {from}->{to}"),
                    Added::ClosesCycle(_) => assert!(closes, "round {round}: {from}->{to}"),
                }
                edges.insert((from, to));
            }
        }
    }

    /// Removing nodes keeps every order learned through them: which of the remaining nodes
    /// reach which is what it was, and the arena hands its records back.
    #[test]
    fn contraction_keeps_reachability_among_the_rest() {
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        let exclusive = EdgeType::new(false, false);
        for round in 0..200 {
            let nodes = 4 + round % 10;
            let mut graph = OrderGraph::default();
            let slots: Vec<Slot> = (0..nodes).map(|n| graph.add_node(n + 1)).collect();
            let mut edges = HashSet::new();
            for _ in 0..nodes * 2 {
                let (from, to) = (next() % nodes, next() % nodes);
                // Edges in one direction only: the graph stays acyclic, like a program that
                // never inverts its order.
                if from < to
                    && !matches!(
                        graph.add(
                            slots[from as usize],
                            slots[to as usize],
                            exclusive,
                            witness(),
                        ),
                        Added::Known
                    )
                {
                    edges.insert((from, to));
                }
            }
            let mut alive: Vec<u64> = (0..nodes).collect();
            while alive.len() > 2 {
                let gone = alive.remove((next() % alive.len() as u64) as usize);
                graph.contract(slots[gone as usize]);
                for &a in &alive {
                    for &b in &alive {
                        if a == b {
                            continue;
                        }
                        let expected = reaches(&edges, a, b);
                        let graph_edges: HashSet<(u64, u64)> = graph
                            .edges()
                            .into_iter()
                            .map(|(f, t, _)| (f - 1, t - 1))
                            .collect();
                        assert_eq!(
                            reaches(&graph_edges, a, b),
                            expected,
                            "round {round}: {a} -> {b} after removing {gone}"
                        );
                    }
                }
            }
            for gone in alive {
                graph.contract(slots[gone as usize]);
            }
            assert!(graph.is_empty());
            assert_eq!(graph.size(), (0, 0));
            assert_eq!(graph.nodes.capacity() + graph.edges.capacity(), 0);
        }
    }
}

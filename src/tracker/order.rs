//! The global order graph store: the class and instance graphs behind one lock, the cycles
//! reported (one per bug), and adding the edges of an acquisition. Only cold paths come here.

use super::*;

/// The global order graph. Only cold paths take this lock.
#[derive(Default)]
pub(super) struct Graphs {
    /// Nodes are classes; each class keeps its slot (`LockClass::node`).
    pub(super) classes: OrderGraph,
    /// Nodes are locks nested in another of their own class; each keeps its slot
    /// (`LockMeta::node`), or, until it learns it, `pending` does.
    pub(super) instances: OrderGraph,
    /// Instance nodes made for a lock this thread held but could not reach (a held lock is
    /// known by its row, which has no way back to the lock): by lock id. The holder's release
    /// hands the node to the lock (`adopt_node`); the entry stays for other holders whose
    /// entries predate the node, and goes with the lock.
    pending: HashMap<u64, Slot>,
    /// Every cycle reported, one per bug.
    cycles: Vec<ReportedCycle>,
    /// The index in `cycles` of each reported cycle's key (its classes and code sites).
    reported: HashMap<Vec<CycleStep>, usize>,
    /// Edges on a reported cycle, with the cycles (indices in `cycles`) through them:
    /// highlighted in the DOT export, and how a capture recognises in its own code a cycle
    /// that was reported before it began.
    pub(super) cycle_edges: HashMap<EdgeId, Vec<usize>>,
    /// The evidence instance edges share (class edges are few and keep their own), interned;
    /// pruned of unused entries as it grows, emptied with the instance graph.
    steps: HashMap<Arc<StepInfo>, Evidence>,
    /// The size of `steps` after its last pruning.
    steps_pruned: usize,
}

/// `Graphs::pending.len()`, readable without the graph lock: a dropped lock that never
/// learned a node looks there only when something is pending.
pub(super) static PENDING: AtomicUsize = AtomicUsize::new(0);

impl Graphs {
    /// The shared evidence for `info`.
    fn intern(&mut self, info: StepInfo) -> Evidence {
        if let Some(shared) = self.steps.get(&info) {
            return shared.clone();
        }
        if self.steps.len() >= 2 * self.steps_pruned.max(64) {
            // Evidence no edge keeps any more (its locks were dropped): gone, so that churn
            // leaves nothing behind.
            self.steps.retain(|_, e| e.in_use());
            self.steps.shrink_to_fit();
            self.steps_pruned = self.steps.len();
        }
        let info = Arc::new(info);
        let shared = Evidence::direct(info.clone());
        self.steps.insert(info, shared.clone());
        shared
    }

    /// The class graph's node for `class`, made on first use.
    fn class_node(&mut self, class: &LockClass) -> Slot {
        let slot = class.node.load(Relaxed);
        if slot != 0 {
            return slot;
        }
        let slot = self.classes.add_node(u64::from(class.id));
        class.node.store(slot, Relaxed);
        slot
    }

    /// The instance graph's node for the lock being acquired (`meta`), made on first use.
    fn acquired_node(&mut self, meta: &LockMeta, id: u64) -> Slot {
        let slot = meta.node.load(Relaxed);
        if slot != 0 {
            return slot;
        }
        // A node made for a holder stays in `pending` for the other holders (see
        // `adopt_node`).
        let slot = match self.pending.get(&id) {
            Some(&slot) => slot,
            None => self.instances.add_node(id),
        };
        meta.node.store(slot, Relaxed);
        slot
    }

    /// The instance graph's node for a lock this thread holds (`h`), made on first use; a
    /// node the row did not know yet is recorded in the row (and in `pending` until the
    /// lock learns it). `None` for a stale entry: its lock was dropped by another thread
    /// (a guard sent away, or forgotten), and so was its node.
    fn held_node(&mut self, h: &Held) -> Option<Slot> {
        if h.node != 0 {
            return self.instances.is_node_of(h.node, h.id).then_some(h.node);
        }
        let slot = match self.pending.get(&h.id) {
            Some(&slot) => slot,
            None => {
                let slot = self.instances.add_node(h.id);
                self.pending.insert(h.id, slot);
                PENDING.store(self.pending.len(), Relaxed);
                slot
            }
        };
        held::learn_node(h.id, slot);
        Some(slot)
    }

    fn take_pending(&mut self, id: u64) -> Option<Slot> {
        let slot = self.pending.remove(&id)?;
        if self.pending.is_empty() {
            self.pending = HashMap::new();
        }
        PENDING.store(self.pending.len(), Relaxed);
        Some(slot)
    }
}

/// An order edge as reports and captures know it: (in the instance graph?, from, to), by
/// class ids in the class graph and lock ids in the instance graph.
type EdgeId = (bool, u64, u64);

/// A reported cycle: its edges and the report that was made for it.
struct ReportedCycle {
    edges: Vec<EdgeId>,
    report: crate::report::Report,
}

/// One step of a cycle as it identifies the bug: the two classes and the two code sites.
/// Instances are left out, so the same inversion between other locks of the same classes
/// (the next pair of accounts) is the same bug.
type CycleStep = (u32, u32, SiteKey, SiteKey);
pub(super) type SiteKey = (&'static str, u32, u32);

pub(super) fn site_key(l: &'static Location<'static>) -> SiteKey {
    (l.file(), l.line(), l.column())
}

fn cycle_key<'a>(witnesses: impl Iterator<Item = &'a Witness>) -> Vec<CycleStep> {
    let mut key: Vec<CycleStep> = witnesses
        .flat_map(|w| w.iter())
        .map(|s| {
            (
                s.from().class.id,
                s.to().class.id,
                site_key(s.from_site),
                site_key(s.to_site),
            )
        })
        .collect();
    key.sort_unstable();
    key.dedup();
    key
}

static GRAPHS: parking_lot::Mutex<Option<Graphs>> = parking_lot::Mutex::new(None);

pub(super) fn with_graphs<R>(f: impl FnOnce(&mut Graphs) -> R) -> R {
    let mut guard = GRAPHS.lock();
    f(guard.get_or_insert_with(Graphs::default))
}

/// Where an order edge goes: the class graph between classes, the instance graph within one.
struct Endpoints {
    same_class: bool,
    /// The edge as reports and captures name it.
    edge: EdgeId,
    /// Its tail node, 0 for a stale held entry (its lock is gone: nothing to order from).
    from: Slot,
    to: Slot,
}

/// What a cycle-closing edge turned out to be.
enum CycleSeen {
    /// A bug not reported before: its report, to deliver.
    New(crate::report::Report),
    /// The same bug again (same classes and sites): the report made the first time.
    Again(crate::report::Report),
}

impl Graphs {
    /// The endpoints of the edge from the held lock `h` into the lock being acquired.
    fn endpoints(&mut self, meta: &LockMeta, me: Ident, h: &Held) -> Endpoints {
        if h.class.id == me.class.id {
            me.class.has_instance_edges.store(true, Relaxed);
            Endpoints {
                same_class: true,
                edge: (true, h.id, me.id),
                from: self.held_node(h).unwrap_or(0),
                to: self.acquired_node(meta, me.id),
            }
        } else {
            Endpoints {
                same_class: false,
                edge: (false, u64::from(h.class.id), u64::from(me.class.id)),
                from: self.class_node(h.class),
                to: self.class_node(me.class),
            }
        }
    }

    fn graph(&mut self, same_class: bool) -> &mut OrderGraph {
        if same_class {
            &mut self.instances
        } else {
            &mut self.classes
        }
    }

    /// Records the cycle that `edge` (first seen as `witness`) closes along `path`: a new bug
    /// is kept with the report `report` makes; a known one gives back its first report.
    fn note_cycle(
        &mut self,
        edge: EdgeId,
        witness: &Witness,
        path: &[CycleEdge],
        report: impl FnOnce() -> crate::report::Report,
    ) -> CycleSeen {
        let key = cycle_key(std::iter::once(witness).chain(path.iter().map(|e| &e.witness)));
        if let Some(&at) = self.reported.get(&key) {
            return CycleSeen::Again(self.cycles[at].report.clone());
        }
        let report = report();
        let at = self.cycles.len();
        let edges: Vec<EdgeId> = std::iter::once(edge)
            .chain(path.iter().map(|e| (edge.0, e.from, e.to)))
            .collect();
        for &e in &edges {
            self.cycle_edges.entry(e).or_default().push(at);
        }
        self.cycles.push(ReportedCycle {
            edges,
            report: report.clone(),
        });
        self.reported.insert(key, at);
        CycleSeen::New(report)
    }

    /// The reported cycles through `edge` whose every edge code in this thread's capture has
    /// now taken: reported before the capture began, shown again inside it.
    fn cycles_shown_in_capture(&self, edge: EdgeId) -> Vec<crate::report::Report> {
        self.cycle_edges
            .get(&edge)
            .into_iter()
            .flatten()
            .map(|&at| &self.cycles[at])
            .filter(|cycle| crate::report::capture_took(edge, &cycle.edges))
            .map(|cycle| cycle.report.clone())
            .collect()
    }
}

/// Adds the edges from `held` (innermost last) into `me` (the lock `meta`), reporting each
/// new strong cycle.
pub(super) fn add_edges(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
    held: &[Held],
) {
    let mut found = Vec::new();
    // Reports made before that code inside a capture on this thread has now shown again.
    let mut shown_again = Vec::new();
    let capturing = crate::report::capturing();
    let mut thread = None;
    let mut span = None;
    with_graphs(|g| {
        for h in held.iter().rev() {
            let ends = g.endpoints(meta, me, h);
            let ty = EdgeType::new(h.mode.holds_shared(), mode.enters_recursive());
            if ends.from != 0 {
                if !g.graph(ends.same_class).contains(ends.from, ends.to, ty) {
                    let info = StepInfo {
                        from_class: h.class,
                        to_class: me.class,
                        from_site: h.site,
                        to_site: site,
                        from_mode: h.method.as_str(),
                        to_mode: method.as_str(),
                        thread: thread.get_or_insert_with(held::thread_name).clone(),
                        span: *span.get_or_insert_with(current_span),
                        backtrace: super::trace::capture().map(ById),
                    };
                    // Instance edges share interned evidence; class edges are few.
                    let evidence = if ends.same_class {
                        g.intern(info)
                    } else {
                        Evidence::direct(Arc::new(info))
                    };
                    let added =
                        g.graph(ends.same_class)
                            .add(ends.from, ends.to, ty, evidence.clone());
                    #[cfg(feature = "redis")]
                    if !ends.same_class {
                        super::shared::learned(
                            h.class,
                            me.class,
                            h.site,
                            site,
                            h.method,
                            method,
                            h.mode.holds_shared(),
                            mode.enters_recursive(),
                        );
                    }
                    if let graph::Added::ClosesCycle(path) = added {
                        // The new step with the instances' own ids, for the report.
                        let witness = evidence.witness(h.id, me.id);
                        let report =
                            || explain::lock_order(me, method, site, held, &witness, &path);
                        match g.note_cycle(ends.edge, &witness, &path, report) {
                            CycleSeen::New(report) => found.push(report),
                            CycleSeen::Again(report) if capturing => shown_again.push(report),
                            CycleSeen::Again(_) => {}
                        }
                    }
                } else if capturing {
                    shown_again.extend(g.cycles_shown_in_capture(ends.edge));
                }
            }
            let (target, pred) = edge_key(h.id, h.class, h.mode, me, mode);
            held::remember_edge(target, pred);
        }
        // Every edge of this stack into the lock is in the graph now (or reported).
        meta.known_stack.store(StackPrint::of(mode, held), Relaxed);
    });
    for report in found {
        crate::report::deliver(report);
    }
    for report in shown_again {
        crate::report::recapture(&report);
    }
}

/// A holder's release hands the lock the instance node it got while held. The node stays in
/// `pending` too, until the lock is dropped: another holder whose entry was pushed before
/// the lock had a node (a second reader, or the next holder) finds it there, instead of
/// making the same lock a second node.
#[cold]
#[inline(never)]
pub(super) fn adopt_node(meta: &LockMeta, slot: Slot) {
    with_graphs(|_| {
        if meta.node.load(Relaxed) == 0 {
            meta.node.store(slot, Relaxed);
        }
    });
}

/// Drops a lock from the instance graph (its node `slot`, or the one pending for its id when
/// `slot` is 0), keeping what was learned through it.
#[cold]
#[inline(never)]
pub(super) fn forget_instance(id: u64, slot: Slot) {
    with_graphs(|g| {
        let slot = match slot {
            0 => match g.take_pending(id) {
                Some(slot) => slot,
                None => return,
            },
            slot => {
                g.take_pending(id);
                slot
            }
        };
        g.instances.contract(slot);
        if g.instances.is_empty() {
            // No nested instance left: neither is any step their edges shared.
            g.steps = HashMap::new();
            g.steps_pruned = 0;
        }
    });
}

fn current_span() -> Option<&'static str> {
    tracing::Span::current().metadata().map(|m| m.name())
}

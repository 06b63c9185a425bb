//! Order findings as data: what is being taken, what is held, and the cycle. The words are the
//! report renderer's.

use std::panic::Location;
use std::time::Duration;

use super::class::LockClass;
use super::graph::{CycleEdge, LockRef, Step, Witness};
use super::held::{thread_name, Held, Method, Mode};
use super::Ident;
use crate::report::{Acquisition, Finding, LockName, OrderStep, Report, Site};

/// A lock as reports name it: its class, and its instance id when `instance` is given.
pub(super) fn lock_name(class: &LockClass, instance: Option<u64>) -> LockName {
    LockName {
        kind: class.kind.as_str(),
        name: class.name,
        data: class.data,
        created: Site::of(class.site),
        instance,
    }
}

/// A held entry as an acquisition; `per_instance` names its instance.
pub(super) fn held(h: &Held, per_instance: bool, duration: Option<Duration>) -> Acquisition {
    Acquisition {
        lock: lock_name(h.class, per_instance.then_some(h.id)),
        method: h.method.as_str(),
        site: Site::of(h.site),
        trylock: h.trylock,
        duration,
        called_from: None,
    }
}

fn step(s: &Step, new: bool, per_instance: bool) -> OrderStep {
    let end = |lock: LockRef, mode: &'static str, site: &'static Location<'static>| Acquisition {
        lock: lock_name(lock.class, per_instance.then_some(lock.id)),
        method: mode,
        site: Site::of(site),
        trylock: false,
        duration: None,
        called_from: None,
    };
    let mut to = end(s.to(), s.to_mode, s.to_site);
    // The step's backtrace is the stack of its second acquisition.
    to.called_from = s
        .backtrace
        .as_ref()
        .and_then(|bt| bt.0.called_from(to.site));
    OrderStep {
        from: end(s.from(), s.from_mode, s.from_site),
        to,
        thread: s.thread.to_string(),
        new,
        span: s.span,
        backtrace: s.backtrace.as_ref().map(|bt| bt.0.render()),
    }
}

pub(super) fn lock_order(
    me: Ident,
    method: Method,
    site: &'static Location<'static>,
    held_now: &[Held],
    new_edge: &Witness,
    path: &[CycleEdge],
) -> Report {
    let per_instance = new_edge
        .iter()
        .all(|s| s.from().class.id == s.to().class.id);
    // The cycle in the order it happens: the known path, then the new edge closing it.
    let known = path.iter().flat_map(|e| e.witness.iter());
    let cycle = known
        .map(|s| step(s, false, per_instance))
        .chain(new_edge.iter().map(|s| step(s, true, per_instance)))
        .collect();
    Report::new(Finding::LockOrder {
        thread: thread_name().to_string(),
        acquiring: Acquisition {
            lock: lock_name(me.class, per_instance.then_some(me.id)),
            method: method.as_str(),
            site: Site::of(site),
            trylock: false,
            duration: None,
            // The new step's backtrace is this very acquisition's stack.
            called_from: new_edge
                .iter()
                .find_map(|s| s.backtrace.as_ref())
                .and_then(|bt| bt.0.called_from(Site::of(site))),
        },
        held: held_now
            .iter()
            .map(|h| held(h, per_instance, None))
            .collect(),
        cycle,
        per_instance,
    })
}

pub(super) fn self_deadlock(
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
    earlier: &Held,
    held_now: &[Held],
) -> Report {
    let needs_queued_writer = !matches!(
        (earlier.mode, mode),
        (Mode::Exclusive | Mode::Reentrant | Mode::Init, _)
            | (_, Mode::Exclusive | Mode::Upgradable | Mode::Init)
    );
    let trace = super::trace::capture();
    Report::new(Finding::SelfDeadlock {
        thread: thread_name().to_string(),
        acquiring: Acquisition {
            lock: lock_name(me.class, None),
            method: method.as_str(),
            site: Site::of(site),
            trylock: false,
            duration: None,
            called_from: trace.as_ref().and_then(|t| t.called_from(Site::of(site))),
        },
        earlier: held(earlier, false, None),
        held: held_now.iter().map(|h| held(h, false, None)).collect(),
        needs_queued_writer,
        backtrace: trace.map(|t| t.render()),
    })
}

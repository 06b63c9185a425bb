//! The words of order reports: what is being taken, what is held, the cycle, the scenario,
//! and the fix.

use std::fmt::Write as _;
use std::panic::Location;

use super::graph::{CycleEdge, LockRef, Step, Witness};
use super::held::{thread_name, Held, Mode};
use super::Ident;
use crate::report::{Report, ReportKind};

/// Names a lock: its class, plus which instance when the cycle is between locks of one class.
fn label(lock: LockRef, per_instance: bool) -> String {
    if per_instance {
        format!("{} (instance #{})", lock.class, lock.id)
    } else {
        lock.class.to_string()
    }
}

/// Short names (A, B, ...) for the locks of a cycle, with a legend.
struct Names {
    per_instance: bool,
    keys: Vec<u64>,
    labels: Vec<String>,
}

impl Names {
    fn new(per_instance: bool) -> Self {
        Names {
            per_instance,
            keys: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn key(&self, lock: LockRef) -> u64 {
        if self.per_instance {
            lock.id
        } else {
            lock.class.id as u64
        }
    }

    fn add(&mut self, lock: LockRef) {
        let key = self.key(lock);
        if !self.keys.contains(&key) {
            self.keys.push(key);
            self.labels.push(label(lock, self.per_instance));
        }
    }

    /// The short name of `lock`, or its full label if it is not part of the cycle.
    fn of(&self, lock: LockRef) -> String {
        match self.keys.iter().position(|k| *k == self.key(lock)) {
            Some(i) => letter(i),
            None => label(lock, self.per_instance),
        }
    }

    fn legend(&self, out: &mut String) {
        for (i, l) in self.labels.iter().enumerate() {
            let _ = writeln!(out, "    {} = {l}", letter(i));
        }
    }
}

fn letter(i: usize) -> String {
    let base = char::from(b'A' + (i % 26) as u8);
    if i < 26 {
        base.to_string()
    } else {
        format!("{base}{}", i / 26)
    }
}

fn taken(h: &Held) -> String {
    let how = if h.trylock { "try_" } else { "" };
    format!("{how}{}() at {}", h.mode.as_str(), h.site)
}

pub(super) fn lock_order(
    me: Ident,
    mode: Mode,
    site: &'static Location<'static>,
    held: &[Held],
    new_edge: &Witness,
    path: &[CycleEdge],
) -> Report {
    let thread = thread_name();
    let target = LockRef {
        class: me.class,
        id: me.id,
    };
    let per_instance = new_edge
        .iter()
        .all(|s| s.from().class.id == s.to().class.id);
    // The cycle in the order it happens: the known path, then the new edge closing it.
    let steps: Vec<&Step> = path
        .iter()
        .flat_map(|e| e.witness.iter())
        .chain(new_edge.iter())
        .map(|s| &**s)
        .collect();
    let new_from = steps.len() - new_edge.len();
    let mut names = Names::new(per_instance);
    names.add(target);
    for step in &steps {
        names.add(step.from());
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "lock order inversion (potential deadlock) in thread `{thread}`"
    );
    let _ = writeln!(
        out,
        "  acquiring {} with {}() at {}",
        names.of(target),
        mode.as_str(),
        site
    );
    out.push_str("  while holding:\n");
    for h in held.iter().rev() {
        let lock = LockRef {
            class: h.class,
            id: h.id,
        };
        let _ = writeln!(out, "    {}, taken with {}", names.of(lock), taken(h));
    }
    out.push_str("  where:\n");
    names.legend(&mut out);
    out.push_str("  this closes a cycle in the lock order:\n");
    for (i, step) in steps.iter().enumerate() {
        let when = if i >= new_from {
            "new here"
        } else {
            "first seen"
        };
        let _ = write!(
            out,
            "    {} -> {}  {when} in thread `{}`: {}() at {}, then {}() at {}",
            names.of(step.from()),
            names.of(step.to()),
            step.thread,
            step.from_mode,
            step.from_site,
            step.to_mode,
            step.to_site,
        );
        if let Some(span) = step.span {
            let _ = write!(out, " (in span `{span}`)");
        }
        out.push('\n');
        if let Some(bt) = &step.backtrace {
            out.push_str("      backtrace:\n");
            for line in bt.0.to_string().lines() {
                let _ = writeln!(out, "        {line}");
            }
        }
    }
    out.push_str("  how it deadlocks, if these run at once:\n");
    for step in &steps {
        let _ = writeln!(
            out,
            "    thread `{}` holds {} (taken at {}) and waits for {} (at {})",
            step.thread,
            names.of(step.from()),
            step.from_site,
            names.of(step.to()),
            step.to_site
        );
    }
    if per_instance {
        out.push_str(
            "  fix: locks of this class are nested in both orders; take them in one order \
             everywhere (for example by a key such as an id), or hold only one at a time",
        );
    } else {
        out.push_str(
            "  fix: take these locks in one order everywhere, or release one before taking \
             the other",
        );
    }
    let summary = format!(
        "lock order inversion: {} taken at {} closes a cycle of {} locks",
        label(target, per_instance),
        site,
        steps.len()
    );
    Report::new(ReportKind::LockOrder, thread.to_string(), summary, out)
}

pub(super) fn self_deadlock(
    me: Ident,
    mode: Mode,
    site: &'static Location<'static>,
    earlier: &Held,
    held: &[Held],
) -> Report {
    let thread = thread_name();
    let target = LockRef {
        class: me.class,
        id: me.id,
    };
    let what = match (earlier.mode, mode) {
        (Mode::Exclusive | Mode::Reentrant | Mode::Init, _)
        | (_, Mode::Exclusive | Mode::Upgradable | Mode::Init) => "this blocks forever",
        _ => "a writer queued in between makes this block forever",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "recursive locking (self-deadlock) in thread `{thread}`: {what}"
    );
    let _ = writeln!(
        out,
        "  acquiring {} with {}() at {}",
        label(target, false),
        mode.as_str(),
        site
    );
    let _ = writeln!(
        out,
        "  which this thread already holds: taken with {}() at {}",
        earlier.mode.as_str(),
        earlier.site
    );
    out.push_str("  locks held:\n");
    for h in held.iter().rev() {
        let lock = LockRef {
            class: h.class,
            id: h.id,
        };
        let _ = writeln!(out, "    {}, taken with {}", label(lock, false), taken(h));
    }
    out.push_str(
        "  fix: drop the first guard before locking again, pass the guard down instead of \
         re-locking, or use a reentrant lock (parking_lot `ReentrantMutex`, `read_recursive`)",
    );
    let summary = format!(
        "recursive locking: {} taken again at {} (first at {})",
        label(target, false),
        site,
        earlier.site
    );
    Report::new(ReportKind::LockOrder, thread.to_string(), summary, out)
}

//! The one place that turns a [`Finding`] into words: the one-line summary and the full
//! text that `Display`, the log and `reports.jsonl` show.

use std::fmt::Write as _;
use std::time::Duration;

use super::finding::{Acquisition, Doing, Finding, LockName};

/// `(summary, text)` of a finding.
pub(crate) fn render(finding: &Finding) -> (String, String) {
    match finding {
        Finding::LockOrder {
            thread,
            acquiring,
            held,
            cycle,
            per_instance,
        } => lock_order(thread, acquiring, held, cycle, *per_instance),
        Finding::SelfDeadlock {
            thread,
            acquiring,
            earlier,
            held,
            needs_queued_writer,
            backtrace,
        } => self_deadlock(
            thread,
            acquiring,
            earlier,
            held,
            *needs_queued_writer,
            backtrace.as_deref(),
        ),
        Finding::Deadlock { threads } => deadlock(threads),
        Finding::LongHold {
            thread,
            hold,
            threshold,
            held,
            doing,
        } => long_hold(thread, hold, *threshold, held, doing),
        Finding::LongWait {
            thread,
            waits_for,
            threshold,
            holders,
        } => long_wait(thread, waits_for, *threshold, holders),
        Finding::LostUpdate {
            thread,
            atomic,
            created,
            load,
            store,
            writer,
            written_at,
        } => {
            let writer = writer
                .as_ref()
                .map_or_else(|| "another thread".to_owned(), |n| format!("thread `{n}`"));
            let mut text =
                format!("lost update on {atomic} created at {created} in thread `{thread}`\n");
            let _ = writeln!(text, "  this thread read it at {load}");
            match written_at {
                Some(at) => {
                    let _ = writeln!(text, "  then {writer} wrote it at {at}");
                }
                None => {
                    let _ = writeln!(text, "  then {writer} wrote it");
                }
            }
            let _ = writeln!(
                text,
                "  and this store at {store} overwrites that write: it is lost"
            );
            text.push_str(
                "  fix: make the read and the write one operation: fetch_add / fetch_or / ..., \
                 fetch_update, or a compare_exchange loop (or compare_exchange for a \
                 check-then-act flag)",
            );
            let summary = format!(
                "lost update: read at {load}, stored at {store}, another thread wrote in between"
            );
            (summary, text)
        }
        Finding::LeaseExpired {
            thread,
            key,
            hold,
            ttl,
            expired_for,
        } => lease_expired(thread, key, hold, *ttl, *expired_for),
        Finding::Limit { thread, held_locks } => {
            let thread = who(thread);
            (
                format!("limit: more than {held_locks} locks held at once in {thread}"),
                format!(
                    "limit: {thread} holds more than {held_locks} locks at once; the locks \
                 beyond the first {held_locks} are still checked for lock order, but the \
                 watchdog does not see them (no long-hold reports for them, and deadlocks \
                 through them go unreported)"
                ),
            )
        }
    }
}

/// How a report names the thread (or tokio task, or holder in another process) called
/// `name`: "thread `worker-1`", or the task's own name ("task 17 (first lock at
/// src/jobs.rs:40:9)"), or the other process's description ("process `worker` (pid 42 on
/// host-1), thread `main`, ...").
pub(crate) fn who(name: &str) -> String {
    if is_task(name) || name.starts_with("process `") {
        name.to_owned()
    } else {
        format!("thread `{name}`")
    }
}

/// "2 threads are", "1 task is", "3 threads and tasks are": the subject of a deadlock line.
fn how_many(threads: &[super::finding::BlockedThread]) -> String {
    let tasks = threads.iter().filter(|t| is_task(&t.thread)).count();
    let (n, plural) = (threads.len(), threads.len() != 1);
    let noun = match (tasks, plural) {
        (0, false) => "thread is",
        (0, true) => "threads are",
        (t, false) if t == n => "task is",
        (t, true) if t == n => "tasks are",
        _ => "threads and tasks are",
    };
    format!("{n} {noun}")
}

/// Whether `name` is a tokio task's as lockwatch names them: `task <id> ...`.
fn is_task(name: &str) -> bool {
    name.strip_prefix("task ")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn lease_expired(
    thread: &str,
    key: &str,
    hold: &Acquisition,
    ttl: Duration,
    expired_for: Duration,
) -> (String, String) {
    let mut text = format!(
        "lease expired while held: {} still holds {} (key `{key}`), whose {} lease ran out {} \
         ago\n",
        who(thread),
        hold.lock,
        ms(ttl),
        ms(expired_for)
    );
    let _ = writeln!(
        text,
        "  taken with {}() at {}{}",
        hold.method,
        hold.site,
        hold.duration
            .map(|d| format!(", held for {}", ms(d)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        text,
        "  another process may hold `{key}` now: both believe they own it"
    );
    text.push_str(
        "  fix: extend the lease before it runs out (LeaseGuard::extend from the work loop), \
         keep the work under the lease shorter than its TTL, or check a fencing token (the \
         guard's token) where the protected data is written",
    );
    let summary = format!(
        "lease expired while held: `{key}` taken at {}, expired {} ago",
        hold.site,
        ms(expired_for)
    );
    (summary, text)
}

/// The fix for taking again what this thread holds, by the kind of primitive.
fn self_deadlock_fix(kind: &str) -> &'static str {
    match kind {
        "Once" | "OnceLock" | "LazyLock" | "OnceCell" | "Lazy" => {
            "  fix: an initializer must not wait for the cell it initializes: compute what it \
             needs without touching the cell, or split the value into two cells"
        }
        "RwLock" => {
            "  fix: drop the first guard before locking again, or pass the guard down; for two \
             reads in one thread, parking_lot's `read_recursive` (or a reader-preferring lock, \
             `lock_api::declare_recursive_reads`) never waits for a queued writer"
        }
        _ => {
            "  fix: drop the first guard before locking again, pass the guard down instead of \
             re-locking, or use a reentrant lock (parking_lot `ReentrantMutex`)"
        }
    }
}

/// A duration as the reports write it: `254ms`, or `3.2s` from a second on.
pub(crate) fn ms(d: Duration) -> String {
    let d = d.as_millis() as u64;
    if d >= 1_000 {
        format!("{:.1}s", d as f64 / 1_000.0)
    } else {
        format!("{d}ms")
    }
}

/// A lock's full label: its class, and its instance where the report tells them apart.
fn label(lock: &LockName) -> String {
    match lock.instance {
        Some(id) => format!("{lock} (instance #{id})"),
        None => lock.to_string(),
    }
}

/// Short names (A, B, ...) for the locks of a cycle, with a legend.
#[derive(Default)]
struct Names<'a> {
    locks: Vec<&'a LockName>,
}

impl<'a> Names<'a> {
    fn add(&mut self, lock: &'a LockName) {
        if !self.locks.contains(&lock) {
            self.locks.push(lock);
        }
    }

    /// The short name of `lock`, or its full label if it is not part of the cycle.
    fn of(&self, lock: &LockName) -> String {
        match self.locks.iter().position(|l| *l == lock) {
            Some(i) => letter(i),
            None => label(lock),
        }
    }

    fn legend(&self, out: &mut String) {
        for (i, l) in self.locks.iter().enumerate() {
            let _ = writeln!(out, "    {} = {}", letter(i), label(l));
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

/// `try_lock() at site`, as a held lock is listed (the method says whether it was a try).
fn taken(a: &Acquisition) -> String {
    format!("{}() at {}", a.method, a.site)
}

/// `  acquiring LOCK with lock() at site (called from ...)`: the first line of an order report.
fn acquiring_line(out: &mut String, lock: &str, a: &Acquisition) {
    let _ = writeln!(
        out,
        "  acquiring {lock} with {}() at {}{}",
        a.method,
        a.site,
        called_from(a)
    );
}

/// ` (called from file:line:col in function)`, where backtraces found the user's line behind
/// an acquisition in a helper or a dependency.
fn called_from(a: &Acquisition) -> String {
    a.called_from
        .as_deref()
        .map_or_else(String::new, |c| format!(" (called from {c})"))
}

/// A site outside the user's workspace: a dependency (the compiler names its files by
/// absolute path) or the standard library.
fn in_dependency(site: &super::finding::Site) -> bool {
    site.file.starts_with('/') || site.file.starts_with("C:\\") || site.file.contains(".cargo")
}

/// Without backtraces, a note where the sites alone do not tell the user where to look: a
/// lock taken inside a dependency, or one line (a helper) on both ends of a step.
fn backtrace_hint<'a>(
    out: &mut String,
    sites: impl IntoIterator<Item = &'a Acquisition>,
    one_line_both_ends: bool,
) {
    if sites.into_iter().any(|a| in_dependency(&a.site)) {
        out.push_str(
            "  note: a site above is inside a dependency; LOCKWATCH_BACKTRACE=1 names the line \
             in your code that called it\n",
        );
    } else if one_line_both_ends {
        out.push_str(
            "  note: both locks were taken at one line, likely in a helper; mark the helper \
             #[track_caller] to report its callers, or set LOCKWATCH_BACKTRACE=1\n",
        );
    }
}

/// `Mutex `x`, taken with lock() at site, held for 20ms`, as the watchdog lists a hold.
fn hold_line(a: &Acquisition) -> String {
    let mut line = format!("{}, taken with {}() at {}", a.lock, a.method, a.site);
    if let Some(d) = a.duration {
        let _ = write!(line, ", held for {}", ms(d));
    }
    line
}

fn lock_order(
    thread: &str,
    acquiring: &Acquisition,
    held: &[Acquisition],
    cycle: &[super::finding::OrderStep],
    per_instance: bool,
) -> (String, String) {
    let thread = who(thread);
    let mut names = Names::default();
    names.add(&acquiring.lock);
    for step in cycle {
        names.add(&step.from.lock);
    }
    let mut out = String::new();
    if cycle.iter().any(|s| s.thread.starts_with("process `")) {
        let _ = writeln!(
            out,
            "lock order inversion across processes (potential deadlock), closed in {thread}"
        );
    } else {
        let _ = writeln!(out, "lock order inversion (potential deadlock) in {thread}");
    }
    acquiring_line(&mut out, &names.of(&acquiring.lock), acquiring);
    out.push_str("  while holding:\n");
    for h in held.iter().rev() {
        let _ = writeln!(out, "    {}, taken with {}", names.of(&h.lock), taken(h));
    }
    out.push_str("  where:\n");
    names.legend(&mut out);
    out.push_str("  this closes a cycle in the lock order:\n");
    for step in cycle {
        let when = if step.new { "new here" } else { "first seen" };
        let _ = write!(
            out,
            "    {} -> {}  {when} in {}: {}() at {}, then {}() at {}{}",
            names.of(&step.from.lock),
            names.of(&step.to.lock),
            who(&step.thread),
            step.from.method,
            step.from.site,
            step.to.method,
            step.to.site,
            called_from(&step.to),
        );
        if let Some(span) = step.span {
            let _ = write!(out, " (in span `{span}`)");
        }
        out.push('\n');
        if let Some(bt) = &step.backtrace {
            backtrace_block(&mut out, "      ", bt);
        }
    }
    if cycle.iter().all(|s| s.backtrace.is_none()) {
        let sites = cycle
            .iter()
            .flat_map(|s| [&s.from, &s.to])
            .chain([acquiring]);
        backtrace_hint(
            &mut out,
            sites,
            cycle.iter().any(|s| s.from.site == s.to.site),
        );
    }
    out.push_str("  how it deadlocks, if these run at once:\n");
    for step in cycle {
        let _ = writeln!(
            out,
            "    {} holds {} (taken at {}) and waits for {} (at {})",
            who(&step.thread),
            names.of(&step.from.lock),
            step.from.site,
            names.of(&step.to.lock),
            step.to.site
        );
    }
    out.push_str(if per_instance {
        "  fix: locks of this class are nested in both orders; take them in one order \
         everywhere (for example by a key such as an id), or hold only one at a time"
    } else {
        "  fix: take these locks in one order everywhere, or release one before taking \
         the other"
    });
    let summary = format!(
        "lock order inversion: {} taken at {} closes a cycle of {} locks",
        label(&acquiring.lock),
        acquiring.site,
        cycle.len()
    );
    (summary, out)
}

fn self_deadlock(
    thread: &str,
    acquiring: &Acquisition,
    earlier: &Acquisition,
    held: &[Acquisition],
    needs_queued_writer: bool,
    backtrace: Option<&str>,
) -> (String, String) {
    let thread = who(thread);
    let what = if needs_queued_writer {
        "a writer queued in between makes this block forever"
    } else {
        "this blocks forever"
    };
    let mut out = String::new();
    let _ = writeln!(out, "recursive locking (self-deadlock) in {thread}: {what}");
    acquiring_line(&mut out, &acquiring.lock.to_string(), acquiring);
    let _ = writeln!(
        out,
        "  which this thread already holds: taken with {}() at {}",
        earlier.method, earlier.site
    );
    out.push_str("  locks held:\n");
    for h in held.iter().rev() {
        let _ = writeln!(out, "    {}, taken with {}", h.lock, taken(h));
    }
    match backtrace {
        Some(bt) => backtrace_block(&mut out, "  ", bt),
        None => backtrace_hint(
            &mut out,
            [acquiring, earlier],
            acquiring.site == earlier.site,
        ),
    }
    out.push_str(self_deadlock_fix(acquiring.lock.kind));
    let summary = format!(
        "recursive locking: {} taken again at {} (first at {})",
        acquiring.lock, acquiring.site, earlier.site
    );
    (summary, out)
}

/// `backtrace:` at `indent`, then its frames two spaces deeper.
fn backtrace_block(out: &mut String, indent: &str, bt: &str) {
    let _ = writeln!(out, "{indent}backtrace:");
    for line in bt.lines() {
        let _ = writeln!(out, "{indent}  {line}");
    }
}

/// `Mutex `x` in lock() at site (called from ...)`: what a blocked thread waits for.
fn waited_on(w: &Acquisition) -> String {
    format!(
        "{} in {}() at {}{}",
        w.lock,
        w.method,
        w.site,
        called_from(w)
    )
}

/// A blocked thread's wait backtrace, when it has one.
fn blocked_backtrace(text: &mut String, t: &super::finding::BlockedThread) {
    if let Some(bt) = &t.backtrace {
        backtrace_block(text, "    ", bt);
    }
}

fn deadlock(threads: &[super::finding::BlockedThread]) -> (String, String) {
    if let [t @ super::finding::BlockedThread {
        condvar_notifiers: None,
        ..
    }] = threads
    {
        // A cycle of one: the thread waits for a lock it holds itself.
        let w = &t.waits_for;
        let mut text = format!(
            "self-deadlock: {} waits for {}, which it holds itself, blocked for {}\n",
            who(&t.thread),
            waited_on(w),
            ms(w.duration.unwrap_or_default())
        );
        for h in t.holds.iter().rev() {
            let _ = writeln!(text, "    holding {}", hold_line(h));
        }
        blocked_backtrace(&mut text, t);
        text.push_str(self_deadlock_fix(w.lock.kind));
        let summary = format!("self-deadlock in {} on {}", who(&t.thread), w.lock);
        return (summary, text);
    }
    let mut text = if let [t @ super::finding::BlockedThread {
        condvar_notifiers: Some(_),
        ..
    }] = threads
    {
        format!(
            "deadlock: {} is stuck waiting for a notify no thread is left to send\n",
            who(&t.thread)
        )
    } else if threads.iter().any(|t| t.condvar_notifiers.is_some()) {
        format!(
            "deadlock: {} stuck, each waiting for a lock another holds or for a notify no \
             thread is left to send\n",
            how_many(threads)
        )
    } else {
        format!(
            "deadlock: {} blocked in a cycle, each waiting for a lock another holds\n",
            how_many(threads)
        )
    };
    let mut through_condvar = false;
    for t in threads {
        let w = &t.waits_for;
        match &t.condvar_notifiers {
            None => {
                let _ = write!(text, "  {} waits for {}", who(&t.thread), waited_on(w));
                if let Some(d) = w.duration {
                    let _ = write!(text, ", blocked for {}", ms(d));
                }
                text.push('\n');
            }
            Some(notifiers) => {
                through_condvar = true;
                let _ = writeln!(
                    text,
                    "  {} is parked in Condvar::wait at {}{} for {} (with {} released), \
                     waiting to be notified",
                    who(&t.thread),
                    w.site,
                    called_from(w),
                    ms(w.duration.unwrap_or_default()),
                    w.lock
                );
                let who: Vec<String> = notifiers
                    .iter()
                    .map(|n| {
                        let state = if n.exited { ", exited since" } else { "" };
                        format!("`{}` (at {}{state})", n.thread, n.site)
                    })
                    .collect();
                let _ = writeln!(
                    text,
                    "    only {} {} that condvar, and {} any more",
                    who.join(", "),
                    if notifiers.len() == 1 {
                        "notifies"
                    } else {
                        "notify"
                    },
                    if notifiers.len() == 1 {
                        "it cannot"
                    } else {
                        "none of them can"
                    },
                );
            }
        }
        for h in t.holds.iter().rev() {
            let _ = writeln!(text, "    holding {}", hold_line(h));
        }
        blocked_backtrace(&mut text, t);
    }
    let notifier_gone = threads
        .iter()
        .flat_map(|t| t.condvar_notifiers.iter().flatten())
        .any(|n| n.exited);
    let locks_held = threads.iter().any(|t| !t.holds.is_empty());
    text.push_str(if !through_condvar {
        "  fix: take these locks in one order everywhere; lockwatch's lock-order report for \
         them, if any, names the sites"
    } else if notifier_gone {
        "  fix: a notifier that goes away must wake the waiters first (`notify_all` when the \
         last handle drops), and the condition must change under the condvar's mutex: a \
         waiter that checks it and then waits misses a notify sent in between without the \
         mutex (a lost wake-up); wait in a loop on the condition (`wait_while`)"
    } else if locks_held {
        "  fix: a thread must not wait on a condvar while holding a lock its notifier needs \
         (release it before waiting, or notify without it), and a notifier must not block on \
         what the waiter holds"
    } else {
        "  fix: each thread waits for a notify only another waiting thread can send, as when a \
         pool's worker blocks on work queued behind it (nested `install` across pools): run \
         the inner work inline, give it a thread that never waits, or let the waiting thread \
         run queued work while it waits"
    });
    let names: Vec<String> = threads.iter().map(|t| who(&t.thread)).collect();
    let summary = format!("deadlock between {}", names.join(", "));
    (summary, text)
}

fn long_hold(
    thread: &str,
    hold: &Acquisition,
    threshold: Duration,
    held: &[Acquisition],
    doing: &Doing,
) -> (String, String) {
    let thread = who(thread);
    let held_for = hold.duration.unwrap_or_default();
    let mut text = format!(
        "long hold: {thread} has held {} for {} (threshold {})\n",
        hold.lock,
        ms(held_for),
        ms(threshold)
    );
    let _ = writeln!(text, "  taken with {}() at {}", hold.method, hold.site);
    if held.len() > 1 {
        text.push_str("  all locks it holds:\n");
        for other in held.iter().rev() {
            let _ = writeln!(text, "    {}", hold_line(other));
        }
    }
    match doing {
        Doing::Running => {}
        Doing::TaskNotWaiting => text.push_str(
            "  the task is not waiting for a lock: it holds this one across an `.await` (I/O, a \
             sleep, a channel) or runs\n",
        ),
        Doing::InAnotherProcess => {}
        Doing::WaitingFor(w) => {
            let _ = writeln!(text, "  and it is now waiting for {} at {}", w.lock, w.site);
        }
        Doing::ParkedInCondvarWait(w) => {
            let _ = writeln!(
                text,
                "  and it is now parked in Condvar::wait at {} (with {} released), holding this \
                 lock until that condvar is notified",
                w.site, w.lock
            );
        }
    }
    text.push_str(if matches!(doing, Doing::TaskNotWaiting) {
        "  fix: do not hold the guard across a slow `.await`: copy what you need and drop the \
         guard before awaiting, or make the awaited work part of a message to a task that \
         owns the data"
    } else {
        "  fix: do the slow work (I/O, sleeps, long computations) outside the lock, or copy \
         what you need and release it first"
    });
    let summary = format!(
        "long hold: {} taken at {} held for {} in {thread}",
        hold.lock,
        hold.site,
        ms(held_for)
    );
    (summary, text)
}

fn long_wait(
    thread: &str,
    waits_for: &Acquisition,
    threshold: Duration,
    holders: &[super::finding::Holder],
) -> (String, String) {
    let thread = who(thread);
    let waited = waits_for.duration.unwrap_or_default();
    let mut text = format!(
        "long wait: {thread} has waited {} for {} (threshold {})\n",
        ms(waited),
        waits_for.lock,
        ms(threshold)
    );
    let _ = writeln!(
        text,
        "  waiting in {}() at {}",
        waits_for.method, waits_for.site
    );
    if holders.is_empty() {
        text.push_str("  held by: no thread holds it now (it is being handed over)\n");
    } else {
        text.push_str("  held by:\n");
        for h in holders {
            let _ = writeln!(text, "    {}: {}", who(&h.thread), hold_line(&h.hold));
            match &h.doing {
                Doing::Running => text.push_str("      it is running\n"),
                Doing::TaskNotWaiting => text.push_str(
                    "      it is not waiting for a lock: it holds this one across an `.await` \
                     (I/O, a sleep, a channel) or runs\n",
                ),
                Doing::InAnotherProcess => text.push_str(
                    "      it is in another process: what it does is not visible from here\n",
                ),
                Doing::WaitingFor(w) => {
                    let _ = writeln!(
                        text,
                        "      it is blocked waiting for {} in {}() at {}",
                        w.lock, w.method, w.site
                    );
                }
                Doing::ParkedInCondvarWait(w) => {
                    let _ = writeln!(
                        text,
                        "      it is parked in Condvar::wait at {} for {} (with {} released): \
                         it cannot release this lock until someone notifies that condvar",
                        w.site,
                        ms(w.duration.unwrap_or_default()),
                        w.lock
                    );
                }
            }
        }
    }
    let parked = holders
        .iter()
        .any(|h| matches!(h.doing, Doing::ParkedInCondvarWait(_)));
    text.push_str(if parked {
        "  fix: do not hold a lock across a condvar wait that others need meanwhile (release \
         it before waiting), or make sure the condvar is notified"
    } else {
        "  fix: shorten what the holder does under the lock, or split the lock"
    });
    let summary = format!(
        "long wait: {thread} waited {} for {} at {}",
        ms(waited),
        waits_for.lock,
        waits_for.site
    );
    (summary, text)
}

/// The line a finished long hold adds: `long hold over: ...`.
pub(crate) fn hold_over(thread: &str, hold: &Acquisition, total: Duration) -> String {
    let thread = who(thread);
    format!(
        "long hold over: {thread} released {} (taken at {}) after {}",
        hold.lock,
        hold.site,
        ms(total)
    )
}

#[cfg(test)]
mod tests {
    use super::super::finding::{Acquisition, Finding, LockName, Site};
    use super::render;

    fn acq(name: &'static str, file: &'static str, line: u32) -> Acquisition {
        let site = Site {
            file,
            line,
            column: 9,
        };
        Acquisition {
            lock: LockName {
                kind: "Mutex",
                name: Some(name),
                data: "u64",
                created: site,
                instance: None,
            },
            method: "lock",
            site,
            trylock: false,
            duration: None,
            called_from: None,
        }
    }

    fn self_deadlock(acquiring: Acquisition, earlier: Acquisition) -> String {
        render(&Finding::SelfDeadlock {
            thread: "main".to_owned(),
            acquiring,
            earlier: earlier.clone(),
            held: vec![earlier],
            needs_queued_writer: false,
            backtrace: None,
        })
        .1
    }

    #[test]
    fn one_line_on_both_ends_points_to_track_caller() {
        let text = self_deadlock(acq("m", "src/db.rs", 7), acq("m", "src/db.rs", 7));
        assert!(text.contains("mark the helper #[track_caller]"), "{text}");
        let text = self_deadlock(acq("m", "src/db.rs", 7), acq("m", "src/db.rs", 9));
        assert!(!text.contains("note:"), "{text}");
    }

    #[test]
    fn a_site_in_a_dependency_points_to_backtraces() {
        let dep = "/home/u/.cargo/registry/src/index.crates.io-0000/pool-1.0.0/src/lib.rs";
        let text = self_deadlock(acq("m", dep, 40), acq("m", "src/db.rs", 9));
        assert!(
            text.contains("inside a dependency; LOCKWATCH_BACKTRACE=1"),
            "{text}"
        );
    }

    #[test]
    fn the_caller_behind_an_acquisition_is_shown() {
        let mut acquiring = acq("m", "src/db.rs", 7);
        acquiring.called_from = Some("src/main.rs:3:5 in app::main".to_owned());
        let text = self_deadlock(acquiring, acq("m", "src/db.rs", 9));
        assert!(
            text.contains("at src/db.rs:7:9 (called from src/main.rs:3:5 in app::main)"),
            "{text}"
        );
    }
}

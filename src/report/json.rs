//! `reports.jsonl`, schema 1: one JSON object a line, made from the report's data.
//!
//! A report line:
//!
//! ```text
//! {"schema":1, "seq":3, "kind":"LockOrder", "thread":"teller-2", "summary":"...",
//!  "text":"...", "outcome":null, "pid":4242,
//!  "locks":[{"kind":"Mutex", "name":"account", "created":{"file":..,"line":..,"col":..},
//!            "instance":1, "label":"Mutex `account`"}],
//!  "sites":[{"file":"src/bank.rs","line":48,"col":35}],
//!  "finding":{"type":"LockOrder", "acquiring":ACQ, "held":[ACQ], "cycle":[STEP],
//!             "per_instance":true}}
//! ```
//!
//! where an acquisition `ACQ` is `{"lock":LOCK, "method":"lock", "site":SITE,
//! "trylock":false, "duration_ms":null, "called_from":null}` and a cycle `STEP` is
//! `{"from":ACQ, "to":ACQ, "thread":"teller-1", "new":false, "span":null,
//! "backtrace":null}` (`called_from` and `backtrace` are filled with `LOCKWATCH_BACKTRACE`
//! on). The other findings: `SelfDeadlock` (`acquiring`, `earlier`, `held`,
//! `needs_queued_writer`, `backtrace`), `Deadlock` (`threads`: each `{"thread",
//! "waits_for":ACQ, "holds":[ACQ], "condvar_notifiers", "backtrace"}`), `LongHold` (`hold`,
//! `threshold_ms`, `held`, `doing`), `LongWait` (`waits_for`, `threshold_ms`, `holders`:
//! each `{"thread", "hold":ACQ}`), `LostUpdate` (`atomic`, `created`, `load`, `store`, `writer`,
//! `written_at`), `Limit` (`held_locks`). An outcome that came later is a line of its own:
//! `{"schema":1, "seq":3, "outcome":"released after 3.2s"}`, and so is a repeat of the same
//! finding: `{"schema":1, "seq":3, "occurrences":4, "longest_ms":1200}`.

use std::fmt::Write as _;
use std::time::Duration;

use super::finding::{Acquisition, Doing, Finding, LockName, Site};
use super::Report;

/// The version of the line format.
pub(crate) const SCHEMA: u32 = 1;

/// `s` as a JSON string literal.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt_string(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_owned(), string)
}

fn millis(d: Option<Duration>) -> String {
    d.map_or_else(|| "null".to_owned(), |d| d.as_millis().to_string())
}

fn site(s: &Site) -> String {
    format!(
        "{{\"file\":{},\"line\":{},\"col\":{}}}",
        string(s.file),
        s.line,
        s.column
    )
}

fn lock(l: &LockName) -> String {
    format!(
        "{{\"kind\":{},\"name\":{},\"data\":{},\"created\":{},\"instance\":{},\"label\":{}}}",
        string(l.kind),
        opt_string(l.name),
        string(l.data),
        site(&l.created),
        l.instance
            .map_or_else(|| "null".to_owned(), |i| i.to_string()),
        string(&l.to_string())
    )
}

fn acquisition(a: &Acquisition) -> String {
    format!(
        "{{\"lock\":{},\"method\":{},\"site\":{},\"trylock\":{},\"duration_ms\":{},\
         \"called_from\":{}}}",
        lock(&a.lock),
        string(a.method),
        site(&a.site),
        a.trylock,
        millis(a.duration),
        opt_string(a.called_from.as_deref())
    )
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    let items: Vec<String> = items.iter().map(f).collect();
    format!("[{}]", items.join(","))
}

fn finding(f: &Finding) -> String {
    let body = match f {
        Finding::LockOrder {
            acquiring,
            held,
            cycle,
            per_instance,
            ..
        } => format!(
            "\"acquiring\":{},\"held\":{},\"cycle\":{},\"per_instance\":{per_instance}",
            acquisition(acquiring),
            list(held, acquisition),
            list(cycle, |s| format!(
                "{{\"from\":{},\"to\":{},\"thread\":{},\"new\":{},\"span\":{},\
                 \"backtrace\":{}}}",
                acquisition(&s.from),
                acquisition(&s.to),
                string(&s.thread),
                s.new,
                opt_string(s.span),
                opt_string(s.backtrace.as_deref())
            ))
        ),
        Finding::SelfDeadlock {
            acquiring,
            earlier,
            held,
            needs_queued_writer,
            backtrace,
            ..
        } => format!(
            "\"acquiring\":{},\"earlier\":{},\"held\":{},\
             \"needs_queued_writer\":{needs_queued_writer},\"backtrace\":{}",
            acquisition(acquiring),
            acquisition(earlier),
            list(held, acquisition),
            opt_string(backtrace.as_deref())
        ),
        Finding::Deadlock { threads } => format!(
            "\"threads\":{}",
            list(threads, |t| format!(
                "{{\"thread\":{},\"waits_for\":{},\"holds\":{},\"condvar_notifiers\":{},\
                 \"backtrace\":{}}}",
                string(&t.thread),
                acquisition(&t.waits_for),
                list(&t.holds, acquisition),
                t.condvar_notifiers.as_ref().map_or_else(
                    || "null".to_owned(),
                    |ns| list(ns, |n| format!(
                        "{{\"thread\":{},\"site\":{},\"exited\":{}}}",
                        string(&n.thread),
                        site(&n.site),
                        n.exited
                    ))
                ),
                opt_string(t.backtrace.as_deref())
            ))
        ),
        Finding::LongHold {
            hold,
            threshold,
            held,
            doing,
            ..
        } => format!(
            "\"hold\":{},\"threshold_ms\":{},\"held\":{},\"doing\":{}",
            acquisition(hold),
            threshold.as_millis(),
            list(held, acquisition),
            json_doing(doing)
        ),
        Finding::LongWait {
            waits_for,
            threshold,
            holders,
            ..
        } => format!(
            "\"waits_for\":{},\"threshold_ms\":{},\"holders\":{}",
            acquisition(waits_for),
            threshold.as_millis(),
            list(holders, |h| format!(
                "{{\"thread\":{},\"hold\":{},\"doing\":{}}}",
                string(&h.thread),
                acquisition(&h.hold),
                json_doing(&h.doing)
            ))
        ),
        Finding::LostUpdate {
            atomic,
            created,
            load,
            store,
            writer,
            written_at,
            ..
        } => format!(
            "\"atomic\":{},\"created\":{},\"load\":{},\"store\":{},\"writer\":{},\"written_at\":{}",
            string(atomic),
            site(created),
            site(load),
            site(store),
            opt_string(writer.as_deref()),
            written_at.as_ref().map_or_else(|| "null".to_owned(), site)
        ),
        Finding::Limit { held_locks, .. } => format!("\"held_locks\":{held_locks}"),
        Finding::LeaseExpired {
            key,
            hold,
            ttl,
            expired_for,
            ..
        } => format!(
            "\"key\":{},\"hold\":{},\"ttl_ms\":{},\"expired_ms\":{}",
            string(key),
            acquisition(hold),
            ttl.as_millis(),
            expired_for.as_millis()
        ),
    };
    format!("{{\"type\":{},{body}}}", string(variant(f)))
}

fn json_doing(d: &Doing) -> String {
    match d {
        Doing::Running => "{\"state\":\"running\"}".to_owned(),
        Doing::TaskNotWaiting => "{\"state\":\"task_not_waiting\"}".to_owned(),
        Doing::InAnotherProcess => "{\"state\":\"in_another_process\"}".to_owned(),
        Doing::WaitingFor(w) => format!("{{\"state\":\"waiting\",\"for\":{}}}", acquisition(w)),
        Doing::ParkedInCondvarWait(w) => {
            format!("{{\"state\":\"condvar\",\"wait\":{}}}", acquisition(w))
        }
    }
}

fn variant(f: &Finding) -> &'static str {
    match f {
        Finding::LockOrder { .. } => "LockOrder",
        Finding::SelfDeadlock { .. } => "SelfDeadlock",
        Finding::Deadlock { .. } => "Deadlock",
        Finding::LongHold { .. } => "LongHold",
        Finding::LongWait { .. } => "LongWait",
        Finding::LostUpdate { .. } => "LostUpdate",
        Finding::Limit { .. } => "Limit",
        Finding::LeaseExpired { .. } => "LeaseExpired",
    }
}

/// A report line, newline included. `text` is the rendered report without its outcome.
pub(crate) fn report_line(r: &Report, seq: Option<u64>, text: &str) -> String {
    format!(
        "{{\"schema\":{SCHEMA},\"seq\":{},\"kind\":{},\"thread\":{},\"summary\":{},\"text\":{},\
         \"outcome\":{},\"occurrences\":{},\"longest_ms\":{},\"pid\":{},\"locks\":{},\"sites\":{},\
         \"finding\":{}}}\n",
        seq.map_or_else(|| "null".to_owned(), |s| s.to_string()),
        string(&format!("{:?}", r.kind())),
        string(r.thread()),
        string(r.summary()),
        string(text),
        opt_string(r.outcome()),
        r.occurrences(),
        millis(r.longest()),
        std::process::id(),
        list(&r.locks(), |l| lock(l)),
        list(&r.sites(), site),
        finding(r.finding()),
    )
}

/// The line that adds an outcome to report `seq`.
pub(crate) fn outcome_line(seq: u64, outcome: &str) -> String {
    format!(
        "{{\"schema\":{SCHEMA},\"seq\":{seq},\"outcome\":{}}}\n",
        string(outcome)
    )
}

/// The line that counts report `seq`'s occurrences (the same finding seen again).
pub(crate) fn repeat_line(seq: u64, occurrences: u64, longest: Option<Duration>) -> String {
    format!(
        "{{\"schema\":{SCHEMA},\"seq\":{seq},\"occurrences\":{occurrences},\"longest_ms\":{}}}\n",
        millis(longest)
    )
}

//! Reports: what lockwatch found ([`Finding`], as data), the words for it, how it is
//! delivered, and what happens next.
//!
//! # `reports.jsonl`, schema 1
//!
//! Under `LOCKWATCH_DIR` (see [`crate::export`]) each report is one JSON line:
//!
//! ```text
//! {"schema":1, "seq":3, "kind":"LockOrder", "thread":"teller-2", "summary":"...",
//!  "text":"...", "outcome":null, "pid":4242,
//!  "locks":[LOCK], "sites":[SITE], "finding":{"type":"LockOrder", ...}}
//! ```
//!
//! - `SITE` is `{"file":"src/bank.rs","line":48,"col":35}`;
//! - `LOCK` is `{"kind":"Mutex","name":"account" or null,"data":"u64","created":SITE,
//!   "instance":1 or null,"label":"Mutex `account`"}` (`label` names the class as the text and
//!   `lock-graph.dot` do);
//! - an acquisition `ACQ` is `{"lock":LOCK,"method":"lock","site":SITE,"trylock":false,
//!   "duration_ms":null,"called_from":null}` (`called_from`: with `LOCKWATCH_BACKTRACE`, the
//!   line in the user's code behind a lock taken in a helper or a dependency);
//! - `finding` holds the [`Finding`]'s fields by name, with `"type"` its variant:
//!   `LockOrder` (`acquiring` ACQ, `held` ACQs, `cycle` of
//!   `{"from":ACQ,"to":ACQ,"thread":..,"new":..,"span":..,"backtrace":..}`, `per_instance`),
//!   `SelfDeadlock` (`acquiring`, `earlier`, `held`, `needs_queued_writer`, `backtrace`),
//!   `Deadlock` (`threads` of `{"thread","waits_for":ACQ,"holds":ACQs,
//!   "condvar_notifiers":..,"backtrace":..}`), `LongHold` (`hold`, `threshold_ms`, `held`,
//!   `doing`: `{"state":"running"|"waiting"|"condvar",...}`), `LongWait` (`waits_for`,
//!   `threshold_ms`, `holders` of `{"thread","hold":ACQ}`), `LostUpdate` (`atomic`,
//!   `created`, `load`, `store`, `writer`,
//!   `written_at`), `Limit` (`held_locks`).
//!
//! Report lines also carry `occurrences` (1, or more when the same finding came back) and
//! `longest_ms`. A later outcome is a line of its own: `{"schema":1,"seq":3,"outcome":"released
//! after 3.2s"}`, and so is a repeat: `{"schema":1,"seq":3,"occurrences":4,"longest_ms":1200}`.
//! Fields may be added within schema 1; a change of meaning bumps it.

mod finding;
mod json;
#[cfg_attr(not(feature = "enabled"), allow(dead_code))]
mod render;

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "enabled")]
pub(crate) use finding::kind_of;
pub use finding::{
    Acquisition, BlockedThread, Doing, Finding, Holder, LockName, Notifier, OrderStep, Site,
};
#[cfg(feature = "enabled")]
pub(crate) use render::{hold_over, ms};

/// What a [`Report`] is about.
///
/// # Examples
///
/// ```
/// use lockwatch::ReportKind;
///
/// let kind = ReportKind::LockOrder;
/// assert_eq!(kind, ReportKind::LockOrder);
/// assert_ne!(kind, ReportKind::Deadlock);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReportKind {
    /// An acquisition order that closes a cycle (a deadlock that can happen), including
    /// re-locking a non-reentrant lock the thread already holds.
    LockOrder,
    /// Threads blocked in a wait-for cycle right now.
    Deadlock,
    /// A lock held longer than the long-hold threshold.
    LongHold,
    /// A thread waiting for a lock longer than the long-wait threshold.
    LongWait,
    /// An atomic `load` then `store` with another thread's write in between.
    LostUpdate,
    /// One of lockwatch's own limits was reached; the report says what is no longer watched.
    /// The program goes on.
    Limit,
    /// A distributed lease (`lockwatch::redis`) expired while its holder still held the guard:
    /// another process may have taken the key meanwhile.
    LeaseExpired,
}

/// One finding: what was found, as data ([`Report::finding`]), and the words for it.
///
/// `Display` prints the whole explanation (several lines); [`Report::summary`] is one line.
/// Tests and tools read the data: [`Report::finding`] has every lock, site, thread and
/// timing, and [`Report::sites`] / [`Report::locks`] answer the usual questions directly.
///
/// # Examples
///
/// ```
/// // Every report so far, oldest first (always empty without the `enabled` feature).
/// for report in lockwatch::reports() {
///     println!("{:?} in {}: {}", report.kind(), report.thread(), report.summary());
///     for site in report.sites() {
///         println!("  at {site}");
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Report {
    inner: Arc<ReportInner>,
}

struct ReportInner {
    finding: Finding,
    summary: String,
    text: String,
    /// Added once the situation is over (a long hold's final duration).
    outcome: std::sync::OnceLock<String>,
    /// Set by the one follow-up that gets to say how it ended (see [`Report::claim_outcome`]).
    outcome_claimed: std::sync::atomic::AtomicBool,
    /// Its place in [`reports`], from 1; set when it is delivered.
    seq: std::sync::OnceLock<u64>,
    /// The same finding seen again (the same lock and sites): how often, and the longest.
    repeats: parking_lot::Mutex<Repeats>,
}

/// Later occurrences of one report's finding.
#[derive(Clone, Copy, Default)]
struct Repeats {
    /// Occurrences after the first.
    more: u64,
    /// The longest duration seen, the first's included.
    longest: Option<std::time::Duration>,
}

impl Report {
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) fn new(finding: Finding) -> Self {
        let (summary, text) = render::render(&finding);
        Report {
            inner: Arc::new(ReportInner {
                finding,
                summary,
                text,
                outcome: std::sync::OnceLock::new(),
                outcome_claimed: std::sync::atomic::AtomicBool::new(false),
                seq: std::sync::OnceLock::new(),
                repeats: parking_lot::Mutex::new(Repeats::default()),
            }),
        }
    }

    /// Counts one more occurrence of the same finding (the same lock and sites): one report
    /// per bug, with a count and the longest duration, rather than one per occurrence.
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) fn repeat(&self, duration: Option<std::time::Duration>) {
        let mut r = self.inner.repeats.lock();
        r.more += 1;
        if let Some(d) = duration {
            r.longest = Some(r.longest.map_or(d, |l| l.max(d)));
        }
        let (more, longest) = (r.more, r.longest);
        drop(r);
        if let Some(seq) = self.inner.seq.get() {
            crate::outdir::append("reports.jsonl", &json::repeat_line(*seq, more + 1, longest));
        }
    }

    /// Records the duration of an occurrence once it is known (a long hold's release).
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) fn lasted(&self, duration: std::time::Duration) {
        let mut r = self.inner.repeats.lock();
        r.longest = Some(r.longest.map_or(duration, |l| l.max(duration)));
    }

    /// How many times the finding was seen: 1, or more when the same finding (the same
    /// lock and code sites) came back, as a long hold in every worker of a pool does.
    pub fn occurrences(&self) -> u64 {
        1 + self.inner.repeats.lock().more
    }

    /// The longest duration among the occurrences (long holds and waits), once known.
    pub fn longest(&self) -> Option<std::time::Duration> {
        self.inner.repeats.lock().longest
    }

    /// Whether this caller is the first to say how the situation ended (and so the one to
    /// [`Report::finish`] it): a report gets one outcome.
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) fn claim_outcome(&self) -> bool {
        !self
            .inner
            .outcome_claimed
            .swap(true, std::sync::atomic::Ordering::AcqRel)
    }

    /// Records how the situation ended (by the caller that claimed it): shown last by
    /// `Display` and by [`Report::outcome`], and appended to `reports.jsonl` under
    /// `LOCKWATCH_DIR` as an outcome line.
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) fn finish(&self, outcome: String) {
        if self.inner.outcome.set(outcome).is_err() {
            return;
        }
        if let (Some(seq), Some(outcome)) = (self.inner.seq.get(), self.outcome()) {
            crate::outdir::append("reports.jsonl", &json::outcome_line(*seq, outcome));
        }
    }

    /// The report as one line of `reports.jsonl` (see [`crate::export`]), newline included.
    pub(crate) fn json_line(&self) -> String {
        json::report_line(self, self.inner.seq.get().copied(), &self.inner.text)
    }

    /// How the reported situation ended, once it has: for a [`ReportKind::LongHold`], the
    /// final duration ("released after 3.2s"). `None` while it goes on, and for the kinds
    /// that describe a moment.
    pub fn outcome(&self) -> Option<&str> {
        self.inner.outcome.get().map(String::as_str)
    }

    /// What this report is about.
    pub fn kind(&self) -> ReportKind {
        self.inner.finding.kind()
    }

    /// The name of the thread the report was raised about (its `ThreadId` when unnamed).
    pub fn thread(&self) -> &str {
        self.inner.finding.thread()
    }

    /// The report in one line.
    pub fn summary(&self) -> &str {
        &self.inner.summary
    }

    /// What was found, as data: the locks, sites, threads and timings the text is made of.
    pub fn finding(&self) -> &Finding {
        &self.inner.finding
    }

    /// Every code site where the report's locks were taken (or, for a lost update, the load,
    /// the other thread's write and the store), in the order the text shows them, each once.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::Mutex;
    ///
    /// let ((), reports) = lockwatch::capture(|| {
    ///     let (a, b) = (Mutex::new(()), Mutex::new(()));
    ///     drop((a.lock().unwrap(), b.lock().unwrap()));
    ///     let _b = b.lock().unwrap();
    ///     let _a = a.lock().unwrap();
    /// });
    /// # #[cfg(feature = "enabled")]
    /// assert!(reports[0].sites().iter().all(|s| s.file.ends_with(".rs")));
    /// ```
    pub fn sites(&self) -> Vec<Site> {
        let mut sites: Vec<Site> = match &self.inner.finding {
            Finding::LostUpdate {
                load,
                written_at,
                store,
                ..
            } => [Some(*load), *written_at, Some(*store)]
                .into_iter()
                .flatten()
                .collect(),
            finding => finding.acquisitions().iter().map(|a| a.site).collect(),
        };
        let mut seen = std::collections::HashSet::new();
        sites.retain(|s| seen.insert(*s));
        sites
    }

    /// The locks the report names (by class, or by instance where it tells them apart), each
    /// once, in the order the text shows them.
    pub fn locks(&self) -> Vec<&LockName> {
        let mut locks: Vec<&LockName> = Vec::new();
        for a in self.inner.finding.acquisitions() {
            if !locks.contains(&&a.lock) {
                locks.push(&a.lock);
            }
        }
        locks
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.text)?;
        let repeats = *self.inner.repeats.lock();
        if repeats.more > 0 {
            write!(f, "\n  seen {} times", repeats.more + 1)?;
            if let Some(longest) = repeats.longest {
                write!(f, ", the longest {}", render::ms(longest))?;
            }
        }
        if let Some(outcome) = self.inner.outcome.get() {
            write!(f, "\n  outcome: {outcome}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("kind", &self.kind())
            .field("thread", &self.thread())
            .field("summary", &self.inner.summary)
            .finish()
    }
}

/// What lockwatch does with a report, besides keeping it for [`reports`].
///
/// The default is [`Policy::Log`], or what the environment variable `LOCKWATCH_POLICY`
/// (`log`, `panic` or `silent`) says.
///
/// # Examples
///
/// ```
/// // Fail fast in tests: a lock-order violation panics in the thread that commits it,
/// // before it blocks.
/// lockwatch::set_policy(lockwatch::Policy::Panic);
/// # lockwatch::set_policy(lockwatch::Policy::Log);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Policy {
    /// A `tracing` warning with target `lockwatch`, or a line on stderr when no `tracing`
    /// subscriber is installed.
    #[default]
    Log,
    /// Log, then panic in the thread that caused it (for reports raised on a thread of the
    /// program; the watchdog's reports are only logged).
    Panic,
    /// Keep the report for [`reports`] only.
    Silent,
    /// Call this function instead of logging. It runs on the thread that caused the report,
    /// with no lockwatch lock held, so it may itself take tracked locks; a panic in it is
    /// caught and logged.
    Callback(Arc<dyn Fn(&Report) + Send + Sync>),
}

impl Policy {
    /// A [`Policy::Callback`] calling `f`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static SEEN: AtomicUsize = AtomicUsize::new(0);
    /// lockwatch::set_policy(lockwatch::Policy::callback(|_report| {
    ///     SEEN.fetch_add(1, Ordering::Relaxed);
    /// }));
    /// # lockwatch::set_policy(lockwatch::Policy::Log);
    /// ```
    pub fn callback(f: impl Fn(&Report) + Send + Sync + 'static) -> Self {
        Policy::Callback(Arc::new(f))
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Log => "Log",
            Policy::Panic => "Panic",
            Policy::Silent => "Silent",
            Policy::Callback(_) => "Callback(..)",
        })
    }
}

#[cfg(not(feature = "enabled"))]
pub use disabled::*;
#[cfg(feature = "enabled")]
pub use enabled::*;

#[cfg(not(feature = "enabled"))]
mod disabled {
    use super::{Policy, Report};

    /// Every report so far, oldest first. Under the `Log` and `Panic` policies a report is
    /// here only once its log line is written: a program may exit as soon as it finds one.
    /// Without the `enabled` feature: always empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let reports = lockwatch::reports();
    /// # #[cfg(not(feature = "enabled"))]
    /// assert!(reports.is_empty());
    /// ```
    pub fn reports() -> Vec<Report> {
        crate::settings::warn_if_set_while_disabled();
        Vec::new()
    }

    /// Sets what happens to new reports. Without the `enabled` feature: does nothing.
    pub fn set_policy(_policy: Policy) {}

    /// Captures a backtrace for every new order edge (shown in reports). Without the
    /// `enabled` feature: does nothing.
    pub fn set_backtraces(_on: bool) {}
}

#[cfg(feature = "enabled")]
mod enabled {
    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use parking_lot::Mutex as RawMutex;

    use super::{Policy, Report};

    static REPORTS: RawMutex<Vec<Report>> = RawMutex::new(Vec::new());
    static POLICY: RawMutex<Option<Policy>> = RawMutex::new(None);

    thread_local! {
        /// Set while this thread runs a report callback, so that reports raised by the
        /// callback itself are kept and logged but do not re-enter it.
        static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    }

    /// Every report so far, oldest first. Under the `Log` and `Panic` policies a report is
    /// here only once its log line is written: a program may exit as soon as it finds one.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::sync::Mutex;
    ///
    /// let a = Mutex::new(());
    /// let b = Mutex::new(());
    /// {
    ///     let _a = a.lock().unwrap();
    ///     let _b = b.lock().unwrap();
    /// }
    /// assert!(lockwatch::reports().is_empty());
    /// ```
    pub fn reports() -> Vec<Report> {
        REPORTS.lock().clone()
    }

    /// Sets what happens to new reports (see [`Policy`]).
    pub fn set_policy(policy: Policy) {
        *POLICY.lock() = Some(policy);
    }

    /// Captures a backtrace for every new order edge and every self-deadlock, shown in reports
    /// trimmed to the user's frames, and names the line in the user's code behind a lock taken
    /// in a helper or a dependency. Also on when the environment variable
    /// `LOCKWATCH_BACKTRACE` is `1` (`full` keeps lockwatch's and the runtime's frames).
    pub fn set_backtraces(on: bool) {
        crate::settings::get()
            .backtraces
            .store(u8::from(on), std::sync::atomic::Ordering::Relaxed);
        // Drawn for the profile: every acquisition with backtraces on (see the threshold).
        crate::settings::DRAW_THRESHOLD.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// 0 off, 1 trimmed to the user's frames, 2 full (`LOCKWATCH_BACKTRACE=full`).
    pub(crate) fn backtrace_level() -> u8 {
        crate::settings::get()
            .backtraces
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn policy() -> Policy {
        use crate::settings::PolicyName;
        let mut guard = POLICY.lock();
        guard
            .get_or_insert_with(|| match crate::settings::get().policy {
                PolicyName::Log => Policy::Log,
                PolicyName::Panic => Policy::Panic,
                PolicyName::Silent => Policy::Silent,
            })
            .clone()
    }

    /// Run before a `Policy::Panic` report panics (the panic may abort the process): writes
    /// what `LOCKWATCH_DIR` should hold. Set by the exporter.
    static BEFORE_PANIC: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

    pub(crate) fn set_before_panic(hook: fn()) {
        let _ = BEFORE_PANIC.set(hook);
    }

    /// Keeps `report` for [`reports`] and appends it to `reports.jsonl` under `LOCKWATCH_DIR`
    /// at once, so that nothing that follows (a panic, an abort, a crash) can lose it. A
    /// report raised inside a [`crate::capture()`] also goes to that capture.
    fn keep(report: &Report) {
        {
            let mut all = REPORTS.lock();
            all.push(report.clone());
            let _ = report.inner.seq.set(all.len() as u64);
            crate::outdir::append("reports.jsonl", &report.json_line());
        }
        recapture(report);
    }

    /// What a capture collects (see [`crate::capture()`]).
    #[derive(Default)]
    pub(crate) struct CaptureState {
        reports: RawMutex<Vec<Report>>,
        /// Order edges on reported cycles that code in this capture took, by the tracker's
        /// key: a cycle all of whose edges are here is this capture's own, even if it was
        /// reported before the capture began.
        edges: RawMutex<std::collections::HashSet<(bool, u64, u64)>>,
    }

    impl CaptureState {
        pub(crate) fn take(&self) -> Vec<Report> {
            std::mem::take(&mut *self.reports.lock())
        }
    }

    thread_local! {
        /// The captures this thread is in, innermost last.
        static CAPTURES: std::cell::RefCell<Vec<std::sync::Arc<CaptureState>>> =
            const { std::cell::RefCell::new(Vec::new()) };
        /// `!CAPTURES.is_empty()`, readable on the order check's path without a borrow.
        static CAPTURING: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether this thread is inside a capture (read on the nested order check's path).
    #[inline(always)]
    pub(crate) fn capturing() -> bool {
        CAPTURING.try_with(Cell::get).unwrap_or(false)
    }

    /// Runs `f` with `state` as this thread's innermost capture.
    pub(crate) fn in_capture<R>(state: &std::sync::Arc<CaptureState>, f: impl FnOnce() -> R) -> R {
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                let _ = CAPTURES.try_with(|c| {
                    let mut c = c.borrow_mut();
                    c.pop();
                    let _ = CAPTURING.try_with(|flag| flag.set(!c.is_empty()));
                });
            }
        }
        let _ = CAPTURES.try_with(|c| c.borrow_mut().push(std::sync::Arc::clone(state)));
        let _ = CAPTURING.try_with(|flag| flag.set(true));
        let _leave = Leave;
        f()
    }

    /// This thread's innermost capture, if any.
    pub(crate) fn current_capture() -> Option<std::sync::Arc<CaptureState>> {
        CAPTURES
            .try_with(|c| c.borrow().last().cloned())
            .ok()
            .flatten()
    }

    /// Gives `report` to every capture this thread is in, once each: a report raised here, or
    /// one raised before that this thread's code has now shown again (the same cycle, already
    /// reported, taken in both orders inside the capture).
    pub(crate) fn recapture(report: &Report) {
        if !capturing() {
            return;
        }
        let _ = CAPTURES.try_with(|c| {
            for state in c.borrow().iter() {
                let mut got = state.reports.lock();
                if !got
                    .iter()
                    .any(|r| std::sync::Arc::ptr_eq(&r.inner, &report.inner))
                {
                    got.push(report.clone());
                }
            }
        });
    }

    /// Records that code in this thread's captures took order edge `edge`, which lies on a
    /// reported cycle; returns whether every edge of `cycle` has now been taken in one of
    /// them.
    pub(crate) fn capture_took(edge: (bool, u64, u64), cycle: &[(bool, u64, u64)]) -> bool {
        CAPTURES
            .try_with(|c| {
                let c = c.borrow();
                for state in c.iter() {
                    state.edges.lock().insert(edge);
                }
                c.iter().any(|state| {
                    let edges = state.edges.lock();
                    cycle.iter().all(|e| edges.contains(e))
                })
            })
            .unwrap_or(false)
    }

    /// Keeps `report` and acts on it by the policy. Called with no lockwatch lock held.
    ///
    /// A report is logged before it is kept: a program that finds it in [`crate::reports`]
    /// (and may then exit) knows that its log line is out.
    pub(crate) fn deliver(report: Report) {
        match policy() {
            Policy::Log => {
                log(&report);
                keep(&report);
            }
            Policy::Silent => keep(&report),
            Policy::Panic => {
                log(&report);
                keep(&report);
                if let Some(hook) = BEFORE_PANIC.get() {
                    hook();
                }
                panic!("lockwatch: {}", report.summary());
            }
            Policy::Callback(f) => {
                keep(&report);
                let nested = IN_CALLBACK.try_with(|c| c.replace(true)).unwrap_or(true);
                if nested {
                    log(&report);
                    return;
                }
                let result = catch_unwind(AssertUnwindSafe(|| f(&report)));
                let _ = IN_CALLBACK.try_with(|c| c.set(false));
                if result.is_err() {
                    eprintln!("lockwatch: the report callback panicked; the report was:");
                    log(&report);
                }
            }
        }
    }

    /// Delivers a report raised by the watchdog: as [`deliver`], except that `Panic` only logs
    /// (a panic on the watchdog thread would help nobody) and a callback runs on the watchdog.
    pub(crate) fn deliver_from_watchdog(report: Report) {
        match policy() {
            Policy::Panic | Policy::Log => {
                log_direct(&report);
                keep(&report);
            }
            _ => deliver(report),
        }
    }

    /// Delivers what became of a report already delivered (a long hold ended), once per
    /// report: `outcome` is recorded in the report ([`Report::outcome`], `reports.jsonl`) and
    /// `line` said by the policy, through the same path as reports: `Log` (and `Panic`: a
    /// follow-up never panics) logs `line` and then records the outcome (as with reports, a
    /// program that sees the outcome knows its line is out), `Silent` only records it,
    /// `Callback` records it and calls the callback again with the report, now carrying it.
    pub(crate) fn follow_up(report: &Report, outcome: String, line: &str) {
        if !report.claim_outcome() {
            return;
        }
        match policy() {
            Policy::Silent => report.finish(outcome),
            Policy::Log | Policy::Panic => {
                if has_subscriber() {
                    tracing::warn!(
                        target: "lockwatch",
                        kind = ?report.kind(),
                        thread = report.thread(),
                        outcome = outcome.as_str(),
                        "{line}"
                    );
                } else {
                    eprintln!("lockwatch: {line}");
                }
                report.finish(outcome);
            }
            Policy::Callback(f) => {
                report.finish(outcome);
                let nested = IN_CALLBACK.try_with(|c| c.replace(true)).unwrap_or(true);
                if nested {
                    eprintln!("lockwatch: {line}");
                    return;
                }
                let result = catch_unwind(AssertUnwindSafe(|| f(report)));
                let _ = IN_CALLBACK.try_with(|c| c.set(false));
                if result.is_err() {
                    eprintln!("lockwatch: the report callback panicked on a follow-up: {line}");
                }
            }
        }
    }

    fn has_subscriber() -> bool {
        tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>())
    }

    /// The report's main fields for a `tracing` event, so that a log pipeline can filter
    /// without parsing the text: the locks' classes and the sites, comma-separated.
    fn fields(report: &Report) -> (String, String) {
        let locks: Vec<String> = report
            .locks()
            .iter()
            .map(|l| match l.instance {
                Some(id) => format!("{l} #{id}"),
                None => l.to_string(),
            })
            .collect();
        let sites: Vec<String> = report.sites().iter().map(|s| s.to_string()).collect();
        (locks.join(", "), sites.join(", "))
    }

    pub(crate) fn log(report: &Report) {
        if has_subscriber() {
            let (locks, sites) = fields(report);
            tracing::warn!(
                target: "lockwatch",
                kind = ?report.kind(),
                thread = report.thread(),
                locks = locks.as_str(),
                sites = sites.as_str(),
                "{report}"
            );
        } else {
            eprintln!("lockwatch: {report}");
        }
    }

    /// As [`log`], for reports raised on the watchdog thread: without a subscriber the line
    /// goes to the process's stderr itself. (`eprintln!` would go to whatever output capture
    /// the watchdog inherited from the thread that started it, such as one test's captured
    /// output under `cargo test`, and be lost if the process then aborts.)
    pub(crate) fn log_direct(report: &Report) {
        if has_subscriber() {
            log(report);
        } else {
            stderr_line(&format!("lockwatch: {report}"));
        }
    }

    /// One line on the process's stderr, past any output capture.
    pub(crate) fn stderr_line(line: &str) {
        use std::io::Write as _;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
        let _ = err.flush();
    }
}

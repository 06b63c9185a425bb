//! The watchdog: one background thread that keeps a coarse clock and watches what every thread
//! holds and waits for, reporting long holds, long waits and actual deadlocks while they last.
//!
//! Each thread's held-lock stack lives in its [`Inventory`]: rows of relaxed atomics under a
//! push-counted length word (`seqlock.rs`), written only by the owner (stores, never a
//! read-modify-write) and read by the watchdog, which retries a torn read. The order check
//! reads the same rows, so a push is written once. Waits are published only on the contended
//! path, where a lock and a clock read cost nothing next to the wait itself.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::class::LockClass;
use super::held::{self, Held, Inventory, Mode, Waiting};
use crate::report::{Acquisition, BlockedThread, Doing, Finding, Holder, Notifier, Report, Site};
use crate::settings::OnDeadlock;

// ---------------------------------------------------------------------------------------------
// Settings (owned by `crate::settings`; these apply them).

fn settings() -> &'static crate::settings::Settings {
    crate::settings::get()
}

pub(crate) fn set_long_hold(d: Duration) {
    settings()
        .long_hold_ms
        .store((d.as_millis() as u64).max(1), Relaxed);
}

pub(crate) fn set_long_wait(d: Duration) {
    settings()
        .long_wait_ms
        .store((d.as_millis() as u64).max(1), Relaxed);
}

pub(crate) fn set_enabled(on: bool) {
    settings().watchdog.store(on, Relaxed);
    if on {
        if let Some(t) = shared().thread.get() {
            t.unpark();
        }
    }
}

pub(crate) fn set_on_deadlock(what: OnDeadlock) {
    settings()
        .abort_on_deadlock
        .store(what == OnDeadlock::Abort, Relaxed);
}

// ---------------------------------------------------------------------------------------------
// The clock and the thread.

/// The coarse clock, `tick << 1 | sleeping`: the tick is milliseconds since the watchdog
/// started, advanced by the watchdog while locks are held; `sleeping` is set while it sleeps
/// because nothing was held. One word, so that an acquisition reads both with one load.
static CLOCK: AtomicU64 = AtomicU64::new(SLEEPING);
const SLEEPING: u64 = 1;

/// Brings the tick up to `now` (it never goes back), leaving the sleeping bit as it is.
fn advance(now: u64) {
    let _ = CLOCK.fetch_update(Relaxed, Relaxed, |c| {
        Some(((c >> 1).max(now) << 1) | (c & SLEEPING))
    });
}

fn set_sleeping(sleeping: bool) {
    if sleeping {
        CLOCK.fetch_or(SLEEPING, Relaxed);
    } else {
        CLOCK.fetch_and(!SLEEPING, Relaxed);
    }
}
static STARTED: AtomicBool = AtomicBool::new(false);
static WAKEUPS: AtomicU64 = AtomicU64::new(0);
static SCANS: AtomicU64 = AtomicU64::new(0);

struct Shared {
    thread: OnceLock<std::thread::Thread>,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared {
        thread: OnceLock::new(),
    })
}

fn now_ms() -> u64 {
    super::epoch::epoch().elapsed().as_millis() as u64
}

/// The tick to stamp an acquisition with. One relaxed load, unless the watchdog sleeps: then
/// it is woken (cold) and the tick brought up to date first.
#[inline(always)]
pub(crate) fn stamp() -> u64 {
    let clock = CLOCK.load(Relaxed);
    if clock & SLEEPING != 0 {
        return wake();
    }
    clock >> 1
}

#[cold]
#[inline(never)]
fn wake() -> u64 {
    let now = now_ms();
    let before = CLOCK.fetch_update(Relaxed, Relaxed, |c| Some((c >> 1).max(now) << 1));
    if before.is_ok_and(|c| c & SLEEPING != 0) {
        start();
        if let Some(t) = shared().thread.get() {
            t.unpark();
        }
    }
    now
}

fn start() {
    if STARTED.swap(true, AcqRel) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("lockwatch-watchdog".into())
        .spawn(run);
    match spawned {
        Ok(handle) => {
            let _ = shared().thread.set(handle.thread().clone());
            super::dump::install();
        }
        Err(e) => {
            eprintln!("lockwatch: could not start the watchdog thread ({e}); long holds, long waits and deadlocks will not be reported");
        }
    }
}

/// (wake-ups, scans, threads with tracking state) so far.
pub(crate) fn stats() -> (u64, u64, usize) {
    (
        WAKEUPS.load(Relaxed),
        SCANS.load(Relaxed),
        held::thread_count(),
    )
}

const TICK_MS: u64 = 1;
const SCAN_EVERY_MS: u64 = 10;
/// How long the watchdog sleeps when nothing is held before it looks again on its own (an
/// acquisition wakes it at once; this bounds a missed wake-up).
const IDLE_SLEEP: Duration = Duration::from_secs(1);

fn run() {
    let mut state = ScanState::default();
    let mut last_scan = 0;
    let mut last_flush = 0;
    let flushing = crate::settings::dir().is_some();
    loop {
        if !settings().watchdog.load(Relaxed) {
            // Switched off: no clock, no scans, until switched on again.
            set_sleeping(false);
            std::thread::park();
            continue;
        }
        WAKEUPS.fetch_add(1, Relaxed);
        let now = now_ms();
        advance(now);
        if flushing {
            super::dump::periodic(&mut last_flush, now);
        }
        if now >= last_scan + SCAN_EVERY_MS {
            last_scan = now;
            SCANS.fetch_add(1, Relaxed);
            let busy = scan(&mut state, now);
            if !busy {
                set_sleeping(true);
                // Look once more: an acquisition that saw the clock awake just before may
                // have published since the scan.
                if scan(&mut state, now) {
                    set_sleeping(false);
                } else {
                    std::thread::park_timeout(IDLE_SLEEP);
                    set_sleeping(false);
                    continue;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(TICK_MS));
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning.

/// Holds reported as long and not yet released: (inventory, lock id, since) -> the report.
/// The watchdog adds; the owner's release takes the entry out and adds the final duration.
static LONG_HOLDS: parking_lot::Mutex<Option<HashMap<HoldKey, (Report, Occurrence)>>> =
    parking_lot::Mutex::new(None);

/// The threads known to notify each condvar (by address): (inventory key, notify site).
static NOTIFIERS: parking_lot::Mutex<Option<HashMap<usize, Vec<NotifiedBy>>>> =
    parking_lot::Mutex::new(None);

/// A known notifier of a condvar: its thread's inventory key, where it notified, its name.
type NotifiedBy = (usize, &'static std::panic::Location<'static>, Arc<str>);

/// Records that the thread of inventory `key` notifies `condvar` (cold: once per pair).
pub(crate) fn notifies(
    condvar: usize,
    inventory: &Inventory,
    site: &'static std::panic::Location<'static>,
) {
    let key = inventory.key();
    let mut map = NOTIFIERS.lock();
    let list = map
        .get_or_insert_with(HashMap::new)
        .entry(condvar)
        .or_default();
    if !list.iter().any(|(k, _, _)| *k == key) {
        list.push((key, site, inventory.name()));
    }
}

/// Whether a reported hold made its report or repeated an earlier one's finding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Occurrence {
    First,
    Repeat,
}

/// Long holds and long waits reported, by (class, site): the same finding again (every worker
/// of a pool holding the job queue's lock while it waits for a job) is counted in the first
/// report instead of making another.
static REPEATS: parking_lot::Mutex<Option<HashMap<RepeatKey, Report>>> =
    parking_lot::Mutex::new(None);

/// A long hold or wait finding, by (kind, class address, site address).
type RepeatKey = (crate::ReportKind, usize, usize);

/// The report already made for this kind of finding on a lock of `class` at `site`, counted
/// once more; `None` if this is the first.
fn repeated(
    kind: crate::ReportKind,
    class: &LockClass,
    site: &'static std::panic::Location<'static>,
    duration: Duration,
) -> Option<Report> {
    let key = (
        kind,
        class as *const LockClass as usize,
        site as *const _ as usize,
    );
    let report = REPEATS.lock().as_ref()?.get(&key).cloned()?;
    report.repeat(Some(duration));
    Some(report)
}

fn remember(
    kind: crate::ReportKind,
    class: &LockClass,
    site: &'static std::panic::Location<'static>,
    report: &Report,
) {
    let key = (
        kind,
        class as *const LockClass as usize,
        site as *const _ as usize,
    );
    REPEATS
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(key, report.clone());
}

/// One hold of one lock by one thread, as the watchdog and the releasing owner both name it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct HoldKey {
    /// The holder's inventory (its address: unique while the thread lives).
    thread: usize,
    lock: u64,
    /// The tick the hold began.
    since: u64,
}

#[derive(Default)]
struct ScanState {
    /// Holds reported as long, kept until they end.
    seen_holds: HashSet<HoldKey>,
    /// Waits reported as long: (inventory, wait start).
    long_waits: HashSet<(usize, Instant)>,
    /// Wait-for cycles seen at the previous scan, and those already reported.
    suspected: HashSet<Vec<(usize, Instant)>>,
    reported_cycles: HashSet<Vec<(usize, Instant)>>,
    /// The threads and locks of the deadlocks reported: their long holds and long waits are
    /// part of those reports, not new ones.
    deadlocked_threads: HashSet<usize>,
    deadlocked_locks: HashSet<u64>,
    /// Knots through condvar waits seen at the previous scan, and those already reported.
    suspected_knots: HashSet<Vec<(usize, Instant)>>,
    reported_knots: HashSet<Vec<(usize, Instant)>>,
    /// The waits of an every-thread-blocked report already made.
    reported_all_blocked: HashSet<Vec<(usize, Instant)>>,
}

struct ThreadView {
    key: usize,
    /// The thread's (or task's) name, read once per scan.
    name: Arc<str>,
    /// Who holds what it waits for, when only described (a lease held by another process).
    held_elsewhere: Option<Arc<str>>,
    /// Its wait is part of a deadlock reported outside the watchdog (across processes).
    deadlocked: bool,
    inventory: Arc<Inventory>,
    held: Vec<Held>,
    waiting: Option<Waiting>,
    /// The lock it waits for in a lock call made the direct way (announced in its held
    /// stack's next row): the wait is `waiting` too.
    acquiring: Option<Held>,
}

/// One pass over every thread. Returns whether anything was held or waited for.
fn scan(state: &mut ScanState, now: u64) -> bool {
    let inventories: Vec<Arc<Inventory>> = held::inventories();
    // Untimed lock waits that have lasted 2 ms go into the contention profile (and are blamed
    // on their holders) from here on.
    let before = super::epoch::nanos_of(Instant::now()).saturating_sub(2_000_000);
    for inventory in &inventories {
        inventory.promote_long_wait(before, |contention, start, sampled| {
            // SAFETY: The owner of the wait is blocked on the lock that owns this
            // `Contention` and cannot end the wait while it is being promoted (see
            // `Inventory::promote_long_wait`), so the lock, and its `Contention`, are alive.
            let contention =
                unsafe { &*(contention as *const crate::contention::profile::Contention) };
            if sampled {
                // Timed and registered by its owner: from now on it stands for itself.
                contention.rescale(inventory.key(), 1);
            } else {
                contention.enter(inventory.key(), start);
            }
        });
    }
    if crate::report::backtrace_level() > 0 {
        // Switched on while threads ran: their next direct acquisitions are drawn (with their
        // stacks) from this scan on; threads made since draw their first.
        for inventory in &inventories {
            inventory.draw_next();
        }
    }
    let views: Vec<ThreadView> = inventories
        .into_iter()
        .filter_map(|inventory| {
            let (held, acquiring) = inventory.view()?;
            let waiting = inventory
                .published_waiting()
                .or_else(|| acquiring.map(|a| a.as_wait()));
            Some(ThreadView {
                key: Arc::as_ptr(&inventory) as usize,
                name: inventory.name(),
                held_elsewhere: inventory.held_elsewhere(),
                deadlocked: inventory.deadlocked(),
                inventory,
                held,
                waiting,
                acquiring,
            })
        })
        .collect();
    #[allow(unused_mut)]
    let mut busy = views
        .iter()
        .any(|v| !v.held.is_empty() || v.waiting.is_some());
    let mut reports = Vec::new();
    #[cfg(feature = "redis")]
    {
        busy |= super::leases::any();
        super::leases::expired(&mut reports);
    }
    direct_waits(&views, now);
    long_holds(state, &views, now, &mut reports);
    long_waits(state, &views, now, &mut reports);
    let deadlocked = deadlocks(state, &views, now, &mut reports)
        | knots(state, &views, now, &mut reports)
        | all_blocked(state, &views, now, &mut reports);
    for report in reports {
        crate::report::deliver_from_watchdog(report);
    }
    if deadlocked && settings().abort_on_deadlock.load(Relaxed) {
        super::dump::before_abort();
        crate::report::stderr_line("lockwatch: aborting on deadlock (LOCKWATCH_ON_DEADLOCK=abort)");
        std::process::abort();
    }
    busy
}

/// A held entry as report data, held for `now - since` ticks.
fn hold(h: &Held, now: u64) -> Acquisition {
    super::explain::held(h, false, Some(ticks(now.saturating_sub(h.since))))
}

fn ticks(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// What the thread of `v` is doing now, for a report about a lock it holds.
fn doing(v: &ThreadView) -> Doing {
    match v.waiting {
        None if v.inventory.task => Doing::TaskNotWaiting,
        None => Doing::Running,
        Some(w) if w.condvar.is_some() => Doing::ParkedInCondvarWait(wait(&w)),
        Some(w) => Doing::WaitingFor(wait(&w)),
    }
}

/// A published wait as report data.
fn wait(w: &Waiting) -> Acquisition {
    Acquisition {
        lock: super::explain::lock_name(w.class, None),
        method: w.method.as_str(),
        site: Site::of(w.site),
        trylock: false,
        duration: Some(w.since.elapsed()),
        called_from: None,
    }
}

fn long_holds(state: &mut ScanState, views: &[ThreadView], now: u64, out: &mut Vec<Report>) {
    let threshold = settings().long_hold_ms.load(Relaxed);
    let mut still_held = HashSet::new();
    let mut reported = LONG_HOLDS.lock();
    let reported = reported.get_or_insert_with(HashMap::new);
    for v in views {
        for h in &v.held {
            let key = HoldKey {
                thread: v.key,
                lock: h.id,
                since: h.since,
            };
            still_held.insert(key);
            let held_for = now.saturating_sub(h.since);
            if held_for < threshold
                || reported.contains_key(&key)
                || state.seen_holds.contains(&key)
            {
                continue;
            }
            state.seen_holds.insert(key);
            if v.deadlocked
                || state.deadlocked_threads.contains(&v.key)
                || state.deadlocked_locks.contains(&h.id)
            {
                continue; // Part of a deadlock already reported.
            }
            let kind = crate::ReportKind::LongHold;
            let (report, occurrence) = match repeated(kind, h.class, h.site, ticks(held_for)) {
                Some(report) => (report, Occurrence::Repeat),
                None => {
                    let report = Report::new(Finding::LongHold {
                        thread: v.name.to_string(),
                        hold: hold(h, now),
                        threshold: ticks(threshold),
                        held: v.held.iter().map(|other| hold(other, now)).collect(),
                        doing: doing(v),
                    });
                    remember(kind, h.class, h.site, &report);
                    out.push(report.clone());
                    (report, Occurrence::First)
                }
            };
            v.inventory.mark_reported(h.id, h.since);
            reported.insert(key, (report, occurrence));
        }
    }
    // Holds that ended (or whose thread exited) are forgotten.
    reported.retain(|k, _| still_held.contains(k));
    state.seen_holds.retain(|k| still_held.contains(k));
}

/// Called by the owner on releasing a hold the watchdog reported: adds the final duration to
/// the report and logs it.
#[cold]
pub(crate) fn released_long(inventory: &Inventory, held: &Held) {
    let key = HoldKey {
        thread: inventory as *const Inventory as usize,
        lock: held.id,
        since: held.since,
    };
    let report = LONG_HOLDS.lock().as_mut().and_then(|m| m.remove(&key));
    if let Some((report, occurrence)) = report {
        let total = ticks(now_ms().saturating_sub(held.since));
        report.lasted(total);
        if occurrence == Occurrence::First {
            let line = crate::report::hold_over(
                &inventory.name(),
                &super::explain::held(held, false, None),
                total,
            );
            crate::report::follow_up(
                &report,
                format!("released after {}", crate::report::ms(total)),
                &line,
            );
        }
    }
}

/// How long a wait lasts before it goes into the contention profile whatever the draw, and is
/// blamed on its holders: 2 ms, in ticks.
const LONG_WAIT_TICKS: u64 = 2;

/// A wait made the direct way (see `LockMeta::direct`) that lasted: blamed on the holders of
/// its lock when they release it, until it ends.
struct DirectWait {
    id: u64,
    waiter: Arc<Inventory>,
    /// The tick the wait began at (with `id`, what the waiter's row shows while it waits).
    since: u64,
    /// How far (ns after the tracker's epoch) its waiting has been charged.
    charged: u64,
    /// When it ended (ns after the epoch), as its waiter said ([`direct_wait_ended`]); 0 while
    /// it has not.
    ended: u64,
}

/// The direct waits that lasted, registered by the watchdog.
static DIRECT_WAITS: parking_lot::Mutex<Vec<DirectWait>> = parking_lot::Mutex::new(Vec::new());

/// Registers the direct waits that have lasted [`LONG_WAIT_TICKS`] for blame, marks the holds
/// of their locks so that their release charges them (a holder that takes the lock between
/// two scans is marked at the next: its share goes to the next marked release), and forgets
/// the waits that ended (one that its waiter said ended, a scan later: the release that ended
/// it may not have charged it yet).
fn direct_waits(views: &[ThreadView], now: u64) {
    let mut waits = DIRECT_WAITS.lock();
    waits.retain(|d| {
        if d.ended != 0 {
            d.ended / 1_000_000 + 2 * SCAN_EVERY_MS > now
        } else {
            d.waiter.still_acquiring(d.id, d.since)
        }
    });
    for v in views {
        let Some(a) = v.acquiring else { continue };
        if now < a.since + LONG_WAIT_TICKS {
            continue;
        }
        if !waits
            .iter()
            .any(|d| d.id == a.id && d.since == a.since && Arc::ptr_eq(&d.waiter, &v.inventory))
        {
            waits.push(DirectWait {
                id: a.id,
                waiter: Arc::clone(&v.inventory),
                since: a.since,
                charged: a.since.saturating_mul(1_000_000),
                ended: 0,
            });
        }
        v.inventory.mark_lasted(a.id, a.since);
        for (holder, _) in holders(views, a.id) {
            holder.inventory.mark_blamed(a.id);
        }
    }
}

/// A hold of lock `id` marked for blame (see [`direct_waits`]) was released (after its
/// unlock): the waiting of the direct waits for it since they were last charged goes to this
/// holder's stack. A wait that has ended is charged for the last time: up to its end if its
/// waiter said when, else up to now (it ended after this release's unlock, which let its
/// waiter in; it is not forgotten uncharged because the waiter got there first).
#[cold]
#[inline(never)]
pub(crate) fn blame_direct(id: u64, class: &'static LockClass) {
    let now = super::epoch::nanos_of(Instant::now());
    let (mut waited, mut count) = (0u64, 0u64);
    DIRECT_WAITS.lock().retain_mut(|d| {
        if d.id != id {
            return true;
        }
        let on = d.ended == 0 && d.waiter.still_acquiring(d.id, d.since);
        let end = if d.ended != 0 { d.ended.min(now) } else { now };
        waited += end.saturating_sub(d.charged);
        count += 1;
        d.charged = end;
        on
    });
    if count > 0 {
        crate::contention::profile::charge_blame(super::ClassRef(class), waited, count, true);
    }
}

/// The waiter of a direct wait for lock `id` that began at tick `since` (the thread's or task's
/// inventory at address `waiter`), which the watchdog marked as lasting, got the lock now: a
/// release that charges the wait later charges it up to now, not up to that release.
#[cold]
pub(crate) fn direct_wait_ended(waiter: usize, id: u64, since: u64) {
    let now = super::epoch::nanos_of(Instant::now());
    for d in DIRECT_WAITS.lock().iter_mut() {
        if d.id == id && d.since == since && Arc::as_ptr(&d.waiter) as usize == waiter {
            d.ended = now.max(1);
        }
    }
}

fn holders(views: &[ThreadView], id: u64) -> Vec<(&ThreadView, Held)> {
    views
        .iter()
        .flat_map(|v| v.held.iter().filter(|h| h.id == id).map(move |h| (v, *h)))
        .collect()
}

fn long_waits(state: &mut ScanState, views: &[ThreadView], now: u64, out: &mut Vec<Report>) {
    let threshold = Duration::from_millis(settings().long_wait_ms.load(Relaxed));
    let mut waiting_now = HashSet::new();
    for v in views {
        let Some(w) = v.waiting else { continue };
        if w.condvar.is_some() {
            continue; // a condvar wait is not a wait for a lock (no long-wait report)
        }
        let key = (v.key, w.since);
        waiting_now.insert(key);
        let waited = w.since.elapsed();
        if waited < threshold || state.long_waits.contains(&key) {
            continue;
        }
        state.long_waits.insert(key);
        if v.deadlocked
            || state.deadlocked_threads.contains(&v.key)
            || state.deadlocked_locks.contains(&w.id)
        {
            continue; // Part of a deadlock already reported.
        }
        if repeated(crate::ReportKind::LongWait, w.class, w.site, waited).is_some() {
            continue;
        }
        let report = Report::new(Finding::LongWait {
            thread: v.name.to_string(),
            waits_for: wait(&w),
            threshold,
            holders: holders(views, w.id)
                .into_iter()
                .map(|(o, h)| Holder {
                    thread: o.name.to_string(),
                    hold: hold(&h, now),
                    doing: doing(o),
                })
                .chain(
                    v.held_elsewhere
                        .as_deref()
                        .map(|who| remote_holder(who, &w)),
                )
                .collect(),
        });
        remember(crate::ReportKind::LongWait, w.class, w.site, &report);
        out.push(report);
    }
    state.long_waits.retain(|k| waiting_now.contains(k));
}

/// A holder known only by its description, `... at file:line:col` (a lease's stored value):
/// the hold's site is the one the description ends with, when it has one.
fn remote_holder(who: &str, w: &Waiting) -> Holder {
    let mut hold = wait(w);
    hold.method = "lock";
    hold.duration = None;
    if let Some(site) = who.rsplit_once(" at ").and_then(|(_, at)| Site::parse(at)) {
        hold.site = site;
    }
    Holder {
        thread: who.to_owned(),
        hold,
        doing: Doing::InAnotherProcess,
    }
}

/// Whether a request in mode `want` must wait for a holder in mode `held`.
fn conflicts(want: Mode, held: Mode) -> bool {
    let exclusive = |m: Mode| matches!(m, Mode::Exclusive | Mode::Reentrant | Mode::Init);
    exclusive(want) || exclusive(held) || (want == Mode::Upgradable && held == Mode::Upgradable)
}

/// The threads `v` waits for: the holders of the lock it wants and, for a read blocked only
/// by readers, the writers queued ahead of it.
fn waits_for(views: &[ThreadView], v: &ThreadView) -> Vec<usize> {
    let Some(w) = v.waiting else {
        return Vec::new();
    };
    if w.condvar.is_some() {
        return Vec::new(); // parked on a condvar: see `knots`
    }
    let owners = holders(views, w.id);
    let mut targets: Vec<usize> = owners
        .iter()
        .filter(|(_, h)| conflicts(w.mode, h.mode))
        .map(|(o, _)| o.key)
        .collect();
    if w.mode == Mode::Read && targets.is_empty() && !owners.is_empty() {
        targets.extend(
            views
                .iter()
                .filter(|o| {
                    o.waiting
                        .is_some_and(|ow| ow.id == w.id && !ow.mode.holds_shared())
                })
                .map(|o| o.key),
        );
    }
    targets
}

fn deadlocks(state: &mut ScanState, views: &[ThreadView], now: u64, out: &mut Vec<Report>) -> bool {
    let index: HashMap<usize, usize> = views.iter().enumerate().map(|(i, v)| (v.key, i)).collect();
    let edges: Vec<Vec<usize>> = views
        .iter()
        .map(|v| {
            waits_for(views, v)
                .iter()
                .filter_map(|k| index.get(k).copied())
                .collect()
        })
        .collect();
    let mut cycles: HashSet<Vec<(usize, Instant)>> = HashSet::new();
    let mut found = Vec::new();
    for start in 0..views.len() {
        if let Some(cycle) = cycle_from(start, &edges) {
            let mut key: Vec<(usize, Instant)> = cycle
                .iter()
                .filter_map(|&i| views[i].waiting.map(|w| (views[i].key, w.since)))
                .collect();
            key.sort();
            if cycles.insert(key.clone()) {
                found.push((key, cycle));
            }
        }
    }
    let mut any = false;
    for (key, cycle) in found {
        // A cycle must be seen by two scans in a row (the same waits) before it is reported:
        // one snapshot of several threads is not atomic.
        if state.suspected.contains(&key) && state.reported_cycles.insert(key.clone()) {
            for &i in &cycle {
                let v = &views[i];
                state.deadlocked_threads.insert(v.key);
                state.deadlocked_locks.extend(v.held.iter().map(|h| h.id));
                state.deadlocked_locks.extend(v.waiting.map(|w| w.id));
            }
            match self_deadlock_hang(views, &cycle) {
                // A thread blocked on itself: the self-deadlock reported before it blocked
                // says so; the hang is its outcome, not a second report.
                Some((report, line)) => {
                    crate::report::follow_up(&report, "it hung".to_owned(), &line);
                }
                None => out.push(deadlock_report(views, &cycle, now)),
            }
            any = true;
        }
    }
    state.suspected = cycles;
    any
}

/// Deadlocks through condvar waits: a thread parked on a condvar waits for the threads known to
/// notify it, and is stuck when every one of them is stuck; a thread waiting for a lock is
/// stuck when a thread it waits for is. The stuck set is the largest one closed under these
/// rules (a knot): everything in it waits only on threads in it. The evidence required, so
/// that an idle pool is never reported: the condvar has a known notifier (a thread that
/// called `notify_*` on it), alive; timed waits are never stuck (they wake by themselves); a
/// thread that is running, or blocked outside lockwatch, is never stuck. Knots with no
/// condvar wait in them are the lock cycles `deadlocks` reports already. Seen by two scans in
/// a row before it is reported, as cycles are.
fn knots(state: &mut ScanState, views: &[ThreadView], now: u64, out: &mut Vec<Report>) -> bool {
    let notifiers = NOTIFIERS.lock().clone().unwrap_or_default();
    let index: HashMap<usize, usize> = views.iter().enumerate().map(|(i, v)| (v.key, i)).collect();
    let known_notifiers = |v: &ThreadView, condvar: usize| -> Vec<usize> {
        notifiers
            .get(&condvar)
            .into_iter()
            .flatten()
            .filter(|(k, _, _)| *k != v.key)
            .filter_map(|(k, _, _)| index.get(k).copied())
            .collect()
    };
    let mut stuck: Vec<bool> = views
        .iter()
        .map(|v| match v.waiting {
            None => false,
            Some(w) => match w.condvar {
                None => true,
                Some(c) => !c.timed && !known_notifiers(v, c.condvar).is_empty(),
            },
        })
        .collect();
    loop {
        let mut changed = false;
        for (i, v) in views.iter().enumerate() {
            if !stuck[i] {
                continue;
            }
            let Some(w) = v.waiting else { continue };
            let still = match w.condvar {
                // Parked: woken by any notifier that is not stuck.
                Some(c) => known_notifiers(v, c.condvar).iter().all(|&n| stuck[n]),
                // Blocked on a lock: stuck while one it waits for is.
                None => waits_for(views, v)
                    .iter()
                    .any(|k| index.get(k).is_some_and(|&n| stuck[n])),
            };
            if !still {
                stuck[i] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // The stuck threads, split into the knots they form (joined by what each waits for).
    let targets = |i: usize| -> Vec<usize> {
        let v = &views[i];
        match v.waiting.and_then(|w| w.condvar) {
            Some(c) => known_notifiers(v, c.condvar),
            None => waits_for(views, v)
                .iter()
                .filter_map(|k| index.get(k).copied())
                .collect(),
        }
    };
    let mut component = vec![usize::MAX; views.len()];
    let mut knots: Vec<Vec<usize>> = Vec::new();
    for start in (0..views.len()).filter(|&i| stuck[i]) {
        if component[start] != usize::MAX {
            continue;
        }
        let mut members = vec![start];
        component[start] = knots.len();
        let mut next = 0;
        while next < members.len() {
            let i = members[next];
            next += 1;
            let linked: Vec<usize> = targets(i)
                .into_iter()
                .chain((0..views.len()).filter(|&j| stuck[j] && targets(j).contains(&i)))
                .collect();
            for j in linked {
                if stuck[j] && component[j] == usize::MAX {
                    component[j] = knots.len();
                    members.push(j);
                }
            }
        }
        knots.push(members);
    }
    let mut suspected = HashSet::new();
    let mut any = false;
    for knot in knots {
        let through_condvar = knot
            .iter()
            .any(|&i| views[i].waiting.is_some_and(|w| w.condvar.is_some()));
        if !through_condvar {
            continue; // a lock cycle: `deadlocks` reports it
        }
        let mut key: Vec<(usize, Instant)> = knot
            .iter()
            .filter_map(|&i| views[i].waiting.map(|w| (views[i].key, w.since)))
            .collect();
        key.sort();
        suspected.insert(key.clone());
        if !state.suspected_knots.contains(&key) || !state.reported_knots.insert(key) {
            continue;
        }
        for &i in &knot {
            let v = &views[i];
            state.deadlocked_threads.insert(v.key);
            state.deadlocked_locks.extend(v.held.iter().map(|h| h.id));
        }
        out.push(knot_report(views, &knot, &notifiers, &index, now));
        any = true;
    }
    state.suspected_knots = suspected;
    any
}

/// The last resort, as Go's runtime has it: every thread with tracking state is blocked in
/// lockwatch's primitives (a lock wait, or an untimed wait on a condvar that some thread has
/// notified before, even one that has exited since) for longer than the long-wait threshold,
/// so none is left to wake another: a lost wake-up, or the last notifier gone without
/// `notify_all`. Reported once per set of waits; waits that `deadlocks` and `knots` reported
/// already are not reported again.
fn all_blocked(
    state: &mut ScanState,
    views: &[ThreadView],
    now: u64,
    out: &mut Vec<Report>,
) -> bool {
    let threshold = Duration::from_millis(settings().long_wait_ms.load(Relaxed));
    let notifiers = NOTIFIERS.lock().clone().unwrap_or_default();
    let mut through_condvar = false;
    for v in views {
        let Some(w) = v.waiting else { return false };
        if w.since.elapsed() < threshold {
            return false;
        }
        if let Some(c) = w.condvar {
            if c.timed || notifiers.get(&c.condvar).map_or(true, |n| n.is_empty()) {
                return false;
            }
            through_condvar = true;
        }
    }
    if !through_condvar
        || views
            .iter()
            .all(|v| state.deadlocked_threads.contains(&v.key))
    {
        return false;
    }
    let mut key: Vec<(usize, Instant)> = views
        .iter()
        .filter_map(|v| v.waiting.map(|w| (v.key, w.since)))
        .collect();
    key.sort();
    if !state.reported_all_blocked.insert(key) {
        return false;
    }
    for v in views {
        state.deadlocked_threads.insert(v.key);
        state.deadlocked_locks.extend(v.held.iter().map(|h| h.id));
    }
    let index: HashMap<usize, usize> = views.iter().enumerate().map(|(i, v)| (v.key, i)).collect();
    let all: Vec<usize> = (0..views.len()).collect();
    out.push(knot_report(views, &all, &notifiers, &index, now));
    true
}

/// The Deadlock report of a knot through condvar waits.
fn knot_report(
    views: &[ThreadView],
    knot: &[usize],
    notifiers: &HashMap<usize, Vec<NotifiedBy>>,
    index: &HashMap<usize, usize>,
    now: u64,
) -> Report {
    let mut ordered = knot.to_vec();
    ordered.sort_by_key(|&i| views[i].name.clone());
    let threads = ordered
        .iter()
        .filter_map(|&i| {
            let v = &views[i];
            let w = v.waiting?;
            let condvar_notifiers = w.condvar.map(|c| {
                notifiers
                    .get(&c.condvar)
                    .into_iter()
                    .flatten()
                    .map(|(k, site, name)| Notifier {
                        thread: name.to_string(),
                        site: Site::of(site),
                        exited: !index.contains_key(k),
                    })
                    .collect()
            });
            let (waits_for, backtrace) = wait_with_trace(v, &w);
            Some(BlockedThread {
                thread: v.name.to_string(),
                waits_for,
                holds: v.held.iter().map(|h| hold(h, now)).collect(),
                condvar_notifiers,
                backtrace,
            })
        })
        .collect();
    Report::new(Finding::Deadlock { threads })
}

/// For a one-thread cycle (a thread waiting for a lock it holds), the self-deadlock report
/// made before it blocked, and the line that says it hung.
fn self_deadlock_hang(views: &[ThreadView], cycle: &[usize]) -> Option<(Report, String)> {
    let [i] = cycle else { return None };
    let v = &views[*i];
    let w = v.waiting?;
    let held = v.held.iter().rev().find(|h| h.id == w.id)?;
    let report = super::self_deadlock_report(w.class, held.site, w.site)?;
    let line = format!(
        "self-deadlock hung: thread `{}` is blocked for good in {}() at {}, on {} it took at {}",
        v.name,
        w.method.as_str(),
        w.site,
        w.class,
        held.site
    );
    Some((report, line))
}

/// A cycle through `start` in the wait-for graph, as view indices, if there is one.
fn cycle_from(start: usize, edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    let mut path = vec![start];
    let mut next_edge = vec![0usize];
    let mut on_path = HashSet::from([start]);
    let mut done = HashSet::new();
    while let Some(&node) = path.last() {
        let i = next_edge.last_mut().expect("parallel stacks");
        if let Some(&to) = edges[node].get(*i) {
            *i += 1;
            if to == start {
                return Some(path);
            }
            if !on_path.contains(&to) && !done.contains(&to) {
                path.push(to);
                next_edge.push(0);
                on_path.insert(to);
            }
        } else {
            path.pop();
            next_edge.pop();
            on_path.remove(&node);
            done.insert(node);
        }
    }
    None
}

/// A blocked thread's wait, with its backtrace (and the user's line behind it) when
/// backtraces are on.
fn wait_with_trace(v: &ThreadView, w: &Waiting) -> (Acquisition, Option<String>) {
    let mut waits_for = wait(w);
    let Some(trace) = v.inventory.wait_backtrace() else {
        return (waits_for, None);
    };
    waits_for.called_from = trace.called_from(waits_for.site);
    (waits_for, Some(trace.render()))
}

fn deadlock_report(views: &[ThreadView], cycle: &[usize], now: u64) -> Report {
    // The same cycle reads the same whichever thread the search started from: rotated to begin
    // at the thread whose name sorts first.
    let first = (0..cycle.len())
        .min_by_key(|&i| &views[cycle[i]].name)
        .unwrap_or(0);
    let threads = cycle[first..]
        .iter()
        .chain(&cycle[..first])
        .filter_map(|&i| {
            let v = &views[i];
            let w = v.waiting.as_ref()?;
            let (waits_for, backtrace) = wait_with_trace(v, w);
            Some(BlockedThread {
                thread: v.name.to_string(),
                waits_for,
                holds: v.held.iter().map(|h| hold(h, now)).collect(),
                condvar_notifiers: None,
                backtrace,
            })
        })
        .collect();
    Report::new(Finding::Deadlock { threads })
}

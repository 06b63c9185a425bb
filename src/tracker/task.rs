//! Held locks per tokio task (feature `tokio`).
//!
//! A task's tokio guards follow it across worker threads and `.await` points, so its held
//! locks cannot live on a thread's stack. Each task that takes a tokio lock gets an entry of
//! its own, keyed by its task id, whose [`Inventory`] the watchdog reads like a thread's: long
//! holds across awaits, long waits, and cycles of tasks waiting for each other.
//!
//! The rows have one writer, the task itself: tokio runs a task's polls one at a time, each
//! after the last, whichever worker runs them, so the owner needs no lock and no atomic
//! read-modify-write to push and pop. A guard dropped on another task or thread (an owned
//! guard sent away) records its release beside the rows (`Inventory::change_elsewhere`);
//! readers leave it out at once and the owner applies it at its next acquisition or release.
//!
//! Entries are never freed: a task's entry is found by its id through this thread's cache or
//! the table, and one idle for [`IDLE_MS`] (nothing held, nothing awaited: most often, the
//! task has ended, which tokio does not announce) is retired to a pool and reused, after a
//! grace period, by a later task. So every reference to an entry stays valid memory; one that
//! outlived its task's ownership is caught by comparing the entry's owner with the task id.
//!
//! One graph: an acquisition in a task is ordered after the task's tokio locks and after
//! what its thread holds in this poll (std and parking_lot guards, which cannot cross an
//! `.await`), and a std or parking_lot lock taken in a task is ordered after the task's tokio
//! locks. Outside a task (a plain thread, `block_on`, `blocking_lock` from sync code) tokio
//! locks use the thread's own held stack, like std's.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::Id;

use super::held::{self, Held, Inventory, Method, Mode, Waiting};
use super::{check_order, check_order_thread, edges_known, watchdog, HeldToken, Ident, LockMeta};
use crate::contention::profile::{self, ClassRef, Contention};

/// One task's held tokio locks.
pub(crate) struct TaskHeld {
    /// The owning task's id, 0 while pooled.
    owner: AtomicU64,
    inventory: Arc<Inventory>,
    /// The watchdog tick of the owner's last acquisition or release.
    last_used: AtomicU64,
}

/// An entry whose task holds nothing and waits for nothing for this long is retired.
const IDLE_MS: u64 = 10_000;
/// A retired entry is reused no sooner than this: whatever its last owner was doing with it
/// when it was retired has long finished.
const GRACE_MS: u64 = 2_000;

impl TaskHeld {
    /// Whether task `task` owns this entry (it was not retired under it).
    #[inline(always)]
    fn owned_by(&self, task: u64) -> bool {
        self.owner.load(Relaxed) == task
    }

    /// Owner only: applies releases and downgrades made elsewhere (their guards finished
    /// them).
    #[inline(always)]
    fn catch_up(&self) {
        let _ = self.inventory.apply_elsewhere();
    }
}

/// Per slot of task ids, how many entries were ever made for tasks of that slot: a std
/// acquisition in a task whose slot shows the count its cache saw (or zero) knows in one load
/// that the task has no entry, so holds no tokio lock.
static MADE: [AtomicU32; 1024] = [const { AtomicU32::new(0) }; 1024];

#[inline(always)]
fn made(task: u64) -> &'static AtomicU32 {
    &MADE[task as usize % MADE.len()]
}

/// Task ids as numbers (tokio hands them out from a counter, never 0): they hash to
/// themselves.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Task `task`'s id as a number.
#[inline(always)]
fn number(task: Id) -> u64 {
    let mut h = IdHasher::default();
    task.hash(&mut h);
    h.finish()
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

struct Tasks {
    map: IdMap<&'static TaskHeld>,
    /// Retired entries, oldest first, with the tick they were retired at.
    pool: VecDeque<(u64, &'static TaskHeld)>,
    /// Sweep when the table reaches this size.
    sweep_at: usize,
}

static TASKS: parking_lot::Mutex<Option<Tasks>> = parking_lot::Mutex::new(None);

/// Set once a task takes its first tracked tokio lock: until then std acquisitions skip the
/// task check altogether.
static IN_USE: AtomicBool = AtomicBool::new(false);

const CACHED: usize = 8;

thread_local! {
    /// The entries of the tasks this thread ran last, by the low bits of their id: (task,
    /// its entry or none, the task's [`MADE`] count when it was looked up).
    static CACHE: [Cell<Cached>; CACHED] = const { [const { Cell::new((0, None, 0)) }; CACHED] };
}

type Cached = (u64, Option<&'static TaskHeld>, u32);

/// Whether any task has taken a tracked tokio lock (one relaxed load).
#[inline(always)]
pub(super) fn in_use() -> bool {
    IN_USE.load(Relaxed)
}

/// The entry of task `task` (a number), from this thread's cache or the table; made, named
/// after `site`, when `make` and it has none.
#[inline]
fn entry(task: u64, make: Option<Site>) -> Option<&'static TaskHeld> {
    let way = task as usize % CACHED;
    let cached = CACHE.try_with(|c| c[way].get()).unwrap_or((0, None, 0));
    match cached {
        (id, Some(th), _) if id == task && th.owned_by(task) => return Some(th),
        // Known to have none, and no entry was made in its slot since.
        (id, None, seen) if id == task && make.is_none() && made(task).load(Relaxed) == seen => {
            return None
        }
        _ => {}
    }
    if make.is_none() && made(task).load(Relaxed) == 0 {
        // No entry was ever made in its slot.
        return None;
    }
    let (th, seen) = from_table(task, make);
    let _ = CACHE.try_with(|c| c[way].set((task, th, seen)));
    th
}

/// The entry of `task` in the table (made when `make`), and its slot's [`MADE`] count.
#[cold]
#[inline(never)]
fn from_table(task: u64, make: Option<Site>) -> (Option<&'static TaskHeld>, u32) {
    let mut tasks = TASKS.lock();
    let tasks = tasks.get_or_insert_with(|| Tasks {
        map: IdMap::default(),
        pool: VecDeque::new(),
        sweep_at: 64,
    });
    if let Some(&th) = tasks.map.get(&task) {
        return (Some(th), made(task).load(Relaxed));
    }
    let Some(site) = make else {
        return (None, made(task).load(Relaxed));
    };
    make_entry(tasks, task, site, watchdog::stamp())
}

/// Makes task `task`'s entry at tick `now`, reusing a retired one past its grace period.
fn make_entry(
    tasks: &mut Tasks,
    task: u64,
    site: Site,
    now: u64,
) -> (Option<&'static TaskHeld>, u32) {
    if tasks.map.len() >= tasks.sweep_at {
        sweep(tasks, now);
    }
    let name: Arc<str> = Arc::from(format!("task {task} (first lock at {site})"));
    let th = match tasks.pool.front() {
        Some(&(retired, th)) if now.saturating_sub(retired) >= GRACE_MS => {
            tasks.pool.pop_front();
            th.inventory.clear();
            th.inventory.set_name(name);
            held::register(&th.inventory);
            th
        }
        _ => Box::leak(Box::new(TaskHeld {
            owner: AtomicU64::new(0),
            inventory: held::register_task(name),
            last_used: AtomicU64::new(now),
        })),
    };
    th.last_used.store(now, Relaxed);
    th.owner.store(task, Release);
    let seen = made(task).fetch_add(1, Relaxed) + 1;
    tasks.map.insert(task, th);
    IN_USE.store(true, Relaxed);
    (Some(th), seen)
}

/// Retires the entries of tasks idle for [`IDLE_MS`] (finished tasks, mostly). A live one
/// gets a fresh entry at its next acquisition.
fn sweep(tasks: &mut Tasks, now: u64) {
    let pool = &mut tasks.pool;
    tasks.map.retain(|_, th| {
        let idle =
            now.saturating_sub(th.last_used.load(Relaxed)) >= IDLE_MS && th.inventory.is_idle();
        if idle {
            th.owner.store(0, Release);
            held::unregister_inventory(&th.inventory);
            pool.push_back((now, th));
        }
        !idle
    });
    tasks.sweep_at = (tasks.map.len() * 2).max(64);
}

/// Who an acquisition belongs to.
pub(crate) enum Owner {
    /// Tracking is off.
    Off,
    /// Outside a task: the thread's held stack.
    Thread,
    /// Task `task` (a number), whose entry is `th`.
    Task { task: u64, th: &'static TaskHeld },
}

impl Owner {
    /// The owner of an acquisition made here and now.
    #[inline]
    fn current(site: Site) -> Owner {
        if !crate::settings::tracking() {
            return Owner::Off;
        }
        let Some(task) = tokio::task::try_id().map(number) else {
            return Owner::Thread;
        };
        match entry(task, Some(site)) {
            Some(th) => {
                th.last_used.store(watchdog::stamp(), Relaxed);
                Owner::Task { task, th }
            }
            None => Owner::Thread,
        }
    }

    /// Checks the order of a blocking acquisition of `meta` against what the owner holds,
    /// reporting before it waits.
    #[inline(always)]
    fn check(&self, meta: &LockMeta, me: Ident, mode: Mode, method: Method, site: Site) {
        match *self {
            Owner::Off => {}
            Owner::Thread => check_order(meta, me, mode, method, site),
            Owner::Task { th, .. } => check_in_task(meta, me, mode, method, site, th),
        }
    }

    /// Publishes the wait for `meta` (the fast try failed): ended when the returned scope
    /// drops, also when the waiting future is dropped instead (cancelled).
    fn begin_wait<'a>(
        &self,
        meta: &'a LockMeta,
        me: Ident,
        mode: Mode,
        method: Method,
        site: Site,
    ) -> WaitScope<'a> {
        let inventory = match *self {
            Owner::Off => None,
            Owner::Thread => held::current_inventory(),
            Owner::Task { th, .. } => Some(Arc::clone(&th.inventory)),
        };
        let start = Instant::now();
        if let Some(inventory) = &inventory {
            inventory.begin_wait(Waiting {
                id: me.id,
                class: me.class,
                mode,
                method,
                condvar: None,
                site,
                since: start,
            });
            watchdog::stamp();
        }
        let contention = inventory.as_ref().map(|inventory| {
            let contention = meta.contention_state();
            contention.enter(inventory.key(), start);
            contention
        });
        WaitScope {
            task: matches!(self, Owner::Task { .. }),
            inventory,
            contention,
            class: me.class,
            site,
            start,
        }
    }

    /// The token of the acquisition, now held. Inlined: returned from a call, the token went
    /// through memory written in words and read back in wider moves, which the processor
    /// cannot forward (a tenth of an uncontended `lock().await`).
    #[inline(always)]
    fn hold(
        self,
        meta: &LockMeta,
        me: Ident,
        mode: Mode,
        method: Method,
        trylock: bool,
        site: Site,
    ) -> TaskToken {
        let (task, th) = match self {
            Owner::Off => return TaskToken::Thread(meta.untracked()),
            Owner::Thread => {
                return TaskToken::Thread(meta.token(me, mode, method, trylock, site));
            }
            Owner::Task { task, th } => (task, th),
        };
        // Retired while the task waited for the lock (it held nothing else): a fresh entry.
        let th = if th.owned_by(task) {
            th
        } else {
            match entry(task, Some(site)) {
                Some(th) => th,
                None => return TaskToken::Thread(meta.untracked()),
            }
        };
        th.catch_up();
        let since = watchdog::stamp();
        let pushed = th.inventory.push_held(Held {
            id: me.id,
            class: me.class,
            mode,
            method,
            trylock,
            site,
            since,
            node: meta.node.load(Relaxed),
            learned: false,
            reported: false,
            blamed: false,
        });
        th.last_used.store(since, Relaxed);
        if !pushed {
            // Past the rows the watchdog sees: untracked.
            held::deep_stack(&th.inventory.name());
            return TaskToken::Thread(meta.untracked());
        }
        TaskToken::Task(TaskHold {
            th,
            task,
            id: me.id,
            meta,
        })
    }
}

type Site = &'static Location<'static>;

/// A published wait, ended on drop: the watchdog's view, the lock's waiters, the profile.
struct WaitScope<'a> {
    task: bool,
    inventory: Option<Arc<Inventory>>,
    contention: Option<&'a Contention>,
    class: &'static super::class::LockClass,
    site: Site,
    start: Instant,
}

impl Drop for WaitScope<'_> {
    fn drop(&mut self) {
        let Some(inventory) = &self.inventory else {
            return;
        };
        let waited = self.start.elapsed();
        if let Some(contention) = self.contention {
            contention.leave(inventory.key());
        }
        inventory.end_wait();
        if self.task {
            // A suspended task has no stack of its own: its wait is filed under its site.
            profile::record_task_wait(ClassRef(self.class), self.site, waited);
        } else {
            profile::record_wait(ClassRef(self.class), waited);
        }
    }
}

/// The order check of an acquisition by the task that owns `th`: against the task's rows
/// and the locks its thread holds in this poll. A task that holds nothing is checked inline
/// against its thread's stack alone (a few loads, no call).
#[inline(always)]
fn check_in_task(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
    th: &'static TaskHeld,
) {
    th.catch_up();
    if th.inventory.is_empty() {
        return check_order_thread(meta, me, mode, method, site);
    }
    check_in_task_nested(meta, me, mode, method, site, th);
}

/// [`check_in_task`] when the task holds something.
#[inline(never)]
fn check_in_task_nested(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
    th: &'static TaskHeld,
) {
    let known = held::with_rows(|thread_rows, cache| {
        match edges_known(thread_rows, cache, meta, me, mode) {
            Err(fine) => fine,
            Ok(inner) => match edges_known(th.inventory.rows(), cache, meta, me, mode) {
                Err(fine) => fine,
                Ok(outer) => inner && outer,
            },
        }
    })
    .unwrap_or(false);
    if known && !crate::report::capturing() {
        return;
    }
    check_cold(meta, me, mode, method, site, th);
}

#[cold]
#[inline(never)]
fn check_cold(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
    th: &'static TaskHeld,
) {
    // The task's locks were taken before anything its thread holds in this poll.
    let mut all = th.inventory.held();
    all.extend(held::snapshot());
    acting_for(th, || {
        if let Some(h) = all.iter().rev().find(|h| h.id == me.id) {
            if mode.self_deadlocks_over(h.mode) {
                super::self_deadlock(me, mode, method, site, h, &all);
            }
            return;
        }
        super::order::add_edges(meta, me, mode, method, site, &all);
    });
}

/// Runs `f` (which adds order edges) on behalf of the task whose locks `th` holds: its
/// reports name the task, and the nodes the graph gives those locks are kept in its rows.
fn acting_for(th: &TaskHeld, f: impl FnOnce()) {
    let ((), learned) = held::acting_as(th.inventory.name(), f);
    for (id, node) in learned {
        th.inventory.learn_node_held(id, node);
    }
}

/// The order check of a std or parking_lot acquisition (`meta`) made inside a task that
/// holds tokio locks; false if this is not one (the thread's check goes on as usual). Once a
/// program has taken a tokio lock in a task every acquisition asks this, so the question
/// for a thread outside any task (one thread-local read of tokio's) is inline.
#[inline(always)]
pub(super) fn check_std_in_task(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
) -> bool {
    match tokio::task::try_id() {
        None => false,
        Some(task) => check_std_in(number(task), meta, me, mode, method, site),
    }
}

/// Runs `f` (which adds order edges) with the tokio locks the current task holds, as the
/// order check in a task does: on the task's behalf, the nodes the graph gives those locks
/// kept in the task's rows. Outside a task, or with none held, `f` gets none.
pub(super) fn with_task_held(f: impl FnOnce(&[Held])) {
    match tokio::task::try_id().and_then(|task| holding(number(task))) {
        Some(th) => {
            let held = th.inventory.held();
            acting_for(th, || f(&held));
        }
        None => f(&[]),
    }
}

/// Task `task`'s held locks, brought up to date, if it holds any.
fn holding(task: u64) -> Option<&'static TaskHeld> {
    let th = entry(task, None)?;
    th.catch_up();
    (!th.inventory.is_empty()).then_some(th)
}

/// [`check_std_in_task`] inside task `task`.
#[inline(never)]
fn check_std_in(
    task: u64,
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
) -> bool {
    let Some(th) = holding(task) else {
        return false;
    };
    check_in_task(meta, me, mode, method, site, th);
    true
}

/// The tracking share of a tokio guard.
pub(crate) enum TaskToken {
    /// Taken outside a task, or while tracking was off: the thread's held stack.
    Thread(HeldToken),
    Task(TaskHold),
}

/// A tokio lock held by a task: released from the task's rows wherever the guard drops.
pub(crate) struct TaskHold {
    th: &'static TaskHeld,
    /// The task that took it.
    task: u64,
    id: u64,
    meta: *const LockMeta,
}

// SAFETY: `meta` points at the lock the guard borrows (or owns through an `Arc`), which
// outlives the token; it is only used to read that lock's atomics and `Sync` contention state.
unsafe impl Send for TaskHold {}
// SAFETY: As above.
unsafe impl Sync for TaskHold {}

impl TaskHold {
    /// Whether this runs in a poll of the task that took the lock, and the entry is still
    /// that task's: then it may write the rows itself.
    #[inline(always)]
    fn by_owner(&self) -> bool {
        self.th.owned_by(self.task) && tokio::task::try_id().map(number) == Some(self.task)
    }
}

impl TaskToken {
    /// Records a downgrade (a write guard becoming a read guard).
    pub(crate) fn set_mode(&self, mode: Mode) {
        match self {
            TaskToken::Thread(token) => token.set_mode(mode),
            TaskToken::Task(hold) if hold.by_owner() => {
                hold.th.catch_up();
                hold.th.inventory.set_mode_held(hold.id, mode);
            }
            TaskToken::Task(hold) => hold.th.inventory.change_elsewhere(hold.id, Some(mode)),
        }
    }
}

impl Drop for TaskHold {
    fn drop(&mut self) {
        // SAFETY: See the type's `Send` impl: the lock outlives its guard's token.
        let meta = unsafe { &*self.meta };
        let contention = meta.contention.load(Relaxed);
        if !contention.is_null() {
            // SAFETY: Non-null `contention` stays valid until the lock is dropped.
            let contention = unsafe { &*contention };
            if contention.waiters.load(Relaxed) > 0 {
                contention.blame(ClassRef(meta.ident().class));
            }
        }
        let th = self.th;
        if self.by_owner() {
            th.catch_up();
            let entry = th.inventory.release_held(self.id);
            th.last_used.store(watchdog::stamp(), Relaxed);
            if let Some(entry) = entry {
                super::finish_released(&th.inventory, meta, &entry);
            }
        } else {
            release_elsewhere(self, meta);
        }
    }
}

/// A hold released by a guard dropped on another task or thread: finished here, taken off
/// the rows by their owner.
#[cold]
#[inline(never)]
fn release_elsewhere(hold: &TaskHold, meta: &LockMeta) {
    let inventory = &hold.th.inventory;
    if !hold.th.owned_by(hold.task) {
        // The entry was retired (its task is gone): nothing of it is watched any more.
        return;
    }
    if let Some(entry) = inventory
        .snapshot()
        .and_then(|held| held.into_iter().rev().find(|h| h.id == hold.id))
    {
        super::finish_released(inventory, meta, &entry);
    }
    inventory.change_elsewhere(hold.id, None);
}

impl LockMeta {
    /// `lock().await` and its kin: checks the order against what the task (or thread) holds,
    /// reporting before it waits, tries `try_fast`, and awaits the future `block` makes if
    /// that fails (only that wait is published). A try is cheaper than a first poll of
    /// tokio's future, which also spends the task's cooperative budget; and the future is
    /// made only when it is awaited (made up front, it would be moved into this one's state
    /// and dropped unpolled on every acquisition the try serves).
    #[inline]
    pub(crate) async fn lock_async<G, F: Future<Output = G>>(
        &self,
        mode: Mode,
        method: Method,
        site: Site,
        try_fast: impl FnOnce() -> Option<G>,
        block: impl FnOnce() -> F,
    ) -> (G, TaskToken) {
        match self.try_task(mode, method, site, try_fast) {
            Ok(acquired) => acquired,
            Err(waits) => self.wait_task(waits, mode, method, site, block()).await,
        }
    }

    /// The part of [`LockMeta::lock_async`] that does not wait: the owner, the order check
    /// and the try, in one synchronous call (no state of a future to keep across them).
    /// `Err` has the owner and the lock's identity for the wait, or nothing when tracking is
    /// off.
    #[inline(always)]
    fn try_task<G>(
        &self,
        mode: Mode,
        method: Method,
        site: Site,
        try_fast: impl FnOnce() -> Option<G>,
    ) -> Result<(G, TaskToken), Option<(Owner, Ident)>> {
        let owner = Owner::current(site);
        if let Owner::Off = owner {
            return Err(None);
        }
        let me = self.ident();
        owner.check(self, me, mode, method, site);
        match try_fast() {
            Some(guard) => Ok((guard, owner.hold(self, me, mode, method, false, site))),
            None => Err(Some((owner, me))),
        }
    }

    /// The part of [`LockMeta::lock_async`] that waits, for `block`: the try failed (`waits`
    /// has the owner and the lock's identity), or tracking is off (`None`). Its own future,
    /// so that the one of an acquisition the try served keeps no state for a wait.
    async fn wait_task<G>(
        &self,
        waits: Option<(Owner, Ident)>,
        mode: Mode,
        method: Method,
        site: Site,
        block: impl Future<Output = G>,
    ) -> (G, TaskToken) {
        let Some((owner, me)) = waits else {
            return (block.await, TaskToken::Thread(self.untracked()));
        };
        let guard = {
            let _wait = owner.begin_wait(self, me, mode, method, site);
            block.await
        };
        (guard, owner.hold(self, me, mode, method, false, site))
    }

    /// `blocking_lock` and its kin: as [`LockMeta::lock_async`], blocking the thread.
    pub(crate) fn lock_blocking<G>(
        &self,
        mode: Mode,
        method: Method,
        site: Site,
        try_fast: impl FnOnce() -> Option<G>,
        block: impl FnOnce() -> G,
    ) -> (G, TaskToken) {
        let owner = Owner::current(site);
        if let Owner::Off = owner {
            return (block(), TaskToken::Thread(self.untracked()));
        }
        let me = self.ident();
        owner.check(self, me, mode, method, site);
        let guard = match try_fast() {
            Some(guard) => guard,
            None => {
                let _wait = owner.begin_wait(self, me, mode, method, site);
                block()
            }
        };
        (guard, owner.hold(self, me, mode, method, false, site))
    }

    /// `try_lock` and its kin: held if it succeeds, no edge into this lock.
    pub(crate) fn try_lock_task<G, E>(
        &self,
        mode: Mode,
        method: Method,
        site: Site,
        attempt: impl FnOnce() -> Result<G, E>,
    ) -> Result<(G, TaskToken), E> {
        let guard = attempt()?;
        let owner = Owner::current(site);
        if let Owner::Off = owner {
            return Ok((guard, TaskToken::Thread(self.untracked())));
        }
        let me = self.ident();
        Ok((guard, owner.hold(self, me, mode, method, true, site)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::LockKind;
    use super::*;

    fn fresh() -> Tasks {
        Tasks {
            map: IdMap::default(),
            pool: VecDeque::new(),
            sweep_at: 64,
        }
    }

    /// Task numbers far from the ones a runtime hands out in this process.
    const BASE: u64 = 1 << 60;

    #[test]
    fn an_idle_entry_is_retired_then_reused_after_its_grace_period() {
        let site = Location::caller();
        let mut tasks = fresh();
        let (first, _) = make_entry(&mut tasks, BASE + 1, site, 1_000);
        let first = first.unwrap();
        assert!(first.owned_by(BASE + 1));
        assert!(first
            .inventory
            .name()
            .starts_with(&format!("task {}", BASE + 1)));

        // Not idle long enough: kept.
        sweep(&mut tasks, 1_000 + IDLE_MS - 1);
        assert!(first.owned_by(BASE + 1));
        sweep(&mut tasks, 1_000 + IDLE_MS);
        assert!(!first.owned_by(BASE + 1), "retired");
        assert!(tasks.map.is_empty());
        assert_eq!(tasks.pool.len(), 1);

        // Within the grace period a new task gets a new entry; after it, the retired one.
        let retired_at = 1_000 + IDLE_MS;
        let (second, _) = make_entry(&mut tasks, BASE + 2, site, retired_at + GRACE_MS - 1);
        assert!(!std::ptr::eq(second.unwrap(), first));
        let (third, _) = make_entry(&mut tasks, BASE + 3, site, retired_at + GRACE_MS);
        let third = third.unwrap();
        assert!(std::ptr::eq(third, first), "the pooled entry is reused");
        assert!(third.owned_by(BASE + 3));
        assert!(third
            .inventory
            .name()
            .starts_with(&format!("task {}", BASE + 3)));
        assert!(third.inventory.is_empty());
        for th in tasks.map.values() {
            held::unregister_inventory(&th.inventory);
        }
    }

    #[test]
    fn a_busy_entry_is_not_retired() {
        let site = Location::caller();
        let mut tasks = fresh();
        let (th, _) = make_entry(&mut tasks, BASE + 10, site, 5_000);
        let th = th.unwrap();
        let class = super::super::class::lookup(LockKind::Mutex, site, None, || "u8");
        assert!(th.inventory.push_held(Held {
            id: 1,
            class,
            mode: Mode::Exclusive,
            method: crate::tracker::method!("lock"),
            trylock: false,
            site,
            since: 5_000,
            node: 0,
            learned: false,
            reported: false,
            blamed: false,
        }));
        sweep(&mut tasks, 5_000 + 10 * IDLE_MS);
        assert!(th.owned_by(BASE + 10), "it holds a lock: kept");
        // Released elsewhere: readers see it gone at once, and it is idle.
        th.inventory.change_elsewhere(1, None);
        assert!(th.inventory.is_idle());
        sweep(&mut tasks, 5_000 + 10 * IDLE_MS);
        assert!(!th.owned_by(BASE + 10));
    }

    #[test]
    fn a_stale_hold_released_after_its_entry_changed_hands_changes_nothing() {
        let site = Location::caller();
        let mut tasks = fresh();
        let (th, _) = make_entry(&mut tasks, BASE + 20, site, 9_000);
        let th = th.unwrap();
        sweep(&mut tasks, 9_000 + IDLE_MS);
        let (again, _) = make_entry(&mut tasks, BASE + 21, site, 9_000 + IDLE_MS + GRACE_MS);
        assert!(std::ptr::eq(again.unwrap(), th));
        let meta = LockMeta::new(LockKind::Mutex, site, || "u8");
        // A guard of the first task, dropped now (outside any task: not by its owner).
        drop(TaskHold {
            th,
            task: BASE + 20,
            id: 77,
            meta: &meta,
        });
        assert!(!th.inventory.has_changes_elsewhere(), "nothing recorded");
        held::unregister_inventory(&th.inventory);
    }
}

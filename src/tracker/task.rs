//! Held locks per tokio task (feature `tokio`).
//!
//! A task's tokio guards follow it across worker threads and `.await` points, so its held
//! locks cannot live on a thread's stack. Each task that takes a tokio lock gets an
//! [`Inventory`] of its own, keyed by its task id, which the watchdog reads like a thread's:
//! long holds across awaits, long waits, and cycles of tasks waiting for each other. Its rows
//! have one writer at a time, whoever holds the task's write lock: the task's own polls
//! (whichever worker runs them) and the drop of a guard the task sent elsewhere (an owned
//! guard dropped by another task or thread), which releases the entry where it was pushed.
//!
//! One graph: an acquisition in a task is ordered after the task's tokio locks and after
//! what its thread holds in this poll (std and parking_lot guards, which cannot cross an
//! `.await`), and a std or parking_lot lock taken in a task is ordered after the task's tokio
//! locks. Outside a task (a plain thread, `block_on`, `blocking_lock` from sync code) tokio
//! locks use the thread's own held stack, like std's.
//!
//! The hot path (the task's entry in this thread's small cache, nothing held or the order
//! known) takes the task's write lock (one uncontended swap) and allocates nothing. A task
//! holding nothing keeps its entry until a sweep (run as the table grows) retires it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering::*};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::Id;

use super::held::{self, Held, Inventory, Method, Mode, Waiting};
use super::{check_order, edges_known, watchdog, HeldToken, Ident, LockMeta};
use crate::contention::profile::{self, ClassRef, Contention};

/// One task's held tokio locks.
pub(crate) struct TaskHeld {
    inventory: Arc<Inventory>,
    /// Guards the rows: [`FREE`], [`WRITING`] or, for good, [`RETIRED`].
    write: AtomicU8,
    /// The task's slot in [`HOLDING`].
    slot: usize,
}

const FREE: u8 = 0;
const WRITING: u8 = 1;
/// Swept: the task held nothing for a while. Its next acquisition makes a fresh entry.
const RETIRED: u8 = 2;

/// The right to write a task's rows, released on drop.
struct Writing<'a>(&'a TaskHeld);

impl Drop for Writing<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.write.store(FREE, Release);
    }
}

impl TaskHeld {
    /// Takes the write lock, or `None` if the entry is retired. Critical sections are a few
    /// stores and never call out (no report is delivered under it), so a spin suffices: the
    /// only contenders are guards dropped elsewhere and the sweep.
    #[inline]
    fn writing(&self) -> Option<Writing<'_>> {
        let mut spins = 0u32;
        loop {
            match self
                .write
                .compare_exchange_weak(FREE, WRITING, Acquire, Relaxed)
            {
                Ok(_) => return Some(Writing(self)),
                Err(RETIRED) => return None,
                Err(_) => {
                    spins += 1;
                    if spins < 64 {
                        std::hint::spin_loop();
                    } else {
                        std::thread::yield_now();
                    }
                }
            }
        }
    }
}

/// Tasks holding tokio locks, counted per slot of their id: a std acquisition in a task
/// whose slot is zero knows in one load that the task holds no tokio lock.
static HOLDING: [AtomicU32; 256] = [const { AtomicU32::new(0) }; 256];

/// Task ids hash to themselves (tokio hands them out from a counter).
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

fn id_hash(task: Id) -> u64 {
    let mut h = IdHasher::default();
    task.hash(&mut h);
    h.finish()
}

type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;

struct Tasks {
    map: IdMap<Arc<TaskHeld>>,
    /// Sweep when the table reaches this size.
    sweep_at: usize,
}

static TASKS: parking_lot::Mutex<Option<Tasks>> = parking_lot::Mutex::new(None);

/// Set once a task takes its first tracked tokio lock: until then std acquisitions skip the
/// task check altogether.
static IN_USE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

const CACHED: usize = 8;

thread_local! {
    /// The entries of the tasks this thread ran last, by the low bits of their id.
    static CACHE: RefCell<[Cached; CACHED]> = const { RefCell::new([const { None }; CACHED]) };
}

type Cached = Option<(Id, Arc<TaskHeld>)>;

/// Whether any task has taken a tracked tokio lock (one relaxed load).
#[inline(always)]
pub(super) fn in_use() -> bool {
    IN_USE.load(Relaxed)
}

/// The entry of task `task`, from this thread's cache or the table; made, named after
/// `site`, when `make` and it has none.
fn entry(task: Id, make: Option<&'static Location<'static>>) -> Option<Arc<TaskHeld>> {
    let hash = id_hash(task);
    let way = hash as usize % CACHED;
    let cached = CACHE
        .try_with(|c| {
            let c = c.try_borrow().ok()?;
            let (id, th) = c[way].as_ref()?;
            (*id == task && th.write.load(Relaxed) != RETIRED).then(|| Arc::clone(th))
        })
        .ok()
        .flatten();
    if cached.is_some() {
        return cached;
    }
    let th = from_table(task, hash, make)?;
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c[way] = Some((task, Arc::clone(&th)));
        }
    });
    Some(th)
}

#[cold]
#[inline(never)]
fn from_table(
    task: Id,
    hash: u64,
    make: Option<&'static Location<'static>>,
) -> Option<Arc<TaskHeld>> {
    let mut tasks = TASKS.lock();
    let tasks = tasks.get_or_insert_with(|| Tasks {
        map: IdMap::default(),
        sweep_at: 64,
    });
    if let Some(th) = tasks.map.get(&task) {
        return Some(Arc::clone(th));
    }
    let site = make?;
    if tasks.map.len() >= tasks.sweep_at {
        sweep(tasks);
    }
    let name: Arc<str> = Arc::from(format!("task {task} (first lock at {site})"));
    let th = Arc::new(TaskHeld {
        inventory: held::register_task(name),
        write: AtomicU8::new(FREE),
        slot: hash as usize % HOLDING.len(),
    });
    tasks.map.insert(task, Arc::clone(&th));
    IN_USE.store(true, Relaxed);
    Some(th)
}

/// Retires the entries of tasks that hold nothing and wait for nothing (finished tasks,
/// mostly: tokio does not say when a task ends). A live one simply gets a fresh entry at its
/// next acquisition.
fn sweep(tasks: &mut Tasks) {
    tasks.map.retain(|_, th| {
        if th
            .write
            .compare_exchange(FREE, WRITING, Acquire, Relaxed)
            .is_err()
        {
            return true;
        }
        let idle = th.inventory.is_empty() && th.inventory.waiting().is_none();
        th.write.store(if idle { RETIRED } else { FREE }, Release);
        if idle {
            held::unregister_inventory(&th.inventory);
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
    Task(Arc<TaskHeld>),
}

impl Owner {
    /// The owner of an acquisition made here and now.
    fn current(site: &'static Location<'static>) -> Owner {
        if !crate::settings::tracking() {
            return Owner::Off;
        }
        match tokio::task::try_id().and_then(|task| entry(task, Some(site))) {
            Some(th) => Owner::Task(th),
            None => Owner::Thread,
        }
    }

    /// Checks the order of a blocking acquisition of `meta` against what the owner holds,
    /// reporting before it waits.
    fn check(&self, meta: &LockMeta, me: Ident, mode: Mode, method: Method, site: Site) {
        match self {
            Owner::Off => {}
            Owner::Thread => check_order(meta, me, mode, method, site),
            Owner::Task(th) => check_in_task(meta, me, mode, method, site, th),
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
        let inventory = match self {
            Owner::Off => None,
            Owner::Thread => held::current_inventory(),
            Owner::Task(th) => Some(Arc::clone(&th.inventory)),
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
            task: matches!(self, Owner::Task(_)),
            inventory,
            contention,
            class: me.class,
            site,
            start,
        }
    }

    /// The token of the acquisition, now held.
    fn hold(
        self,
        meta: &LockMeta,
        me: Ident,
        mode: Mode,
        method: Method,
        trylock: bool,
        site: Site,
    ) -> TaskToken {
        match self {
            Owner::Off => TaskToken::Thread(meta.untracked()),
            Owner::Thread => TaskToken::Thread(meta.token(me, mode, method, trylock, site)),
            Owner::Task(th) => {
                let entry = Held {
                    id: me.id,
                    class: me.class,
                    mode,
                    method,
                    trylock,
                    site,
                    since: watchdog::stamp(),
                    node: meta.node.load(Relaxed),
                    learned: false,
                    reported: false,
                };
                push(th, entry, site, meta)
            }
        }
    }
}

type Site = &'static Location<'static>;

/// Pushes `entry` on the task's rows (on a fresh entry if the sweep retired this one).
fn push(th: Arc<TaskHeld>, entry: Held, site: Site, meta: &LockMeta) -> TaskToken {
    let mut th = th;
    loop {
        let pushed = th.writing().map(|_writing| {
            if th.inventory.is_empty() {
                HOLDING[th.slot].fetch_add(1, Relaxed);
            }
            th.inventory.push_held(entry)
        });
        match pushed {
            Some(pushed) => {
                if !pushed {
                    held::deep_stack(&th.inventory.thread);
                }
                return TaskToken::Task(TaskHold {
                    task: th,
                    id: entry.id,
                    meta,
                });
            }
            None => match tokio::task::try_id().and_then(|task| self::entry(task, Some(site))) {
                Some(fresh) => th = fresh,
                // Not in a task any more (cannot happen within one poll): untracked.
                None => return TaskToken::Thread(meta.untracked()),
            },
        }
    }
}

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

/// The order check of an acquisition by task `th`: against the task's rows and the locks its
/// thread holds in this poll.
fn check_in_task(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
    th: &TaskHeld,
) {
    let Some(writing) = th.writing() else {
        // Retired: the task holds no tokio lock.
        return check_order(meta, me, mode, method, site);
    };
    if th.inventory.is_empty() {
        drop(writing);
        return check_order(meta, me, mode, method, site);
    }
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
    // The task's locks were taken before anything its thread holds in this poll.
    let mut all = th.inventory.held();
    drop(writing);
    all.extend(held::snapshot());
    check_cold(meta, me, mode, method, site, th, &all);
}

#[cold]
#[inline(never)]
fn check_cold(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
    th: &TaskHeld,
    all: &[Held],
) {
    let ((), learned) = held::acting_as(Arc::clone(&th.inventory.thread), || {
        if let Some(h) = all.iter().rev().find(|h| h.id == me.id) {
            if mode.self_deadlocks_over(h.mode) {
                super::self_deadlock(me, mode, method, site, h, all);
            }
            return;
        }
        super::order::add_edges(meta, me, mode, method, site, all);
    });
    if !learned.is_empty() {
        if let Some(_writing) = th.writing() {
            for (id, node) in learned {
                th.inventory.learn_node_held(id, node);
            }
        }
    }
}

/// The order check of a std or parking_lot acquisition (`meta`) made inside a task that
/// holds tokio locks; false if this is not one (the thread's check goes on as usual).
#[inline(never)]
pub(super) fn check_std_in_task(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: Site,
) -> bool {
    let Some(task) = tokio::task::try_id() else {
        return false;
    };
    if HOLDING[id_hash(task) as usize % HOLDING.len()].load(Relaxed) == 0 {
        return false;
    }
    let Some(th) = entry(task, None) else {
        return false;
    };
    check_in_task(meta, me, mode, method, site, &th);
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
    task: Arc<TaskHeld>,
    id: u64,
    meta: *const LockMeta,
}

// SAFETY: `meta` points at the lock the guard borrows (or owns through an `Arc`), which
// outlives the token; it is only used to read that lock's atomics and `Sync` contention state.
unsafe impl Send for TaskHold {}
// SAFETY: As above.
unsafe impl Sync for TaskHold {}

impl TaskToken {
    /// Records a downgrade (a write guard becoming a read guard).
    pub(crate) fn set_mode(&self, mode: Mode) {
        match self {
            TaskToken::Thread(token) => token.set_mode(mode),
            TaskToken::Task(hold) => {
                if let Some(_writing) = hold.task.writing() {
                    hold.task.inventory.set_mode_held(hold.id, mode);
                }
            }
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
        let th = &self.task;
        let entry = th.writing().and_then(|_writing| {
            let entry = th.inventory.release_held(self.id);
            if th.inventory.is_empty() {
                HOLDING[th.slot].fetch_sub(1, Relaxed);
            }
            entry
        });
        if let Some(entry) = entry {
            if entry.reported {
                watchdog::released_long(&th.inventory, &entry);
            }
            super::finish_hold(meta, &entry);
        }
    }
}

impl LockMeta {
    /// `lock().await` and its kin: checks the order against what the task (or thread) holds,
    /// reporting before it waits, tries `try_fast`, and awaits `block` if that fails.
    pub(crate) async fn lock_async<G>(
        &self,
        mode: Mode,
        method: Method,
        site: Site,
        try_fast: impl FnOnce() -> Option<G>,
        block: impl Future<Output = G>,
    ) -> (G, TaskToken) {
        let owner = Owner::current(site);
        if let Owner::Off = owner {
            return (block.await, TaskToken::Thread(self.untracked()));
        }
        let me = self.ident();
        owner.check(self, me, mode, method, site);
        let guard = match try_fast() {
            Some(guard) => guard,
            None => {
                let _wait = owner.begin_wait(self, me, mode, method, site);
                block.await
            }
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

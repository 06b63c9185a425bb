//! The tracker: lock identity, the per-thread held stack, the order graph and the reports
//! they produce. Compiled only with the `enabled` feature.
//!
//! Facades reach it through [`LockMeta`], embedded in every lock: `lock` (check the order,
//! then block), `try_lock` / `try_lock_result` (no order check: a try never waits),
//! `initializer` / `before_init` / `initializing` (lazy cells), `read_mode` (a raw lock's
//! read policy), `forget_held` (`force_unlock`) and `set_class_name`; and through the
//! [`HeldToken`] a guard carries, which releases the entry when dropped and can `suspend` it
//! (a condvar wait, `unlocked`), `set_mode` (downgrade) or `upgrade`. Atomics go through
//! `atomics`, lock classes through `class`. Locks lockwatch does not wrap (`lockwatch::custom`,
//! Redis leases) use `begin_external` / `External::acquired` / `acquired_external` around
//! their own acquire; tokio's locks use `lock_async` / `lock_blocking` / `try_lock_task` and a
//! [`TaskToken`].
//!
//! Submodules: `held` (the per-thread held stack and its published rows), `graph` (the order
//! graph), `class`, `explain` (findings as data), `watchdog`, `dump` (the data files under
//! `LOCKWATCH_DIR`), `dot`, `atomics`, `seqlock` and `lazy_id` (the lock-free parts the loom
//! models check); with `tokio`, `task` (held locks per tokio task); with `redis`, `leases`
//! (lease deadlines, deadlocks across processes) and `shared` (lock order shared through
//! Redis).

pub(crate) mod atomics;
mod class;
pub(crate) mod dot;
pub(crate) mod dump;
mod epoch;
mod explain;
mod graph;
mod held;
mod lazy_id;
#[cfg(feature = "redis")]
pub(crate) mod leases;
mod order;
mod primitive;
mod seqlock;
#[cfg(feature = "redis")]
pub(crate) mod shared;
#[cfg(feature = "tokio")]
mod task;
mod trace;
mod wait_slot;
pub(crate) mod watchdog;

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::*};
use std::sync::Arc;

use crate::contention::profile::{self, ClassRef, Contention};
#[cfg(feature = "redis")]
pub(crate) use class::intern_name;
use class::LockClass;
pub(crate) use class::{declare_recursive_reads, LockKind};
use graph::{ById, CycleEdge, EdgeType, Evidence, OrderGraph, Slot, StepInfo, Witness};
use held::Held;
pub(crate) use held::{method, Method, Mode};
use lazy_id::LazyId;
use order::{add_edges, adopt_node, forget_instance, site_key, with_graphs, SiteKey, PENDING};
#[cfg(feature = "tokio")]
pub(crate) use task::TaskToken;

/// Tracking state embedded in every lock. `const`-constructible so that locks work in
/// `static`s: the id and class are assigned on first use.
///
/// In declaration order (`repr(C)`), the fields every acquisition reads first, those it does
/// not last: the facades put the raw lock right after this, and under contention the raw
/// lock's cache line goes from thread to thread. The id, class, node, contention state and
/// read policy, read before the lock is taken, end 59 bytes before it, so wherever the lock
/// is placed (any 8-byte-aligned address) they are on a line without it, which stays in both
/// threads' caches instead of making each acquisition fetch the lock's line twice.
#[repr(C)]
pub(crate) struct LockMeta {
    /// Instance id and class, assigned on first use (ids are never reused).
    ident: LazyId,
    /// Waiting bookkeeping, allocated on the first contended acquisition; null until then, so
    /// a release checks one relaxed pointer.
    contention: AtomicPtr<Contention>,
    /// This lock's node in the per-instance order graph (see `Graphs::pending`), 0 while it
    /// has none. Written under the graph lock.
    node: AtomicU32,
    /// For a lock_api rwlock: 0 until its first read, then 1 if its raw lock's `read` waits
    /// for queued writers, 2 if it is recursive (see `LockMeta::read_mode`).
    read_policy: AtomicU8,
    kind: LockKind,
    /// The fingerprint ([`StackPrint`]) of a held stack whose edges into this lock are all in
    /// the graph, 0 before there is one: the stack the cold path last added edges for, or the
    /// first one a new lock of known classes was taken under. Taken again under the same
    /// locks, a nested acquisition costs a walk of the stack and one relaxed load, not a
    /// lookup per held lock. Never written on the hot path.
    known_stack: AtomicU64,
    site: &'static Location<'static>,
    /// The protected data's type name (`std::any::type_name::<T>`), read once, at first use:
    /// locks made at one site for different types (a generic helper) are different classes.
    data: fn() -> &'static str,
    name: Option<&'static str>,
    /// Keeps the fields read first 56 bytes or more from the raw lock (see the type's docs).
    /// The 42 bytes of cold fields alone left two placements in eight sharing its line: two
    /// threads on one lock (`hot_loop lockwatch contended 4000000 <offset>`) took 0.56 s and
    /// 0.60 s at 40 and 48 bytes into a line against 0.49 s at 0; with these 16 bytes,
    /// 0.46 s to 0.49 s at all three.
    _apart: [u64; 2],
}

#[derive(Clone, Copy)]
pub(crate) struct Ident {
    id: u64,
    class: &'static LockClass,
}

impl LockMeta {
    #[inline]
    pub(crate) const fn new(
        kind: LockKind,
        site: &'static Location<'static>,
        data: fn() -> &'static str,
    ) -> Self {
        LockMeta {
            site,
            data,
            name: None,
            _apart: [0; 2],
            kind,
            ident: LazyId::from_parts(primitive::AtomicU64::new(0), primitive::AtomicU64::new(0)),
            known_stack: AtomicU64::new(0),
            contention: AtomicPtr::new(std::ptr::null_mut()),
            node: AtomicU32::new(0),
            read_policy: AtomicU8::new(0),
        }
    }

    /// The tracking state of a lock named `name` from its creation (a custom lock, a lease):
    /// its class is the name, wherever it is created.
    #[inline]
    pub(crate) const fn named(
        kind: LockKind,
        site: &'static Location<'static>,
        name: &'static str,
    ) -> Self {
        let mut meta = LockMeta::new(kind, site, no_data);
        meta.name = Some(name);
        meta
    }

    /// Before a wait its caller performs itself (a lock lockwatch does not wrap): checks the
    /// order like a blocking acquisition, reporting before the wait, and publishes the wait
    /// for the watchdog until [`External::acquired`] or the drop of what it returns.
    pub(crate) fn begin_external(
        &self,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
    ) -> External<'_> {
        if !crate::settings::tracking() {
            return External {
                meta: self,
                me: None,
                mode,
                method,
                site,
                start: std::time::Instant::now(),
                waiter: 0,
            };
        }
        let me = self.ident();
        check_order(self, me, mode, method, site);
        let (start, waiter) = self.publish_wait(me, mode, method, site);
        External {
            meta: self,
            me: Some(me),
            mode,
            method,
            site,
            start,
            waiter,
        }
    }

    /// An acquisition its caller made without waiting (a successful try): held, no edge
    /// into it.
    pub(crate) fn acquired_external(
        &self,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
    ) -> HeldToken {
        if !crate::settings::tracking() {
            return self.untracked();
        }
        self.token(self.ident(), mode, method, true, site)
    }

    /// This lock's class (assigned on first use).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn class(&self) -> &'static LockClass {
        self.ident().class
    }

    /// The mode a `read` of this lock is taken in: [`Mode::RecursiveRead`] when its raw lock
    /// (named by `raw`) lets readers in while a writer waits, as declared with
    /// `lock_api::declare_recursive_reads` or built in, else [`Mode::Read`]. Learned on the
    /// first read and kept: one relaxed load after that.
    #[inline(always)]
    pub(crate) fn read_mode(&self, raw: fn() -> &'static str) -> Mode {
        match self.read_policy.load(Relaxed) {
            1 => Mode::Read,
            2 => Mode::RecursiveRead,
            _ => self.learn_read_policy(raw),
        }
    }

    #[cold]
    #[inline(never)]
    fn learn_read_policy(&self, raw: fn() -> &'static str) -> Mode {
        let recursive = class::reads_are_recursive(raw());
        self.read_policy
            .store(if recursive { 2 } else { 1 }, Relaxed);
        if recursive {
            Mode::RecursiveRead
        } else {
            Mode::Read
        }
    }

    /// Puts this lock in the class called `name`. Returns false (and changes nothing) once
    /// the lock has been used.
    pub(crate) fn set_class_name(&mut self, name: &str) -> bool {
        if self.ident.get().is_some() {
            return false;
        }
        self.name = Some(class::intern_name(name));
        true
    }

    #[inline(always)]
    fn ident(&self) -> Ident {
        if let Some((id, class)) = self.ident.get() {
            // SAFETY: The class word is the address of a leaked, never-freed `LockClass`,
            // published with the id.
            let class = unsafe { &*(class as *const LockClass) };
            return Ident { id, class };
        }
        self.first_use()
    }

    #[cold]
    #[inline(never)]
    fn first_use(&self) -> Ident {
        let class = class::lookup(self.kind, self.site, self.name, self.data);
        let (id, _) = self
            .ident
            .init(ids::next(), class as *const LockClass as u64);
        Ident { id, class }
    }

    /// Records a blocking acquisition: checks the order against the locks this thread holds
    /// (reporting before it blocks), then takes the lock with `block` the direct way if it was
    /// contended before (see [`LockMeta::direct`]), else (or if this acquisition is drawn for
    /// the profile) runs `try_fast` first and falls back to `block`; returns the token for the
    /// guard.
    #[inline(always)]
    pub(crate) fn lock<G>(
        &self,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        try_fast: impl FnOnce() -> Option<G>,
        block: impl FnOnce() -> G,
    ) -> (G, HeldToken) {
        if !crate::settings::tracking() {
            // Switched off: the plain lock call, no try first.
            return (block(), self.untracked());
        }
        let me = self.ident();
        let mine = held::mine();
        if !mine.holds_nothing() || task_in_use() {
            check_order(self, me, mode, method, site);
        }
        // A lock that was contended before is taken the direct way, unless this acquisition
        // is drawn for the profile (see `direct`). One that never was tries first: its first
        // contention sets up its contention state.
        let mut drawn = None;
        // (`--cfg lockwatch_direct_always`: every lock as if contended before, so that the
        // test suite runs the direct way throughout.)
        if cfg!(lockwatch_direct_always) || !self.contention.load(Relaxed).is_null() {
            drawn = mine.draw_direct(profile::sample_threshold);
            if drawn == Some(false) {
                return self.direct(mine, me, mode, method, site, block);
            }
        }
        // Pushed before the try: what the lock's holder does between its lock and unlock is
        // the program's alone (under contention the next holder waits for nothing else).
        let since = watchdog::stamp();
        mine.push(self.entry(me, mode, method, false, site, since));
        // Takes the entry off again if the try unwinds. The token is made after the try:
        // across it only the lock's address and id stay live (a try may call out: std's asks
        // whether the thread is panicking).
        let pushed = Pushed(me.id);
        let tried = try_fast();
        std::mem::forget(pushed);
        match tried {
            Some(guard) => (guard, self.token_of(me.id)),
            None => {
                // Not held while it waits: the entry goes, and comes back once acquired.
                held::release(me.id);
                let guard = self.contended(me, mode, method, site, drawn, block);
                let since = watchdog::stamp();
                (guard, self.hold(mine, me, mode, method, false, site, since))
            }
        }
    }

    /// Before running or waiting for a lazy initializer: checks the order like a blocking
    /// acquisition (initializing waits for whoever initializes), and reports recursive
    /// initialization before it deadlocks.
    #[inline]
    pub(crate) fn before_init(&self, method: Method, site: &'static Location<'static>) {
        if crate::settings::tracking() {
            check_order(self, self.ident(), Mode::Init, method, site);
        }
    }

    /// Checks the order for running (or waiting for) this cell's initializer, then gives `f`
    /// back wrapped so that this thread holds the cell while it runs: the one shape of every
    /// lazy cell's initialization (`Once`, `OnceLock`, `LazyLock`, once_cell's).
    #[inline]
    pub(crate) fn initializer<'a, A, R>(
        &'a self,
        method: Method,
        site: &'static Location<'static>,
        f: impl FnOnce(A) -> R + 'a,
    ) -> impl FnOnce(A) -> R + 'a {
        self.before_init(method, site);
        move |arg| {
            let _held = self.initializing(method, site);
            f(arg)
        }
    }

    /// While this thread runs the initializer: the cell is held.
    #[inline]
    pub(crate) fn initializing(
        &self,
        method: Method,
        site: &'static Location<'static>,
    ) -> HeldToken {
        if !crate::settings::tracking() {
            return self.untracked();
        }
        self.token(self.ident(), Mode::Init, method, false, site)
    }

    /// The token of an acquisition made while tracking is switched off: nothing is pushed,
    /// and its drop does nothing.
    #[inline(always)]
    fn untracked(&self) -> HeldToken {
        HeldToken::new(0, self, false)
    }

    /// Pushes a hold taken now and returns its token.
    #[inline(always)]
    fn token(
        &self,
        me: Ident,
        mode: Mode,
        method: Method,
        trylock: bool,
        site: &'static Location<'static>,
    ) -> HeldToken {
        let since = watchdog::stamp();
        self.hold(held::mine(), me, mode, method, trylock, site, since)
    }

    /// Pushes a hold that began at tick `since` on `mine` (this thread's stack, looked up
    /// before the lock call) and returns its token.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn hold(
        &self,
        mine: held::Mine,
        me: Ident,
        mode: Mode,
        method: Method,
        trylock: bool,
        site: &'static Location<'static>,
        since: u64,
    ) -> HeldToken {
        mine.push(self.entry(me, mode, method, trylock, site, since));
        self.token_of(me.id)
    }

    /// The held-stack entry of an acquisition of this lock.
    #[inline(always)]
    fn entry(
        &self,
        me: Ident,
        mode: Mode,
        method: Method,
        trylock: bool,
        site: &'static Location<'static>,
        since: u64,
    ) -> Held {
        Held {
            trylock,
            node: self.node.load(Relaxed),
            ..wait_entry(me, mode, method, site, since)
        }
    }

    /// A blocking acquisition made the direct way: the acquisition is announced in the held
    /// stack's next row (four stores, no push) and the lock called at once, with no try first
    /// and no clock read; once the call returns, the announcement is withdrawn and the hold
    /// pushed. Until then the watchdog reads the announcement as this thread's wait (long
    /// waits, deadlocks); once it has lasted 2 ms the watchdog marks it, and the holds of its
    /// lock so that their releases are blamed for it (see `watchdog::direct_waits`), and the
    /// wait goes into the profile here, when the call returns, timed from the tick it began
    /// at. Shorter waits are left to the acquisitions drawn for the profile, which try first
    /// and time their waits (one in [`profile::sample_period`]).
    ///
    /// Only for a lock contended before: the try costs a contended lock as much as all of
    /// lockwatch's bookkeeping (the try's read brings the lock's line over shared before its
    /// compare-exchange asks for it exclusive: parking_lot's own try-then-lock measured 1.67x
    /// its lock under two threads), and each acquisition not drawn is spared it. What is left
    /// runs while the lock is held (the push, the next draw; the release pops the row before
    /// the unlock, see [`drop_early`]): between one unlock and the next lock call, under
    /// contention, the other thread takes the lock, and every instruction spent there makes
    /// that more likely (parking_lot with about 40 instructions of work added before its lock
    /// call: 1.27x its plain lock under two threads; added inside the hold: 0.9x). A lock never
    /// contended keeps the try, which costs it less, and its first contention sets up its
    /// contention state. A thread's first acquisition, before it has a held stack, also tries.
    #[inline(always)]
    fn direct<G>(
        &self,
        mine: held::Mine,
        me: Ident,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        block: impl FnOnce() -> G,
    ) -> (G, HeldToken) {
        let since = watchdog::stamp();
        mine.begin_direct(wait_entry(me, mode, method, site, since));
        // Withdraws the announcement if the lock call unwinds.
        let announced = Announced(mine);
        let guard = block();
        std::mem::forget(announced);
        let lasted = mine.end_direct(profile::sample_threshold());
        if lasted {
            direct_wait_lasted(mine, me, since);
        }
        mine.push(self.entry(me, mode, method, false, site, watchdog::stamp()));
        (guard, HeldToken::new(me.id, self, true))
    }

    /// The token of a hold of this lock (lock `id`), made once it is acquired.
    #[inline(always)]
    fn token_of(&self, id: u64) -> HeldToken {
        HeldToken::new(id, self, false)
    }

    /// The contended path: the fast try failed, so this thread is about to block. The wait is
    /// published for the watchdog (long waits, deadlocks) with plain stores, and one wait in
    /// [`profile::sample_period`] is timed and profiled (the others cost no clock reading and
    /// no bookkeeping; the watchdog promotes those that last, so that long waits are always
    /// in the profile). `drawn` is the acquisition's draw if it made one (see
    /// [`held::Mine::draw_direct`]), else the wait draws now.
    #[cold]
    #[inline(never)]
    fn contended<G>(
        &self,
        me: Ident,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        drawn: Option<bool>,
        block: impl FnOnce() -> G,
    ) -> G {
        if crate::report::backtrace_level() > 0 {
            return self.contended_traced(me, mode, method, site, block);
        }
        let period = profile::sample_period();
        let sampled = drawn.unwrap_or_else(|| profile::one_in(period));
        let contention = self.contention_state();
        // One clock reading starts the wait for the watchdog, the blame and the profile.
        let start = std::time::Instant::now();
        // The inventory's address identifies this waiter; its thread is alive, so it is valid.
        let Some(waiter) = held::with_inventory(|inventory| {
            if sampled {
                // Registered for blame before the wait is published: the watchdog may rescale
                // a published timed wait.
                contention.enter_scaled(inventory.key(), start, period);
            }
            inventory.begin_lock_wait(
                me.id,
                me.class,
                mode,
                method,
                site,
                start,
                contention as *const Contention as usize,
                sampled,
            );
            inventory.key()
        }) else {
            return block();
        };
        // A waiter keeps the watchdog awake.
        watchdog::stamp();
        // A timed wait's stack is taken now, while the lock is someone else's anyway.
        let stack = if sampled {
            Some(profile::wait_stack())
        } else {
            None
        };
        let guard = block();
        let ended = held::with_inventory(held::Inventory::end_lock_wait).unwrap_or(held::IDLE);
        let scale = match ended {
            // A long wait: in the profile whatever the draw, for itself alone.
            held::PROMOTED | held::LONG_SAMPLED => 1,
            _ if sampled => period,
            _ => return guard,
        };
        contention.leave(waiter);
        profile::record_timed(ClassRef(me.class), start.elapsed(), scale, stack);
        guard
    }

    /// Publishes this thread's wait for this lock in the locked slot (with its stack, when
    /// backtraces are on) and registers it for blame: when it began, and the waiter's key.
    fn publish_wait(
        &self,
        me: Ident,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
    ) -> (std::time::Instant, usize) {
        let start = std::time::Instant::now();
        let waiter = held::with_inventory(|inventory| {
            inventory.begin_wait(held::Waiting {
                id: me.id,
                class: me.class,
                mode,
                method,
                condvar: None,
                site,
                since: start,
            });
            inventory.key()
        })
        .unwrap_or(0);
        // A waiter keeps the watchdog awake.
        watchdog::stamp();
        self.contention_state().enter(waiter, start);
        (start, waiter)
    }

    /// The contended path with backtraces on: the wait is published with its stack (in the
    /// locked slot), timed, and profiled by its delay.
    #[cold]
    #[inline(never)]
    fn contended_traced<G>(
        &self,
        me: Ident,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        block: impl FnOnce() -> G,
    ) -> G {
        let (start, waiter) = self.publish_wait(me, mode, method, site);
        let contention = self.contention_state();
        let guard = block();
        let waited = start.elapsed();
        contention.leave(waiter);
        held::with_inventory(held::Inventory::end_wait);
        profile::record_wait(ClassRef(me.class), waited);
        guard
    }

    fn contention_state(&self) -> &Contention {
        let mut state = self.contention.load(Acquire);
        if state.is_null() {
            let fresh = Box::into_raw(Box::new(Contention::new()));
            state =
                match self
                    .contention
                    .compare_exchange(std::ptr::null_mut(), fresh, AcqRel, Acquire)
                {
                    Ok(_) => fresh,
                    Err(existing) => {
                        // SAFETY: `fresh` came from `Box::into_raw` just above and was never shared.
                        drop(unsafe { Box::from_raw(fresh) });
                        existing
                    }
                };
        }
        // SAFETY: A non-null `contention` points at a boxed `Contention` freed only when the
        // lock is dropped, which cannot happen while `&self` is borrowed.
        unsafe { &*state }
    }

    /// Records a try-acquisition: held if it succeeds, but adds no edge into this lock.
    #[inline]
    pub(crate) fn try_lock<G>(
        &self,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        attempt: impl FnOnce() -> Option<G>,
    ) -> Option<(G, HeldToken)> {
        if !crate::settings::tracking() {
            return attempt().map(|guard| (guard, self.untracked()));
        }
        let (me, mine) = (self.ident(), held::mine());
        // Stamped after the attempt: a timed try may wait first.
        let guard = attempt()?;
        Some((
            guard,
            self.hold(mine, me, mode, method, true, site, watchdog::stamp()),
        ))
    }

    /// Like `try_lock`, for attempts whose failure still hands back a value (std's
    /// `TryLockError`).
    #[inline]
    pub(crate) fn try_lock_result<G, E>(
        &self,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        attempt: impl FnOnce() -> Result<G, E>,
    ) -> Result<(G, HeldToken), E> {
        if !crate::settings::tracking() {
            return attempt().map(|guard| (guard, self.untracked()));
        }
        let (me, mine) = (self.ident(), held::mine());
        // Stamped after the attempt: a timed try may wait first.
        let guard = attempt()?;
        Ok((
            guard,
            self.hold(mine, me, mode, method, true, site, watchdog::stamp()),
        ))
    }
}

impl LockMeta {
    /// Drops this thread's held entries for the lock (`force_unlock` after a forgotten
    /// guard).
    pub(crate) fn forget_held(&self) {
        if let Some((id, _)) = self.ident.get() {
            if let held::Here::Missing = held::forget(id) {
                // Unlocked here for a guard leaked on another thread.
                held::change_elsewhere(id, None);
            }
        }
    }
}

impl Drop for LockMeta {
    fn drop(&mut self) {
        let Some((id, class)) = self.ident.get() else {
            let contention = *self.contention.get_mut();
            debug_assert!(contention.is_null(), "contention needs an id first");
            return;
        };
        // A guard forgotten with `mem::forget` leaves its entry behind; the lock is gone now.
        let _ = held::forget(id);
        // SAFETY: The class word is the address of a leaked, never-freed `LockClass`.
        let class = unsafe { &*(class as *const LockClass) };
        let node = *self.node.get_mut();
        if node != 0 || (class.nested_instances() && PENDING.load(Relaxed) != 0) {
            forget_instance(id, node);
        }
        let contention = *self.contention.get_mut();
        if !contention.is_null() {
            // SAFETY: Allocated by `contention_state` with `Box::into_raw`; the lock is being
            // dropped, so nothing else can reach it.
            drop(unsafe { Box::from_raw(contention) });
        }
    }
}

/// A wait published by [`LockMeta::begin_external`]: ended by [`External::acquired`], or by
/// its drop when the caller gives up.
pub(crate) struct External<'a> {
    meta: &'a LockMeta,
    /// `None` when tracking is off.
    me: Option<Ident>,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
    start: std::time::Instant,
    /// The waiting thread's inventory key.
    waiter: usize,
}

impl External<'_> {
    /// Says who holds the lock, as far as the waiter can tell (a lease's stored holder in
    /// another process): the watchdog names it in a long-wait report.
    pub(crate) fn held_elsewhere_by(&self, holder: Option<Arc<str>>) {
        if self.me.is_some() {
            held::with_inventory(|inventory| inventory.set_held_elsewhere(holder));
        }
    }

    /// The wait ended with the lock acquired: the hold's token.
    pub(crate) fn acquired(mut self) -> HeldToken {
        let Some(me) = self.me.take() else {
            return self.meta.untracked();
        };
        self.end(me);
        self.meta
            .token(me, self.mode, self.method, false, self.site)
    }

    fn end(&self, me: Ident) {
        self.meta.contention_state().leave(self.waiter);
        held::with_inventory(held::Inventory::end_wait);
        profile::record_wait(ClassRef(me.class), self.start.elapsed());
    }
}

impl Drop for External<'_> {
    fn drop(&mut self) {
        if let Some(me) = self.me.take() {
            self.end(me);
        }
    }
}

/// A wait made the direct way lasted (see [`LockMeta::direct`]): into the profile, for itself
/// alone, from `since` (the tick it began at) to now, and its end to the watchdog's record of
/// it, for blame. The tick trails the time by up to about a millisecond (more when the
/// watchdog is kept from running), so the wait is recorded that much longer than it was.
#[cold]
#[inline(never)]
fn direct_wait_lasted(mine: held::Mine, me: Ident, since: u64) {
    watchdog::direct_wait_ended(mine.key(), me.id, since);
    let start = epoch::epoch() + std::time::Duration::from_millis(since);
    profile::record_timed(ClassRef(me.class), start.elapsed(), 1, None);
}

/// A raw guard and the token of its hold, released together: see [`release`] for what comes
/// before the raw unlock (a hold taken the direct way: its pop) and what after it (any other
/// hold's pop; blame for threads still waiting and the slow release, always). So the lock is
/// held no longer than the program holds it, plus at most a pop. Threads still waiting at the
/// release are blamed on this holder; a waiter that got the lock first is charged to no one
/// for its last moment.
///
/// An explicit drop rather than field order: nothing is left to drop if the unlock unwinds
/// (the hold then stays recorded, as the lock may well still be locked, unless it was popped
/// before the unlock), so the compiler keeps the token in registers instead of writing it out
/// for a landing pad.
pub(crate) struct Guarded<G> {
    guard: ManuallyDrop<G>,
    token: ManuallyDrop<HeldToken>,
}

impl<G> Guarded<G> {
    #[inline(always)]
    pub(crate) fn new(guard: G, token: HeldToken) -> Self {
        Guarded {
            guard: ManuallyDrop::new(guard),
            token: ManuallyDrop::new(token),
        }
    }

    #[inline(always)]
    pub(crate) fn token(&self) -> &HeldToken {
        &self.token
    }

    /// The raw guard and the token, to be used (and dropped) apart.
    #[inline(always)]
    pub(crate) fn into_parts(self) -> (G, HeldToken) {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so each field is taken out exactly once.
        unsafe {
            (
                ManuallyDrop::take(&mut this.guard),
                ManuallyDrop::take(&mut this.token),
            )
        }
    }
}

impl<G> std::ops::Deref for Guarded<G> {
    type Target = G;

    #[inline(always)]
    fn deref(&self) -> &G {
        &self.guard
    }
}

impl<G> std::ops::DerefMut for Guarded<G> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut G {
        &mut self.guard
    }
}

/// The drop of a guard whose hold was taken the direct way: its release before the unlock
/// (`guard`'s drop), whatever that leaves after it. Out of line, so that the drop of every
/// other guard stays small enough to inline (with both in it, lockwatch::sync's `MutexGuard`
/// drop became a call: an uncontended lock/unlock went from 121 to 151 instructions), and by
/// value, so that the guard and its token stay in registers.
///
/// In the common case the unlock is its last act: the release's pop inlined before it (no
/// registers to restore after it) and nothing after, so that the thread goes from the
/// unlock's locked instruction straight back to the program (see [`LockMeta::direct`]).
#[inline(never)]
fn drop_early<G>(guard: G, id: u64, meta: *const LockMeta) {
    if release_fast(id, meta) {
        drop(guard);
    } else {
        unlock_then_release(guard, id, meta);
    }
}

/// The rest of [`drop_early`] when the fast release did nothing: the unlock, then the slow
/// release.
#[cold]
#[inline(never)]
fn unlock_then_release<G>(guard: G, id: u64, meta: *const LockMeta) {
    drop(guard);
    release_slow(id, meta);
}

impl<G> Drop for Guarded<G> {
    #[inline(always)]
    fn drop(&mut self) {
        // The token is released here, by hand, and never dropped (see `release` for what
        // comes before the unlock and what after it).
        let (id, meta) = (self.token.id, self.token.meta);
        if self.token.early() {
            // SAFETY: The guard is taken out here, once, and dropped by `drop_early`.
            let guard = unsafe { ManuallyDrop::take(&mut self.guard) };
            return drop_early(guard, id, self.token.lock());
        }
        // Not early: the lock pointer carries no tag.
        // SAFETY: The guard is dropped here, once; `into_parts` takes it out without running
        // this.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
        if id != 0 && !release(id, meta) {
            release_slow(id, meta);
        }
    }
}

/// The tracking share of a guard: the held-stack entry, released on drop (see [`Guarded`]).
pub(crate) struct HeldToken {
    /// The lock's id, or 0 for an acquisition made while tracking was switched off.
    id: u64,
    /// The lock, its address's low bit set ([`EARLY`]) for a hold whose release comes before
    /// the unlock (see [`release`]): one acquired the direct way. Read through
    /// [`HeldToken::lock`].
    meta: *const LockMeta,
}

/// The tag bit of [`HeldToken::meta`] (a `LockMeta` is 8-byte aligned).
const EARLY: usize = 1;

// SAFETY: `meta` points at the lock the guard borrows, which outlives the token; it is only
// used to read atomics and the `Sync` contention state the lock points at.
unsafe impl Send for HeldToken {}
// SAFETY: As above: shared access only reads atomics of a `Sync` lock.
unsafe impl Sync for HeldToken {}

impl HeldToken {
    /// The token of a hold of `meta`, released before the unlock if `early`.
    #[inline(always)]
    fn new(id: u64, meta: &LockMeta, early: bool) -> HeldToken {
        let meta: *const LockMeta = meta;
        HeldToken {
            id,
            // Within the `LockMeta`, whose alignment leaves the low bit free.
            meta: meta
                .cast::<u8>()
                .wrapping_add(usize::from(early) * EARLY)
                .cast(),
        }
    }

    /// The lock.
    #[inline(always)]
    fn lock(&self) -> *const LockMeta {
        self.meta
            .cast::<u8>()
            .wrapping_sub(self.meta as usize & EARLY)
            .cast()
    }

    /// Whether the release comes before the unlock (see [`release`]).
    #[inline(always)]
    fn early(&self) -> bool {
        self.meta as usize & EARLY != 0
    }

    /// Takes the entry off the held stack while the lock is released for a while (a condvar
    /// wait, `unlocked`); [`Parked::restore`] puts it back.
    pub(crate) fn suspend(&self) -> Parked {
        let entry = if self.id == 0 {
            None
        } else {
            held::remove(self.id)
        };
        if let Some(entry) = &entry {
            // The hold ends for the wait. The node it may have learned stays with the entry,
            // which comes back.
            if entry.reported || entry.blamed {
                held::with_inventory(|inventory| hold_ended(inventory, entry));
            }
        }
        Parked {
            entry,
            meta: self.lock(),
        }
    }

    /// Leaves the entry on the held stack for good: the guard was leaked, so the lock stays
    /// locked.
    pub(crate) fn leak(self) {
        std::mem::forget(self);
    }

    /// Records a change of mode of the held lock (downgrade).
    pub(crate) fn set_mode(&self, mode: Mode) {
        if self.id != 0 {
            set_mode(self.id, mode);
        }
    }

    /// Records an upgrade to exclusive: every other lock this thread (and, in a tokio task,
    /// the task) holds is held while it waits for the readers to go. Those taken before this
    /// one were ordered before it when it was taken, unless that was a try; those taken since,
    /// or held by the task (whose order against the thread's locks is not kept), may not be.
    #[track_caller]
    pub(crate) fn upgrade(&self) {
        if self.id == 0 {
            return;
        }
        let site = Location::caller();
        let thread = held::snapshot();
        let order = |task: &[Held]| {
            let Some(entry) = thread.iter().rev().find(|h| h.id == self.id) else {
                return;
            };
            let me = Ident {
                id: entry.id,
                class: entry.class,
            };
            // The upgrade waits for every reader, this thread's own reads of the lock too.
            if let Some(own) = thread
                .iter()
                .rev()
                .find(|h| h.id == self.id && h.mode != Mode::Upgradable)
            {
                self_deadlock(me, Mode::Exclusive, method!("upgrade"), site, own, &thread);
            }
            let others: Vec<Held> = task
                .iter()
                .chain(&thread)
                .filter(|h| h.id != self.id)
                .copied()
                .collect();
            if !others.is_empty() {
                // SAFETY: See the type's `Send` impl: the lock outlives its guard's token.
                let meta = unsafe { &*self.lock() };
                add_edges(meta, me, Mode::Exclusive, method!("upgrade"), site, &others);
                // The edges may have given the lock its per-instance node, which its entry
                // (pushed before, by a try or with no other lock of its class held) lacks: later
                // edges from it must leave from that node, not a second one.
                let node = meta.node.load(Relaxed);
                if node != 0 && entry.node != node {
                    held::learn_node(self.id, node);
                }
            }
        };
        #[cfg(feature = "tokio")]
        task::with_task_held(order);
        #[cfg(not(feature = "tokio"))]
        order(&[]);
        set_mode(self.id, Mode::Exclusive);
    }
}

/// Changes the mode of lock `id`'s innermost hold, on this thread's stack or, for a guard sent
/// here from another thread, on that thread's.
fn set_mode(id: u64, mode: Mode) {
    if let held::Here::Missing = held::set_mode(id, mode) {
        held::change_elsewhere(id, Some(mode));
    }
}

impl Drop for HeldToken {
    /// A token dropped on its own (not by its [`Guarded`]): the release, with the lock already
    /// unlocked or never locked by this token's guard.
    #[inline(always)]
    fn drop(&mut self) {
        // By value: a reference would make the guard live in memory rather than registers.
        if self.id != 0 && !release(self.id, self.lock()) {
            release_slow(self.id, self.lock());
        }
    }
}

/// A release's common case, out of line (the guard's drop stays small enough to inline, and
/// its fields in registers: they are passed by value): no thread waiting to be blamed and the
/// entry on top of the held stack flagged by no one, a pop; false, having done nothing,
/// otherwise, and [`release_slow`] does the rest.
///
/// The guard of a hold acquired the direct way (see [`LockMeta::direct`]: a lock contended
/// before) makes this check and pop ([`release_fast`], inline) before the raw unlock
/// ([`drop_early`]), so that the thread
/// goes from its unlock to its next lock call with nothing in between, as with the plain lock:
/// on two threads taking one lock in turn, the pop after the unlock cost every direct
/// acquisition a third more (`hot_loop ... contended`, 1.87x parking_lot against 1.52x). Other
/// guards release after the unlock: a store just before the unlock's locked instruction waits
/// for it, which cost an uncontended lock and unlock 1.3 ns more (1.23x parking_lot against
/// 1.12x). Blame and the slow release (stack captures, allocations) come after the unlock,
/// outside the hold.
///
/// The lock's contention state is read here, not when the lock was taken: a lock whose first
/// contention began while this thread held it has its state only now, and its waiters are
/// this holder's to blame. (A copy taken at the acquisition left every lock's first
/// contention unblamed.) A waiter that begins waiting after this look is blamed at the next
/// release, on that holder.
#[inline(never)]
fn release(id: u64, meta: *const LockMeta) -> bool {
    release_fast(id, meta)
}

/// The body of [`release`], inline (for [`drop_early`]).
#[inline(always)]
fn release_fast(id: u64, meta: *const LockMeta) -> bool {
    // SAFETY: See `HeldToken`'s `Send` impl: the lock outlives its guard's token.
    let contention = unsafe { &*meta }.contention.load(Relaxed);
    // SAFETY: Non-null `contention` stays valid until the lock is dropped.
    (contention.is_null() || unsafe { &*contention }.waiters.load(Relaxed) == 0)
        && held::release_top(id)
}

/// The rest of a release ([`release`] said false): blame for waiting threads, an entry not on
/// top of the stack, or one the watchdog or the graph flagged.
#[cold]
#[inline(never)]
fn release_slow(id: u64, meta: *const LockMeta) {
    // SAFETY: See `HeldToken`'s `Send` impl: the lock outlives its guard's token.
    let meta = unsafe { &*meta };
    let contention = meta.contention.load(Relaxed);
    if !contention.is_null() {
        // SAFETY: Non-null `contention` stays valid until the lock is dropped.
        let contention = unsafe { &*contention };
        if contention.waiters.load(Relaxed) > 0 {
            contention.blame(ClassRef(meta.ident().class));
        }
    }
    match held::release_guard(id) {
        held::Here::Found(Some(entry)) => {
            held::with_inventory(|inventory| finish_released(inventory, meta, &entry));
        }
        held::Here::Missing => released_elsewhere(meta, id),
        held::Here::Found(None) | held::Here::Unreachable => {}
    }
}

/// A guard made on another thread and dropped here: its hold is taken off there (see
/// [`held::change_elsewhere`]) and finished here.
#[cold]
#[inline(never)]
fn released_elsewhere(meta: &LockMeta, id: u64) {
    if let Some((inventory, entry)) = held::change_elsewhere(id, None) {
        finish_released(&inventory, meta, &entry);
    }
}

/// Finishes a released hold of `meta` that `inventory` showed (see [`hold_ended`]); a node
/// learned while held goes to the lock.
pub(crate) fn finish_released(inventory: &held::Inventory, meta: &LockMeta, entry: &Held) {
    hold_ended(inventory, entry);
    finish_hold(meta, entry);
}

/// A hold that `inventory` showed ended (released, or suspended for a condvar wait): one the
/// watchdog reported long gets its final duration, one it marked for blame charges the direct
/// waits for its lock to this holder.
fn hold_ended(inventory: &held::Inventory, entry: &Held) {
    if entry.reported {
        watchdog::released_long(inventory, entry);
    }
    if entry.blamed {
        watchdog::blame_direct(entry.id, entry.class);
    }
}

/// Finishes a hold that the held stack's fast release could not: the lock keeps the node it
/// learned while held. (A hold the watchdog reported gets its final duration from the
/// caller, which knows the holder's inventory.)
#[cold]
#[inline(never)]
fn finish_hold(meta: &LockMeta, entry: &Held) {
    if entry.learned && entry.node != 0 {
        adopt_node(meta, entry.node);
    }
}

/// A held-stack entry set aside while its lock is released (a condvar wait, `unlocked`). It
/// goes back on the stack when restored, or when dropped: a panic in the closure of
/// `MutexGuard::unlocked` or in a `wait_while` condition unwinds with the lock held again
/// (lock_api and the condvars re-lock on unwind), and the held set must say so.
pub(crate) struct Parked {
    entry: Option<Held>,
    /// The lock, which the parked guard still borrows.
    meta: *const LockMeta,
}

impl Parked {
    /// Checks the order for re-taking the lock (without blocking: call it right before the
    /// re-acquisition, or right after when the re-acquisition is not ours to split).
    pub(crate) fn check_resume(&self) {
        if let Some(entry) = self.entry {
            // No longer parked (if it was): re-taking the lock is a wait of its own.
            held::with_inventory(held::Inventory::end_wait);
            let me = Ident {
                id: entry.id,
                class: entry.class,
            };
            // SAFETY: The guard that parked this entry borrows the lock.
            check_order(
                unsafe { &*self.meta },
                me,
                entry.mode,
                entry.method,
                entry.site,
            );
        }
    }

    /// Publishes this thread as parked in a wait on `condvar` (its address) at `site`, with
    /// the parked lock released: the watchdog's deadlock analysis follows it to the threads
    /// that notify that condvar. Ends with [`Parked::check_resume`].
    pub(crate) fn park_on(&self, condvar: usize, timed: bool, site: &'static Location<'static>) {
        let Some(entry) = self.entry else { return };
        held::with_inventory(|inventory| {
            inventory.begin_wait(held::Waiting {
                id: entry.id,
                class: entry.class,
                mode: entry.mode,
                method: method!("wait"),
                condvar: Some(held::CondvarWait { condvar, timed }),
                site,
                since: std::time::Instant::now(),
            });
        });
        // A parked thread keeps the watchdog awake.
        watchdog::stamp();
    }

    /// The lock will be taken back in `mode`, not the one it was held in (a read guard's
    /// `unlocked` re-takes a recursive read as a plain one).
    pub(crate) fn relock_as(&mut self, mode: Mode) {
        if let Some(entry) = &mut self.entry {
            entry.mode = mode;
        }
    }

    /// Puts the entry back on the held stack.
    pub(crate) fn restore(mut self) {
        self.put_back();
    }

    fn put_back(&mut self) {
        if let Some(mut entry) = self.entry.take() {
            // A new hold begins: the time spent released (a condvar wait) does not count, the
            // watchdog has not reported it, and it was a blocking acquisition, whatever took
            // the lock first.
            entry.since = watchdog::stamp();
            entry.reported = false;
            entry.trylock = false;
            if entry.node == 0 {
                // The re-acquisition may have given the lock its graph node (an edge into it):
                // the entry orders from that node, not from a second one.
                // SAFETY: The guard that parked this entry borrows the lock.
                entry.node = unsafe { &*self.meta }.node.load(Relaxed);
            }
            held::push(entry);
        }
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.put_back();
    }
}

/// Records that this thread notifies the condvar at `condvar` (its address): the threads
/// parked on it wait for this one. A thread-local list makes a repeated notify cheap.
#[inline]
#[track_caller]
pub(crate) fn notified(condvar: usize) {
    if !crate::settings::tracking() {
        return;
    }
    let site = Location::caller();
    let _ = NOTIFIED.try_with(|seen| {
        if seen.borrow().contains(&condvar) {
            return;
        }
        learn_notifier(condvar, site);
        let mut seen = seen.borrow_mut();
        if seen.len() == 64 {
            seen.clear();
        }
        seen.push(condvar);
    });
}

thread_local! {
    /// The condvars this thread is already known to notify.
    static NOTIFIED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cold]
#[inline(never)]
fn learn_notifier(condvar: usize, site: &'static Location<'static>) {
    held::with_inventory(|inventory| watchdog::notifies(condvar, inventory, site));
}

/// The data type of a lock that protects none (`Once`).
pub(crate) fn no_data() -> &'static str {
    ""
}

/// Instance ids, handed out in per-thread blocks so that creating locks does not contend on
/// one global counter.
mod ids {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};

    const BLOCK: u64 = 1024;
    static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);

    thread_local! {
        static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }

    pub(super) fn next() -> u64 {
        RANGE
            .try_with(|range| {
                let (mut next, mut end) = range.get();
                if next == end {
                    next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
                    end = next + BLOCK;
                }
                range.set((next + 1, end));
                next
            })
            .unwrap_or_else(|_| NEXT_BLOCK.fetch_add(1, Ordering::Relaxed))
    }
}

const CLASS_TAG: u64 = 1 << 63;

/// The keys under which the edge from a held lock (`held_id` of `held_class`, held in
/// `held_mode`) into `me` is cached: (target, predecessor).
#[inline(always)]
fn edge_key(
    held_id: u64,
    held_class: &LockClass,
    held_mode: Mode,
    me: Ident,
    mode: Mode,
) -> (u64, u64) {
    let ty = EdgeType::new(held_mode.holds_shared(), mode.enters_recursive()).0 as u64;
    if held_class.id != me.class.id {
        (
            CLASS_TAG | me.class.id as u64,
            CLASS_TAG | (ty << 61) | held_class.id as u64,
        )
    } else {
        (me.id, (ty << 61) | held_id)
    }
}

/// An entry pushed before a try, taken off if the try unwinds.
struct Pushed(u64);

impl Drop for Pushed {
    #[cold]
    fn drop(&mut self) {
        held::release(self.0);
    }
}

/// The entry of an acquisition of lock `me` not made yet, as its wait is announced (see
/// [`LockMeta::direct`]): the lock's graph node, which the watchdog never reads, is left out
/// (its load would be one more instruction before the lock call).
#[inline(always)]
fn wait_entry(
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
    since: u64,
) -> Held {
    Held {
        id: me.id,
        class: me.class,
        mode,
        method,
        trylock: false,
        site,
        since,
        node: 0,
        learned: false,
        reported: false,
        blamed: false,
    }
}

/// A direct lock call's announcement, withdrawn if the call unwinds.
struct Announced(held::Mine);

impl Drop for Announced {
    #[cold]
    fn drop(&mut self) {
        self.0.end_direct(0);
    }
}

/// Whether a tokio task may hold tokio locks (one relaxed load; false without `tokio`).
#[inline(always)]
fn task_in_use() -> bool {
    #[cfg(feature = "tokio")]
    return task::in_use();
    #[cfg(not(feature = "tokio"))]
    return false;
}

/// The hot check before a blocking acquisition: nothing held, a compatible re-entry, or every
/// needed edge already known means no global lock and no allocation.
#[inline(always)]
fn check_order(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
) {
    // Inside a tokio task that holds tokio locks, the order check covers them too.
    #[cfg(feature = "tokio")]
    if task::in_use() && task::check_std_in_task(meta, me, mode, method, site) {
        return;
    }
    check_order_thread(meta, me, mode, method, site);
}

/// The order check against this thread's held stack alone.
#[inline(always)]
fn check_order_thread(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
) {
    if held::holds_nothing() {
        return;
    }
    check_order_nested(meta, me, mode, method, site);
}

/// The order check when this thread holds something: every edge into `me` is looked up in
/// the caches first.
#[inline(never)]
fn check_order_nested(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
) {
    let known = held::with_rows(|rows, cache_of_thread| {
        edges_known(rows, cache_of_thread, meta, me, mode).unwrap_or_else(|fine| fine)
    })
    // Too deep for the published stack: the cold path sees the overflow too.
    .unwrap_or(false);
    // Inside a capture even known edges go to the graph: they may be on a cycle reported
    // before the capture began, which the capture must see in its own code.
    if !known || crate::report::capturing() {
        check_order_cold(meta, me, mode, method, site);
    }
}

/// Looks up the edges from the held `rows` (innermost last; the caller's own, below their
/// stack's length) into `me` in the caches: `Ok(true)` if every one is known, `Ok(false)` if
/// one is not, and `Err(fine)` if `me` is among them (a re-entry, `fine` unless it
/// self-deadlocks): what was held before it was ordered when it was first taken.
#[inline(always)]
fn edges_known(
    rows: &[held::Row],
    cache: &held::Known<'_>,
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
) -> Result<bool, bool> {
    let mut print = StackPrint::new(mode);
    for row in rows.iter().rev() {
        let id = held::row_id(row);
        if id == me.id {
            return Err(!mode.self_deadlocks_over(held::row_mode_of(row)));
        }
        print.fold(id, held::row_mode_bits(row));
    }
    let (print, known_stack) = (print.finish(), meta.known_stack.load(Relaxed));
    if print == known_stack {
        return Ok(true);
    }
    // Every held lock gets its own edge. lockdep links only the innermost one and relies on
    // transitivity, but that loses edge types across the class / instance split (a write of
    // x1, a read of x2, then y: the class graph would only learn the read), which the
    // differential test caught.
    let known = rows.iter().all(|row| {
        // SAFETY: By the caller's promise these are its own rows below the stack's length.
        let class = unsafe { held::row_class(row) };
        let (target, pred) = edge_key(held::row_id(row), class, held::row_mode_of(row), me, mode);
        cache.contains(target, pred)
    });
    // A new lock of known classes: its first known stack is kept. Later ones are not (a
    // lock taken under two stacks in turn would write its line on every acquisition); the
    // cold path keeps the stack it last added edges for.
    if known && known_stack == 0 {
        meta.known_stack.store(print, Relaxed);
    }
    Ok(known)
}

/// The fingerprint of a held stack (each lock's id and mode, innermost first) and the mode
/// of the acquisition made under it: what the edges it adds depend on. The first step puts
/// the acquisition's mode, the innermost lock's mode and its id in bits of their own (ids
/// count locks, far below 2^58), and every step is a bijection of the fingerprint so far, so
/// two stacks collide only by chance (about one in 2^63); lockdep caches its lock chains
/// under such a 64-bit key too. A collision would skip the order check of one acquisition,
/// never report a false one. (With the modes and the first id xored together unshifted, a
/// read under lock 1026 and a recursive read under lock 1025 made one fingerprint, and the
/// differential test found the missed cycle.)
pub(crate) struct StackPrint(u64);

impl StackPrint {
    #[inline(always)]
    pub(crate) fn new(mode: Mode) -> Self {
        StackPrint((mode as u64) << 61)
    }

    /// The finished fingerprint of an acquisition in `mode` under `held` (innermost last).
    pub(crate) fn of(mode: Mode, held: &[Held]) -> u64 {
        let mut print = StackPrint::new(mode);
        for h in held.iter().rev() {
            print.fold(h.id, h.mode as u64);
        }
        print.finish()
    }

    /// Folds in a held lock: its id and its mode (`mode as u64`).
    #[inline(always)]
    pub(crate) fn fold(&mut self, id: u64, mode: u64) {
        let x = (self.0 ^ id ^ (mode << 58)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 29);
    }

    /// Never 0, which [`LockMeta::known_stack`] holds before any stack is known.
    #[inline(always)]
    pub(crate) fn finish(self) -> u64 {
        self.0 | 1
    }
}

#[cold]
#[inline(never)]
fn check_order_cold(
    meta: &LockMeta,
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
) {
    let held = held::snapshot();
    if let Some(h) = held.iter().rev().find(|h| h.id == me.id) {
        if mode.self_deadlocks_over(h.mode) {
            self_deadlock(me, mode, method, site, h, &held);
        }
        return;
    }
    add_edges(meta, me, mode, method, site, &held);
}

/// A self-deadlock, by what identifies the bug: the class, the first acquisition's site and
/// the second's.
type SelfDeadlockKey = (u32, SiteKey, SiteKey);

/// Self-deadlocks reported, one report per bug: the same one in a loop (a lock re-taken for
/// every key of a map) is one report, counted.
static SELF_DEADLOCKS: parking_lot::Mutex<Option<HashMap<SelfDeadlockKey, crate::report::Report>>> =
    parking_lot::Mutex::new(None);

#[cold]
fn self_deadlock(
    me: Ident,
    mode: Mode,
    method: Method,
    site: &'static Location<'static>,
    earlier: &Held,
    held: &[Held],
) {
    let key = (me.class.id, site_key(earlier.site), site_key(site));
    let known = SELF_DEADLOCKS
        .lock()
        .get_or_insert_with(HashMap::new)
        .get(&key)
        .cloned();
    match known {
        Some(report) => {
            report.repeat(None);
            crate::report::recapture(&report);
        }
        None => {
            let report = explain::self_deadlock(me, mode, method, site, earlier, held);
            SELF_DEADLOCKS
                .lock()
                .get_or_insert_with(HashMap::new)
                .insert(key, report.clone());
            crate::report::deliver(report);
        }
    }
}

/// The self-deadlock report for a thread that holds a lock of `class` taken at `held_site`
/// and now waits for it at `wait_site`, if one was made: the watchdog folds the hang into it.
pub(crate) fn self_deadlock_report(
    class: &LockClass,
    held_site: &'static Location<'static>,
    wait_site: &'static Location<'static>,
) -> Option<crate::report::Report> {
    SELF_DEADLOCKS
        .lock()
        .as_ref()?
        .get(&(class.id, site_key(held_site), site_key(wait_site)))
        .cloned()
}

pub(crate) fn graph_stats() -> crate::GraphStats {
    with_graphs(|g| {
        let (class_nodes, class_edges) = g.classes.size();
        let (instance_nodes, instance_edges) = g.instances.size();
        crate::GraphStats {
            class_nodes,
            class_edges,
            instance_nodes,
            instance_edges,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{LockMeta, Mode, StackPrint};
    use std::collections::HashSet;
    use std::mem::{align_of, offset_of, size_of};

    const MODES: [Mode; 6] = [
        Mode::Exclusive,
        Mode::Read,
        Mode::RecursiveRead,
        Mode::Upgradable,
        Mode::Reentrant,
        Mode::Init,
    ];

    fn print(mode: Mode, stack: &[(u64, Mode)]) -> u64 {
        let mut print = StackPrint::new(mode);
        for &(id, held) in stack {
            print.fold(id, held as u64);
        }
        print.finish()
    }

    /// Distinct stacks of the small, consecutive ids locks get (and every mode) have distinct
    /// fingerprints: all of depth 1 and 2 over 64 ids, and of depth 3 over 12.
    #[test]
    fn stack_prints_do_not_collide_on_small_ids() {
        let mut seen = HashSet::new();
        let mut add = |mode: Mode, stack: &[(u64, Mode)]| {
            assert!(
                seen.insert(print(mode, stack)),
                "{mode:?} under {stack:?} has a fingerprint seen before"
            );
        };
        let held = |ids: std::ops::Range<u64>| {
            ids.flat_map(|id| MODES.map(|m| (id, m)))
                .collect::<Vec<_>>()
        };
        // Ids as the first block hands them out, and as the second thread's block does.
        let ids: Vec<_> = held(1..33).into_iter().chain(held(1024..1056)).collect();
        for mode in MODES {
            for &a in &ids {
                add(mode, &[a]);
                for &b in &ids {
                    add(mode, &[a, b]);
                }
            }
        }
        let ids = held(1020..1032);
        for mode in [Mode::Exclusive, Mode::Read, Mode::RecursiveRead] {
            for &a in &ids {
                for &b in &ids {
                    for &c in &ids {
                        add(mode, &[a, b, c]);
                    }
                }
            }
        }
    }

    /// The fields an acquisition reads before taking the lock never share a 64-byte line
    /// with a raw lock placed right after the `LockMeta`, wherever the lock sits.
    #[test]
    fn the_fields_read_first_are_a_line_apart_from_the_raw_lock() {
        let last_read = offset_of!(LockMeta, read_policy);
        for field in [
            offset_of!(LockMeta, ident),
            offset_of!(LockMeta, contention),
            offset_of!(LockMeta, node),
        ] {
            assert!(field < last_read);
        }
        let raw = size_of::<LockMeta>();
        assert_eq!(align_of::<LockMeta>(), 8);
        for placement in (0..64).step_by(8) {
            assert_ne!(
                (placement + last_read) / 64,
                (placement + raw) / 64,
                "a LockMeta {placement} bytes into a line shares it with the raw lock"
            );
        }
    }
}

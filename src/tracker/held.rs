//! Per-thread state: the stack of held locks and a small cache of edges known to the graph.
//!
//! Everything here is thread-local and reached with `try_with`, so a lock used while the
//! thread's locals are being torn down simply goes untracked instead of panicking.

use std::cell::{Cell, OnceCell, RefCell, UnsafeCell};
use std::panic::Location;
use std::sync::Arc;

use super::class::LockClass;
use super::watchdog::{self, Inventory};

/// How a lock is held or requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Mode {
    /// `Mutex::lock`, `RwLock::write`.
    Exclusive,
    /// A read that a queued writer can block (`std` `read`, parking_lot `read`).
    Read,
    /// A read that never waits for queued writers (parking_lot `read_recursive`).
    RecursiveRead,
    /// parking_lot's upgradable read: shares with readers, excludes writers and upgraders.
    Upgradable,
    /// `ReentrantMutex::lock`: the owner may take it again.
    Reentrant,
    /// Running a `Once` / `OnceLock` / `LazyLock` initializer: exclusive, and blocking for
    /// every other thread that wants the value.
    Init,
}

impl Mode {
    /// The inverse of `mode as u8`.
    pub(crate) fn from_u8(v: u8) -> Mode {
        match v {
            0 => Mode::Exclusive,
            1 => Mode::Read,
            2 => Mode::RecursiveRead,
            3 => Mode::Upgradable,
            4 => Mode::Reentrant,
            _ => Mode::Init,
        }
    }

    /// lockdep's "S" tail: a lock held this way lets readers in.
    pub(crate) fn holds_shared(self) -> bool {
        matches!(self, Mode::Read | Mode::RecursiveRead | Mode::Upgradable)
    }

    /// lockdep's "R" head: an acquisition in this mode is not blocked by readers, nor by
    /// waiting writers.
    pub(crate) fn enters_recursive(self) -> bool {
        self == Mode::RecursiveRead
    }

    /// Whether taking a lock in mode `self` while this thread already holds it in `held`
    /// blocks forever.
    pub(crate) fn self_deadlocks_over(self, held: Mode) -> bool {
        match self {
            Mode::Reentrant => false,
            Mode::RecursiveRead => !held.holds_shared(),
            Mode::Read | Mode::Exclusive | Mode::Upgradable | Mode::Init => true,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Exclusive => "lock",
            Mode::Read => "read",
            Mode::RecursiveRead => "read_recursive",
            Mode::Upgradable => "upgradable_read",
            Mode::Reentrant => "lock",
            Mode::Init => "initialize",
        }
    }
}

/// One entry of a thread's held-lock stack.
#[derive(Clone, Copy)]
pub(crate) struct Held {
    pub(crate) id: u64,
    pub(crate) class: &'static LockClass,
    pub(crate) mode: Mode,
    /// Taken with a try-lock: orders later acquisitions but was never waited for.
    pub(crate) trylock: bool,
    pub(crate) site: &'static Location<'static>,
    /// The watchdog tick when it was taken.
    pub(crate) since: u64,
}

/// Direct-mapped cache of (target, predecessor) edge keys this thread has seen in the graph.
/// Fixed size: it never allocates and a collision only costs a trip to the graph.
const KNOWN_SLOTS: usize = 256;

/// Held locks kept inline in the hot state; deeper ones go to the cold state's overflow.
const INLINE: usize = 16;

/// The class and site of the placeholder entries of an empty inline stack.
static PLACEHOLDER_CLASS: LockClass = LockClass::placeholder();
static PLACEHOLDER_SITE: &Location<'static> = Location::caller();

/// The hot per-thread state: plain cells and no destructor, so reaching it costs one
/// thread-pointer offset and no registration check. What needs a destructor (the overflow,
/// the inventory's ownership, the name) lives in [`ColdState`].
struct HotState {
    /// How many locks this thread holds (inline and overflow).
    len: Cell<usize>,
    /// The first [`INLINE`] held locks. Only this thread touches it, and no reference into
    /// it outlives a function of this module (see [`with_held`]).
    stack: UnsafeCell<[Held; INLINE]>,
    known: [Cell<u128>; KNOWN_SLOTS],
    /// The published inventory, owned by the cold state; null before registration and after
    /// the cold state is gone (thread exit), when publishing simply stops.
    inventory: Cell<*const Inventory>,
    /// The cold state has been torn down: do not register again.
    exiting: Cell<bool>,
}

struct ColdState {
    overflow: RefCell<Vec<Held>>,
    name: RefCell<Option<Arc<str>>>,
    inventory: OnceCell<Arc<Inventory>>,
}

impl Drop for ColdState {
    fn drop(&mut self) {
        // The thread is exiting: stop publishing before the inventory goes, and leave nothing
        // behind for the watchdog.
        let _ = HOT.try_with(|hot| {
            hot.inventory.set(std::ptr::null());
            hot.exiting.set(true);
        });
        if let Some(inventory) = self.inventory.get() {
            watchdog::unregister(inventory);
        }
    }
}

thread_local! {
    static HOT: HotState = const {
        HotState {
            len: Cell::new(0),
            stack: UnsafeCell::new(
                [Held {
                    id: 0,
                    class: &PLACEHOLDER_CLASS,
                    mode: Mode::Exclusive,
                    trylock: false,
                    site: PLACEHOLDER_SITE,
                    since: 0,
                }; INLINE],
            ),
            known: [const { Cell::new(0) }; KNOWN_SLOTS],
            inventory: Cell::new(std::ptr::null()),
            exiting: Cell::new(false),
        }
    };
    static COLD: ColdState = const {
        ColdState {
            overflow: RefCell::new(Vec::new()),
            name: RefCell::new(None),
            inventory: OnceCell::new(),
        }
    };
}

impl HotState {
    #[inline(always)]
    fn inventory(&self) -> Option<&Inventory> {
        let ptr = self.inventory.get();
        if !ptr.is_null() {
            // SAFETY: Set by `register` from the `Arc` the cold state keeps alive, and reset
            // to null before the cold state drops it.
            return Some(unsafe { &*ptr });
        }
        self.register()
    }

    #[cold]
    #[inline(never)]
    fn register(&self) -> Option<&Inventory> {
        if self.exiting.get() {
            return None;
        }
        let ptr = COLD
            .try_with(|cold| {
                let inventory = cold
                    .inventory
                    .get_or_init(|| watchdog::register(thread_name()));
                Arc::as_ptr(inventory)
            })
            .ok()?;
        self.inventory.set(ptr);
        // SAFETY: As in `inventory`: the cold state owns it until it resets the pointer.
        Some(unsafe { &*ptr })
    }

    /// The inline part of the stack.
    #[inline(always)]
    fn inline(&self) -> &[Held] {
        let len = self.len.get().min(INLINE);
        // SAFETY: Only this thread reaches `stack`; the writes below (`push`, `set_all`)
        // never run while a slice from here is alive (the functions of this module do not
        // call out while holding one).
        unsafe { &(&*self.stack.get())[..len] }
    }

    /// The whole stack, innermost last (cold).
    fn all(&self) -> Vec<Held> {
        let mut out = self.inline().to_vec();
        if self.len.get() > INLINE {
            let _ = COLD.try_with(|cold| {
                if let Ok(overflow) = cold.overflow.try_borrow() {
                    out.extend_from_slice(&overflow);
                }
            });
        }
        out
    }

    /// Replaces the whole stack and republishes it from `from` on (cold).
    fn set_all(&self, held: &[Held], from: usize) {
        let inline = held.len().min(INLINE);
        // SAFETY: See `inline`; no slice into the stack is alive here.
        unsafe { (&mut *self.stack.get())[..inline].copy_from_slice(&held[..inline]) };
        let mut len = inline;
        if held.len() > INLINE {
            let stored = COLD.try_with(|cold| {
                cold.overflow.try_borrow_mut().is_ok_and(|mut overflow| {
                    overflow.clear();
                    overflow.extend_from_slice(&held[INLINE..]);
                    true
                })
            });
            if stored == Ok(true) {
                len = held.len();
            }
        } else {
            let _ = COLD.try_with(|cold| {
                if let Ok(mut overflow) = cold.overflow.try_borrow_mut() {
                    overflow.clear();
                }
            });
        }
        self.len.set(len);
        if let Some(inventory) = self.inventory() {
            inventory.publish(&held[..len], from.min(len));
        }
    }
}

/// Whether this thread holds nothing (or its state is unreachable): one thread-local load,
/// inlined, so that the common outermost acquisition never calls into the order check.
#[inline(always)]
pub(crate) fn holds_nothing() -> bool {
    HOT.try_with(|hot| hot.len.get() == 0).unwrap_or(true)
}

/// Runs `f` over this thread's held locks (innermost last) and its known-edge cache. `f` must
/// not lock or unlock anything. `None` only if the thread's state is unreachable.
#[inline(always)]
pub(crate) fn with_held<R>(f: impl FnOnce(&[Held], &Known<'_>) -> R) -> Option<R> {
    HOT.try_with(|hot| {
        if hot.len.get() <= INLINE {
            f(hot.inline(), &Known(&hot.known))
        } else {
            f(&hot.all(), &Known(&hot.known))
        }
    })
    .ok()
}

/// This thread's cache of known edges, borrowed with the held stack (one thread-local access
/// for the whole order check).
pub(crate) struct Known<'a>(&'a [Cell<u128>; KNOWN_SLOTS]);

impl Known<'_> {
    #[inline(always)]
    pub(crate) fn contains(&self, target: u64, pred: u64) -> bool {
        let (i, key) = slot(target, pred);
        self.0[i].get() == key
    }
}

#[inline(always)]
pub(crate) fn push(entry: Held) {
    let _ = HOT.try_with(|hot| {
        let len = hot.len.get();
        if len < INLINE {
            // SAFETY: See `HotState::inline`; no slice into the stack is alive here.
            unsafe { (*hot.stack.get())[len] = entry };
            hot.len.set(len + 1);
            if let Some(inventory) = hot.inventory() {
                inventory.publish_push(len, &entry);
            }
            return;
        }
        push_deep(hot, entry);
    });
}

/// A push past the inline stack (cold).
#[cold]
#[inline(never)]
fn push_deep(hot: &HotState, entry: Held) {
    let len = hot.len.get();
    let pushed = COLD.try_with(|cold| {
        cold.overflow
            .try_borrow_mut()
            .map(|mut overflow| overflow.push(entry))
            .is_ok()
    });
    if pushed != Ok(true) {
        return;
    }
    hot.len.set(len + 1);
    if let Some(inventory) = hot.inventory() {
        inventory.publish_push(len, &entry);
    }
    if len + 1 > watchdog::SLOTS {
        watchdog::deep_stack(&thread_name());
    }
}

/// Releases the innermost entry for lock `id` (a guard dropped). The common case, the
/// innermost lock released first, is one length and one published length.
#[inline(always)]
pub(crate) fn release(id: u64) {
    let _ = HOT.try_with(|hot| {
        let top = hot.len.get().wrapping_sub(1);
        if top < INLINE {
            // SAFETY: See `HotState::inline`; `top` is below the length and inside the stack.
            let entry_id = unsafe { (*hot.stack.get())[top].id };
            let inventory = hot.inventory.get();
            if entry_id == id {
                if inventory.is_null() {
                    hot.len.set(top);
                    return;
                }
                // SAFETY: As in `HotState::inventory`.
                let inventory = unsafe { &*inventory };
                if !inventory.was_reported(top) {
                    hot.len.set(top);
                    inventory.publish_len(top);
                    return;
                }
            }
        }
        remove_in(hot, id);
    });
}

/// Removes the innermost entry for lock `id`, wherever it is, and returns it.
pub(crate) fn remove(id: u64) -> Option<Held> {
    HOT.try_with(|hot| remove_in(hot, id)).ok().flatten()
}

#[cold]
#[inline(never)]
fn remove_in(hot: &HotState, id: u64) -> Option<Held> {
    let mut held = hot.all();
    let at = held.iter().rposition(|h| h.id == id)?;
    let inventory = hot.inventory();
    let reported = inventory.is_some_and(|i| i.was_reported(at));
    let entry = held.remove(at);
    hot.set_all(&held, at);
    if reported {
        if let Ok(Some(inventory)) = COLD.try_with(|cold| cold.inventory.get().cloned()) {
            watchdog::released_long(&inventory, &entry);
        }
    }
    Some(entry)
}

/// Runs `f` over a copy of this thread's held locks, then stores them back and republishes
/// them from the index `f` returns.
fn update(f: impl FnOnce(&mut Vec<Held>) -> Option<usize>) {
    let _ = HOT.try_with(|hot| {
        let mut held = hot.all();
        if let Some(from) = f(&mut held) {
            hot.set_all(&held, from);
        }
    });
}

/// Removes every entry for lock `id` (the lock is being dropped while a forgotten guard left
/// it marked as held).
pub(crate) fn forget(id: u64) {
    let held = HOT.try_with(|hot| hot.len.get() > 0).unwrap_or(false);
    if !held {
        return;
    }
    update(|held| {
        let at = held.iter().position(|h| h.id == id)?;
        held.retain(|h| h.id != id);
        Some(at)
    });
}

/// Changes the mode of the innermost entry for lock `id` (downgrade, upgrade).
pub(crate) fn set_mode(id: u64, mode: Mode) {
    update(|held| {
        let at = held.iter().rposition(|h| h.id == id)?;
        held[at].mode = mode;
        Some(at)
    });
}

/// This thread's inventory, for publishing a wait (the contended path).
pub(crate) fn with_inventory<R>(f: impl FnOnce(&Inventory) -> R) -> Option<R> {
    HOT.try_with(|hot| hot.inventory().map(f)).ok().flatten()
}

/// A copy of the held stack, innermost last, for the cold paths.
pub(crate) fn snapshot() -> Vec<Held> {
    HOT.try_with(|hot| hot.all()).unwrap_or_default()
}

#[inline(always)]
fn slot(target: u64, pred: u64) -> (usize, u128) {
    let key = ((target as u128) << 64) | pred as u128;
    let mixed = (target ^ pred.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mixed >> 56) as usize % KNOWN_SLOTS, key)
}

pub(crate) fn remember_edge(target: u64, pred: u64) {
    let (i, key) = slot(target, pred);
    let _ = HOT.try_with(|hot| hot.known[i].set(key));
}

/// This thread's name for reports: its name, or its id when it has none.
pub(crate) fn thread_name() -> Arc<str> {
    let compute = || -> Arc<str> {
        let current = std::thread::current();
        match current.name() {
            Some(name) => Arc::from(name),
            None => Arc::from(format!("{:?}", current.id()).as_str()),
        }
    };
    COLD.try_with(|st| match st.name.try_borrow_mut() {
        Ok(mut slot) => slot.get_or_insert_with(compute).clone(),
        Err(_) => compute(),
    })
    .unwrap_or_else(|_| Arc::from("<exiting thread>"))
}

//! Per-thread state: the stack of held locks and a small cache of edges known to the graph.
//!
//! Everything here is thread-local and reached with `try_with`, so a lock used while the
//! thread's locals are being torn down simply goes untracked instead of panicking.

use std::cell::{Cell, OnceCell, RefCell};
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

struct ThreadState {
    held: RefCell<Vec<Held>>,
    known: [Cell<u128>; KNOWN_SLOTS],
    name: RefCell<Option<Arc<str>>>,
    /// What the watchdog sees of `held`; registered on the first acquisition.
    inventory: OnceCell<Arc<Inventory>>,
    /// `inventory`'s address once registered: the hot path's one load.
    inventory_ptr: Cell<*const Inventory>,
}

impl ThreadState {
    #[inline(always)]
    fn inventory(&self) -> &Inventory {
        let ptr = self.inventory_ptr.get();
        if !ptr.is_null() {
            // SAFETY: Set below from the `Arc` that `self.inventory` keeps alive for as long
            // as this thread state exists.
            return unsafe { &*ptr };
        }
        self.register()
    }

    #[cold]
    #[inline(never)]
    fn register(&self) -> &Inventory {
        let inventory = self
            .inventory
            .get_or_init(|| watchdog::register(thread_name()));
        self.inventory_ptr.set(Arc::as_ptr(inventory));
        inventory
    }

    fn inventory_arc(&self) -> Arc<Inventory> {
        self.inventory();
        Arc::clone(self.inventory.get().expect("registered just above"))
    }
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        // The thread is exiting: it leaves nothing behind for the watchdog.
        if let Some(inventory) = self.inventory.get() {
            watchdog::unregister(inventory);
        }
    }
}

thread_local! {
    static STATE: ThreadState = const {
        ThreadState {
            held: RefCell::new(Vec::new()),
            known: [const { Cell::new(0) }; KNOWN_SLOTS],
            name: RefCell::new(None),
            inventory: OnceCell::new(),
            inventory_ptr: Cell::new(std::ptr::null()),
        }
    };
}

/// Runs `f` over this thread's held locks, innermost last. `None` during thread teardown
/// (or when the stack is borrowed, which only lockwatch's own code can do).
#[inline(always)]
pub(crate) fn with_held<R>(f: impl FnOnce(&[Held], &Known<'_>) -> R) -> Option<R> {
    STATE
        .try_with(|st| {
            st.held
                .try_borrow()
                .ok()
                .map(|held| f(&held, &Known(&st.known)))
        })
        .ok()
        .flatten()
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
    let deep = STATE.try_with(|st| {
        let Ok(mut held) = st.held.try_borrow_mut() else {
            return false;
        };
        if held.capacity() == 0 {
            held.reserve(8);
        }
        held.push(entry);
        st.inventory().publish_push(held.len() - 1, &entry);
        held.len() > watchdog::SLOTS
    });
    if deep == Ok(true) {
        watchdog::deep_stack(&thread_name());
    }
}

/// Releases the innermost entry for lock `id` (a guard dropped). The common case, the
/// innermost lock released first, is a pop and one published length.
#[inline(always)]
pub(crate) fn release(id: u64) {
    let _ = STATE.try_with(|st| {
        let Ok(mut held) = st.held.try_borrow_mut() else {
            return;
        };
        let inventory = st.inventory();
        let top = held.len().wrapping_sub(1);
        if held.last().is_some_and(|h| h.id == id) && !inventory.was_reported(top) {
            held.pop();
            inventory.publish_len(top);
            return;
        }
        drop(held);
        remove(id);
    });
}

/// Removes the innermost entry for lock `id`, wherever it is, and returns it.
#[cold]
#[inline(never)]
pub(crate) fn remove(id: u64) -> Option<Held> {
    let (entry, reported) = STATE
        .try_with(|st| {
            let mut held = st.held.try_borrow_mut().ok()?;
            let inventory = st.inventory();
            let at = held.iter().rposition(|h| h.id == id)?;
            let reported = inventory.was_reported(at).then(|| st.inventory_arc());
            let entry = held.remove(at);
            inventory.publish(&held, at);
            Some((entry, reported))
        })
        .ok()
        .flatten()?;
    if let Some(inventory) = reported {
        watchdog::released_long(&inventory, &entry);
    }
    Some(entry)
}

/// Runs `f` over this thread's held locks, then publishes them from the index `f` returns on.
fn update(f: impl FnOnce(&mut Vec<Held>) -> Option<usize>) {
    let _ = STATE.try_with(|st| {
        let Ok(mut held) = st.held.try_borrow_mut() else {
            return;
        };
        if let Some(from) = f(&mut held) {
            st.inventory().publish(&held, from);
        }
    });
}

/// Removes every entry for lock `id` (the lock is being dropped while a forgotten guard left
/// it marked as held).
pub(crate) fn forget(id: u64) {
    update(|held| {
        let before = held.len();
        held.retain(|h| h.id != id);
        (held.len() != before).then_some(0)
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
    STATE.try_with(|st| f(st.inventory())).ok()
}

/// A copy of the held stack, for the cold paths.
pub(crate) fn snapshot() -> Vec<Held> {
    with_held(|held, _| held.to_vec()).unwrap_or_default()
}

#[inline(always)]
fn slot(target: u64, pred: u64) -> (usize, u128) {
    let key = ((target as u128) << 64) | pred as u128;
    let mixed = (target ^ pred.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mixed >> 56) as usize % KNOWN_SLOTS, key)
}

pub(crate) fn remember_edge(target: u64, pred: u64) {
    let (i, key) = slot(target, pred);
    let _ = STATE.try_with(|st| st.known[i].set(key));
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
    STATE
        .try_with(|st| match st.name.try_borrow_mut() {
            Ok(mut slot) => slot.get_or_insert_with(compute).clone(),
            Err(_) => compute(),
        })
        .unwrap_or_else(|_| Arc::from("<exiting thread>"))
}

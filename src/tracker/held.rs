//! Per-thread state: the stack of held locks and a small cache of edges known to the graph.
//!
//! Everything here is thread-local and reached with `try_with`, so a lock used while the
//! thread's locals are being torn down simply goes untracked instead of panicking.

use std::cell::{Cell, OnceCell, RefCell};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::sync::Arc;
use std::time::Instant;

use super::class::LockClass;
use super::seqlock::SeqRows;

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
}

/// The method an acquisition was made with, as reports name it (`write`, `try_read_for`,
/// `get_or_init`): an index into [`METHODS`], so that it fits a held row's flags word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Method(u8);

/// Every method name a report can show.
const METHODS: &[&str] = &[
    "lock",
    "read",
    "write",
    "read_recursive",
    "upgradable_read",
    "try_lock",
    "try_read",
    "try_write",
    "try_lock_for",
    "try_lock_until",
    "try_read_for",
    "try_read_until",
    "try_write_for",
    "try_write_until",
    "try_read_recursive",
    "try_read_recursive_for",
    "try_read_recursive_until",
    "try_upgradable_read",
    "try_upgradable_read_for",
    "try_upgradable_read_until",
    "make_guard_unchecked",
    "make_read_guard_unchecked",
    "make_write_guard_unchecked",
    "make_upgradable_guard_unchecked",
    "upgrade",
    "call_once",
    "call_once_force",
    "get_or_init",
    "get_or_try_init",
    "force",
    "wait",
    "wait_force",
    "deref",
    "lock_owned",
    "blocking_lock",
    "blocking_lock_owned",
    "try_lock_owned",
    "read_owned",
    "write_owned",
    "try_read_owned",
    "try_write_owned",
    "blocking_read",
    "blocking_write",
    "acquire",
    "try_acquire",
    "lock_arc",
    "try_lock_arc",
    "try_lock_arc_for",
    "try_lock_arc_until",
    "read_arc",
    "try_read_arc",
    "write_arc",
    "try_write_arc",
    "try_read_arc_for",
    "try_read_arc_until",
    "try_write_arc_for",
    "try_write_arc_until",
    "read_arc_recursive",
    "try_read_recursive_arc",
    "try_read_arc_recursive_for",
    "try_read_arc_recursive_until",
    "upgradable_read_arc",
    "try_upgradable_read_arc",
    "try_upgradable_read_arc_for",
    "try_upgradable_read_arc_until",
];

impl Method {
    /// The method called `name`; a name missing from [`METHODS`] fails to compile where this
    /// is evaluated in a `const`.
    pub(crate) const fn named(name: &str) -> Method {
        let mut i = 0;
        while i < METHODS.len() {
            if str_eq(METHODS[i], name) {
                return Method(i as u8);
            }
            i += 1;
        }
        panic!("a lock method lockwatch does not name");
    }

    pub(crate) fn as_str(self) -> &'static str {
        METHODS.get(usize::from(self.0)).copied().unwrap_or("lock")
    }

    fn from_u8(v: u8) -> Method {
        Method(v)
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `Method::named` evaluated at compile time.
macro_rules! method {
    ($name:expr) => {{
        const M: $crate::tracker::Method = $crate::tracker::Method::named($name);
        M
    }};
}
pub(crate) use method;

/// One entry of a thread's held-lock stack.
#[derive(Clone, Copy)]
pub(crate) struct Held {
    pub(crate) id: u64,
    pub(crate) class: &'static LockClass,
    pub(crate) mode: Mode,
    /// The method it was taken with, for reports.
    pub(crate) method: Method,
    /// Taken with a try-lock: orders later acquisitions but was never waited for.
    pub(crate) trylock: bool,
    pub(crate) site: &'static Location<'static>,
    /// The watchdog tick when it was taken.
    pub(crate) since: u64,
    /// The lock's node in the per-instance order graph, 0 if it had none when taken (see
    /// [`learn_node`]).
    pub(crate) node: u32,
    /// The node was learned while held: the release hands it to the lock.
    pub(crate) learned: bool,
    /// The watchdog reported this hold as long: the release adds its duration.
    pub(crate) reported: bool,
    /// The watchdog found threads waiting long for this lock without timing their waits
    /// themselves (see [`Mine::begin_direct`]): the release charges their waiting to this
    /// holder.
    pub(crate) blamed: bool,
}

/// Words per published row.
pub(crate) const WORDS: usize = 5;

impl Held {
    /// The published form: `[id, class, site, flags, node]`, the flags word laid out as
    /// `since << SINCE_SHIFT | lasted | blamed | method << METHOD_SHIFT | elsewhere | learned
    /// | trylock | mode << MODE_SHIFT | reported` (see the constants below; `lasted` only in
    /// the next row, [`Mine::begin_direct`]). `reported` is set by the watchdog once it
    /// reported the hold, so that the release adds its duration; `learned` once the lock got
    /// its graph node while held, so that the release tells the lock. The watchdog reads the
    /// first four words.
    #[inline(always)]
    pub(crate) fn encode(&self) -> [u64; WORDS] {
        [
            self.id,
            self.class as *const LockClass as u64,
            self.site as *const Location<'static> as u64,
            (self.since << SINCE_SHIFT)
                | (u64::from(self.method.0) << METHOD_SHIFT)
                | if self.learned { LEARNED } else { 0 }
                | if self.reported { REPORTED } else { 0 }
                | if self.blamed { BLAMED } else { 0 }
                | if self.trylock { TRYLOCK } else { 0 }
                | ((self.mode as u64) << MODE_SHIFT),
            u64::from(self.node),
        ]
    }

    /// The inverse of [`Held::encode`]; `None` for a row never written (zero words).
    ///
    /// # Safety
    ///
    /// `words` must be all zero, or a consistent copy of words that [`Held::encode`] wrote:
    /// its class and site words become `&'static` references.
    pub(crate) unsafe fn decode(words: [u64; WORDS]) -> Option<Held> {
        if words[1] == 0 || words[2] == 0 {
            return None;
        }
        Some(Held {
            id: words[0],
            // SAFETY: By the caller's promise, a non-zero class word is the address of a
            // leaked, never-freed `LockClass` and a site word that of a `&'static Location`.
            class: unsafe { &*(words[1] as *const LockClass) },
            // SAFETY: As above.
            site: unsafe { &*(words[2] as *const Location<'static>) },
            mode: row_mode(words[FLAGS]),
            method: Method::from_u8((words[FLAGS] >> METHOD_SHIFT) as u8),
            trylock: words[FLAGS] & TRYLOCK != 0,
            since: words[FLAGS] >> SINCE_SHIFT,
            node: words[4] as u32,
            learned: words[FLAGS] & LEARNED != 0,
            reported: words[FLAGS] & REPORTED != 0,
            blamed: words[FLAGS] & BLAMED != 0,
        })
    }
}

/// One held lock as this thread's stack stores it and the watchdog reads it: the words of
/// [`Held::encode`].
pub(crate) type Row = [AtomicU64; WORDS];

/// The word of a row with the mode, the flags and the tick: the watchdog sets [`REPORTED`]
/// in it, the owner [`LEARNED`].
pub(crate) const FLAGS: usize = 3;
/// Bit 0 of the flags word: the watchdog reported this hold as long.
pub(crate) const REPORTED: u64 = 1;
/// Bits 1 to 3: the [`Mode`].
const MODE_SHIFT: u32 = 1;
const MODE_MASK: u64 = 0b111;
/// Bit 4: taken with a try-lock.
const TRYLOCK: u64 = 1 << 4;
/// Bit 5: the lock got its graph node while held.
const LEARNED: u64 = 1 << 5;
/// Bit 6: a guard dropped (or downgraded) on another thread changed this hold (see
/// [`Inventory::change_elsewhere`]): the owner's release of the row goes the slow way, which
/// applies the change first. Set by that thread, cleared when the owner rewrites the row.
const ELSEWHERE: u64 = 1 << 6;
/// Bit 16: the watchdog found a thread waiting long, untimed, for this held lock (see
/// [`Inventory::mark_blamed`]): the release charges that wait to this holder.
const BLAMED: u64 = 1 << 16;
/// Bit 17, in the next row only: set by the watchdog on a direct lock call whose wait has
/// lasted (see [`Inventory::mark_lasted`]): the owner, when the call returns, puts the wait in
/// the contention profile.
const LASTED: u64 = 1 << 17;
/// The flags that send a release past the fast pop.
const FLAGGED: u64 = REPORTED | LEARNED | ELSEWHERE | BLAMED;
/// Bits 8 to 15: the [`Method`].
const METHOD_SHIFT: u32 = 8;
/// Bits 18 and up: the watchdog tick the hold began at.
const SINCE_SHIFT: u32 = 18;
/// The word of a row with the lock's graph node.
const NODE: usize = 4;
/// Word 0 of the next row when no direct lock call is on and the thread's next one is drawn
/// for the profile (see [`Mine::draw_direct`]); 0 when none is on and the next is not drawn.
/// Lock ids count up from 1 and never reach it.
const DRAWN: u64 = u64::MAX;

/// The lock id of a row (the owner reading its own stack).
#[inline(always)]
pub(crate) fn row_id(row: &Row) -> u64 {
    row[0].load(Relaxed)
}

/// The class of a row written by [`Held::encode`].
///
/// # Safety
///
/// `row` must be one of the calling thread's own rows below its stack's length (so written
/// by [`Held::encode`], and by no one since).
#[inline(always)]
pub(crate) unsafe fn row_class(row: &Row) -> &'static LockClass {
    // SAFETY: By the caller's promise the class word is the address of a leaked `LockClass`.
    unsafe { &*(row[1].load(Relaxed) as *const LockClass) }
}

/// The mode of a row.
#[inline(always)]
pub(crate) fn row_mode_of(row: &Row) -> Mode {
    row_mode(row[FLAGS].load(Relaxed))
}

/// A row's mode as `mode as u64`, not decoded (for [`super::StackPrint`]).
#[inline(always)]
pub(crate) fn row_mode_bits(row: &Row) -> u64 {
    (row[FLAGS].load(Relaxed) >> MODE_SHIFT) & MODE_MASK
}

#[inline(always)]
fn row_mode(flags: u64) -> Mode {
    Mode::from_u8(((flags >> MODE_SHIFT) & MODE_MASK) as u8)
}

/// Slots published per thread. Locks held deeper than this are tracked for ordering but not
/// watched for long holds (one `Limit` report says so).
pub(crate) const SLOTS: usize = 64;

/// A blocked acquisition, published on the contended path for the watchdog.
#[derive(Clone, Copy)]
pub(crate) struct Waiting {
    pub(crate) id: u64,
    pub(crate) class: &'static LockClass,
    pub(crate) mode: Mode,
    pub(crate) method: Method,
    /// For a thread parked in a condvar wait (its mutex, `id`, released): the condvar.
    pub(crate) condvar: Option<CondvarWait>,
    pub(crate) site: &'static Location<'static>,
    pub(crate) since: Instant,
}

/// A condvar wait: which condvar (its address) and whether it times out by itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct CondvarWait {
    pub(crate) condvar: usize,
    pub(crate) timed: bool,
}

use super::wait_slot::WaitSlot;
pub(crate) use super::wait_slot::{IDLE, LONG_SAMPLED, PROMOTED};

/// One thread's published held locks and current wait: the stack's storage, which this module
/// alone writes, and what it offers the watchdog to read.
pub(crate) struct Inventory {
    /// The thread's name (or the task's, see `task`), as reports show it: a task's entry
    /// changes hands, and names, when it is reused.
    name: parking_lot::Mutex<Arc<str>>,
    /// A tokio task's inventory rather than a thread's: its owner is not blocked when it is
    /// not waiting for a lock, it may be suspended at another `.await`.
    pub(crate) task: bool,
    rows: SeqRows<SLOTS, WORDS>,
    /// The current wait, and its stack with backtraces on (symbolized only if reported).
    waiting: parking_lot::Mutex<(Option<Waiting>, Option<backtrace::Backtrace>)>,
    /// The current lock wait on the contended path, published without a lock (condvar waits,
    /// waits on locks lockwatch does not wrap, tokio waits and waits while backtraces are on
    /// use `waiting`): `[id, class, site, mode | method << 8, since (ns after the tracker's
    /// epoch), the lock's contention bookkeeping]`.
    fast: WaitSlot,
    /// Who holds what the current wait is for, when that is known only as a description (a
    /// lease held by another process).
    held_elsewhere: parking_lot::Mutex<Option<Arc<str>>>,
    /// Set when `held_elsewhere` or `in_reported_deadlock` needs clearing at the end of the
    /// wait, so that ending an ordinary wait takes no second lock.
    wait_extras: std::sync::atomic::AtomicBool,
    /// The current wait is part of a deadlock reported outside the watchdog (across
    /// processes): its long hold and long wait are that deadlock's, not reports of their own.
    in_reported_deadlock: std::sync::atomic::AtomicBool,
    /// Holds released (`None`) or downgraded (`Some(mode)`) by guards dropped on another task
    /// or thread (a task's guards, or a thread's whose raw lock lets guards be sent): only the
    /// owner writes its rows, so it applies them at its next acquisition or release (a
    /// thread: at its next order check or release that looks past the top row), and readers
    /// leave them out meanwhile.
    elsewhere: parking_lot::Mutex<Vec<(u64, Option<Mode>)>>,
    has_elsewhere: std::sync::atomic::AtomicBool,
}

impl Held {
    /// The next row of a direct lock call as the wait it stands for (begun at its tick).
    pub(crate) fn as_wait(&self) -> Waiting {
        Waiting {
            id: self.id,
            class: self.class,
            mode: self.mode,
            method: self.method,
            condvar: None,
            site: self.site,
            since: super::epoch::epoch() + std::time::Duration::from_millis(self.since),
        }
    }
}

/// Applies changes made elsewhere to a copy of held entries: a release takes off the innermost
/// entry of its lock, a downgrade changes its mode.
fn apply(held: &mut Vec<Held>, changes: &[(u64, Option<Mode>)]) -> Vec<Held> {
    let mut released = Vec::new();
    for &(id, mode) in changes {
        if let Some(at) = held.iter().rposition(|h| h.id == id) {
            match mode {
                None => released.push(held.remove(at)),
                Some(mode) => held[at].mode = mode,
            }
        }
    }
    released
}

impl Inventory {
    fn new(name: Arc<str>, task: bool) -> Self {
        let rows = SeqRows::new();
        if crate::report::backtrace_level() > 0 {
            // Every wait keeps its stack: the first direct acquisition is drawn too.
            rows.withdraw(DRAWN, 0);
        }
        Inventory {
            name: parking_lot::Mutex::new(name),
            task,
            rows,
            waiting: parking_lot::Mutex::new((None, None)),
            fast: WaitSlot::new(),
            held_elsewhere: parking_lot::Mutex::new(None),
            wait_extras: std::sync::atomic::AtomicBool::new(false),
            in_reported_deadlock: std::sync::atomic::AtomicBool::new(false),
            elsewhere: parking_lot::Mutex::new(Vec::new()),
            has_elsewhere: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The owner's name, as reports show it.
    pub(crate) fn name(&self) -> Arc<str> {
        self.name.lock().clone()
    }

    /// Renames a task's inventory (its entry changed hands).
    #[cfg(feature = "tokio")]
    pub(crate) fn set_name(&self, name: Arc<str>) {
        *self.name.lock() = name;
    }

    /// The owner's held stack: written only by the owner thread.
    #[inline(always)]
    fn stack(&self) -> &SeqRows<SLOTS, WORDS> {
        &self.rows
    }

    /// A consistent copy of the held stack, or `None` if the owner kept writing.
    pub(crate) fn snapshot(&self) -> Option<Vec<Held>> {
        self.view().map(|(held, _)| held)
    }

    /// A consistent copy of the held stack and of the lock the owner is blocked on in a lock
    /// call made the direct way (its next row, see [`Mine::begin_direct`]), or `None` if the
    /// owner kept writing.
    pub(crate) fn view(&self) -> Option<(Vec<Held>, Option<Held>)> {
        let (rows, next) = self.rows.read_with_next(64)?;
        let mut held = Vec::with_capacity(rows.len());
        for words in rows {
            // SAFETY: `read_with_next` returns a consistent copy of rows the owner wrote with
            // `Held::encode` (it retries a torn read), so every row is whole.
            let Some(entry) = (unsafe { Held::decode(words) }) else {
                break;
            };
            held.push(entry);
        }
        // SAFETY: An announced next row's words are the first four of `Held::encode`'s, seen
        // whole with its word 0 (see `seqlock`); its node word is never written (0).
        let acquiring = direct_call(next[0])
            .then(|| unsafe { Held::decode(next) })
            .flatten();
        if self.has_elsewhere.load(Acquire) {
            // Guards dropped elsewhere that the owner has not taken off yet.
            apply(&mut held, &self.elsewhere.lock());
        }
        Some((held, acquiring))
    }

    /// Draws the owner's next direct acquisition (see [`Mine::draw_direct`]) unless a direct
    /// call is on (any thread): once backtraces are switched on, so that the owner's next wait
    /// keeps its stack too (its later ones are drawn as it ends each call).
    pub(crate) fn draw_next(&self) {
        self.rows.swap_next_word0(0, DRAWN);
    }

    /// Whether the owner is still blocked in the direct lock call for lock `id` that began at
    /// tick `since` (any thread; a hint, read without the sequence protocol).
    pub(crate) fn still_acquiring(&self, id: u64, since: u64) -> bool {
        self.rows.next_word(0) == id && self.rows.next_word(FLAGS) >> SINCE_SHIFT == since
    }

    /// Marks the owner's direct lock call for lock `id` that began at tick `since`, if it is
    /// still waiting, as lasting: see [`LASTED`]. (If the call returns meanwhile, the mark is
    /// lost, or lands on the next row after its withdrawal, which the next call overwrites.)
    pub(crate) fn mark_lasted(&self, id: u64, since: u64) {
        if self.still_acquiring(id, since) {
            self.rows.set_next_bits(FLAGS, LASTED);
        }
    }

    /// Marks the holds of lock `id` so that their release charges the threads waiting for it:
    /// see [`BLAMED`]. (Like [`Inventory::mark_reported`], a mark may land on a row the owner
    /// rewrites meanwhile.)
    pub(crate) fn mark_blamed(&self, id: u64) {
        for (slot, row) in self.rows.rows_hint().iter().enumerate() {
            let flags = row[FLAGS].load(Relaxed);
            if row[0].load(Relaxed) == id && flags & BLAMED == 0 {
                self.rows.set_bits(slot, FLAGS, BLAMED);
            }
        }
    }

    /// Marks the hold of lock `id` that began at tick `since` as reported long, so that its
    /// release adds its duration. (If the owner moves the row meanwhile, the mark is lost or
    /// lands on a row it rewrites: the release then simply adds no duration.)
    pub(crate) fn mark_reported(&self, id: u64, since: u64) {
        let rows = self.rows.rows();
        if let Some(slot) = rows.iter().rposition(|row| {
            let flags = row[FLAGS].load(Relaxed);
            row[0].load(Relaxed) == id && flags >> SINCE_SHIFT == since
        }) {
            self.rows.set_bits(slot, FLAGS, REPORTED);
        }
    }

    /// The wait published in the wait slots (the contended path's), if any: a direct lock
    /// call's wait is its next row (see [`Inventory::view`]).
    pub(crate) fn published_waiting(&self) -> Option<Waiting> {
        self.fast_waiting().or_else(|| self.waiting.lock().0)
    }

    /// The fast slot's wait, read consistently (any thread), if there is one.
    fn fast_waiting(&self) -> Option<Waiting> {
        let [id, class, site, flags, since, _] = self.fast.read(64)?;
        if class == 0 || site == 0 {
            return None;
        }
        Some(Waiting {
            id,
            // SAFETY: Written by `begin_lock_wait` from a `&'static LockClass` and a
            // `&'static Location`, and read whole.
            class: unsafe { &*(class as *const LockClass) },
            // SAFETY: As above.
            site: unsafe { &*(site as *const Location<'static>) },
            mode: Mode::from_u8(flags as u8),
            method: Method::from_u8((flags >> 8) as u8),
            condvar: None,
            since: super::epoch::instant_at(since),
        })
    }

    /// Owner only: publishes a lock wait in the fast slot; `sampled` when the owner times it
    /// (and registered it for blame) itself.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn begin_lock_wait(
        &self,
        id: u64,
        class: &'static LockClass,
        mode: Mode,
        method: Method,
        site: &'static Location<'static>,
        start: Instant,
        contention: usize,
        sampled: bool,
    ) {
        self.fast.publish(
            [
                id,
                class as *const LockClass as u64,
                site as *const Location<'static> as u64,
                mode as u64 | (u64::from(method.0) << 8),
                super::epoch::nanos_of(start),
                contention as u64,
            ],
            sampled,
        );
    }

    /// Owner only: ends the fast slot's wait. Returns how it ended: `SAMPLED` (the owner's
    /// own timing), `LONG_SAMPLED` (timed, and lasting: it stands for itself alone),
    /// `PROMOTED` (untimed, and registered for blame by the watchdog: see
    /// [`Inventory::promote_long_wait`]) or `WAITING` (nothing recorded).
    #[inline]
    pub(crate) fn end_lock_wait(&self) -> u64 {
        self.fast.end()
    }

    /// The watchdog's part: if this thread's fast-slot wait began at or before `before` (ns
    /// after the tracker's epoch) and was not promoted yet, runs `promote(contention, start,
    /// sampled)` while the owner cannot end the wait (so the lock, which the owner is blocked
    /// on, is alive), then marks it promoted (`PROMOTED`, or `LONG_SAMPLED` for a timed one).
    pub(crate) fn promote_long_wait(
        &self,
        before: u64,
        promote: impl FnOnce(usize, Instant, bool),
    ) {
        self.fast.promote(before, |contention, since, sampled| {
            promote(
                contention as usize,
                super::epoch::instant_at(since),
                sampled,
            );
        });
    }

    /// Publishes a blocked acquisition (the contended path).
    pub(crate) fn begin_wait(&self, wait: Waiting) {
        let trace = super::trace::capture_unresolved();
        *self.waiting.lock() = (Some(wait), trace);
    }

    pub(crate) fn end_wait(&self) {
        *self.waiting.lock() = (None, None);
        if self.wait_extras.load(Relaxed) {
            self.wait_extras.store(false, Relaxed);
            *self.held_elsewhere.lock() = None;
            self.in_reported_deadlock.store(false, Relaxed);
        }
    }

    /// Marks the current wait as part of a deadlock already reported (until it ends).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn mark_deadlocked(&self) {
        self.in_reported_deadlock.store(true, Relaxed);
        self.wait_extras.store(true, Relaxed);
    }

    /// Whether the current wait is part of a deadlock already reported.
    pub(crate) fn deadlocked(&self) -> bool {
        self.in_reported_deadlock.load(Relaxed)
    }

    /// Who holds what the current wait is for, as a description (see the field).
    pub(crate) fn set_held_elsewhere(&self, holder: Option<Arc<str>>) {
        *self.held_elsewhere.lock() = holder;
        self.wait_extras.store(true, Relaxed);
    }

    /// The holder of what the current wait is for, if only described.
    pub(crate) fn held_elsewhere(&self) -> Option<Arc<str>> {
        self.held_elsewhere.lock().clone()
    }

    /// The current wait's backtrace, symbolized and trimmed, with backtraces on.
    #[cold]
    pub(crate) fn wait_backtrace(&self) -> Option<super::trace::Trace> {
        let trace = self.waiting.lock().1.clone()?;
        Some(super::trace::resolve(trace))
    }

    /// This inventory's key: its address, unique while its thread lives.
    pub(crate) fn key(&self) -> usize {
        self as *const Inventory as usize
    }

    /// Any thread but the owner: lock `id`'s innermost hold was released (`None`) or
    /// downgraded to `mode` by a guard dropped here.
    pub(crate) fn change_elsewhere(&self, id: u64, mode: Option<Mode>) {
        self.elsewhere.lock().push((id, mode));
        self.has_elsewhere.store(true, Release);
        // The owner's fast release must not pop this row without applying the change (it
        // may be the owner's own hold, if the change was meant for another reader). If the
        // owner moves the row meanwhile, the flag is lost (the change then waits for the
        // owner's next slow path) or lands on a row it rewrites (whose release then merely
        // goes the slow way).
        if let Some(slot) = self.rows.rows().iter().rposition(|row| row_id(row) == id) {
            self.rows.set_bits(slot, FLAGS, ELSEWHERE);
        }
    }
}

/// A tokio task's held stack. Its one writer is the task itself, in its polls on whichever
/// worker (tokio runs a task's polls one at a time, each after the last): a guard dropped on
/// another task or thread records the release with [`Inventory::change_elsewhere`] for the
/// owner to apply. The same rows as a thread's, without an overflow: locks held past [`SLOTS`]
/// by one task are not tracked.
#[cfg(feature = "tokio")]
impl Inventory {
    /// Owner only: the held rows, innermost last.
    pub(crate) fn rows(&self) -> &[Row] {
        self.rows.rows()
    }

    /// Owner only (or any thread, as a hint): nothing held.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }

    /// Owner only: a copy of the held stack, innermost last.
    pub(crate) fn held(&self) -> Vec<Held> {
        decoded(&self.rows)
    }

    /// Owner only: pushes `entry`, or returns false when the stack is full (the caller
    /// reports it with [`deep_stack`]).
    #[inline]
    pub(crate) fn push_held(&self, entry: Held) -> bool {
        self.rows.push(entry.encode())
    }

    /// Owner only: removes the innermost entry for lock `id`. Like [`release`]: `None` for
    /// the common case (the top row, flagged by no one), else the entry to finish.
    #[inline]
    pub(crate) fn release_held(&self, id: u64) -> Option<Held> {
        let stack = &self.rows;
        let top = stack.len().wrapping_sub(1);
        if top < SLOTS && stack.word(top, 0) == id && stack.word(top, FLAGS) & FLAGGED == 0 {
            stack.pop();
            return None;
        }
        self.release_held_below(id)
    }

    /// [`Inventory::release_held`] past the top row (released out of order, or flagged).
    #[cold]
    #[inline(never)]
    fn release_held_below(&self, id: u64) -> Option<Held> {
        let mut held = decoded(&self.rows);
        let at = held.iter().rposition(|h| h.id == id)?;
        let entry = held.remove(at);
        self.replace_held(&held, at);
        Some(entry)
    }

    /// Owner only: changes the mode of the innermost entry for lock `id`.
    pub(crate) fn set_mode_held(&self, id: u64, mode: Mode) {
        let mut held = decoded(&self.rows);
        if let Some(at) = held.iter().rposition(|h| h.id == id) {
            held[at].mode = mode;
            self.replace_held(&held, at);
        }
    }

    /// Owner only: lock `id` got node `node` while held (see [`learn_node`]).
    pub(crate) fn learn_node_held(&self, id: u64, node: u32) {
        for row in self.rows.rows() {
            if row_id(row) == id {
                row[NODE].store(u64::from(node), Relaxed);
                row[FLAGS].fetch_or(LEARNED, Relaxed);
            }
        }
    }

    /// Whether changes made elsewhere wait for the owner.
    #[cfg(test)]
    pub(crate) fn has_changes_elsewhere(&self) -> bool {
        self.has_elsewhere.load(Acquire)
    }

    /// Owner only: applies what was changed elsewhere; returns the released entries for the
    /// caller to finish. One load when there is nothing.
    #[inline]
    pub(crate) fn apply_elsewhere(&self) -> Vec<Held> {
        if !self.has_elsewhere.load(Acquire) {
            return Vec::new();
        }
        self.apply_elsewhere_cold()
    }

    #[cold]
    #[inline(never)]
    fn apply_elsewhere_cold(&self) -> Vec<Held> {
        let mut changes = self.elsewhere.lock();
        self.has_elsewhere.store(false, Relaxed);
        let mut held = decoded(&self.rows);
        let released = apply(&mut held, &changes);
        changes.clear();
        drop(changes);
        self.replace_held(&held, 0);
        released
    }

    /// Whether it holds nothing but holds released elsewhere (any thread, as a hint).
    pub(crate) fn is_idle(&self) -> bool {
        self.published_waiting().is_none()
            && self
                .view()
                .is_some_and(|(held, acquiring)| held.is_empty() && acquiring.is_none())
    }

    /// Empties it for a new owner (nothing can write it meanwhile: see `tracker::task`).
    pub(crate) fn clear(&self) {
        self.rows.replace_from(0, &[]);
        self.elsewhere.lock().clear();
        self.has_elsewhere.store(false, Relaxed);
        self.end_wait();
    }

    fn replace_held(&self, held: &[Held], from: usize) {
        let rows: Vec<[u64; WORDS]> = held.iter().skip(from).map(Held::encode).collect();
        self.rows.replace_from(from, &rows);
    }
}

#[cfg(feature = "tokio")]
thread_local! {
    /// While a tokio task's order check runs on this thread: the task's name (reports and
    /// witnesses name the task, not the worker thread) and the graph nodes its rows learned,
    /// which the task applies under its write lock afterwards.
    static ACTING: RefCell<Option<Acting>> = const { RefCell::new(None) };
}

/// A task's name and the (lock id, node) pairs its rows learned, see [`acting_as`].
#[cfg(feature = "tokio")]
type Acting = (Arc<str>, Vec<(u64, u32)>);

/// Runs `f` (an order check) on behalf of the task called `name`; returns what `f` returned
/// and the nodes learned for held locks meanwhile.
#[cfg(feature = "tokio")]
pub(crate) fn acting_as<R>(name: Arc<str>, f: impl FnOnce() -> R) -> (R, Vec<(u64, u32)>) {
    /// Puts back what the thread acted as before, however `f` ends: a report under
    /// `Policy::Panic` unwinds through it, and the thread's later reports must name it.
    struct Restore(Option<Acting>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            let _ = ACTING.try_with(|a| {
                if let Ok(mut a) = a.try_borrow_mut() {
                    *a = outer;
                }
            });
        }
    }
    let restore = Restore(
        ACTING
            .try_with(|a| {
                a.try_borrow_mut()
                    .ok()
                    .map(|mut a| a.replace((name, Vec::new())))
            })
            .ok()
            .flatten()
            .flatten(),
    );
    let out = f();
    let learned = ACTING
        .try_with(|a| a.try_borrow_mut().ok().and_then(|mut a| a.take()))
        .ok()
        .flatten()
        .map_or_else(Vec::new, |(_, learned)| learned);
    drop(restore);
    (out, learned)
}

/// The task this thread acts for, if any (see [`acting_as`]).
#[cfg(feature = "tokio")]
fn acting_name() -> Option<Arc<str>> {
    ACTING
        .try_with(|a| Some(a.try_borrow().ok()?.as_ref()?.0.clone()))
        .ok()
        .flatten()
}

/// Every live thread's inventory, for the watchdog.
static REGISTRY: parking_lot::Mutex<Vec<Arc<Inventory>>> = parking_lot::Mutex::new(Vec::new());

fn register_inventory(thread: Arc<str>) -> Arc<Inventory> {
    let inventory = Arc::new(Inventory::new(thread, false));
    REGISTRY.lock().push(Arc::clone(&inventory));
    inventory
}

/// A tokio task's inventory, named `name`, registered for the watchdog until
/// [`unregister_inventory`].
#[cfg(feature = "tokio")]
pub(crate) fn register_task(name: Arc<str>) -> Arc<Inventory> {
    let inventory = Arc::new(Inventory::new(name, true));
    REGISTRY.lock().push(Arc::clone(&inventory));
    inventory
}

/// Registers a task's inventory again (its entry was reused).
#[cfg(feature = "tokio")]
pub(crate) fn register(inventory: &Arc<Inventory>) {
    REGISTRY.lock().push(Arc::clone(inventory));
}

pub(crate) fn unregister_inventory(inventory: &Arc<Inventory>) {
    REGISTRY.lock().retain(|i| !Arc::ptr_eq(i, inventory));
}

/// The inventories of the threads that have tracking state now.
pub(crate) fn inventories() -> Vec<Arc<Inventory>> {
    REGISTRY.lock().clone()
}

pub(crate) fn thread_count() -> usize {
    REGISTRY.lock().len()
}

/// Called (outside any lockwatch borrow) when a thread's held stack grows past [`SLOTS`]: one
/// `Limit` report for the whole program.
#[cold]
pub(crate) fn deep_stack(thread: &str) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SAID.swap(true, Relaxed) {
        return;
    }
    crate::report::deliver(crate::report::Report::new(crate::report::Finding::Limit {
        thread: thread.to_owned(),
        held_locks: SLOTS,
    }));
}

/// Direct-mapped cache of (target, predecessor) edge keys this thread has seen in the graph.
/// Fixed size: it never allocates and a collision only costs a trip to the graph.
const KNOWN_SLOTS: usize = 256;

/// The hot per-thread state: plain cells and no destructor, so reaching it costs one
/// thread-pointer offset and no registration check. The held stack itself is the first
/// [`SLOTS`] rows of the thread's published [`Inventory`] (what the watchdog reads is what the
/// order check reads: a push is written once); deeper locks go to the cold state's overflow.
/// What needs a destructor (the overflow, the inventory's ownership, the name) lives in
/// [`ColdState`].
struct HotState {
    known: [Cell<u128>; KNOWN_SLOTS],
    /// The published inventory, owned by the cold state; null before registration and after
    /// the cold state is gone (thread exit), when tracking simply stops.
    inventory: Cell<*const Inventory>,
    /// The cold state has been torn down: do not register again.
    exiting: Cell<bool>,
}

struct ColdState {
    /// Held locks past the published [`SLOTS`], innermost last.
    overflow: RefCell<Vec<Held>>,
    name: RefCell<Option<Arc<str>>>,
    inventory: OnceCell<Arc<Inventory>>,
}

impl Drop for ColdState {
    fn drop(&mut self) {
        // The thread is exiting: stop tracking before the inventory goes, and leave nothing
        // behind for the watchdog.
        let _ = HOT.try_with(|hot| {
            hot.inventory.set(std::ptr::null());
            hot.exiting.set(true);
        });
        if let Some(inventory) = self.inventory.get() {
            unregister_inventory(inventory);
        }
    }
}

thread_local! {
    static HOT: HotState = const {
        HotState {
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
    /// The inventory if this thread has one already (null until its first push).
    #[inline(always)]
    fn registered(&self) -> Option<&Inventory> {
        let ptr = self.inventory.get();
        // SAFETY: Set by `register` from the `Arc` the cold state keeps alive, and reset to
        // null before the cold state drops it.
        (!ptr.is_null()).then(|| unsafe { &*ptr })
    }

    #[inline(always)]
    fn inventory(&self) -> Option<&Inventory> {
        match self.registered() {
            Some(inventory) => Some(inventory),
            None => self.register(),
        }
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
                    .get_or_init(|| register_inventory(thread_name()));
                Arc::as_ptr(inventory)
            })
            .ok()?;
        self.inventory.set(ptr);
        // SAFETY: As in `registered`: the cold state owns it until it resets the pointer.
        Some(unsafe { &*ptr })
    }
}

/// The published rows, innermost last (the writer's view).
fn decoded(stack: &SeqRows<SLOTS, WORDS>) -> Vec<Held> {
    stack
        .rows()
        .iter()
        // SAFETY: The writer's own rows below the length, all written by `Held::encode`.
        .filter_map(|row| unsafe { Held::decode(std::array::from_fn(|w| row[w].load(Relaxed))) })
        .collect()
}

/// The whole stack, innermost last (cold), with the holds released elsewhere taken off first.
fn all(inventory: &Inventory) -> Vec<Held> {
    if inventory.has_elsewhere.load(Acquire) {
        catch_up(inventory);
    }
    published_and_overflow(inventory)
}

/// The owner thread takes off its holds whose guards were dropped on other threads (see
/// [`change_elsewhere`]; the releasing thread finished them).
#[cold]
#[inline(never)]
fn catch_up(inventory: &Inventory) {
    let mut changes = inventory.elsewhere.lock();
    inventory.has_elsewhere.store(false, Relaxed);
    let mut held = published_and_overflow(inventory);
    // A change this thread has no hold for was meant for another reader of the lock (see
    // [`change_elsewhere`]): passed on.
    let unmatched: Vec<(u64, Option<Mode>)> = changes
        .iter()
        .filter(|(id, _)| !held.iter().any(|h| h.id == *id))
        .copied()
        .collect();
    apply(&mut held, &changes);
    changes.clear();
    drop(changes);
    set_all(inventory, &held, 0);
    for (id, mode) in unmatched {
        change_elsewhere(id, mode);
    }
}

fn published_and_overflow(inventory: &Inventory) -> Vec<Held> {
    let stack = inventory.stack();
    let mut out = decoded(stack);
    if stack.len() == SLOTS {
        let _ = COLD.try_with(|cold| {
            if let Ok(overflow) = cold.overflow.try_borrow() {
                out.extend_from_slice(&overflow);
            }
        });
    }
    out
}

/// Replaces the stack from index `from` on with `held[from..]` (cold).
fn set_all(inventory: &Inventory, held: &[Held], from: usize) {
    let published: Vec<[u64; WORDS]> = held
        .iter()
        .take(SLOTS)
        .skip(from)
        .map(Held::encode)
        .collect();
    inventory.stack().replace_from(from, &published);
    let _ = COLD.try_with(|cold| {
        if let Ok(mut overflow) = cold.overflow.try_borrow_mut() {
            overflow.clear();
            overflow.extend_from_slice(held.get(SLOTS..).unwrap_or_default());
        }
    });
}

/// Whether this thread holds nothing (or its state is unreachable): two loads, inlined, so
/// that the common outermost acquisition never calls into the order check.
#[inline(always)]
pub(crate) fn holds_nothing() -> bool {
    HOT.try_with(|hot| hot.registered().map_or(true, |i| i.stack().len() == 0))
        .unwrap_or(true)
}

/// This thread's held stack, looked up once per acquisition, before the lock call: what the
/// acquisition needs of it afterwards (a push) is then a few stores. Null when the thread has
/// not pushed yet or its state is unreachable; valid for the acquisition (the thread's state
/// outlives every lock call the thread makes).
#[derive(Clone, Copy)]
pub(crate) struct Mine(*const Inventory);

/// This thread's held stack, see [`Mine`].
#[inline(always)]
pub(crate) fn mine() -> Mine {
    Mine(
        HOT.try_with(|hot| hot.inventory.get())
            .unwrap_or(std::ptr::null()),
    )
}

impl Mine {
    /// The inventory's address (see [`Inventory::key`]); 0 for none.
    pub(crate) fn key(self) -> usize {
        self.0 as usize
    }

    /// Whether this thread holds nothing (or its state is unreachable).
    #[inline(always)]
    pub(crate) fn holds_nothing(self) -> bool {
        // SAFETY: See the type: non-null is this thread's registered inventory, alive.
        self.0.is_null() || unsafe { &*self.0 }.stack().len() == 0
    }

    /// Pushes `entry` on this thread's stack (registering it, if this is its first push).
    #[inline(always)]
    pub(crate) fn push(self, entry: Held) {
        if self.0.is_null() {
            return push_first(entry);
        }
        // SAFETY: As above.
        if !unsafe { &*self.0 }.stack().push(entry.encode()) {
            push_deep(entry);
        }
    }

    /// How a blocking acquisition of a lock contended before goes, decided before the lock
    /// call: `Some(false)` the direct way ([`Mine::begin_direct`]); `Some(true)` if it is one
    /// of the one in [`sample_period`](crate::contention::profile::sample_period)
    /// acquisitions drawn for the profile, whose wait (if any) is timed (it tries first);
    /// `None` when the thread has no stack yet, or is inside a direct lock call already (a
    /// raw lock whose lock call takes a tracked lock): that acquisition tries first, and its
    /// failed try draws.
    ///
    /// The draw was made when the thread's last direct call ended ([`Mine::end_direct`]) and
    /// left in the next row's word 0, so that this costs one load before the lock call; a
    /// drawn acquisition draws again for the next with `threshold`, which it reads only then.
    #[inline(always)]
    pub(crate) fn draw_direct(self, threshold: impl FnOnce() -> u64) -> Option<bool> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: See the type.
        let stack = unsafe { &*self.0 }.stack();
        match stack.next_word(0) {
            0 => Some(false),
            DRAWN => {
                redraw(stack, threshold());
                Some(true)
            }
            _ => None,
        }
    }

    /// Announces a direct lock call for `entry`'s lock right before it is made (after
    /// [`Mine::draw_direct`] said so): until [`Mine::end_direct`], every other reader sees
    /// the thread waiting for the lock (or about to have it), in the stack's next row: the
    /// entry's first four words, and no push.
    #[inline(always)]
    pub(crate) fn begin_direct(self, entry: Held) {
        let [id, class, site, flags, _node] = entry.encode();
        // SAFETY: See the type; `draw_direct` found it non-null.
        unsafe { &*self.0 }
            .stack()
            .announce([id, class, site, flags]);
    }

    /// The direct lock call returned (or unwound): the next row is withdrawn, before the hold
    /// is pushed, so that no reader sees the lock both waited for and held. Draws the thread's
    /// next direct acquisition with `threshold` (see [`Mine::draw_direct`]). Returns whether
    /// the watchdog found the wait lasting meanwhile (see [`LASTED`]).
    #[inline(always)]
    pub(crate) fn end_direct(self, threshold: u64) -> bool {
        // SAFETY: See the type.
        let stack = unsafe { &*self.0 }.stack();
        stack.withdraw(draw_word(stack, threshold), FLAGS) & LASTED != 0
    }
}

/// Whether word 0 of a thread's next row says a direct lock call is on (see
/// [`Mine::draw_direct`]).
#[inline(always)]
fn direct_call(word: u64) -> bool {
    word != 0 && word != DRAWN
}

/// The draw for the direct acquisition after a drawn one (cold: one in the period).
#[cold]
#[inline(never)]
fn redraw(stack: &SeqRows<SLOTS, WORDS>, threshold: u64) {
    stack.withdraw(draw_word(stack, threshold), FLAGS);
}

/// Word 0 of the next row when no direct call is on: whether the next direct acquisition is
/// drawn, for the thread's push count now.
#[inline(always)]
fn draw_word(stack: &SeqRows<SLOTS, WORDS>, threshold: u64) -> u64 {
    if drawn(stack.state() >> 8, threshold) {
        DRAWN
    } else {
        0
    }
}

/// Whether the acquisition made at a thread's `pushes`-th push is drawn for the profile (see
/// [`Mine::draw_direct`]): the push count times the 64-bit golden ratio, at most `threshold`.
#[inline(always)]
fn drawn(pushes: u64, threshold: u64) -> bool {
    pushes.wrapping_mul(0x9E37_79B9_7F4A_7C15) <= threshold
}

/// The push of a thread that had no inventory when its acquisition began (cold).
#[cold]
#[inline(never)]
fn push_first(entry: Held) {
    push(entry);
}

/// Runs `f` over this thread's held locks (innermost last) and its known-edge cache, if they
/// all fit the published stack; `None` if they do not, or the thread's state is unreachable.
/// `f` must not lock or unlock anything.
#[inline(always)]
pub(crate) fn with_rows<R>(f: impl FnOnce(&[Row], &Known<'_>) -> R) -> Option<R> {
    HOT.try_with(|hot| {
        let rows = hot.registered().map_or(&[][..], |i| i.stack().rows());
        (rows.len() < SLOTS).then(|| f(rows, &Known(&hot.known)))
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
    let _ = HOT.try_with(|hot| {
        let Some(inventory) = hot.inventory() else {
            return;
        };
        if !inventory.stack().push(entry.encode()) {
            push_deep(entry);
        }
    });
}

/// A push past the published stack (cold).
#[cold]
#[inline(never)]
fn push_deep(entry: Held) {
    let pushed = COLD.try_with(|cold| {
        cold.overflow
            .try_borrow_mut()
            .map(|mut overflow| overflow.push(entry))
            .is_ok()
    });
    if pushed == Ok(true) {
        deep_stack(&thread_name());
    }
}

/// Releases the innermost entry for lock `id` (a guard dropped). The common case, the
/// innermost lock released first and flagged by no one, is [`release_top`] and returns
/// `None`. Otherwise the entry is returned for the caller to finish: a node the lock got
/// while held ([`Held::learned`]) goes to the lock, a hold the watchdog reported
/// ([`Held::reported`]) gets its final duration.
#[inline(always)]
pub(crate) fn release(id: u64) -> Option<Held> {
    if release_top(id) {
        return None;
    }
    HOT.try_with(|hot| remove_in(hot.registered()?, id))
        .ok()
        .flatten()
}

/// The fast case of [`release`] alone: pops the top row if it is lock `id`'s and flagged by
/// no one (one load of the top row, one store of the stack's length); false, having done
/// nothing, otherwise.
#[inline(always)]
pub(crate) fn release_top(id: u64) -> bool {
    HOT.try_with(|hot| {
        let Some(inventory) = hot.registered() else {
            return false;
        };
        let stack = inventory.stack();
        let top = stack.len().wrapping_sub(1);
        // The full stack may have an overflow above it: that is the cold path's business.
        if top < SLOTS - 1 && stack.word(top, 0) == id && stack.word(top, FLAGS) & FLAGGED == 0 {
            stack.pop();
            return true;
        }
        false
    })
    .unwrap_or(false)
}

/// Records that lock `id`, held by this thread, got node `node` in the per-instance graph:
/// later edges from it use it, and its release hands it to the lock. Every entry of the lock
/// learns it: a lock held twice (re-entered, or read recursively twice) is one node, whichever
/// of its guards goes first.
pub(crate) fn learn_node(id: u64, node: u32) {
    let _ = HOT.try_with(|hot| {
        let Some(inventory) = hot.registered() else {
            return;
        };
        for row in inventory.stack().rows() {
            if row_id(row) == id {
                // Only the owner writes these words; the watchdog reads neither the node nor
                // the learned bit, and `fetch_or` keeps a `REPORTED` it may set meanwhile.
                row[NODE].store(u64::from(node), Relaxed);
                row[FLAGS].fetch_or(LEARNED, Relaxed);
            }
        }
        let _ = COLD.try_with(|cold| {
            if let Ok(mut overflow) = cold.overflow.try_borrow_mut() {
                for h in overflow.iter_mut().filter(|h| h.id == id) {
                    h.node = node;
                    h.learned = true;
                }
            }
        });
    });
    #[cfg(feature = "tokio")]
    let _ = ACTING.try_with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            if let Some((_, learned)) = a.as_mut() {
                learned.push((id, node));
            }
        }
    });
}

/// Removes the innermost entry for lock `id`, wherever it is, and returns it.
pub(crate) fn remove(id: u64) -> Option<Held> {
    HOT.try_with(|hot| remove_in(hot.registered()?, id))
        .ok()
        .flatten()
}

#[cold]
#[inline(never)]
fn remove_in(inventory: &Inventory, id: u64) -> Option<Held> {
    let mut held = all(inventory);
    let at = held.iter().rposition(|h| h.id == id)?;
    let entry = held.remove(at);
    set_all(inventory, &held, at);
    Some(entry)
}

/// Runs `f` over a copy of this thread's held locks, then stores them back from the index `f`
/// returns, if any: [`Here::Found`] then, [`Here::Missing`] if `f` returned `None`.
fn update(f: impl FnOnce(&mut Vec<Held>) -> Option<usize>) -> Here<()> {
    HOT.try_with(|hot| {
        let Some(inventory) = hot.registered() else {
            return Here::Missing;
        };
        let mut held = all(inventory);
        match f(&mut held) {
            Some(from) => {
                set_all(inventory, &held, from);
                Here::Found(())
            }
            None => Here::Missing,
        }
    })
    .unwrap_or(Here::Unreachable)
}

/// Removes every entry for lock `id` from this thread's stack (a `force_unlock`, or the lock
/// is being dropped while a forgotten guard left it marked as held).
pub(crate) fn forget(id: u64) -> Here<()> {
    if holds_nothing() {
        return Here::Missing;
    }
    update(|held| {
        let at = held.iter().position(|h| h.id == id)?;
        held.retain(|h| h.id != id);
        Some(at)
    })
}

/// Changes the mode of the innermost entry for lock `id` (downgrade, upgrade).
pub(crate) fn set_mode(id: u64, mode: Mode) -> Here<()> {
    update(|held| {
        let at = held.iter().rposition(|h| h.id == id)?;
        held[at].mode = mode;
        Some(at)
    })
}

/// What this thread's stack showed of a lock a guard (or a `force_unlock`) acted on.
pub(crate) enum Here<T> {
    /// The lock's entry, changed or taken off.
    Found(T),
    /// No entry: the guard was made on another thread and sent here (its raw lock lets guards
    /// be sent), or the lock was locked without a guard.
    Missing,
    /// This thread's state is gone (it is exiting): nothing can be told.
    Unreachable,
}

/// Releases the innermost entry for lock `id` for a guard dropped on this thread: `Found(None)`
/// for the common case ([`release_top`]), `Found(Some(entry))` for an entry the caller must
/// finish (see [`release`]), `Missing` if this thread does not hold the lock (see
/// [`change_elsewhere`]).
#[inline]
pub(crate) fn release_guard(id: u64) -> Here<Option<Held>> {
    if release_top(id) {
        return Here::Found(None);
    }
    HOT.try_with(|hot| match hot.registered() {
        Some(inventory) => remove_in(inventory, id).map_or(Here::Missing, |e| Here::Found(Some(e))),
        None => Here::Missing,
    })
    .unwrap_or(Here::Unreachable)
}

/// A guard acquired on another thread was dropped, or changed mode, here (its raw lock lets
/// guards be sent: parking_lot's `send_guard`, `lock_api::GuardSend`): the hold is found on
/// the thread that shows it and the change recorded for that thread to apply (only a thread
/// writes its own stack), which it does at its next order check or release that looks past
/// its top row; the watchdog leaves it out meanwhile. Returns that thread's inventory and the
/// entry as it was, for a release to finish.
///
/// Which thread acquired the guard is not recorded (that would cost every acquisition a
/// word): the first thread found holding the lock is taken. For an exclusive hold that is the
/// one; among several readers of one lock it may be another reader, whose own release later
/// finds its entry gone and takes off the one left, so the holds come out even once every
/// guard is dropped.
#[cold]
#[inline(never)]
pub(crate) fn change_elsewhere(id: u64, mode: Option<Mode>) -> Option<(Arc<Inventory>, Held)> {
    let own = HOT
        .try_with(|hot| hot.inventory.get())
        .unwrap_or(std::ptr::null());
    inventories()
        .into_iter()
        .filter(|inventory| !inventory.task && !std::ptr::eq(Arc::as_ptr(inventory), own))
        .find_map(|inventory| {
            let entry = inventory
                .snapshot()?
                .into_iter()
                .rev()
                .find(|h| h.id == id)?;
            inventory.change_elsewhere(id, mode);
            Some((inventory, entry))
        })
}

/// This thread's inventory, for publishing a wait (the contended path).
pub(crate) fn with_inventory<R>(f: impl FnOnce(&Inventory) -> R) -> Option<R> {
    HOT.try_with(|hot| hot.inventory().map(f)).ok().flatten()
}

/// This thread's inventory, registered on first use (`None` while the thread exits).
#[cfg(feature = "tokio")]
pub(crate) fn current_inventory() -> Option<Arc<Inventory>> {
    HOT.try_with(|hot| hot.inventory().map(|_| ()))
        .ok()
        .flatten()?;
    COLD.try_with(|cold| cold.inventory.get().cloned())
        .ok()
        .flatten()
}

/// A copy of the held stack, innermost last, for the cold paths.
pub(crate) fn snapshot() -> Vec<Held> {
    HOT.try_with(|hot| hot.registered().map(all).unwrap_or_default())
        .unwrap_or_default()
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

/// This thread's name for reports (or, during a tokio task's order check, the task's: see
/// `acting_as`), made once: its name; with the OS thread id (the one
/// debuggers and `top -H` show) when another live thread already goes by that name (a pool's
/// workers often share one); `unnamed thread (tid N)` when it has none.
pub(crate) fn thread_name() -> Arc<str> {
    #[cfg(feature = "tokio")]
    if let Some(task) = acting_name() {
        return task;
    }
    let compute = || -> Arc<str> {
        let current = std::thread::current();
        let tid = os_thread_id();
        match current.name() {
            Some(name) if !name_in_use(name) => Arc::from(name),
            Some(name) => Arc::from(match tid {
                Some(tid) => format!("{name} (tid {tid})"),
                None => format!("{name} ({:?})", current.id()),
            }),
            None => Arc::from(match tid {
                Some(tid) => format!("unnamed thread (tid {tid})"),
                None => format!("unnamed thread ({:?})", current.id()),
            }),
        }
    };
    COLD.try_with(|st| match st.name.try_borrow_mut() {
        Ok(mut slot) => slot.get_or_insert_with(compute).clone(),
        Err(_) => compute(),
    })
    .unwrap_or_else(|_| Arc::from("<exiting thread>"))
}

/// Whether a live thread with tracking state goes by `name` already.
fn name_in_use(name: &str) -> bool {
    REGISTRY.lock().iter().any(|i| &*i.name() == name)
}

/// The kernel's id for this thread, where there is one to show.
fn os_thread_id() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `gettid` has no preconditions and cannot fail.
        let tid = unsafe { libc::gettid() };
        u64::try_from(tid).ok()
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threshold for one draw in `period` (a power of two), as the profile works it out.
    fn threshold(period: u64) -> u64 {
        u64::MAX >> period.trailing_zeros()
    }

    #[test]
    fn one_acquisition_in_a_period_is_drawn_whatever_the_pattern() {
        for period in [1u64, 2, 128, 1024] {
            let t = threshold(period);
            let n = 1u64 << 20;
            let all = (0..n).filter(|&p| drawn(p, t)).count() as u64;
            assert!(
                all.abs_diff(n / period) <= n / period / 50 + 1,
                "period {period}: {all} of {n} drawn"
            );
            // A program that takes two, three or eight locks in turn has each drawn alike (a
            // counter drawing every period-th push would draw only one of them).
            for locks in [2u64, 3, 8] {
                for lock in 0..locks {
                    let mine = (0..n).filter(|p| p % locks == lock && drawn(*p, t)).count() as u64;
                    let expected = n / locks / period;
                    assert!(
                        mine.abs_diff(expected) <= expected / 10 + 2,
                        "period {period}, lock {lock} of {locks}: {mine} drawn, {expected} expected"
                    );
                }
            }
        }
        assert!(
            (0..1000).all(|p| drawn(p, threshold(1))),
            "period 1 draws every one"
        );
    }

    #[test]
    fn a_direct_call_is_a_wait_until_it_ends_and_then_a_hold() {
        let inventory = Inventory::new(Arc::from("t"), false);
        let class = super::super::class::lookup(
            super::super::class::LockKind::Mutex,
            Location::caller(),
            None,
            || "u8",
        );
        let entry = |id| Held {
            id,
            class,
            mode: Mode::Exclusive,
            method: method!("lock"),
            trylock: false,
            site: Location::caller(),
            since: 7,
            node: 0,
            learned: false,
            reported: false,
            blamed: false,
        };
        let mine = Mine(&inventory);
        // (`LOCKWATCH_BACKTRACE` set for the run: every acquisition is drawn.)
        let traced = crate::report::backtrace_level() > 0;
        assert_eq!(
            mine.draw_direct(|| 0),
            Some(traced),
            "a thread's first direct acquisition is drawn only with backtraces on"
        );
        mine.push(entry(1));
        mine.begin_direct(entry(2));
        assert_eq!(
            mine.draw_direct(|| unreachable!()),
            None,
            "inside a direct call, an acquisition tries first"
        );
        let (held, acquiring) = inventory.view().unwrap();
        assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [1]);
        let acquiring = acquiring.expect("the announced call is a wait");
        assert_eq!((acquiring.id, acquiring.since, acquiring.node), (2, 7, 0));
        assert!(inventory.still_acquiring(2, 7));
        assert!(!inventory.still_acquiring(2, 8) && !inventory.still_acquiring(1, 7));
        // Holds of lock 2 elsewhere are marked for blame; the wait for it is no hold.
        inventory.mark_blamed(2);
        inventory.mark_lasted(2, 7);
        assert!(
            mine.end_direct(threshold(1)),
            "the watchdog's mark is seen when the call returns"
        );
        assert!(!inventory.still_acquiring(2, 7));
        let (held, acquiring) = inventory.view().unwrap();
        assert!(acquiring.is_none(), "withdrawn");
        assert_eq!(held.len(), 1, "the hold is pushed by the caller, after");
        mine.push(entry(2));
        let (held, _) = inventory.view().unwrap();
        assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 2]);
        assert!(!held[1].blamed, "not marked while it was a wait");
        // Now a hold: marked for blame; a mark for a lasting wait has nowhere to go.
        inventory.mark_lasted(2, 7);
        inventory.mark_blamed(2);
        let (held, acquiring) = inventory.view().unwrap();
        assert!(held[1].blamed && acquiring.is_none());
        // Period 1: `end_direct` drew the next acquisition; it tries first, and draws again.
        let mut asked = 0;
        assert_eq!(
            mine.draw_direct(|| {
                asked += 1;
                0
            }),
            Some(true)
        );
        assert_eq!(
            asked, 1,
            "a drawn acquisition reads the threshold to draw again"
        );
        mine.push(entry(3));
        assert_eq!(
            mine.draw_direct(|| unreachable!()),
            Some(false),
            "drawn again with threshold 0: not drawn"
        );
        mine.begin_direct(entry(4));
        assert!(!mine.end_direct(0), "a wait the watchdog did not mark");
        assert!(inventory.view().unwrap().1.is_none());
    }
}

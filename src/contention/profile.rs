//! The contention profiler: where threads waited for locks (waiters), who made them wait
//! (blame), and hot compare-exchange loops. Everything here runs on the contended path or at
//! export: an uncontended acquisition never reaches it.
//!
//! Stacks are captured as instruction pointers (at most [`MAX_DEPTH`]) and aggregated by
//! (stack, lock class) in sharded maps, so contended threads do not queue behind one lock;
//! symbols are resolved at export, through a cache.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex as RawMutex;

use crate::settings::DRAW_THRESHOLD;

use super::View;

/// A lock class as the profile knows it: something that names it, compared and hashed by
/// address (classes live for the whole program). The tracker hands its classes in this way,
/// so that the profiler needs nothing from the tracker.
#[derive(Clone, Copy)]
pub(crate) struct ClassRef(pub(crate) &'static (dyn std::fmt::Display + Sync));

impl ClassRef {
    fn addr(self) -> usize {
        self.0 as *const (dyn std::fmt::Display + Sync) as *const () as usize
    }
}

impl PartialEq for ClassRef {
    fn eq(&self, other: &Self) -> bool {
        self.addr() == other.addr()
    }
}

impl Eq for ClassRef {}

impl Hash for ClassRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state);
    }
}

/// Deepest stack kept.
pub(crate) const MAX_DEPTH: usize = 48;
const SHARDS: usize = 16;

/// What a profile entry's leaf is.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Leaf {
    Lock(ClassRef),
    /// A tokio task's wait, by its site.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    TaskLock(ClassRef, &'static Location<'static>),
    Cas(&'static Location<'static>),
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    leaf: Leaf,
    /// Instruction pointers, innermost first.
    frames: Box<[usize]>,
}

/// Aggregated samples: how many events, and how long they waited in total (both already
/// scaled up for sampling).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(crate) struct Stat {
    pub(crate) count: f64,
    pub(crate) delay_ns: f64,
}

struct Table {
    shards: [RawMutex<Option<HashMap<Key, Stat>>>; SHARDS],
}

impl Table {
    const fn new() -> Self {
        Table {
            shards: [const { RawMutex::new(None) }; SHARDS],
        }
    }

    fn add(&self, key: Key, stat: Stat) {
        let mut h = std::hash::DefaultHasher::new();
        key.hash(&mut h);
        let shard = h.finish() as usize % SHARDS;
        let mut map = self.shards[shard].lock();
        let entry = map.get_or_insert_with(HashMap::new).entry(key).or_default();
        entry.count += stat.count;
        entry.delay_ns += stat.delay_ns;
    }

    fn drain_copy(&self) -> Vec<(Key, Stat)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            if let Some(map) = shard.lock().as_ref() {
                out.extend(map.iter().map(|(k, v)| (k.clone(), *v)));
            }
        }
        out
    }

    fn clear(&self) {
        for shard in &self.shards {
            *shard.lock() = None;
        }
    }
}

static WAITERS: Table = Table::new();
static BLAME: Table = Table::new();
static CAS: Table = Table::new();

fn table(view: View) -> &'static Table {
    match view {
        View::Waiters => &WAITERS,
        View::Blame => &BLAME,
        View::CasRetries => &CAS,
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling.

/// The sampling rate, `crate::settings`' (`LOCKWATCH_PROFILE_RATE_NS`,
/// `contention::set_sample_rate`): lock waits are timed one in about `rate / 100 ns`
/// ([`sample_period`]); waits timed one by one (custom locks, tokio tasks) are recorded when at
/// least this long, shorter ones with probability `wait / rate`, scaled by `rate / wait` (Go's
/// block-profile rule: totals stay unbiased).
fn rate_ns() -> u64 {
    crate::settings::get().profile_rate_ns.load(Relaxed)
}

pub(crate) fn set_rate(rate: Duration) {
    let rate = rate.as_nanos().min(u128::from(u64::MAX)) as u64;
    crate::settings::get().profile_rate_ns.store(rate, Relaxed);
    period_of(rate);
}

thread_local! {
    static RNG: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn random_below(n: u64) -> u64 {
    random_bits() % n.max(1)
}

/// How many contended lock waits one timed wait stands for: the rate over 100 ns, rounded up
/// to a power of two (the default 10 µs: one in 128), 1 for a rate of zero (every wait
/// timed). Decided before the wait, so that an untimed wait costs no clock reading and no
/// bookkeeping; waits still going on after 2 ms are recorded whatever the draw (see
/// `Inventory::promote_long_wait`). Kept beside the rate, so that the contended path reads one
/// word.
#[inline]
pub(crate) fn sample_period() -> u64 {
    match PERIOD.load(Relaxed) {
        0 => period_of(rate_ns()),
        period => period,
    }
}

static PERIOD: AtomicU64 = AtomicU64::new(0);

/// The threshold of the profile's draw (`tracker::held::Mine::draw_direct`): an acquisition
/// whose draw is at most this is one of the one in [`sample_period`] whose wait is timed.
/// Every acquisition is drawn while backtraces are on (waits are then published with their
/// stacks, on the contended path). One load (see [`DRAW_THRESHOLD`]).
#[inline(always)]
pub(crate) fn sample_threshold() -> u64 {
    match DRAW_THRESHOLD.load(Relaxed) {
        0 => threshold_now(),
        threshold => threshold,
    }
}

fn backtraces_on() -> bool {
    crate::settings::get().backtraces.load(Relaxed) > 0
}

#[cold]
fn threshold_now() -> u64 {
    loop {
        let traced = backtraces_on();
        let period = sample_period();
        let threshold = if traced {
            u64::MAX
        } else {
            u64::MAX >> period.trailing_zeros()
        };
        DRAW_THRESHOLD.store(threshold, Relaxed);
        // A change made while this worked it out (which cleared the threshold before this
        // stored it) is seen now: worked out again.
        if backtraces_on() == traced && sample_period() == period {
            return threshold;
        }
    }
}

/// The rate changed: the threshold is worked out again.
fn forget_threshold() {
    DRAW_THRESHOLD.store(0, Relaxed);
}

#[cold]
fn period_of(rate: u64) -> u64 {
    let period = (rate / 100).max(1).next_power_of_two();
    PERIOD.store(period, Relaxed);
    forget_threshold();
    period
}

/// Whether to time this contended wait: one in `period` (a power of two).
#[inline]
pub(crate) fn one_in(period: u64) -> bool {
    period <= 1 || random_bits() & (period - 1) == 0
}

/// A fresh random word (this thread's xorshift).
#[inline]
fn random_bits() -> u64 {
    RNG.try_with(|r| {
        let mut x = r.get();
        if x == 0 {
            x = std::hash::RandomState::new().hash_one(0u8) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.set(x);
        x
    })
    .unwrap_or(0)
}

/// The stack of a wait about to begin: taken before the wait, so that a timed wait pays for
/// it while it waits anyway, not once it holds the lock.
pub(crate) fn wait_stack() -> Box<[usize]> {
    capture()
}

/// A lock wait already chosen for the profile (timed, or long), standing for `scale` waits;
/// its stack from [`wait_stack`], or taken now.
pub(crate) fn record_timed(
    class: ClassRef,
    waited: Duration,
    scale: u64,
    frames: Option<Box<[usize]>>,
) {
    // A direct call, not through a closure: the trimming of lockwatch's own frames stops at
    // the first frame that is not lockwatch's.
    let frames = match frames {
        Some(frames) => frames,
        None => capture(),
    };
    let key = Key {
        leaf: Leaf::Lock(class),
        frames,
    };
    WAITERS.add(
        key,
        Stat {
            count: scale as f64,
            delay_ns: waited.as_nanos() as f64 * scale as f64,
        },
    );
}

/// The scaled sample for an event of `ns`, or `None` if it is not sampled.
fn sample(ns: u64) -> Option<Stat> {
    let rate = rate_ns();
    if ns >= rate {
        return Some(Stat {
            count: 1.0,
            delay_ns: ns as f64,
        });
    }
    if ns == 0 || random_below(rate) >= ns {
        return None;
    }
    let scale = rate as f64 / ns as f64;
    Some(Stat {
        count: scale,
        delay_ns: ns as f64 * scale,
    })
}

// ---------------------------------------------------------------------------------------------
// Capture.

fn capture() -> Box<[usize]> {
    let mut frames = Vec::with_capacity(MAX_DEPTH);
    let mut collect = |frame: &backtrace::Frame| {
        frames.push(frame.ip() as usize);
        frames.len() < MAX_DEPTH
    };
    #[cfg(unix)]
    // SAFETY: `trace_unsynchronized` is unsafe because some platforms' unwinders are not
    // thread-safe; on unix targets it uses the system unwinder (`_Unwind_Backtrace`), which
    // is, so concurrent captures from contended threads are fine.
    unsafe {
        backtrace::trace_unsynchronized(&mut collect)
    };
    #[cfg(not(unix))]
    backtrace::trace(&mut collect);
    frames.into_boxed_slice()
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

/// Records a finished wait of `waited` on a lock of `class`.
pub(crate) fn record_wait(class: ClassRef, waited: Duration) {
    if let Some(stat) = sample(waited.as_nanos() as u64) {
        let key = Key {
            leaf: Leaf::Lock(class),
            frames: capture(),
        };
        WAITERS.add(key, stat);
    }
}

/// A tokio task's wait for a lock of `class` at `site`: a suspended task has no native stack
/// worth keeping, so the wait is filed under its site.
#[cfg(feature = "tokio")]
pub(crate) fn record_task_wait(
    class: ClassRef,
    site: &'static Location<'static>,
    waited: Duration,
) {
    if let Some(stat) = sample(waited.as_nanos() as u64) {
        let key = Key {
            leaf: Leaf::TaskLock(class, site),
            frames: Box::new([]),
        };
        WAITERS.add(key, stat);
    }
}

/// Sampled compare-exchange failures at `site`: `count` of them (already scaled).
pub(crate) fn record_cas(site: &'static Location<'static>, count: u64) {
    let key = Key {
        leaf: Leaf::Cas(site),
        frames: capture(),
    };
    CAS.add(
        key,
        Stat {
            count: count as f64,
            delay_ns: 0.0,
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Blame: who made the waiters wait.

/// Per-lock waiting bookkeeping, allocated on the lock's first contended acquisition.
pub(crate) struct Contention {
    /// Threads waiting right now: the release path reads only this.
    pub(crate) waiters: AtomicU32,
    /// (waiter key, start in ns, how many waits it stands for) for each waiter; a release
    /// charges each waiter's time since its start to the releasing holder, then moves the
    /// start to now.
    starts: RawMutex<Vec<(usize, u64, u64)>>,
}

impl Contention {
    pub(crate) fn new() -> Self {
        Contention {
            waiters: AtomicU32::new(0),
            starts: RawMutex::new(Vec::new()),
        }
    }

    /// A waiter starts waiting at `start` (the caller's clock reading, shared with the
    /// watchdog's record of the wait).
    pub(crate) fn enter(&self, waiter: usize, start: Instant) {
        self.enter_scaled(waiter, start, 1);
    }

    /// A waiter chosen for the profile, standing for `scale` waits (see [`sample_period`]),
    /// starts waiting at `start`: its blame is scaled alike and always recorded.
    pub(crate) fn enter_scaled(&self, waiter: usize, start: Instant, scale: u64) {
        let start_ns = start.saturating_duration_since(epoch()).as_nanos() as u64;
        self.starts.lock().push((waiter, start_ns, scale));
        self.waiters.fetch_add(1, Relaxed);
    }

    /// A waiter found lasting now stands for `scale` waits (1: itself alone).
    pub(crate) fn rescale(&self, waiter: usize, scale: u64) {
        if let Some(entry) = self.starts.lock().iter_mut().find(|(w, _, _)| *w == waiter) {
            entry.2 = scale;
        }
    }

    pub(crate) fn leave(&self, waiter: usize) {
        let mut starts = self.starts.lock();
        if let Some(i) = starts.iter().position(|(w, _, _)| *w == waiter) {
            starts.swap_remove(i);
            self.waiters.fetch_sub(1, Relaxed);
        }
    }

    /// Called by a holder releasing the lock while threads wait: charges their waiting since
    /// the last release to the holder's stack.
    #[cold]
    #[inline(never)]
    pub(crate) fn blame(&self, class: ClassRef) {
        let now = now_ns();
        let (waited, count, chosen) = {
            let mut starts = self.starts.lock();
            let (mut total, mut count, mut chosen) = (0u64, 0u64, false);
            for (_, start, scale) in starts.iter_mut() {
                total += now.saturating_sub(*start) * *scale;
                count += *scale;
                chosen |= *scale > 1;
                *start = now;
            }
            (total, count, chosen)
        };
        charge_blame(class, waited, count, chosen);
    }
}

/// Charges `waited` ns of `count` waits to the calling holder's stack, as the holder of a lock
/// of `class` that made them wait. `chosen`: the waits were chosen for the profile before
/// they began (or lasted), and are recorded as they stand; others are sampled by their delay.
#[cold]
#[inline(never)]
pub(crate) fn charge_blame(class: ClassRef, waited: u64, count: u64, chosen: bool) {
    if count == 0 {
        return;
    }
    let stat = if chosen {
        Some(Stat {
            count: count as f64,
            delay_ns: waited as f64,
        })
    } else {
        sample(waited).map(|mut stat| {
            // Every waiter charged is one contention, scaled like the delay.
            stat.count *= count as f64;
            stat
        })
    };
    if let Some(stat) = stat {
        BLAME.add(
            Key {
                leaf: Leaf::Lock(class),
                frames: capture(),
            },
            stat,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Export.

/// One resolved stack: frame names root first, the leaf label last.
pub(crate) struct Resolved {
    pub(crate) frames: Vec<String>,
    pub(crate) leaf: String,
    pub(crate) lock: String,
    pub(crate) stat: Stat,
}

fn symbol_cache() -> &'static RawMutex<HashMap<usize, Vec<String>>> {
    static CACHE: OnceLock<RawMutex<HashMap<usize, Vec<String>>>> = OnceLock::new();
    CACHE.get_or_init(|| RawMutex::new(HashMap::new()))
}

/// The function names at `ip`, innermost inlined function first.
fn symbolize(ip: usize, cache: &mut HashMap<usize, Vec<String>>) -> Vec<String> {
    cache
        .entry(ip)
        .or_insert_with(|| {
            let mut names = Vec::new();
            // The return address points after the call; look up the call itself.
            let addr = ip.saturating_sub(1) as *mut std::ffi::c_void;
            backtrace::resolve(addr, |symbol| {
                let name = match symbol.name() {
                    Some(name) => format!("{name:#}"),
                    None => format!("{ip:#x}"),
                };
                names.push(name.replace(';', ":"));
            });
            if names.is_empty() {
                names.push(format!("{ip:#x}"));
            }
            names
        })
        .clone()
}

/// Frames that belong to lockwatch or the unwinder, at the innermost end of every stack.
fn is_own_frame(name: &str) -> bool {
    name.contains("lockwatch::")
        || name.starts_with("backtrace::")
        || name.starts_with("<backtrace::")
        || name.starts_with("core::ops::function::FnOnce::call_once")
}

/// Runtime frames at the root of every stack (thread start, `main`'s runtime, panic catching):
/// trimmed so that a stack starts at the program's own code.
fn is_runtime_frame(name: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "std::",
        "<std::",
        "core::",
        "<core::",
        "alloc::",
        "<alloc::",
        "__rust",
        "__libc",
        "_start",
        "start_thread",
        "clone",
        "0x",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || name == "main"
}

pub(crate) fn resolved(view: View) -> Vec<Resolved> {
    let entries = table(view).drain_copy();
    let mut cache = symbol_cache().lock();
    let mut out = Vec::with_capacity(entries.len());
    for (key, stat) in entries {
        // Innermost first, then drop lockwatch's own frames from the inner end.
        let mut names: Vec<String> = key
            .frames
            .iter()
            .flat_map(|ip| symbolize(*ip, &mut cache))
            .collect();
        let own = names.iter().take_while(|n| is_own_frame(n)).count();
        names.drain(..own);
        names.reverse();
        // Root first now: drop the runtime's frames down to the program's first own one.
        let runtime = names.iter().take_while(|n| is_runtime_frame(n)).count();
        if runtime < names.len() {
            names.drain(..runtime);
        }
        let (leaf, lock) = match key.leaf {
            Leaf::Lock(class) => (format!("[lock] {}", class.0), class.0.to_string()),
            Leaf::TaskLock(class, site) => {
                names = vec!["[tokio task]".to_owned(), format!("[await] {site}")];
                (format!("[lock] {}", class.0), class.0.to_string())
            }
            Leaf::Cas(site) => (format!("[CAS retry] {site}"), format!("CAS at {site}")),
        };
        out.push(Resolved {
            frames: names,
            leaf: leaf.replace(';', ":"),
            lock,
            stat,
        });
    }
    out.sort_by(|a, b| a.frames.cmp(&b.frames).then(a.leaf.cmp(&b.leaf)));
    out
}

/// Folded stacks: `root;...;frame;leaf value` per line, merged by identical stacks.
pub(crate) fn folded(view: View) -> String {
    let mut merged: Vec<(String, u64)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in resolved(view) {
        let mut line = r.frames.join(";");
        if !line.is_empty() {
            line.push(';');
        }
        line.push_str(&r.leaf);
        let value = match view {
            View::CasRetries => r.stat.count,
            _ => r.stat.delay_ns,
        }
        .round() as u64;
        match index.get(&line) {
            Some(&i) => merged[i].1 += value,
            None => {
                index.insert(line.clone(), merged.len());
                merged.push((line, value));
            }
        }
    }
    let mut out = String::new();
    for (line, value) in merged {
        if value > 0 {
            out.push_str(&line);
            out.push(' ');
            out.push_str(&value.to_string());
            out.push('\n');
        }
    }
    out
}

pub(crate) fn reset() {
    WAITERS.clear();
    BLAME.clear();
    CAS.clear();
}

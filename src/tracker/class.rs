//! Lock classes: every lock created at one site (or given one name) is one class.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use parking_lot::Mutex as RawMutex;

/// What kind of lock a class stands for; used only to word reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockKind {
    Mutex,
    RwLock,
    ReentrantMutex,
    Once,
    OnceLock,
    LazyLock,
    #[cfg_attr(not(feature = "once_cell"), allow(dead_code))]
    OnceCell,
    #[cfg_attr(not(feature = "once_cell"), allow(dead_code))]
    Lazy,
    /// A lock lockwatch does not wrap, tracked through `lockwatch::custom`.
    Custom,
    /// A Redis lease (`lockwatch::redis`).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Lease,
}

impl LockKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LockKind::Mutex => "Mutex",
            LockKind::RwLock => "RwLock",
            LockKind::ReentrantMutex => "ReentrantMutex",
            LockKind::Once => "Once",
            LockKind::OnceLock => "OnceLock",
            LockKind::LazyLock => "LazyLock",
            LockKind::OnceCell => "OnceCell",
            LockKind::Lazy => "Lazy",
            LockKind::Custom => "Lock",
            LockKind::Lease => "Lease",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ClassKey {
    /// Unnamed: the creation site and the protected data's type.
    Site(&'static Location<'static>, &'static str),
    Name(&'static str),
}

/// One lock class. Classes live for the whole program (there is one per creation site or
/// name, so they are bounded by the program text), which lets locks point at them directly.
pub(crate) struct LockClass {
    pub(crate) id: u32,
    pub(crate) kind: LockKind,
    /// Where the first lock of the class was created.
    pub(crate) site: &'static Location<'static>,
    pub(crate) name: Option<&'static str>,
    /// The protected data's type (`type_name`), empty for a lock with none (`Once`).
    pub(crate) data: &'static str,
    /// Set once two locks of this class have been nested, so that dropping one of them
    /// must clean the per-instance order graph. Classes never nested drop for free.
    pub(crate) has_instance_edges: AtomicBool,
    /// The class's node in the class order graph, 0 until it has one. Written under the
    /// graph lock.
    pub(crate) node: AtomicU32,
}

impl LockClass {
    pub(crate) fn nested_instances(&self) -> bool {
        self.has_instance_edges.load(Ordering::Relaxed)
    }
}

impl fmt::Display for LockClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => write!(f, "{} `{}`", self.kind.as_str(), name),
            None => write!(
                f,
                "{} created at {}",
                crate::report::kind_of(self.kind.as_str(), self.data),
                self.site
            ),
        }
    }
}

struct ClassTable {
    by_key: HashMap<ClassKey, &'static LockClass>,
    names: HashMap<String, &'static str>,
}

static CLASSES: RawMutex<Option<ClassTable>> = RawMutex::new(None);

/// A per-thread cache of recent (site, name) -> class lookups, so that locks created again
/// and again at one site (per-request locks, say) do not each hash the site and take the
/// class table's lock. Direct-mapped by site address; a miss goes to the table.
const CACHE_SLOTS: usize = 32;

type CacheEntry = (usize, usize, &'static LockClass);

thread_local! {
    static CACHE: [std::cell::Cell<Option<CacheEntry>>; CACHE_SLOTS] =
        const { [const { std::cell::Cell::new(None) }; CACHE_SLOTS] };
}

/// The class of a lock created at `site`, or named `name`: from this thread's cache, or
/// [`intern`].
#[inline]
pub(crate) fn lookup(
    kind: LockKind,
    site: &'static Location<'static>,
    name: Option<&'static str>,
    data: fn() -> &'static str,
) -> &'static LockClass {
    let site_key = site as *const Location<'static> as usize;
    // A name makes the class; without one, the site and the data type do (the function's
    // address stands for its type: one per monomorphization).
    let name_key = name.map_or(data as usize, |n| n.as_ptr() as usize);
    let slot = (site_key >> 3) % CACHE_SLOTS;
    let cached = CACHE
        .try_with(|c| c[slot].get())
        .ok()
        .flatten()
        .filter(|(s, n, _)| *s == site_key && *n == name_key);
    if let Some((_, _, class)) = cached {
        return class;
    }
    let class = intern(kind, site, name, data());
    let _ = CACHE.try_with(|c| c[slot].set(Some((site_key, name_key, class))));
    class
}

/// The class of a lock created at `site`, or named `name`. Cold: the table is global.
#[cold]
pub(crate) fn intern(
    kind: LockKind,
    site: &'static Location<'static>,
    name: Option<&'static str>,
    data: &'static str,
) -> &'static LockClass {
    let key = match name {
        Some(name) => ClassKey::Name(name),
        None => ClassKey::Site(site, data),
    };
    with_table(|table| {
        let next_id = table.by_key.len() as u32 + 1;
        *table.by_key.entry(key).or_insert_with(|| {
            Box::leak(Box::new(LockClass {
                id: next_id,
                kind,
                site,
                name,
                data,
                has_instance_edges: AtomicBool::new(false),
                node: AtomicU32::new(0),
            }))
        })
    })
}

/// A `'static` copy of a class name, made once per distinct name.
#[cold]
pub(crate) fn intern_name(name: &str) -> &'static str {
    with_table(|table| {
        if let Some(interned) = table.names.get(name) {
            return *interned;
        }
        let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
        table.names.insert(name.to_owned(), interned);
        interned
    })
}

fn with_table<R>(f: impl FnOnce(&mut ClassTable) -> R) -> R {
    let mut guard = CLASSES.lock();
    let table = guard.get_or_insert_with(|| ClassTable {
        by_key: HashMap::new(),
        names: HashMap::new(),
    });
    f(table)
}

// A class is one object for the whole program: identity is its id.
impl PartialEq for LockClass {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for LockClass {}

impl std::hash::Hash for LockClass {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// Raw rwlocks whose `read` never waits for a queued writer (reader-preferring), by type
/// name: parking_lot 0.13's `RawRwLockRecursive`, and dashmap's shard lock, which lets a
/// reader in whenever no writer holds it.
const RECURSIVE_READS_BUILT_IN: &[&str] = &[
    "parking_lot::raw_rwlock::RawRwLock<true>",
    "dashmap::lock::RawRwLock",
];

/// Raw rwlocks declared reader-preferring by the program.
static RECURSIVE_READS: parking_lot::Mutex<Vec<&'static str>> = parking_lot::Mutex::new(Vec::new());

pub(crate) fn declare_recursive_reads(raw: &'static str) {
    let mut declared = RECURSIVE_READS.lock();
    if !declared.contains(&raw) {
        declared.push(raw);
    }
}

pub(crate) fn reads_are_recursive(raw: &str) -> bool {
    RECURSIVE_READS_BUILT_IN.contains(&raw) || RECURSIVE_READS.lock().contains(&raw)
}

//! What a report found, as data: the locks, sites, threads and timings, for tests and tools
//! to read without parsing text. The words are [`super::render`]'s, made from this alone.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

/// A place in the source: where a lock was created, or taken.
///
/// # Examples
///
/// ```
/// let site = lockwatch::report::Site::caller();
/// assert!(site.file.ends_with(".rs"));
/// assert_eq!(site.to_string(), format!("{}:{}:{}", site.file, site.line, site.column));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Site {
    /// The source file, as the compiler names it (`src/bank.rs`).
    pub file: &'static str,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

impl Site {
    /// The site of the call to this function (as `std::panic::Location::caller`).
    #[track_caller]
    pub fn caller() -> Site {
        Site::of(Location::caller())
    }

    /// A site written `file:line:col` (by another process), its file name interned.
    #[cfg_attr(not(feature = "enabled"), allow(dead_code))]
    pub(crate) fn parse(text: &str) -> Option<Site> {
        let mut parts = text.trim().rsplitn(3, ':');
        let column = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        let file = parts.next().filter(|f| !f.is_empty())?;
        Some(Site {
            file: intern_file(file),
            line,
            column,
        })
    }

    /// A site another process sent in a form that could not be read.
    #[cfg_attr(not(all(feature = "enabled", feature = "redis")), allow(dead_code))]
    pub(crate) fn unknown() -> Site {
        Site {
            file: "<unknown>",
            line: 0,
            column: 0,
        }
    }

    pub(crate) fn of(location: &'static Location<'static>) -> Site {
        Site {
            file: location.file(),
            line: location.line(),
            column: location.column(),
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A `'static` copy of a file name another process sent, made once per name.
#[cfg_attr(not(feature = "enabled"), allow(dead_code))]
fn intern_file(file: &str) -> &'static str {
    static FILES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = files.iter().find(|f| **f == file) {
        return known;
    }
    let interned: &'static str = Box::leak(file.to_owned().into_boxed_str());
    files.push(interned);
    interned
}

/// A lock as a report names it: its class (the kind of lock and its name or creation site)
/// and, where the report is about locks of one class, which instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LockName {
    /// `Mutex`, `RwLock`, `ReentrantMutex`, `Once`, `OnceLock`, ...
    pub kind: &'static str,
    /// The class name given with [`crate::named`], if any.
    pub name: Option<&'static str>,
    /// The protected data's type, as `std::any::type_name` gives it (empty for a `Once`):
    /// unnamed locks made at one site for different types are different classes.
    pub data: &'static str,
    /// Where the class's first lock was created.
    pub created: Site,
    /// This lock's instance number, when the report tells instances of one class apart.
    pub instance: Option<u64>,
}

impl fmt::Display for LockName {
    /// The class: "Mutex `account`", or "`Mutex<Users>` created at src/bank.rs:12:5".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => write!(f, "{} `{}`", self.kind, name),
            None => write!(
                f,
                "{} created at {}",
                kind_of(self.kind, self.data),
                self.created
            ),
        }
    }
}

/// `Mutex<Users>`: the kind of lock with its data type, paths shortened to their last segment
/// (`alloc::vec::Vec<u64>` reads `Vec<u64>`); the kind alone when there is no data type.
pub(crate) fn kind_of(kind: &str, data: &str) -> String {
    if data.is_empty() {
        return kind.to_owned();
    }
    let mut short = String::with_capacity(data.len());
    let mut segment = 0; // where the current path segment starts in `short`
    let mut chars = data.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            short.truncate(segment);
        } else {
            short.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                segment = short.len();
            }
        }
    }
    format!("{kind}<{short}>")
}

/// One acquisition of a lock: which lock, by which method, where, and (in the watchdog's
/// reports) for how long it has been held or waited for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Acquisition {
    /// The lock.
    pub lock: LockName,
    /// The method as the report names it: `lock`, `read`, `read_recursive`,
    /// `upgradable_read`, `initialize`.
    pub method: &'static str,
    /// Where it was called.
    pub site: Site,
    /// Taken with a `try_*` method.
    pub trylock: bool,
    /// How long it has been held (or waited for), where the report says.
    pub duration: Option<Duration>,
    /// With backtraces on: the line in the user's own code behind this acquisition, when the
    /// lock was taken in a helper or inside a dependency (`file:line:col in function`).
    pub called_from: Option<String>,
}

/// One step of a lock-order cycle: a thread took `to` while holding `from`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OrderStep {
    /// The lock held.
    pub from: Acquisition,
    /// The lock taken under it.
    pub to: Acquisition,
    /// The thread that first took the locks in this order.
    pub thread: String,
    /// This step is the acquisition being reported, not one seen before.
    pub new: bool,
    /// The `tracing` span the step ran in, if any.
    pub span: Option<&'static str>,
    /// Its backtrace, if backtraces were on (`LOCKWATCH_BACKTRACE=1`).
    pub backtrace: Option<String>,
}

/// A thread blocked in a wait-for cycle: what it waits for and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BlockedThread {
    /// The thread's name.
    pub thread: String,
    /// The lock it is blocked on (`duration`: how long); for a thread parked in a condvar
    /// wait, the condvar's mutex (released) and the wait's site.
    pub waits_for: Acquisition,
    /// The locks it holds, innermost last (`duration`: how long each).
    pub holds: Vec<Acquisition>,
    /// Parked in a condvar wait: the threads known to notify that condvar, and where, all
    /// blocked too.
    pub condvar_notifiers: Option<Vec<Notifier>>,
    /// The backtrace of its wait, with backtraces on (`LOCKWATCH_BACKTRACE=1`).
    pub backtrace: Option<String>,
}

/// A thread known to notify a condvar, and where it did.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Notifier {
    /// The thread's name.
    pub thread: String,
    /// Where it called `notify_one` / `notify_all`.
    pub site: Site,
    /// It has exited: it will notify no more.
    pub exited: bool,
}

/// What a thread is doing now, as a report about a lock it holds says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Doing {
    /// Running (not blocked in a lockwatch primitive).
    Running,
    /// A tokio task not waiting for a lock: running, or suspended at an `.await` lockwatch
    /// does not see (I/O, a sleep, a channel).
    TaskNotWaiting,
    /// A holder in another process (a lease's stored holder): what it does is not known here.
    InAnotherProcess,
    /// Blocked waiting for a lock.
    WaitingFor(Acquisition),
    /// Parked in a condvar wait at `wait.site` for `wait.duration`, with the condvar's mutex
    /// (`wait.lock`) released: it cannot release what it holds until the condvar is notified.
    ParkedInCondvarWait(Acquisition),
}

/// A thread holding a lock another thread waits for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Holder {
    /// The thread's name.
    pub thread: String,
    /// Its hold of the lock (`duration`: how long).
    pub hold: Acquisition,
    /// What it is doing now.
    pub doing: Doing,
}

/// What a [`Report`](crate::Report) found. Each variant is the data its text is made from.
///
/// # Examples
///
/// ```
/// use lockwatch::report::Finding;
///
/// for report in lockwatch::reports() {
///     if let Finding::LockOrder { cycle, .. } = report.finding() {
///         for step in cycle {
///             println!("{} -> {} at {}", step.from.lock, step.to.lock, step.to.site);
///         }
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Finding {
    /// An acquisition that closes a cycle in the lock order ([`crate::ReportKind::LockOrder`]).
    #[non_exhaustive]
    LockOrder {
        /// The thread acquiring.
        thread: String,
        /// The acquisition that closes the cycle.
        acquiring: Acquisition,
        /// The locks the thread holds, innermost last.
        held: Vec<Acquisition>,
        /// The cycle, in the order it happens; the steps with `new` are this thread's.
        cycle: Vec<OrderStep>,
        /// The cycle is among locks of one class (instances are told apart).
        per_instance: bool,
    },
    /// A thread taking a lock it already holds, in a way that blocks
    /// ([`crate::ReportKind::LockOrder`]).
    #[non_exhaustive]
    SelfDeadlock {
        /// The thread.
        thread: String,
        /// The second acquisition.
        acquiring: Acquisition,
        /// The hold it blocks on.
        earlier: Acquisition,
        /// Every lock the thread holds, innermost last.
        held: Vec<Acquisition>,
        /// It blocks only once a writer queues between the two reads.
        needs_queued_writer: bool,
        /// The second acquisition's backtrace, with backtraces on.
        backtrace: Option<String>,
    },
    /// Threads blocked in a wait-for cycle right now ([`crate::ReportKind::Deadlock`]).
    #[non_exhaustive]
    Deadlock {
        /// Each thread of the cycle.
        threads: Vec<BlockedThread>,
    },
    /// A lock held longer than the threshold ([`crate::ReportKind::LongHold`]).
    #[non_exhaustive]
    LongHold {
        /// The holder.
        thread: String,
        /// The hold (`duration`: how long so far).
        hold: Acquisition,
        /// The long-hold threshold.
        threshold: Duration,
        /// Every lock the thread holds, innermost last (`duration`: how long each).
        held: Vec<Acquisition>,
        /// What the holder is doing now: running, blocked on a lock, or parked in a condvar
        /// wait.
        doing: Doing,
    },
    /// A thread waiting for a lock longer than the threshold ([`crate::ReportKind::LongWait`]).
    #[non_exhaustive]
    LongWait {
        /// The waiter.
        thread: String,
        /// The lock it waits for (`duration`: how long so far).
        waits_for: Acquisition,
        /// The long-wait threshold.
        threshold: Duration,
        /// The threads holding the lock now.
        holders: Vec<Holder>,
    },
    /// A load, another thread's write, then a plain store ([`crate::ReportKind::LostUpdate`]).
    #[non_exhaustive]
    LostUpdate {
        /// The thread whose store loses the other write.
        thread: String,
        /// The atomic type (`AtomicU64`).
        atomic: &'static str,
        /// Where the atomic was created.
        created: Site,
        /// This thread's load.
        load: Site,
        /// This thread's store.
        store: Site,
        /// The thread that wrote in between, if known.
        writer: Option<String>,
        /// Where it wrote, if known.
        written_at: Option<Site>,
    },
    /// A Redis lease expired while its guard was still held
    /// ([`crate::ReportKind::LeaseExpired`]): another process may hold the key now.
    #[non_exhaustive]
    LeaseExpired {
        /// The thread holding the guard.
        thread: String,
        /// The Redis key.
        key: String,
        /// The hold: the lease's class, where it was taken, and (`duration`) for how long.
        hold: Acquisition,
        /// The lease's time to live, as last set (acquired or extended).
        ttl: Duration,
        /// How long ago it expired, when reported.
        expired_for: Duration,
    },
    /// One of lockwatch's own limits was reached ([`crate::ReportKind::Limit`]).
    #[non_exhaustive]
    Limit {
        /// The thread that reached it.
        thread: String,
        /// How many locks one thread may hold before the watchdog stops seeing the rest.
        held_locks: usize,
    },
}

impl Finding {
    /// The kind of report this finding makes.
    pub fn kind(&self) -> crate::ReportKind {
        use crate::ReportKind as K;
        match self {
            Finding::LockOrder { .. } | Finding::SelfDeadlock { .. } => K::LockOrder,
            Finding::Deadlock { .. } => K::Deadlock,
            Finding::LongHold { .. } => K::LongHold,
            Finding::LongWait { .. } => K::LongWait,
            Finding::LostUpdate { .. } => K::LostUpdate,
            Finding::LeaseExpired { .. } => K::LeaseExpired,
            Finding::Limit { .. } => K::Limit,
        }
    }

    /// The thread the report is raised about (the first thread of a deadlock).
    pub fn thread(&self) -> &str {
        match self {
            Finding::LockOrder { thread, .. }
            | Finding::SelfDeadlock { thread, .. }
            | Finding::LongHold { thread, .. }
            | Finding::LongWait { thread, .. }
            | Finding::LostUpdate { thread, .. }
            | Finding::LeaseExpired { thread, .. }
            | Finding::Limit { thread, .. } => thread,
            Finding::Deadlock { threads } => threads.first().map_or("", |t| t.thread.as_str()),
        }
    }

    /// Every acquisition the finding names, in the order the report shows them.
    pub fn acquisitions(&self) -> Vec<&Acquisition> {
        let mut out = Vec::new();
        match self {
            Finding::LockOrder {
                acquiring,
                held,
                cycle,
                ..
            } => {
                out.push(acquiring);
                out.extend(held.iter().rev());
                for step in cycle {
                    out.extend([&step.from, &step.to]);
                }
            }
            Finding::SelfDeadlock {
                acquiring, held, ..
            } => {
                out.push(acquiring);
                out.extend(held.iter().rev());
            }
            Finding::Deadlock { threads } => {
                for t in threads {
                    out.push(&t.waits_for);
                    out.extend(t.holds.iter().rev());
                }
            }
            Finding::LongHold {
                hold, held, doing, ..
            } => {
                out.push(hold);
                out.extend(held.iter().rev());
                if let Doing::WaitingFor(w) | Doing::ParkedInCondvarWait(w) = doing {
                    out.push(w);
                }
            }
            Finding::LongWait {
                waits_for, holders, ..
            } => {
                out.push(waits_for);
                out.extend(holders.iter().map(|h| &h.hold));
            }
            Finding::LeaseExpired { hold, .. } => out.push(hold),
            Finding::LostUpdate { .. } | Finding::Limit { .. } => {}
        }
        out
    }
}

//! lockwatch finds deadlocks before they happen.
//!
//! Swap `std::sync` and `parking_lot` imports for [`lockwatch::sync`](sync) and
//! [`lockwatch::parking_lot`](parking_lot), turn on the `enabled` feature in debug and test
//! builds, and every acquisition order is recorded into a global lock graph. An order that
//! closes a cycle is reported, with the code sites on both sides, before the thread blocks.
//! With the feature off, the same paths are the plain std / parking_lot types: zero cost.
//!
//! ```toml
//! [dependencies]
//! lockwatch = "0.1"
//!
//! [features]
//! lock-debug = ["lockwatch/enabled"]
//! ```
//!
//! # Two builds
//!
//! - **With `enabled`** (what these docs show): the types in [`sync`], [`sync::atomic`],
//!   [`parking_lot`] and [`lock_api`] are tracked wrappers with the exact API of the types they
//!   replace. Tracking can still be switched off at run time (`LOCKWATCH=off`, [`set_enabled`]),
//!   leaving one relaxed load and a branch per acquisition.
//! - **Without it** (release builds): every one of those paths is a `pub use` of the plain std /
//!   parking_lot / lock_api item, so the types *are* std's (same `TypeId`), and the extras
//!   ([`reports`], [`capture()`], [`named`], [`contention`], [`export`], ...) still exist and do
//!   nothing, so turning the feature off never breaks a build.
//!
//! Turn it on for tests with a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! lockwatch = { version = "0.1", features = ["enabled"] }
//! ```
//!
//! Cargo unifies features, so in `cargo test` the library's own `lockwatch::sync` imports are
//! tracked too, and [`assert_clean`] / [`capture()`] check each test on its own.
//!
//! # What is reported
//!
//! - **Classes.** Locks created at one site for one protected type (or given one name with
//!   [`named`]) are one class; an order between two classes holds for all their instances:
//!   `a1 → b1` in one place and `b2 → a2` in another is an inversion.
//! - **Instances of one class** nested in each other are ordered per instance: `x1 → x2`,
//!   `x2 → x3`, `x1 → x3` is fine, `x1 → x2` then `x2 → x1` is reported.
//! - **Re-locking** a non-reentrant lock the thread holds is reported before it blocks.
//! - **Try-locks** that succeed are held and order later acquisitions, but never add an edge
//!   into themselves (they never wait); failed tries add nothing.
//! - **Reads** follow lockdep: `read` is non-recursive (a queued writer blocks it),
//!   parking_lot's `read_recursive` is recursive, and only *strong* cycles are reported.
//! - What was learned through a lock outlives it: `a → b → c`, drop `b`, then `c → a` is
//!   still reported.
//!
//! Each distinct cycle (by its classes and code sites) is reported once. Reports are kept for
//! [`reports`] and, by the [`Policy`], logged through `tracing` (target `lockwatch`, or
//! stderr when no subscriber is installed), turned into a panic, or passed to a callback.
//!
//! # Example
//!
//! ```
//! use lockwatch::sync::Mutex;
//!
//! let a = Mutex::new(0);
//! let b = Mutex::new(0);
//! {
//!     let _a = a.lock().unwrap();
//!     let _b = b.lock().unwrap(); // a, then b
//! }
//! {
//!     let _b = b.lock().unwrap();
//!     let _a = a.lock().unwrap(); // b, then a: reported, though this run did not hang
//! }
//! # #[cfg(feature = "enabled")]
//! assert_eq!(lockwatch::reports()[0].kind(), lockwatch::ReportKind::LockOrder);
//! ```
//!
//! # Beyond lock order
//!
//! - [`watchdog`]: locks held too long, waits too long and actual deadlocks, reported while
//!   they happen.
//! - [`contention`]: where threads wait for locks and who makes them wait, as flame graphs,
//!   folded stacks and pprof profiles; [`export`] writes everything to a directory.
//! - [`sync::atomic`]: atomics that report lost updates (`load` then `store` across another
//!   thread's write); [`sync::OnceLock`], [`sync::LazyLock`] and [`sync::Once`] take part in
//!   the lock graph while initializing.
//! - [`custom`]: any lock joins the graph (a lock file, an advisory lock, your own spin
//!   lock), tracked around your own acquire and release.
//! - `lockwatch::tokio` (feature `tokio`): tokio's `Mutex` and `RwLock`, tracked per task.
//! - `lockwatch::redis` (feature `redis`): Redis lease locks in the graph, leases expiring
//!   under their holders, deadlocks and lock-order cycles across processes.
//!
//! # Features
//!
//! | feature | effect |
//! |---|---|
//! | `enabled` | tracking on; without it every type is the plain std / parking_lot / lock_api one |
//! | `once_cell` | `lockwatch::once_cell` mirrors once_cell's `sync::{OnceCell, Lazy}` |
//! | `tokio` | `lockwatch::tokio` mirrors `tokio::sync`, its `Mutex` and `RwLock` tracked per task |
//! | `redis` | `lockwatch::redis`: lease locks on Redis keys; with `enabled`, tracked, and lock order shared between processes |
//! | `parking_lot_0_13` | `lockwatch::parking_lot` and `lockwatch::lock_api` wrap parking_lot 0.13 / lock_api 0.5 |
//!
//! The oldest supported Rust is 1.80 (`LazyLock`); std methods stabilised later (such as
//! `Once::wait` in 1.86) are wrapped when the compiler has them.
//!
//! # Cost
//!
//! An acquisition with no lock held, or whose order is already known, touches the raw lock,
//! a thread-local stack and relaxed atomics in the lock itself: no global lock, no
//! allocation, no clock. A new order takes a global lock once and searches the graph.
//!
//! # Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `LOCKWATCH` | `on` (default) or `off`: tracking at run time, see [`set_enabled`] |
//! | `LOCKWATCH_POLICY` | `log` (default), `panic` or `silent`: see [`Policy`] |
//! | `LOCKWATCH_BACKTRACE` | `1`: a backtrace with every new order edge, self-deadlock and deadlock (each blocked thread's wait), trimmed to your frames, and the line in your code behind a lock taken in a helper or a dependency (`called from ...`); `full`: untrimmed |
//! | `LOCKWATCH_LONG_HOLD_MS`, `LOCKWATCH_LONG_WAIT_MS`, `LOCKWATCH_ON_DEADLOCK`, `LOCKWATCH_WATCHDOG` | see [`watchdog`] |
//! | `LOCKWATCH_PROFILE_RATE_NS` | see [`contention`] |
//! | `LOCKWATCH_DIR` | see [`export`] |
//! | `LOCKWATCH_REDIS` | `redis://host:port/db`: share lock order with other processes (feature `redis`, see `lockwatch::redis::share_order`) |

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

mod capture;
// The parking_lot and lock_api that the facades wrap (lockwatch's own internal locks are
// always parking_lot 0.12's): 0.12 / 0.4 by default, 0.13 / 0.5 with `parking_lot_0_13`.
#[cfg(not(feature = "parking_lot_0_13"))]
extern crate lock_api as user_la;
#[cfg(feature = "parking_lot_0_13")]
extern crate lock_api_0_5 as user_la;
#[cfg(not(feature = "parking_lot_0_13"))]
extern crate parking_lot as user_pl;
#[cfg(feature = "parking_lot_0_13")]
extern crate parking_lot_0_13 as user_pl;

pub mod contention;
pub mod custom;
pub mod export;
pub mod lock_api;
#[cfg(feature = "once_cell")]
pub mod once_cell;
mod outdir;
pub mod parking_lot;
#[cfg(feature = "redis")]
mod process;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
pub mod report;
#[cfg(all(feature = "enabled", feature = "serde"))]
mod serde_impls;
mod settings;
pub mod sync;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
#[cfg(feature = "enabled")]
mod tracker;
pub mod watchdog;

pub use capture::{assert_clean, capture, Capture};
pub use report::{reports, set_backtraces, set_policy, Policy, Report, ReportKind};

/// A lock that can be put in a named class with [`named`]. Implemented by every lock type of
/// [`sync`], [`parking_lot`] and [`lock_api`], in both builds, and sealed: other crates cannot
/// implement it.
///
/// ```compile_fail
/// struct MyLock;
/// impl lockwatch::Trackable for MyLock {
///     fn set_class_name(&mut self, _name: &str) -> bool {
///         false
///     }
/// }
/// ```
pub trait Trackable: sealed::Sealed {
    #[doc(hidden)]
    fn set_class_name(&mut self, name: &str) -> bool;
}

/// Implemented by lockwatch's own lock types, each by name, so that no other crate can
/// implement [`Trackable`].
mod sealed {
    pub trait Sealed {}
}

/// Puts `lock` in the lock class `class` and returns it. Locks with one class name are one
/// class wherever they were created, and reports call them by that name.
///
/// Call it when creating the lock: once a lock has been used its class is fixed and this
/// changes nothing. Without the `enabled` feature it returns `lock` untouched.
///
/// A class lasts as long as the program (its name, its place in the order graph and its
/// edges are never freed): name roles, like `"account"`, not instances. A name made per
/// instance (`&format!("conn-{id}")`) costs about 440 bytes per instance with one order
/// edge, for good.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::Mutex;
///
/// struct Account {
///     balance: Mutex<i64>,
/// }
/// let alice = Account { balance: lockwatch::named(Mutex::new(100), "account") };
/// assert_eq!(*alice.balance.lock().unwrap(), 100);
/// ```
pub fn named<L: Trackable>(mut lock: L, class: &str) -> L {
    lock.set_class_name(class);
    lock
}

/// Switches tracking on or off at run time, in a build with the `enabled` feature.
///
/// Off, an acquisition costs one relaxed load and a branch over the plain lock, and nothing is
/// recorded: no order edges, no held locks for the watchdog, no contention samples, no atomic
/// stamps. The environment variable `LOCKWATCH` (`on`, the default, or `off`) sets the switch
/// at the first acquisition; this call overrides it. Call it before the program takes its first
/// lock: locks held while the switch flips are not seen by the other side (a lock taken while
/// off and released while on is simply not on the held stack; one taken while on is released
/// normally). Without the `enabled` feature it does nothing.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::Mutex;
///
/// lockwatch::set_enabled(false);
/// let (a, b) = (Mutex::new(()), Mutex::new(()));
/// {
///     let _a = a.lock().unwrap();
///     let _b = b.lock().unwrap();
/// }
/// {
///     let _b = b.lock().unwrap();
///     let _a = a.lock().unwrap(); // an inversion, but tracking is off
/// }
/// assert!(lockwatch::reports().is_empty());
/// assert!(!lockwatch::is_enabled());
/// lockwatch::set_enabled(true);
/// # #[cfg(feature = "enabled")]
/// assert!(lockwatch::is_enabled());
/// ```
pub fn set_enabled(on: bool) {
    #[cfg(feature = "enabled")]
    settings::set_tracking(on);
    #[cfg(not(feature = "enabled"))]
    let _ = on;
}

/// Whether acquisitions are tracked now: the `enabled` feature is on and the run-time switch
/// ([`set_enabled`], `LOCKWATCH`) says on.
///
/// # Examples
///
/// ```
/// if lockwatch::is_enabled() {
///     println!("lock order is being checked");
/// }
/// # #[cfg(not(feature = "enabled"))]
/// # assert!(!lockwatch::is_enabled());
/// ```
pub fn is_enabled() -> bool {
    #[cfg(feature = "enabled")]
    return settings::tracking();
    #[cfg(not(feature = "enabled"))]
    {
        settings::warn_if_set_while_disabled();
        false
    }
}

/// The size of the global lock-order graph (see [`graph_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GraphStats {
    /// Lock classes that take part in at least one order edge.
    pub class_nodes: usize,
    /// Order edges between classes (each of lockdep's four edge types counted apart).
    pub class_edges: usize,
    /// Live locks ordered against other locks of their own class.
    pub instance_nodes: usize,
    /// Order edges between locks of one class.
    pub instance_edges: usize,
}

/// The current size of the lock-order graph. Class edges last for the whole program (they are
/// bounded by its code); instance nodes and edges go away with their locks. Without the
/// `enabled` feature: all zero.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::Mutex;
///
/// let outer = Mutex::new(());
/// let inner = Mutex::new(());
/// let _o = outer.lock().unwrap();
/// let _i = inner.lock().unwrap();
/// # #[cfg(feature = "enabled")]
/// assert!(lockwatch::graph_stats().class_edges >= 1);
/// ```
pub fn graph_stats() -> GraphStats {
    #[cfg(feature = "enabled")]
    return tracker::graph_stats();
    #[cfg(not(feature = "enabled"))]
    GraphStats::default()
}

#[cfg(not(feature = "enabled"))]
mod untracked {
    macro_rules! untracked {
        ($([$($g:tt)*] $ty:ty),* $(,)?) => {$(
            impl<$($g)*> crate::sealed::Sealed for $ty {}

            impl<$($g)*> crate::Trackable for $ty {
                fn set_class_name(&mut self, _name: &str) -> bool {
                    false
                }
            }
        )*};
    }
    untracked!(
        [T] std::sync::Mutex<T>,
        [T] std::sync::RwLock<T>,
        [] std::sync::Once,
        [T] std::sync::OnceLock<T>,
        [T, F] std::sync::LazyLock<T, F>,
        [R: user_la::RawMutex, T] user_la::Mutex<R, T>,
        [R: user_la::RawRwLock, T] user_la::RwLock<R, T>,
        [R: user_la::RawMutex, G: user_la::GetThreadId, T] user_la::ReentrantMutex<R, G, T>,
    );
    #[cfg(feature = "tokio")]
    untracked!([T] ::tokio::sync::Mutex<T>, [T] ::tokio::sync::RwLock<T>);
    #[cfg(feature = "once_cell")]
    untracked!(
        [T] once_cell::sync::OnceCell<T>,
        [T, F] once_cell::sync::Lazy<T, F>,
    );
}

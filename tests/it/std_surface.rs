//! Everything stable in `std::sync` and `std::sync::atomic` is reachable through
//! `lockwatch::sync`, in both builds, and the deprecated initializers give lockwatch's types.
//!
//! The lists below are compiled: a missing item fails the build of this test. Where the
//! toolchain's own documentation is installed (rustup's `rust-docs` component), the last test
//! also reads std's item pages and fails on any item that is in neither list below, so a new
//! std release cannot add an item unnoticed.
#![allow(deprecated, unused_imports)]

use std::collections::BTreeSet;

// Every stable item of `std::sync`, through lockwatch.
use lockwatch::sync::{
    mpsc, Arc, Barrier, BarrierWaitResult, Condvar, LazyLock, LockResult, Mutex, MutexGuard, Once,
    OnceLock, OnceState, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError,
    TryLockResult, WaitTimeoutResult, Weak, ONCE_INIT,
};
// Every stable item of `std::sync::atomic`, through lockwatch.
use lockwatch::sync::atomic::{
    compiler_fence, fence, spin_loop_hint, AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8,
    AtomicIsize, AtomicPtr, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
    ATOMIC_BOOL_INIT, ATOMIC_ISIZE_INIT, ATOMIC_USIZE_INIT,
};

/// The items above by their rustdoc page names (`struct.Mutex.html` -> `Mutex`).
const SYNC: &[&str] = &[
    "mpsc",
    "Arc",
    "Barrier",
    "BarrierWaitResult",
    "Condvar",
    "LazyLock",
    "LockResult",
    "Mutex",
    "MutexGuard",
    "Once",
    "OnceLock",
    "OnceState",
    "PoisonError",
    "RwLock",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "TryLockError",
    "TryLockResult",
    "WaitTimeoutResult",
    "Weak",
    "ONCE_INIT",
];
const ATOMIC: &[&str] = &[
    "compiler_fence",
    "fence",
    "spin_loop_hint",
    "AtomicBool",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "AtomicI8",
    "AtomicIsize",
    "AtomicPtr",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicU8",
    "AtomicUsize",
    "Ordering",
    "ATOMIC_BOOL_INIT",
    "ATOMIC_ISIZE_INIT",
    "ATOMIC_USIZE_INIT",
];
/// Unstable in std (nightly only), so not part of the drop-in surface.
const UNSTABLE: &[&str] = &[
    "Exclusive",
    "MappedMutexGuard",
    "MappedRwLockReadGuard",
    "MappedRwLockWriteGuard",
    "ReentrantLock",
    "ReentrantLockGuard",
    "UniqueArc",
    "mpmc",
    "nonpoison",
    "oneshot",
    "poison",
    "AtomicPrimitive",
    "Atomic",
];

// rayon-core's docs, after the import swap: statics from the deprecated initializers.
static COUNT: AtomicUsize = ATOMIC_USIZE_INIT;
static FLAG: AtomicBool = ATOMIC_BOOL_INIT;
static LEVEL: AtomicIsize = ATOMIC_ISIZE_INIT;
static START: Once = ONCE_INIT;

#[test]
fn deprecated_initializers_make_lockwatch_types() {
    COUNT.fetch_add(2, Ordering::Relaxed);
    FLAG.store(true, Ordering::Relaxed);
    LEVEL.fetch_sub(1, Ordering::Relaxed);
    START.call_once(|| {});
    assert_eq!(COUNT.load(Ordering::Relaxed), 2);
    assert!(FLAG.load(Ordering::Relaxed));
    assert_eq!(LEVEL.load(Ordering::Relaxed), -1);
    assert!(START.is_completed());
    fence(Ordering::SeqCst);
    compiler_fence(Ordering::SeqCst);
    spin_loop_hint();
}

/// The item names of one std module's documentation folder.
fn documented(dir: &std::path::Path) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).ok()? {
        let name = entry.ok()?.file_name().to_string_lossy().into_owned();
        if let Some((kind, rest)) = name.split_once('.') {
            if let Some(item) = rest.strip_suffix(".html") {
                if ["struct", "enum", "type", "fn", "constant", "trait", "macro"].contains(&kind) {
                    names.insert(item.to_owned());
                }
            }
        } else if dir.join(&name).join("index.html").exists() {
            names.insert(name); // a submodule
        }
    }
    Some(names)
}

#[test]
fn nothing_stable_in_std_sync_is_missing() {
    let sysroot = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let Some(docs) = sysroot.map(|s| std::path::Path::new(&s).join("share/doc/rust/html/std/sync"))
    else {
        return;
    };
    let (Some(sync), Some(atomic)) = (documented(&docs), documented(&docs.join("atomic"))) else {
        eprintln!(
            "no rust-docs at {}: the compiled lists alone are checked",
            docs.display()
        );
        return;
    };
    let known: BTreeSet<&str> = SYNC.iter().chain(ATOMIC).chain(UNSTABLE).copied().collect();
    let missing: Vec<&String> = sync
        .iter()
        .filter(|n| *n != "atomic")
        .chain(&atomic)
        .filter(|n| !known.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "std::sync has items this test does not list (add them to lockwatch::sync and here): {missing:?}"
    );
    assert!(
        sync.contains("Mutex") && atomic.contains("AtomicUsize"),
        "the docs were read"
    );
}

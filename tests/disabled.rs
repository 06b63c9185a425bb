//! Without the `enabled` feature every path is the plain type, and every extra is a no-op.
#![cfg(not(feature = "enabled"))]

use std::any::TypeId;

// The parking_lot that `lockwatch::parking_lot` re-exports in this build.
#[cfg(feature = "parking_lot_0_13")]
use {lock_api_0_5 as lock_api, parking_lot_0_13 as parking_lot};

#[cfg(feature = "parking_lot_0_13")]
#[test]
fn parking_lot_0_13_recursive_rwlock_is_parking_lots() {
    assert_eq!(
        TypeId::of::<lockwatch::parking_lot::RecursiveRwLock<u8>>(),
        TypeId::of::<parking_lot::RecursiveRwLock<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::parking_lot::RecursiveRwLockReadGuard<'static, u8>>(),
        TypeId::of::<parking_lot::RecursiveRwLockReadGuard<'static, u8>>()
    );
}

#[test]
fn sync_paths_are_std_types() {
    assert_eq!(
        TypeId::of::<lockwatch::sync::Mutex<u8>>(),
        TypeId::of::<std::sync::Mutex<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::MutexGuard<'static, u8>>(),
        TypeId::of::<std::sync::MutexGuard<'static, u8>>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::RwLock<u8>>(),
        TypeId::of::<std::sync::RwLock<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::Condvar>(),
        TypeId::of::<std::sync::Condvar>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::Arc<u8>>(),
        TypeId::of::<std::sync::Arc<u8>>()
    );
}

#[test]
fn parking_lot_paths_are_parking_lot_types() {
    use lockwatch::parking_lot as lw;
    assert_eq!(
        TypeId::of::<lw::Mutex<u8>>(),
        TypeId::of::<parking_lot::Mutex<u8>>()
    );
    assert_eq!(
        TypeId::of::<lw::FairMutex<u8>>(),
        TypeId::of::<parking_lot::FairMutex<u8>>()
    );
    assert_eq!(
        TypeId::of::<lw::RwLock<u8>>(),
        TypeId::of::<parking_lot::RwLock<u8>>()
    );
    assert_eq!(
        TypeId::of::<lw::ReentrantMutex<u8>>(),
        TypeId::of::<parking_lot::ReentrantMutex<u8>>()
    );
    assert_eq!(
        TypeId::of::<lw::Condvar>(),
        TypeId::of::<parking_lot::Condvar>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::lock_api::Mutex<parking_lot::RawMutex, u8>>(),
        TypeId::of::<lock_api::Mutex<parking_lot::RawMutex, u8>>()
    );
}

#[test]
fn extras_exist_and_do_nothing() {
    let m = lockwatch::named(std::sync::Mutex::new(1), "anything");
    lockwatch::set_policy(lockwatch::Policy::Panic);
    lockwatch::set_backtraces(true);
    let a = std::sync::Mutex::new(());
    {
        let _m = m.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    {
        let _a = a.lock().unwrap();
        let _m = m.lock().unwrap(); // an inversion, but nothing is tracked
    }
    assert!(lockwatch::reports().is_empty());
    assert_eq!(lockwatch::graph_stats(), lockwatch::GraphStats::default());
    // `named` accepts every lock type in this build too.
    let _ = lockwatch::named(lockwatch::parking_lot::Mutex::new(0), "x");
    let _ = lockwatch::named(lockwatch::parking_lot::FairMutex::new(0), "x");
    let _ = lockwatch::named(lockwatch::parking_lot::RwLock::new(0), "x");
    let _ = lockwatch::named(lockwatch::parking_lot::ReentrantMutex::new(0), "x");
    let _ = lockwatch::named(lockwatch::sync::RwLock::new(0), "x");
    let _ = lockwatch::named(lockwatch::sync::OnceLock::<u8>::new(), "x");
    assert!(lockwatch::contention::folded().is_empty());
    assert!(lockwatch::export::graph_dot().starts_with("digraph"));
    assert_eq!(
        lockwatch::watchdog::stats(),
        lockwatch::watchdog::WatchdogStats::default()
    );
}

#[test]
fn atomics_and_lazy_cells_are_std_types() {
    use lockwatch::sync::atomic as lw_atomic;
    use std::sync::atomic as std_atomic;
    assert_eq!(
        TypeId::of::<lw_atomic::AtomicU64>(),
        TypeId::of::<std_atomic::AtomicU64>()
    );
    assert_eq!(
        TypeId::of::<lw_atomic::AtomicBool>(),
        TypeId::of::<std_atomic::AtomicBool>()
    );
    assert_eq!(
        TypeId::of::<lw_atomic::AtomicPtr<u8>>(),
        TypeId::of::<std_atomic::AtomicPtr<u8>>()
    );
    assert_eq!(
        TypeId::of::<lw_atomic::Ordering>(),
        TypeId::of::<std_atomic::Ordering>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::Once>(),
        TypeId::of::<std::sync::Once>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::OnceLock<u8>>(),
        TypeId::of::<std::sync::OnceLock<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::sync::LazyLock<u8>>(),
        TypeId::of::<std::sync::LazyLock<u8>>()
    );
}

#[test]
fn custom_locks_cost_nothing() {
    use lockwatch::custom::{CustomGuard, CustomLock};
    assert_eq!(std::mem::size_of::<CustomLock>(), 0);
    assert_eq!(std::mem::size_of::<CustomGuard<'static>>(), 0);
    let lock = CustomLock::new("disabled-custom");
    let waiting = lock.before_wait();
    waiting.held_by("process `x` (pid 1 on h), thread `t`, at a.rs:1:1");
    drop(waiting.acquired());
    drop(lock.acquired_without_waiting());
    assert!(lockwatch::reports().is_empty());
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_paths_are_tokio_types() {
    use std::any::TypeId as T;
    assert_eq!(
        T::of::<lockwatch::tokio::Mutex<u8>>(),
        T::of::<tokio::sync::Mutex<u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::MutexGuard<'static, u8>>(),
        T::of::<tokio::sync::MutexGuard<'static, u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::OwnedMutexGuard<u8>>(),
        T::of::<tokio::sync::OwnedMutexGuard<u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::MappedMutexGuard<'static, u8>>(),
        T::of::<tokio::sync::MappedMutexGuard<'static, u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::OwnedMappedMutexGuard<u8, u16>>(),
        T::of::<tokio::sync::OwnedMappedMutexGuard<u8, u16>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::RwLock<u8>>(),
        T::of::<tokio::sync::RwLock<u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::RwLockReadGuard<'static, u8>>(),
        T::of::<tokio::sync::RwLockReadGuard<'static, u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::RwLockWriteGuard<'static, u8>>(),
        T::of::<tokio::sync::RwLockWriteGuard<'static, u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::RwLockMappedWriteGuard<'static, u8>>(),
        T::of::<tokio::sync::RwLockMappedWriteGuard<'static, u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::OwnedRwLockReadGuard<u8, u16>>(),
        T::of::<tokio::sync::OwnedRwLockReadGuard<u8, u16>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::OwnedRwLockWriteGuard<u8>>(),
        T::of::<tokio::sync::OwnedRwLockWriteGuard<u8>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::OwnedRwLockMappedWriteGuard<u8, u16>>(),
        T::of::<tokio::sync::OwnedRwLockMappedWriteGuard<u8, u16>>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::TryLockError>(),
        T::of::<tokio::sync::TryLockError>()
    );
    // The rest of `tokio::sync` comes along in both builds.
    assert_eq!(
        T::of::<lockwatch::tokio::Semaphore>(),
        T::of::<tokio::sync::Semaphore>()
    );
    assert_eq!(
        T::of::<lockwatch::tokio::Notify>(),
        T::of::<tokio::sync::Notify>()
    );
    // `named` still compiles on them, and does nothing.
    let m = lockwatch::named(lockwatch::tokio::Mutex::new(1), "disabled-tokio");
    assert_eq!(*m.blocking_lock(), 1);
}

#[cfg(feature = "once_cell")]
#[test]
fn once_cell_paths_are_once_cell_types() {
    assert_eq!(
        TypeId::of::<lockwatch::once_cell::sync::OnceCell<u8>>(),
        TypeId::of::<once_cell::sync::OnceCell<u8>>()
    );
    assert_eq!(
        TypeId::of::<lockwatch::once_cell::sync::Lazy<u8>>(),
        TypeId::of::<once_cell::sync::Lazy<u8>>()
    );
}

/// Runs this binary's test `name` as a child with `env`, returning its stderr.
fn child_stderr(name: &str, env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env("LOCKWATCH_CHILD", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn child_uses_lockwatch_functions() {
    if std::env::var_os("LOCKWATCH_CHILD").is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lockwatch-off-{}", std::process::id()));
    assert!(lockwatch::reports().is_empty());
    lockwatch::contention::write_flamegraph(dir.join("w.svg")).unwrap();
    let ((), reports) = lockwatch::capture(|| ());
    assert!(reports.is_empty());
    let svg = std::fs::read_to_string(dir.join("w.svg")).unwrap();
    assert!(
        svg.contains("without lockwatch's `enabled` feature"),
        "{svg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn lockwatch_dir_in_a_disabled_build_is_said_once() {
    if std::env::var_os("LOCKWATCH_CHILD").is_some() {
        return;
    }
    let err = child_stderr(
        "child_uses_lockwatch_functions",
        &[("LOCKWATCH_DIR", "/tmp/lockwatch-never-written")],
    );
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("lockwatch:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("LOCKWATCH_DIR is set") && lines[0].contains("`enabled`"));
    assert!(!std::path::Path::new("/tmp/lockwatch-never-written").exists());
    let quiet = child_stderr("child_uses_lockwatch_functions", &[]);
    assert!(!quiet.contains("lockwatch:"), "{quiet}");
}

#[cfg(feature = "arc_lock")]
#[test]
fn arc_guards_are_parking_lots() {
    use lockwatch::parking_lot as lw;
    assert_eq!(
        TypeId::of::<lw::ArcMutexGuard<lw::RawMutex, u8>>(),
        TypeId::of::<parking_lot::ArcMutexGuard<parking_lot::RawMutex, u8>>()
    );
    assert_eq!(
        TypeId::of::<lw::ArcRwLockWriteGuard<lw::RawRwLock, u8>>(),
        TypeId::of::<parking_lot::ArcRwLockWriteGuard<parking_lot::RawRwLock, u8>>()
    );
    let m = std::sync::Arc::new(lw::Mutex::new(1));
    assert_eq!(*m.lock_arc(), 1);
}

#[cfg(feature = "serde")]
#[test]
fn the_serde_feature_is_parking_lots_and_std_has_its_own() {
    let m = lockwatch::parking_lot::Mutex::new(vec![1, 2]);
    assert_eq!(serde_json::to_string(&m).unwrap(), "[1,2]");
    let s: lockwatch::sync::RwLock<u8> = serde_json::from_str("7").unwrap();
    assert_eq!(*s.read().unwrap(), 7);
}

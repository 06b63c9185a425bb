//! `lockwatch::tokio` on a real multi-thread runtime: lock order across tasks, self-deadlocks
//! before they hang, recursive reads of tokio's fair `RwLock`, tasks actually deadlocked and
//! guards held across slow awaits (reported while they happen), the one graph shared with
//! std locks, and the quiet cases (many tasks in one order, owned guards dropped elsewhere).
//! Its own binary: it turns the watchdog's thresholds down and leaves hung tasks behind.
#![cfg(all(feature = "enabled", feature = "tokio"))]

use std::sync::Arc;
use std::time::Duration;

use lockwatch::report::{Doing, Finding};
use lockwatch::tokio::{Mutex, OwnedMutexGuard, RwLock};
use lockwatch::{named, ReportKind};
mod common;

use common::{assert_quiet, assert_reported, reports_about, wait_for_report};

fn runtime() -> tokio::runtime::Runtime {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(300));
    lockwatch::watchdog::set_long_wait(Duration::from_millis(300));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap()
}

/// Task one takes `a` then `b`; later task two takes `b` then `a`. Neither hangs (they run at
/// different times), and the inversion is reported, naming both tasks' sites.
#[test]
fn abba_across_two_tasks_at_different_times() {
    let rt = runtime();
    let a = Arc::new(named(Mutex::new(0), "tk-abba-a"));
    let b = Arc::new(named(Mutex::new(0), "tk-abba-b"));
    let (a1, b1) = (Arc::clone(&a), Arc::clone(&b));
    let first = line!() + 2;
    rt.block_on(rt.spawn(async move {
        let _a = a1.lock().await;
        tokio::task::yield_now().await;
        let _b = b1.lock().await;
    }))
    .unwrap();
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let second = line!() + 2;
    rt.block_on(rt.spawn(async move {
        let _b = b2.lock().await;
        tokio::task::yield_now().await;
        let _a = a2.lock().await;
    }))
    .unwrap();
    let report = assert_reported(
        ReportKind::LockOrder,
        &["tk-abba-a", "tk-abba-b"],
        &[
            &format!("tokio_locks.rs:{first}"),
            &format!("tokio_locks.rs:{second}"),
        ],
    );
    let text = report.to_string();
    assert!(
        text.contains("in task "),
        "the report names the tasks:\n{text}"
    );
    assert!(!text.contains("thread `task"), "{text}");
}

/// A task that awaits a mutex it already holds is reported before it waits (the wait itself
/// never ends: the test gives up on it with a timeout, which also cancels the wait).
#[test]
fn a_task_relocking_its_mutex_is_reported_before_it_waits() {
    let rt = runtime();
    let m = Arc::new(named(Mutex::new(0), "tk-relock"));
    let relocked = rt.block_on(rt.spawn(async move {
        let _held = m.lock().await;
        tokio::time::timeout(Duration::from_millis(50), m.lock())
            .await
            .is_ok()
    }));
    assert!(!relocked.unwrap(), "the second lock cannot succeed");
    let report = assert_reported(ReportKind::LockOrder, &["tk-relock"], &["tokio_locks.rs:"]);
    let Finding::SelfDeadlock { thread, .. } = report.finding() else {
        panic!("not a self-deadlock: {report}");
    };
    assert!(thread.starts_with("task "), "{thread}");
}

/// Tokio's `RwLock` is fair: a second `read().await` in a task that holds a read waits behind
/// any writer that queued in between. It is reported even though no writer came this time.
#[test]
fn a_second_read_in_one_task_is_reported() {
    let rt = runtime();
    let lock = Arc::new(named(RwLock::new(0), "tk-reread"));
    rt.block_on(rt.spawn(async move {
        let _first = lock.read().await;
        let _second = lock.read().await;
    }))
    .unwrap();
    let report = assert_reported(ReportKind::LockOrder, &["tk-reread"], &["tokio_locks.rs:"]);
    assert!(
        report.to_string().contains("a writer queued in between"),
        "{report}"
    );
}

/// Two tasks, each holding one mutex and awaiting the other's: a real deadlock, reported
/// while they hang, naming both tasks and their sites.
#[test]
fn two_tasks_deadlocked_are_reported_while_hung() {
    let rt = runtime();
    let a = Arc::new(named(Mutex::new(0), "tk-dead-a"));
    let b = Arc::new(named(Mutex::new(0), "tk-dead-b"));
    let both = Arc::new(tokio::sync::Barrier::new(2));
    for (first, second) in [(Arc::clone(&a), Arc::clone(&b)), (b, a)] {
        let both = Arc::clone(&both);
        rt.spawn(async move {
            let _first = first.lock().await;
            both.wait().await;
            let _second = second.lock().await;
        });
    }
    let report = wait_for_report(ReportKind::Deadlock, &["tk-dead-a", "tk-dead-b"]);
    let Finding::Deadlock { threads, .. } = report.finding() else {
        panic!("{report}");
    };
    assert_eq!(threads.len(), 2, "{report}");
    assert!(
        threads.iter().all(|t| t.thread.starts_with("task ")),
        "{report}"
    );
    rt.shutdown_background();
}

/// A guard held across a slow `.await` is a long hold, reported while it lasts, naming the
/// task and the site, with the fix for async code.
#[test]
fn a_guard_held_across_a_slow_await_is_a_long_hold() {
    let rt = runtime();
    let m = Arc::new(named(Mutex::new(0), "tk-slow"));
    let site = line!() + 2;
    rt.block_on(rt.spawn(async move {
        let _guard = m.lock().await;
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }))
    .unwrap();
    let report = assert_reported(
        ReportKind::LongHold,
        &["tk-slow"],
        &[&format!("tokio_locks.rs:{site}")],
    );
    let Finding::LongHold { thread, doing, .. } = report.finding() else {
        panic!("{report}");
    };
    assert!(thread.starts_with("task "), "{thread}");
    assert_eq!(*doing, Doing::TaskNotWaiting, "{report}");
    assert!(report.to_string().contains("`.await`"), "{report}");
}

/// A task waiting longer than the threshold is a long wait naming the task that holds the
/// lock; the wait shows in the contention profile under its site.
#[test]
fn a_long_wait_names_the_holding_task() {
    let rt = runtime();
    let m = Arc::new(named(Mutex::new(0), "tk-wait"));
    let held = Arc::new(tokio::sync::Notify::new());
    let holder = {
        let (m, held) = (Arc::clone(&m), Arc::clone(&held));
        rt.spawn(async move {
            let _guard = m.lock().await;
            held.notify_one();
            tokio::time::sleep(Duration::from_millis(1200)).await;
        })
    };
    let wait_site = line!() + 5;
    let waiter = {
        let m = Arc::clone(&m);
        rt.spawn(async move {
            held.notified().await;
            *m.lock().await += 1;
        })
    };
    rt.block_on(async {
        holder.await.unwrap();
        waiter.await.unwrap();
    });
    let report = assert_reported(
        ReportKind::LongWait,
        &["tk-wait"],
        &[&format!("tokio_locks.rs:{wait_site}")],
    );
    let Finding::LongWait { holders, .. } = report.finding() else {
        panic!("{report}");
    };
    assert_eq!(holders.len(), 1, "{report}");
    assert!(holders[0].thread.starts_with("task "), "{report}");
    let folded = lockwatch::contention::folded();
    assert!(
        folded.lines().any(
            |l| l.contains(&format!("[await] tests/tokio_locks.rs:{wait_site}"))
                && l.contains("tk-wait")
        ),
        "{folded}"
    );
}

/// One graph: a thread holding a std mutex `blocking_lock`s a tokio mutex; a task takes the
/// tokio mutex, then the std mutex. An inversion across the two kinds of lock.
#[test]
fn a_std_and_tokio_inversion_is_one_cycle() {
    let rt = runtime();
    let std_lock = Arc::new(named(lockwatch::sync::Mutex::new(0), "tk-mixed-std"));
    let tokio_lock = Arc::new(named(Mutex::new(0), "tk-mixed-tokio"));
    {
        let (std_lock, tokio_lock) = (Arc::clone(&std_lock), Arc::clone(&tokio_lock));
        std::thread::spawn(move || {
            let _s = std_lock.lock().unwrap();
            let _t = tokio_lock.blocking_lock();
        })
        .join()
        .unwrap();
    }
    rt.block_on(rt.spawn(async move {
        let _t = tokio_lock.lock().await;
        tokio::task::yield_now().await;
        let _s = std_lock.lock().unwrap();
    }))
    .unwrap();
    assert_reported(
        ReportKind::LockOrder,
        &["tk-mixed-std", "tk-mixed-tokio"],
        &["tokio_locks.rs:"],
    );
}

/// The other way round: a task holds a std guard within one poll and awaits a tokio lock
/// (its thread's holds count), while a plain thread takes them in the opposite order.
#[test]
fn a_std_guard_held_in_a_poll_orders_the_tokio_lock_after_it() {
    let rt = runtime();
    let std_lock = Arc::new(named(lockwatch::sync::Mutex::new(0), "tk-poll-std"));
    let tokio_lock = Arc::new(named(Mutex::new(0), "tk-poll-tokio"));
    {
        let (std_lock, tokio_lock) = (Arc::clone(&std_lock), Arc::clone(&tokio_lock));
        // A std guard cannot cross an `.await` in a `Send` task: a local one.
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            tokio::task::spawn_local(async move {
                let _s = std_lock.lock().unwrap();
                let _t = tokio_lock.lock().await;
            })
            .await
            .unwrap();
        });
    }
    std::thread::spawn(move || {
        let _t = tokio_lock.blocking_lock();
        let _s = std_lock.lock().unwrap();
    })
    .join()
    .unwrap();
    assert_reported(
        ReportKind::LockOrder,
        &["tk-poll-std", "tk-poll-tokio"],
        &["tokio_locks.rs:"],
    );
}

/// A task holding a parking_lot upgradable guard takes a tokio lock, then upgrades: the
/// upgrade waits for the parking_lot lock's readers while the task holds the tokio lock, an
/// order against the one the task took them in. (Found by the differential test: the upgrade
/// looked only at the thread's locks, and missed the task's.)
#[test]
fn an_upgrade_in_a_task_orders_the_tokio_locks_the_task_holds() {
    use lockwatch::parking_lot::{RwLock as PlRwLock, RwLockUpgradableReadGuard};
    let rt = runtime();
    let pl = Arc::new(named(PlRwLock::new(0), "tk-upg-pl"));
    let tokio_lock = Arc::new(named(Mutex::new(0), "tk-upg-tokio"));
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        tokio::task::spawn_local(async move {
            let upgradable = pl.upgradable_read();
            let _t = tokio_lock.lock().await;
            let _w = RwLockUpgradableReadGuard::upgrade(upgradable);
        })
        .await
        .unwrap();
    });
    assert_reported(
        ReportKind::LockOrder,
        &["tk-upg-pl", "tk-upg-tokio"],
        &["tokio_locks.rs:"],
    );
}

/// Sixteen tasks on four workers, each holding two guards in one order across hundreds of
/// yields (moving between workers as they go): no report.
#[test]
fn many_tasks_in_one_order_across_yields_are_quiet() {
    let rt = runtime();
    let outer = Arc::new(named(Mutex::new(0u64), "tk-many-outer"));
    let inner = Arc::new(named(RwLock::new(0u64), "tk-many-inner"));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (outer, inner) = (Arc::clone(&outer), Arc::clone(&inner));
            rt.spawn(async move {
                for round in 0..300u64 {
                    let mut o = outer.lock().await;
                    tokio::task::yield_now().await;
                    if (i + round) % 3 == 0 {
                        *inner.write().await += 1;
                    } else {
                        let _r = inner.read().await;
                    }
                    tokio::task::yield_now().await;
                    *o += 1;
                }
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(rt.block_on(outer.lock()).to_owned(), 16 * 300);
    assert_quiet(&["tk-many-outer", "tk-many-inner"]);
}

/// An owned guard taken by one task and dropped by another leaves nothing behind: the first
/// task can lock the mutex again (no self-deadlock from a stale entry), no long hold.
#[test]
fn owned_guards_dropped_on_another_task_are_quiet() {
    let rt = runtime();
    let m = Arc::new(named(Mutex::new(0), "tk-owned"));
    let other = named(Mutex::new(0), "tk-owned-other");
    rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel::<OwnedMutexGuard<i32>>();
        let dropper = tokio::spawn(async move {
            let mut guard = rx.await.unwrap();
            *guard += 1;
            tokio::task::yield_now().await;
            drop(guard);
        });
        let m2 = Arc::clone(&m);
        tokio::spawn(async move {
            let guard = m2.clone().lock_owned().await;
            tx.send(guard).unwrap();
            dropper.await.unwrap();
            // Longer than the hold threshold, without a lock operation of its own: the
            // watchdog must not see the guard dropped elsewhere as still held.
            tokio::time::sleep(Duration::from_millis(700)).await;
            // The guard is gone: locking again is fine, and so is nesting under it.
            let _again = m2.lock().await;
            let _other = other.lock().await;
        })
        .await
        .unwrap();
    });
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(*rt.block_on(m.lock()), 1);
    assert_quiet(&["tk-owned", "tk-owned-other"]);
}

/// Trylock rules in tasks: a successful `try_lock` orders what comes after it but no edge goes
/// into it (`T0 L1` / `L1 T0`, quiet), while a blocking lock under a held try is ordered
/// (`T2 L3` / `L3 L2`, reported).
#[test]
fn trylocks_in_tasks_follow_the_trylock_rules() {
    let rt = runtime();
    let l = |name| Arc::new(named(Mutex::new(0), name));
    let (t0, l1, t2, l3) = (l("tk-try-0"), l("tk-try-1"), l("tk-try-2"), l("tk-try-3"));
    rt.block_on(rt.spawn(async move {
        {
            let _a = t0.try_lock().unwrap();
            let _b = l1.lock().await;
        }
        {
            let _b = l1.lock().await;
            let _a = t0.try_lock().unwrap();
        }
        {
            let _a = t2.try_lock().unwrap();
            let _b = l3.lock().await;
        }
        {
            let _b = l3.lock().await;
            let _a = t2.lock().await;
        }
    }))
    .unwrap();
    assert_quiet(&["tk-try-0", "tk-try-1"]);
    assert_reported(
        ReportKind::LockOrder,
        &["tk-try-2", "tk-try-3"],
        &["tokio_locks.rs:"],
    );
}

/// Write guards downgraded and mapped keep their hold: a read taken under a downgraded guard
/// of the same lock is a recursive read (reported), and a guard mapped then dropped releases.
#[test]
fn downgrades_and_maps_keep_the_hold() {
    let rt = runtime();
    let lock = Arc::new(named(RwLock::new((1, 2)), "tk-downgrade"));
    let mapped = Arc::new(named(Mutex::new((1, 2)), "tk-mapped"));
    rt.block_on(rt.spawn(async move {
        let read = lock.write().await.downgrade();
        assert_eq!(read.0, 1);
        let _again = lock.read().await;
        drop(read);
        let half = lockwatch::tokio::MutexGuard::map(mapped.lock().await, |p| &mut p.1);
        assert_eq!(*half, 2);
        drop(half);
        let _whole = mapped.lock().await;
    }))
    .unwrap();
    let report = assert_reported(
        ReportKind::LockOrder,
        &["tk-downgrade"],
        &["tokio_locks.rs:"],
    );
    assert!(
        report.to_string().contains("a writer queued in between"),
        "{report}"
    );
    assert!(reports_about(&["tk-mapped"]).is_empty());
}

/// A guard taken in a task and dropped on a plain thread (outside any task) is released;
/// thousands of short tasks, each locking once on four workers, stay quiet.
#[test]
fn guards_dropped_outside_any_task_and_many_short_tasks() {
    let rt = runtime();
    let m = Arc::new(named(Mutex::new(0u64), "tk-short"));
    let guard = rt
        .block_on(rt.spawn({
            let m = Arc::clone(&m);
            async move { m.lock_owned().await }
        }))
        .unwrap();
    std::thread::spawn(move || drop(guard)).join().unwrap();
    let tasks: Vec<_> = (0..5_000)
        .map(|_| {
            let m = Arc::clone(&m);
            rt.spawn(async move {
                *m.lock().await += 1;
                tokio::task::yield_now().await;
            })
        })
        .collect();
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(*rt.block_on(m.lock()), 5_000);
    assert_quiet(&["tk-short"]);
}

//! `LOCKWATCH=off` and `lockwatch::set_enabled`: tracking off at run time in an `enabled`
//! build. Its own binary: the switch is process-wide.
#![cfg(feature = "enabled")]

use std::process::Command;

use lockwatch::named;
use lockwatch::sync::Mutex;

fn in_child() -> bool {
    std::env::var_os("LOCKWATCH_CHILD").is_some()
}

fn run_child(name: &str, lockwatch: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env("LOCKWATCH_CHILD", "1")
        .env("LOCKWATCH", lockwatch)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "LOCKWATCH={lockwatch}: {stderr}");
    stderr
}

/// An inversion, a contended lock and a lost-update shape; returns the report count.
fn everything(tag: &str) -> usize {
    let a = named(Mutex::new(()), &format!("{tag}-a"));
    let b = named(Mutex::new(()), &format!("{tag}-b"));
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    lockwatch::reports().len()
}

#[test]
fn child_with_the_env_switch() {
    if !in_child() {
        return;
    }
    let expect_on = std::env::var("EXPECT_ON").is_ok();
    assert_eq!(lockwatch::is_enabled(), expect_on);
    assert_eq!(everything("env"), usize::from(expect_on));
    if !expect_on {
        assert_eq!(lockwatch::graph_stats(), lockwatch::GraphStats::default());
        assert_eq!(
            lockwatch::watchdog::stats().threads,
            0,
            "no thread state at all"
        );
    }
}

#[test]
fn lockwatch_off_records_nothing_and_bad_values_warn_once() {
    if in_child() {
        return;
    }
    let off = Command::new(std::env::current_exe().unwrap())
        .args(["child_with_the_env_switch", "--exact", "--nocapture"])
        .env("LOCKWATCH_CHILD", "1")
        .env("LOCKWATCH", "off")
        .output()
        .unwrap();
    assert!(off.status.success(), "{off:?}");
    assert!(!String::from_utf8_lossy(&off.stderr).contains("lockwatch"));
    for value in ["on", ""] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["child_with_the_env_switch", "--exact", "--nocapture"])
            .env("LOCKWATCH_CHILD", "1")
            .env("EXPECT_ON", "1")
            .env("LOCKWATCH", value)
            .output()
            .unwrap();
        assert!(out.status.success(), "LOCKWATCH={value:?}: {out:?}");
    }
    let bad = Command::new(std::env::current_exe().unwrap())
        .args(["child_with_the_env_switch", "--exact", "--nocapture"])
        .env("LOCKWATCH_CHILD", "1")
        .env("EXPECT_ON", "1")
        .env("LOCKWATCH", "maybe")
        .output()
        .unwrap();
    assert!(bad.status.success(), "{bad:?}");
    let err = String::from_utf8_lossy(&bad.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("LOCKWATCH=")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("\"maybe\"") && warnings[0].contains("on or off"));
}

#[test]
fn child_switches_while_holding() {
    if !in_child() {
        return;
    }
    let a = named(Mutex::new(()), "switch-a");
    let b = named(Mutex::new(()), "switch-b");
    // Taken while on, released while off: released normally.
    lockwatch::set_enabled(true);
    let held_on = a.lock().unwrap();
    lockwatch::set_enabled(false);
    drop(held_on);
    // Taken while off, released while on: never on the stack, so it orders nothing.
    let held_off = b.lock().unwrap();
    lockwatch::set_enabled(true);
    {
        let _a = a.lock().unwrap(); // b is not seen as held: no b -> a edge
    }
    drop(held_off);
    assert!(lockwatch::reports().is_empty());
    assert_eq!(lockwatch::graph_stats().class_edges, 0);
    // The stack is consistent afterwards: a real inversion is still found.
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    assert_eq!(lockwatch::reports().len(), 1);
}

#[test]
fn switching_while_locks_are_held_leaves_no_stale_entry() {
    if !in_child() {
        run_child("child_switches_while_holding", "on");
    }
}

//! Settings read from the environment, checked in child processes of this test binary: bad
//! values, and aborting on a deadlock.
#![cfg(feature = "enabled")]

use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// Runs the test `name` of this binary in a child process with `env`.
fn child(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"]);
    cmd.env("LOCKWATCH_CHILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn in_child() -> bool {
    std::env::var_os("LOCKWATCH_CHILD").is_some()
}

#[test]
fn child_hold_briefly() {
    if !in_child() {
        return;
    }
    let m = lockwatch::sync::Mutex::new(());
    let _g = m.lock().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(_g);
    // With the 1000 ms default, a 300 ms hold is not long.
    assert!(
        lockwatch::reports().is_empty(),
        "{:?}",
        lockwatch::reports()
    );
}

#[test]
fn bad_settings_warn_once_and_fall_back_to_defaults() {
    if in_child() {
        return;
    }
    let out = child(
        "child_hold_briefly",
        &[
            ("LOCKWATCH_LONG_HOLD_MS", "soon"),
            ("LOCKWATCH_LONG_WAIT_MS", "0"),
            ("LOCKWATCH_ON_DEADLOCK", "explode"),
            ("LOCKWATCH_POLICY", "loud"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stderr}");
    for var in [
        "LOCKWATCH_LONG_HOLD_MS",
        "LOCKWATCH_LONG_WAIT_MS",
        "LOCKWATCH_ON_DEADLOCK",
    ] {
        assert_eq!(
            stderr.matches(&format!("ignoring {var}=")).count(),
            1,
            "{stderr}"
        );
    }
}

#[test]
fn child_deadlock() {
    if !in_child() {
        return;
    }
    let a = Arc::new(lockwatch::sync::Mutex::new(()));
    let b = Arc::new(lockwatch::sync::Mutex::new(()));
    let both = Arc::new(Barrier::new(2));
    let (a1, b1, both1) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both));
    std::thread::spawn(move || {
        let _a = a1.lock().unwrap();
        both1.wait();
        let _b = b1.lock().unwrap();
    });
    let _b = b.lock().unwrap();
    both.wait();
    let _a = a.lock().unwrap(); // never returns: the watchdog aborts the process
    unreachable!("the deadlock should have aborted the process");
}

#[test]
fn on_deadlock_abort_ends_the_process_after_reporting() {
    if in_child() {
        return;
    }
    let out = child("child_deadlock", &[("LOCKWATCH_ON_DEADLOCK", "abort")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the child should have aborted:\n{stderr}"
    );
    assert!(
        stderr.contains("deadlock: 2 threads are blocked in a cycle"),
        "{stderr}"
    );
    assert!(stderr.contains("aborting on deadlock"), "{stderr}");
}

//! `LOCKWATCH_DIR` through every way a process ends: a normal exit after the program rendered
//! a flame graph itself, `LOCKWATCH_ON_DEADLOCK=abort`, a `Policy::Panic` panic followed by an
//! abort, a test that panics, `process::exit` from another thread while the watchdog writes,
//! and `abort()` from user code. Each scenario runs in a child process (this binary, one test,
//! `LOCKWATCH_CHILD` set); the parent checks that every file is there, whole and parseable.
#![cfg(feature = "enabled")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lockwatch::sync::Mutex;

fn in_child() -> bool {
    std::env::var_os("LOCKWATCH_CHILD").is_some()
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockwatch-exit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs this binary's test `name` as a child writing below `dir`.
fn run_child(name: &str, dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--test-threads=1"]);
    if name != "child_deadlocks" {
        // That child runs with the harness capturing its output, as `cargo test` does: the
        // watchdog's report must reach stderr all the same.
        cmd.arg("--nocapture");
    }
    cmd.env("LOCKWATCH_CHILD", "1")
        .env("LOCKWATCH_DIR", dir)
        .env_remove("LOCKWATCH_ON_DEADLOCK")
        .env_remove("LOCKWATCH_POLICY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The process folders below `dir`.
fn process_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The one process folder below `dir`, named after this test binary and a pid.
fn the_process_dir(dir: &Path) -> PathBuf {
    let dirs = process_dirs(dir);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let name = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
    let (program, pid) = name.rsplit_once('-').unwrap();
    assert!(program.starts_with("exit_paths"), "{name}");
    assert!(pid.parse::<u32>().is_ok(), "{name}");
    dirs[0].clone()
}

/// Every report line parses as JSON with the schema's fields; returns the kinds in order.
fn report_kinds(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("reports.jsonl")).expect("reports.jsonl");
    assert!(text.ends_with('\n'), "a torn last line: {text:?}");
    let mut kinds = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["schema"], 1, "{line}");
        assert!(v["seq"].as_u64().is_some_and(|n| n >= 1), "{line}");
        if let Some(kind) = v["kind"].as_str() {
            assert!(v["text"].as_str().is_some_and(|t| !t.is_empty()), "{line}");
            assert!(
                v["thread"].is_string() && v["summary"].is_string(),
                "{line}"
            );
            kinds.push(kind.to_owned());
        } else {
            assert!(v["outcome"].is_string(), "an outcome line: {line}");
        }
    }
    kinds
}

/// The data files are whole: folded lines are `stack count`, the graph is a closed digraph,
/// and no temporary file is left beside them.
fn assert_data_files_whole(dir: &Path) {
    for name in ["waiters.folded", "blame.folded", "cas-retries.folded"] {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        for line in text.lines() {
            let (stack, count) = line.rsplit_once(' ').expect("stack count");
            assert!(
                !stack.is_empty() && count.parse::<u64>().is_ok(),
                "{name}: {line}"
            );
        }
    }
    let dot = std::fs::read_to_string(dir.join("lock-graph.dot")).unwrap();
    assert!(
        dot.starts_with("digraph lock_order {") && dot.ends_with("}\n"),
        "{dot}"
    );
}

/// Two threads take turns on one mutex until something waited: a non-empty profile.
fn contend() {
    lockwatch::contention::set_sample_rate(Duration::ZERO);
    let m = Arc::new(lockwatch::named(Mutex::new(0u64), "exit-contended"));
    while lockwatch::contention::folded().is_empty() {
        let start = Arc::new(Barrier::new(2));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (m, start) = (Arc::clone(&m), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    for _ in 0..2_000 {
                        *m.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    }
}

/// One lock-order report, about classes named `tag-a`, `tag-b`.
fn inversion(tag: &str) {
    let a = lockwatch::named(Mutex::new(()), &format!("{tag}-a"));
    let b = lockwatch::named(Mutex::new(()), &format!("{tag}-b"));
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let _b = b.lock().unwrap();
    let _a = a.lock().unwrap();
}

#[test]
fn child_renders_a_flame_graph_then_exits() {
    if !in_child() {
        return;
    }
    contend();
    inversion("render");
    // As the README and the bank demo do: the program renders on its main thread. The
    // exit-time write must not touch the thread-locals this left behind.
    let svg = std::env::temp_dir().join(format!("lockwatch-exit-{}.svg", std::process::id()));
    lockwatch::contention::write_flamegraph(&svg).unwrap();
    std::fs::remove_file(svg).unwrap();
}

#[test]
fn exit_after_rendering_a_flame_graph_writes_everything() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("render");
    let out = run_child("child_renders_a_flame_graph_then_exits", &dir, &[]);
    assert!(out.status.success(), "{:?}\n{}", out.status, stderr(&out));
    let proc_dir = the_process_dir(&dir);
    assert_eq!(report_kinds(&proc_dir), ["LockOrder"]);
    assert_data_files_whole(&proc_dir);
    let waiters = std::fs::read_to_string(proc_dir.join("waiters.folded")).unwrap();
    assert!(waiters.contains("exit-contended"), "{waiters}");
    let dot = std::fs::read_to_string(proc_dir.join("lock-graph.dot")).unwrap();
    assert!(
        dot.contains("render-a") && dot.contains("render-b"),
        "{dot}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_deadlocks() {
    if !in_child() {
        return;
    }
    let a = Arc::new(lockwatch::named(Mutex::new(()), "abort-a"));
    let b = Arc::new(lockwatch::named(Mutex::new(()), "abort-b"));
    let both = Arc::new(Barrier::new(2));
    let other = {
        let (a, b, both) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&both));
        thread::spawn(move || {
            let _b = b.lock().unwrap();
            both.wait();
            let _a = a.lock().unwrap();
        })
    };
    let _a = a.lock().unwrap();
    both.wait();
    let _b = b.lock().unwrap();
    other.join().unwrap();
    unreachable!("the watchdog aborts the process");
}

#[test]
fn abort_on_deadlock_writes_the_reports_and_the_graph_first() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("abort");
    let out = run_child(
        "child_deadlocks",
        &dir,
        &[
            ("LOCKWATCH_ON_DEADLOCK", "abort"),
            ("LOCKWATCH_LONG_WAIT_MS", "60000"),
        ],
    );
    assert!(!out.status.success(), "the child aborts");
    assert!(
        stderr(&out).contains("aborting on deadlock"),
        "{}",
        stderr(&out)
    );
    let proc_dir = the_process_dir(&dir);
    let kinds = report_kinds(&proc_dir);
    assert!(kinds.iter().any(|k| k == "Deadlock"), "{kinds:?}");
    assert_data_files_whole(&proc_dir);
    let dot = std::fs::read_to_string(proc_dir.join("lock-graph.dot")).unwrap();
    assert!(dot.contains("abort-a") && dot.contains("abort-b"), "{dot}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_panics_by_policy_then_aborts() {
    if !in_child() {
        return;
    }
    lockwatch::set_policy(lockwatch::Policy::Panic);
    let panicked = std::panic::catch_unwind(|| inversion("panic"));
    assert!(panicked.is_err(), "Policy::Panic panics");
    // As a `panic = "abort"` build would, right after the panic: no exit hook runs.
    std::process::abort();
}

#[test]
fn a_panic_policy_report_is_on_disk_before_the_panic() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("panic");
    let out = run_child("child_panics_by_policy_then_aborts", &dir, &[]);
    assert!(!out.status.success());
    let proc_dir = the_process_dir(&dir);
    assert_eq!(report_kinds(&proc_dir), ["LockOrder"]);
    let dot = std::fs::read_to_string(proc_dir.join("lock-graph.dot")).unwrap();
    assert!(dot.contains("panic-a") && dot.contains("panic-b"), "{dot}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_test_panics() {
    if !in_child() {
        return;
    }
    contend();
    inversion("unwind");
    panic!("the test fails after lockwatch reported");
}

#[test]
fn a_panicking_test_still_writes_at_exit() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("unwind");
    let out = run_child("child_test_panics", &dir, &[]);
    assert_eq!(out.status.code(), Some(101), "{}", stderr(&out));
    let proc_dir = the_process_dir(&dir);
    assert_eq!(report_kinds(&proc_dir), ["LockOrder"]);
    assert_data_files_whole(&proc_dir);
    let waiters = std::fs::read_to_string(proc_dir.join("waiters.folded")).unwrap();
    assert!(waiters.contains("exit-contended"), "{waiters}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_exits_from_another_thread_while_the_watchdog_writes() {
    if !in_child() {
        return;
    }
    lockwatch::export::set_flush_interval(Duration::from_millis(1));
    contend();
    inversion("exit");
    let held = lockwatch::named(Mutex::new(()), "exit-held");
    let _held = held.lock().unwrap(); // keeps the watchdog awake, writing every tick
    thread::sleep(Duration::from_millis(50));
    thread::spawn(|| std::process::exit(3)).join().unwrap();
}

#[test]
fn exit_from_another_thread_leaves_whole_files() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("other-thread");
    let out = run_child(
        "child_exits_from_another_thread_while_the_watchdog_writes",
        &dir,
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let proc_dir = the_process_dir(&dir);
    assert_eq!(report_kinds(&proc_dir), ["LockOrder"]);
    assert_data_files_whole(&proc_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_aborts_after_a_periodic_write() {
    if !in_child() {
        return;
    }
    lockwatch::export::set_flush_interval(Duration::from_millis(20));
    contend();
    let held = lockwatch::named(Mutex::new(()), "crash-held");
    let _held = held.lock().unwrap(); // awake: the periodic write runs
    thread::sleep(Duration::from_millis(300));
    inversion("crash"); // after the last periodic write: only the report is on disk at once
    std::process::abort();
}

#[test]
fn a_crash_loses_at_most_the_last_interval_and_never_a_report() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("crash");
    let out = run_child("child_aborts_after_a_periodic_write", &dir, &[]);
    assert!(!out.status.success(), "the child aborts");
    let proc_dir = the_process_dir(&dir);
    assert_eq!(
        report_kinds(&proc_dir),
        ["LockOrder"],
        "made right before the abort"
    );
    assert_data_files_whole(&proc_dir);
    let waiters = std::fs::read_to_string(proc_dir.join("waiters.folded")).unwrap();
    assert!(
        waiters.contains("exit-contended"),
        "a periodic write: {waiters}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_reports_once() {
    if in_child() {
        inversion("many");
    }
}

#[test]
fn processes_sharing_one_directory_keep_their_own_files() {
    if in_child() {
        return;
    }
    let dir = fresh_dir("many");
    for _ in 0..3 {
        let out = run_child("child_reports_once", &dir, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let dirs = process_dirs(&dir);
    assert_eq!(dirs.len(), 3, "{dirs:?}");
    for d in &dirs {
        assert_eq!(report_kinds(d), ["LockOrder"], "{}", d.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_in_the_way_is_said_once_with_its_path_and_the_program_goes_on() {
    if in_child() {
        return;
    }
    let blocker = fresh_dir("blocked");
    std::fs::write(&blocker, "not a folder").unwrap();
    let out = run_child("child_renders_a_flame_graph_then_exits", &blocker, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("cannot write")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains(&*blocker.to_string_lossy()),
        "{}",
        warnings[0]
    );
    assert!(
        err.contains("lock order inversion"),
        "reports still go to stderr: {err}"
    );
    let _ = std::fs::remove_file(&blocker);
}

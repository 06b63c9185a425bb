//! The CLI round-trips: folded -> SVG, merge, diff, reports.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockwatch"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lockwatch-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(name: &str, text: &str) -> PathBuf {
    let path = temp(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn render_writes_a_flame_graph_with_the_frames() {
    let input = write(
        "a.folded",
        "main;transfer;[lock] Mutex `account` 5000\nmain;audit;[lock] Mutex `ledger` 100\n",
    );
    let out = temp("a.svg");
    let status = bin()
        .args(["render"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--title", "bank"])
        .status()
        .unwrap();
    assert!(status.success());
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("transfer") && svg.contains("ledger") && svg.contains("bank"));
}

#[test]
fn merge_sums_identical_stacks_across_runs() {
    let a = write("m1.folded", "main;f;[lock] A 10\nmain;g;[lock] B 1\n");
    let b = write("m2.folded", "main;f;[lock] A 5\n");
    let out = bin().arg("merge").arg(&a).arg(&b).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "main;f;[lock] A 15\nmain;g;[lock] B 1\n"
    );
}

#[test]
fn diff_renders_before_and_after() {
    let before = write("before.folded", "main;transfer;[lock] A 1000\n");
    let after = write(
        "after.folded",
        "main;transfer;[lock] A 10\nmain;audit;[lock] B 5\n",
    );
    let out = temp("diff.svg");
    let status = bin()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.contains("transfer") && svg.contains("audit"));
}

#[test]
fn reports_are_pretty_printed_with_counts() {
    let jsonl = write(
        "reports.jsonl",
        "{\"kind\":\"LockOrder\",\"thread\":\"teller-2\",\"summary\":\"s\",\"text\":\"lock order inversion\\n  at bank.rs:3:4\",\"outcome\":null}\n\
         {\"kind\":\"LongHold\",\"thread\":\"main\",\"summary\":\"s\",\"text\":\"long hold\",\"outcome\":\"released after 400ms\"}\n",
    );
    let out = bin().arg("reports").arg(&jsonl).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("#1 LockOrder in thread `teller-2`\nlock order inversion\n  at bank.rs:3:4"),
        "{text}"
    );
    assert!(text.contains("outcome: released after 400ms"));
    assert!(
        text.ends_with("2 report(s): 1 LockOrder, 1 LongHold\n"),
        "{text}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let bad = write("bad.folded", "no count here\n");
    let out = bin().arg("merge").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
    let out = bin().arg("frobnicate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}

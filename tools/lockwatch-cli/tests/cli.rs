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

/// A report line of schema 1, as lockwatch appends it.
fn report_line(seq: u64, kind: &str, thread: &str, text: &str) -> String {
    format!(
        "{{\"schema\":1,\"seq\":{seq},\"kind\":\"{kind}\",\"thread\":\"{thread}\",\"summary\":\"s\",\"text\":{},\"outcome\":null,\"pid\":1}}\n",
        serde_json::Value::String(text.into())
    )
}

#[test]
fn reports_are_pretty_printed_with_counts_and_outcomes() {
    let jsonl = write(
        "reports.jsonl",
        &(report_line(
            1,
            "LockOrder",
            "teller-2",
            "lock order inversion\n  at bank.rs:3:4",
        ) + &report_line(2, "LongHold", "main", "long hold")
            + "{\"schema\":1,\"seq\":2,\"outcome\":\"released after 400ms\"}\n"),
    );
    let out = bin().arg("reports").arg(&jsonl).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("#1 LockOrder in thread `teller-2`\nlock order inversion\n  at bank.rs:3:4"),
        "{text}"
    );
    assert!(
        text.contains("#2 LongHold in thread `main`\nlong hold\n  outcome: released after 400ms"),
        "{text}"
    );
    assert!(
        text.ends_with("2 report(s): 1 LockOrder, 1 LongHold\n"),
        "{text}"
    );
}

/// A `LOCKWATCH_DIR` with two process folders.
fn lockwatch_dir(tag: &str) -> PathBuf {
    let dir = temp(tag);
    let _ = std::fs::remove_dir_all(&dir);
    for (process, kind, stack) in [
        ("app-1", "LockOrder", "main;transfer;[lock] A 10"),
        ("tests-2", "LostUpdate", "main;audit;[lock] B 5"),
    ] {
        let p = dir.join(process);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(
            p.join("reports.jsonl"),
            report_line(1, kind, "main", "text"),
        )
        .unwrap();
        std::fs::write(p.join("waiters.folded"), format!("{stack}\n")).unwrap();
        std::fs::write(p.join("blame.folded"), "").unwrap();
    }
    dir
}

#[test]
fn a_directory_of_many_processes_is_read_at_once() {
    let dir = lockwatch_dir("many");
    let out = bin().arg("reports").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("#1 LockOrder") && text.contains("#2 LostUpdate"),
        "{text}"
    );
    assert!(text.contains("app-1") && text.contains("tests-2"), "{text}");
    assert!(
        text.ends_with("2 report(s) from 2 files: 1 LockOrder, 1 LostUpdate\n"),
        "{text}"
    );

    let out = bin().arg("merge").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "main;audit;[lock] B 5\nmain;transfer;[lock] A 10\n"
    );

    let out = bin().arg("render").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let svg = std::fs::read_to_string(dir.join("app-1/waiters.svg")).unwrap();
    assert!(svg.contains("transfer"));
    let empty = std::fs::read_to_string(dir.join("app-1/blame.svg")).unwrap();
    assert!(
        empty.contains("<svg") && empty.contains("nothing waited"),
        "{empty}"
    );
}

#[test]
fn reports_read_several_files_and_stdin() {
    let a = write("r1.jsonl", &report_line(1, "LockOrder", "t1", "one"));
    let mut child = bin()
        .arg("reports")
        .arg(&a)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(report_line(1, "Deadlock", "t2", "two").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("== <stdin>") && text.contains("#2 Deadlock in thread `t2`"),
        "{text}"
    );
}

#[test]
fn an_empty_profile_renders_and_an_empty_after_is_the_fix() {
    let empty = write("empty.folded", "");
    let out_svg = temp("empty.svg");
    let out = bin()
        .arg("render")
        .arg(&empty)
        .arg("-o")
        .arg(&out_svg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the profile is empty"));
    let svg = std::fs::read_to_string(&out_svg).unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );

    let before = write("fix-before.folded", "main;transfer;[lock] A 1000\n");
    let diff_svg = temp("fix.svg");
    let out = bin()
        .arg("diff")
        .arg(&before)
        .arg(&empty)
        .arg("-o")
        .arg(&diff_svg)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let svg = std::fs::read_to_string(&diff_svg).unwrap();
    assert!(svg.contains("transfer") && svg.contains("every wait below is gone"));
}

#[test]
fn errors_name_the_file_and_line() {
    let bad = write("a.folded", "main;f 1\nhello world\n");
    let out = bin().arg("merge").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2: bad count in \"hello world\"",
            bad.display()
        )),
        "{err}"
    );
    let bad = write(
        "b.jsonl",
        &(report_line(1, "LockOrder", "t", "x") + "not json\n"),
    );
    let out = bin().arg("reports").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:2: not JSON", bad.display())),
        "{err}"
    );
    let out = bin()
        .arg("reports")
        .arg(temp("no-such-dir-or-file"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let out = bin()
        .arg("merge")
        .arg("x")
        .arg("--view")
        .arg("nope")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--view \"nope\""));
    let out = bin().arg("frobnicate").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}

#[test]
fn real_output_of_the_library_reads_back() {
    use lockwatch::sync::Mutex;
    let (a, b) = (Mutex::new(()), Mutex::new(()));
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    let dir = temp("real");
    lockwatch::export::to_dir(&dir).unwrap();
    let out = bin().arg("reports").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("#1 LockOrder") && text.contains("tests/cli.rs:"),
        "{text}"
    );
}

/// The page of `lockwatch html`, read as XML: every report, the graph with the cycle's edges
/// marked, and both flame graphs.
#[test]
fn the_html_page_has_every_report_the_graph_with_its_cycle_and_the_flame_graphs() {
    use lockwatch::sync::Mutex;
    use quick_xml::events::Event;
    use std::sync::Arc;

    let dir = temp("html");
    let _ = std::fs::remove_dir_all(&dir);
    // A real process folder: an inversion between two accounts of one class (their instance
    // nodes are gone by the time the page is made: the report keeps the cycle), some waiting.
    fn account() -> Mutex<i64> {
        Mutex::new(0)
    }
    let (a, b) = (account(), account());
    drop((a.lock().unwrap(), b.lock().unwrap()));
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    drop((a, b));
    lockwatch::contention::set_sample_rate(std::time::Duration::ZERO);
    let journal = Arc::new(Mutex::new(0u64));
    while lockwatch::contention::folded().is_empty() {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let j = Arc::clone(&journal);
                std::thread::spawn(move || {
                    for _ in 0..5_000 {
                        *j.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
    }
    let process = dir.join("app-1");
    lockwatch::export::to_dir(&process).unwrap();
    let reports = lockwatch::reports().len();
    assert!(reports >= 1);

    let out = bin().arg("html").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();

    let mut reader = quick_xml::Reader::from_str(&page);
    let (mut articles, mut cycle_edges, mut edges, mut flamegraphs, mut graph) =
        (0, 0, 0, 0, false);
    let mut kinds = Vec::new();
    loop {
        match reader.read_event().expect("the page is well-formed") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name.as_bytes())
                        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
                };
                match e.name().as_ref() {
                    b"article" if attr("class").as_deref() == Some("report") => {
                        articles += 1;
                        kinds.push(attr("data-kind").unwrap());
                    }
                    b"svg" if attr("id").as_deref() == Some("lock-graph") => graph = true,
                    b"path" if attr("class").as_deref() == Some("edge cycle") => cycle_edges += 1,
                    b"path" if attr("class").as_deref() == Some("edge") => edges += 1,
                    b"img" if attr("class").as_deref() == Some("flamegraph") => {
                        assert!(attr("src")
                            .unwrap()
                            .starts_with("data:image/svg+xml;base64,"));
                        flamegraphs += 1;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(articles, reports, "every report");
    assert!(kinds.iter().any(|k| k == "LockOrder"), "{kinds:?}");
    assert!(graph, "the lock graph");
    // Each inversion in this process (other tests of this binary make one too) is a cycle of
    // two edges between two locks.
    let inversions = kinds.iter().filter(|k| *k == "LockOrder").count();
    assert_eq!(
        cycle_edges,
        2 * inversions,
        "the cycles' edges, marked ({edges} others)"
    );
    assert_eq!(flamegraphs, 2, "waiters and blame");
    assert!(page.contains("cli.rs:"), "the sites");
}

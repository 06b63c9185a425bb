//! `lockwatch`: the command line for what lockwatch writes under `LOCKWATCH_DIR`.
//!
//! ```text
//! lockwatch reports DIR|FILE...            reports of every process, readable, with a count
//! lockwatch render DIR                     every folded profile below DIR -> an SVG beside it
//! lockwatch render FOLDED -o OUT.svg       one profile -> flame graph
//! lockwatch merge DIR|FOLDED... -o ALL     many processes -> one profile (--view blame, ...)
//! lockwatch diff BEFORE AFTER -o D.svg     differential flame graph (a fix's effect)
//! lockwatch html DIR -o report.html        one page: reports, lock graph, flame graphs
//! ```
//!
//! Install it with `cargo install --path tools/lockwatch-cli`. A directory argument may be
//! `LOCKWATCH_DIR` itself (one folder per process below it) or one process's folder; `-` reads
//! standard input.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod html;

const USAGE: &str = "usage:
  lockwatch reports DIR|REPORTS.jsonl|-...
  lockwatch render DIR                              (every *.folded below DIR -> *.svg beside it)
  lockwatch render FOLDED|- [-o OUT.svg] [--title TITLE] [--unit UNIT]
  lockwatch merge DIR|FOLDED|-... [--view waiters|blame|cas-retries] [-o OUT.folded]
  lockwatch diff BEFORE AFTER [-o OUT.svg] [--title TITLE] [--view VIEW]
  lockwatch html DIR... [-o OUT.html]                (default: DIR/report.html)
(BEFORE and AFTER are folded files or directories; a directory gives the merged --view)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lockwatch: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Positional arguments and the values of the options.
struct Args {
    positional: Vec<String>,
    out: Option<String>,
    title: Option<String>,
    unit: Option<String>,
    view: String,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        positional: Vec::new(),
        out: None,
        title: None,
        unit: None,
        view: "waiters".to_owned(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "-o" | "--output" => parsed.out = Some(value(arg)?),
            "--title" => parsed.title = Some(value(arg)?),
            "--unit" => parsed.unit = Some(value(arg)?),
            "--view" => {
                let view = value(arg)?;
                if !["waiters", "blame", "cas-retries"].contains(&view.as_str()) {
                    return Err(format!(
                        "--view {view:?}: expected waiters, blame or cas-retries"
                    ));
                }
                parsed.view = view;
            }
            flag if flag.starts_with('-') && flag != "-" => {
                return Err(format!("unknown option {flag}\n{USAGE}"))
            }
            _ => parsed.positional.push(arg.clone()),
        }
    }
    Ok(parsed)
}

fn run(args: &[String]) -> Result<(), String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let args = parse(rest)?;
    match command.as_str() {
        "render" => {
            let [input] = args.positional.as_slice() else {
                return Err(format!(
                    "render takes one folded file or directory\n{USAGE}"
                ));
            };
            if Path::new(input).is_dir() {
                for svg in render_dir(Path::new(input))? {
                    println!("{}", svg.display());
                }
                return Ok(());
            }
            let folded = read(input)?;
            check_folded(input, &folded)?;
            let title = args.title.as_deref().unwrap_or("lock contention");
            let svg = render(&folded, title, args.unit.as_deref().unwrap_or("ns"))?;
            write_out(args.out.as_deref(), &svg)
        }
        "diff" => {
            let [before, after] = args.positional.as_slice() else {
                return Err(format!(
                    "diff takes two folded files or directories\n{USAGE}"
                ));
            };
            let (before, after) = (profile(before, &args.view)?, profile(after, &args.view)?);
            let title = args
                .title
                .as_deref()
                .unwrap_or("lock contention: after vs before");
            let svg = diff_svg(&before, &after, title, args.unit.as_deref().unwrap_or("ns"))?;
            write_out(args.out.as_deref(), &svg)
        }
        "merge" => {
            if args.positional.is_empty() {
                return Err(format!("merge takes folded files or directories\n{USAGE}"));
            }
            let mut merged = String::new();
            for input in &args.positional {
                merged.push_str(&profile(input, &args.view)?);
            }
            write_out(
                args.out.as_deref(),
                merge_named(&[("", &merged)])?.as_bytes(),
            )
        }
        "reports" => {
            if args.positional.is_empty() {
                return Err(format!(
                    "reports takes reports.jsonl files, directories or -\n{USAGE}"
                ));
            }
            let mut files = Vec::new();
            for input in &args.positional {
                files.extend(report_files(input)?);
            }
            let text = pretty_reports(&files)?;
            write_out(args.out.as_deref(), text.as_bytes())
        }
        "html" => {
            let Some(first) = args.positional.first() else {
                return Err(format!("html takes LOCKWATCH_DIR folders\n{USAGE}"));
            };
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| Path::new(first).join("report.html").display().to_string());
            let page = html_page(&args.positional)?;
            write_out(Some(&out), page.as_bytes())?;
            println!("{out}");
            Ok(())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other}\n{USAGE}")),
    }
}

fn read(path: &str) -> Result<String, String> {
    if path == "-" {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(text);
    }
    fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn write_out(path: Option<&str>, bytes: &[u8]) -> Result<(), String> {
    match path {
        Some(path) => fs::write(path, bytes).map_err(|e| format!("cannot write {path}: {e}")),
        None => io::stdout()
            .write_all(bytes)
            .map_err(|e| format!("cannot write to stdout: {e}")),
    }
}

/// The process folders at or below `dir`: `dir` itself if it holds lockwatch's files, else
/// its subfolders that do (`LOCKWATCH_DIR` holds one per process). Sorted.
fn process_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let is_process = |d: &Path| {
        ["reports.jsonl", "waiters.folded", "lock-graph.dot"]
            .iter()
            .any(|f| d.join(f).is_file())
    };
    if is_process(dir) {
        return Ok(vec![dir.to_owned()]);
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && is_process(p))
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(format!(
            "{}: no lockwatch output here (expected reports.jsonl or *.folded, or folders of them)",
            dir.display()
        ));
    }
    Ok(dirs)
}

/// One view's folded stacks from a file, `-`, or every process folder of a directory.
fn profile(input: &str, view: &str) -> Result<String, String> {
    let path = Path::new(input);
    if !path.is_dir() {
        let text = read(input)?;
        check_folded(input, &text)?;
        return Ok(text);
    }
    let mut named = Vec::new();
    for dir in process_dirs(path)? {
        let file = dir.join(format!("{view}.folded"));
        if file.is_file() {
            let name = file.display().to_string();
            let text = read(&name)?;
            named.push((name, text));
        }
    }
    let refs: Vec<(&str, &str)> = named
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    merge_named(&refs)
}

/// One folded line: `stack count`.
fn folded_line<'a>(name: &str, n: usize, line: &'a str) -> Result<(&'a str, u64), String> {
    let at = if name.is_empty() {
        format!("line {}", n + 1)
    } else {
        format!("{name}:{}", n + 1)
    };
    let (stack, count) = line
        .rsplit_once(' ')
        .ok_or_else(|| format!("{at}: not `stack count`: {line:?}"))?;
    let count = count
        .parse()
        .map_err(|_| format!("{at}: bad count in {line:?}"))?;
    if stack.trim().is_empty() {
        return Err(format!("{at}: empty stack in {line:?}"));
    }
    Ok((stack, count))
}

fn check_folded(name: &str, text: &str) -> Result<(), String> {
    for (n, line) in text.lines().enumerate() {
        if !line.trim().is_empty() {
            folded_line(name, n, line)?;
        }
    }
    Ok(())
}

/// Sums identical stacks across named profiles; output sorted by stack.
fn merge_named(inputs: &[(&str, &str)]) -> Result<String, String> {
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    for (name, text) in inputs {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (stack, count) = folded_line(name, n, line)?;
            *total.entry(stack.to_owned()).or_default() += count;
        }
    }
    Ok(total
        .into_iter()
        .map(|(stack, count)| format!("{stack} {count}\n"))
        .collect())
}

/// Folded stacks -> flame graph SVG, through the library's renderer (an empty profile is a
/// valid SVG that says so).
fn render(folded: &str, title: &str, unit: &str) -> Result<Vec<u8>, String> {
    if folded.trim().is_empty() {
        eprintln!("lockwatch: the profile is empty (nothing waited); the SVG says so");
    }
    lockwatch::contention::flamegraph_svg(folded, title, unit)
        .map_err(|e| format!("cannot render: {e}"))
}

/// Every `waiters.folded` and `blame.folded` below `dir` -> an SVG beside it.
fn render_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    for process in process_dirs(dir)? {
        for (view, title) in [
            ("waiters", "lock contention: where threads waited"),
            ("blame", "lock contention: who made others wait"),
        ] {
            let folded = process.join(format!("{view}.folded"));
            if !folded.is_file() {
                continue;
            }
            let name = folded.display().to_string();
            let text = read(&name)?;
            check_folded(&name, &text)?;
            let svg = lockwatch::contention::flamegraph_svg(&text, title, "ns")
                .map_err(|e| format!("cannot render {name}: {e}"))?;
            let out = process.join(format!("{view}.svg"));
            fs::write(&out, svg).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            written.push(out);
        }
    }
    Ok(written)
}

/// Two profiles -> a differential flame graph: widths from "after", red where it grew, blue
/// where it shrank. An empty "after" (the fix removed every wait) is drawn with the "before"
/// widths, all blue.
fn diff_svg(before: &str, after: &str, title: &str, unit: &str) -> Result<Vec<u8>, String> {
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    options.count_name = unit.to_owned();
    let everything_went = after.trim().is_empty();
    let (first, second) = if everything_went {
        options.negate_differentials = true;
        options.subtitle = Some("the after profile is empty: every wait below is gone".into());
        (after, before)
    } else {
        (before, after)
    };
    if before.trim().is_empty() && everything_went {
        return render("", title, unit);
    }
    let mut diff = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        first.as_bytes(),
        second.as_bytes(),
        &mut diff,
    )
    .map_err(|e| format!("cannot diff: {e}"))?;
    let diff = String::from_utf8(diff).map_err(|e| e.to_string())?;
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, diff.lines(), &mut svg)
        .map_err(|e| format!("cannot render the difference: {e}"))?;
    Ok(svg)
}

/// The reports files an argument names: a file, `-`, or every process folder's
/// `reports.jsonl` below a directory.
fn report_files(input: &str) -> Result<Vec<(String, String)>, String> {
    let path = Path::new(input);
    if !path.is_dir() {
        let name = if input == "-" { "<stdin>" } else { input };
        return Ok(vec![(name.to_owned(), read(input)?)]);
    }
    let mut files = Vec::new();
    for dir in process_dirs(path)? {
        let file = dir.join("reports.jsonl");
        if file.is_file() {
            let name = file.display().to_string();
            let text = read(&name)?;
            files.push((name, text));
        }
    }
    Ok(files)
}

/// One report as read back: the fields the pages show, and its outcome if one came.
struct ReadReport {
    kind: String,
    thread: String,
    summary: String,
    text: String,
    outcome: Option<String>,
    sites: Vec<String>,
    finding: serde_json::Value,
    /// How often the finding was seen (1 unless it came back), and the longest duration.
    occurrences: u64,
    longest_ms: Option<u64>,
}

fn string_field(v: &serde_json::Value, key: &str, at: &str) -> Result<String, String> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{at}: no string {key:?}"))
}

/// The reports of one `reports.jsonl` (schema 1): report lines, and outcome lines that
/// complete the report with the same `seq`.
fn parse_reports(name: &str, text: &str) -> Result<Vec<ReadReport>, String> {
    let mut reports: Vec<ReadReport> = Vec::new();
    let mut by_seq: BTreeMap<u64, usize> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{name}:{}", n + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{at}: not JSON ({e})"))?;
        match v["schema"].as_u64() {
            Some(1) => {}
            Some(other) => {
                return Err(format!(
                    "{at}: schema {other}, this lockwatch reads schema 1"
                ))
            }
            None => return Err(format!("{at}: no \"schema\": not a lockwatch report")),
        }
        let seq = v["seq"].as_u64();
        if v.get("kind").is_none() {
            // An update of an earlier report: its outcome, or how often it was seen.
            let seq = seq.ok_or_else(|| format!("{at}: an update without \"seq\""))?;
            let i = *by_seq.get(&seq).ok_or_else(|| {
                format!("{at}: an update for report {seq}, which is not in the file")
            })?;
            if let Some(n) = v["occurrences"].as_u64() {
                reports[i].occurrences = n;
                reports[i].longest_ms = v["longest_ms"].as_u64();
            } else {
                reports[i].outcome = Some(string_field(&v, "outcome", &at)?);
            }
            continue;
        }
        if let Some(seq) = seq {
            by_seq.insert(seq, reports.len());
        }
        reports.push(ReadReport {
            kind: string_field(&v, "kind", &at)?,
            thread: string_field(&v, "thread", &at)?,
            summary: v["summary"].as_str().unwrap_or_default().to_owned(),
            text: string_field(&v, "text", &at)?,
            outcome: v["outcome"].as_str().map(str::to_owned),
            sites: v["sites"]
                .as_array()
                .into_iter()
                .flatten()
                .map(html::site)
                .collect(),
            finding: v["finding"].clone(),
            occurrences: v["occurrences"].as_u64().unwrap_or(1),
            longest_ms: v["longest_ms"].as_u64(),
        });
    }
    Ok(reports)
}

/// Numbered, readable reports of every file, with a count by kind.
fn pretty_reports(files: &[(String, String)]) -> Result<String, String> {
    let mut out = String::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for (name, text) in files {
        let reports = parse_reports(name, text)?;
        if files.len() > 1 && !reports.is_empty() {
            out.push_str(&format!("== {name}\n\n"));
        }
        for r in reports {
            n += 1;
            *kinds.entry(r.kind.clone()).or_default() += 1;
            out.push_str(&format!(
                "#{n} {} in thread `{}`\n{}\n",
                r.kind, r.thread, r.text
            ));
            if r.occurrences > 1 {
                out.push_str(&format!("  seen {} times", r.occurrences));
                if let Some(ms) = r.longest_ms {
                    out.push_str(&format!(", the longest {ms}ms"));
                }
                out.push('\n');
            }
            if let Some(outcome) = r.outcome {
                out.push_str(&format!("  outcome: {outcome}\n"));
            }
            out.push('\n');
        }
    }
    let summary: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let processes = if files.len() > 1 {
        format!(" from {} files", files.len())
    } else {
        String::new()
    };
    out.push_str(&format!(
        "{n} report(s){processes}: {}\n",
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        }
    ));
    Ok(out)
}

/// The page of `lockwatch html` for these folders.
fn html_page(dirs: &[String]) -> Result<String, String> {
    let mut reports = Vec::new();
    let mut edges = Vec::new();
    let mut folded: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for dir in dirs {
        for process in process_dirs(Path::new(dir))? {
            let name = process.display().to_string();
            let file = process.join("reports.jsonl");
            if file.is_file() {
                let path = file.display().to_string();
                for r in parse_reports(&path, &read(&path)?)? {
                    edges.extend(html::cycle_edges(&r.finding));
                    let mut text = r.text;
                    if r.occurrences > 1 {
                        text.push_str(&format!("\n  seen {} times", r.occurrences));
                    }
                    if let Some(outcome) = r.outcome {
                        text.push_str(&format!("\n  outcome: {outcome}"));
                    }
                    reports.push(html::PageReport {
                        kind: r.kind,
                        summary: if r.summary.is_empty() {
                            format!("in thread `{}`", r.thread)
                        } else {
                            r.summary
                        },
                        text,
                        sites: r.sites,
                        process: name.clone(),
                    });
                }
            }
            let dot = process.join("lock-graph.dot");
            if dot.is_file() {
                edges.extend(html::dot_edges(&read(&dot.display().to_string())?));
            }
            for view in ["waiters", "blame"] {
                let f = process.join(format!("{view}.folded"));
                if f.is_file() {
                    let path = f.display().to_string();
                    let text = read(&path)?;
                    folded.entry(view).or_default().push((path, text));
                }
            }
        }
    }
    let mut graphs = Vec::new();
    for (view, title) in [
        ("waiters", "Where threads waited"),
        ("blame", "Who made them wait"),
    ] {
        let inputs: Vec<(&str, &str)> = folded
            .get(view)
            .into_iter()
            .flatten()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let merged = merge_named(&inputs)?;
        let svg = lockwatch::contention::flamegraph_svg(&merged, title, "ns")
            .map_err(|e| format!("cannot render the {view} profile: {e}"))?;
        graphs.push((title, svg));
    }
    Ok(html::page(&dirs.join(", "), &reports, &edges, &graphs))
}

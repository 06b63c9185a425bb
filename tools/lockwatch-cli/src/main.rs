//! `lockwatch`: the command line for what lockwatch writes (`LOCKWATCH_DIR`).
//!
//! ```text
//! lockwatch render waiters.folded -o waiters.svg      folded stacks -> flame graph
//! lockwatch diff before.folded after.folded -o d.svg  differential flame graph (a fix's effect)
//! lockwatch merge run1/waiters.folded run2/... -o all.folded   many processes -> one profile
//! lockwatch reports reports.jsonl                      reports, readable
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::process::ExitCode;

const USAGE: &str = "usage:
  lockwatch render FOLDED [-o OUT.svg] [--title TITLE] [--unit UNIT]
  lockwatch diff BEFORE.folded AFTER.folded [-o OUT.svg] [--title TITLE]
  lockwatch merge FOLDED... [-o OUT.folded]
  lockwatch reports REPORTS.jsonl";

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

/// Positional arguments and the values of `-o`, `--title`, `--unit`.
struct Args {
    positional: Vec<String>,
    out: Option<String>,
    title: Option<String>,
    unit: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        positional: Vec::new(),
        out: None,
        title: None,
        unit: None,
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
                return Err(format!("render takes one folded file\n{USAGE}"));
            };
            let folded = read(input)?;
            let title = args.title.as_deref().unwrap_or("lock contention");
            let svg = render(&folded, title, args.unit.as_deref().unwrap_or("ns"))?;
            write_out(args.out.as_deref(), &svg)
        }
        "diff" => {
            let [before, after] = args.positional.as_slice() else {
                return Err(format!("diff takes two folded files\n{USAGE}"));
            };
            let folded = diff(&read(before)?, &read(after)?)?;
            let title = args
                .title
                .as_deref()
                .unwrap_or("lock contention: after vs before");
            let svg = render(&folded, title, args.unit.as_deref().unwrap_or("ns"))?;
            write_out(args.out.as_deref(), &svg)
        }
        "merge" => {
            if args.positional.is_empty() {
                return Err(format!("merge takes folded files\n{USAGE}"));
            }
            let inputs = args
                .positional
                .iter()
                .map(|p| read(p))
                .collect::<Result<Vec<_>, _>>()?;
            let merged = merge(inputs.iter().map(String::as_str))?;
            write_out(args.out.as_deref(), merged.as_bytes())
        }
        "reports" => {
            let [input] = args.positional.as_slice() else {
                return Err(format!("reports takes one reports.jsonl file\n{USAGE}"));
            };
            let text = pretty_reports(&read(input)?)?;
            write_out(args.out.as_deref(), text.as_bytes())
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other}\n{USAGE}")),
    }
}

fn read(path: &str) -> Result<String, String> {
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

/// Folded stacks -> flame graph SVG.
fn render(folded: &str, title: &str, unit: &str) -> Result<Vec<u8>, String> {
    if folded.trim().is_empty() {
        return Err("the profile is empty: nothing waited".into());
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    options.count_name = unit.to_owned();
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg)
        .map_err(|e| format!("cannot render: {e}"))?;
    Ok(svg)
}

/// Two folded profiles -> inferno's differential folded format (`stack before after`).
fn diff(before: &str, after: &str) -> Result<String, String> {
    let mut out = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        before.as_bytes(),
        after.as_bytes(),
        &mut out,
    )
    .map_err(|e| format!("cannot diff: {e}"))?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Sums identical stacks across profiles; output sorted by stack.
fn merge<'a>(inputs: impl Iterator<Item = &'a str>) -> Result<String, String> {
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    for input in inputs {
        for (n, line) in input.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (stack, count) = line
                .rsplit_once(' ')
                .ok_or_else(|| format!("line {}: not `stack count`: {line}", n + 1))?;
            let count: u64 = count
                .parse()
                .map_err(|_| format!("line {}: bad count in: {line}", n + 1))?;
            *total.entry(stack.to_owned()).or_default() += count;
        }
    }
    Ok(total
        .into_iter()
        .map(|(stack, count)| format!("{stack} {count}\n"))
        .collect())
}

/// The string value of `"key":"..."` in one JSON line lockwatch wrote (its own escapes).
fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// reports.jsonl -> numbered, readable reports with a count by kind.
fn pretty_reports(jsonl: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (n, line) in jsonl.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let get = |key| field(line, key).ok_or_else(|| format!("report {}: no {key}", n + 1));
        let kind = get("kind")?;
        *kinds.entry(kind.clone()).or_default() += 1;
        out.push_str(&format!(
            "#{} {kind} in thread `{}`\n{}\n",
            n + 1,
            get("thread")?,
            get("text")?
        ));
        if let Some(outcome) = field(line, "outcome") {
            out.push_str(&format!("  outcome: {outcome}\n"));
        }
        out.push('\n');
    }
    let summary: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    out.push_str(&format!(
        "{} report(s): {}\n",
        kinds.values().sum::<usize>(),
        if summary.is_empty() {
            "none".to_owned()
        } else {
            summary.join(", ")
        }
    ));
    Ok(out)
}

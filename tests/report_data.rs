//! Every kind of report, read as data and round-tripped through `reports.jsonl` (schema 1)
//! with a real JSON parser. Its own binary: it turns the watchdog's thresholds down and leaves
//! deadlocked threads behind.
#![cfg(feature = "enabled")]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

mod common;

use lockwatch::report::{Acquisition, Finding, Site};
use lockwatch::sync::atomic::AtomicU64;
use lockwatch::sync::{Mutex, RwLock};
use lockwatch::{named, Report, ReportKind};
use serde_json::Value;

/// Waits (up to 10 s) for a report of `kind` naming `name`.
fn wait_for(kind: ReportKind, name: &str) -> Report {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = lockwatch::reports()
            .into_iter()
            .find(|r| r.kind() == kind && r.locks().iter().any(|l| l.name == Some(name)))
        {
            return r;
        }
        assert!(Instant::now() < deadline, "no {kind:?} report about {name}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// (file, line) of a site: the lines below are found with `line!()`.
fn at(site: &Site) -> (&'static str, u32) {
    (site.file, site.line)
}

fn json_site(v: &Value) -> (String, u64, u64) {
    (
        v["file"].as_str().unwrap().to_owned(),
        v["line"].as_u64().unwrap(),
        v["col"].as_u64().unwrap(),
    )
}

fn site_tuple(s: &Site) -> (String, u64, u64) {
    (s.file.to_owned(), s.line.into(), s.column.into())
}

fn check_acquisition(v: &Value, a: &Acquisition) {
    assert_eq!(v["method"], a.method);
    assert_eq!(json_site(&v["site"]), site_tuple(&a.site));
    assert_eq!(v["trylock"], a.trylock);
    assert_eq!(v["lock"]["kind"], a.lock.kind);
    assert_eq!(v["lock"]["name"].as_str(), a.lock.name);
    assert_eq!(
        json_site(&v["lock"]["created"]),
        site_tuple(&a.lock.created)
    );
    assert_eq!(v["lock"]["instance"].as_u64(), a.lock.instance);
    assert_eq!(v["lock"]["data"], a.lock.data);
    assert_eq!(v["lock"]["label"], a.lock.to_string());
    assert_eq!(v["called_from"].as_str(), a.called_from.as_deref());
    assert_eq!(
        v["duration_ms"].as_u64(),
        a.duration.map(|d| d.as_millis() as u64)
    );
}

/// The report's line of `reports.jsonl`, parsed, checked field by field against the report.
fn round_trip(report: &Report) -> Value {
    let all = lockwatch::reports();
    let seq = all
        .iter()
        .position(|r| r.to_string() == report.to_string())
        .expect("kept in reports()")
        + 1;
    let jsonl = lockwatch::export::reports_jsonl();
    let line = jsonl.lines().nth(seq - 1).expect("one line per report");
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["schema"], 1);
    assert_eq!(v["seq"].as_u64(), Some(seq as u64));
    assert_eq!(v["kind"], format!("{:?}", report.kind()));
    assert_eq!(v["thread"], report.thread());
    assert_eq!(v["summary"], report.summary());
    assert_eq!(v["pid"].as_u64(), Some(u64::from(std::process::id())));
    let mut text = v["text"].as_str().unwrap().to_owned();
    if let Some(outcome) = v["outcome"].as_str() {
        text.push_str(&format!("\n  outcome: {outcome}"));
    }
    assert_eq!(text, report.to_string(), "the text is the rendered report");
    let sites: Vec<_> = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(json_site)
        .collect();
    let expected: Vec<_> = report.sites().iter().map(site_tuple).collect();
    assert_eq!(sites, expected);
    let locks = v["locks"].as_array().unwrap();
    assert_eq!(locks.len(), report.locks().len());
    for (j, l) in locks.iter().zip(report.locks()) {
        assert_eq!(j["kind"], l.kind);
        assert_eq!(j["name"].as_str(), l.name);
        assert_eq!(json_site(&j["created"]), site_tuple(&l.created));
    }
    v
}

#[test]
fn every_kind_of_report_is_data_and_round_trips_through_jsonl() {
    lockwatch::watchdog::set_long_hold(Duration::from_millis(60));
    lockwatch::watchdog::set_long_wait(Duration::from_millis(60));

    // Lock order: a then b, later b then a.
    let a = named(Mutex::new(()), "data-a");
    let b = named(Mutex::new(()), "data-b");
    let first = line!() + 2;
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let second = line!() + 2;
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    let order = wait_for(ReportKind::LockOrder, "data-a");
    let Finding::LockOrder {
        acquiring,
        held,
        cycle,
        per_instance,
        ..
    } = order.finding()
    else {
        panic!("{order:?}")
    };
    assert!(!per_instance);
    let file = file!();
    assert_eq!(at(&acquiring.site), (file, second + 1));
    assert_eq!(acquiring.lock.name, Some("data-a"));
    assert_eq!(at(&held[0].site), (file, second));
    assert_eq!(cycle.len(), 2);
    assert_eq!(at(&cycle[0].from.site), (file, first));
    assert_eq!(at(&cycle[0].to.site), (file, first + 1));
    assert_eq!(at(&cycle[1].from.site), (file, second));
    assert!(!cycle[0].new && cycle[1].new);
    assert!(order.sites().iter().any(|s| at(s) == (file, first + 1)));
    let v = round_trip(&order);
    assert_eq!(v["finding"]["type"], "LockOrder");
    let steps = v["finding"]["cycle"].as_array().unwrap();
    for (j, step) in steps.iter().zip(cycle) {
        check_acquisition(&j["from"], &step.from);
        check_acquisition(&j["to"], &step.to);
        assert_eq!(j["thread"], step.thread.as_str());
        assert_eq!(j["new"], step.new);
    }
    check_acquisition(&v["finding"]["acquiring"], acquiring);

    // Self-deadlock: a second std read of a lock this thread reads.
    let r = named(RwLock::new(()), "data-rw");
    {
        let _r1 = r.read().unwrap();
        let _r2 = r.read().unwrap();
    }
    let again = wait_for(ReportKind::LockOrder, "data-rw");
    let Finding::SelfDeadlock {
        earlier,
        needs_queued_writer,
        ..
    } = again.finding()
    else {
        panic!("{again:?}")
    };
    assert!(*needs_queued_writer);
    assert_eq!(earlier.method, "read");
    let v = round_trip(&again);
    assert_eq!(v["finding"]["type"], "SelfDeadlock");
    check_acquisition(&v["finding"]["earlier"], earlier);

    // Lost update: load, another thread's write, store.
    let counter = Arc::new(named_atomic());
    common::lose_an_update(&counter);
    let lost = lockwatch::reports()
        .into_iter()
        .find(|r| r.kind() == ReportKind::LostUpdate)
        .expect("a lost update");
    let Finding::LostUpdate { atomic, writer, .. } = lost.finding() else {
        panic!("{lost:?}")
    };
    assert_eq!(*atomic, "AtomicU64");
    assert!(writer.is_some());
    let v = round_trip(&lost);
    assert_eq!(v["finding"]["type"], "LostUpdate");
    assert_eq!(v["finding"]["atomic"], "AtomicU64");

    // Long hold, then its outcome.
    let slow = named(Mutex::new(()), "data-slow");
    {
        let _g = slow.lock().unwrap();
        wait_for(ReportKind::LongHold, "data-slow");
    }
    let hold = wait_for(ReportKind::LongHold, "data-slow");
    assert!(hold
        .outcome()
        .is_some_and(|o| o.starts_with("released after")));
    let Finding::LongHold {
        hold: h, threshold, ..
    } = hold.finding()
    else {
        panic!("{hold:?}")
    };
    assert_eq!(*threshold, Duration::from_millis(60));
    assert!(h.duration.unwrap() >= Duration::from_millis(60));
    let v = round_trip(&hold);
    assert_eq!(v["finding"]["threshold_ms"], 60);
    check_acquisition(&v["finding"]["hold"], h);

    // Long wait: a thread blocked behind a holder.
    let busy = Arc::new(named(Mutex::new(()), "data-busy"));
    let holding = Arc::new(Barrier::new(2));
    let holder = {
        let (busy, holding) = (Arc::clone(&busy), Arc::clone(&holding));
        thread::Builder::new()
            .name("data-holder".into())
            .spawn(move || {
                let _g = busy.lock().unwrap();
                holding.wait();
                wait_for(ReportKind::LongWait, "data-busy");
            })
            .unwrap()
    };
    holding.wait();
    drop(busy.lock().unwrap());
    holder.join().unwrap();
    let waited = wait_for(ReportKind::LongWait, "data-busy");
    let Finding::LongWait { holders, .. } = waited.finding() else {
        panic!("{waited:?}")
    };
    assert_eq!(holders[0].thread, "data-holder");
    let v = round_trip(&waited);
    assert_eq!(v["finding"]["holders"][0]["thread"], "data-holder");

    // A real deadlock, left hanging.
    let x = Arc::new(named(Mutex::new(()), "data-x"));
    let y = Arc::new(named(Mutex::new(()), "data-y"));
    let both = Arc::new(Barrier::new(3));
    for (first, second, name) in [
        (Arc::clone(&x), Arc::clone(&y), "data-t1"),
        (Arc::clone(&y), Arc::clone(&x), "data-t2"),
    ] {
        let both = Arc::clone(&both);
        thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _f = first.lock().unwrap();
                both.wait();
                let _s = second.lock().unwrap();
            })
            .unwrap();
    }
    both.wait();
    let dead = wait_for(ReportKind::Deadlock, "data-x");
    let Finding::Deadlock { threads, .. } = dead.finding() else {
        panic!("{dead:?}")
    };
    let names: Vec<&str> = threads.iter().map(|t| t.thread.as_str()).collect();
    assert_eq!(names, ["data-t1", "data-t2"], "rotated to the first name");
    let v = round_trip(&dead);
    assert_eq!(v["finding"]["threads"][1]["thread"], "data-t2");
    check_acquisition(
        &v["finding"]["threads"][0]["waits_for"],
        &threads[0].waits_for,
    );

    // A limit: more locks held at once than the watchdog sees.
    let many: Vec<Mutex<()>> = (0..70)
        .map(|_| named(Mutex::new(()), "data-many"))
        .collect();
    {
        let _guards: Vec<_> = many.iter().map(|m| m.lock().unwrap()).collect();
    }
    let limit = lockwatch::reports()
        .into_iter()
        .find(|r| r.kind() == ReportKind::Limit)
        .expect("a limit report");
    let v = round_trip(&limit);
    assert_eq!(v["finding"]["type"], "Limit");
    assert_eq!(v["finding"]["held_locks"], 64);
}

#[track_caller]
fn named_atomic() -> AtomicU64 {
    AtomicU64::new(0)
}

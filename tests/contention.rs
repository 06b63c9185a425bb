//! The contention profiler: waiters, blame, CAS retries; folded, SVG and pprof exports.
#![cfg(feature = "enabled")]

mod common;

use common::{folded_total, hold_for_a_while, wait_for_the_lock};
use lockwatch::contention::{self, View};
use lockwatch::named;
use lockwatch::parking_lot::Mutex;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

/// Three rounds of [`contend_once`]. Returns the waits the test measured itself.
fn contend(m: &Arc<Mutex<u64>>, hold: Duration) -> Duration {
    (0..3).map(|_| contend_once(m, hold)).sum()
}

/// One thread holds `m` for `hold`, the test thread waits for it. Returns the wait the test
/// measured itself.
fn contend_once(m: &Arc<Mutex<u64>>, hold: Duration) -> Duration {
    let ready = Arc::new(Barrier::new(2));
    let (m2, ready2) = (Arc::clone(m), Arc::clone(&ready));
    let holder = thread::spawn(move || hold_for_a_while(&m2, &ready2, hold));
    ready.wait();
    let measured = wait_for_the_lock(m);
    holder.join().unwrap();
    measured
}

#[test]
fn waits_are_recorded_under_the_waiting_function_and_add_up() {
    let m = Arc::new(named(Mutex::new(0), "prof-waiters"));
    let measured = contend(&m, Duration::from_millis(30));
    let folded = contention::folded();
    let recorded = folded_total(
        &folded,
        &["wait_for_the_lock", "[lock] Mutex `prof-waiters`"],
    );
    let measured = measured.as_nanos() as u64;
    // Every wait is longer than the 10 µs sampling rate and than the 2 ms after which a wait
    // is in the profile whatever the draw, so each is recorded as measured; the test's own
    // timing also covers the lock call around the wait (and any preemption there on a loaded
    // machine): allow 20% + 2 ms. The lock's first wait is timed by the clock; the two after
    // it (the lock was contended before, so it is taken without a try) from the coarse tick
    // they began at, which trails the clock by up to a tick (1 ms): allow that too.
    assert!(
        recorded <= measured + 2 * 2_000_000,
        "recorded {recorded} ns > measured {measured} ns"
    );
    assert!(
        recorded + measured / 5 + 2_000_000 >= measured,
        "recorded {recorded} ns, measured {measured} ns\n{folded}"
    );
    // Root first, the lock class last.
    let line = folded.lines().find(|l| l.contains("prof-waiters")).unwrap();
    let (stack, _) = line.rsplit_once(' ').unwrap();
    assert!(stack.ends_with("[lock] Mutex `prof-waiters`"), "{stack}");
    assert!(
        !stack.contains("lockwatch::tracker"),
        "lockwatch's own frames are trimmed: {stack}"
    );
}

#[test]
fn blame_goes_to_the_holder_that_made_others_wait() {
    let m = Arc::new(named(Mutex::new(0), "prof-blame"));
    let measured = contend(&m, Duration::from_millis(30)).as_nanos() as u64;
    let blame = contention::folded_view(View::Blame);
    let blamed = folded_total(&blame, &["hold_for_a_while", "prof-blame"]);
    assert!(
        blamed > measured / 2,
        "blamed {blamed} ns of {measured} ns waited\n{blame}"
    );
    assert!(
        blamed <= measured + measured / 5 + 2_000_000,
        "blamed {blamed} ns of {measured} ns"
    );
    assert_eq!(
        folded_total(&blame, &["wait_for_the_lock", "prof-blame"]),
        0,
        "the waiter is not to blame"
    );
}

/// A lock's first contention is blamed too, though its holder took it before the lock had
/// any contention state. (A holder's release and its waiter's wake-up race, and now and then
/// a wait goes unblamed, so up to three fresh locks are tried; before the release read the
/// lock's state afresh, no first contention was ever blamed.)
#[test]
fn a_locks_first_contention_is_blamed() {
    let blamed = (0..3).any(|attempt| {
        let name = format!("prof-first-{attempt}");
        let m = Arc::new(named(Mutex::new(0), &name));
        contend_once(&m, Duration::from_millis(30));
        let blame = contention::folded_view(View::Blame);
        folded_total(&blame, &["hold_for_a_while", &format!("`{name}`")]) > 0
    });
    assert!(
        blamed,
        "three first contentions, none blamed\n{}",
        contention::folded_view(View::Blame)
    );
}

#[test]
fn an_uncontended_run_records_nothing() {
    let m = named(Mutex::new(0u64), "prof-quiet");
    for _ in 0..10_000 {
        *m.lock() += 1;
    }
    for view in [View::Waiters, View::Blame] {
        assert!(!contention::folded_view(view).contains("prof-quiet"));
    }
}

#[test]
fn hot_cas_loops_show_up_as_their_own_frames() {
    use lockwatch::sync::atomic::{AtomicU64, Ordering};
    let (counter, site) = (AtomicU64::new(0), format!("{}:{}:", file!(), line!() + 11));
    // Races until some compare-exchange fails: at once on an idle machine; a busy one may
    // need a few rounds before two threads run at the same time.
    let mut retries = 0;
    for round in 1..=20u64 {
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50_000 {
                        let mut cur = counter.load(Ordering::Relaxed);
                        loop {
                            match counter.compare_exchange_weak(
                                cur,
                                cur + 1,
                                Ordering::AcqRel,
                                Ordering::Relaxed,
                            ) {
                                Ok(_) => break,
                                Err(actual) => cur = actual,
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), round * 200_000);
        let cas = contention::folded_view(View::CasRetries);
        retries = folded_total(&cas, &[&format!("[CAS retry] {site}")]);
        if retries > 0 {
            break;
        }
    }
    let cas = contention::folded_view(View::CasRetries);
    // The sampled count is a multiple of 16.
    assert!(
        retries > 0 && retries.is_multiple_of(16),
        "{retries}\n{cas}"
    );
}

#[test]
fn flame_graphs_and_pprof_files_carry_the_profile() {
    let m = Arc::new(named(Mutex::new(0), "prof-export"));
    contend(&m, Duration::from_millis(30));
    let dir = std::env::temp_dir().join(format!("lockwatch-contention-{}", std::process::id()));
    let svg_path = dir.join("waiters.svg");
    contention::write_flamegraph(&svg_path).unwrap();
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    assert!(svg.starts_with("<?xml"));
    assert!(svg.contains("wait_for_the_lock"));
    assert!(svg.contains("prof-export"));
    assert!(svg.contains("ns"));

    let bytes = contention::pprof(View::Waiters);
    let profile = pprof_decode::Profile::decode(&bytes);
    assert_eq!(
        profile.sample_types(),
        vec![
            ("contentions".to_string(), "count".to_string()),
            ("delay".to_string(), "nanoseconds".to_string())
        ]
    );
    let folded_total = folded_total(&contention::folded(), &["prof-export"]);
    let pprof_total: u64 = profile
        .samples
        .iter()
        .filter(|s| {
            s.labels.iter().any(|(k, v)| {
                profile.string(*k) == "lock" && profile.string(*v).contains("prof-export")
            })
        })
        .map(|s| s.values[1])
        .sum();
    // Both come from the same samples; they differ by rounding at most.
    assert!(
        folded_total.abs_diff(pprof_total) <= 8,
        "folded {folded_total}, pprof {pprof_total}"
    );
    assert!(pprof_total > 0);
    let _ = std::fs::remove_dir_all(dir);
}

/// A test-only protobuf decoder for the fields lockwatch writes.
mod pprof_decode {
    pub struct Sample {
        pub values: Vec<u64>,
        pub labels: Vec<(u64, u64)>,
    }

    pub struct Profile {
        pub sample_type: Vec<(u64, u64)>,
        pub samples: Vec<Sample>,
        pub strings: Vec<String>,
    }

    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let byte = b[*i];
            *i += 1;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    /// (field, varint value or bytes) pairs of one message.
    fn fields(b: &[u8]) -> Vec<(u64, Result<u64, &[u8]>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i);
            match key & 7 {
                0 => out.push((key >> 3, Ok(varint(b, &mut i)))),
                2 => {
                    let len = varint(b, &mut i) as usize;
                    out.push((key >> 3, Err(&b[i..i + len])));
                    i += len;
                }
                other => panic!("unexpected wire type {other}"),
            }
        }
        out
    }

    fn packed(b: &[u8]) -> Vec<u64> {
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            out.push(varint(b, &mut i));
        }
        out
    }

    fn pair(b: &[u8]) -> (u64, u64) {
        let mut p = (0, 0);
        for (f, v) in fields(b) {
            match (f, v) {
                (1, Ok(x)) => p.0 = x,
                (2, Ok(x)) => p.1 = x,
                _ => {}
            }
        }
        p
    }

    impl Profile {
        pub fn decode(b: &[u8]) -> Profile {
            let mut p = Profile {
                sample_type: Vec::new(),
                samples: Vec::new(),
                strings: Vec::new(),
            };
            for (field, value) in fields(b) {
                match (field, value) {
                    (1, Err(m)) => p.sample_type.push(pair(m)),
                    (2, Err(m)) => {
                        let mut s = Sample {
                            values: Vec::new(),
                            labels: Vec::new(),
                        };
                        for (f, v) in fields(m) {
                            match (f, v) {
                                (2, Err(vals)) => s.values = packed(vals),
                                (3, Err(label)) => s.labels.push(pair(label)),
                                _ => {}
                            }
                        }
                        p.samples.push(s);
                    }
                    (6, Err(s)) => p.strings.push(String::from_utf8(s.to_vec()).unwrap()),
                    _ => {}
                }
            }
            p
        }

        pub fn string(&self, i: u64) -> &str {
            &self.strings[i as usize]
        }

        pub fn sample_types(&self) -> Vec<(String, String)> {
            self.sample_type
                .iter()
                .map(|(t, u)| (self.string(*t).to_owned(), self.string(*u).to_owned()))
                .collect()
        }
    }
}

/// Takes `m` 2,000 times, holding it a moment each time so that the other hammering thread
/// has to wait for it.
#[inline(never)]
fn hammer(m: &Mutex<u64>, start: &Barrier) {
    start.wait();
    for _ in 0..2_000 {
        let mut g = m.lock();
        for _ in 0..200 {
            std::hint::spin_loop();
        }
        *g += 1;
    }
}

/// Short waits timed by the draw (here every one: a rate of zero) are filed under the
/// waiting function, lockwatch's own frames trimmed, like long ones.
#[test]
fn short_waits_keep_their_callers_frames() {
    contention::set_sample_rate(Duration::ZERO);
    let m = Arc::new(named(Mutex::new(0), "prof-short"));
    let mut lines = Vec::new();
    let mut folded = String::new();
    // Two threads almost always wait for each other in the first round; a machine that runs
    // them one after the other gets more rounds.
    for round in 1..=20 {
        let start = Barrier::new(2);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| hammer(&m, &start));
            }
        });
        assert_eq!(*m.lock(), round * 4_000);
        folded = contention::folded();
        lines = folded
            .lines()
            .filter(|l| l.contains("prof-short"))
            .map(str::to_owned)
            .collect();
        if !lines.is_empty() {
            break;
        }
    }
    contention::set_sample_rate(Duration::from_micros(10));
    assert!(
        !lines.is_empty(),
        "two threads hammering one lock wait for it\n{folded}"
    );
    for line in lines {
        assert!(line.contains("hammer;[lock] Mutex `prof-short`"), "{line}");
        assert!(!line.contains("lockwatch::"), "{line}");
    }
}

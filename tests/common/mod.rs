//! Helpers shared by the integration tests: finding the reports about a test's own locks.
//!
//! Tests in one binary run in parallel and share lockwatch's global state, so every test gives
//! its locks class names of its own and looks only at the reports naming them.

#![allow(dead_code)]

mod spin;

use lockwatch::{Report, ReportKind};

/// Evaluates `$e` and returns it with the `file:line:` it was written at.
#[macro_export]
macro_rules! at {
    ($e:expr) => {
        ($e, format!("{}:{}:", file!(), line!()))
    };
}

/// The reports whose text names every one of `names` (class names, matched with backticks).
pub fn reports_about(names: &[&str]) -> Vec<Report> {
    lockwatch::reports()
        .into_iter()
        .filter(|r| {
            let text = r.to_string();
            names.iter().all(|n| text.contains(&format!("`{n}`")))
        })
        .collect()
}

/// Asserts exactly one report of `kind` names all of `names` and that its text contains
/// every one of `sites`; returns it.
#[track_caller]
pub fn assert_reported(kind: ReportKind, names: &[&str], sites: &[&str]) -> Report {
    let found: Vec<Report> = reports_about(names)
        .into_iter()
        .filter(|r| r.kind() == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind:?} report about {names:?}, got {}:\n{}",
        found.len(),
        found
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    let text = found[0].to_string();
    for site in sites {
        assert!(text.contains(site), "report does not name {site}:\n{text}");
    }
    found[0].clone()
}

/// Asserts no report names any of `names`.
#[track_caller]
pub fn assert_quiet(names: &[&str]) {
    for name in names {
        let found = reports_about(&[name]);
        assert!(
            found.is_empty(),
            "expected no report about {name}, got:\n{}",
            found
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
    }
}

/// Waits (up to 20 s) for the first report of `kind` whose text names all of `names` (any
/// report of `kind` if `names` is empty): for what the watchdog reports while threads hang.
#[track_caller]
pub fn wait_for_report(kind: ReportKind, names: &[&str]) -> Report {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(r) = reports_about(names).into_iter().find(|r| r.kind() == kind) {
            return r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {kind:?} report about {names:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The sum of a folded profile's values on the lines that contain every one of `needles`.
pub fn folded_total(folded: &str, needles: &[&str]) -> u64 {
    folded
        .lines()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum()
}

/// Any guard, boxed (see [`contend_once`]).
pub trait Guard {}
impl<T> Guard for T {}

/// Makes lock `m` contended once: a thread holds it (`hold`) while this one waits for it
/// (`wait`), so that lockwatch takes it the direct way from then on (see `LockMeta::direct`).
pub fn contend_once<M: Sync>(
    m: &M,
    hold: impl FnOnce(&M) -> Box<dyn Guard + '_> + Send,
    wait: impl FnOnce(&M) -> Box<dyn Guard + '_>,
) {
    let started = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g = hold(m);
            started.wait();
            std::thread::sleep(std::time::Duration::from_millis(20));
        });
        started.wait();
        drop(wait(m));
    });
}

/// [`contend_once`] for a mutex of the parking_lot facade.
pub fn contend_mutex_once<T: Send>(m: &lockwatch::parking_lot::Mutex<T>) {
    contend_once(m, |m| Box::new(m.lock()), |m| Box::new(m.lock()));
}

/// Takes `m`, says so on `ready`, and holds it for `hold`: a holder for the contention
/// profile's tests (the blame view names this function).
#[inline(never)]
pub fn hold_for_a_while(
    m: &lockwatch::parking_lot::Mutex<u64>,
    ready: &std::sync::Barrier,
    hold: std::time::Duration,
) {
    let mut g = m.lock();
    ready.wait();
    std::thread::sleep(hold);
    *g += 1;
}

/// Takes `m` and returns how long that took, as the test measures it: a waiter for the
/// contention profile's tests (the waiters view names this function).
#[inline(never)]
pub fn wait_for_the_lock(m: &lockwatch::parking_lot::Mutex<u64>) -> std::time::Duration {
    let start = std::time::Instant::now();
    let mut g = m.lock();
    let waited = start.elapsed();
    *g += 1;
    waited
}

/// A small deterministic generator (xorshift), so failures replay. The seed must not be 0.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The classic lost update on `counter`: this thread loads it, another thread adds 1, then
/// this thread stores what it read plus 1, overwriting the other's write.
pub fn lose_an_update(counter: &std::sync::Arc<lockwatch::sync::atomic::AtomicU64>) {
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::{Arc, Barrier};
    let (read, written) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
    let other = {
        let (counter, read, written) =
            (Arc::clone(counter), Arc::clone(&read), Arc::clone(&written));
        std::thread::spawn(move || {
            read.wait();
            counter.fetch_add(1, Relaxed);
            written.wait();
        })
    };
    let seen = counter.load(Relaxed);
    read.wait();
    written.wait();
    counter.store(seen + 1, Relaxed);
    other.join().unwrap();
}

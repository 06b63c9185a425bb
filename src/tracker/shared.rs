//! Lock order shared between processes through Redis (`LOCKWATCH_REDIS`,
//! `lockwatch::redis::share_order`).
//!
//! Class-level order edges between classes whose name means the same in every process (Redis
//! leases, and locks given a name with `named` or `CustomLock`) are written to Redis with their
//! evidence (program, host, pid, thread, both sites, when first seen), one key per edge
//! (`lockwatch:edge:FROM\x1fTO\x1fTYPE`), expiring after a day so that old code paths fade.
//! A background thread publishes this process's new edges, reads everyone's, and looks for
//! strong cycles that span processes: such a cycle is reported by the process whose edge on it
//! is the newest (the one that closed it). The lock fast path never talks to Redis; new edges
//! only go to an outbox. Redis unreachable or slow: one warning, local detection goes on, and
//! the edges are shared once it is back.

use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::class::LockClass;
use super::Method;
use crate::report::{Acquisition, Finding, LockName, OrderStep, Report, Site};

/// How long an edge stays in Redis after it was last published.
const TTL_SECS: u64 = 24 * 60 * 60;
/// Between two rounds of the background thread.
const ROUND: Duration = Duration::from_millis(250);
/// Edges kept for publishing while Redis is away.
const OUTBOX_MAX: usize = 10_000;
const KEY_PREFIX: &str = "lockwatch:edge:";

/// One order edge between shared classes, with its first witness.
#[derive(Clone, Debug, PartialEq)]
struct Edge {
    from: String,
    to: String,
    /// lockdep's edge type: the tail held shared, the head a recursive read.
    shared_tail: bool,
    recursive_head: bool,
    program: String,
    host: String,
    pid: u32,
    thread: String,
    from_site: String,
    to_site: String,
    from_method: String,
    to_method: String,
    /// Unix time in ms.
    first_seen: u64,
}

impl Edge {
    fn key(&self) -> String {
        format!(
            "{KEY_PREFIX}{}\u{1f}{}\u{1f}{}{}",
            self.from, self.to, self.shared_tail as u8, self.recursive_head as u8
        )
    }

    fn value(&self) -> String {
        [
            "lockwatch1",
            &self.program,
            &self.pid.to_string(),
            &self.host,
            &self.thread,
            &self.from_site,
            &self.to_site,
            &self.from_method,
            &self.to_method,
            &self.first_seen.to_string(),
        ]
        .iter()
        .map(|f| f.replace('|', "/"))
        .collect::<Vec<_>>()
        .join("|")
    }

    fn parse(key: &str, value: &str) -> Option<Edge> {
        let mut k = key.strip_prefix(KEY_PREFIX)?.split('\u{1f}');
        let (from, to, ty) = (k.next()?, k.next()?, k.next()?.as_bytes());
        let mut v = value.split('|');
        if v.next()? != "lockwatch1" || ty.len() != 2 {
            return None;
        }
        Some(Edge {
            from: from.to_owned(),
            to: to.to_owned(),
            shared_tail: ty[0] == b'1',
            recursive_head: ty[1] == b'1',
            program: v.next()?.to_owned(),
            pid: v.next()?.parse().ok()?,
            host: v.next()?.to_owned(),
            thread: v.next()?.to_owned(),
            from_site: v.next()?.to_owned(),
            to_site: v.next()?.to_owned(),
            from_method: v.next()?.to_owned(),
            to_method: v.next()?.to_owned(),
            first_seen: v.next()?.parse().ok()?,
        })
    }

    fn mine(&self) -> bool {
        self.pid == std::process::id() && self.host == crate::process::host()
    }

    /// The process and thread that first took this order, as reports name them.
    fn who(&self) -> String {
        format!(
            "process `{}` (pid {} on {}{}), thread `{}`",
            self.program,
            self.pid,
            self.host,
            if self.mine() { ": this one" } else { "" },
            self.thread
        )
    }
}

struct Sharing {
    client: redis::Client,
    url: String,
    /// New edges not yet published.
    outbox: Vec<Edge>,
    /// Every edge this process has learned, for the cycle check and for republishing.
    own: Vec<Edge>,
    /// Shared classes this process knows, by key, for naming them in reports.
    classes: HashMap<String, &'static LockClass>,
    /// Cycles reported, by their sorted edge keys.
    reported: HashSet<Vec<String>>,
}

static SHARING: parking_lot::Mutex<Option<Sharing>> = parking_lot::Mutex::new(None);
static FROM_ENV: OnceLock<()> = OnceLock::new();
/// Edges learned before sharing started (shared when it does), and their classes.
type Early = (Vec<Edge>, Vec<(String, &'static LockClass)>);
static EARLY: parking_lot::Mutex<Early> = parking_lot::Mutex::new((Vec::new(), Vec::new()));

/// Starts sharing lock order through the Redis at `url` (once per process; a second call
/// with another URL is refused).
pub(crate) fn start(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url)
        .map_err(|e| format!("lockwatch: bad Redis URL {url:?} for sharing lock order: {e}"))?;
    {
        let mut sharing = SHARING.lock();
        if let Some(s) = sharing.as_ref() {
            return if s.url == url {
                Ok(())
            } else {
                Err(format!(
                    "lockwatch: lock order is already shared through {}; not also {url}",
                    s.url
                ))
            };
        }
        let (early, classes) = std::mem::take(&mut *EARLY.lock());
        *sharing = Some(Sharing {
            client,
            url: url.to_owned(),
            outbox: early.clone(),
            own: early,
            classes: classes.into_iter().collect(),
            reported: HashSet::new(),
        });
    }
    let spawned = std::thread::Builder::new()
        .name("lockwatch-share".into())
        .spawn(run);
    if let Err(e) = spawned {
        return Err(format!(
            "lockwatch: could not start the thread that shares lock order ({e})"
        ));
    }
    register_exit_flush();
    Ok(())
}

/// Starts sharing if `LOCKWATCH_REDIS` says so (once; a bad value is one warning).
pub(crate) fn start_from_env() {
    FROM_ENV.get_or_init(|| {
        let Some(url) = std::env::var("LOCKWATCH_REDIS")
            .ok()
            .filter(|v| !v.trim().is_empty())
        else {
            return;
        };
        if let Err(message) = start(url.trim()) {
            crate::settings::warn_once("LOCKWATCH_REDIS", &message);
        }
    });
}

/// The name under which a class is shared, if it has one that means the same everywhere.
fn shared_key(class: &LockClass) -> Option<String> {
    Some(format!("{} {}", class.kind.as_str(), class.name?))
}

/// A new class-level edge `from → to` was added to the local graph: shared if both classes
/// are. Called under the graph lock: it only fills the outbox.
#[allow(clippy::too_many_arguments)]
pub(crate) fn learned(
    from: &'static LockClass,
    to: &'static LockClass,
    from_site: &'static Location<'static>,
    to_site: &'static Location<'static>,
    from_method: Method,
    to_method: Method,
    shared_tail: bool,
    recursive_head: bool,
) {
    let (Some(from_key), Some(to_key)) = (shared_key(from), shared_key(to)) else {
        return;
    };
    start_from_env();
    let edge = Edge {
        from: from_key.clone(),
        to: to_key.clone(),
        shared_tail,
        recursive_head,
        program: crate::process::program().to_owned(),
        host: crate::process::host().to_owned(),
        pid: std::process::id(),
        thread: super::held::thread_name().to_string(),
        from_site: from_site.to_string(),
        to_site: to_site.to_string(),
        from_method: from_method.as_str().to_owned(),
        to_method: to_method.as_str().to_owned(),
        first_seen: unix_ms(),
    };
    let mut sharing = SHARING.lock();
    let Some(sharing) = sharing.as_mut() else {
        let mut early = EARLY.lock();
        if early.0.len() < OUTBOX_MAX {
            early.0.push(edge);
            early.1.push((from_key, from));
            early.1.push((to_key, to));
        }
        return;
    };
    sharing.classes.insert(from_key, from);
    sharing.classes.insert(to_key, to);
    if sharing.outbox.len() < OUTBOX_MAX {
        sharing.outbox.push(edge.clone());
    }
    sharing.own.push(edge);
}

/// The background thread: publish, read, check, every round.
fn run() {
    let mut conn: Option<redis::Connection> = None;
    let mut rounds = 0u64;
    let mut away = false;
    loop {
        let client = match SHARING.lock().as_ref() {
            Some(s) => s.client.clone(),
            None => return,
        };
        if conn.is_none() {
            match connect(&client) {
                Ok(c) => {
                    if away {
                        crate::settings::warn_once(
                            "LOCKWATCH_REDIS back",
                            "lockwatch: Redis is reachable again: sharing lock order",
                        );
                        // Everything learned meanwhile goes out again.
                        requeue_all();
                        away = false;
                    }
                    conn = Some(c);
                }
                Err(e) => {
                    away = true;
                    say_away(&e);
                    std::thread::sleep(ROUND * 4);
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        rounds += 1;
        if rounds % 1_000 == 0 {
            requeue_all(); // Refresh the TTL of what this process still knows.
        }
        if let Err(e) = round(c) {
            away = true;
            say_away(&e);
            conn = None;
            requeue_all();
        }
        std::thread::sleep(ROUND);
    }
}

fn connect(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let c = client.get_connection_with_timeout(Duration::from_secs(1))?;
    c.set_read_timeout(Some(Duration::from_secs(2)))?;
    c.set_write_timeout(Some(Duration::from_secs(2)))?;
    Ok(c)
}

fn say_away(e: &redis::RedisError) {
    let url = SHARING
        .lock()
        .as_ref()
        .map(|s| s.url.clone())
        .unwrap_or_default();
    crate::settings::warn_once(
        "LOCKWATCH_REDIS away",
        &format!(
            "lockwatch: cannot reach Redis at {url} ({e}): lock order stays local to this \
             process until it is back"
        ),
    );
}

fn requeue_all() {
    if let Some(s) = SHARING.lock().as_mut() {
        let own = s.own.clone();
        s.outbox = own;
        s.outbox.truncate(OUTBOX_MAX);
    }
}

/// Publishes the outbox, reads every process's edges, and reports new cycles across
/// processes.
fn round(c: &mut redis::Connection) -> redis::RedisResult<()> {
    publish(c)?;
    let mut keys: Vec<String> = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{KEY_PREFIX}*"))
            .arg("COUNT")
            .arg(1000)
            .query(c)?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    let values: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(c)?;
    let everyone: Vec<Edge> = keys
        .iter()
        .zip(values)
        .filter_map(|(k, v)| Edge::parse(k, &v?))
        .collect();
    check(&everyone);
    Ok(())
}

fn publish(c: &mut redis::Connection) -> redis::RedisResult<()> {
    let outbox = match SHARING.lock().as_mut() {
        Some(s) => std::mem::take(&mut s.outbox),
        None => return Ok(()),
    };
    for (i, edge) in outbox.iter().enumerate() {
        // The first witness stays; a later one only keeps the edge alive.
        let done = redis::pipe()
            .cmd("SET")
            .arg(edge.key())
            .arg(edge.value())
            .arg("NX")
            .arg("EX")
            .arg(TTL_SECS)
            .ignore()
            .cmd("EXPIRE")
            .arg(edge.key())
            .arg(TTL_SECS)
            .ignore()
            .query::<()>(c);
        if let Err(e) = done {
            // Back in the outbox for the next round.
            if let Some(s) = SHARING.lock().as_mut() {
                let mut rest = outbox[i..].to_vec();
                rest.append(&mut s.outbox);
                rest.truncate(OUTBOX_MAX);
                s.outbox = rest;
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Publishes what is left in the outbox now (at exit), within about a second.
fn flush() {
    let client = match SHARING.lock().as_ref() {
        Some(s) if !s.outbox.is_empty() => s.client.clone(),
        _ => return,
    };
    if let Ok(mut c) = connect(&client) {
        let _ = publish(&mut c);
    }
}

fn register_exit_flush() {
    #[cfg(unix)]
    {
        extern "C" fn at_exit() {
            // On a thread of its own (the exiting thread's locals may be gone), waited for
            // two seconds at most.
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let signal = std::sync::Arc::clone(&done);
            let spawned = std::thread::Builder::new()
                .name("lockwatch-share-exit".into())
                .spawn(move || {
                    flush();
                    signal.store(true, std::sync::atomic::Ordering::Release);
                });
            if spawned.is_err() {
                return;
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while !done.load(std::sync::atomic::Ordering::Acquire)
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // SAFETY: `at_exit` is a plain `extern "C" fn()` with no captured state, as `atexit`
        // requires.
        let registered = unsafe { libc::atexit(at_exit) };
        if registered != 0 {
            eprintln!("lockwatch: could not register the exit-time sharing of lock order");
        }
    }
}

/// Looks for strong cycles through this process's edges and at least one other process's;
/// reports each once, here if this process's edge on it is the newest.
fn check(everyone: &[Edge]) {
    let mut by_key: HashMap<String, Edge> = HashMap::new();
    let own = SHARING
        .lock()
        .as_ref()
        .map(|s| s.own.clone())
        .unwrap_or_default();
    for edge in everyone.iter().chain(&own) {
        let keep = by_key
            .get(&edge.key())
            .map_or(true, |e| edge.first_seen < e.first_seen);
        if keep {
            by_key.insert(edge.key(), edge.clone());
        }
    }
    let edges: Vec<&Edge> = by_key.values().collect();
    for start in edges.iter().filter(|e| e.mine()) {
        let Some(path) = strong_path(&edges, start) else {
            continue;
        };
        let mut cycle: Vec<&Edge> = vec![start];
        cycle.extend(path);
        if cycle.iter().all(|e| e.mine()) {
            continue; // The local graph reports that one.
        }
        let newest = cycle
            .iter()
            .max_by_key(|e| e.first_seen)
            .expect("not empty");
        if !newest.mine() {
            continue; // Its process reports it.
        }
        let mut id: Vec<String> = cycle.iter().map(|e| e.key()).collect();
        id.sort();
        let classes = {
            let mut sharing = SHARING.lock();
            let Some(sharing) = sharing.as_mut() else {
                return;
            };
            if !sharing.reported.insert(id) {
                continue;
            }
            sharing.classes.clone()
        };
        crate::report::deliver_from_watchdog(report(&cycle, newest, &classes));
    }
}

/// A strong path from `start`'s head back to its tail (lockdep's rule: no step enters a node
/// as a recursive reader and leaves it as a shared holder), if there is one.
fn strong_path<'a>(edges: &[&'a Edge], start: &Edge) -> Option<Vec<&'a Edge>> {
    // Depth-first over (node, entered as a recursive read), remembering the way.
    let mut seen = HashSet::new();
    let mut stack: Vec<(String, bool, Vec<&'a Edge>)> =
        vec![(start.to.clone(), start.recursive_head, Vec::new())];
    while let Some((node, entered_r, path)) = stack.pop() {
        if node == start.from && !(entered_r && start.shared_tail) && !path.is_empty() {
            return Some(path);
        }
        if node == start.from && path.is_empty() && !(entered_r && start.shared_tail) {
            // `start` alone is a self-loop: not a cycle between classes.
            continue;
        }
        if !seen.insert((node.clone(), entered_r)) {
            continue;
        }
        for e in edges
            .iter()
            .filter(|e| e.from == node && !(entered_r && e.shared_tail))
        {
            if e.key() == start.key() {
                continue;
            }
            let mut next = path.clone();
            next.push(*e);
            stack.push((e.to.clone(), e.recursive_head, next));
        }
    }
    None
}

/// The report of a cycle across processes, closed here by `newest`.
fn report(cycle: &[&Edge], newest: &Edge, classes: &HashMap<String, &'static LockClass>) -> Report {
    let lock = |key: &str, site: Site| -> LockName {
        match classes.get(key) {
            Some(class) => super::explain::lock_name(class, None),
            None => {
                let (kind, name) = key.split_once(' ').unwrap_or(("Lock", key));
                LockName {
                    kind: super::class::intern_name(kind),
                    name: Some(super::class::intern_name(name)),
                    data: "",
                    created: site,
                    instance: None,
                }
            }
        }
    };
    let site = |s: &str| Site::parse(s).unwrap_or_else(Site::unknown);
    let acquisition = |key: &str, s: &str, method: &str| Acquisition {
        lock: lock(key, site(s)),
        method: super::class::intern_name(method),
        site: site(s),
        trylock: false,
        duration: None,
        called_from: None,
    };
    // The closing edge last, as in a local report.
    let at = cycle.iter().position(|e| e == &newest).unwrap_or(0);
    let steps: Vec<OrderStep> = cycle[at + 1..]
        .iter()
        .chain(&cycle[..=at])
        .map(|e| OrderStep {
            from: acquisition(&e.from, &e.from_site, &e.from_method),
            to: acquisition(&e.to, &e.to_site, &e.to_method),
            thread: e.who(),
            new: e == &newest,
            span: None,
            backtrace: None,
        })
        .collect();
    Report::new(Finding::LockOrder {
        thread: newest.who(),
        acquiring: acquisition(&newest.to, &newest.to_site, &newest.to_method),
        held: vec![acquisition(
            &newest.from,
            &newest.from_site,
            &newest.from_method,
        )],
        cycle: steps,
        per_instance: false,
    })
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: &str, to: &str, pid: u32, first_seen: u64) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            shared_tail: false,
            recursive_head: false,
            program: "p".into(),
            host: crate::process::host().into(),
            pid,
            thread: "t".into(),
            from_site: "src/a.rs:1:2".into(),
            to_site: "src/a.rs:3:4".into(),
            from_method: "lock".into(),
            to_method: "lock".into(),
            first_seen,
        }
    }

    #[test]
    fn an_edge_round_trips_through_its_key_and_value() {
        let e = edge("Lease order:#", "Mutex users", 7, 99);
        assert_eq!(Edge::parse(&e.key(), &e.value()), Some(e));
        assert_eq!(Edge::parse("lockwatch:edge:a\u{1f}b\u{1f}00", "junk"), None);
    }

    #[test]
    fn strong_paths_follow_the_read_rules() {
        let ab = edge("A", "B", 1, 1);
        let ba = edge("B", "A", 2, 2);
        assert!(strong_path(&[&ab, &ba], &ab).is_some());
        // B entered as a recursive read and left as a shared hold: not strong.
        let mut ab_r = ab.clone();
        ab_r.recursive_head = true;
        let mut ba_s = ba.clone();
        ba_s.shared_tail = true;
        assert!(strong_path(&[&ab_r, &ba_s], &ab_r).is_none());
        assert!(strong_path(&[&ab], &ab).is_none());
    }
}

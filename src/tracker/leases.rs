//! Leases the watchdog watches: a lease that expires while its guard is still held is a
//! `LeaseExpired` report, made from the guard's own deadline (no polling of the server).

use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::class::LockClass;
use super::Method;
use crate::report::{Acquisition, Finding, Report, Site};

/// One held lease.
struct Watched {
    key: Arc<str>,
    class: &'static LockClass,
    method: Method,
    site: &'static Location<'static>,
    thread: Arc<str>,
    since: Instant,
    ttl: Duration,
    expires: Instant,
    /// The report made when it expired, until it is extended or released.
    reported: Option<Report>,
}

static WATCHED: parking_lot::Mutex<Option<HashMap<u64, Watched>>> = parking_lot::Mutex::new(None);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Starts watching a lease on `key` just acquired by this thread for `ttl`; returns its id.
pub(crate) fn watch(
    key: &str,
    class: &'static LockClass,
    method: Method,
    site: &'static Location<'static>,
    ttl: Duration,
) -> u64 {
    let id = NEXT.fetch_add(1, Relaxed);
    let now = Instant::now();
    WATCHED.lock().get_or_insert_with(HashMap::new).insert(
        id,
        Watched {
            key: key.into(),
            class,
            method,
            site,
            thread: super::held::thread_name(),
            since: now,
            ttl,
            expires: now + ttl,
            reported: None,
        },
    );
    // The watchdog is awake: the lease's hold, on this thread's stack, woke it.
    id
}

/// The lease `id` was extended: it now expires `ttl` from now.
pub(crate) fn extended(id: u64, ttl: Duration) {
    let done = WATCHED.lock().as_mut().and_then(|w| {
        let lease = w.get_mut(&id)?;
        lease.ttl = ttl;
        lease.expires = Instant::now() + ttl;
        Some((lease.reported.take()?, lease.since.elapsed()))
    });
    if let Some((report, held)) = done {
        crate::report::follow_up(
            &report,
            format!(
                "extended after it had expired (held {})",
                crate::report::ms(held)
            ),
            &format!("lease extended after it had expired: {}", report.summary()),
        );
    }
}

/// The lease `id` was released (or its guard dropped).
pub(crate) fn released(id: u64) {
    let lease = WATCHED.lock().as_mut().and_then(|w| w.remove(&id));
    if let Some(Watched {
        reported: Some(report),
        since,
        expires,
        key,
        ..
    }) = lease
    {
        let (held, late) = (since.elapsed(), expires.elapsed());
        crate::report::follow_up(
            &report,
            format!("released after {}", crate::report::ms(held)),
            &format!(
                "lease expired while held, over: `{key}` released {} after it was taken, {} \
                 after it expired",
                crate::report::ms(held),
                crate::report::ms(late)
            ),
        );
    }
}

/// The watchdog's pass: a report for each lease past its deadline not reported yet.
pub(crate) fn expired(out: &mut Vec<Report>) {
    let now = Instant::now();
    let mut watched = WATCHED.lock();
    let Some(watched) = watched.as_mut() else {
        return;
    };
    for lease in watched.values_mut() {
        if lease.reported.is_some() || now < lease.expires {
            continue;
        }
        let report = Report::new(Finding::LeaseExpired {
            thread: lease.thread.to_string(),
            key: lease.key.to_string(),
            hold: Acquisition {
                lock: super::explain::lock_name(lease.class, None),
                method: lease.method.as_str(),
                site: Site::of(lease.site),
                trylock: false,
                duration: Some(now - lease.since),
                called_from: None,
            },
            ttl: lease.ttl,
            expired_for: now - lease.expires,
        });
        lease.reported = Some(report.clone());
        out.push(report);
    }
}

/// Whether any lease is watched (the watchdog stays awake for it).
pub(crate) fn any() -> bool {
    WATCHED.lock().as_ref().is_some_and(|w| !w.is_empty())
}

/// One process in a deadlock across processes, as the waiter found it in Redis: who it is,
/// the lease it holds (the one the step before waits for) and the lease it waits for.
pub(crate) struct Remote {
    /// The holder's description (``process `p` (pid 1 on h), thread `t`, at f.rs:1:2``).
    pub(crate) who: String,
    pub(crate) holds_key: String,
    pub(crate) holds_site: String,
    pub(crate) waits_key: String,
    pub(crate) waits_site: String,
}

/// Cycles across processes reported by this process, by their sorted keys.
static REPORTED: parking_lot::Mutex<Option<std::collections::HashSet<Vec<String>>>> =
    parking_lot::Mutex::new(None);

/// This thread waits (since `waited` ago, at `site`) for the lease on `key` (`meta`), and the
/// chain of holders in `remotes` comes back to it: a deadlock across processes, reported
/// once.
pub(crate) fn cross_process_deadlock(
    key: &str,
    meta: &super::LockMeta,
    site: &'static Location<'static>,
    waited: Duration,
    remotes: Vec<Remote>,
) {
    let mut keys: Vec<String> = remotes.iter().map(|r| r.holds_key.clone()).collect();
    keys.sort();
    if !REPORTED
        .lock()
        .get_or_insert_with(Default::default)
        .insert(keys)
    {
        return;
    }
    let lease = |key: &str, site: Option<Site>| crate::report::LockName {
        kind: "Lease",
        name: Some(super::class::intern_name(key)),
        data: "",
        created: site.unwrap_or(Site::of(meta_site(meta))),
        instance: None,
    };
    let acquisition = |key: &str, site: Site, duration: Option<Duration>| Acquisition {
        lock: lease(key, Some(site)),
        method: "lock",
        site,
        trylock: false,
        duration,
        called_from: None,
    };
    let here = Site::of(site);
    let mine: Vec<Acquisition> = super::held::snapshot()
        .iter()
        .map(|h| super::explain::held(h, false, None))
        .collect();
    let mut threads = vec![crate::report::BlockedThread {
        thread: super::held::thread_name().to_string(),
        waits_for: acquisition(key, here, Some(waited)),
        holds: mine,
        condvar_notifiers: None,
        backtrace: None,
    }];
    for r in &remotes {
        let hold_site = Site::parse(&r.holds_site).unwrap_or(here);
        let wait_site = Site::parse(&r.waits_site).unwrap_or(hold_site);
        threads.push(crate::report::BlockedThread {
            thread: r.who.clone(),
            waits_for: acquisition(&r.waits_key, wait_site, None),
            holds: vec![acquisition(&r.holds_key, hold_site, None)],
            condvar_notifiers: None,
            backtrace: None,
        });
    }
    super::held::with_inventory(super::held::Inventory::mark_deadlocked);
    crate::report::deliver(Report::new(Finding::Deadlock { threads }));
}

fn meta_site(meta: &super::LockMeta) -> &'static Location<'static> {
    meta.site
}

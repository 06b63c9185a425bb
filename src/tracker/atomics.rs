//! Lost-update detection and CAS contention counts for the tracked atomics.
//!
//! Every write stamps the atomic with a token (this thread's id and a per-thread write count)
//! and its site. A load remembers, in a small thread-local table, the token it saw. A plain
//! store then compares: a token from another thread means a write came in between, and the
//! store is about to erase it.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use crate::report::{Finding, Report, Site};

/// The tracking part of every tracked atomic.
pub(crate) struct AtomicTrack {
    created: &'static Location<'static>,
    /// Token of the last write: writer thread in the top 24 bits, its write count below. 0:
    /// never written since creation.
    last_write: AtomicU64,
    last_site: AtomicPtr<Location<'static>>,
}

const LOAD_SLOTS: usize = 64;
const THREAD_SHIFT: u32 = 40;

#[derive(Clone, Copy)]
struct Loaded {
    addr: usize,
    token: u64,
    site: *const Location<'static>,
}

struct AtomicThread {
    loads: [Cell<Loaded>; LOAD_SLOTS],
    /// The next write token; 0 until this thread's first write.
    next_token: Cell<u64>,
    cas_failures: Cell<u64>,
}

thread_local! {
    static THREAD: AtomicThread = const {
        AtomicThread {
            loads: [const { Cell::new(Loaded { addr: 0, token: 0, site: std::ptr::null() }) }; LOAD_SLOTS],
            next_token: Cell::new(0),
            cas_failures: Cell::new(0),
        }
    };
}

#[inline]
fn slot(addr: usize) -> usize {
    (addr >> 3) % LOAD_SLOTS
}

impl AtomicTrack {
    #[inline]
    pub(crate) const fn new(created: &'static Location<'static>) -> Self {
        AtomicTrack {
            created,
            last_write: AtomicU64::new(0),
            last_site: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// After a load: remember what this thread saw.
    #[inline]
    pub(crate) fn loaded(&self, addr: usize, site: &'static Location<'static>) {
        if !crate::settings::tracking() {
            return;
        }
        let token = self.last_write.load(Relaxed);
        let _ = THREAD.try_with(|t| {
            t.loads[slot(addr)].set(Loaded { addr, token, site });
        });
    }

    /// Before a plain store: was there a foreign write since this thread's load?
    #[inline]
    pub(crate) fn storing(
        &self,
        addr: usize,
        kind: &'static str,
        site: &'static Location<'static>,
    ) {
        if !crate::settings::tracking() {
            return;
        }
        let _ = THREAD.try_with(|t| {
            let cell = &t.loads[slot(addr)];
            let loaded = cell.get();
            if loaded.addr != addr {
                return;
            }
            cell.set(Loaded {
                addr: 0,
                token: 0,
                site: std::ptr::null(),
            });
            let now = self.last_write.load(Relaxed);
            if now != loaded.token && now >> THREAD_SHIFT != t.next_token.get() >> THREAD_SHIFT {
                lost_update(self, kind, loaded, now, site);
            }
        });
    }

    /// After any write: stamp it.
    #[inline]
    pub(crate) fn wrote(&self, site: &'static Location<'static>) {
        if !crate::settings::tracking() {
            return;
        }
        let token = THREAD
            .try_with(|t| {
                let mut token = t.next_token.get();
                if token == 0 {
                    token = first_token();
                }
                t.next_token.set(token + 1);
                token
            })
            .unwrap_or(0);
        self.last_write.store(token, Relaxed);
        self.last_site
            .store(site as *const Location<'static> as *mut _, Relaxed);
    }

    /// A failed compare-exchange: counted, and one in [`CAS_SAMPLE`] recorded with its site.
    #[inline]
    pub(crate) fn cas_failed(&self, site: &'static Location<'static>) {
        if !crate::settings::tracking() {
            return;
        }
        let sampled = THREAD
            .try_with(|t| {
                let n = t.cas_failures.get() + 1;
                t.cas_failures.set(n);
                n % CAS_SAMPLE == 0
            })
            .unwrap_or(false);
        if sampled {
            record_cas_failures(site, CAS_SAMPLE);
        }
    }
}

/// One failed compare-exchange in this many is recorded (with weight this many).
pub(crate) const CAS_SAMPLE: u64 = 16;

struct Threads {
    next: u64,
    names: HashMap<u64, Arc<str>>,
}

fn threads() -> &'static parking_lot::Mutex<Threads> {
    static THREADS: OnceLock<parking_lot::Mutex<Threads>> = OnceLock::new();
    THREADS.get_or_init(|| {
        parking_lot::Mutex::new(Threads {
            next: 1,
            names: HashMap::new(),
        })
    })
}

/// This thread's first write token: a fresh thread id, write count 1.
#[cold]
fn first_token() -> u64 {
    let mut t = threads().lock();
    let id = t.next & ((1 << (64 - THREAD_SHIFT)) - 1);
    t.next += 1;
    t.names.insert(id, super::held::thread_name());
    (id << THREAD_SHIFT) | 1
}

fn thread_of(token: u64) -> Option<Arc<str>> {
    threads()
        .lock()
        .names
        .get(&(token >> THREAD_SHIFT))
        .cloned()
}

/// Lost updates reported, by (load site, store site): one report per bug, kept so that a
/// capture that shows the same bug again gets it.
static REPORTED: parking_lot::Mutex<Option<HashMap<(usize, usize), Report>>> =
    parking_lot::Mutex::new(None);

#[cold]
#[inline(never)]
fn lost_update(
    track: &AtomicTrack,
    kind: &'static str,
    loaded: Loaded,
    now: u64,
    store_site: &'static Location<'static>,
) {
    // SAFETY: `Loaded::site` is only ever set from a `&'static Location`, and `addr` matched,
    // so this entry was set by `loaded`.
    let load_site: &'static Location<'static> = unsafe { &*loaded.site };
    let key = (
        load_site as *const _ as usize,
        store_site as *const _ as usize,
    );
    let before = REPORTED
        .lock()
        .get_or_insert_with(HashMap::new)
        .get(&key)
        .cloned();
    if let Some(report) = before {
        crate::report::recapture(&report);
        return;
    }
    let between = track.last_site.load(Relaxed);
    let report = Report::new(Finding::LostUpdate {
        thread: super::held::thread_name().to_string(),
        atomic: kind,
        created: Site::of(track.created),
        load: Site::of(load_site),
        store: Site::of(store_site),
        writer: thread_of(now).map(|n| n.to_string()),
        // SAFETY: `last_site` only ever holds `&'static Location`s (or null).
        written_at: (!between.is_null()).then(|| Site::of(unsafe { &*between })),
    });
    let first = REPORTED
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(key, report.clone())
        .is_none();
    if first {
        crate::report::deliver(report);
    }
}

#[cold]
#[inline(never)]
fn record_cas_failures(site: &'static Location<'static>, weight: u64) {
    crate::contention::profile::record_cas(site, weight);
}

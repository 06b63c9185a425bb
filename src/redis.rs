//! Redis lease locks, tracked like local locks (feature `redis`).
//!
//! A [`LeaseLock`] is a lock on one Redis key shared by every process that uses the key:
//! `SET key value NX PX ttl` to acquire (waiting with backoff, or [`LeaseLock::try_lock`]),
//! release by compare-and-delete (a Lua script: only the holder's token deletes the key, so a
//! guard whose lease expired cannot release someone else's), [`LeaseGuard::extend`] to keep it.
//! The stored value names the holder (program, pid, host, thread, the site that took it), so
//! that others can say who they wait for ([`LeaseLock::holder`]).
//!
//! With the `enabled` feature a lease takes part in the lock graph like a local lock: its class
//! is a name you give, or the key with its numbers taken out (`order:42` is class `order:#`), so
//! `order:1 → user:1` in one place and `user:2 → order:2` in another is an inversion, and a
//! std `Mutex` held while waiting for a lease is an order edge. Waiting for a lease you hold is
//! reported before the wait (it would only end when the lease expires). The watchdog reports
//! a lease that expires while its guard is still held ([`crate::ReportKind::LeaseExpired`],
//! from the guard's own deadline, without asking the server), and a long wait for a lease
//! names the holder from the stored value. Two processes each holding one lease and waiting for
//! the other's are a deadlock, reported while they hang: waiters publish what they wait for
//! under `lockwatch:waiting:*` and follow the chain of holders.
//!
//! Without `enabled` the same leases work, untracked.
//!
//! # Examples
//!
//! ```no_run
//! use lockwatch::redis::LeaseLock;
//! use std::time::Duration;
//!
//! let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
//! let order = LeaseLock::new(&client, "order:42", Duration::from_secs(10));
//! let guard = order.lock().unwrap();
//! // ... work on order 42, calling `guard.extend()` if it may take longer ...
//! guard.release().unwrap();
//! ```

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[cfg(feature = "enabled")]
use crate::tracker::{self, method, LockKind, LockMeta, Mode};

/// Only the holder's value (its token inside) deletes the key.
const RELEASE: &str = r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end"#;
/// Only the holder's value extends the lease.
const EXTEND: &str = r#"if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end"#;
/// The prefix of a stored holder value.
const VALUE_TAG: &str = "lockwatch1";
/// Where a waiter says which key it waits for (`lockwatch:waiting:<holder id>`).
const WAITING_PREFIX: &str = "lockwatch:waiting:";

/// Shares lock order with other processes through the Redis at `url`, as the environment
/// variable `LOCKWATCH_REDIS=redis://host:port/db` does: class-level order edges between
/// leases and named locks (whose names mean the same in every process) go to Redis with their
/// evidence, and a cycle that spans processes is reported (as a
/// [`LockOrder`](crate::ReportKind::LockOrder) naming each process and site) by the process
/// that closes it. Reads are refreshed in the background; the lock fast path never talks to
/// Redis. If Redis is unreachable, one warning, and local detection goes on. Without the
/// `enabled` feature it only checks the URL.
///
/// # Errors
///
/// A URL that does not parse, or sharing already started with another URL.
///
/// # Examples
///
/// ```
/// assert!(lockwatch::redis::share_order("not a url").is_err());
/// ```
pub fn share_order(url: &str) -> Result<(), ShareError> {
    #[cfg(feature = "enabled")]
    return tracker::shared::start(url).map_err(|message| ShareError { message });
    #[cfg(not(feature = "enabled"))]
    redis::Client::open(url).map(drop).map_err(|e| ShareError {
        message: format!("lockwatch: bad Redis URL {url:?} for sharing lock order: {e}"),
    })
}

/// Why [`share_order`] could not start.
#[derive(Debug, Clone)]
pub struct ShareError {
    message: String,
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShareError {}

/// A lease lock on one Redis key.
pub struct LeaseLock {
    key: String,
    ttl: Duration,
    client: redis::Client,
    /// lockwatch's own lock (never tracked): one connection per lease lock, made on first use.
    conn: parking_lot::Mutex<Option<redis::Connection>>,
    class: Box<str>,
    #[cfg(feature = "enabled")]
    meta: LockMeta,
}

/// A held lease: released (compare-and-delete) when dropped. Not `Send`: it is held by the
/// thread that took it.
#[must_use = "dropping the guard releases the lease at once"]
pub struct LeaseGuard<'a> {
    lock: &'a LeaseLock,
    token: String,
    /// The stored value (the token with the holder's description): what compare-and-delete
    /// compares.
    value: String,
    /// The deadline as last set, on the [`now_ms`] clock.
    expires_ms: AtomicU64,
    released: bool,
    #[cfg(feature = "enabled")]
    tracked: Option<(tracker::HeldToken, u64)>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Who holds a lease, from its stored value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Holder {
    /// The holding program's name.
    pub program: String,
    /// Its process id.
    pub pid: u32,
    /// The host it runs on.
    pub host: String,
    /// The holding thread's name.
    pub thread: String,
    /// Where it took the lease (`file:line:col`).
    pub site: String,
    /// The holder's token (the stored value's unique part): a fencing token to check where
    /// the protected data is written.
    pub token: String,
    /// The holder's identity among waiters (host, pid, thread id).
    id: String,
}

impl Holder {
    /// ``process `orders` (pid 4242 on db-1), thread `main` ``: the holder without its site.
    fn who(&self) -> String {
        format!(
            "process `{}` (pid {} on {}), thread `{}`",
            self.program, self.pid, self.host, self.thread
        )
    }
}

impl fmt::Display for Holder {
    /// ``process `orders` (pid 4242 on db-1), thread `main`, at src/orders.rs:40:9``
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, at {}", self.who(), self.site)
    }
}

/// What went wrong with a lease.
#[derive(Debug)]
#[non_exhaustive]
pub enum LeaseError {
    /// Redis could not be reached, or answered with an error.
    Redis(redis::RedisError),
    /// [`LeaseLock::lock_timeout`] gave up: someone else held the key the whole time.
    Timeout {
        /// The key.
        key: String,
        /// Its holder when the wait ended, if it could be read.
        holder: Option<Box<Holder>>,
    },
    /// [`LeaseGuard::extend`]: the lease had expired and the key is gone or another holder's.
    Lost {
        /// The key.
        key: String,
    },
}

impl fmt::Display for LeaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaseError::Redis(e) => write!(f, "redis: {e}"),
            LeaseError::Timeout { key, holder: None } => {
                write!(f, "timed out waiting for lease `{key}`")
            }
            LeaseError::Timeout {
                key,
                holder: Some(h),
            } => write!(f, "timed out waiting for lease `{key}`, held by {h}"),
            LeaseError::Lost { key } => write!(
                f,
                "lease `{key}` expired before it was extended: another process may hold it"
            ),
        }
    }
}

impl std::error::Error for LeaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LeaseError::Redis(e) => Some(e),
            _ => None,
        }
    }
}

impl From<redis::RedisError> for LeaseError {
    fn from(e: redis::RedisError) -> Self {
        LeaseError::Redis(e)
    }
}

impl LeaseLock {
    /// A lease lock on `key`, held for `ttl` at a time unless extended. Its lock class is the
    /// key with every run of digits replaced by `#` (`order:42` → `order:#`); give one with
    /// [`LeaseLock::with_class`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::redis::LeaseLock;
    /// use std::time::Duration;
    ///
    /// let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap(); // no connection yet
    /// let lock = LeaseLock::new(&client, "order:42", Duration::from_secs(5));
    /// assert_eq!(lock.class(), "order:#");
    /// ```
    #[track_caller]
    pub fn new(client: &redis::Client, key: impl Into<String>, ttl: Duration) -> LeaseLock {
        let key = key.into();
        let class = class_of(&key);
        LeaseLock::make(client, key, &class, ttl, Location::caller())
    }

    /// A lease lock on `key` in the lock class `class` (all leases of one class are ordered
    /// alike, whatever their keys).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::redis::LeaseLock;
    /// use std::time::Duration;
    ///
    /// let client = redis::Client::open("redis://127.0.0.1:6379/").unwrap();
    /// let lock = LeaseLock::with_class(&client, "tenant/acme/orders", "orders", Duration::from_secs(5));
    /// assert_eq!(lock.class(), "orders");
    /// ```
    #[track_caller]
    pub fn with_class(
        client: &redis::Client,
        key: impl Into<String>,
        class: &str,
        ttl: Duration,
    ) -> LeaseLock {
        LeaseLock::make(client, key.into(), class, ttl, Location::caller())
    }

    fn make(
        client: &redis::Client,
        key: String,
        class: &str,
        ttl: Duration,
        site: &'static Location<'static>,
    ) -> LeaseLock {
        #[cfg(not(feature = "enabled"))]
        let _ = site;
        LeaseLock {
            key,
            ttl: ttl.max(Duration::from_millis(1)),
            client: client.clone(),
            conn: parking_lot::Mutex::new(None),
            class: class.into(),
            #[cfg(feature = "enabled")]
            meta: LockMeta::named(LockKind::Lease, site, tracker::intern_name(class)),
        }
    }

    /// The key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The lock class (given, or made from the key).
    pub fn class(&self) -> &str {
        &self.class
    }

    /// The time to live of each acquisition.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes the lease, waiting (with backoff) for as long as another holder has it.
    ///
    /// # Errors
    ///
    /// [`LeaseError::Redis`] if Redis cannot be reached.
    #[track_caller]
    pub fn lock(&self) -> Result<LeaseGuard<'_>, LeaseError> {
        self.acquire(None, Location::caller())
    }

    /// Takes the lease, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`LeaseError::Timeout`] (naming the holder) if it was held the whole time,
    /// [`LeaseError::Redis`] if Redis cannot be reached.
    #[track_caller]
    pub fn lock_timeout(&self, timeout: Duration) -> Result<LeaseGuard<'_>, LeaseError> {
        self.acquire(Some(Instant::now() + timeout), Location::caller())
    }

    /// Takes the lease if it is free now: `Ok(None)` if someone holds it. A successful try is
    /// held (it orders later acquisitions) but adds no order edge into this lease.
    ///
    /// # Errors
    ///
    /// [`LeaseError::Redis`] if Redis cannot be reached.
    #[track_caller]
    pub fn try_lock(&self) -> Result<Option<LeaseGuard<'_>>, LeaseError> {
        let site = Location::caller();
        let token = new_token();
        let value = encode_value(&token, site);
        if !self.set_nx(&value)? {
            return Ok(None);
        }
        let guard = self.guard(token, value);
        #[cfg(feature = "enabled")]
        let guard = {
            let mut guard = guard;
            let held = self
                .meta
                .acquired_external(Mode::Exclusive, method!("try_lock"), site);
            guard.tracked = Some((held, self.watch(method!("try_lock"), site)));
            guard
        };
        Ok(Some(guard))
    }

    /// The current holder, from the stored value; `None` if the key is free (or was not set by
    /// lockwatch).
    ///
    /// # Errors
    ///
    /// [`LeaseError::Redis`] if Redis cannot be reached.
    pub fn holder(&self) -> Result<Option<Holder>, LeaseError> {
        let value: Option<String> =
            self.with_conn(|c| redis::cmd("GET").arg(&self.key).query(c))?;
        Ok(value.as_deref().and_then(decode_value))
    }

    fn acquire(
        &self,
        deadline: Option<Instant>,
        site: &'static Location<'static>,
    ) -> Result<LeaseGuard<'_>, LeaseError> {
        #[cfg(feature = "enabled")]
        let waiting = self
            .meta
            .begin_external(Mode::Exclusive, method!("lock"), site);
        let token = new_token();
        let value = encode_value(&token, site);
        let me = identity();
        let mut backoff = Duration::from_millis(2);
        let started = Instant::now();
        let mut published = false;
        let outcome = loop {
            match self.set_nx(&value) {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(e) => break Err(e),
            }
            let holder = self.holder().ok().flatten();
            #[cfg(feature = "enabled")]
            waiting.held_elsewhere_by(holder.as_ref().map(|h| h.to_string().into()));
            if started.elapsed() >= Duration::from_millis(200) {
                // Say what this thread waits for, then follow the holders' waits: a chain
                // back to this thread is a deadlock across processes.
                published |= self.publish_wait(&me, site).is_ok();
                #[cfg(feature = "enabled")]
                if let Some(holder) = &holder {
                    self.check_deadlock(&me, holder, site, started.elapsed());
                }
            }
            if deadline.is_some_and(|d| Instant::now() + backoff > d) {
                break Err(LeaseError::Timeout {
                    key: self.key.clone(),
                    holder: holder.map(Box::new),
                });
            }
            std::thread::sleep(backoff + jitter(backoff));
            backoff = (backoff * 2).min(Duration::from_millis(100));
        };
        if published {
            let _ = self.with_conn(|c| {
                redis::cmd("DEL")
                    .arg(format!("{WAITING_PREFIX}{me}"))
                    .query::<()>(c)
            });
        }
        outcome?;
        let guard = self.guard(token, value);
        #[cfg(feature = "enabled")]
        let guard = {
            let mut guard = guard;
            guard.tracked = Some((waiting.acquired(), self.watch(method!("lock"), site)));
            guard
        };
        Ok(guard)
    }

    fn guard(&self, token: String, value: String) -> LeaseGuard<'_> {
        LeaseGuard {
            lock: self,
            token,
            value,
            expires_ms: AtomicU64::new(now_ms() + self.ttl.as_millis() as u64),
            released: false,
            #[cfg(feature = "enabled")]
            tracked: None,
            _not_send: std::marker::PhantomData,
        }
    }

    #[cfg(feature = "enabled")]
    fn watch(&self, method: tracker::Method, site: &'static Location<'static>) -> u64 {
        tracker::leases::watch(&self.key, self.meta.class(), method, site, self.ttl)
    }

    /// `SET key value NX PX ttl`: whether it was set.
    fn set_nx(&self, value: &str) -> Result<bool, LeaseError> {
        let set: Option<String> = self.with_conn(|c| {
            redis::cmd("SET")
                .arg(&self.key)
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(self.ttl.as_millis() as u64)
                .query(c)
        })?;
        Ok(set.is_some())
    }

    /// Publishes `key|site` as what this thread waits for, for two seconds (refreshed while
    /// it waits).
    fn publish_wait(&self, me: &str, site: &Location<'_>) -> Result<(), LeaseError> {
        self.with_conn(|c| {
            redis::cmd("SET")
                .arg(format!("{WAITING_PREFIX}{me}"))
                .arg(format!("{}|{site}", self.key))
                .arg("PX")
                .arg(2_000)
                .query::<()>(c)
        })
    }

    /// Follows the chain from `holder` (who holds this lease): the key it waits for, that key's
    /// holder, ... A chain that comes back to this thread is a deadlock: reported once.
    #[cfg(feature = "enabled")]
    fn check_deadlock(
        &self,
        me: &str,
        holder: &Holder,
        site: &'static Location<'static>,
        waited: Duration,
    ) {
        // (holder, the key it waits for, where it waits)
        let mut chain: Vec<(Holder, String, String)> = Vec::new();
        let mut current = holder.clone();
        for _ in 0..8 {
            let Ok(Some(waits_for)) = self.with_conn(|c| {
                redis::cmd("GET")
                    .arg(format!("{WAITING_PREFIX}{}", current.id))
                    .query::<Option<String>>(c)
            }) else {
                return;
            };
            let (waits_key, waits_site) = match waits_for.split_once('|') {
                Some((key, site)) => (key.to_owned(), site.to_owned()),
                None => (waits_for, String::new()),
            };
            let Ok(Some(next)) = self
                .with_conn(|c| redis::cmd("GET").arg(&waits_key).query::<Option<String>>(c))
                .map(|v| v.as_deref().and_then(decode_value))
            else {
                return;
            };
            chain.push((current, waits_key, waits_site));
            if next.id == me {
                let remotes = chain
                    .iter()
                    .enumerate()
                    .map(|(i, (h, waits_key, waits_site))| tracker::leases::Remote {
                        who: h.who(),
                        // The first holds this lease; each next one holds what the one
                        // before it waits for.
                        holds_key: if i == 0 {
                            self.key.clone()
                        } else {
                            chain[i - 1].1.clone()
                        },
                        holds_site: h.site.clone(),
                        waits_key: waits_key.clone(),
                        waits_site: waits_site.clone(),
                    })
                    .collect();
                tracker::leases::cross_process_deadlock(
                    &self.key, &self.meta, site, waited, remotes,
                );
                return;
            }
            if chain.iter().any(|(h, _, _)| h.id == next.id) {
                return; // A cycle that does not include this thread: its members report it.
            }
            current = next;
        }
    }

    /// Runs `f` on this lock's connection, connecting on first use and once more after an
    /// error (a dropped connection).
    fn with_conn<R>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<R>,
    ) -> Result<R, LeaseError> {
        let mut conn = self.conn.lock();
        for attempt in 0..2 {
            if conn.is_none() {
                let c = self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(2))?;
                c.set_read_timeout(Some(Duration::from_secs(5)))?;
                c.set_write_timeout(Some(Duration::from_secs(5)))?;
                *conn = Some(c);
            }
            let c = conn.as_mut().expect("connected above");
            match f(c) {
                Ok(r) => return Ok(r),
                Err(e) if attempt == 0 && (e.is_io_error() || e.is_connection_dropped()) => {
                    *conn = None;
                }
                Err(e) => {
                    if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() {
                        *conn = None;
                    }
                    return Err(e.into());
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }
}

impl fmt::Debug for LeaseLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseLock")
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LeaseGuard<'_> {
    /// The token stored with the lease: unique to this acquisition, usable as a fencing token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// How long until the lease expires, unless extended (zero once it has).
    pub fn remaining(&self) -> Duration {
        Duration::from_millis(self.expires_ms.load(Relaxed).saturating_sub(now_ms()))
    }

    /// Extends the lease by the lock's TTL from now.
    ///
    /// # Errors
    ///
    /// [`LeaseError::Lost`] if the lease had already expired and the key is gone or someone
    /// else's; [`LeaseError::Redis`] if Redis cannot be reached.
    pub fn extend(&self) -> Result<(), LeaseError> {
        self.extend_by(self.lock.ttl)
    }

    /// Extends the lease by `ttl` from now.
    ///
    /// # Errors
    ///
    /// As [`LeaseGuard::extend`].
    pub fn extend_by(&self, ttl: Duration) -> Result<(), LeaseError> {
        let ttl = ttl.max(Duration::from_millis(1));
        let extended: i64 = self.lock.with_conn(|c| {
            redis::Script::new(EXTEND)
                .key(&self.lock.key)
                .arg(&self.value)
                .arg(ttl.as_millis() as u64)
                .invoke(c)
        })?;
        if extended == 0 {
            return Err(LeaseError::Lost {
                key: self.lock.key.clone(),
            });
        }
        self.expires_ms
            .store(now_ms() + ttl.as_millis() as u64, Relaxed);
        #[cfg(feature = "enabled")]
        if let Some((_, watched)) = &self.tracked {
            tracker::leases::extended(*watched, ttl);
        }
        Ok(())
    }

    /// Releases the lease: `Ok(true)` if it was still this guard's (deleted), `Ok(false)` if it
    /// had expired (and maybe been taken by another holder, whose lease stays).
    ///
    /// # Errors
    ///
    /// [`LeaseError::Redis`] if Redis cannot be reached (the lease then expires by itself).
    pub fn release(mut self) -> Result<bool, LeaseError> {
        self.release_now()
    }

    fn release_now(&mut self) -> Result<bool, LeaseError> {
        self.released = true;
        #[cfg(feature = "enabled")]
        if let Some((held, watched)) = self.tracked.take() {
            tracker::leases::released(watched);
            drop(held);
        }
        let deleted: i64 = self.lock.with_conn(|c| {
            redis::Script::new(RELEASE)
                .key(&self.lock.key)
                .arg(&self.value)
                .invoke(c)
        })?;
        Ok(deleted == 1)
    }
}

impl Drop for LeaseGuard<'_> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if let Err(e) = self.release_now() {
            warn_once(&format!(
                "lockwatch: could not release lease `{}` ({e}); it expires by itself in {:?}",
                self.lock.key,
                self.remaining()
            ));
        }
    }
}

impl fmt::Debug for LeaseGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseGuard")
            .field("key", &self.lock.key)
            .field("token", &self.token)
            .field("remaining", &self.remaining())
            .finish()
    }
}

/// The class of a key: every run of digits replaced by `#`.
fn class_of(key: &str) -> String {
    let mut class = String::with_capacity(key.len());
    let mut in_digits = false;
    for c in key.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                class.push('#');
            }
            in_digits = true;
        } else {
            class.push(c);
            in_digits = false;
        }
    }
    class
}

/// A token unique to one acquisition: the process, the time and a counter, mixed.
fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNT.fetch_add(1, Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:x}-{:016x}", std::process::id(), h.finish())
}

/// This process's name, pid and host, and this thread: `host/pid/ThreadId(n)` is how waiters
/// find each other.
fn identity() -> String {
    format!(
        "{}/{}/{:?}",
        crate::process::host(),
        std::process::id(),
        std::thread::current().id()
    )
}

/// Fields are separated by `|`; a field's own `|` becomes `/`.
fn field(s: &str) -> String {
    s.replace('|', "/")
}

/// `lockwatch1|token|program|pid|host|thread|thread id|site`.
fn encode_value(token: &str, site: &Location<'_>) -> String {
    let thread = std::thread::current();
    format!(
        "{VALUE_TAG}|{}|{}|{}|{}|{}|{:?}|{}",
        field(token),
        field(crate::process::program()),
        std::process::id(),
        field(crate::process::host()),
        field(thread.name().unwrap_or("unnamed")),
        thread.id(),
        site
    )
}

fn decode_value(value: &str) -> Option<Holder> {
    let mut parts = value.split('|');
    if parts.next()? != VALUE_TAG {
        return None;
    }
    let token = parts.next()?.to_owned();
    let program = parts.next()?.to_owned();
    let pid = parts.next()?.parse().ok()?;
    let host = parts.next()?.to_owned();
    let thread = parts.next()?.to_owned();
    let thread_id = parts.next()?;
    let site = parts.next()?.to_owned();
    Some(Holder {
        id: format!("{host}/{pid}/{thread_id}"),
        program,
        pid,
        host,
        thread,
        site,
        token,
    })
}

/// Milliseconds since this process first asked.
fn now_ms() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Up to a quarter of `d` more, so that waiters do not retry in step.
fn jitter(d: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now_ms());
    let quarter = (d.as_micros() as u64 / 4).max(1);
    Duration::from_micros(h.finish() % quarter)
}

fn warn_once(line: &str) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, Relaxed) {
        eprintln!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_take_the_numbers_out_of_keys() {
        assert_eq!(class_of("order:42"), "order:#");
        assert_eq!(class_of("user:7:cart:19"), "user:#:cart:#");
        assert_eq!(class_of("config"), "config");
    }

    #[test]
    fn a_stored_value_names_its_holder() {
        let value = encode_value("t0k3n", Location::caller());
        let holder = decode_value(&value).unwrap();
        assert_eq!(holder.token, "t0k3n");
        assert_eq!(holder.pid, std::process::id());
        assert!(holder.site.contains("redis.rs:"), "{}", holder.site);
        assert_eq!(holder.id, identity());
        assert!(holder.to_string().starts_with("process `"), "{holder}");
        assert_eq!(decode_value("someone else's value"), None);
        assert_ne!(new_token(), new_token());
    }
}

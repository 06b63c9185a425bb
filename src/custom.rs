//! Any lock can join the graph: locks lockwatch does not wrap (a spin lock of your own, a file
//! lock, a database advisory lock, another crate's distributed lock), tracked around your own
//! acquire and release.
//!
//! Make one [`CustomLock`] per lock, in a class given by name, and around your code tell it
//! "about to wait" ([`CustomLock::before_wait`], which checks the order against the locks the
//! thread holds and reports before you block), "acquired" ([`Waiting::acquired`], which returns
//! the [`CustomGuard`] to keep while you hold it) and "released" (drop the guard). A lock taken
//! by a successful try, without waiting, is [`CustomLock::acquired_without_waiting`]. You get
//! what built-in locks get: order checks between classes and per instance, the self-deadlock
//! check, the watchdog (long holds, long waits, deadlocks with other threads) and the contention
//! profile.
//!
//! Without the `enabled` feature every method is an empty inline function and a
//! [`CustomLock`] is zero-sized: nothing to pay.
//!
//! The guard belongs to the thread that acquired: release on that thread (it is not `Send`).
//!
//! # Examples
//!
//! A lock file (`create_new` succeeds for one process at a time), tracked as class
//! `"spool-file"`:
//!
//! ```
//! use lockwatch::custom::{CustomGuard, CustomLock};
//! use std::fs::OpenOptions;
//! use std::path::PathBuf;
//! use std::time::Duration;
//!
//! struct FileLock {
//!     path: PathBuf,
//!     tracked: CustomLock,
//! }
//!
//! struct FileGuard<'a> {
//!     lock: &'a FileLock,
//!     _tracked: CustomGuard<'a>,
//! }
//!
//! impl FileLock {
//!     #[track_caller]
//!     fn new(path: PathBuf) -> FileLock {
//!         FileLock { path, tracked: CustomLock::new("spool-file") }
//!     }
//!
//!     #[track_caller] // reports name the caller's line
//!     fn lock(&self) -> std::io::Result<FileGuard<'_>> {
//!         let waiting = self.tracked.before_wait();
//!         loop {
//!             match OpenOptions::new().write(true).create_new(true).open(&self.path) {
//!                 Ok(_) => {
//!                     let tracked = waiting.acquired();
//!                     return Ok(FileGuard { lock: self, _tracked: tracked });
//!                 }
//!                 Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
//!                     std::thread::sleep(Duration::from_millis(5));
//!                 }
//!                 // Dropping `waiting` ends the wait without the lock.
//!                 Err(e) => return Err(e),
//!             }
//!         }
//!     }
//! }
//!
//! impl Drop for FileGuard<'_> {
//!     fn drop(&mut self) {
//!         let _ = std::fs::remove_file(&self.lock.path);
//!         // `_tracked` drops after this: released.
//!     }
//! }
//!
//! let dir = std::env::temp_dir().join(format!("lockwatch-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let spool = FileLock::new(dir.join("spool.lock"));
//! {
//!     let _held = spool.lock().unwrap();
//!     // ... write the spool ...
//! }
//! assert!(spool.lock().is_ok());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::marker::PhantomData;
use std::panic::Location;

#[cfg(feature = "enabled")]
use crate::tracker::{method, External, HeldToken, LockKind, LockMeta, Mode};

/// A lock lockwatch does not wrap, in a class given by name. Create one per lock (a file, a
/// key, an advisory lock id) and keep it for as long as the lock exists: it is the lock's
/// identity in the graph. Locks of one class name are one class in every respect, as with
/// [`crate::named`].
pub struct CustomLock {
    #[cfg(feature = "enabled")]
    meta: LockMeta,
}

/// An announced wait: end it with [`Waiting::acquired`], or drop it if you give up.
#[must_use = "call `acquired()` once the lock is yours, or drop it to give up"]
pub struct Waiting<'a> {
    #[cfg(feature = "enabled")]
    inner: External<'a>,
    _lock: PhantomData<&'a CustomLock>,
}

/// A held custom lock: dropping it records the release. Not `Send`: release on the thread
/// that acquired.
#[must_use = "dropping the guard records the release at once"]
pub struct CustomGuard<'a> {
    #[cfg(feature = "enabled")]
    _token: HeldToken,
    _lock: PhantomData<(&'a CustomLock, *const ())>,
}

impl CustomLock {
    /// A lock in the class called `class`, created here (the caller's line).
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::custom::CustomLock;
    ///
    /// static JOURNAL: CustomLock = CustomLock::new("journal-file");
    /// let guard = JOURNAL.before_wait().acquired();
    /// drop(guard);
    /// ```
    #[track_caller]
    #[inline]
    pub const fn new(class: &'static str) -> CustomLock {
        #[cfg(feature = "enabled")]
        return CustomLock {
            meta: LockMeta::named(LockKind::Custom, Location::caller(), class),
        };
        #[cfg(not(feature = "enabled"))]
        {
            let _ = (class, Location::caller());
            CustomLock {}
        }
    }

    /// Announces an exclusive acquisition you are about to wait for: checked against the
    /// locks this thread holds (a new order that closes a cycle, or taking again a lock the
    /// thread holds, is reported now, before you block), then published as this thread's wait
    /// until [`Waiting::acquired`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::custom::CustomLock;
    ///
    /// let lock = CustomLock::new("advisory-7");
    /// let waiting = lock.before_wait();
    /// // ... your blocking acquire ...
    /// let held = waiting.acquired();
    /// drop(held); // released
    /// ```
    #[track_caller]
    #[inline]
    pub fn before_wait(&self) -> Waiting<'_> {
        self.wait_in(
            #[cfg(feature = "enabled")]
            Mode::Exclusive,
        )
    }

    /// Announces a shared acquisition (a read lock, `LOCK_SH`) you are about to wait for:
    /// like [`before_wait`](CustomLock::before_wait), with the read rules (a shared hold does
    /// not order against other readers' recursive reads; a second shared acquisition of a
    /// lock the thread holds shared is judged like `RwLock::read` twice: writers may queue in
    /// between).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::custom::CustomLock::new("config-file");
    /// let reading = lock.before_wait_shared().acquired();
    /// drop(reading);
    /// ```
    #[track_caller]
    #[inline]
    pub fn before_wait_shared(&self) -> Waiting<'_> {
        self.wait_in(
            #[cfg(feature = "enabled")]
            Mode::Read,
        )
    }

    #[track_caller]
    #[inline]
    fn wait_in(&self, #[cfg(feature = "enabled")] mode: Mode) -> Waiting<'_> {
        Waiting {
            #[cfg(feature = "enabled")]
            inner: self
                .meta
                .begin_external(mode, method!("acquire"), Location::caller()),
            _lock: PhantomData,
        }
    }

    /// Records an exclusive acquisition made without waiting (a successful try): held, and
    /// it orders what the thread takes next, but (never having waited) adds no order edge into
    /// this lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::custom::CustomLock::new("spin-7");
    /// let held = lock.acquired_without_waiting();
    /// drop(held);
    /// ```
    #[track_caller]
    #[inline]
    pub fn acquired_without_waiting(&self) -> CustomGuard<'_> {
        CustomGuard {
            #[cfg(feature = "enabled")]
            _token: self.meta.acquired_external(
                Mode::Exclusive,
                method!("try_acquire"),
                Location::caller(),
            ),
            _lock: PhantomData,
        }
    }

    /// Records a shared acquisition made without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::custom::CustomLock::new("spin-8");
    /// let held = lock.acquired_shared_without_waiting();
    /// drop(held);
    /// ```
    #[track_caller]
    #[inline]
    pub fn acquired_shared_without_waiting(&self) -> CustomGuard<'_> {
        CustomGuard {
            #[cfg(feature = "enabled")]
            _token: self.meta.acquired_external(
                Mode::Read,
                method!("try_acquire"),
                Location::caller(),
            ),
            _lock: PhantomData,
        }
    }
}

impl std::fmt::Debug for CustomLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomLock").finish_non_exhaustive()
    }
}

impl<'a> Waiting<'a> {
    /// The lock is yours: the wait ends, and the hold begins (ended by dropping the guard).
    #[inline]
    pub fn acquired(self) -> CustomGuard<'a> {
        CustomGuard {
            #[cfg(feature = "enabled")]
            _token: self.inner.acquired(),
            _lock: PhantomData,
        }
    }

    /// For a lock held by another process whose holder you can describe (a lease's stored
    /// owner): a long-wait report names `holder`. Write it as
    /// ``process `NAME` (pid PID on HOST), thread `THREAD`, at FILE:LINE:COL`` to have the
    /// report show that site as the holder's.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = lockwatch::custom::CustomLock::new("lease-orders");
    /// let waiting = lock.before_wait();
    /// waiting.held_by("process `billing` (pid 4242 on db-1), thread `main`, at src/billing.rs:40:9");
    /// drop(waiting); // gave up
    /// ```
    #[inline]
    pub fn held_by(&self, holder: &str) {
        #[cfg(feature = "enabled")]
        self.inner.held_elsewhere_by(Some(holder.into()));
        #[cfg(not(feature = "enabled"))]
        let _ = holder;
    }
}

impl std::fmt::Debug for Waiting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiting").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CustomGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomGuard").finish_non_exhaustive()
    }
}

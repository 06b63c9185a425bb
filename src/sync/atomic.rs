//! Tracked atomics: [`std::sync::atomic`] with its exact API, plus lost-update detection.
//!
//! A plain [`store`](AtomicUsize::store) by a thread that earlier
//! [`load`](AtomicUsize::load)ed the same atomic, after another thread wrote it in between, is
//! a [`ReportKind::LostUpdate`](crate::ReportKind::LostUpdate): the `counter += 1` race done
//! with atomics, or a check-then-act on a flag. Read-modify-write operations (`fetch_add`,
//! `swap`, `compare_exchange`, `fetch_update`, ...) never lose updates and stay quiet; failed
//! compare-exchanges are counted per site (sampled) for the contention profile. Without the
//! `enabled` feature this module is `std::sync::atomic`.
//!
//! Each tracked atomic carries its value plus 24 bytes: the token and site of its last write,
//! and its creation site.
//!
//! # Examples
//!
//! ```
//! use lockwatch::sync::atomic::{AtomicUsize, Ordering};
//!
//! static HITS: AtomicUsize = AtomicUsize::new(0);
//! HITS.fetch_add(1, Ordering::Relaxed); // right: one read-modify-write
//! assert_eq!(HITS.load(Ordering::Relaxed), 1);
//! ```

use std::fmt;
use std::panic::Location;
use std::sync::atomic as std_atomic;

// Glob imports are shadowed by the named types below: `Ordering`, `fence`, ... stay std's.
pub use std::sync::atomic::*;

use crate::tracker::atomics::AtomicTrack;

/// Load, store, swap, compare-exchange and the update family, for every atomic type.
macro_rules! atomic_common {
    ([$($gen:tt)*] $name:ident $(<$p:ident>)?, $t:ty, $kind:expr) => {
        impl<$($gen)*> $name $(<$p>)? {
            /// Creates a new atomic. Reports name this call's site.
            #[inline]
            #[track_caller]
            pub const fn new(v: $t) -> Self {
                $name {
                    inner: std_atomic::$name::new(v),
                    track: AtomicTrack::new(Location::caller()),
                }
            }

            /// A mutable reference to the value (no other thread can access it).
            #[inline]
            pub fn get_mut(&mut self) -> &mut $t {
                self.inner.get_mut()
            }

            /// Consumes the atomic and returns the value.
            #[inline]
            pub const fn into_inner(self) -> $t {
                self.inner.into_inner()
            }

            /// Loads the value. The thread remembers what it saw, to catch a later plain
            /// `store` that would erase another thread's write.
            #[inline]
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                let v = self.inner.load(order);
                self.track.loaded(self.addr(), Location::caller());
                v
            }

            /// Stores a value. If this thread loaded the atomic earlier and another thread
            /// wrote it since, that write is lost: reported as a `LostUpdate`.
            #[inline]
            #[track_caller]
            pub fn store(&self, val: $t, order: Ordering) {
                let site = Location::caller();
                self.track.storing(self.addr(), $kind, site);
                self.inner.store(val, order);
                self.track.wrote(site);
            }

            /// Stores a value and returns the previous one (a read-modify-write).
            #[inline]
            #[track_caller]
            pub fn swap(&self, val: $t, order: Ordering) -> $t {
                let r = self.inner.swap(val, order);
                self.track.wrote(Location::caller());
                r
            }

            /// Stores `new` if the value is `current` (deprecated in std in favour of
            /// [`compare_exchange`](Self::compare_exchange)).
            #[inline]
            #[track_caller]
            #[deprecated(since = "1.50.0", note = "Use `compare_exchange` or `compare_exchange_weak` instead")]
            pub fn compare_and_swap(&self, current: $t, new: $t, order: Ordering) -> $t {
                let failure = match order {
                    Ordering::AcqRel => Ordering::Acquire,
                    Ordering::Release => Ordering::Relaxed,
                    other => other,
                };
                match self.compare_exchange(current, new, order, failure) {
                    Ok(v) | Err(v) => v,
                }
            }

            /// Stores `new` if the value is `current`; a failure is counted for the contention
            /// profile.
            #[inline]
            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                let r = self.inner.compare_exchange(current, new, success, failure);
                self.after_cas(r.is_ok(), Location::caller());
                r
            }

            /// Like [`compare_exchange`](Self::compare_exchange), but may fail spuriously.
            #[inline]
            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                let r = self.inner.compare_exchange_weak(current, new, success, failure);
                self.after_cas(r.is_ok(), Location::caller());
                r
            }

            /// Applies `f` until it returns `None` or the compare-exchange succeeds; each retry
            /// is counted for the contention profile.
            #[inline]
            #[track_caller]
            pub fn fetch_update<F>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                f: F,
            ) -> Result<$t, $t>
            where
                F: FnMut($t) -> Option<$t>,
            {
                self.cas_loop(set_order, fetch_order, f, Location::caller())
            }

            /// As [`fetch_update`](Self::fetch_update), with std's newer argument names.
            #[cfg(lockwatch_rust_1_95)] // As in std: Rust 1.95 and later (build.rs).
            #[allow(clippy::incompatible_msrv)]
            #[inline]
            #[track_caller]
            pub fn try_update(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                f: impl FnMut($t) -> Option<$t>,
            ) -> Result<$t, $t> {
                self.cas_loop(set_order, fetch_order, f, Location::caller())
            }

            /// Applies `f` until the compare-exchange succeeds; returns the previous value.
            #[cfg(lockwatch_rust_1_95)] // As in std: Rust 1.95 and later (build.rs).
            #[allow(clippy::incompatible_msrv)]
            #[inline]
            #[track_caller]
            pub fn update(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: impl FnMut($t) -> $t,
            ) -> $t {
                match self.cas_loop(set_order, fetch_order, |v| Some(f(v)), Location::caller()) {
                    Ok(v) | Err(v) => v,
                }
            }

            /// A raw pointer to the value. Accesses through it are not tracked.
            #[inline]
            pub const fn as_ptr(&self) -> *mut $t {
                self.inner.as_ptr()
            }

            #[inline]
            fn addr(&self) -> usize {
                self as *const Self as usize
            }

            #[inline]
            fn after_cas(&self, ok: bool, site: &'static Location<'static>) {
                if ok {
                    self.track.wrote(site);
                } else {
                    self.track.cas_failed(site);
                }
            }

            #[inline]
            fn cas_loop(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: impl FnMut($t) -> Option<$t>,
                site: &'static Location<'static>,
            ) -> Result<$t, $t> {
                let mut prev = self.inner.load(fetch_order);
                while let Some(next) = f(prev) {
                    match self.inner.compare_exchange_weak(prev, next, set_order, fetch_order) {
                        Ok(v) => {
                            self.track.wrote(site);
                            return Ok(v);
                        }
                        Err(next_prev) => {
                            self.track.cas_failed(site);
                            prev = next_prev;
                        }
                    }
                }
                Err(prev)
            }
        }

        impl<$($gen)*> fmt::Debug for $name $(<$p>)? {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.inner, f)
            }
        }

        impl<$($gen)*> From<$t> for $name $(<$p>)? {
            #[track_caller]
            fn from(v: $t) -> Self {
                Self::new(v)
            }
        }
    };
}

/// Read-modify-write operations that take a value: quiet, stamped as writes.
macro_rules! atomic_rmw {
    ([$($gen:tt)*] $name:ident $(<$p:ident>)?, $arg:ty, $ret:ty, $($op:ident),+) => {
        impl<$($gen)*> $name $(<$p>)? {
            $(
                #[doc = concat!("As std's `", stringify!($op), "`: one read-modify-write, never a lost update.")]
                #[inline]
                #[track_caller]
                pub fn $op(&self, val: $arg, order: Ordering) -> $ret {
                    let r = self.inner.$op(val, order);
                    self.track.wrote(Location::caller());
                    r
                }
            )+
        }
    };
}

macro_rules! atomic_int {
    ($($name:ident: $t:ty;)+) => {$(
        #[doc = concat!("A tracked [`std::sync::atomic::", stringify!($name), "`].")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("use lockwatch::sync::atomic::{", stringify!($name), ", Ordering};")]
        ///
        #[doc = concat!("let a = ", stringify!($name), "::new(1);")]
        /// a.fetch_add(2, Ordering::SeqCst);
        /// assert_eq!(a.load(Ordering::SeqCst), 3);
        /// ```
        pub struct $name {
            inner: std_atomic::$name,
            track: AtomicTrack,
        }

        atomic_common!([] $name, $t, stringify!($name));
        atomic_rmw!(
            [] $name, $t, $t,
            fetch_add, fetch_sub, fetch_and, fetch_nand, fetch_or, fetch_xor, fetch_max, fetch_min
        );

        impl Default for $name {
            #[track_caller]
            fn default() -> Self {
                Self::new(0)
            }
        }
    )+};
}

atomic_int! {
    AtomicI8: i8;
    AtomicU8: u8;
    AtomicI16: i16;
    AtomicU16: u16;
    AtomicI32: i32;
    AtomicU32: u32;
    AtomicI64: i64;
    AtomicU64: u64;
    AtomicIsize: isize;
    AtomicUsize: usize;
}

/// A tracked [`std::sync::atomic::AtomicBool`].
///
/// # Examples
///
/// ```
/// use lockwatch::sync::atomic::{AtomicBool, Ordering};
///
/// let started = AtomicBool::new(false);
/// // Check-then-act done right: one compare-exchange, not a load then a store.
/// assert!(started.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok());
/// assert!(started.load(Ordering::Acquire));
/// ```
pub struct AtomicBool {
    inner: std_atomic::AtomicBool,
    track: AtomicTrack,
}

atomic_common!([] AtomicBool, bool, "AtomicBool");
atomic_rmw!([] AtomicBool, bool, bool, fetch_and, fetch_nand, fetch_or, fetch_xor);

impl AtomicBool {
    /// Logical "not" with the current value; returns the previous value (Rust 1.81 and later,
    /// as in std).
    #[cfg(lockwatch_rust_1_81)]
    #[allow(clippy::incompatible_msrv)] // Only compiled where std has it (build.rs).
    #[inline]
    #[track_caller]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        let r = self.inner.fetch_not(order);
        self.track.wrote(Location::caller());
        r
    }
}

impl Default for AtomicBool {
    #[track_caller]
    fn default() -> Self {
        Self::new(false)
    }
}

/// A tracked [`std::sync::atomic::AtomicPtr`].
///
/// # Examples
///
/// ```
/// use lockwatch::sync::atomic::{AtomicPtr, Ordering};
///
/// let mut value = 5;
/// let p = AtomicPtr::new(&mut value as *mut i32);
/// assert_eq!(unsafe { *p.load(Ordering::Acquire) }, 5);
/// ```
pub struct AtomicPtr<T> {
    inner: std_atomic::AtomicPtr<T>,
    track: AtomicTrack,
}

atomic_common!([T] AtomicPtr<T>, *mut T, "AtomicPtr");
// Rust 1.91 and later, as in std: only compiled where std has them (build.rs).
#[cfg(lockwatch_rust_1_91)]
#[allow(clippy::incompatible_msrv)]
mod ptr_rmw {
    use super::*;
    atomic_rmw!([T] AtomicPtr<T>, usize, *mut T, fetch_ptr_add, fetch_ptr_sub, fetch_byte_add, fetch_byte_sub, fetch_or, fetch_and, fetch_xor);
}

impl<T> Default for AtomicPtr<T> {
    #[track_caller]
    fn default() -> Self {
        Self::new(std::ptr::null_mut())
    }
}

impl<T> fmt::Pointer for AtomicPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.inner, f)
    }
}

/// std's deprecated initializers, for lockwatch's types (so that
/// `static N: AtomicUsize = ATOMIC_USIZE_INIT;` keeps compiling after the import swap). An
/// atomic made from one has the constant's line as its creation site; `new` names yours.
macro_rules! deprecated_init {
    ($($(#[$doc:meta])* $name:ident: $ty:ident = $v:expr;)*) => {$(
        $(#[$doc])*
        #[deprecated(since = "1.34.0", note = "the `new` function is now preferred")]
        #[allow(clippy::declare_interior_mutable_const)] // As std's: a fresh atomic per use.
        pub const $name: $ty = $ty::new($v);
    )*};
}

deprecated_init! {
    /// An [`AtomicBool`] initialized to `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// #![allow(deprecated)]
    /// use lockwatch::sync::atomic::{AtomicBool, Ordering, ATOMIC_BOOL_INIT};
    ///
    /// static READY: AtomicBool = ATOMIC_BOOL_INIT;
    /// assert!(!READY.load(Ordering::Relaxed));
    /// ```
    ATOMIC_BOOL_INIT: AtomicBool = false;
    /// An [`AtomicIsize`] initialized to `0`.
    ///
    /// # Examples
    ///
    /// ```
    /// #![allow(deprecated)]
    /// use lockwatch::sync::atomic::{AtomicIsize, Ordering, ATOMIC_ISIZE_INIT};
    ///
    /// static LEVEL: AtomicIsize = ATOMIC_ISIZE_INIT;
    /// assert_eq!(LEVEL.load(Ordering::Relaxed), 0);
    /// ```
    ATOMIC_ISIZE_INIT: AtomicIsize = 0;
    /// An [`AtomicUsize`] initialized to `0`.
    ///
    /// # Examples
    ///
    /// ```
    /// #![allow(deprecated)]
    /// use lockwatch::sync::atomic::{AtomicUsize, Ordering, ATOMIC_USIZE_INIT};
    ///
    /// static COUNT: AtomicUsize = ATOMIC_USIZE_INIT;
    /// COUNT.fetch_add(1, Ordering::Relaxed);
    /// assert_eq!(COUNT.load(Ordering::Relaxed), 1);
    /// ```
    ATOMIC_USIZE_INIT: AtomicUsize = 0;
}

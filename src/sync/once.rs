//! Lazy initialization as locks: `Once`, `OnceLock` and `LazyLock`, tracked.
//!
//! While a thread runs an initializer it holds the cell, and every other thread that wants the
//! value waits for it: so an initializer that takes lock `A`, while a thread holding `A` waits
//! for the same cell, is a lock-order inversion, reported like one. Initializing a cell again
//! from inside its own initializer (which std leaves to deadlock or panic) is reported first.
//! Once initialized, reads cost what std's cost.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::{self as std_sync, OnceState};

use crate::tracker::{method, LockKind, LockMeta};

/// A synchronization primitive that runs a one-time initialization, tracked:
/// [`std::sync::Once`] with its exact API.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::Once;
///
/// static INIT: Once = Once::new();
/// let mut runs = 0;
/// INIT.call_once(|| runs += 1);
/// INIT.call_once(|| runs += 1);
/// assert_eq!(runs, 1);
/// assert!(INIT.is_completed());
/// ```
pub struct Once {
    meta: LockMeta,
    inner: std_sync::Once,
}

impl Once {
    /// Creates a new `Once`. Its lock class is this call's site.
    #[inline]
    #[track_caller]
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Once {
        Once {
            meta: LockMeta::new(LockKind::Once, Location::caller(), crate::tracker::no_data),
            inner: std_sync::Once::new(),
        }
    }

    /// Runs `f` if no call has completed yet; otherwise waits for the running one, or returns.
    ///
    /// # Panics
    ///
    /// If a previous initializer panicked (the `Once` is poisoned), as std does.
    #[inline]
    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if self.inner.is_completed() {
            return;
        }
        let init = self
            .meta
            .initializer(method!("call_once"), Location::caller(), |()| f());
        self.inner.call_once(|| init(()))
    }

    /// As [`call_once`](Self::call_once), but runs even if poisoned, telling `f` so.
    ///
    /// # Examples
    ///
    /// ```
    /// let once = lockwatch::sync::Once::new();
    /// once.call_once_force(|state| assert!(!state.is_poisoned()));
    /// assert!(once.is_completed());
    /// ```
    #[inline]
    #[track_caller]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        if self.inner.is_completed() {
            return;
        }
        // By hand: the state is borrowed for any lifetime, which `initializer`'s one argument
        // type cannot say.
        let (method, site) = (method!("call_once_force"), Location::caller());
        self.meta.before_init(method, site);
        self.inner.call_once_force(|state| {
            let _held = self.meta.initializing(method, site);
            f(state)
        })
    }

    /// Whether some call has completed.
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.inner.is_completed()
    }

    /// Blocks until initialization has completed (checked as waiting for the initializer).
    ///
    /// # Panics
    ///
    /// If the `Once` is poisoned.
    #[cfg(lockwatch_rust_1_86)] // As in std: Rust 1.86 and later (build.rs).
    #[allow(clippy::incompatible_msrv)]
    #[inline]
    #[track_caller]
    pub fn wait(&self) {
        if !self.inner.is_completed() {
            self.meta.before_init(method!("wait"), Location::caller());
        }
        self.inner.wait()
    }

    /// Blocks until initialization has completed, even if poisoned.
    #[cfg(lockwatch_rust_1_86)] // As in std: Rust 1.86 and later (build.rs).
    #[allow(clippy::incompatible_msrv)]
    #[inline]
    #[track_caller]
    pub fn wait_force(&self) {
        if !self.inner.is_completed() {
            self.meta
                .before_init(method!("wait_force"), Location::caller());
        }
        self.inner.wait_force()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// A cell written once, tracked: [`std::sync::OnceLock`] with its exact API.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::OnceLock;
///
/// static CONFIG: OnceLock<String> = OnceLock::new();
/// let value = CONFIG.get_or_init(|| "ready".to_string());
/// assert_eq!(value, "ready");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("ready"));
/// ```
pub struct OnceLock<T> {
    meta: LockMeta,
    inner: std_sync::OnceLock<T>,
}

impl<T> OnceLock<T> {
    /// Creates an empty cell. Its lock class is this call's site.
    #[inline]
    #[track_caller]
    pub const fn new() -> OnceLock<T> {
        OnceLock::of_kind(LockKind::OnceLock, Location::caller())
    }

    /// A cell that reports call a `kind` (a `LazyLock` is a `OnceLock` inside).
    const fn of_kind(kind: LockKind, site: &'static Location<'static>) -> OnceLock<T> {
        OnceLock {
            meta: LockMeta::new(kind, site, std::any::type_name::<T>),
            inner: std_sync::OnceLock::new(),
        }
    }

    /// The value, if initialized.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// A mutable reference to the value, if initialized.
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Blocks until the cell is initialized (checked as waiting for the initializer).
    #[cfg(lockwatch_rust_1_86)] // As in std: Rust 1.86 and later (build.rs).
    #[allow(clippy::incompatible_msrv)]
    #[inline]
    #[track_caller]
    pub fn wait(&self) -> &T {
        if self.inner.get().is_none() {
            self.meta.before_init(method!("wait"), Location::caller());
        }
        self.inner.wait()
    }

    /// Initializes the cell with `value` if it is empty.
    ///
    /// # Errors
    ///
    /// `Err(value)` if the cell was already initialized.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = lockwatch::sync::OnceLock::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// ```
    #[inline]
    pub fn set(&self, value: T) -> Result<(), T> {
        self.inner.set(value)
    }

    /// The value, initializing it with `f` first if needed. While `f` runs, this thread
    /// holds the cell.
    ///
    /// # Panics
    ///
    /// If `f` panics, the panic propagates and the cell stays empty, as in std.
    #[inline]
    #[track_caller]
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        self.init_by(method!("get_or_init"), Location::caller(), f)
    }

    /// `get_or_init`, as called by `method` (a `LazyLock`'s `force`) at `site`.
    fn init_by<F: FnOnce() -> T>(
        &self,
        method: crate::tracker::Method,
        site: &'static Location<'static>,
        f: F,
    ) -> &T {
        if let Some(value) = self.inner.get() {
            return value;
        }
        let init = self.meta.initializer(method, site, |()| f());
        self.inner.get_or_init(|| init(()))
    }

    /// Consumes the cell, returning its value if initialized.
    #[inline]
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
    }
}

impl<T> Default for OnceLock<T> {
    #[track_caller]
    fn default() -> OnceLock<T> {
        OnceLock::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T: Clone> Clone for OnceLock<T> {
    #[track_caller]
    fn clone(&self) -> OnceLock<T> {
        let cell = OnceLock::new();
        if let Some(value) = self.get() {
            let _ = cell.set(value.clone());
        }
        cell
    }
}

impl<T> From<T> for OnceLock<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(value);
        cell
    }
}

impl<T: PartialEq> PartialEq for OnceLock<T> {
    fn eq(&self, other: &OnceLock<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceLock<T> {}

/// A value initialized on first access, tracked: [`std::sync::LazyLock`] with its exact API.
///
/// # Examples
///
/// ```
/// use lockwatch::sync::LazyLock;
///
/// static SQUARES: LazyLock<Vec<u32>> = LazyLock::new(|| (0..5).map(|i| i * i).collect());
/// assert_eq!(SQUARES[3], 9);
/// ```
pub struct LazyLock<T, F = fn() -> T> {
    /// The tracked cell (of kind `LazyLock`): its initialization is the lazy value's.
    cell: OnceLock<T>,
    init: std_sync::Mutex<Option<F>>,
}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// Creates a lazy value initialized by `f`. Its lock class is this call's site.
    #[inline]
    #[track_caller]
    pub const fn new(f: F) -> LazyLock<T, F> {
        LazyLock {
            cell: OnceLock::of_kind(LockKind::LazyLock, Location::caller()),
            init: std_sync::Mutex::new(Some(f)),
        }
    }

    /// The value if initialized, or the initializer.
    ///
    /// # Panics
    ///
    /// If the initializer panicked earlier (the lock is poisoned).
    ///
    /// # Errors
    ///
    /// `Err(f)` if the value was never initialized.
    pub fn into_inner(this: Self) -> Result<T, F> {
        let LazyLock { cell, init } = this;
        match cell.into_inner() {
            Some(value) => Ok(value),
            None => match init.into_inner().unwrap_or_else(|e| e.into_inner()) {
                Some(f) => Err(f),
                None => panic!("LazyLock instance has previously been poisoned"),
            },
        }
    }

    /// Forces evaluation and returns a reference to the value. While the initializer runs,
    /// this thread holds the lazy value.
    ///
    /// # Panics
    ///
    /// If the initializer panics, now or earlier (the lock is then poisoned), as std does.
    #[inline]
    #[track_caller]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.cell.init_by(method!("force"), Location::caller(), || {
            let f = this.init.lock().unwrap_or_else(|e| e.into_inner()).take();
            match f {
                Some(f) => f(),
                None => panic!("LazyLock instance has previously been poisoned"),
            }
        })
    }

    /// Forces evaluation and returns a mutable reference to the value.
    ///
    /// # Panics
    ///
    /// If the initializer panics, now or earlier.
    #[inline]
    #[track_caller]
    pub fn force_mut(this: &mut LazyLock<T, F>) -> &mut T {
        LazyLock::force(this);
        this.cell.get_mut().expect("just initialized")
    }
}

impl<T, F> LazyLock<T, F> {
    /// The value, if initialized.
    #[inline]
    pub fn get(this: &LazyLock<T, F>) -> Option<&T> {
        this.cell.get()
    }

    /// A mutable reference to the value, if initialized.
    #[inline]
    pub fn get_mut(this: &mut LazyLock<T, F>) -> Option<&mut T> {
        this.cell.get_mut()
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;

    #[inline]
    #[track_caller]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T, F: FnOnce() -> T> DerefMut for LazyLock<T, F> {
    #[inline]
    #[track_caller]
    fn deref_mut(&mut self) -> &mut T {
        LazyLock::force_mut(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    #[track_caller]
    fn default() -> LazyLock<T> {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("LazyLock");
        match self.cell.get() {
            Some(v) => d.field(v),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

impl crate::sealed::Sealed for Once {}

impl crate::Trackable for Once {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<T> crate::sealed::Sealed for OnceLock<T> {}

impl<T> crate::Trackable for OnceLock<T> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.meta.set_class_name(name)
    }
}

impl<T, F> crate::sealed::Sealed for LazyLock<T, F> {}

impl<T, F> crate::Trackable for LazyLock<T, F> {
    fn set_class_name(&mut self, name: &str) -> bool {
        self.cell.meta.set_class_name(name)
    }
}

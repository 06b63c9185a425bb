//! Drop-in replacements for the `once_cell` crate (feature `once_cell`).
//!
//! With the `enabled` feature, [`sync::OnceCell`] and [`sync::Lazy`] are tracked like
//! [`crate::sync::OnceLock`] and [`crate::sync::LazyLock`]: an initializer holds its cell while
//! it runs, so an initializer that takes a lock a waiter holds is a lock-order report, and
//! recursive initialization is reported before it deadlocks. `unsync` and `race` are
//! once_cell's own. Without `enabled` this module is `pub use once_cell::*`.

#[cfg(not(feature = "enabled"))]
pub use ::once_cell::*;

#[cfg(feature = "enabled")]
pub use ::once_cell::{race, unsync};

/// Thread-safe cells, tracked: `once_cell::sync` with its exact API.
#[cfg(feature = "enabled")]
pub mod sync {
    use std::fmt;
    use std::ops::{Deref, DerefMut};
    use std::panic::Location;

    use crate::tracker::{LockKind, LockMeta};

    /// A thread-safe cell written once, tracked: `once_cell::sync::OnceCell`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::once_cell::sync::OnceCell;
    ///
    /// static NAME: OnceCell<String> = OnceCell::new();
    /// assert_eq!(NAME.get_or_init(|| "bank".into()), "bank");
    /// ```
    pub struct OnceCell<T> {
        meta: LockMeta,
        inner: ::once_cell::sync::OnceCell<T>,
    }

    impl<T> OnceCell<T> {
        /// Creates an empty cell. Its lock class is this call's site.
        #[inline]
        #[track_caller]
        pub const fn new() -> OnceCell<T> {
            OnceCell::of_kind(LockKind::OnceCell)
        }

        #[track_caller]
        const fn of_kind(kind: LockKind) -> OnceCell<T> {
            OnceCell {
                meta: LockMeta::new(kind, Location::caller(), std::any::type_name::<T>),
                inner: ::once_cell::sync::OnceCell::new(),
            }
        }

        /// Creates an initialized cell.
        #[inline]
        #[track_caller]
        pub const fn with_value(value: T) -> OnceCell<T> {
            OnceCell {
                meta: LockMeta::new(
                    LockKind::OnceCell,
                    Location::caller(),
                    std::any::type_name::<T>,
                ),
                inner: ::once_cell::sync::OnceCell::with_value(value),
            }
        }

        /// The value, if initialized.
        #[inline]
        pub fn get(&self) -> Option<&T> {
            self.inner.get()
        }

        /// Blocks until the cell is initialized (checked as waiting for the initializer).
        #[inline]
        #[track_caller]
        pub fn wait(&self) -> &T {
            if self.inner.get().is_none() {
                self.meta
                    .before_init(crate::tracker::method!("wait"), Location::caller());
            }
            self.inner.wait()
        }

        /// A mutable reference to the value, if initialized.
        #[inline]
        pub fn get_mut(&mut self) -> Option<&mut T> {
            self.inner.get_mut()
        }

        /// The value, without checking that the cell is initialized.
        ///
        /// # Safety
        ///
        /// The cell must be initialized, as for `once_cell::sync::OnceCell::get_unchecked`.
        #[inline]
        pub unsafe fn get_unchecked(&self) -> &T {
            // SAFETY: Forwarded from the caller.
            unsafe { self.inner.get_unchecked() }
        }

        /// Initializes the cell with `value` if it is empty.
        ///
        /// # Errors
        ///
        /// `Err(value)` if it was already initialized.
        #[inline]
        pub fn set(&self, value: T) -> Result<(), T> {
            self.inner.set(value)
        }

        /// Initializes the cell with `value` if it is empty, returning the value inside.
        ///
        /// # Errors
        ///
        /// `Err((current, value))` if it was already initialized.
        #[inline]
        pub fn try_insert(&self, value: T) -> Result<&T, (&T, T)> {
            self.inner.try_insert(value)
        }

        /// The value, initializing it with `f` first if needed; this thread holds the cell
        /// while `f` runs.
        #[inline]
        #[track_caller]
        pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
            if let Some(value) = self.inner.get() {
                return value;
            }
            let init = self.meta.initializer(
                crate::tracker::method!("get_or_init"),
                Location::caller(),
                |()| f(),
            );
            self.inner.get_or_init(|| init(()))
        }

        /// The value, initializing it with a fallible `f` first if needed.
        ///
        /// # Errors
        ///
        /// `f`'s error, leaving the cell empty.
        #[inline]
        #[track_caller]
        pub fn get_or_try_init<F, E>(&self, f: F) -> Result<&T, E>
        where
            F: FnOnce() -> Result<T, E>,
        {
            if let Some(value) = self.inner.get() {
                return Ok(value);
            }
            let init = self.meta.initializer(
                crate::tracker::method!("get_or_try_init"),
                Location::caller(),
                |()| f(),
            );
            self.inner.get_or_try_init(|| init(()))
        }

        /// Takes the value out, leaving the cell empty.
        #[inline]
        pub fn take(&mut self) -> Option<T> {
            self.inner.take()
        }

        /// Consumes the cell, returning its value if initialized.
        #[inline]
        pub fn into_inner(self) -> Option<T> {
            self.inner.into_inner()
        }
    }

    impl<T> Default for OnceCell<T> {
        #[track_caller]
        fn default() -> Self {
            OnceCell::new()
        }
    }

    impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.inner, f)
        }
    }

    impl<T: Clone> Clone for OnceCell<T> {
        #[track_caller]
        fn clone(&self) -> Self {
            match self.get() {
                Some(value) => OnceCell::with_value(value.clone()),
                None => OnceCell::new(),
            }
        }
    }

    impl<T> From<T> for OnceCell<T> {
        #[track_caller]
        fn from(value: T) -> Self {
            OnceCell::with_value(value)
        }
    }

    impl<T: PartialEq> PartialEq for OnceCell<T> {
        fn eq(&self, other: &Self) -> bool {
            self.get() == other.get()
        }
    }

    impl<T: Eq> Eq for OnceCell<T> {}

    impl<T> crate::sealed::Sealed for OnceCell<T> {}

    impl<T> crate::Trackable for OnceCell<T> {
        fn set_class_name(&mut self, name: &str) -> bool {
            self.meta.set_class_name(name)
        }
    }

    /// A value initialized on first access, tracked: `once_cell::sync::Lazy`.
    ///
    /// # Examples
    ///
    /// ```
    /// use lockwatch::once_cell::sync::Lazy;
    ///
    /// static PRIMES: Lazy<Vec<u32>> = Lazy::new(|| vec![2, 3, 5, 7]);
    /// assert_eq!(PRIMES.len(), 4);
    /// ```
    pub struct Lazy<T, F = fn() -> T> {
        cell: OnceCell<T>,
        init: std::sync::Mutex<Option<F>>,
    }

    impl<T, F> Lazy<T, F> {
        /// Creates a lazy value initialized by `f`. Its lock class is this call's site.
        #[inline]
        #[track_caller]
        pub const fn new(f: F) -> Lazy<T, F> {
            Lazy {
                cell: OnceCell::of_kind(LockKind::Lazy),
                init: std::sync::Mutex::new(Some(f)),
            }
        }

        /// The value if initialized, or the initializer.
        ///
        /// # Errors
        ///
        /// `Err(f)` if the value was never initialized.
        ///
        /// # Panics
        ///
        /// If the initializer panicked earlier.
        pub fn into_value(this: Lazy<T, F>) -> Result<T, F> {
            let Lazy { cell, init } = this;
            match cell.into_inner() {
                Some(value) => Ok(value),
                None => match init.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    Some(f) => Err(f),
                    None => panic!("Lazy instance has previously been poisoned"),
                },
            }
        }
    }

    impl<T, F: FnOnce() -> T> Lazy<T, F> {
        /// Forces evaluation; this thread holds the lazy value while the initializer runs.
        ///
        /// # Panics
        ///
        /// If the initializer panics, now or earlier.
        #[inline]
        #[track_caller]
        pub fn force(this: &Lazy<T, F>) -> &T {
            this.cell.get_or_init(|| {
                let f = this.init.lock().unwrap_or_else(|e| e.into_inner()).take();
                match f {
                    Some(f) => f(),
                    None => panic!("Lazy instance has previously been poisoned"),
                }
            })
        }

        /// Forces evaluation and returns a mutable reference.
        ///
        /// # Panics
        ///
        /// If the initializer panics, now or earlier.
        #[inline]
        #[track_caller]
        pub fn force_mut(this: &mut Lazy<T, F>) -> &mut T {
            Lazy::force(this);
            this.cell.get_mut().expect("just initialized")
        }

        /// The value, if initialized.
        #[inline]
        pub fn get(this: &Lazy<T, F>) -> Option<&T> {
            this.cell.get()
        }

        /// A mutable reference to the value, if initialized.
        #[inline]
        pub fn get_mut(this: &mut Lazy<T, F>) -> Option<&mut T> {
            this.cell.get_mut()
        }
    }

    impl<T, F: FnOnce() -> T> Deref for Lazy<T, F> {
        type Target = T;
        #[inline]
        #[track_caller]
        fn deref(&self) -> &T {
            Lazy::force(self)
        }
    }

    impl<T, F: FnOnce() -> T> DerefMut for Lazy<T, F> {
        #[inline]
        #[track_caller]
        fn deref_mut(&mut self) -> &mut T {
            Lazy::force_mut(self)
        }
    }

    impl<T: Default> Default for Lazy<T> {
        #[track_caller]
        fn default() -> Lazy<T> {
            Lazy::new(T::default)
        }
    }

    impl<T: fmt::Debug, F> fmt::Debug for Lazy<T, F> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Lazy")
                .field("cell", &self.cell)
                .field("init", &"..")
                .finish()
        }
    }

    impl<T, F> crate::sealed::Sealed for Lazy<T, F> {}

    impl<T, F> crate::Trackable for Lazy<T, F> {
        fn set_class_name(&mut self, name: &str) -> bool {
            self.cell.set_class_name(name)
        }
    }
}

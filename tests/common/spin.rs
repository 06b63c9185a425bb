//! A spin rwlock of the tests' own, for the `lock_api` facade: readers get in whenever no
//! writer *holds* it, whoever waits (reader-preferring), and its guards are `Send`.

/// Declares a spin rwlock type `$name` (each name a raw lock type of its own).
#[macro_export]
macro_rules! spin_rwlock {
    ($name:ident) => {
        struct $name(std::sync::atomic::AtomicUsize);

        impl $name {
            const WRITER: usize = 1;
            const READER: usize = 2;
        }

        // SAFETY: A writer excludes everyone (the WRITER bit is set only when the state is
        // 0); readers count themselves in only while the WRITER bit is clear.
        unsafe impl lock_api::RawRwLock for $name {
            #[allow(clippy::declare_interior_mutable_const)]
            const INIT: Self = $name(std::sync::atomic::AtomicUsize::new(0));
            type GuardMarker = lock_api::GuardSend;

            fn lock_shared(&self) {
                while !self.try_lock_shared() {
                    std::hint::spin_loop();
                }
            }

            fn try_lock_shared(&self) -> bool {
                use std::sync::atomic::Ordering;
                let state = self.0.load(Ordering::Relaxed);
                state & Self::WRITER == 0
                    && self
                        .0
                        .compare_exchange(
                            state,
                            state + Self::READER,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        )
                        .is_ok()
            }

            unsafe fn unlock_shared(&self) {
                self.0
                    .fetch_sub(Self::READER, std::sync::atomic::Ordering::Release);
            }

            fn lock_exclusive(&self) {
                while !self.try_lock_exclusive() {
                    std::hint::spin_loop();
                }
            }

            fn try_lock_exclusive(&self) -> bool {
                use std::sync::atomic::Ordering;
                self.0
                    .compare_exchange(0, Self::WRITER, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            }

            unsafe fn unlock_exclusive(&self) {
                self.0.store(0, std::sync::atomic::Ordering::Release);
            }
        }
    };
}

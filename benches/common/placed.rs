//! A value at a chosen offset into a cache line, for the benches that measure where a lock sits.

/// A value placed `at` bytes past the start of a 64-byte-aligned heap block of its own (rounded
/// down to its alignment), dropped and freed with this.
pub struct Placed<T> {
    value: std::ptr::NonNull<T>,
    layout: std::alloc::Layout,
}

impl<T> Placed<T> {
    pub fn new(value: T, at: usize) -> Self {
        let align = std::mem::align_of::<T>();
        let offset = at % 64 / align * align;
        let layout = std::alloc::Layout::from_size_align(64 + std::mem::size_of::<T>(), 64)
            .expect("a small layout");
        // SAFETY: The layout has a nonzero size. `offset` is a multiple of `T`'s alignment
        // past a 64-byte-aligned start, and `offset + size_of::<T>()` fits in the block.
        unsafe {
            let base = std::alloc::alloc(layout);
            let Some(base) = std::ptr::NonNull::new(base) else {
                std::alloc::handle_alloc_error(layout);
            };
            let value_at = base.add(offset).cast::<T>();
            value_at.write(value);
            Placed {
                value: value_at,
                layout,
            }
        }
    }
}

impl<T> std::ops::Deref for Placed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: Written in `new`, dropped only in `drop`.
        unsafe { self.value.as_ref() }
    }
}

impl<T> Drop for Placed<T> {
    fn drop(&mut self) {
        // SAFETY: The value was written in `new` and is dropped once, here; the block starts
        // at the 64-byte boundary below it and was allocated with `layout`.
        unsafe {
            self.value.drop_in_place();
            let start = self.value.as_ptr() as usize % 64;
            std::alloc::dealloc(self.value.cast::<u8>().as_ptr().sub(start), self.layout);
        }
    }
}

//! A global allocator that counts live heap bytes, for the heap test and the benchmark's
//! memory rows (each includes this file by path: a global allocator is per binary).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

struct Counting;

static HEAP: AtomicIsize = AtomicIsize::new(0);

// SAFETY: Forwards to the system allocator and only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: Forwarded from the caller.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: Forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Live heap bytes allocated through the global allocator so far.
pub fn heap() -> isize {
    HEAP.load(Relaxed)
}

//! Memory stays flat: a counting allocator around a million create / lock / drop cycles.
//! Its own binary, so that no other test allocates meanwhile.
#![cfg(feature = "enabled")]

#[path = "common/counting.rs"]
mod counting;

use counting::heap;

#[test]
fn a_million_create_lock_drop_cycles_leave_the_heap_flat() {
    lockwatch::watchdog::set_enabled(false); // its scans allocate; keep them out of the count
    let outer = lockwatch::parking_lot::Mutex::new(());
    let cycle = || {
        // Two locks of one class nested under a third: a class edge and an instance edge
        // per cycle, and both instances dropped.
        let pair = [
            lockwatch::parking_lot::Mutex::new(0u8),
            lockwatch::parking_lot::Mutex::new(0u8),
        ];
        let _o = outer.lock();
        let _a = pair[0].lock();
        drop(pair[1].lock());
    };
    for _ in 0..10_000 {
        cycle();
    }
    let before = heap();
    for _ in 0..1_000_000 {
        cycle();
    }
    let after = heap();
    assert!(
        after - before <= 4096,
        "heap grew by {} bytes",
        after - before
    );
    let stats = lockwatch::graph_stats();
    assert_eq!(
        (stats.instance_nodes, stats.instance_edges),
        (0, 0),
        "{stats:?}"
    );
}

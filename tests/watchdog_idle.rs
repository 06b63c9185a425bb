//! The watchdog sleeps when nothing is held. Its own binary: other tests would keep it busy.
#![cfg(feature = "enabled")]

use std::time::Duration;

#[test]
fn the_watchdog_ticks_while_locks_are_held_and_sleeps_when_none_are() {
    let m = lockwatch::sync::Mutex::new(());
    let held = m.lock().unwrap();
    let before = lockwatch::watchdog::stats();
    std::thread::sleep(Duration::from_millis(300));
    let busy = lockwatch::watchdog::stats().wakeups - before.wakeups;
    drop(held);
    // Let it notice, then measure an idle stretch of the same length.
    std::thread::sleep(Duration::from_millis(100));
    let before = lockwatch::watchdog::stats();
    std::thread::sleep(Duration::from_millis(300));
    let idle = lockwatch::watchdog::stats().wakeups - before.wakeups;
    assert!(
        busy >= 30,
        "about one wake-up a millisecond while a lock is held, got {busy}"
    );
    assert!(
        idle <= 2,
        "asleep while nothing is held, got {idle} wake-ups"
    );
}

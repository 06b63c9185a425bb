//! Condvar waits release the mutex for the wait; ping-pong is quiet and correct.
#![cfg(feature = "enabled")]

use crate::common::{assert_quiet, assert_reported};
use lockwatch::{named, ReportKind};
use std::sync::Arc;

const ROUNDS: usize = 2_000;

#[test]
fn std_condvar_ping_pong_is_quiet_and_correct() {
    use lockwatch::sync::{Condvar, Mutex};
    let state = Arc::new((named(Mutex::new(0usize), "cv-std"), Condvar::new()));
    let other = Arc::clone(&state);
    let pong = std::thread::spawn(move || {
        let (m, cv) = &*other;
        for i in 0..ROUNDS {
            let mut turn = cv
                .wait_while(m.lock().unwrap(), |t| *t != 2 * i + 1)
                .unwrap();
            *turn += 1;
            cv.notify_all();
        }
    });
    let (m, cv) = &*state;
    for i in 0..ROUNDS {
        let mut turn = cv.wait_while(m.lock().unwrap(), |t| *t != 2 * i).unwrap();
        *turn += 1;
        cv.notify_all();
    }
    pong.join().unwrap();
    assert_eq!(*m.lock().unwrap(), 2 * ROUNDS);
    assert_quiet(&["cv-std"]);
}

#[test]
fn parking_lot_condvar_ping_pong_is_quiet_and_correct() {
    use lockwatch::parking_lot::{Condvar, Mutex};
    let state = Arc::new((named(Mutex::new(0usize), "cv-pl"), Condvar::new()));
    let other = Arc::clone(&state);
    let pong = std::thread::spawn(move || {
        let (m, cv) = &*other;
        for i in 0..ROUNDS {
            let mut turn = m.lock();
            cv.wait_while(&mut turn, |t| *t != 2 * i + 1);
            *turn += 1;
            cv.notify_all();
        }
    });
    let (m, cv) = &*state;
    for i in 0..ROUNDS {
        let mut turn = m.lock();
        cv.wait_while(&mut turn, |t| *t != 2 * i);
        *turn += 1;
        cv.notify_all();
    }
    pong.join().unwrap();
    assert_eq!(*m.lock(), 2 * ROUNDS);
    assert_quiet(&["cv-pl"]);
}

#[test]
fn the_waited_mutex_is_not_held_during_the_wait() {
    use lockwatch::sync::{Condvar, Mutex};
    use std::time::Duration;
    let m = named(Mutex::new(()), "cvw-m");
    let other = named(Mutex::new(()), "cvw-o");
    let cv = Condvar::new();
    // Wait, then, not holding m, take `other` then m: m -> other is never recorded.
    let g = m.lock().unwrap();
    let (g, _) = cv.wait_timeout(g, Duration::from_millis(1)).unwrap();
    drop(g);
    {
        let _o = other.lock().unwrap();
        let _m = m.lock().unwrap();
    }
    assert_quiet(&["cvw-m", "cvw-o"]);
}

#[test]
fn retaking_the_mutex_while_holding_another_lock_is_checked() {
    use lockwatch::sync::{Condvar, Mutex};
    use std::time::Duration;
    let m = named(Mutex::new(()), "cvr-m");
    let n = named(Mutex::new(()), "cvr-n");
    let cv = Condvar::new();
    {
        let _m = m.lock().unwrap();
        let _n = n.lock().unwrap(); // m -> n
    }
    let g = m.lock().unwrap();
    let held = n.lock().unwrap();
    // The wait releases m and re-takes it while n is held: n -> m closes the cycle.
    let (g, _) = cv.wait_timeout(g, Duration::from_millis(1)).unwrap();
    drop((g, held));
    assert_reported(ReportKind::LockOrder, &["cvr-m", "cvr-n"], &[]);
}

//! Many threads, many locks, one consistent order: quiet. Then one inversion: one report.
#![cfg(feature = "enabled")]

use crate::common::{assert_quiet, reports_about, Rng};
use lockwatch::parking_lot::Mutex;
use lockwatch::{named, ReportKind};
use std::sync::Arc;

#[test]
fn threads_over_random_subsets_in_one_order_stay_quiet_then_one_inversion_reports_once() {
    const THREADS: u64 = 8;
    const LOCKS: usize = 50;
    const ROUNDS: usize = 2_000;
    // Ten classes of five locks each: orders between classes and, within a class, between
    // instances (by index) are both exercised.
    let names: Vec<String> = (0..10).map(|c| format!("stress-{c}")).collect();
    let locks: Arc<Vec<Mutex<u64>>> = Arc::new(
        (0..LOCKS)
            .map(|i| named(Mutex::new(0), &names[i / 5]))
            .collect(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let locks = Arc::clone(&locks);
            std::thread::Builder::new()
                .name(format!("stress-{t}"))
                .spawn(move || {
                    let mut rng = Rng(0x9E37_79B9 ^ (t + 1));
                    for _ in 0..ROUNDS {
                        // A random subset, always taken in index order.
                        let mut picked: Vec<usize> =
                            (0..4).map(|_| rng.next() as usize % LOCKS).collect();
                        picked.sort_unstable();
                        picked.dedup();
                        let guards: Vec<_> = picked.iter().map(|&i| locks[i].lock()).collect();
                        for mut g in guards {
                            *g += 1;
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let total: u64 = locks.iter().map(|l| *l.lock()).sum();
    assert!(total > 0);
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_quiet(&name_refs);

    // One injected inversion: lock 40 (class 8) then lock 3 (class 0).
    {
        let _late = locks[40].lock();
        let _early = locks[3].lock();
    }
    let found: Vec<_> = reports_about(&["stress-0", "stress-8"]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind(), ReportKind::LockOrder);
    assert_eq!(
        lockwatch::reports()
            .iter()
            .filter(|r| r.to_string().contains("stress-"))
            .count(),
        1
    );
}

// The verdict table of the README's "What it reports" section, written once and included
// by one test file per lock family.
// The including file defines `mutex!(name)`, `rwlock!(name)`, `lock!(m)`, `try_lock!(m)`,
// `read!(l)`, `write!(l)` and `try_write!(l)` for its family.

/// Runs each pair `(x, y)` as "lock x, then lock y, release both", one after the other on this
/// thread (so the program itself never deadlocks); returns the site of the last inner lock.
macro_rules! pairs {
    ($($x:ident -> $y:ident),+ $(,)?) => {{
        let mut sites: Vec<String> = Vec::new();
        $(
            {
                let _outer = lock!($x);
                let (_inner, site) = at!(lock!($y));
                sites.push(site);
            }
        )+
        sites.pop().unwrap()
    }};
}

#[test]
fn abba_is_reported_with_both_sites() {
    let a = mutex!("abba-a");
    let b = mutex!("abba-b");
    let first = {
        let _a = lock!(a);
        let (_b, site) = at!(lock!(b));
        site
    };
    let second = std::thread::scope(|s| {
        s.spawn(|| {
            let _b = lock!(b);
            let (_a, site) = at!(lock!(a));
            site
        })
        .join()
        .unwrap()
    });
    let report = assert_reported(ReportKind::LockOrder, &["abba-a", "abba-b"], &[&first, &second]);
    assert!(report.to_string().contains("how it deadlocks"));
    assert!(report.to_string().contains("thread `main`") || report.to_string().contains("thread `abba"));
}

#[test]
fn abbcca_is_reported() {
    let (a, b, c) = (mutex!("abbcca-a"), mutex!("abbcca-b"), mutex!("abbcca-c"));
    let last = pairs!(a -> b, b -> c, c -> a);
    assert_reported(ReportKind::LockOrder, &["abbcca-a", "abbcca-b", "abbcca-c"], &[&last]);
}

#[test]
fn abcabc_is_reported() {
    let (a, b, c) = (mutex!("abcabc-a"), mutex!("abcabc-b"), mutex!("abcabc-c"));
    let last = pairs!(a -> b, c -> a, b -> c);
    assert_reported(ReportKind::LockOrder, &["abcabc-a", "abcabc-b", "abcabc-c"], &[&last]);
}

#[test]
fn abbccdda_is_reported() {
    let (a, b) = (mutex!("abbccdda-a"), mutex!("abbccdda-b"));
    let (c, d) = (mutex!("abbccdda-c"), mutex!("abbccdda-d"));
    let last = pairs!(a -> b, b -> c, c -> d, d -> a);
    assert_reported(
        ReportKind::LockOrder,
        &["abbccdda-a", "abbccdda-b", "abbccdda-c", "abbccdda-d"],
        &[&last],
    );
}

#[test]
fn abcdbdda_is_reported() {
    let (a, b) = (mutex!("abcdbdda-a"), mutex!("abcdbdda-b"));
    let (c, d) = (mutex!("abcdbdda-c"), mutex!("abcdbdda-d"));
    let last = pairs!(a -> b, c -> d, b -> d, d -> a);
    // The cycle is a -> b -> d -> a; c is not on it.
    assert_reported(ReportKind::LockOrder, &["abcdbdda-a", "abcdbdda-b", "abcdbdda-d"], &[&last]);
}

#[test]
fn abcdbcda_is_reported() {
    let (a, b) = (mutex!("abcdbcda-a"), mutex!("abcdbcda-b"));
    let (c, d) = (mutex!("abcdbcda-c"), mutex!("abcdbcda-d"));
    let last = pairs!(a -> b, c -> d, b -> c, d -> a);
    assert_reported(
        ReportKind::LockOrder,
        &["abcdbcda-a", "abcdbcda-b", "abcdbcda-c", "abcdbcda-d"],
        &[&last],
    );
}

#[test]
fn a_consistent_order_is_quiet() {
    let (a, b, c) = (mutex!("consistent-a"), mutex!("consistent-b"), mutex!("consistent-c"));
    for _ in 0..3 {
        pairs!(a -> b, b -> c, a -> c);
    }
    assert_quiet(&["consistent-a", "consistent-b", "consistent-c"]);
}

#[test]
fn each_cycle_is_reported_once() {
    let (a, b) = (mutex!("once-a"), mutex!("once-b"));
    for _ in 0..5 {
        pairs!(a -> b, b -> a);
    }
    assert_eq!(reports_about(&["once-a", "once-b"]).len(), 1);
}

#[test]
fn same_class_nesting_in_one_order_is_quiet() {
    let xs: Vec<_> = (0..3).map(|_| mutex!("nest-ok")).collect();
    let (x1, x2, x3) = (&xs[0], &xs[1], &xs[2]);
    pairs!(x1 -> x2, x2 -> x3, x1 -> x3);
    // A consistent order over many instances, as in hand-over-hand traversal.
    let many: Vec<_> = (0..20).map(|_| mutex!("nest-ok")).collect();
    for w in many.windows(2) {
        let _a = lock!(w[0]);
        let _b = lock!(w[1]);
    }
    assert_quiet(&["nest-ok"]);
}

#[test]
fn same_class_inversion_is_reported_per_instance() {
    let xs: Vec<_> = (0..2).map(|_| mutex!("nest-bad")).collect();
    let (x1, x2) = (&xs[0], &xs[1]);
    let last = pairs!(x1 -> x2, x2 -> x1);
    let report = assert_reported(ReportKind::LockOrder, &["nest-bad"], &[&last]);
    assert!(report.to_string().contains("instance #"));
}

#[test]
fn order_learned_through_a_dropped_lock_outlives_it() {
    let a = mutex!("outlive-a");
    let c = mutex!("outlive-c");
    {
        let b = mutex!("outlive-b");
        pairs!(a -> b, b -> c);
    }
    let last = pairs!(c -> a);
    assert_reported(ReportKind::LockOrder, &["outlive-a", "outlive-c"], &[&last]);
}

#[test]
fn instance_order_learned_through_a_dropped_lock_outlives_it() {
    let x1 = mutex!("outlive-x");
    let x3 = mutex!("outlive-x");
    {
        let x2 = mutex!("outlive-x");
        pairs!(x1 -> x2, x2 -> x3);
    }
    let last = pairs!(x3 -> x1);
    let report = assert_reported(ReportKind::LockOrder, &["outlive-x"], &[&last]);
    // The chain still shows the dropped lock's steps.
    assert_eq!(report.to_string().matches("first seen").count(), 2);
}

#[test]
fn read_then_lock_against_lock_then_write_is_reported() {
    let a = rwlock!("rw1-a");
    let b = mutex!("rw1-b");
    {
        let _a = read!(a);
        let _b = lock!(b);
    }
    let (_w, site) = {
        let _b = lock!(b);
        let (w, site) = at!(write!(a));
        drop(w);
        ((), site)
    };
    assert_reported(ReportKind::LockOrder, &["rw1-a", "rw1-b"], &[&site]);
}

#[test]
fn read_then_lock_against_lock_then_read_is_reported() {
    let a = rwlock!("rw2-a");
    let b = mutex!("rw2-b");
    {
        let _a = read!(a);
        let _b = lock!(b);
    }
    let site = {
        let _b = lock!(b);
        let (_r, site) = at!(read!(a));
        site
    };
    assert_reported(ReportKind::LockOrder, &["rw2-a", "rw2-b"], &[&site]);
}

#[test]
fn write_then_lock_against_lock_then_write_is_reported() {
    let a = rwlock!("rw3-a");
    let b = mutex!("rw3-b");
    {
        let _a = write!(a);
        let _b = lock!(b);
    }
    let site = {
        let _b = lock!(b);
        let (_w, site) = at!(write!(a));
        site
    };
    assert_reported(ReportKind::LockOrder, &["rw3-a", "rw3-b"], &[&site]);
}

#[test]
fn trylock_rows_l0_t1_t1_l0_is_quiet() {
    let (l0, l1) = (mutex!("try01-0"), mutex!("try01-1"));
    {
        let _a = lock!(l0);
        let _b = try_lock!(l1).expect("free");
    }
    {
        let _b = try_lock!(l1).expect("free");
        let _a = lock!(l0);
    }
    assert_quiet(&["try01-0", "try01-1"]);
}

#[test]
fn trylock_rows_t2_l3_l3_t2_is_quiet() {
    let (l2, l3) = (mutex!("try23-2"), mutex!("try23-3"));
    {
        let _a = try_lock!(l2).expect("free");
        let _b = lock!(l3);
    }
    {
        let _b = lock!(l3);
        let _a = try_lock!(l2).expect("free");
    }
    assert_quiet(&["try23-2", "try23-3"]);
}

#[test]
fn trylock_rows_t4_l5_l5_l4_is_reported() {
    let (l4, l5) = (mutex!("try45-4"), mutex!("try45-5"));
    {
        let _a = try_lock!(l4).expect("free");
        let _b = lock!(l5);
    }
    let site = {
        let _b = lock!(l5);
        let (_a, site) = at!(lock!(l4));
        site
    };
    assert_reported(ReportKind::LockOrder, &["try45-4", "try45-5"], &[&site]);
}

#[test]
fn trylock_rows_l7_l6_t6_l7_is_reported() {
    let (l6, l7) = (mutex!("try67-6"), mutex!("try67-7"));
    {
        let _a = lock!(l7);
        let _b = lock!(l6);
    }
    let site = {
        let _b = try_lock!(l6).expect("free");
        let (_a, site) = at!(lock!(l7));
        site
    };
    assert_reported(ReportKind::LockOrder, &["try67-6", "try67-7"], &[&site]);
}

#[test]
fn a_failed_try_adds_nothing() {
    let (a, b) = (mutex!("tryfail-a"), mutex!("tryfail-b"));
    std::thread::scope(|s| {
        let held = lock!(b);
        s.spawn(|| {
            let _a = lock!(a);
            assert!(try_lock!(b).is_none());
        })
        .join()
        .unwrap();
        drop(held);
    });
    pairs!(b -> a);
    assert_quiet(&["tryfail-a", "tryfail-b"]);
}

#[test]
fn guards_dropped_out_of_order_keep_the_stack_right() {
    let (a, b, c) = (mutex!("ooo-a"), mutex!("ooo-b"), mutex!("ooo-c"));
    let ga = lock!(a);
    let gb = try_lock!(b).expect("free"); // a try: no edge a -> b
    drop(ga);
    // Orders b -> c, and nothing else: b was a try, and a is no longer held (a stale entry
    // for a would add a -> c here).
    let gc = lock!(c);
    drop(gb);
    drop(gc);
    pairs!(c -> a);
    assert_quiet(&["ooo-a"]);
    let last = pairs!(c -> b);
    assert_reported(ReportKind::LockOrder, &["ooo-b", "ooo-c"], &[&last]);
}

#[test]
fn a_lock_ordered_under_one_stack_is_checked_under_another() {
    let (a, b, c, d) = (mutex!("fp-a"), mutex!("fp-b"), mutex!("fp-c"), mutex!("fp-d"));
    // c is ordered under a and b, then taken under the same two again: known from then on.
    for _ in 0..3 {
        let _a = lock!(a);
        let _b = lock!(b);
        drop(lock!(c));
    }
    // Under d alone, a stack c was never ordered under: d -> c is learned...
    pairs!(d -> c);
    assert_quiet(&["fp-d"]);
    // ...and closes a cycle with c -> d.
    let last = pairs!(c -> d);
    assert_reported(ReportKind::LockOrder, &["fp-c", "fp-d"], &[&last]);
}

#[test]
fn a_new_lock_of_known_classes_is_checked_under_a_new_stack() {
    let (a, b) = (mutex!("fpn-a"), mutex!("fpn-b"));
    let first = mutex!("fpn-c");
    pairs!(a -> first);
    // A second lock of the class, taken under a: nothing new to learn, and the stack it was
    // taken under is kept as known for it.
    let second = mutex!("fpn-c");
    pairs!(a -> second);
    // Under b, a stack of the same depth: b -> c is learned...
    pairs!(b -> second);
    assert_quiet(&["fpn-b"]);
    // ...and closes a cycle with c -> b.
    let last = pairs!(second -> b);
    assert_reported(ReportKind::LockOrder, &["fpn-b", "fpn-c"], &[&last]);
}

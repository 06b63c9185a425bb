//! Lazy initialization takes part in the lock graph.
#![cfg(feature = "enabled")]

use crate::common::{assert_quiet, assert_reported};
use lockwatch::sync::{LazyLock, Mutex, Once, OnceLock};
use lockwatch::{named, ReportKind};

#[test]
fn an_initializer_taking_a_lock_that_a_waiter_holds_is_reported() {
    // Two cells of one class: what one initializer does holds for the class.
    let cells: Vec<OnceLock<u32>> = (0..2)
        .map(|_| named(OnceLock::new(), "init-cell"))
        .collect();
    let a = named(Mutex::new(7), "init-a");
    // cell -> a: the initializer takes `a`.
    let (_, init_site) = at!(cells[0].get_or_init(|| *a.lock().unwrap()));
    // a -> cell: holding `a`, wait for a cell being initialized (by another thread, it would
    // wait forever while that initializer waits for `a`).
    let (value, wait_site) = {
        let _a = a.lock().unwrap();
        at!(*cells[1].get_or_init(|| 1))
    };
    assert_eq!(value, 1);
    let report = assert_reported(
        ReportKind::LockOrder,
        &["init-cell", "init-a"],
        &[&wait_site],
    );
    assert!(report.to_string().contains("get_or_init()"), "{report}");
    let _ = init_site;
}

#[test]
fn initialized_cells_cost_nothing_and_add_nothing() {
    let cell = named(OnceLock::new(), "init-done");
    let a = named(Mutex::new(()), "init-done-a");
    cell.get_or_init(|| 1);
    {
        let _a = a.lock().unwrap();
        assert_eq!(*cell.get_or_init(|| 2), 1); // already initialized: no wait, no edge
    }
    let _ = cell.get_or_init(|| 3);
    assert_quiet(&["init-done", "init-done-a"]);
}

#[test]
fn lazy_lock_and_once_initializers_hold_their_cell() {
    static TABLE: LazyLock<Vec<u32>> = LazyLock::new(|| {
        let _cfg = CONFIG.lock().unwrap();
        vec![1, 2, 3]
    });
    static CONFIG: Mutex<()> = Mutex::new(());
    assert_eq!(TABLE.len(), 3); // TABLE -> CONFIG
    let once = Once::new();
    once.call_once(|| {
        let _cfg = CONFIG.lock().unwrap(); // once -> CONFIG
    });
    assert!(once.is_completed());
    let n = lockwatch::reports()
        .iter()
        .filter(|r| {
            let text = r.to_string();
            text.contains(&format!("LazyLock created at {}", file!()))
                || text.contains(&format!("Once created at {}", file!()))
        })
        .count();
    assert_eq!(n, 0, "a consistent order through initializers is quiet");
}

#[test]
fn lazy_lock_behaves_like_std() {
    let lazy = LazyLock::new(|| 40 + 2);
    assert!(LazyLock::get(&lazy).is_none());
    assert_eq!(*lazy, 42);
    assert_eq!(LazyLock::get(&lazy), Some(&42));
    assert_eq!(LazyLock::into_inner(lazy).ok(), Some(42));
    let unused = LazyLock::new(|| 1);
    assert!(LazyLock::into_inner(unused).is_err());
    let mut m = LazyLock::new(|| vec![1]);
    LazyLock::force_mut(&mut m).push(2);
    assert_eq!(*m, vec![1, 2]);
    assert_eq!(
        format!("{:?}", LazyLock::new(|| 5)),
        format!("{:?}", std::sync::LazyLock::new(|| 5))
    );

    let poisoned = LazyLock::new(|| -> u32 { panic!("init fails") });
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *poisoned)).is_err());
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *poisoned));
    let message = again.unwrap_err();
    assert_eq!(
        message.downcast_ref::<&str>(),
        Some(&"LazyLock instance has previously been poisoned")
    );
}

#[test]
fn once_lock_behaves_like_std() {
    let cell: OnceLock<String> = OnceLock::new();
    assert_eq!(cell.get(), None);
    assert_eq!(cell.set("a".into()), Ok(()));
    assert_eq!(cell.set("b".into()), Err("b".into()));
    assert_eq!(cell.wait(), "a");
    let copy = cell.clone();
    assert_eq!(copy, cell);
    assert_eq!(
        format!("{cell:?}"),
        format!("{:?}", std::sync::OnceLock::from(String::from("a")))
    );
    let mut cell = cell;
    assert_eq!(cell.take().as_deref(), Some("a"));
    assert_eq!(OnceLock::from(3).into_inner(), Some(3));
}

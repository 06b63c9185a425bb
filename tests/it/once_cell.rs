//! once_cell's sync cells, tracked like OnceLock (feature `once_cell`).
#![cfg(all(feature = "enabled", feature = "once_cell"))]

use crate::common::assert_reported;
use lockwatch::once_cell::sync::{Lazy, OnceCell};
use lockwatch::sync::Mutex;
use lockwatch::{named, ReportKind};

#[test]
fn a_once_cell_initializer_against_a_waiter_holding_its_lock_is_reported() {
    let cells: Vec<OnceCell<u32>> = (0..2).map(|_| named(OnceCell::new(), "oc-cell")).collect();
    let a = named(Mutex::new(3), "oc-a");
    cells[0].get_or_init(|| *a.lock().unwrap());
    let site = {
        let _a = a.lock().unwrap();
        let (_v, site) = at!(cells[1].get_or_init(|| 1));
        site
    };
    assert_reported(ReportKind::LockOrder, &["oc-cell", "oc-a"], &[&site]);
}

#[test]
fn once_cell_and_lazy_behave_like_once_cells() {
    let cell = OnceCell::new();
    assert_eq!(cell.get_or_try_init(|| Err::<u8, _>("no")), Err("no"));
    assert_eq!(cell.get_or_try_init(|| Ok::<u8, ()>(4)), Ok(&4));
    assert_eq!(cell.try_insert(5), Err((&4, 5)));
    assert_eq!(
        format!("{cell:?}"),
        format!("{:?}", once_cell::sync::OnceCell::with_value(4u8))
    );
    assert_eq!(OnceCell::with_value(1).into_inner(), Some(1));
    let lazy: Lazy<Vec<u8>> = Lazy::new(|| vec![1, 2]);
    assert_eq!(Lazy::get(&lazy), None);
    assert_eq!(lazy.len(), 2);
    assert_eq!(Lazy::into_value(lazy).ok(), Some(vec![1, 2]));
}

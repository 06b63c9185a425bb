//! Every entry point prints its own name: a lock taken with `m` and then held while another is
//! taken makes an order step whose first acquisition is labelled `m`.
#![cfg(feature = "enabled")]

use std::time::{Duration, Instant};

use lockwatch::report::Finding;
use lockwatch::{named, Report};

/// The label of the step out of `held` in the cycle that `body` closes (held taken with the
/// method under test, then `other`; later `other`, then `held` blocking).
pub(crate) fn first_label(reports: &[Report], held: &str) -> String {
    let Some(Finding::LockOrder { cycle, .. }) = reports.first().map(Report::finding) else {
        panic!("no lock-order report: {reports:#?}");
    };
    cycle
        .iter()
        .find(|s| s.from.lock.name == Some(held) && !s.new)
        .map(|s| s.from.method.to_owned())
        .unwrap_or_else(|| panic!("no step from {held}: {reports:#?}"))
}

macro_rules! label_case {
    ($label:literal, $make:expr, |$l:ident| $take:expr, |$b:ident| $block:expr) => {{
        let name = concat!("label-", $label);
        let other = named(
            lockwatch::parking_lot::Mutex::new(()),
            concat!("label-other-", $label),
        );
        let $l = named($make, name);
        let ((), reports) = lockwatch::capture(|| {
            {
                let _held = $take;
                let _o = other.lock();
            }
            let _o = other.lock();
            let $b = &$l;
            let _again = $block;
        });
        assert_eq!(first_label(&reports, name), $label, "{reports:#?}");
    }};
}

#[test]
fn parking_lot_entry_points_print_their_own_names() {
    use lockwatch::parking_lot::{Mutex, ReentrantMutex, RwLock};
    let t = Duration::from_secs(1);
    let until = || Instant::now() + Duration::from_secs(1);
    label_case!("lock", Mutex::new(()), |l| l.lock(), |b| b.lock());
    label_case!("try_lock", Mutex::new(()), |l| l.try_lock(), |b| b.lock());
    label_case!("try_lock_for", Mutex::new(()), |l| l.try_lock_for(t), |b| b
        .lock());
    label_case!(
        "try_lock_until",
        Mutex::new(()),
        |l| l.try_lock_until(until()),
        |b| b.lock()
    );
    label_case!("read", RwLock::new(()), |l| l.read(), |b| b.write());
    label_case!("write", RwLock::new(()), |l| l.write(), |b| b.write());
    label_case!("try_read", RwLock::new(()), |l| l.try_read(), |b| b.write());
    label_case!("try_write", RwLock::new(()), |l| l.try_write(), |b| b
        .write());
    label_case!(
        "try_read_for",
        RwLock::new(()),
        |l| l.try_read_for(t),
        |b| b.write()
    );
    label_case!(
        "try_write_until",
        RwLock::new(()),
        |l| l.try_write_until(until()),
        |b| b.write()
    );
    label_case!(
        "upgradable_read",
        RwLock::new(()),
        |l| l.upgradable_read(),
        |b| b.write()
    );
    label_case!(
        "try_upgradable_read",
        RwLock::new(()),
        |l| l.try_upgradable_read(),
        |b| b.write()
    );
    #[cfg(not(feature = "parking_lot_0_13"))]
    {
        label_case!(
            "read_recursive",
            RwLock::new(()),
            |l| l.read_recursive(),
            |b| b.write()
        );
        label_case!(
            "try_read_recursive",
            RwLock::new(()),
            |l| l.try_read_recursive(),
            |b| b.write()
        );
    }
    label_case!("lock", ReentrantMutex::new(()), |l| l.lock(), |b| b.lock());
    label_case!(
        "try_lock_for",
        ReentrantMutex::new(()),
        |l| l.try_lock_for(t),
        |b| b.lock()
    );
}

#[test]
fn std_entry_points_print_their_own_names() {
    use lockwatch::sync::{Mutex, RwLock};
    label_case!("lock", Mutex::new(()), |l| l.lock().unwrap(), |b| b
        .lock()
        .unwrap());
    label_case!("try_lock", Mutex::new(()), |l| l.try_lock().unwrap(), |b| b
        .lock()
        .unwrap());
    label_case!("read", RwLock::new(()), |l| l.read().unwrap(), |b| b
        .write()
        .unwrap());
    label_case!("write", RwLock::new(()), |l| l.write().unwrap(), |b| b
        .write()
        .unwrap());
    label_case!(
        "try_read",
        RwLock::new(()),
        |l| l.try_read().unwrap(),
        |b| b.write().unwrap()
    );
    label_case!(
        "try_write",
        RwLock::new(()),
        |l| l.try_write().unwrap(),
        |b| b.write().unwrap()
    );
}

#[test]
fn lazy_cells_print_their_entry_points() {
    use lockwatch::sync::{LazyLock, Mutex, Once, OnceLock};
    use std::sync::Arc;
    // Two cells of one class: the first's initializer holds it while it takes `other`; then,
    // holding `other`, the second is initialized (waited for, in a real race). The step out of
    // the cell carries the method that initialized it.
    fn case(name: &'static str, first: impl FnOnce(), second: impl FnOnce(), other: &Mutex<()>) {
        let ((), reports) = lockwatch::capture(|| {
            first();
            let _o = other.lock().unwrap();
            second();
        });
        assert!(!reports.is_empty(), "{name}");
        let label = first_label(&reports, name);
        let expected = name.trim_start_matches("label-");
        assert_eq!(label, expected, "{reports:#?}");
    }
    let other = Arc::new(named(Mutex::new(()), "label-lazy-other"));
    let cells: Vec<OnceLock<()>> = (0..2)
        .map(|_| named(OnceLock::new(), "label-get_or_init"))
        .collect();
    case(
        "label-get_or_init",
        || {
            cells[0].get_or_init(|| drop(other.lock().unwrap()));
        },
        || {
            cells[1].get_or_init(|| ());
        },
        &other,
    );
    let onces: Vec<Once> = (0..2)
        .map(|_| named(Once::new(), "label-call_once"))
        .collect();
    case(
        "label-call_once",
        || onces[0].call_once(|| drop(other.lock().unwrap())),
        || onces[1].call_once(|| ()),
        &other,
    );
    type Init = Box<dyn FnOnce() + Send>;
    let o = Arc::clone(&other);
    let taking: Init = Box::new(move || drop(o.lock().unwrap()));
    let quiet: Init = Box::new(|| ());
    let lazies = [
        named(LazyLock::new(taking), "label-force"),
        named(LazyLock::new(quiet), "label-force"),
    ];
    case(
        "label-force",
        || {
            LazyLock::force(&lazies[0]);
        },
        || {
            LazyLock::force(&lazies[1]);
        },
        &other,
    );
}

//! Classes survive generic helpers: locks made at one site for different protected types are
//! different classes, so an order between them holds for all their instances.
#![cfg(feature = "enabled")]

use std::sync::Arc;

use lockwatch::sync::Mutex;
use lockwatch::ReportKind;

/// The helper every service writes: all its locks are created on one line.
fn shared<T>(v: T) -> Arc<Mutex<T>> {
    Arc::new(Mutex::new(v))
}

struct Users(#[allow(dead_code)] Vec<String>);
struct Orders(#[allow(dead_code)] Vec<u64>);
struct Account(#[allow(dead_code)] i64);

struct Service {
    users: Arc<Mutex<Users>>,
    orders: Arc<Mutex<Orders>>,
}

fn service() -> Service {
    Service {
        users: shared(Users(Vec::new())),
        orders: shared(Orders(Vec::new())),
    }
}

#[test]
fn users_then_orders_in_one_service_and_orders_then_users_in_another_is_reported() {
    let (one, two) = (service(), service());
    let ((), reports) = lockwatch::capture(|| {
        {
            let _u = one.users.lock().unwrap();
            let _o = one.orders.lock().unwrap();
        }
        let _o = two.orders.lock().unwrap();
        let _u = two.users.lock().unwrap(); // other instances: still the same two classes
    });
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].kind(), ReportKind::LockOrder);
    let text = reports[0].to_string();
    assert!(
        text.contains("Mutex<Users> created at tests/it/classes.rs"),
        "{text}"
    );
    assert!(
        text.contains("Mutex<Orders> created at tests/it/classes.rs"),
        "{text}"
    );
    let names: Vec<String> = reports[0].locks().iter().map(|l| l.to_string()).collect();
    assert!(
        names.iter().any(|n| n.starts_with("Mutex<Users>")),
        "{names:?}"
    );
}

#[test]
fn locks_of_one_type_from_one_site_keep_the_per_instance_rules() {
    let accounts: Vec<_> = (0..4).map(|i| shared(Account(i))).collect();
    let ((), quiet) = lockwatch::capture(|| {
        // A consistent order over instances of one class.
        for (a, b) in [(0, 1), (1, 2), (0, 2), (2, 3)] {
            let _a = accounts[a].lock().unwrap();
            let _b = accounts[b].lock().unwrap();
        }
    });
    assert!(quiet.is_empty(), "{quiet:#?}");
    let ((), inverted) = lockwatch::capture(|| {
        let _b = accounts[3].lock().unwrap();
        let _a = accounts[0].lock().unwrap(); // 0 -> 2 -> 3 was seen: 3 -> 0 closes it
    });
    assert_eq!(inverted.len(), 1, "{inverted:#?}");
    assert!(inverted[0]
        .to_string()
        .contains("Mutex<Account> created at tests/it/classes.rs"));
}

//! `Serialize` and `Deserialize` (the `serde` feature): the tracked types write and read what
//! std's and parking_lot's do, a poisoned std lock fails with serde's message, and serializing
//! is a tracked acquisition.
#![cfg(all(feature = "enabled", feature = "serde"))]

use crate::common::assert_reported;
use lockwatch::{named, ReportKind};

/// `value` written by serde_json, and read back into `T` and written again.
fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> (String, String) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    (json, serde_json::to_string(&back).unwrap())
}

#[test]
fn the_tracked_types_write_and_read_what_std_and_parking_lot_do() {
    use lockwatch::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize};
    let std_m = std::sync::Mutex::new(vec![1, 2]);
    let lw_m = lockwatch::sync::Mutex::new(vec![1, 2]);
    assert_eq!(round_trip(&lw_m), round_trip(&std_m));
    let std_rw = std::sync::RwLock::new(("a", 3));
    let lw_rw = lockwatch::sync::RwLock::new(("a", 3));
    assert_eq!(
        serde_json::to_string(&lw_rw).unwrap(),
        serde_json::to_string(&std_rw).unwrap()
    );
    let lw_rw: lockwatch::sync::RwLock<(String, i32)> = serde_json::from_str(r#"["a",3]"#).unwrap();
    assert_eq!(*lw_rw.read().unwrap(), ("a".to_owned(), 3));
    assert_eq!(
        round_trip(&lockwatch::parking_lot::Mutex::new(7)),
        round_trip(&parking_lot::Mutex::new(7))
    );
    assert_eq!(
        round_trip(&lockwatch::parking_lot::RwLock::new(Some(1.5))),
        round_trip(&parking_lot::RwLock::new(Some(1.5)))
    );
    assert_eq!(
        round_trip(&lockwatch::parking_lot::ReentrantMutex::new("x".to_owned())),
        round_trip(&parking_lot::ReentrantMutex::new("x".to_owned()))
    );
    assert_eq!(
        round_trip(&AtomicUsize::new(9)),
        round_trip(&std::sync::atomic::AtomicUsize::new(9))
    );
    assert_eq!(
        round_trip(&AtomicI64::new(-4)),
        round_trip(&std::sync::atomic::AtomicI64::new(-4))
    );
    assert_eq!(
        round_trip(&AtomicBool::new(true)),
        round_trip(&std::sync::atomic::AtomicBool::new(true))
    );
}

#[test]
fn a_poisoned_std_lock_fails_to_serialize_with_serdes_message() {
    fn poisoned_message<M: serde::Serialize + Sync>(m: &M, poison: impl Fn(&M) + Sync) -> String {
        std::thread::scope(|s| {
            let _ = s.spawn(|| poison(m)).join();
        });
        serde_json::to_string(m).unwrap_err().to_string()
    }
    let std_message = poisoned_message(&std::sync::Mutex::new(1), |m| {
        let _g = m.lock().unwrap();
        panic!("poison it");
    });
    let lw_message = poisoned_message(&lockwatch::sync::Mutex::new(1), |m| {
        let _g = m.lock().unwrap();
        panic!("poison it");
    });
    assert_eq!(lw_message, std_message);
    let lw_rw_message = poisoned_message(&lockwatch::sync::RwLock::new(1), |m| {
        let _g = m.write().unwrap();
        panic!("poison it");
    });
    assert_eq!(lw_rw_message, std_message);
}

#[test]
fn serializing_is_a_tracked_acquisition() {
    let a = named(lockwatch::parking_lot::Mutex::new(0), "serde-a");
    let b = named(lockwatch::sync::Mutex::new(vec![1]), "serde-b");
    {
        // `a`, then `b` locked to be written.
        let _a = a.lock();
        serde_json::to_string(&b).unwrap();
    }
    let _b = b.lock().unwrap();
    let _a = a.lock();
    assert_reported(ReportKind::LockOrder, &["serde-a", "serde-b"], &[]);
}

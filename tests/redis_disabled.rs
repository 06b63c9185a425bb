//! Without `enabled`, `lockwatch::redis` leases work the same, untracked.
#![cfg(all(not(feature = "enabled"), feature = "redis"))]

#[path = "common/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use lockwatch::redis::LeaseLock;

#[test]
fn leases_work_untracked() {
    let server = redis_server::RedisServer::start();
    let client = server.client();
    let lock = LeaseLock::new(&client, "lw-off:1", Duration::from_secs(5));
    assert_eq!(lock.class(), "lw-off:#");
    let guard = lock.lock().unwrap();
    assert_eq!(lock.holder().unwrap().unwrap().token, guard.token());
    assert!(lock.try_lock().unwrap().is_none());
    guard.extend().unwrap();
    assert!(guard.release().unwrap());
    assert!(lock.try_lock().unwrap().is_some());
    assert!(lockwatch::reports().is_empty());
}

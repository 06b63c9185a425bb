//! `lockwatch::redis` against a real `redis-server` (started here on a free loopback port):
//! acquire, release, extend and compare-and-delete; leases in the lock graph with local locks;
//! a lease expiring under a long hold; a long wait naming a holder in another process; two
//! processes deadlocked on each other's leases, reported while they hang; Redis stopped
//! mid-run. Children are this binary, one test each, with `LOCKWATCH_CHILD` set.
#![cfg(all(feature = "enabled", feature = "redis"))]

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{assert_reported, wait_for_report};
use lockwatch::redis::{LeaseError, LeaseLock};
use lockwatch::report::{Doing, Finding};
use lockwatch::sync::Mutex;
use lockwatch::{named, ReportKind};
use redis_server::RedisServer;

/// One server for the tests of this process (a child gets its parent's URL instead).
fn server_url() -> String {
    if let Ok(url) = std::env::var("LOCKWATCH_TEST_REDIS") {
        return url;
    }
    static SERVER: OnceLock<RedisServer> = OnceLock::new();
    SERVER.get_or_init(RedisServer::start).url()
}

fn client() -> redis::Client {
    redis::Client::open(server_url()).unwrap()
}

fn in_child() -> bool {
    std::env::var_os("LOCKWATCH_CHILD").is_some()
}

/// Starts this binary's test `name` as a child process against this process's server, its
/// stderr piped.
fn spawn_child(name: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("LOCKWATCH_CHILD", "1")
        .env("LOCKWATCH_TEST_REDIS", server_url())
        .env("LOCKWATCH_LONG_WAIT_MS", "300")
        .env_remove("LOCKWATCH_POLICY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `child`'s stderr until a line contains `needle` (or `within` passes); returns all it
/// read.
fn read_until(child: &mut Child, needle: &str, within: Duration) -> String {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + within;
    let mut text = String::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
                if line.contains(needle) {
                    // The rest of the report follows at once.
                    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
                        text.push_str(&line);
                        text.push('\n');
                    }
                    break;
                }
            }
            Err(_) => break,
        }
    }
    text
}

#[test]
fn acquire_extend_release_and_compare_and_delete() {
    if in_child() {
        return;
    }
    let c = client();
    let lock = LeaseLock::new(&c, "lw-test:basic:1", Duration::from_millis(300));
    let guard = lock.lock().unwrap();
    let holder = lock.holder().unwrap().expect("held");
    assert_eq!(holder.pid, std::process::id());
    assert_eq!(holder.token, guard.token());
    assert!(holder.site.contains("redis_leases.rs:"), "{holder}");
    // Held: a try from another lock on the key fails.
    let other = LeaseLock::new(&c, "lw-test:basic:1", Duration::from_millis(300));
    assert!(other.try_lock().unwrap().is_none());
    guard.extend().unwrap();
    assert!(guard.remaining() > Duration::from_millis(200));
    assert!(guard.release().unwrap(), "still ours: deleted");
    assert_eq!(lock.holder().unwrap(), None);

    // A guard whose lease expired cannot release the next holder's.
    let stale = lock.lock().unwrap();
    std::thread::sleep(Duration::from_millis(450));
    let fresh = other.try_lock().unwrap().expect("expired: free");
    assert!(matches!(stale.extend(), Err(LeaseError::Lost { .. })));
    assert!(!stale.release().unwrap(), "not ours any more");
    assert_eq!(other.holder().unwrap().unwrap().token, fresh.token());
    drop(fresh);
    assert_eq!(other.holder().unwrap(), None);
}

#[test]
fn lock_timeout_names_the_holder() {
    if in_child() {
        return;
    }
    let c = client();
    let lock = LeaseLock::new(&c, "lw-test:timeout:1", Duration::from_secs(5));
    let held = lock.lock().unwrap();
    let err = LeaseLock::new(&c, "lw-test:timeout:1", Duration::from_secs(5))
        .lock_timeout(Duration::from_millis(100))
        .unwrap_err();
    let LeaseError::Timeout { holder, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(holder.as_ref().unwrap().token, held.token());
    assert!(err.to_string().contains("held by process `"), "{err}");
}

#[test]
fn leases_of_two_classes_in_both_orders_are_an_inversion() {
    if in_child() {
        return;
    }
    let c = client();
    std::thread::scope(|s| {
        s.spawn(|| {
            let order =
                LeaseLock::with_class(&c, "lw-inv:order:1", "lw-inv-order", Duration::from_secs(5));
            let user =
                LeaseLock::with_class(&c, "lw-inv:user:1", "lw-inv-user", Duration::from_secs(5));
            let _o = order.lock().unwrap();
            let _u = user.lock().unwrap();
        })
        .join()
        .unwrap();
        s.spawn(|| {
            let order =
                LeaseLock::with_class(&c, "lw-inv:order:2", "lw-inv-order", Duration::from_secs(5));
            let user =
                LeaseLock::with_class(&c, "lw-inv:user:2", "lw-inv-user", Duration::from_secs(5));
            let _u = user.lock().unwrap();
            let _o = order.lock().unwrap();
        })
        .join()
        .unwrap();
    });
    let report = assert_reported(
        ReportKind::LockOrder,
        &["lw-inv-order", "lw-inv-user"],
        &["redis_leases.rs:"],
    );
    assert!(
        report.to_string().contains("Lease `lw-inv-order`"),
        "{report}"
    );
}

#[test]
fn a_local_mutex_and_a_lease_in_both_orders_are_an_inversion() {
    if in_child() {
        return;
    }
    let c = client();
    let lease = LeaseLock::with_class(&c, "lw-mixed:1", "lw-mixed-lease", Duration::from_secs(5));
    let state = named(Mutex::new(0), "lw-mixed-mutex");
    {
        let _s = state.lock().unwrap();
        let _l = lease.lock().unwrap(); // a std mutex held while waiting for a lease
    }
    {
        let _l = lease.lock().unwrap();
        let _s = state.lock().unwrap();
    }
    assert_reported(
        ReportKind::LockOrder,
        &["lw-mixed-lease", "lw-mixed-mutex"],
        &["redis_leases.rs:"],
    );
}

#[test]
fn waiting_for_a_lease_the_thread_holds_is_reported_before_it_waits() {
    if in_child() {
        return;
    }
    let c = client();
    let lease = LeaseLock::with_class(&c, "lw-self:1", "lw-self", Duration::from_millis(400));
    let _held = lease.lock().unwrap();
    // It would wait until the lease expires; the report comes first.
    let again = lease.lock_timeout(Duration::from_millis(50));
    assert!(matches!(again, Err(LeaseError::Timeout { .. })));
    let report = assert_reported(ReportKind::LockOrder, &["lw-self"], &["redis_leases.rs:"]);
    assert!(
        matches!(report.finding(), Finding::SelfDeadlock { .. }),
        "{report}"
    );
}

#[test]
fn a_lease_expiring_under_a_long_hold_is_reported() {
    if in_child() {
        return;
    }
    let c = client();
    let lease = LeaseLock::with_class(&c, "lw-expire:1", "lw-expire", Duration::from_millis(300));
    let site = line!() + 1;
    let guard = lease.lock().unwrap();
    let report = wait_for_report(ReportKind::LeaseExpired, &["lw-expire"]);
    let Finding::LeaseExpired { key, hold, ttl, .. } = report.finding() else {
        panic!("{report}");
    };
    assert_eq!(key, "lw-expire:1");
    assert_eq!(*ttl, Duration::from_millis(300));
    assert!(
        hold.site
            .to_string()
            .starts_with(&format!("tests/redis_leases.rs:{site}:")),
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("another process may hold `lw-expire:1` now"),
        "{text}"
    );
    assert!(text.contains("LeaseGuard::extend"), "{text}");
    // As data in `reports.jsonl`, too.
    let jsonl = lockwatch::export::reports_jsonl();
    let line = jsonl
        .lines()
        .find(|l| l.contains("\"LeaseExpired\"") && l.contains("lw-expire:1"))
        .expect("a reports.jsonl line");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["kind"], "LeaseExpired");
    assert_eq!(v["finding"]["type"], "LeaseExpired");
    assert_eq!(v["finding"]["key"], "lw-expire:1");
    assert_eq!(v["finding"]["ttl_ms"], 300);
    assert!(v["finding"]["expired_ms"].as_u64().is_some(), "{line}");
    assert_eq!(v["finding"]["hold"]["site"]["line"], site);
    assert!(!guard.release().unwrap(), "expired: nothing to delete");
    // Extended in time, a lease is quiet.
    let kept = lease.lock().unwrap();
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(100));
        kept.extend().unwrap();
    }
    drop(kept);
    let expired: Vec<_> = common::reports_about(&["lw-expire"])
        .into_iter()
        .filter(|r| r.kind() == ReportKind::LeaseExpired)
        .collect();
    assert_eq!(expired.len(), 1, "{expired:?}");
}

/// The holder, in a child process: takes the lease and keeps it for two seconds.
#[test]
fn child_holds_a_lease() {
    if !in_child() {
        return;
    }
    let lease = LeaseLock::with_class(&client(), "lw-wait:1", "lw-wait", Duration::from_secs(10));
    let _guard = lease.lock().unwrap();
    eprintln!("holding");
    std::thread::sleep(Duration::from_secs(2));
}

#[test]
fn a_long_wait_names_the_holder_in_another_process() {
    if in_child() {
        return;
    }
    lockwatch::watchdog::set_long_wait(Duration::from_millis(300));
    let mut child = spawn_child("child_holds_a_lease");
    let said = read_until(&mut child, "holding", Duration::from_secs(20));
    assert!(said.contains("holding"), "{said}");
    let lease = LeaseLock::with_class(&client(), "lw-wait:1", "lw-wait", Duration::from_secs(10));
    let guard = lease.lock().unwrap(); // waits for the child to finish
    drop(guard);
    child.wait().unwrap();
    let report = wait_for_report(ReportKind::LongWait, &["lw-wait"]);
    let Finding::LongWait { holders, .. } = report.finding() else {
        panic!("{report}");
    };
    assert_eq!(holders.len(), 1, "{report}");
    assert!(
        holders[0]
            .thread
            .contains(&format!("(pid {} on ", child.id())),
        "the child by its stored value:\n{report}"
    );
    assert!(
        holders[0].thread.contains("thread `child_holds_a_lease`"),
        "{report}"
    );
    assert!(
        holders[0].hold.site.file.ends_with("redis_leases.rs"),
        "{report}"
    );
    assert_eq!(holders[0].doing, Doing::InAnotherProcess);
}

/// Each deadlock child takes its first lease, waits until the other child holds its own, then
/// waits for the other's: both hang.
fn deadlock_child(first: &str, second: &str) {
    let c = client();
    let a = LeaseLock::with_class(&c, first, "lw-dead", Duration::from_secs(30));
    let b = LeaseLock::with_class(&c, second, "lw-dead", Duration::from_secs(30));
    let _a = a.lock().unwrap();
    while b.holder().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _b = b.lock_timeout(Duration::from_secs(20));
}

#[test]
fn child_deadlock_one() {
    if in_child() {
        deadlock_child("lw-dead:1", "lw-dead:2");
    }
}

#[test]
fn child_deadlock_two() {
    if in_child() {
        deadlock_child("lw-dead:2", "lw-dead:1");
    }
}

#[test]
fn two_processes_deadlocked_on_leases_are_reported_while_they_hang() {
    if in_child() {
        return;
    }
    let mut one = spawn_child("child_deadlock_one");
    let mut two = spawn_child("child_deadlock_two");
    let said = read_until(&mut one, "deadlock:", Duration::from_secs(15));
    let _ = (one.kill(), two.kill(), one.wait(), two.wait());
    eprintln!("{said}");
    assert!(
        said.contains("deadlock: 2 threads are blocked in a cycle"),
        "{said}"
    );
    assert!(
        said.contains("Lease `lw-dead:2`") && said.contains("Lease `lw-dead:1`"),
        "{said}"
    );
    assert!(
        said.contains("process `redis_leases") && said.contains(&format!("(pid {} on ", two.id())),
        "names the other process from its stored value:\n{said}"
    );
}

#[test]
fn redis_stopped_mid_run_is_an_error_not_a_crash() {
    if in_child() {
        return;
    }
    let mut own = RedisServer::start();
    let c = own.client();
    let lease = LeaseLock::new(&c, "lw-gone:1", Duration::from_secs(5));
    let guard = lease.lock().unwrap();
    own.stop();
    // The guard's release fails (one warning), the program goes on.
    drop(guard);
    let err = lease.try_lock().unwrap_err();
    assert!(matches!(err, LeaseError::Redis(_)), "{err}");
    assert!(lease.lock_timeout(Duration::from_millis(100)).is_err());
}

/// One side of an inversion across processes: `first` then `second`, then stay until this
/// process has a cross-process report (or three seconds).
fn order_child(first: &str, second: &str) {
    lockwatch::redis::share_order(&server_url()).unwrap();
    let c = client();
    let a = LeaseLock::with_class(&c, first, &class_of_key(first), Duration::from_secs(5));
    let b = LeaseLock::with_class(&c, second, &class_of_key(second), Duration::from_secs(5));
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline
        && !lockwatch::reports()
            .iter()
            .any(|r| r.to_string().contains("across processes"))
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("done");
}

/// `lw-x-order:1` → `lw-x-order`.
fn class_of_key(key: &str) -> String {
    key.split(':').next().unwrap().to_owned()
}

#[test]
fn child_orders_then_users() {
    if in_child() {
        order_child("lw-x-order:1", "lw-x-user:1");
    }
}

#[test]
fn child_users_then_orders() {
    if in_child() {
        order_child("lw-x-user:2", "lw-x-order:2");
    }
}

#[test]
fn opposite_orders_in_two_processes_at_different_times_are_one_report() {
    if in_child() {
        return;
    }
    let mut first = spawn_child("child_orders_then_users");
    let said_first = read_until(&mut first, "done", Duration::from_secs(20));
    first.wait().unwrap();
    let mut second = spawn_child("child_users_then_orders");
    let said = read_until(&mut second, "done", Duration::from_secs(20));
    second.wait().unwrap();
    eprintln!("{said}");
    assert!(
        !said_first.contains("lock order inversion"),
        "the first process saw no cycle:\n{said_first}"
    );
    assert_eq!(
        said.matches("lock order inversion across processes")
            .count(),
        1,
        "{said}"
    );
    assert!(
        said.contains(&format!("(pid {} on ", first.id())),
        "names the first process:\n{said}"
    );
    assert!(
        said.contains("Lease `lw-x-order`") && said.contains("Lease `lw-x-user`"),
        "{said}"
    );
    assert!(said.contains("redis_leases.rs:"), "{said}");
}

/// With `LOCKWATCH_REDIS` pointing at nothing (or at a bad URL), local detection goes on:
/// one warning, and the local inversion is reported.
#[test]
fn child_shares_with_no_redis() {
    if !in_child() {
        return;
    }
    let a = named(Mutex::new(0), "lw-noredis-a");
    let b = named(Mutex::new(0), "lw-noredis-b");
    for _ in 0..3 {
        {
            let _a = a.lock().unwrap();
            let _b = b.lock().unwrap();
        }
        {
            let _b = b.lock().unwrap();
            let _a = a.lock().unwrap();
        }
        std::thread::sleep(Duration::from_millis(400));
    }
    eprintln!("done");
}

#[test]
fn redis_away_or_a_bad_url_is_one_warning_and_local_detection_goes_on() {
    if in_child() {
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (url, warning) in [
        (format!("redis://127.0.0.1:{closed}/"), "cannot reach Redis"),
        ("not a url".to_owned(), "bad Redis URL"),
    ] {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_shares_with_no_redis", "--exact", "--nocapture"])
            .env("LOCKWATCH_CHILD", "1")
            .env("LOCKWATCH_REDIS", &url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let said = read_until(&mut child, "done", Duration::from_secs(20));
        assert!(child.wait().unwrap().success(), "{said}");
        assert_eq!(said.matches(warning).count(), 1, "{url}: {said}");
        assert!(said.contains("lock order inversion"), "{said}");
    }
}

/// Shares lock order through a server its parent stops mid-run: it waits for the word on
/// stdin, then keeps locking (an inversion of named locks), and must go on with one warning.
#[test]
fn child_outlives_its_redis() {
    if !in_child() {
        return;
    }
    lockwatch::redis::share_order(&server_url()).unwrap();
    let a = named(Mutex::new(0), "lw-outlive-a");
    let b = named(Mutex::new(0), "lw-outlive-b");
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    std::thread::sleep(Duration::from_millis(600)); // shared by now
    eprintln!("shared");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap(); // the server is gone after this
    std::thread::sleep(Duration::from_millis(600));
    {
        let _b = b.lock().unwrap();
        let _a = a.lock().unwrap();
    }
    std::thread::sleep(Duration::from_millis(1500));
    eprintln!("done");
}

#[test]
fn redis_stopped_mid_run_is_one_warning_and_local_detection_goes_on() {
    if in_child() {
        return;
    }
    let mut own = RedisServer::start();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["child_outlives_its_redis", "--exact", "--nocapture"])
        .env("LOCKWATCH_CHILD", "1")
        .env("LOCKWATCH_TEST_REDIS", own.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !said.contains("shared") && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            said.push_str(&line);
            said.push('\n');
        }
    }
    assert!(said.contains("shared"), "{said}");
    let edges: Vec<String> = redis::cmd("KEYS")
        .arg("lockwatch:edge:*")
        .query(&mut own.client().get_connection().unwrap())
        .unwrap();
    assert!(
        edges.iter().any(|k| k.contains("lw-outlive-a")),
        "the first order was shared: {edges:?}"
    );
    own.stop();
    use std::io::Write;
    writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
    while !said.contains("done") && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            said.push_str(&line);
            said.push('\n');
        }
    }
    assert!(child.wait().unwrap().success(), "{said}");
    assert_eq!(said.matches("cannot reach Redis").count(), 1, "{said}");
    assert!(
        said.contains("lock order inversion (potential deadlock)"),
        "{said}"
    );
}

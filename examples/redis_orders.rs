//! Two worker processes share orders and customers through Redis leases, and lockwatch finds
//! the deadlock between them that did not happen (this time).
//!
//! ```text
//! cargo run --example redis_orders --features enabled,redis              # starts a redis-server
//! cargo run --example redis_orders --features enabled,redis -- redis://127.0.0.1:6379/
//! ```
//!
//! The billing worker locks an order, then its customer (`order:42` → `user:7`); the shipping
//! worker locks a customer, then one of their orders (`user:7` → `order:42`). Run at the same
//! moment, each would hold one lease and wait for the other's until both leases expire. Here
//! they run one after the other, in two processes, so nothing hangs; with `LOCKWATCH_REDIS`
//! set, each process shares its lock order through Redis, and the second one reports the
//! inversion, naming the first process and its sites.
//!
//! Then the nightly export takes a customer's lease for 300 ms and works for 700 ms without
//! extending it: the lease expires under it, and another process could take the customer
//! meanwhile. lockwatch reports it while it happens.

use std::process::{Command, Stdio};
use std::time::Duration;

use lockwatch::redis::LeaseLock;

fn order(client: &redis::Client, id: u32) -> LeaseLock {
    LeaseLock::with_class(
        client,
        format!("order:{id}"),
        "order",
        Duration::from_secs(5),
    )
}

fn customer(client: &redis::Client, id: u32) -> LeaseLock {
    LeaseLock::with_class(client, format!("user:{id}"), "user", Duration::from_secs(5))
}

/// Bills order 42 of customer 7: the order first, then the customer.
fn bill(client: &redis::Client) {
    let order = order(client, 42);
    let customer = customer(client, 7);
    let _order = order.lock().expect("order lease");
    let _customer = customer.lock().expect("customer lease");
    // ... charge the customer for the order ...
}

/// Ships customer 7's order 42: the customer first, then the order.
fn ship(client: &redis::Client) {
    let customer = customer(client, 7);
    let order = order(client, 42);
    let _customer = customer.lock().expect("customer lease");
    let _order = order.lock().expect("order lease");
    // ... print the label ...
}

/// Exports customer 7 for 700 ms under a 300 ms lease, never extending it.
fn export(client: &redis::Client) {
    let lease = LeaseLock::with_class(client, "user:7", "user", Duration::from_millis(300));
    let guard = lease.lock().expect("customer lease");
    std::thread::sleep(Duration::from_millis(700)); // the slow export
    let still_ours = guard.release().expect("release");
    println!(
        "export done; the lease was {}",
        if still_ours { "still ours" } else { "gone" }
    );
}

/// In a worker process: share lock order through Redis, do the job, give the background
/// thread a moment to compare notes, and exit.
fn worker(job: &str, url: &str) {
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(false)
        .without_time()
        .init();
    lockwatch::redis::share_order(url).expect("share lock order");
    let client = redis::Client::open(url).expect("redis url");
    match job {
        "billing" => bill(&client),
        "shipping" => ship(&client),
        "export" => export(&client),
        other => panic!("no job {other}"),
    }
    std::thread::sleep(Duration::from_millis(1500));
}

/// A `redis-server` of our own on a free loopback port, stopped on drop.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> Option<(Server, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = Server(child);
    let url = format!("redis://127.0.0.1:{port}/");
    let client = redis::Client::open(url.as_str()).ok()?;
    for _ in 0..200 {
        if let Ok(mut c) = client.get_connection() {
            if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                return Some((server, url));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn run_worker(job: &str, url: &str) {
    let status = Command::new(std::env::current_exe().expect("own path"))
        .args(["worker", job, url])
        .status()
        .expect("start a worker");
    assert!(status.success(), "the {job} worker failed");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("worker") {
        return worker(&args[2], &args[3]);
    }
    if !cfg!(feature = "enabled") {
        println!("lockwatch is off: run with `--features enabled,redis` to see its reports.\n");
    }
    let (_server, url) = match args.get(1) {
        Some(url) => (None, url.clone()),
        None => match start_server() {
            Some((server, url)) => (Some(server), url),
            None => {
                eprintln!(
                    "this example needs Redis: install redis-server (Debian: apt-get install \
                     redis-server), or pass a URL: cargo run --example redis_orders --features \
                     enabled,redis -- redis://127.0.0.1:6379/"
                );
                return;
            }
        },
    };
    println!("== 1. the billing worker locks order:42, then user:7 (one process) ==");
    run_worker("billing", &url);
    println!("\n== 2. the shipping worker locks user:7, then order:42 (another process) ==");
    run_worker("shipping", &url);
    println!("\n== 3. the nightly export holds user:7 past its 300 ms lease ==");
    run_worker("export", &url);
}

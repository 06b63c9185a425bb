#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then the tests in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== a real redis-server for the Redis tests (Debian's package, installed if missing)"
if ! command -v redis-server > /dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server > /dev/null
fi
redis-server --version
echo "== format"
cargo fmt --all -- --check
echo "== clippy (all targets; all features, and the default parking_lot 0.12 facade)"
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy --all-targets --features enabled,once_cell -- -D warnings
cargo clippy --all-targets --features tokio,redis -- -D warnings
cargo clippy --all-targets --features enabled,tokio -- -D warnings
echo "== docs build without broken links"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --features enabled,once_cell,tokio,redis,arc_lock,serde --no-deps
echo "== tests, tracking on (unit, integration, doc; tokio's locks on a real runtime; Redis"
echo "   leases against redis-server processes the tests start on free loopback ports)"
cargo test --features enabled,once_cell,tokio,redis,arc_lock,serde
echo "== guards that are Send (parking_lot's send_guard), dropped on other threads"
cargo test --features enabled,send_guard,arc_lock --test sent_guards
echo "== tests, tracking on, lockwatch::parking_lot over parking_lot 0.13 / lock_api 0.5"
cargo test --features enabled,once_cell,parking_lot_0_13,arc_lock,serde --tests
echo "== tests, tracking off (plain re-exports, no-op extras), for both parking_lot versions"
cargo test --features once_cell
cargo test --features tokio,redis,arc_lock,serde --test disabled --test redis_disabled
cargo test --features parking_lot_0_13,arc_lock,serde --test disabled
echo "== every blocking acquisition the direct way (a lock contended before: no try, the call"
echo "   announced in the next row), as if every lock had been contended (own target dir)"
RUSTFLAGS="--cfg lockwatch_direct_always" CARGO_TARGET_DIR=target/direct cargo test \
  --features enabled,arc_lock,send_guard --test it --test watchdog --test direct_waits \
  --test contention --test condvar_hangs --test differential --test sent_guards \
  --test spans_and_backtraces --test direct_backtraces
echo "== loom models of the lock-free parts (--cfg loom, own target dir)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --test loom
echo "== the command line tool (tools/lockwatch-cli)"
cargo test -p lockwatch-cli
echo "== a crate's own test suite with lockwatch on (examples/ledger): per-test capture"
cargo test --manifest-path examples/ledger/Cargo.toml --target-dir target
echo "== a real deadlock in a test fails the run with the report (LOCKWATCH_ON_DEADLOCK=abort)"
if out=$(LOCKWATCH_ON_DEADLOCK=abort timeout 300 cargo test --manifest-path examples/ledger/Cargo.toml \
    --target-dir target -- --ignored 2>&1); then
  echo "$out"; echo "the deadlocked test run should have failed"; exit 1
fi
if ! grep -q "deadlock: 2 threads are blocked" <<<"$out" || ! grep -q "aborting on deadlock" <<<"$out"; then
  echo "$out"; echo "the failed run did not show the deadlock report"; exit 1
fi
echo "failed as it should, with the report"
echo "== the demo runs, and with LOCKWATCH_DIR exits 0 having written every file"
cargo run --quiet --example bank --features enabled > /dev/null 2>&1
out_dir=$(mktemp -d)
LOCKWATCH_DIR="$out_dir" cargo run --quiet --example bank --features enabled > /dev/null 2>&1
for f in reports.jsonl waiters.folded blame.folded cas-retries.folded lock-graph.dot; do
  [ -s "$(echo "$out_dir"/bank-*/"$f")" ] || [ "$f" = cas-retries.folded ] \
    || { echo "LOCKWATCH_DIR: $f missing or empty"; ls -lR "$out_dir"; exit 1; }
done
cargo run --quiet -p lockwatch-cli -- reports "$out_dir" | tail -n 1
rm -rf "$out_dir"
echo "all passed"

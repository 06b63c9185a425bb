#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then the tests in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format"
cargo fmt --all -- --check
echo "== clippy (all targets, all features)"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== docs build without broken links"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --all-features --no-deps
echo "== tests, tracking on (unit, integration, doc; all features)"
cargo test --all-features
echo "== tests, tracking off (plain re-exports, no-op extras)"
cargo test --features once_cell
cargo test --test disabled
echo "== loom models of the lock-free parts (--cfg loom, own target dir)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release --test loom
echo "== the command line tool (tools/lockwatch-cli)"
cargo test -p lockwatch-cli
echo "== the demo runs"
cargo run --quiet --example bank --features enabled > /dev/null 2>&1
echo "all passed"

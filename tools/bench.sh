#!/usr/bin/env bash
# The benchmark table, in both builds: tracking on (lockwatch against parking_lot, std and
# tracing-mutex in one process; tokio's locks against tokio's), then off (lockwatch's types
# are the plain ones); then the workloads (a sharded key-value store, a job queue) in both
# builds; then a Redis lease round trip (needs redis-server, as the test command installs).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m)"
cargo bench --quiet --bench overhead --features enabled,tokio
echo
cargo bench --quiet --bench overhead
echo
cargo bench --quiet --bench workload --features enabled
echo
cargo bench --quiet --bench workload
echo
cargo bench --quiet --bench redis_lease --features enabled,redis

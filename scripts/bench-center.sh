#!/usr/bin/env bash
# bench/center: 100 simulated hosts and 10,000 VMs; listings and permission
# checks on SQLite beside PostgreSQL.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
bash scripts/setup.sh
PG=$(bash scripts/postgres.sh)
cargo build --release -p hierro -p hierro-bench-center
exec target/release/hierro-bench-center --hierro target/release/hierro --postgres "$PG" "$@"

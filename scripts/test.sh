#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: formatting, lints,
# unit tests and the integration tests that boot real QEMU VMs in a lab of
# network namespaces. Needs root.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

bash scripts/setup.sh
bash scripts/build-image.sh
bash scripts/build-web.sh
# The center's tests run on SQLite and on a real PostgreSQL.
HIERRO_TEST_POSTGRES=$(bash scripts/postgres.sh)
export HIERRO_TEST_POSTGRES

# A one-off build gains nothing from incremental state, which would take
# another GiB or two of disk.
export CARGO_INCREMENTAL=0

cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# One test at a time: the integration tests boot real VMs (up to four at
# once in one test), and TCG guests on a two-core machine must not starve.
cargo test --workspace -- --test-threads=1

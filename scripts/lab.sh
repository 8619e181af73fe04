#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and starts a lab: host agents in network
# namespaces with a shared datastore and running VMs, and a center managing
# them. Arguments go to `hierro lab up` (default: 2 hosts, 1 VM each), except
# a bare `--postgres`: the center's database then lives on this machine's
# PostgreSQL (started by scripts/postgres.sh) instead of SQLite. Needs root.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

bash scripts/setup.sh
bash scripts/build-image.sh
bash scripts/build-web.sh
args=()
for a in "$@"; do
    if [ "$a" = "--postgres" ]; then
        args+=(--postgres "$(bash scripts/postgres.sh)")
    else
        args+=("$a")
    fi
done
exec target/debug/hierro lab up "${args[@]}"

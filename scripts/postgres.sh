#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster for the center's tests (and a center
# configured for PostgreSQL), and gives root a superuser role in it. Prints
# the connection URL. Idempotent.
set -euo pipefail
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
    echo "postgres.sh: no PostgreSQL cluster (install the postgresql package: scripts/setup.sh)" >&2
    exit 1
fi
# shellcheck disable=SC2086
pg_ctlcluster $cluster start >/dev/null 2>&1 || true
for _ in $(seq 1 50); do
    su postgres -c "psql -qAt -c 'select 1'" >/dev/null 2>&1 && break
    sleep 0.2
done
su postgres -c "psql -qAt -c \"select 1 from pg_roles where rolname = 'root'\"" | grep -q 1 \
    || su postgres -c "psql -q -c 'CREATE ROLE root SUPERUSER LOGIN'"
echo "postgres:///postgres?host=/var/run/postgresql&user=root"

#!/usr/bin/env bash
# One guest-to-guest figure, for completeness: TCP between two guests on one
# lab host, through vswitchd. Under TCG the guests, not the switch, are the
# limit (compare run.sh's numbers). Needs root, the guest image and a build.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
H=${HIERRO:-$REPO/target/release/hierro}
DIR=/tmp/hierro-bench-guests
SECONDS_=${BVS_SECONDS:-5}
[ -x "$H" ] || { echo "build first: cargo build --release -p hierro" >&2; exit 1; }

"$H" lab down --dir "$DIR" >/dev/null 2>&1 || true
"$H" lab up --hosts 1 --vms-per-host 2 --id 31 --dir "$DIR" --image "$REPO/image" --json > "$DIR.json"
trap '"$H" lab down --dir "$DIR" >/dev/null; rm -f "$DIR.json"' EXIT

field() { python3 -c "import json,sys; d=json.load(open('$DIR.json')); print($1)"; }
export HIERRO_SERVER=$(field "d['hosts'][0]['url']") HIERRO_USER=$(field "d['user']")
export HIERRO_PASSWORD=$(field "d['password']") HIERRO_THUMBPRINT=$(field "d['hosts'][0]['thumbprint']")
VM1=$(field "d['hosts'][0]['vms'][0]['name']") VM2=$(field "d['hosts'][0]['vms'][1]['name']")
IP2=$(field "d['hosts'][0]['vms'][1]['ip']")

# The sink in the background on VM2, then the sender on VM1; the sender's
# one-line JSON summary comes back on VM1's serial console.
(echo "hierro-guest traffic sink --port 5001 >/dev/null 2>&1 &"; sleep 1) | "$H" vm console "$VM2" >/dev/null
OUT=$( (echo "hierro-guest traffic send --to $IP2:5001 --seconds $SECONDS_"; sleep $((SECONDS_ + 4))) | "$H" vm console "$VM1" | tr -d '\r' | grep -a '"mbit_per_s"' | tail -1)
MBIT=$(python3 -c "import json,sys; print(round(json.loads(sys.argv[1][sys.argv[1].index('{'):])['mbit_per_s'], 1))" "$OUT")
echo
echo "| path                                   | TCP Mbit/s |"
echo "|----------------------------------------|-----------:|"
printf "| guest to guest, one host, vswitchd     | %10s |\n" "$MBIT"

#!/usr/bin/env bash
# Hierro's fuzz gate (#15): schemathesis against a center and a host agent.
#
#   run.sh CENTER_URL CENTER_SESSION HOST_URL HOST_SESSION
#
# CENTER_SESSION: a login session token of a center Administrator on the
# root; HOST_SESSION: a login session token of the host's admin (root). One
# correct login each, made by the caller before the gate, e.g.
#   curl -sk -X POST $URL/api/session -H 'content-type: application/json' \
#        -d '{"username":"administrator","password":"..."}'      # -> .token
# The host should be managed by the center (a lab). Use a lab of its own:
# the gate leaves it changed (objects made, deleted, the host maybe in
# lockdown or maintenance).
#
# Phase 1: every GET and every POST that makes something, with the given
#          sessions (so that POST /api/tokens and /api/service-tokens can
#          succeed; nothing in phase 1 ends a session or takes rights).
# Phase 2: everything else (DELETE, PUT, PATCH, action POSTs, logout), with
#          credentials phase 2 cannot take away: on the center an API token
#          of a second Administrator made here (logout does not end API
#          tokens), on the host a service token made here (lockdown and
#          logout do not touch service tokens). guard_hooks.py keeps requests
#          off the run's own users, permissions and tokens, the center's
#          service token on the host, and the host's management network.
# Every operation of each document is in exactly one phase (computed from
# the live document). The credentials are all made before phase 1: phase 2 on
# the center may put the host in lockdown, which ends root's session there.
# Exit status: 0 when every run passed, 1 on any failure, 3 on a setup error.
#
# Environment: FUZZ_EXAMPLES (default 100), FUZZ_SEED (default 15),
# FUZZ_OUT (default /tmp/fuzz/out), FUZZ_ST (the schemathesis binary,
# default /opt/hierro/fuzz-venv/bin/schemathesis, which scripts/setup.sh
# installs), FUZZ_TARGETS ("center host"),
# FUZZ_HOST_USER (the host session's user, default root), FUZZ_LOGS (the
# daemons' log files, checked for panics afterwards), FUZZ_WORKERS
# (default 1: Debian 12's Python 3.11.2 has CPython bug gh-106905, an `ast`
# SystemError that crashes schemathesis' coverage phase with more workers).
set -uo pipefail

if [ $# -ne 4 ]; then
    sed -n '2,10p' "$0" >&2
    exit 2
fi
CENTER_URL=${1%/}
CENTER_SESSION=$2
HOST_URL=${3%/}
HOST_SESSION=$4

HERE=$(cd "$(dirname "$0")" && pwd)
ST=${FUZZ_ST:-/opt/hierro/fuzz-venv/bin/schemathesis}
PY=$(dirname "$ST")/python
EXAMPLES=${FUZZ_EXAMPLES:-100}
SEED=${FUZZ_SEED:-15}
WORKERS=${FUZZ_WORKERS:-1}
OUT=${FUZZ_OUT:-/tmp/fuzz/out}
TARGETS=${FUZZ_TARGETS:-center host}
mkdir -p "$OUT"
rm -f "$OUT"/guard.log "$OUT"/*.ndjson "$OUT"/*.junit.xml
: >"$OUT/summary.txt"

# POSTs that make something (phase 1); every other non-GET is phase 2.
CENTER_CREATE="login create_token create_group create_user create_role inventory_create dvswitch_create host_add host_portgroup_add vm_create vm_register vm_clone vm_snapshot_create"
HOST_CREATE="session_login service_token_create datastore_add certificate_request migration_incoming port_capture mirror_add portgroup_add vmknic_add vswitch_add vm_create vm_register snapshot_create"
# The host's management path (vmk0 on its port group on vSwitch0).
MGMT="vmk0,Management Network,vSwitch0"
# The name of the center's service token on its hosts (hierro_center::hosts::SERVICE_TOKEN).
CENTER_SERVICE_TOKEN=center

fail() { echo "setup: $*" | tee -a "$OUT/summary.txt" >&2; exit 3; }
has() { [[ " $TARGETS " == *" $1 "* ]]; }
json() { "$PY" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
call() { # METHOD URL TOKEN [BODY]
    curl -sSk -X "$1" "$2" -H "hierro-session: $3" -H 'content-type: application/json' ${4:+-d "$4"}
}
toml_list() { "$PY" -c 'import json,sys; print(json.dumps([a for a in sys.argv[1:] if a]))' "$@"; }
rand() { head -c"$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# phase_regexes DOC_URL "CREATE IDS" -> phase-1 regex, phase-2 regex (two lines)
phase_regexes() {
    curl -sSk "$1" | "$PY" -c '
import json, sys
doc = json.load(sys.stdin); create = set(sys.argv[1].split())
p1, p2 = [], []
for path, item in doc["paths"].items():
    for m, op in item.items():
        if m not in ("get", "put", "post", "delete", "patch"): continue
        (p1 if m == "get" or op["operationId"] in create else p2).append(op["operationId"])
missing = create - set(p1)
if missing: sys.exit(f"create ids not in the document: {sorted(missing)}")
print("^(" + "|".join(sorted(p1)) + ")$"); print("^(" + "|".join(sorted(p2)) + ")$")
print(f"{sys.argv[2]}: {len(p1)} operations in phase 1, {len(p2)} in phase 2", file=sys.stderr)' "$2" "$1"
}

# A powered-off VM of the run's own on the host, so that VM operations get
# past 404 (each target gets its own: phase 2 deletes them).
vm_body() {
    echo "{\"name\":\"$1\",\"datastore\":\"shared\",\"memory_mib\":64,\"cpus\":1,\"disk\":{\"size_mib\":16},\"boot\":{\"kind\":\"kernel\",\"kernel\":\"[shared] images/vmlinuz\",\"initrd\":\"[shared] images/initrd.img\"},\"nics\":[{\"network\":\"VM Network\"}]}"
}
# vm_id URL TOKEN NAME: the VM's id once it exists
vm_id() {
    local i id
    for i in $(seq 40); do
        id=$(call GET "$1/api/vms" "$2" | "$PY" -c 'import json,sys; print(next((v["id"] for v in json.load(sys.stdin) if v["name"]==sys.argv[1]), ""))' "$3")
        [ -n "$id" ] && { echo "$id"; return; }
        sleep 0.5
    done
    fail "VM $3 did not appear at $1"
}

SUFFIX=$(rand 4)
GATE_START=$(date +%s)

if has center; then
    # Phase 2's principal: a second Administrator on the root, with an API token.
    FUSER=fuzz-p2-$SUFFIX FPASS=$(rand 16)
    call POST "$CENTER_URL/api/users" "$CENTER_SESSION" "{\"name\":\"$FUSER\",\"password\":\"$FPASS\"}" >/dev/null || fail "user"
    call POST "$CENTER_URL/api/permissions" "$CENTER_SESSION" \
        "{\"principal\":{\"user\":\"$FUSER\"},\"role\":\"administrator\",\"object\":\"root\",\"propagate\":true}" >/dev/null || fail "permission"
    FSESSION=$(call POST "$CENTER_URL/api/session" "" "{\"username\":\"$FUSER\",\"password\":\"$FPASS\"}" | json '["token"]') || fail "login of $FUSER"
    TOK=$(call POST "$CENTER_URL/api/tokens" "$FSESSION" '{"name":"fuzz-gate"}')
    CTOKEN=$(echo "$TOK" | json '["token"]') && CTOKEN_ID=$(echo "$TOK" | json '["id"]') || fail "API token: $TOK"
    CUSER=$(call GET "$CENTER_URL/api/effective?object=root" "$CENTER_SESSION" | json '["principal"]["user"]') || fail "CENTER_SESSION"
    mapfile -t CR < <(phase_regexes "$CENTER_URL/api/openapi.json" "$CENTER_CREATE")
    [ ${#CR[@]} -eq 2 ] || fail "center document"
    INV=$(call GET "$CENTER_URL/api/inventory" "$CENTER_SESSION")
    ids() { echo "$INV" | "$PY" -c 'import json,sys; print(" ".join(o["id"] for o in json.load(sys.stdin) if o["kind"] in sys.argv[1:]))' "$@"; }
    HOSTID=$(ids host | cut -d' ' -f1)
    [ -n "$HOSTID" ] || fail "no host in the center's inventory"
    CVM=fuzz-vm-c-$SUFFIX
    call POST "$CENTER_URL/api/vms?placement=$HOSTID" "$CENTER_SESSION" "$(vm_body $CVM)" >/dev/null || fail "VM $CVM"
    CVMID=$(vm_id "$CENTER_URL" "$CENTER_SESSION" "$CVM") || exit 3
    # The shared settings, the center's own, and the lab's ids as test data:
    # half of these parameters' values come from here, half are generated.
    cat "$HERE/schemathesis.toml" "$HERE/schemathesis-center.toml" - >"$OUT/center.toml" <<EOT

# Generated by run.sh: the lab's objects and the run's VM.
[dictionaries]
objects = { values = $(toml_list root $(ids datacenter cluster host vm network datastore folder)) }
hosts = { values = $(toml_list $(ids host)) }
vms = { values = $(toml_list "$CVMID" "$CVM") }
datastores = { values = ["shared"] }

[parameters]
"path.vm" = { dictionary = "vms", probability = 0.5 }
"path.id" = { dictionary = "objects", probability = 0.5 }
"path.host" = { dictionary = "hosts", probability = 0.5 }
"query.placement" = { dictionary = "objects", probability = 0.5 }
"query.folder" = { dictionary = "objects", probability = 0.5 }
"query.object" = { dictionary = "objects", probability = 0.5 }
"query.datacenter" = { dictionary = "objects", probability = 0.5 }
"query.target" = { dictionary = "objects", probability = 0.5 }
"body.parent" = { dictionary = "objects", probability = 0.5 }
"body.object" = { dictionary = "objects", probability = 0.5 }
"body.host" = { dictionary = "hosts", probability = 0.5 }
"body.datastore" = { dictionary = "datastores", probability = 0.5 }
EOT
fi

if has host; then
    # Phase 2's credential: a service token of its own.
    HNAME=fuzz-gate-$SUFFIX
    HTOKEN=$(call POST "$HOST_URL/api/service-tokens" "$HOST_SESSION" "{\"name\":\"$HNAME\"}" | json '["token"]') || fail "service token (is HOST_SESSION valid, the host out of lockdown?)"
    mapfile -t HR < <(phase_regexes "$HOST_URL/api/openapi.json" "$HOST_CREATE")
    [ ${#HR[@]} -eq 2 ] || fail "host document"
    HVM=fuzz-vm-h-$SUFFIX
    call POST "$HOST_URL/api/vms" "$HOST_SESSION" "$(vm_body $HVM)" >/dev/null || fail "VM $HVM"
    HVMID=$(vm_id "$HOST_URL" "$HOST_SESSION" "$HVM") || exit 3
    cat "$HERE/schemathesis.toml" - >"$OUT/host.toml" <<EOT

# Generated by run.sh: the host's objects and the run's VM.
[dictionaries]
vms = { values = $(toml_list "$HVMID" "$HVM") }
names = { values = ["VM Network", "vMotion", "vmk1", "Trunk", "VLAN 101", "shared"] }
datastores = { values = ["shared"] }
vswitches = { values = ["vSwitch0"] }
portgroups = { values = ["VM Network", "VLAN 101"] }

[parameters]
"path.vm" = { dictionary = "vms", probability = 0.5 }
"path.name" = { dictionary = "names", probability = 0.5 }
"body.datastore" = { dictionary = "datastores", probability = 0.5 }
"body.vswitch" = { dictionary = "vswitches", probability = 0.5 }
"body.portgroup" = { dictionary = "portgroups", probability = 0.5 }
EOT
fi

status=0
# st NAME URL TOKEN REGEX: one schemathesis run (config $OUT/<target>.toml)
st() {
    local name=$1 url=$2 token=$3 regex=$4 start rc
    start=$(date +%s%N)
    # In $OUT: schemathesis keeps a cache in its working directory.
    (cd "$OUT" && SCHEMATHESIS_HOOKS=$HERE/guard_hooks.py FUZZ_GUARD_LOG=$OUT/guard.log \
    "$ST" --config-file "$OUT/${name%%-*}.toml" run "$url/api/openapi.json" \
        --include-operation-id-regex "$regex" \
        -H "hierro-session: $token" \
        --tls-verify false --checks all \
        --max-examples "$EXAMPLES" --seed "$SEED" --workers "$WORKERS" \
        --generation-database none --request-timeout 20 \
        --report junit,ndjson --report-dir "$OUT" \
        --report-junit-path "$OUT/$name.junit.xml" --report-ndjson-path "$OUT/$name.ndjson" \
        --no-color >"$OUT/$name.log" 2>&1)
    rc=$?
    printf '%-10s rc=%d %6ds  %s\n' "$name" "$rc" "$(( ($(date +%s%N) - start) / 1000000000 ))" \
        "$(grep -aE '^=+ .* in [0-9.]+s =+$' "$OUT/$name.log" | tr -d '=' | xargs)" | tee -a "$OUT/summary.txt"
    [ $rc -eq 0 ] || status=1
}
# still_in NAME URL TOKEN PATH: phase 2 must not have locked the run out.
still_in() {
    local code
    code=$(curl -sk -m 10 -o /dev/null -w '%{http_code}' "$2$4" -H "hierro-session: $3")
    [ "$code" = 200 ] || { echo "$1: phase 2 locked the run out (GET $4: $code)" | tee -a "$OUT/summary.txt"; status=1; }
}
center_guard() { export FUZZ_PROTECT_USERS="$CUSER,$FUSER" FUZZ_PROTECT_TOKENS="$CTOKEN_ID" FUZZ_PROTECT_NAMES="$MGMT"; }
host_guard() { export FUZZ_PROTECT_USERS="${FUZZ_HOST_USER:-root}" FUZZ_PROTECT_TOKENS="$HNAME,$CENTER_SERVICE_TOKEN" FUZZ_PROTECT_NAMES="$MGMT"; }

# Phase 1 everywhere, then phase 2.
has center && { center_guard; st center-p1 "$CENTER_URL" "$CENTER_SESSION" "${CR[0]}"; }
has host && { host_guard; st host-p1 "$HOST_URL" "$HOST_SESSION" "${HR[0]}"; }
has center && { center_guard; st center-p2 "$CENTER_URL" "$CTOKEN" "${CR[1]}"; still_in center "$CENTER_URL" "$CTOKEN" /api/users; }
has host && { host_guard; st host-p2 "$HOST_URL" "$HTOKEN" "${HR[1]}"; still_in host "$HOST_URL" "$HTOKEN" /api/host; }

# Panics: a panicking handler drops the connection (no 500 reaches the
# fuzzer, only a network error), so the daemons' logs are read too.
for log in ${FUZZ_LOGS:-}; do
    if grep -aq "panicked at" "$log"; then
        grep -a -A1 "panicked at" "$log" | grep -av '^--' | sort | uniq -c | sed "s|^|panic in $log: |" | tee -a "$OUT/summary.txt"
        status=1
    fi
done
"$PY" "$HERE/failures.py" "$OUT"/*.ndjson >"$OUT/failures.txt" 2>&1
echo "$(grep -c . "$OUT/failures.txt") distinct failures (run, operation, check, status): $OUT/failures.txt" | tee -a "$OUT/summary.txt"
echo "gate: $(( $(date +%s) - GATE_START ))s, status $status; logs, JUnit and NDJSON in $OUT" | tee -a "$OUT/summary.txt"
exit $status

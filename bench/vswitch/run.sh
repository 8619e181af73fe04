#!/usr/bin/env bash
# Hierro's userspace switch (`hierro vswitchd`) next to a Linux bridge doing
# the same job: two "VMs" (network namespaces bvs-a, bvs-b) joined in a host
# namespace (bvs-h), TCP throughput and 64-byte UDP packet rate between them.
#
#   sudo bash bench/vswitch/run.sh          (from the repo root, as root)
#
# Knobs (environment): BVS_SECONDS=5 per iperf3 test.
# Needs target/release/hierro (cargo build --release -p hierro); builds nothing.
# All traffic stays inside the bvs-* namespaces; everything is removed on exit.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/target/release/hierro
SECONDS_PER_TEST=${BVS_SECONDS:-5}

NS_H=bvs-h NS_A=bvs-a NS_B=bvs-b
IP_A=10.66.0.1 IP_B=10.66.0.2
MAC_A=52:54:00:66:00:01 MAC_B=52:54:00:66:00:02

. "$ROOT/bench/lib.sh"

# ---------------------------------------------------------------- checks
check_machine iperf3:iperf3 jq:jq socat:socat ethtool:ethtool ss:iproute2
if [ -n "$(find crates Cargo.toml Cargo.lock -newer "$BIN" \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -print -quit 2>/dev/null)" ]; then
    echo "warning: $BIN is older than the sources; 'cargo build --release -p hierro' to measure the current code" >&2
fi

# ---------------------------------------------------------------- cleanup
TMP=$(mktemp -d /tmp/bvs.XXXXXX)
SOCK=$TMP/vswitchd.sock
VSPID="" SRVPID="" CLIPID=""

stop_pid() {  # stop_pid PID: a process this script started
    local pid=$1
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

teardown() {
    stop_pid "$CLIPID"; CLIPID=""
    stop_pid "$SRVPID"; SRVPID=""
    stop_pid "$VSPID"; VSPID=""
    for ns in $NS_A $NS_B $NS_H; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -f "$SOCK"
}

cleanup() {
    set +e
    teardown
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- topology
# bvs-a and bvs-b each get eth0, a veth whose peer (vpa / vpb) is in bvs-h.
# offloads=off: eth0 sends MTU-sized frames with full checksums, and the
# host-side ends do no GRO: every frame is a wire-sized frame. offloads=on:
# the veths' defaults, so TCP crosses as 64 KiB super-frames.
make_topology() {
    local offloads=$1 ns
    for ns in $NS_A $NS_B $NS_H; do
        if [ -e "/run/netns/$ns" ]; then
            [ -z "$(ip netns pids "$ns")" ] || die "namespace $ns exists and has processes in it; remove them first"
            ip netns del "$ns"
        fi
        ip netns add "$ns"
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
    ip -n $NS_H link add vpa type veth peer name eth0 netns $NS_A
    ip -n $NS_H link add vpb type veth peer name eth0 netns $NS_B
    ip -n $NS_A link set eth0 address $MAC_A
    ip -n $NS_B link set eth0 address $MAC_B
    ip -n $NS_A addr add $IP_A/24 dev eth0
    ip -n $NS_B addr add $IP_B/24 dev eth0
    if [ "$offloads" = off ]; then
        for ns in $NS_A $NS_B; do
            ip netns exec "$ns" ethtool -K eth0 tso off gso off gro off tx off >/dev/null 2>&1
        done
        for dev in vpa vpb; do
            ip netns exec $NS_H ethtool -K "$dev" gro off >/dev/null 2>&1 || true
        done
    fi
    ip -n $NS_A link set eth0 up
    ip -n $NS_B link set eth0 up
}

start_vswitchd() {
    ip netns exec $NS_H "$BIN" vswitchd --socket "$SOCK" >"$TMP/vswitchd.log" 2>&1 &
    VSPID=$!   # ip netns exec execs, so this is vswitchd itself
    local i
    for i in $(seq 100); do
        vsctl '"ping"' 2>/dev/null | grep -q '"ok"' && break
        kill -0 "$VSPID" 2>/dev/null || die "vswitchd exited: $(cat "$TMP/vswitchd.log")"
        [ "$i" -lt 100 ] || die "vswitchd never answered on $SOCK"
        sleep 0.1
    done
    local cfg answer
    cfg=$(jq -cn --arg ma $MAC_A --arg mb $MAC_B '{apply: {
        switches: [{name: "vSwitch0", mtu: 1500, uplinks: [],
                    security: {allow_promiscuous: false, allow_mac_changes: true,
                               allow_forged_transmits: true}}],
        portgroups: [{name: "Net0", vswitch: "vSwitch0", vlan: 0}],
        ports: [{key: "vm:a:0", kind: "vm", portgroup: "Net0", iface: "vpa", mac: $ma},
                {key: "vm:b:0", kind: "vm", portgroup: "Net0", iface: "vpb", mac: $mb}]}}')
    answer=$(vsctl "$cfg")
    echo "$answer" | grep -q '"ok"' || die "vswitchd refused the configuration: $answer"
}

start_bridge() {
    ip -n $NS_H link add br0 type bridge stp_state 0
    ip -n $NS_H link set vpa master br0
    ip -n $NS_H link set vpb master br0
    ip -n $NS_H link set vpa up
    ip -n $NS_H link set vpb up
    ip -n $NS_H link set br0 up
}

wait_reachable() {
    local i
    for i in $(seq 10); do
        ip netns exec $NS_A ping -c 1 -W 1 -q $IP_B >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "bvs-a cannot reach $IP_B through the switch"
}

start_server() {
    ip netns exec $NS_B iperf3 -s -B $IP_B >"$TMP/iperf3-server.log" 2>&1 &
    SRVPID=$!
    local i
    for i in $(seq 50); do
        ip netns exec $NS_B ss -ltn | grep -q "$IP_B:5201" && return 0
        sleep 0.1
    done
    die "iperf3 server did not start: $(cat "$TMP/iperf3-server.log")"
}

udp_counters() {  # "arrived rcvbuf_errors" of bvs-b's UDP layer
    ip netns exec $NS_B awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) k[$i] = i; h = 1 }
        else print $k["InDatagrams"] + $k["InErrors"] + $k["NoPorts"], $k["RcvbufErrors"] }' /proc/net/snmp
}

vswitchd_intake() {  # "frames that arrived on vpa, frames vswitchd read from it"
    local rx in
    rx=$(ip -n $NS_H -s -j link show vpa | jq '.[0].stats64.rx.packets')
    in=$(vsctl '"stats"' | jq '.stats.ports[] | select(.port == "vm:a:0") | .counters.in_packets')
    echo "$rx $in"
}

cpu_ticks() {  # utime+stime of a process, all threads, in clock ticks
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }          # fields from 3 (state) on
    set -- $stat
    echo $(( ${12} + ${13} ))  # fields 14 and 15
}

# ---------------------------------------------------------------- tests
# Results, by case: TCP Gbit/s, UDP Mpps received, UDP loss %.
declare -A TCP UDP LOSS WHERE VS_CPU
CASES=() LABELS=()
VS_CPU_TCP="" VS_CPU_UDP="" VS_COUNTERS=""
HZ=$(getconf CLK_TCK)

iperf() {  # iperf OUT ARGS...: client in bvs-a; its JSON in OUT, emptied on failure
    local out=$1
    shift
    # In the background and waited for, so that a signal reaches the trap at
    # once and the cleanup can stop the client by its pid.
    timeout --foreground $((SECONDS_PER_TEST + 20)) ip netns exec $NS_A \
        iperf3 -c $IP_B -t "$SECONDS_PER_TEST" --connect-timeout 3000 -J "$@" >"$out" 2>&1 &
    CLIPID=$!
    wait "$CLIPID" || true
    CLIPID=""
    if ! jq -e '.end.sum_received // .end.sum' "$out" >/dev/null 2>&1 || jq -e '.error' "$out" >/dev/null 2>&1; then
        echo "iperf3 $*: $(jq -r '.error // empty' "$out" 2>/dev/null || tail -3 "$out")" >&2
        : >"$out"
    fi
}

run_case() {  # run_case ID LABEL SWITCH(vswitchd|bridge) OFFLOADS(on|off)
    local id=$1 label=$2 kind=$3 offloads=$4 json t0 w0
    CASES+=("$id"); LABELS+=("$label")
    log "$label: setting up"
    make_topology "$offloads"
    if [ "$kind" = vswitchd ]; then start_vswitchd; else start_bridge; fi
    wait_reachable
    start_server

    log "$label: TCP, ${SECONDS_PER_TEST}s"
    [ -n "$VSPID" ] && t0=$(cpu_ticks "$VSPID") w0=$(date +%s%N)
    iperf "$TMP/tcp.json"
    json=$(cat "$TMP/tcp.json")
    [ -n "$VSPID" ] && VS_CPU_TCP="$(( $(cpu_ticks "$VSPID") - t0 )) $(( $(date +%s%N) - w0 ))"
    if [ -n "$json" ]; then
        TCP[$id]=$(printf '%.2f' "$(echo "$json" | jq -r '.end.sum_received.bits_per_second / 1e9')")
    else
        TCP[$id]="n/a"
    fi

    log "$label: UDP 64 B, unlimited rate, ${SECONDS_PER_TEST}s"
    [ -n "$VSPID" ] && t0=$(cpu_ticks "$VSPID") w0=$(date +%s%N)
    local snmp0 snmp1 vs0="0 0" vs1="0 0"
    snmp0=$(udp_counters)
    [ -n "$VSPID" ] && vs0=$(vswitchd_intake)
    iperf "$TMP/udp.json" -u -l 64 -b 0
    [ -n "$VSPID" ] && vs1=$(vswitchd_intake)
    json=$(cat "$TMP/udp.json")
    snmp1=$(udp_counters)
    [ -n "$VSPID" ] && VS_CPU_UDP="$(( $(cpu_ticks "$VSPID") - t0 )) $(( $(date +%s%N) - w0 ))"
    if [ -n "$json" ]; then
        # iperf3 3.12 puts the receiver's view in .end.sum: packets sent,
        # lost_packets as the receiver counted them by sequence number.
        UDP[$id]=$(printf '%.3f' "$(echo "$json" | jq -r '.end.sum | (.packets - .lost_packets) / .seconds / 1e6')")
        LOSS[$id]=$(printf '%.1f' "$(echo "$json" | jq -r '.end.sum.lost_percent')")
        # Where they were lost: datagrams that reached bvs-b's UDP layer but
        # overflowed the receiving socket (iperf3 too slow) versus datagrams
        # that never arrived (the switch path: veths, backlogs, the switch).
        local sent
        sent=$(echo "$json" | jq -r '.end.sum.packets')
        WHERE[$id]=$(awk -v s="$sent" -v a="$snmp0" -v b="$snmp1" -v c="$vs0" -v d="$vs1" -v vs="${VSPID:+1}" 'BEGIN {
            split(a, x, " "); split(b, y, " "); split(c, v, " "); split(d, w, " ")
            arrived = y[1] - x[1]; rcvbuf = y[2] - x[2]
            if (s <= 0) { print "n/a"; exit }
            path = s - arrived; if (path < 0) path = 0
            printf "sent %.3f M, lost %.1f%% on the way to bvs-b", s / 1e6, 100 * path / s
            if (vs) {
                at_port = w[1] - v[1]; read = w[2] - v[2]
                printf " (%.1f%% reached vpa but overflowed vswitchd'"'"'s socket)", 100 * (at_port - read) / s
            }
            printf ", %.1f%% in the receiving socket buffer", 100 * rcvbuf / s }')
    else
        UDP[$id]="n/a"; LOSS[$id]="n/a"; WHERE[$id]="n/a"
    fi

    if [ -n "$VSPID" ]; then
        # CPU time (all threads, from /proc/PID/stat) over each test's wall time.
        VS_CPU[$id]=$(awk -v t="$VS_CPU_TCP" -v u="$VS_CPU_UDP" -v hz="$HZ" 'BEGIN {
            split(t, a, " "); split(u, b, " ")
            printf "vswitchd CPU time: TCP test %.2f s in %.1f s (%.0f%% of one core), UDP test %.2f s in %.1f s (%.0f%% of one core)",
                a[1] / hz, a[2] / 1e9, 100 * a[1] / hz / (a[2] / 1e9), b[1] / hz, b[2] / 1e9, 100 * b[1] / hz / (b[2] / 1e9) }')
        VS_COUNTERS=$(vsctl '"stats"' | jq -r '.stats.ports[] |
            "  \(.port): in \(.counters.in_packets) out \(.counters.out_packets) frames, dropped \(
              [.counters | to_entries[] | select(.key | startswith("drop_")) | .value] | add)"' 2>/dev/null || true)
    fi
    teardown
}

echo "vswitch benchmark: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(iperf3 --version | head -1 | cut -d' ' -f1-2), ${SECONDS_PER_TEST}s per test" >&2
# BVS_CASES picks and orders the rows (repeats allowed); the ratios use the
# first vs and br rows.
n=0 VS_ROW="" BR_ROW="" VS_ON_ROW="" BR_ON_ROW=""
for c in ${BVS_CASES:-vs br vs_on br_on}; do
    n=$((n + 1))
    case $c in
        vs)    run_case $n "hierro vswitchd"              vswitchd off; VS_ROW=${VS_ROW:-$n} ;;
        br)    run_case $n "Linux bridge"                 bridge   off; BR_ROW=${BR_ROW:-$n} ;;
        vs_on) run_case $n "hierro vswitchd, offloads on" vswitchd on;  VS_ON_ROW=${VS_ON_ROW:-$n} ;;
        br_on) run_case $n "Linux bridge, offloads on"    bridge   on;  BR_ON_ROW=${BR_ON_ROW:-$n} ;;
        *) die "unknown case $c in BVS_CASES (vs, br, vs_on, br_on)" ;;
    esac
done

# ---------------------------------------------------------------- report
ratio() {  # ratio A B: A/B with two decimals, or n/a
    awk -v a="$1" -v b="$2" 'BEGIN { if (a+0 == a && b+0 == b && b > 0) printf "%.2f", a / b; else print "n/a" }'
}

echo
echo "Two namespaces through one switch; offloads off on the endpoints (tso gso gro tx) except where said; iperf3 ${SECONDS_PER_TEST}s each."
echo
printf '| %-30s | %10s | %23s | %10s |\n' "switch" "TCP Gbit/s" "UDP 64B Mpps (received)" "UDP loss %"
printf '|%s|%s|%s|%s|\n' "--------------------------------" "-----------:" "------------------------:" "-----------:"
for i in "${!CASES[@]}"; do
    id=${CASES[$i]}
    printf '| %-30s | %10s | %23s | %10s |\n' "${LABELS[$i]}" "${TCP[$id]}" "${UDP[$id]}" "${LOSS[$id]}"
done
echo
if [ -n "$VS_ROW" ] && [ -n "$BR_ROW" ]; then
    echo "vswitchd / Linux bridge, offloads off: TCP $(ratio "${TCP[$VS_ROW]}" "${TCP[$BR_ROW]}"), UDP 64B pps $(ratio "${UDP[$VS_ROW]}" "${UDP[$BR_ROW]}")"
fi
if [ -n "$VS_ON_ROW" ] && [ -n "$BR_ON_ROW" ]; then
    echo "vswitchd / Linux bridge, offloads on:  TCP $(ratio "${TCP[$VS_ON_ROW]}" "${TCP[$BR_ON_ROW]}"), UDP 64B pps $(ratio "${UDP[$VS_ON_ROW]}" "${UDP[$BR_ON_ROW]}")"
fi
echo
echo "UDP losses:"
for i in "${!CASES[@]}"; do
    printf '  %-30s %s\n' "${LABELS[$i]}:" "${WHERE[${CASES[$i]}]}"
done
echo
for id in "${CASES[@]}"; do
    [ -z "${VS_CPU[$id]:-}" ] || echo "${VS_CPU[$id]}"
done
if [ -n "$VS_COUNTERS" ]; then
    echo "vswitchd port counters at the end of its run:"
    echo "$VS_COUNTERS"
fi

#!/usr/bin/env bash
# NIC teaming failover and the cost of a SPAN session, hierro vswitchd next
# to a Linux bridge doing the same job.
#
#   sudo bash bench/failover/run.sh          (from the repo root, as root)
#
# Failover: a "VM" (namespace bfo-a) pings a client outside (bfo-x) every
# 10 ms through a host (bfo-h) with three uplinks into a physical switch
# (bfo-f, a Linux bridge). The uplink carrying the traffic fails in one of
# two ways: its link goes down (carrier lost), or it is cut off the switch
# with its carrier up. Measured: pings lost, and the longest wait between
# two answers (the outage). The peer is a Linux bridge with the
# kernel's STP on the host and on the switch (timers at their minimum:
# hello 1 s, forward delay 2 s, max age 6 s): the one failover a plain Linux
# host has here, since this kernel has no bonding or team driver.
#
# SPAN: TCP throughput between two VMs on one host, without and with a
# session copying the sender's frames (both directions) to a third port;
# the peer is a Linux bridge with a tc mirred mirror of the same port.
#
# Knobs (environment): BFO_SECONDS=5 per iperf3 test.
# Needs target/release/hierro (cargo build --release -p hierro); builds nothing.
# All traffic stays inside the bfo-* namespaces; everything is removed on exit.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/target/release/hierro
SECONDS_PER_TEST=${BFO_SECONDS:-5}
NAMESPACES="bfo-h bfo-f bfo-x bfo-a bfo-b bfo-s"
IP_A=10.80.0.1 IP_B=10.80.0.2 IP_X=10.80.0.100
MAC_A=52:54:00:80:00:01 MAC_B=52:54:00:80:00:02 MAC_S=52:54:00:80:00:03
# 800 pings, one every 10 ms asked (ping manages about 60 a second here);
# the failure comes after 2 s.
PINGS=800 FAIL_AFTER=2

. "$ROOT/bench/lib.sh"
check_machine iperf3:iperf3 jq:jq socat:socat tc:iproute2 ss:iproute2

TMP=$(mktemp -d /tmp/bfo.XXXXXX)
SOCK=$TMP/vswitchd.sock
VSPID=""

teardown() {
    if [ -n "$VSPID" ]; then
        kill "$VSPID" 2>/dev/null || true
        wait "$VSPID" 2>/dev/null || true
        VSPID=""
    fi
    for ns in $NAMESPACES; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -f "$SOCK"
}
cleanup() { set +e; teardown; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fresh_namespaces() {
    local ns
    for ns in $NAMESPACES; do
        ip netns del "$ns" 2>/dev/null || true
        ip netns add "$ns"
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
    done
}

guest() {  # guest NS PORT MAC IP: NS's eth0, its peer PORT in bfo-h
    ip -n bfo-h link add "$2" type veth peer name eth0 netns "$1"
    ip -n "$1" link set eth0 address "$3"
    ip -n "$1" addr add "$4/24" dev eth0
    ip -n "$1" link set eth0 up
    ip -n bfo-h link set "$2" up
}

start_vswitchd() {  # start_vswitchd CONFIG_JSON
    ip netns exec bfo-h "$BIN" vswitchd --socket "$SOCK" >"$TMP/vswitchd.log" 2>&1 &
    VSPID=$!
    local i answer
    for i in $(seq 100); do
        vsctl '"ping"' 2>/dev/null | grep -q '"ok"' && break
        kill -0 "$VSPID" 2>/dev/null || die "vswitchd exited: $(cat "$TMP/vswitchd.log")"
        [ "$i" -lt 100 ] || die "vswitchd never answered on $SOCK"
        sleep 0.1
    done
    answer=$(vsctl "{\"apply\": $1}")
    echo "$answer" | grep -q '"ok"' || die "vswitchd refused the configuration: $answer"
}

wait_ping() {  # wait_ping NS IP SECONDS
    local i
    for i in $(seq $(($3 * 5))); do
        ip netns exec "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "$1 cannot reach $2"
}

# ---------------------------------------------------------------- failover
# The switch side of uplink upN is upNf in bfo-f's bridge br0.
failover_topology() {  # failover_topology STP(0|1)
    fresh_namespaces
    ip -n bfo-f link add br0 type bridge stp_state "$1" priority 4096 \
        hello_time 100 forward_delay 200 max_age 600
    ip -n bfo-f link set br0 up
    local u
    for u in up0 up1 up2; do
        ip -n bfo-h link add "$u" type veth peer name "${u}f" netns bfo-f
        ip -n bfo-f link set "${u}f" master br0 up
        ip -n bfo-h link set "$u" up
    done
    ip -n bfo-x link add eth0 type veth peer name xf netns bfo-f
    ip -n bfo-f link set xf master br0 up
    ip -n bfo-x addr add $IP_X/24 dev eth0
    ip -n bfo-x link set eth0 up
    guest bfo-a pa $MAC_A $IP_A
}

vswitchd_team() {  # vswitchd_team DETECTION: up0 active, up1 and up2 standby
    jq -cn --arg d "$1" --arg ma $MAC_A '{
        switches: [{name: "vSwitch0", mtu: 1500, uplinks: ["up0", "up1", "up2"],
                    teaming: {load_balancing: "failover_order",
                              failover_order: {active: ["up0"], standby: ["up1", "up2"]},
                              failure_detection: $d}}],
        portgroups: [{name: "Net", vswitch: "vSwitch0", vlan: 0}],
        ports: [{key: "vm:a:0", kind: "vm", portgroup: "Net", iface: "pa", mac: $ma}]}'
}

stp_host() {  # the host's Linux bridge, STP on, with the three uplinks and a
    ip -n bfo-h link add br0 type bridge stp_state 1 hello_time 100 forward_delay 200 max_age 600
    local p
    for p in up0 up1 up2 pa; do ip -n bfo-h link set "$p" master br0; done
    ip -n bfo-h link set br0 up
}

# The uplink of the host that carries a's traffic now: the one whose switch
# side learned a's MAC.
active_uplink() {
    bridge -n bfo-f fdb show br br0 | awk -v m=$MAC_A '$1 == m { sub("f$", "", $3); print $3; exit }'
}

# Every uplink has taken in a few frames (the others' beacons).
beacons_heard() {
    [ "$(vsctl '"stats"' | jq '[.stats.ports[] | select(.port | startswith("uplink:")) | .counters.in_packets >= 4] | all')" = true ]
}

listening() { ip netns exec bfo-b ss -ltn | grep -q "$IP_B:5201"; }

fail() {  # fail UPLINK HOW(down|cut)
    case $2 in
        down) ip -n bfo-f link set "${1}f" down ;;
        cut) ip -n bfo-f link set "${1}f" nomaster ;;
    esac
}

declare -A LOST RECOVERY  # pings lost, longest gap between answers
FCASES=() FLABELS=()

run_failover() {  # run_failover ID LABEL SWITCH(vswitchd|stp) DETECTION HOW
    local id=$1 label=$2 kind=$3 detection=$4 how=$5 uplink
    FCASES+=("$id"); FLABELS+=("$label")
    log "$label"
    if [ "$kind" = stp ]; then
        failover_topology 1
        stp_host
        wait_ping bfo-a $IP_X 30
    else
        failover_topology 0
        start_vswitchd "$(vswitchd_team "$detection")"
        wait_ping bfo-a $IP_X 10
        # Beacons must be heard before they can judge: every uplink has
        # taken in some (two a second, one from each other uplink).
        [ "$detection" = beacon_probing ] && wait_for 10 "beacons on every uplink" beacons_heard
    fi
    ip netns exec bfo-a ping -q -c 5 -i 0.01 $IP_X >/dev/null 2>&1 || true
    uplink=$(active_uplink)
    [ -n "$uplink" ] || die "$label: no uplink carries a's traffic"
    ip netns exec bfo-a ping -D -i 0.01 -W 1 -c $PINGS $IP_X >"$TMP/ping.txt" 2>&1 &
    local pinger=$!
    sleep $FAIL_AFTER
    fail "$uplink" "$how"
    wait $pinger || true
    local ended_at
    ended_at=$(date +%s.%N)
    LOST[$id]=$(( PINGS - $(grep -c 'bytes from' "$TMP/ping.txt" || true) ))
    # The longest wait between two answers, which spans the failure; if
    # the last answer came well before the end (ping waits 1 s for the
    # last), traffic never recovered within the run.
    RECOVERY[$id]=$(awk -F'[][]' -v e="$ended_at" '/bytes from/ { t = $2 + 0
            if (p && t - p > g) g = t - p; p = t }
        END { if (p < e - 2) print "not within the run"; else printf "%.0f", g * 1000 }' "$TMP/ping.txt")
    teardown
}

# ---------------------------------------------------------------- SPAN
declare -A TCP
SCASES=() SLABELS=()

span_topology() {
    fresh_namespaces
    guest bfo-a pa $MAC_A $IP_A
    guest bfo-b pb $MAC_B $IP_B
    guest bfo-s ps $MAC_S 10.80.0.3
}

vswitchd_span() {  # vswitchd_span MIRROR(0|1)
    jq -cn --arg m "$1" --arg ma $MAC_A --arg mb $MAC_B --arg ms $MAC_S '{
        switches: [{name: "vSwitch0", mtu: 1500, uplinks: []}],
        portgroups: [{name: "Net", vswitch: "vSwitch0", vlan: 0}],
        ports: [{key: "vm:a:0", kind: "vm", portgroup: "Net", iface: "pa", mac: $ma},
                {key: "vm:b:0", kind: "vm", portgroup: "Net", iface: "pb", mac: $mb},
                {key: "vm:s:0", kind: "vm", portgroup: "Net", iface: "ps", mac: $ms}],
        mirrors: (if $m == "1" then [{name: "span", vswitch: "vSwitch0",
            sources: [{port: "vm:a:0", direction: "both"}],
            destination: {type: "ports", ports: ["vm:s:0"]}}] else [] end)}'
}

run_span() {  # run_span ID LABEL SWITCH(vswitchd|bridge) MIRROR(0|1)
    local id=$1 label=$2 kind=$3 mirror=$4 server
    SCASES+=("$id"); SLABELS+=("$label")
    log "$label: TCP, ${SECONDS_PER_TEST}s"
    span_topology
    if [ "$kind" = vswitchd ]; then
        start_vswitchd "$(vswitchd_span "$mirror")"
    else
        ip -n bfo-h link add br0 type bridge stp_state 0
        local p
        for p in pa pb ps; do ip -n bfo-h link set "$p" master br0; done
        ip -n bfo-h link set br0 up
        if [ "$mirror" = 1 ]; then
            # Both directions of pa, as a SPAN source "both".
            ip netns exec bfo-h tc qdisc add dev pa clsact
            ip netns exec bfo-h tc filter add dev pa ingress protocol all u32 match u32 0 0 \
                action mirred egress mirror dev ps
            ip netns exec bfo-h tc filter add dev pa egress protocol all u32 match u32 0 0 \
                action mirred egress mirror dev ps
        fi
    fi
    wait_ping bfo-a $IP_B 10
    ip netns exec bfo-b iperf3 -s -1 -B $IP_B >/dev/null 2>&1 &
    server=$!
    wait_for 5 "the iperf3 server" listening
    if ip netns exec bfo-a iperf3 -c $IP_B -t "$SECONDS_PER_TEST" -J >"$TMP/tcp.json" 2>&1; then
        TCP[$id]=$(printf '%.2f' "$(jq -r '.end.sum_received.bits_per_second / 1e9' "$TMP/tcp.json")")
    else
        TCP[$id]="n/a"
    fi
    wait $server 2>/dev/null || true
    [ "$mirror" = 1 ] && [ -n "$VSPID" ] && vsctl '"stats"' | jq -c '.stats.mirrors' >"$TMP/mirror.json"
    teardown
}

echo "failover benchmark: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run_failover 1 "vswitchd, link status, link down" vswitchd link_status down
run_failover 2 "vswitchd, beacon probing, link down" vswitchd beacon_probing down
run_failover 3 "vswitchd, link status, cut off" vswitchd link_status cut
run_failover 4 "vswitchd, beacon probing, cut off" vswitchd beacon_probing cut
run_failover 5 "Linux bridge + STP, link down" stp - down
run_failover 6 "Linux bridge + STP, cut off" stp - cut
run_span 1 "vswitchd" vswitchd 0
run_span 2 "vswitchd + SPAN session" vswitchd 1
run_span 3 "Linux bridge" bridge 0
run_span 4 "Linux bridge + tc mirred" bridge 1

echo
echo "Failover: $PINGS pings, one every 10 ms (ping -i 0.01; about 60 a second here); the active uplink fails after ${FAIL_AFTER} s."
echo
printf '| %-38s | %10s | %22s |\n' "case" "pings lost" "longest gap (ms)"
printf '|%s|%s|%s|\n' "----------------------------------------" "-----------:" "-----------------------:"
for i in "${!FCASES[@]}"; do
    id=${FCASES[$i]}
    printf '| %-38s | %10s | %22s |\n' "${FLABELS[$i]}" "${LOST[$id]}" "${RECOVERY[$id]}"
done
echo
echo "SPAN: TCP between two VMs on one host, iperf3 ${SECONDS_PER_TEST}s, offloads as the veths default."
echo
printf '| %-38s | %10s |\n' "switch" "TCP Gbit/s"
printf '|%s|%s|\n' "----------------------------------------" "-----------:"
for i in "${!SCASES[@]}"; do
    printf '| %-38s | %10s |\n' "${SLABELS[$i]}" "${TCP[${SCASES[$i]}]}"
done
[ -s "$TMP/mirror.json" ] && echo && echo "vswitchd's SPAN session: $(cat "$TMP/mirror.json")"

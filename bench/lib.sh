# What the network benches (bench/vswitch, bench/failover) share; sourced
# with BIN set to the hierro binary they measure.

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

# Root, the release binary, and the given tools (COMMAND:PACKAGE ...),
# installing the missing packages.
check_machine() {
    [ "$(id -u)" = 0 ] || die "must run as root (namespaces, veths, bridges)"
    [ -x "$BIN" ] || die "$BIN is missing: run 'cargo build --release -p hierro' first"
    local missing=() tool
    for tool in "$@"; do
        command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null \
            || die "could not install ${missing[*]}"
    fi
}

# One JSON line to vswitchd's control socket ($SOCK), its answer on stdout.
vsctl() { printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }

# Waits until COMMAND... succeeds, trying every 0.1 s for at most SECONDS.
wait_for() {  # wait_for SECONDS WHAT COMMAND...
    local limit=$1 what=$2 i
    shift 2
    for i in $(seq $((limit * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "timed out waiting for $what"
}

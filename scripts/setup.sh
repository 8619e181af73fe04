#!/usr/bin/env bash
# Installs what Hierro needs on a Debian 12 (bookworm) machine: QEMU 10 from
# bookworm-backports, what the guest image is built from, network tools.
# Idempotent: installs only what is missing.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs packages, and the lab needs namespaces)" >&2
    exit 1
fi
if ! command -v cargo >/dev/null; then
    echo "setup.sh: Rust is missing: install a stable toolchain with rustup first" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
BPO=/etc/apt/sources.list.d/bookworm-backports.sources
updated=0
if [ ! -f "$BPO" ]; then
    cat > "$BPO" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -q
    updated=1
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
qemu_major() { qemu-system-x86_64 --version 2>/dev/null | sed -nE '1s/.*version ([0-9]+).*/\1/p'; }

# QEMU 10 from backports: bookworm's own 7.2 lacks fixes we need (DESIGN.md).
if [ "$(qemu_major || true)" != "" ] && [ "$(qemu_major)" -ge 10 ] && installed qemu-utils; then
    :
else
    [ $updated = 1 ] || { apt-get update -q; updated=1; }
    apt-get install -y -q -t bookworm-backports qemu-system-x86 qemu-utils
fi

# busybox-static and the kernel package make the guest image, GRUB and
# xorriso its boot disk; iproute2 builds the lab; tshark checks frames on
# the wire in the tests; PostgreSQL is the center's production database;
# Chromium runs the web client's tests (Node.js and npm build the client);
# curl and a Python venv run the fuzz gate (schemathesis, below); Debian's
# netboot installer is the real installer the tests boot from a CD-ROM, and
# tesseract reads the VM's screen.
need=()
for pkg in busybox-static grub-pc-bin grub-common xorriso iproute2 ethtool iputils-ping tshark postgresql binutils gzip xz-utils zstd cpio chromium curl python3-venv debian-installer-12-netboot-amd64 tesseract-ocr; do
    installed "$pkg" || need+=("$pkg")
done
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
    [ $updated = 1 ] || apt-get update -q
    apt-get install -y -q "${need[@]}"
fi

major=$(qemu_major)
if [ -z "$major" ] || [ "$major" -lt 10 ]; then
    echo "setup.sh: qemu-system-x86_64 is '${major:-missing}', need 10 (bookworm-backports)" >&2
    exit 1
fi

# The fuzz gate's schemathesis, pinned with its dependencies, in a venv of
# its own (crates/hierro/tests/fuzz).
FUZZ_VENV=/opt/hierro/fuzz-venv
FUZZ_REQ="$(cd "$(dirname "$0")/.." && pwd)/crates/hierro/tests/fuzz/requirements.txt"
if ! cmp -s "$FUZZ_REQ" "$FUZZ_VENV/requirements.txt" 2>/dev/null; then
    rm -rf "$FUZZ_VENV"
    python3 -m venv "$FUZZ_VENV"
    "$FUZZ_VENV/bin/pip" install -q --disable-pip-version-check -r "$FUZZ_REQ"
    cp "$FUZZ_REQ" "$FUZZ_VENV/requirements.txt"
fi

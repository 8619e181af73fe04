#!/usr/bin/env bash
# Installs what Hierro needs on a Debian 12 (bookworm) machine: QEMU 10 from
# bookworm-backports, the guest image's inputs, network tools. Idempotent.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (it installs packages and the lab needs namespaces)" >&2
    exit 1
fi

BPO=/etc/apt/sources.list.d/bookworm-backports.sources
if [ ! -f "$BPO" ]; then
    cat > "$BPO" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    APT_UPDATE=1
fi

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && busybox --help 2>&1 | grep -q static || need+=(busybox-static)
command -v ip >/dev/null || need+=(iproute2)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v zstd >/dev/null || need+=(zstd)
command -v xz >/dev/null || need+=(xz-utils)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ] || [ "${APT_UPDATE:-0}" = 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
fi
if [ ${#need[@]} -gt 0 ]; then
    # QEMU 10: bookworm's own 7.2 lacks fixes we need (see DESIGN.md).
    apt-get install -y -q -t bookworm-backports qemu-system-x86 qemu-utils
    apt-get install -y -q busybox-static iproute2 zstd xz-utils cpio
fi

ver=$(qemu-system-x86_64 --version | head -1 | sed -E 's/.*version ([0-9]+).*/\1/')
if [ "$ver" -lt 10 ]; then
    echo "setup.sh: qemu-system-x86_64 is version $ver, need 10 (bookworm-backports)" >&2
    exit 1
fi

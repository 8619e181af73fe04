#!/usr/bin/env bash
# bench/vmotion: live migration through the center against plain
# QEMU-to-QEMU migration; 256 MiB and 1 GiB guests, idle and dirtying.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
bash scripts/setup.sh
bash scripts/build-image.sh
cargo build --release -p hierro -p hierro-bench-vmotion
exec target/release/hierro-bench-vmotion --hierro target/release/hierro --image image "$@"

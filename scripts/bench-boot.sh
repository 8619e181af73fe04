#!/usr/bin/env bash
# bench/boot: API power-on to guest agent answer, side by side with plain QEMU.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
bash scripts/setup.sh
bash scripts/build-image.sh
cargo build --release -p hierro -p hierro-bench-boot
exec target/release/hierro-bench-boot --hierro target/release/hierro --image image "$@"

#!/usr/bin/env bash
# Builds the guest test image: the static hierro-guest binary, then vmlinuz,
# initrd.img and manifest.json into ${HIERRO_IMAGE_DIR:-<repo>/image}. The kernel
# package is downloaded once into ${HIERRO_IMAGE_WORK:-<target>/image-work} and
# reused; an image whose inputs are unchanged is not rebuilt.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
OUT=${HIERRO_IMAGE_DIR:-$REPO/image}
WORK=${HIERRO_IMAGE_WORK:-$TARGET_DIR/image-work}
cd "$REPO"

# glibc static-pie: the musl target cannot be installed on these machines.
RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release -p hierro-guest --target x86_64-unknown-linux-gnu
cargo build -p hierro

"$TARGET_DIR/debug/hierro" image build \
    --guest-bin "$TARGET_DIR/x86_64-unknown-linux-gnu/release/hierro-guest" \
    --out "$OUT" --work "$WORK"

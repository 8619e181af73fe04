#!/usr/bin/env bash
# bench/datastore: a 2 GiB upload to a lab host's datastore through the
# host API and through the center, against scp over the same path.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
bash scripts/setup.sh
# scp and sshd are the peer.
command -v scp >/dev/null && [ -x /usr/sbin/sshd ] || apt-get install -y -q openssh-client openssh-server
bash scripts/build-image.sh
cargo build --release -p hierro -p hierro-bench-datastore
exec target/release/hierro-bench-datastore --hierro target/release/hierro --image image "$@"

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and starts a lab: host agents in network
# namespaces with a shared datastore and running VMs. Arguments go to
# `hierro lab up` (default: 2 hosts, 1 VM each). Needs root.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"

bash scripts/setup.sh
bash scripts/build-image.sh
exec target/debug/hierro lab up "$@"

#!/usr/bin/env bash
# Builds the web client (web/ -> web/dist), which the center serves: the
# locked npm packages, then TypeScript's check and Vite's bundle.
set -euo pipefail
cd "$(dirname "$0")/../web"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

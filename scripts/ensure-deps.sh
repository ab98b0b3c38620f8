#!/usr/bin/env bash
# Makes `npm test` and `npm run demo` work from a fresh clone: Debian packages first (as root, or
# through sudo), then node_modules when missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/setup-system.sh
elif command -v sudo >/dev/null; then
  sudo bash scripts/setup-system.sh
else
  bash scripts/setup-system.sh
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

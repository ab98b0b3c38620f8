#!/usr/bin/env bash
# The committed bundle must be exactly what the sources build (run by .ci/run and the workflows).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run package
if [ -n "$(git status --porcelain -- dist)" ]; then
  git status --porcelain -- dist
  echo 'dist/ differs from a fresh `npm run package`: rebuild and commit it' >&2
  exit 1
fi

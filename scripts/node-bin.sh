#!/usr/bin/env bash
# Prints a directory holding `node` of major version $1 (24: what action.yml's runs.using: node24
# means): the node already on PATH if it is that version, otherwise node-linux-<arch>@$1 from npm's
# registry (the binary the `node` package installs), kept in a cache directory that every user can
# read (the test hosts' login user runs the test app with it). Used by .ci/run, `npm test` and the
# self-test's setup-node.
set -euo pipefail
major=${1:?usage: node-bin.sh MAJOR}
if [[ "$(node --version 2>/dev/null)" == "v$major."* ]]; then
  dirname "$(command -v node)"
  exit 0
fi
arch=$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
cache=${TMPDIR:-/tmp}/rolling-deploy-node-$major
bin="$cache/node_modules/node-linux-$arch/bin"
if [[ "$("$bin/node" --version 2>/dev/null)" != "v$major."* ]]; then
  mkdir -p "$cache"
  chmod 755 "$cache"
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@$major" >/dev/null
fi
echo "$bin"

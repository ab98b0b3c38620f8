#!/usr/bin/env bash
# The local fleet's command (test/fleet/cli.ts: up, check, down) as root, which the fleet needs (a
# login user for the test hosts, a mount namespace per host), as its tests do. As root already
# (.ci/run, a root shell) it runs as it is; otherwise through sudo (a GitHub-hosted runner has
# it without a password), keeping the environment: PATH for setup-node's Node 24, GITHUB_OUTPUT
# for `up`, the ACTION_* variables for `check`. `up` first installs the Debian packages it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -E env "PATH=$PATH" "$@"; fi
}
if [ "${1:-}" = up ]; then as_root bash scripts/setup-system.sh; fi
as_root node_modules/.bin/tsx test/fleet/cli.ts "$@"

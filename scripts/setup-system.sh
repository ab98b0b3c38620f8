#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmark need, when missing.
set -euo pipefail
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v curl >/dev/null || missing+=(curl) # the benchmark runs the seed's appctl.sh health loop, which uses curl
command -v socat >/dev/null || missing+=(socat) # the probes query HAProxy's admin socket with it, as users do
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

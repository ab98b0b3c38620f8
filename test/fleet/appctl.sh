#!/bin/sh
# The seed's appctl.sh for a test host: offline/online move the health file nginx serves to the
# load balancer, stop/start run the app detached from the SSH session, deploy switches releases.
# HOST_ROOT (set by the host's sshd) is the host's disk; app.env holds NODE, APP_PORT, APP_FLAGS.
set -eu
ROOT=${HOST_ROOT:?HOST_ROOT is not set}
. "$ROOT/app.env"
PID_FILE=$ROOT/app.pid
STATUS_FILE=$ROOT/status/nginx-status.html
record() { echo "$1" >> "$ROOT/steps.log"; }
# A detached app is reparented to init once it exits; until init reaps it, `kill -0` still
# succeeds on the zombie, so a zombie counts as gone.
alive() {
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

case "${1:-}" in
  offline)
    rm -f "$STATUS_FILE"
    record offline
    ;;
  online)
    touch "$STATUS_FILE"
    record online
    ;;
  stop)
    if [ -f "$PID_FILE" ]; then
      pid=$(cat "$PID_FILE")
      kill "$pid" 2>/dev/null || true
      # Wait for a graceful exit, as a real stop script should, before the next release starts.
      i=0
      while alive "$pid" && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done
      ! alive "$pid" || kill -9 "$pid"
      rm -f "$PID_FILE"
    fi
    record stop
    ;;
  deploy)
    ln -sfn "$ROOT/releases/${2:?release}" "$ROOT/current"
    record "deploy ${2}"
    ;;
  start)
    record start
    [ ! -e "$ROOT/fail-start" ] || { echo "start refused: $ROOT/fail-start exists" >&2; exit 1; }
    flags=${APP_FLAGS:-}
    [ ! -e "$ROOT/current/APP_FLAGS" ] || flags="$flags $(cat "$ROOT/current/APP_FLAGS")"
    # Detached from the SSH session, with no descriptor of the channel left open.
    setsid "$NODE" "$ROOT/app.mjs" "$HOST_ADDRESS" "$APP_PORT" "$ROOT/current" $flags > "$ROOT/app.log" 2>&1 < /dev/null &
    echo $! > "$PID_FILE"
    ;;
  *)
    echo "Usage: $0 {start|stop|online|offline|deploy RELEASE}" >&2
    exit 2
    ;;
esac

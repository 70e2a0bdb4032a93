#!/usr/bin/env bash
# Stop the broker that start.sh started from a data dir: a clean shutdown
# (SIGTERM) first, SIGKILL only if it has not exited after a while.
#
#   stop.sh [--port N] [--data-dir D]     (same defaults as start.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

port=19092
data_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    *) echo "stop.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
data_dir="${data_dir:-$here/dist/run/$port}"
pid_file="$data_dir/kafka.pid"

[ -f "$pid_file" ] || exit 0
pid="$(cat "$pid_file")"
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT_SECONDS:-60}))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "stop.sh: pid $pid still running after SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
fi
rm -f "$pid_file"

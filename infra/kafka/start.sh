#!/usr/bin/env bash
# Start a single-node KRaft Kafka (one JVM as both broker and controller) on
# 127.0.0.1 in the background, and return once it serves clients.
#
#   start.sh [--port N] [--controller-port N] [--data-dir D] [--owner-pid P]
#
# Defaults: port 19092 (clear of a developer's own 9092), controller port
# port+1, data dir dist/run/<port>. The data dir holds server.properties,
# the log segments (kraft/), the broker's logs (logs/server.log) and kafka.pid.
# Formats the storage on first use; a broker already running from the same
# data dir is left as it is. Prints the bootstrap address on success.
# With --owner-pid, the broker is stopped once process P is gone (a test run
# that crashed before its teardown does not leave a JVM behind).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

port=19092
controller_port=""
data_dir=""
owner_pid=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --controller-port) controller_port="$2"; shift 2 ;;
    --data-dir) data_dir="$2"; shift 2 ;;
    --owner-pid) owner_pid="$2"; shift 2 ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
controller_port="${controller_port:-$((port + 1))}"
data_dir="${data_dir:-$here/dist/run/$port}"

command -v java >/dev/null 2>&1 || { echo "start.sh: java not found (the broker needs Java 17+)" >&2; exit 3; }
"$here/fetch.sh"

mkdir -p "$data_dir/logs"
data_dir="$(cd "$data_dir" && pwd)"
pid_file="$data_dir/kafka.pid"
log_file="$data_dir/logs/server.log"

# Parallel callers on the same data dir: one starts, the others find it running.
exec 9>"$data_dir/.start.lock"
flock 9

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

if running; then
  if port_answers "$port"; then
    echo "127.0.0.1:$port"
    exit 0
  fi
  echo "start.sh: pid $(cat "$pid_file") from $data_dir runs but 127.0.0.1:$port does not answer" >&2
  exit 1
fi
if port_answers "$port"; then
  echo "start.sh: 127.0.0.1:$port is taken by another process" >&2
  exit 1
fi

# Static voter (controller.quorum.voters) rather than a formatted dynamic
# quorum: the ports live only in this file, so a data dir can be restarted on
# other ports without formatting again.
cat >"$data_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir/kraft
num.partitions=1
# one node: every internal topic has one replica
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# a test's consumer group should not wait 3 s for members that never come
group.initial.rebalance.delay.ms=0
# two cores are shared with the tests
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
PROPS

java_opts=(
  -Xms128m -Xmx512m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError
  # C1 only: a test broker starts sooner and leaves the tests more CPU
  -XX:TieredStopAtLevel=1
  -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$here/log4j2.properties"
  -Dkafka.logs.dir="$data_dir/logs"
)
classpath="$here/dist/libs/*"

if [ ! -f "$data_dir/kraft/meta.properties" ]; then
  # What `kafka-storage random-uuid` prints (16 random bytes, base64url, no
  # padding, not starting with '-'), without paying for a second JVM start.
  cluster_id="-"
  while [ "${cluster_id:0:1}" = "-" ]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  java -cp "$classpath" "${java_opts[@]}" kafka.tools.StorageTool format \
    --config "$data_dir/server.properties" --cluster-id "$cluster_id" >"$data_dir/logs/format.log" 2>&1 \
    || { echo "start.sh: formatting $data_dir failed:" >&2; cat "$data_dir/logs/format.log" >&2; exit 1; }
fi

# setsid: the broker outlives this script and the shell (or test worker) that
# ran it; 9>&-: it must not inherit (and so hold) the start lock.
marker="$(wc -l <"$log_file" 2>/dev/null || echo 0)"
setsid java -cp "$classpath" "${java_opts[@]}" kafka.Kafka "$data_dir/server.properties" \
  >"$data_dir/logs/stdout.log" 2>&1 </dev/null 9>&- &
broker_pid=$!
echo "$broker_pid" >"$pid_file"
if [ -n "$owner_pid" ]; then
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done
    if kill -0 "$2" 2>/dev/null; then exec "$3" --data-dir "$4"; fi' \
    owner-watch "$owner_pid" "$broker_pid" "$here/stop.sh" "$data_dir" >/dev/null 2>&1 </dev/null 9>&- &
fi

# Ready when the listener answers and the server says it finished starting
# (the socket is bound a little before requests are served).
deadline=$((SECONDS + ${KAFKA_START_TIMEOUT_SECONDS:-120}))
until port_answers "$port" && tail -n +"$((marker + 1))" "$log_file" 2>/dev/null | grep -q 'Kafka Server started'; do
  if ! running; then
    echo "start.sh: the broker exited while starting; last lines of $data_dir/logs:" >&2
    tail -n 30 "$data_dir/logs/stdout.log" "$log_file" >&2 2>/dev/null || true
    rm -f "$pid_file"
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "start.sh: 127.0.0.1:$port not ready after ${KAFKA_START_TIMEOUT_SECONDS:-120}s; see $log_file" >&2
    exit 1
  fi
  sleep 0.2
done
echo "127.0.0.1:$port"

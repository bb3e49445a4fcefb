#!/usr/bin/env bash
# Throwaway Apache Kafka (KRaft) and PostgreSQL on loopback, for development and CI.
#
#   scripts/services.sh start [kafka|postgres]...   start (idempotent) and wait until they accept connections
#   scripts/services.sh stop [kafka|postgres]...    stop cleanly (idempotent)
#   scripts/services.sh status                      say what runs, exit 1 when something is down
#   scripts/services.sh env                         print KAFKA_BROKERS / DATABASE_URL for the local services
#   scripts/services.sh reset                       stop both and delete their data
#
# Settings (environment): MONITOR_KAFKA_PORT (19092; the controller uses the next port),
# MONITOR_PG_PORT (54329), MONITOR_STATE_DIR (.cache/services), MONITOR_CACHE_DIR
# (~/.cache/website-monitor: the Kafka jars, downloaded once with Maven).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state_dir=${MONITOR_STATE_DIR:-$root/.cache/services}
cache_dir=${MONITOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/website-monitor}
kafka_port=${MONITOR_KAFKA_PORT:-19092}
kafka_controller_port=$((kafka_port + 1))
pg_port=${MONITOR_PG_PORT:-54329}

kafka_pom=$root/scripts/kafka/pom.xml
kafka_dir=$state_dir/kafka
pg_dir=$state_dir/postgres

say() { printf 'services: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits up to $1 seconds for the command in the remaining arguments to succeed.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# --- Kafka -------------------------------------------------------------------------------------

kafka_jars() {
  local key
  key=$(sha256sum "$kafka_pom" | cut -c1-12)
  local libs=$cache_dir/kafka-$key/libs
  if [[ ! -f $libs/.complete ]]; then
    command -v mvn >/dev/null ||
      die "Maven is needed once to download the Kafka jars: install it (Debian: apt-get install maven), or set KAFKA_BROKERS to an existing broker"
    say "downloading the Kafka jars with Maven into $libs (once)"
    rm -rf "$libs"
    mvn -B -q -Dstyle.color=never -f "$kafka_pom" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$libs" >&2 ||
      die "Maven could not resolve the Kafka jars (see above): check that Maven Central is reachable, or set KAFKA_BROKERS to an existing broker"
    touch "$libs/.complete"
  fi
  printf '%s' "$libs"
}

need_java() {
  command -v java >/dev/null ||
    die "Java 17 or newer is needed to run the local Kafka broker: install it (Debian: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS to an existing broker"
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  ((${major:-0} >= 17)) ||
    die "Java ${major:-?} is too old for Kafka 3.9: install Java 17 or newer, or set KAFKA_BROKERS to an existing broker"
}

kafka_running() {
  [[ -f $kafka_dir/kafka.pid ]] && kill -0 "$(cat "$kafka_dir/kafka.pid")" 2>/dev/null &&
    port_open "$kafka_port"
}

kafka_ready() {
  port_open "$kafka_port" && grep -q 'Kafka Server started' "$kafka_dir/kafka.log"
}

kafka_start() {
  if kafka_running; then
    say "kafka already runs on 127.0.0.1:$kafka_port"
    return
  fi
  need_java
  local libs
  libs=$(kafka_jars)
  port_open "$kafka_port" &&
    die "port $kafka_port is taken by another program: set MONITOR_KAFKA_PORT to a free port, or KAFKA_BROKERS to an existing broker"
  mkdir -p "$kafka_dir"
  cat >"$kafka_dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$kafka_dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  local java=(java -Xms256m -Xmx768m -cp "$libs/*" "-Dlog4j.configuration=file:$root/scripts/kafka/log4j.properties")
  # A data directory from another port layout (or a crashed format) is not worth repairing: it is throwaway.
  if [[ ! -f $kafka_dir/data/meta.properties ]]; then
    rm -rf "$kafka_dir/data"
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null)
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$kafka_dir/server.properties" >"$kafka_dir/format.log" 2>&1 ||
      die "formatting Kafka storage failed: see $kafka_dir/format.log"
  fi
  : >"$kafka_dir/kafka.log"
  nohup setsid "${java[@]}" kafka.Kafka "$kafka_dir/server.properties" \
    >>"$kafka_dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$kafka_dir/kafka.pid"
  if ! wait_for 90 kafka_ready; then
    tail -n 30 "$kafka_dir/kafka.log" >&2
    kafka_stop
    die "kafka did not accept connections within 90 s: see $kafka_dir/kafka.log"
  fi
  say "kafka runs on 127.0.0.1:$kafka_port"
}

kafka_stop() {
  [[ -f $kafka_dir/kafka.pid ]] || return 0
  local pid
  pid=$(cat "$kafka_dir/kafka.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait_for 30 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
    say "kafka stopped"
  fi
  rm -f "$kafka_dir/kafka.pid"
}

# --- PostgreSQL --------------------------------------------------------------------------------

pg_bin() {
  local dir
  if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
    pg_config --bindir
    return
  fi
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -n $dir && -x $dir/initdb ]]; then
    printf '%s' "$dir"
    return
  fi
  dir=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [[ -x $dir/initdb ]] ||
    die "PostgreSQL server binaries (initdb, pg_ctl) were not found: install them (Debian: apt-get install postgresql), or set DATABASE_URL to an existing server"
  printf '%s' "$dir"
}

# initdb refuses to run as root, so as root the cluster belongs to the postgres user.
as_pg_owner() {
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 ||
      die "running as root needs a 'postgres' user to own the database cluster (Debian's postgresql package creates it)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_running() {
  [[ -f $pg_dir/data/postmaster.pid ]] && as_pg_owner "$(pg_bin)/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1
}

pg_start() {
  if pg_running; then
    say "postgres already runs on 127.0.0.1:$pg_port"
    return
  fi
  local bin
  bin=$(pg_bin)
  port_open "$pg_port" &&
    die "port $pg_port is taken by another program: set MONITOR_PG_PORT to a free port, or DATABASE_URL to an existing server"
  mkdir -p "$pg_dir"
  ((EUID == 0)) && chown postgres: "$pg_dir"
  if [[ ! -f $pg_dir/data/PG_VERSION ]]; then
    as_pg_owner "$bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
      >"$pg_dir/initdb.log" 2>&1 || die "initdb failed: see $pg_dir/initdb.log"
  fi
  # Throwaway data: durability settings off for speed; sockets live beside the data.
  as_pg_owner "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t 60 \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || {
    tail -n 20 "$pg_dir/postgres.log" >&2
    die "postgres did not start: see $pg_dir/postgres.log"
  }
  wait_for 30 port_open "$pg_port" || die "postgres does not accept connections on 127.0.0.1:$pg_port"
  say "postgres runs on 127.0.0.1:$pg_port"
}

pg_stop() {
  [[ -f $pg_dir/data/postmaster.pid ]] || return 0
  as_pg_owner "$(pg_bin)/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
  say "postgres stopped"
}

# --- commands ----------------------------------------------------------------------------------

which_services() {
  if (($# == 0)); then
    echo kafka postgres
  else
    local s
    for s in "$@"; do
      case $s in
      kafka | postgres) echo "$s" ;;
      *) die "unknown service \"$s\": expected kafka or postgres" ;;
      esac
    done
  fi
}

command=${1:-}
shift || true
case $command in
start)
  for s in $(which_services "$@"); do
    case $s in kafka) kafka_start ;; postgres) pg_start ;; esac
  done
  ;;
stop)
  for s in $(which_services "$@"); do
    case $s in kafka) kafka_stop ;; postgres) pg_stop ;; esac
  done
  ;;
running)
  # Exit 0 when the one named service runs: used by with_services.sh.
  case $(which_services "$@") in kafka) kafka_running ;; postgres) pg_running ;; *) exit 2 ;; esac
  ;;
status)
  down=0
  if kafka_running; then say "kafka runs on 127.0.0.1:$kafka_port"; else say "kafka is stopped" && down=1; fi
  if pg_running; then say "postgres runs on 127.0.0.1:$pg_port"; else say "postgres is stopped" && down=1; fi
  exit $down
  ;;
env)
  printf 'KAFKA_BROKERS=127.0.0.1:%s\n' "$kafka_port"
  printf 'DATABASE_URL=postgres://postgres@127.0.0.1:%s/postgres\n' "$pg_port"
  ;;
reset)
  kafka_stop
  pg_stop
  rm -rf "$kafka_dir" "$pg_dir"
  say "local service data deleted"
  ;;
*)
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac

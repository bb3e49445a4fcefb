#!/usr/bin/env bash
# Throwaway Apache Kafka (KRaft) and PostgreSQL on loopback, for development and CI.
#
#   scripts/services.sh start [kafka|postgres]...   start (idempotent) and wait until they accept connections
#   scripts/services.sh stop [kafka|postgres]...    stop cleanly (idempotent)
#   scripts/services.sh status                      say what runs, exit 1 when something is down
#   scripts/services.sh env                         print KAFKA_BROKERS / DATABASE_URL for the local services,
#                                                   and MONITOR_* variables for the TLS and SASL listeners
#   scripts/services.sh reset                       stop both and delete their data
#
# Kafka listens on MONITOR_KAFKA_PORT (19092) in plaintext, the next port is its controller's, the
# one after takes TLS with a client certificate (SSL), and the one after that SASL over TLS
# (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; user "monitor"). PostgreSQL (MONITOR_PG_PORT, 54329) accepts
# TLS too. Their certificates come from a throwaway CA made with openssl in $MONITOR_STATE_DIR/tls.
#
# Settings (environment): MONITOR_KAFKA_PORT, MONITOR_PG_PORT, MONITOR_STATE_DIR (.cache/services),
# MONITOR_CACHE_DIR (~/.cache/website-monitor: the Kafka jars, downloaded once with Maven).
#
# As root, PostgreSQL runs as the postgres user. Where that user cannot enter the state directory
# (a checkout under /root, mode 0700), its cluster lives in /var/tmp/website-monitor-postgres-<hash
# of the state directory's path> instead, owned by postgres, mode 0700; `status` says where.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Absolute: the PostgreSQL server is given paths in it, and runs in another directory.
state_dir=$(realpath -m "${MONITOR_STATE_DIR:-$root/.cache/services}")
cache_dir=${MONITOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/website-monitor}
kafka_port=${MONITOR_KAFKA_PORT:-19092}
kafka_controller_port=$((kafka_port + 1))
kafka_ssl_port=$((kafka_port + 2))
kafka_sasl_port=$((kafka_port + 3))
pg_port=${MONITOR_PG_PORT:-54329}
tls_dir=$state_dir/tls

kafka_pom=$root/scripts/kafka/pom.xml
kafka_dir=$state_dir/kafka
# PostgreSQL's directory (cluster, log, socket, its copy of the TLS key): one of these, see pg_locate.
pg_dir_in_state=$state_dir/postgres
pg_dir_outside=/var/tmp/website-monitor-postgres-$(sha256sum <<<"$state_dir" | cut -c1-12)

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

# --- TLS ---------------------------------------------------------------------------------------

# Issues $1.pem / $1.key from the local CA, for subject alternative names $2, valid $3 days (a
# negative number makes a certificate that has already expired).
issue_certificate() {
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\n' "$2" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days "$3" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

# The CA, server, client and deliberately wrong certificates, and the SASL password; made once,
# readable by this user only (umask 077; PostgreSQL gets a copy of its own, see pg_start).
tls_material() {
  if [[ -f $tls_dir/.complete ]]; then
    chmod -R go= "$tls_dir" # made before they were private
    return
  fi
  command -v openssl >/dev/null ||
    die "openssl is needed to make the local services' certificates: install it (Debian: apt-get install openssl)"
  rm -rf "$tls_dir"
  # The state directory keeps the usual mode: as root, the postgres user may have to enter it.
  mkdir -p "$state_dir"
  (
    umask 077
    mkdir "$tls_dir"
    cd "$tls_dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
      -subj "/CN=website-monitor local test CA" 2>/dev/null
    issue_certificate broker "DNS:localhost,IP:127.0.0.1" 825
    issue_certificate client "DNS:client" 825
    issue_certificate postgres "DNS:localhost" 825 # no IP: verify-full to 127.0.0.1 must fail
    issue_certificate other-host "DNS:other.example" 825
    issue_certificate expired "DNS:localhost,IP:127.0.0.1" -1
    cat broker.key broker.pem >broker-keystore.pem
    head -c 24 /dev/urandom | base64 | tr -d '/+=' >sasl-password
    touch .complete
  ) || die "openssl could not make the certificates in $tls_dir"
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
  # One broker per state directory: another one on the same data would take its place in kafka.pid.
  if [[ -f $kafka_dir/kafka.pid ]] && kill -0 "$(cat "$kafka_dir/kafka.pid")" 2>/dev/null; then
    die "kafka of $state_dir runs (pid $(cat "$kafka_dir/kafka.pid")) but does not answer on port $kafka_port: it is still starting, or was started with another MONITOR_KAFKA_PORT (set that one, or MONITOR_STATE_DIR to another directory)"
  fi
  need_java
  local libs
  libs=$(kafka_jars)
  local port
  for port in "$kafka_port" "$kafka_controller_port" "$kafka_ssl_port" "$kafka_sasl_port"; do
    port_open "$port" &&
      die "port $port is taken by another program: set MONITOR_KAFKA_PORT to a free port (Kafka uses it and the next three), or KAFKA_BROKERS to an existing broker"
  done
  tls_material
  local sasl_password
  sasl_password=$(cat "$tls_dir/sasl-password")
  # Private: server.properties holds the SASL password.
  mkdir -p "$kafka_dir"
  chmod 700 "$kafka_dir"
  cat >"$kafka_dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port,SSL://127.0.0.1:$kafka_ssl_port,SASL_SSL://127.0.0.1:$kafka_sasl_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port,SSL://127.0.0.1:$kafka_ssl_port,SASL_SSL://127.0.0.1:$kafka_sasl_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
ssl.keystore.type=PEM
ssl.keystore.location=$tls_dir/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tls_dir/ca.pem
listener.name.ssl.ssl.client.auth=required
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_monitor="$sasl_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
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
  # SCRAM users are stored in the metadata when it is formatted, so new credentials mean new storage.
  local formatted_for
  formatted_for=$(sha256sum "$tls_dir/sasl-password" | cut -c1-16)
  if [[ ! -f $kafka_dir/data/meta.properties || "$(cat "$kafka_dir/data/.scram" 2>/dev/null)" != "$formatted_for" ]]; then
    rm -rf "$kafka_dir/data"
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null)
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$kafka_dir/server.properties" \
      --add-scram "SCRAM-SHA-256=[name=monitor,password=$sasl_password]" \
      --add-scram "SCRAM-SHA-512=[name=monitor,password=$sasl_password]" \
      >"$kafka_dir/format.log" 2>&1 ||
      die "formatting Kafka storage failed: see $kafka_dir/format.log"
    printf '%s' "$formatted_for" >"$kafka_dir/data/.scram"
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
  local versions=(/usr/lib/postgresql/*/bin) # left as the pattern when there is none
  dir=$(printf '%s\n' "${versions[@]}" | sort -V | tail -n 1)
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
    # From /: the caller's directory may be one the postgres user cannot enter.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Whether $1 is a directory, not a link, of the server's user (not one made by someone else in /var/tmp).
pg_owned_dir() {
  local owner=$EUID
  ((EUID != 0)) || owner=$(id -u postgres 2>/dev/null) || return 1
  [[ -d $1 && ! -L $1 && "$(stat -c %u "$1")" == "$owner" ]]
}

# Sets pg_dir to where the cluster is: in the state directory, or outside it when pg_place put it
# there. Without a cluster yet, in the state directory, where pg_place starts from.
pg_locate() {
  if [[ ! -f $pg_dir_in_state/data/PG_VERSION ]] && pg_owned_dir "$pg_dir_outside"; then
    pg_dir=$pg_dir_outside
  else
    pg_dir=$pg_dir_in_state
  fi
}

# Before the first initdb: keeps the cluster in the state directory if the server's user can enter
# it, or else makes its directory in /var/tmp, which every user can enter.
pg_place() {
  [[ $pg_dir == "$pg_dir_outside" || -f $pg_dir/data/PG_VERSION ]] && return
  mkdir -p "$state_dir"
  as_pg_owner test -x "$state_dir" && return
  [[ -e $pg_dir_outside || -L $pg_dir_outside ]] &&
    die "$pg_dir_outside exists but is not a directory of the postgres user's: remove it, or set DATABASE_URL to an existing server"
  mkdir -m 700 "$pg_dir_outside"
  chown postgres: "$pg_dir_outside"
  rm -rf "$pg_dir_in_state" # what an earlier attempt left there: no cluster, and unreachable
  pg_dir=$pg_dir_outside
  say "the postgres user cannot enter $state_dir: the cluster goes to $pg_dir"
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
  tls_material
  pg_place
  mkdir -p "$pg_dir/tls"
  # The server refuses a key that others can read; as root, the cluster's owner must own it.
  cp "$tls_dir/postgres.pem" "$tls_dir/postgres.key" "$pg_dir/tls/"
  chmod 600 "$pg_dir/tls/postgres.key"
  if ((EUID == 0)); then chown -R postgres: "$pg_dir"; fi
  if [[ ! -f $pg_dir/data/PG_VERSION ]]; then
    as_pg_owner "$bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
      >"$pg_dir/initdb.log" 2>&1 || die "initdb failed: see $pg_dir/initdb.log"
  fi
  # Throwaway data: durability settings off for speed; sockets live beside the data.
  as_pg_owner "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t 60 \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$pg_dir/tls/postgres.pem -c ssl_key_file=$pg_dir/tls/postgres.key" \
    start >/dev/null || {
    tail -n 20 "$pg_dir/postgres.log" >&2
    die "postgres did not start: see $pg_dir/postgres.log"
  }
  wait_for 30 port_open "$pg_port" || die "postgres does not accept connections on 127.0.0.1:$pg_port"
  say "postgres runs on 127.0.0.1:$pg_port (data in $pg_dir)"
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

pg_locate
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
  if pg_running; then say "postgres runs on 127.0.0.1:$pg_port (data in $pg_dir)"; else say "postgres is stopped" && down=1; fi
  exit $down
  ;;
env)
  printf 'KAFKA_BROKERS=127.0.0.1:%s\n' "$kafka_port"
  printf 'DATABASE_URL=postgres://postgres@127.0.0.1:%s/postgres\n' "$pg_port"
  # For the TLS tests: the listeners, the CA and certificates, and the SASL user.
  printf 'MONITOR_KAFKA_SSL_BROKERS=127.0.0.1:%s\n' "$kafka_ssl_port"
  printf 'MONITOR_KAFKA_SASL_BROKERS=127.0.0.1:%s\n' "$kafka_sasl_port"
  printf 'MONITOR_KAFKA_SASL_USERNAME=monitor\n'
  [[ -f $tls_dir/sasl-password ]] && printf 'MONITOR_KAFKA_SASL_PASSWORD=%s\n' "$(cat "$tls_dir/sasl-password")"
  printf 'MONITOR_TLS_DIR=%s\n' "$tls_dir"
  ;;
reset)
  kafka_stop
  pg_stop
  rm -rf "$kafka_dir" "$pg_dir_in_state" "$tls_dir"
  if pg_owned_dir "$pg_dir_outside"; then rm -rf "$pg_dir_outside"; fi
  say "local service data deleted"
  ;;
*)
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac

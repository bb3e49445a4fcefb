#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL available.
#
#   scripts/with_services.sh COMMAND [ARG]...
#
# When KAFKA_BROKERS or DATABASE_URL is set, that service is used as it is. Otherwise the local
# throwaway one (scripts/services.sh) is started, exported to the command, and stopped again
# afterwards if this script started it (one started with `deno task services:start` keeps running).
set -euo pipefail

services=$(dirname "${BASH_SOURCE[0]}")/services.sh
started=()
# shellcheck disable=SC2317 # run by the EXIT trap
stop_started() {
  if ((${#started[@]})); then bash "$services" stop "${started[@]}"; fi
}
trap stop_started EXIT

local_services=()
for pair in "kafka KAFKA_BROKERS" "postgres DATABASE_URL"; do
  read -r service variable <<<"$pair"
  [[ -n ${!variable:-} ]] && continue
  local_services+=("$service")
  if ! bash "$services" running "$service"; then
    # Counted once started: a start that gives up (a port taken) must not stop the one running.
    bash "$services" start "$service"
    started+=("$service")
  fi
done

# The local services' addresses, and for the TLS tests their other listeners and certificates,
# and which ones are local (the TLS tests need them, and are skipped without).
export MONITOR_LOCAL_SERVICES="${local_services[*]}"
while IFS='=' read -r name value; do
  case $name in
  KAFKA_BROKERS | MONITOR_KAFKA_*) [[ " ${local_services[*]} " == *" kafka "* ]] && export "$name=$value" ;;
  DATABASE_URL) [[ " ${local_services[*]} " == *" postgres "* ]] && export "$name=$value" ;;
  MONITOR_TLS_DIR) ((${#local_services[@]})) && export "$name=$value" ;;
  esac
done < <(bash "$services" env)

# Let the command handle Ctrl-C itself; this shell only has to outlive it to stop the services.
trap 'true' INT TERM
status=0
"$@" || status=$?
exit $status

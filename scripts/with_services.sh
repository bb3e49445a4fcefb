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
stop_started() {
  if ((${#started[@]})); then bash "$services" stop "${started[@]}"; fi
}
trap stop_started EXIT

local_env=$(bash "$services" env)
for pair in "kafka KAFKA_BROKERS" "postgres DATABASE_URL"; do
  read -r service variable <<<"$pair"
  [[ -n ${!variable:-} ]] && continue
  if ! bash "$services" running "$service"; then
    started+=("$service")
    bash "$services" start "$service"
  fi
  export "$(grep "^$variable=" <<<"$local_env")"
done

# Let the command handle Ctrl-C itself; this shell only has to outlive it to stop the services.
trap 'true' INT TERM
status=0
"$@" || status=$?
exit $status

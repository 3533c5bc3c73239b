#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the metadata tests (installing Debian's postgresql
# when missing) and prints its URL. Idempotent: a server already answering on the port is reused.
#   export STRATA_TEST_POSTGRES_URL=$(scripts/start-postgres.sh)
set -euo pipefail
port=${STRATA_TEST_POSTGRES_PORT:-55432}
dir=${STRATA_TEST_POSTGRES_DIR:-/tmp/strata-postgres-$port}
url="postgres://strata:strata@127.0.0.1:$port/strata_test"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "start-postgres: apt-get install postgresql" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then echo "$url"; exit 0; fi
if [ ! -f "$dir/PG_VERSION" ]; then
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
fi
as_owner "$bin/pg_ctl" -D "$dir" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" -l "$dir/server.log" -w start >/dev/null
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='strata'" | grep -q 1 ||
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE ROLE strata LOGIN PASSWORD 'strata'"
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='strata_test'" | grep -q 1 ||
  "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE strata_test OWNER strata"
echo "$url"

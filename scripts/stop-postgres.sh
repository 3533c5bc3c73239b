#!/usr/bin/env bash
# Stops (immediately, like a crash) the throwaway PostgreSQL server scripts/start-postgres.sh
# started on STRATA_TEST_POSTGRES_PORT / STRATA_TEST_POSTGRES_DIR; start-postgres.sh starts it again.
set -euo pipefail
port=${STRATA_TEST_POSTGRES_PORT:-55432}
dir=${STRATA_TEST_POSTGRES_DIR:-/tmp/strata-postgres-$port}
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_owner "$bin/pg_ctl" -D "$dir" -m "${1:-immediate}" -w stop >/dev/null

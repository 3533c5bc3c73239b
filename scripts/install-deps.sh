#!/usr/bin/env bash
# Installs what building and testing Strata needs and a fresh machine may lack:
# the Debian C libraries behind the system-library targets, and the Python peers
# (pyarrow, DuckDB) that read the lake, MLflow's tracking server, Prometheus and promtool, and headless
# Chromium with Selenium for the dashboard test, redis-server for the Redis suite, moto_server
# and the AWS CLI for the S3 suite, fastavro and confluent-kafka for the Kafka suite, nginx for the
# multi-replica test, schemathesis for the API fuzz test, gdb for the backtraces of a hung test run, in the tests
# (--with-test-peers), and the load
# generator the HTTP benchmarks compare with (--with-bench-tools: wrk).
# Idempotent: a second run installs nothing.
set -euo pipefail

with_test_peers=0
packages=(libzstd-dev libsnappy-dev zlib1g-dev libsqlite3-dev libopenblas-dev liblapacke-dev libxgboost-dev librdkafka-dev libhnswlib-dev pkg-config)
for flag in "$@"; do
  case "$flag" in
    --with-test-peers) with_test_peers=1; packages+=(prometheus chromium chromium-driver redis-server nginx-light curl openssl gdb) ;;
    --with-bench-tools) packages+=(wrk) ;;
    *) echo "install-deps: unknown option $flag" >&2; exit 2 ;;
  esac
done

need_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in "${packages[@]}"; do
  have_pkg "$pkg" || need_apt+=("$pkg")
done
if [ "${STRATA_SKIP_APT:-0}" != "1" ] && [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "$with_test_peers" = 1 ]; then
  missing=()
  python3 -c "import pyarrow" 2>/dev/null || missing+=("pyarrow")
  python3 -c "import duckdb" 2>/dev/null || missing+=("duckdb")
  python3 -c "import mlflow" 2>/dev/null || missing+=("mlflow")  # a real tracking server for the MLflow mirror test
  python3 -c "import selenium" 2>/dev/null || missing+=("selenium")  # drives Chromium in the dashboard test
  command -v moto_server >/dev/null 2>&1 || missing+=("moto[server]")  # an S3-compatible server for the S3 suite
  command -v aws >/dev/null 2>&1 || missing+=("awscli")  # checks the S3 objects; its botocore checks the signatures
  python3 -c "import fastavro" 2>/dev/null || missing+=("fastavro")  # writes the Avro records the Kafka source decodes
  python3 -c "import confluent_kafka" 2>/dev/null || missing+=("confluent-kafka")  # produces to the Kafka test cluster
  command -v schemathesis >/dev/null 2>&1 || missing+=("schemathesis")  # fuzzes every operation of docs/openapi.json
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: pip install ${missing[*]}"
    python3 -m pip install -q "${missing[@]}"
  fi
fi

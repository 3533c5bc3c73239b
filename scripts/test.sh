#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian libraries, the Python peers
# pyarrow and DuckDB that read the lake, a PostgreSQL server for the metadata suite), then
# builds and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --with-test-peers
# The registry suite runs on SQLite and on a real PostgreSQL (skipped with a message without one).
if [ -z "${STRATA_TEST_POSTGRES_URL:-}" ] && [ "${STRATA_SKIP_POSTGRES:-0}" != "1" ]; then
  STRATA_TEST_POSTGRES_URL=$(scripts/start-postgres.sh) || { echo "test.sh: PostgreSQL did not start; its tests will be skipped" >&2; STRATA_TEST_POSTGRES_URL=""; }
  export STRATA_TEST_POSTGRES_URL
fi
# The Prometheus rules shipped in deploy/ parse and pass their unit tests (promtool comes with
# Debian's prometheus package, which install-deps.sh --with-test-peers installs).
if command -v promtool >/dev/null; then
  (cd deploy/prometheus && promtool check rules strata-rules.yml && promtool test rules strata-rules.test.yml)
else
  echo "test.sh: SKIPPED (promtool): the Prometheus rules were not checked" >&2
fi
# Style is checked, never argued about (.swift-format; `swift format format -i -r Sources Tests` fixes it).
swift format lint --strict -r Sources Tests
swift build --build-tests
scripts/stamp-build.sh .build/debug
# The fuzzers' seed corpora and past findings replay through the normal build's parsers.
for target in events contract parquet; do
  .build/debug/strata-fuzz "$target" "Fuzz/corpus/$target" $( [ -d "Fuzz/regressions/$target" ] && echo "Fuzz/regressions/$target" )
done
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
else
  # The swap tests time how fast a promotion or rollback reaches every replica (under a second):
  # they run alone, after the other suites, so that their load on the 2 cores is not in the figures.
  timed="MultiReplicaTests|SwapUnderLoadTests"
  swift test --skip-build --skip "$timed"
  swift test --skip-build --filter "$timed"
  # Coverage-guided fuzzing of the event parser, the strata.yaml loader and the Parquet reader,
  # a bounded time each (scripts/fuzz.sh runs longer ones by hand).
  scripts/fuzz.sh --seconds "${STRATA_FUZZ_SECONDS:-45}" --seed "${STRATA_FUZZ_SEED:-1}"
  # A short soak on the debug build: recommendations, feature reads and event batches from three
  # processes at once for 60 s; any failed request or logged server error fails it
  # (scripts/soak.sh --seconds 600 on the release build gives the figures in the README).
  scripts/soak.sh --seconds "${STRATA_SOAK_SECONDS:-60}" --rate 200 --users 2000 --build debug
fi

#!/usr/bin/env bash
# The README's test command: installs what the tests need (Debian libraries, the Python peers
# pyarrow and DuckDB that read the lake, a PostgreSQL server for the metadata suite), then
# builds and runs every test suite, the fuzzers and a short soak.
#
# Every stage runs even when an earlier one failed (a stage that needs the build is skipped
# only when the build failed), then a summary lists each stage with its outcome and time, and
# the script exits non-zero if any failed: one failure never hides the others' results.
#   scripts/test.sh                  everything
#   scripts/test.sh --filter SUITE   the build, then only `swift test --skip-build --filter SUITE`
set -uo pipefail
cd "$(dirname "$0")/.."

stages=()
failures=0
# stage NAME COMMAND...: runs the command, records "NAME  ok|FAILED (rc)  seconds".
stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "==> test.sh: $name" >&2
  if "$@"; then
    stages+=("$(printf '%-34s %-12s %5d s' "$name" ok $((SECONDS - start)))")
    return 0
  else
    local rc=$?
    stages+=("$(printf '%-34s %-12s %5d s' "$name" "FAILED ($rc)" $((SECONDS - start)))")
    failures=$((failures + 1))
    return "$rc"
  fi
}
skip() { stages+=("$(printf '%-34s %-12s' "$1" "skipped: $2")"); }
summary() {
  echo
  echo "test.sh summary ($((SECONDS / 60)) min $((SECONDS % 60)) s):"
  printf '  %s\n' "${stages[@]}"
  if [ "$failures" -gt 0 ]; then echo "test.sh: $failures stage(s) FAILED"; else echo "test.sh: all stages passed"; fi
}
trap summary EXIT

stage "install test dependencies" scripts/install-deps.sh --with-test-peers
# The registry suite runs on SQLite and on a real PostgreSQL (skipped with a message without one).
if [ -z "${STRATA_TEST_POSTGRES_URL:-}" ] && [ "${STRATA_SKIP_POSTGRES:-0}" != "1" ]; then
  start_postgres() { STRATA_TEST_POSTGRES_URL=$(scripts/start-postgres.sh); }
  stage "start PostgreSQL" start_postgres || { echo "test.sh: PostgreSQL did not start; its tests will be skipped" >&2; STRATA_TEST_POSTGRES_URL=""; }
  export STRATA_TEST_POSTGRES_URL
fi
# The Prometheus rules shipped in deploy/ parse and pass their unit tests (promtool comes with
# Debian's prometheus package, which install-deps.sh --with-test-peers installs).
check_rules() { (cd deploy/prometheus && promtool check rules strata-rules.yml && promtool test rules strata-rules.test.yml); }
if command -v promtool >/dev/null; then
  stage "Prometheus rules (promtool)" check_rules
elif [ "${CI:-}" = "true" ]; then
  stage "Prometheus rules (promtool)" sh -c 'echo "promtool is missing: in CI every peer must be present" >&2; exit 1'
else
  skip "Prometheus rules (promtool)" "promtool missing"
fi
# Style is checked, never argued about (.swift-format; `swift format format -i -r Sources Tests` fixes it).
stage "format (swift format lint)" swift format lint --strict -r Sources Tests
# The layer rules of ARCHITECTURE.md: imports flow downward, SQL stays in the metadata store and
# the registry (and the checker refuses an added forbidden import, shown by its self-test).
stage "layer rules (check-layers)" sh -c 'scripts/check-layers.py && scripts/check-layers.py --self-test >/dev/null'
# Routes are declared once (Sources/StrataServer/Resources/routes.json); the OpenAPI document
# generated from them must be current.
stage "OpenAPI document current (openapi.py --check)" python3 scripts/openapi.py --check
build() { swift build --build-tests && scripts/stamp-build.sh .build/debug; }
if stage "build (debug, with tests)" build; then built=1; else built=0; fi
# The fuzzers' seed corpora and past findings replay through the normal build's parsers.
replay() {
  for target in events contract parquet; do
    .build/debug/strata-fuzz "$target" "Fuzz/corpus/$target" $([ -d "Fuzz/regressions/$target" ] && echo "Fuzz/regressions/$target") || return 1
  done
}
if [ "$built" = 1 ]; then stage "fuzz corpora replay" replay; else skip "fuzz corpora replay" "build failed"; fi
if [ $# -gt 0 ]; then
  if [ "$built" = 1 ]; then stage "swift test $*" scripts/test-with-deadline.sh "${STRATA_TEST_DEADLINE:-1800}" "$@"; else skip "swift test $*" "build failed"; fi
else
  # The swap tests print how fast a promotion or rollback reaches every replica (their assertions
  # are causal, not timed): they run alone and one at a time, after the other suites, so that
  # the rest of the suite's load is not in the figures they print.
  swaps="MultiReplicaTests|SwapUnderLoadTests"
  if [ "$built" = 1 ]; then
    # Each under a deadline far above its usual time (about 10 min and 1 min here): a hung test
    # fails its stage and names itself instead of using up CI's budget in silence.
    stage "swift test (all suites but the swaps)" scripts/test-with-deadline.sh "${STRATA_TEST_DEADLINE:-1800}" --skip "$swaps"
    stage "swift test (swap figures, alone)" scripts/test-with-deadline.sh 600 --no-parallel --filter "$swaps"
  else
    skip "swift test (all suites but the swaps)" "build failed"
    skip "swift test (swap figures, alone)" "build failed"
  fi
  # Coverage-guided fuzzing of the event parser, the strata.yaml loader and the Parquet reader,
  # a bounded time each (scripts/fuzz.sh runs longer ones by hand). It builds its own binary.
  stage "fuzzing (libFuzzer)" scripts/fuzz.sh --seconds "${STRATA_FUZZ_SECONDS:-20}" --seed "${STRATA_FUZZ_SEED:-1}"
  # A short soak on the debug build: recommendations, feature reads and event batches from three
  # processes at once for 60 s; any failed request or logged server error fails it
  # (scripts/soak.sh --seconds 600 on the release build gives the figures in the README).
  if [ "$built" = 1 ]; then
    stage "soak (debug)" scripts/soak.sh --seconds "${STRATA_SOAK_SECONDS:-60}" --rate 200 --users 2000 --build debug --no-build
  else
    skip "soak (debug)" "build failed"
  fi
fi
[ "$failures" -eq 0 ]

#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the parsers that take outside input: event bodies
# (JSON, NDJSON, Protobuf), strata.yaml (contract, features, settings) and Parquet files.
#
#   scripts/fuzz.sh [--seconds N] [--seed S] [TARGET...]   default: 60 s for each of events contract parquet
#
# --seed fixes libFuzzer's random seed (scripts/test.sh passes one: every CI run makes the same choices,
# as far as its time lets it get); without it each run explores differently.
#
# Builds `strata-fuzz` with -sanitize=fuzzer into .build-fuzz (a debug build: Swift's bounds and
# overflow checks stay on), then runs each target for N seconds from a copy of its seed corpus
# (Fuzz/corpus/TARGET) and the inputs of past findings (Fuzz/regressions/TARGET). A crash, an
# invariant failure, a hang over 10 s or more than 2 GB of memory stops the run: the input is
# saved under .build-fuzz/findings/ and printed in base64, and the script fails. Add a fixed
# finding to Fuzz/regressions/TARGET: the normal build's `strata-fuzz TARGET DIR` replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
seed=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(events contract parquet)

# ld.gold fails on the instrumented objects (an internal error in its DWARF reader); lld links them.
swift build --scratch-path .build-fuzz --product strata-fuzz -c debug \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DSTRATA_FUZZING -Xswiftc -use-ld=lld
binary=.build-fuzz/debug/strata-fuzz
work=$(mktemp -d "${TMPDIR:-/tmp}/strata-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/findings
failed=0
for target in "${targets[@]}"; do
  [ -d "Fuzz/corpus/$target" ] || { echo "fuzz.sh: no seed corpus Fuzz/corpus/$target" >&2; exit 2; }
  mkdir -p "$work/$target"
  cp Fuzz/corpus/"$target"/* "$work/$target/"
  corpora=("$work/$target")
  [ -d "Fuzz/regressions/$target" ] && corpora+=("Fuzz/regressions/$target")
  echo "fuzz.sh: $target for ${seconds}s ($(ls "$work/$target" | wc -l) seeds)"
  # Swift's own crash backtracer would take the trap before libFuzzer could save the input.
  # -timeout: an input running this long is a hang; generous, as a busy machine runs slowly.
  if SWIFT_BACKTRACE=enable=no "$binary" "$target" -max_total_time="$seconds" -seed="$seed" -timeout=60 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix=".build-fuzz/findings/$target-" "${corpora[@]}" >"$work/$target.log" 2>&1; then
    grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units" "$work/$target.log" | tail -2 | sed "s/^/  /"
  else
    failed=1
    echo "fuzz.sh: $target FAILED" >&2
    grep -E "Fatal error|invariant violated|ERROR: libFuzzer|SUMMARY" "$work/$target.log" | head -5 >&2 || true
    for finding in $(grep -oE "Test unit written to [^ ]+" "$work/$target.log" | awk '{print $5}'); do
      echo "fuzz.sh: input saved as $finding; base64:" >&2
      base64 -w 0 "$finding" >&2
      echo >&2
    done
    tail -20 "$work/$target.log" >&2
  fi
done
exit $failed

#!/usr/bin/env bash
# Runs `swift test --skip-build ARGS...` with a deadline, so that a test that hangs fails its
# stage with a diagnosis instead of eating CI's whole budget in silence.
#   scripts/test-with-deadline.sh SECONDS ARGS...
# The output is line-buffered (a killed run loses nothing it printed) and kept in a log. Past
# the deadline it prints, last so that the tail of a CI log shows them: the Strata frames of
# every thread of the hung test process (gdb, where installed), then each test that started and
# never finished, then kills the run and exits 124.
set -uo pipefail
cd "$(dirname "$0")/.."
limit=$1
shift
log=$(mktemp -t strata-test-XXXXXX.log)
trap 'rm -f "$log"' EXIT

# In a session of its own, so that the servers and peers the tests started go with it.
setsid stdbuf -oL -eL swift test --skip-build "$@" > >(tee "$log") 2>&1 &
runner=$!
deadline=$((SECONDS + limit))
while kill -0 "$runner" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 5; done

if ! kill -0 "$runner" 2>/dev/null; then
  wait "$runner"
  exit $?
fi

echo
echo "test-with-deadline: swift test ran past ${limit} s"
# The test bundle is the child of `swift test`: its threads, reduced to the project's frames.
for pid in $(pgrep -f 'PackageTests' || true); do
  if command -v gdb >/dev/null; then
    echo "test-with-deadline: where the threads of process $pid wait (Strata frames only):"
    timeout 120 gdb -p "$pid" -batch -ex 'set pagination off' -ex 'thread apply all bt 40' 2>/dev/null \
      | awk '/^Thread /{thread=$0; next} /Strata|Tests/ && !seen[$0]++ {if (thread != "") {print thread; thread=""} print "    " $0}' \
      | sed -E 's/0x[0-9a-f]+ in //; s/ \(.*\) at / at /' | cut -c1-220 | head -120
  fi
done
echo "test-with-deadline: tests that started and never finished:"
python3 - "$log" <<'PY'
import re, sys
started, finished = [], set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"Test (.+?) started\.", line)
    if m and "Test case passing" not in line and m.group(1) != "run":
        started.append(m.group(1))
        continue
    m = re.search(r"Test (.+?) (passed|failed|skipped)", line)
    if m and "Test case passing" not in line:
        name = m.group(1)
        name = re.sub(r" with \d+ test cases?$", "", name)
        finished.add(name)
for name in started:
    if name not in finished:
        print("  " + name)
PY
kill -TERM -- "-$runner" 2>/dev/null
sleep 5
kill -KILL -- "-$runner" 2>/dev/null
exit 124

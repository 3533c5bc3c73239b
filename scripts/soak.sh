#!/usr/bin/env bash
# Soak test: one `strata serve` (release build) on generated history with a model in production,
# driven for --seconds by three separate processes at once — recommendations and feature reads
# at fixed rates (`strata bench http`, open loop) and event batches posted in a loop — then
# reports requests, failures, p50/p99 per route, and the server's resident memory at start and
# end; fails if any request failed or the server logged an error. scripts/test.sh runs a short one
# on the debug build it has just built (--no-build: building the product alone would recompile
# packages the test build compiled with other settings).
# Usage: scripts/soak.sh [--seconds 600] [--rate 1000] [--users 20000] [--build release|debug] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600 rate=1000 users=20000 port=18491 build=release rebuild=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-build) rebuild=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

strata=.build/$build/strata
if [ "$rebuild" = 1 ]; then
  scripts/install-deps.sh >&2
  swift build -c "$build" --product strata >&2
fi
[ -x "$strata" ] || { echo "soak.sh: no $strata (build it, or run without --no-build)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill "$server" "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
pids=()

sed -e 's/allow_self_approval: false/allow_self_approval: true /' -e 's/rate_limit: { per_key: 1000, burst: 2000 }/rate_limit: off/' examples/strata.yaml >"$work/strata.yaml"
"$strata" generate --config "$work/strata.yaml" --users "$users" --items "$users" --days 14 --out "$work/events.ndjson" 2>/dev/null
"$strata" import --config "$work/strata.yaml" --data-dir "$work/data" --log-format json "$work/events.ndjson" >/dev/null 2>&1
"$strata" lake snapshot --config "$work/strata.yaml" --data-dir "$work/data" >/dev/null 2>&1 || true
"$strata" serve --config "$work/strata.yaml" --data-dir "$work/data" --port "$port" --no-auth --log-format json >"$work/server.log" 2>&1 &
server=$!
# Ready once /readyz answers; a busy machine may take minutes to open the lake, so wait up to
# 10 min, and fail saying why rather than soak a server that is not there.
ready_by=$(( $(date +%s) + 600 ))
until curl -fs --max-time 120 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "soak FAILED: strata serve exited before it was ready; its log ends:" >&2; tail -n 20 "$work/server.log" >&2; exit 1
  fi
  if [ "$(date +%s)" -ge "$ready_by" ]; then
    echo "soak FAILED: strata serve was not ready after 600 s; its log ends:" >&2; tail -n 20 "$work/server.log" >&2; exit 1
  fi
  sleep 0.2
done
base="http://127.0.0.1:$port"
reference=$(curl -fs -X POST -H 'Content-Type: application/json' -d '{"model": "als-main"}' "$base/v1/training/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"]["reference"])')
curl -fs -X POST -H 'Content-Type: application/json' -d '{"reason": "soak"}' "$base/v1/models/$reference/approve" >/dev/null
curl -fs -X POST "$base/v1/models/$reference/promote" >/dev/null
# The promotion starts the batch job that precomputes every user's list: the soak measures the
# steady state after it, so wait until the served model's cache table is there (at most 10 min).
python3 - "$base" <<'PY'
import json, sys, time, urllib.request
base = sys.argv[1]
get = lambda path: json.load(urllib.request.urlopen(base + path, timeout=120))  # slow is not failed: the limit bounds a hang
for _ in range(600):
    names = [d.get("name") for d in get("/v1/deployments")["deployments"]]
    if names and all(any(v.get("cache") for v in get(f"/v1/deployments/{n}").get("variants", [])) for n in names):
        break
    time.sleep(1)
PY
sleep 3
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$server/status"; }
echo "soak: $seconds s, recommendations and features at $rate requests/s each, event batches in a loop; $(wc -l <"$work/events.ndjson") events of history, $reference in production"
echo "server RSS at start: $(rss)"

"$strata" bench http --target "127.0.0.1:$port" --path '/v1/recommendations/u{n}?n=10' --ids "$users" --rate "$rate" --seconds "$seconds" --repeats 1 --connections 8 >"$work/recs.txt" 2>&1 &
pids+=($!)
"$strata" bench http --target "127.0.0.1:$port" --path '/v1/features/user/u{n}' --ids "$users" --rate "$rate" --seconds "$seconds" --repeats 1 --connections 8 >"$work/features.txt" 2>&1 &
pids+=($!)
python3 - "$base" "$seconds" >"$work/ingest.txt" 2>&1 <<'PY' &
import json, sys, time, urllib.request
base, seconds = sys.argv[1], float(sys.argv[2])
end, batches, failures, latencies, n = time.time() + seconds, 0, 0, [], 0
while time.time() < end:
    now = int(time.time() * 1000)
    body = "\n".join(json.dumps({"type": "view", "event_id": f"soak-{n}-{i}", "user_id": f"u{(n * 37 + i) % 20000}", "item_id": f"i{(n + i) % 20000}", "timestamp": now}) for i in range(200))
    n += 1
    start = time.time()
    # A failure is an error or a refusal; a slow answer on a busy machine is not (the timeout bounds a hang).
    try:
        with urllib.request.urlopen(urllib.request.Request(base + "/v1/events", data=body.encode(), headers={"Content-Type": "application/x-ndjson"}), timeout=120) as r:
            ok = r.status == 200 and json.load(r)["accepted"] == 200
    except Exception:
        ok = False
    latencies.append((time.time() - start) * 1e6)
    batches += 1
    failures += 0 if ok else 1
    time.sleep(0.1)
latencies.sort()
print(f"ingest: {batches} batches of 200 events ({batches * 200 / seconds:.0f} events/s), {failures} failures, p50 {latencies[len(latencies) // 2]:.0f} µs, p99 {latencies[int(len(latencies) * 0.99)]:.0f} µs")
PY
pids+=($!)
mid=$(( seconds / 2 ))
sleep "$mid"; echo "server RSS at $mid s: $(rss)"
wait "${pids[@]}"
echo "server RSS at end: $(rss)"
echo; echo "recommendations:"; tail -n 4 "$work/recs.txt"
echo; echo "feature reads:"; tail -n 4 "$work/features.txt"
echo; cat "$work/ingest.txt"
errors=$(grep -c '"level":"error"' "$work/server.log" || true)
echo "server errors logged: $errors"
# Zero failures anywhere, or the soak fails.
failed=$(awk '$1 ~ /^([0-9]+|warm-up)$/ && NF == 8 { sum += $3 } END { print sum + 0 }' "$work/recs.txt" "$work/features.txt")
ingest_failed=$(sed -n 's/.*, \([0-9]*\) failures,.*/\1/p' "$work/ingest.txt")
if [ "$failed" != 0 ] || [ "${ingest_failed:-1}" != 0 ] || [ "$errors" != 0 ]; then
  echo "soak FAILED: $failed failed reads, ${ingest_failed:-unknown} failed event batches, $errors server errors" >&2
  exit 1
fi

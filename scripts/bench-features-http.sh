#!/usr/bin/env bash
# Feature reads over HTTP: starts `strata serve` (release build) on generated history, then
# drives GET /v1/features/user/{id} from separate processes: `strata bench http` at a fixed
# rate (open loop, latency from when each request was due), and wrk (closed loop, for the
# ceiling). Usage: scripts/bench-features-http.sh [--rate 10000] [--seconds 10] [--users 20000]
set -euo pipefail
cd "$(dirname "$0")/.."

rate=10000 seconds=10 users=20000 port=18473
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh --with-bench-tools
swift build -c release --product strata >&2
strata=.build/release/strata
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
# Production settings (keys, rate limits, metrics on), with the key's rate limit above the
# measured rate so that the load is answered rather than refused.
sed "s/rate_limit: { per_key: 1000, burst: 2000 }/rate_limit: { per_key: $((rate * 5)), burst: $((rate * 10)) }/" examples/strata.yaml >"$work/strata.yaml"
grep -q "per_key: $((rate * 5))" "$work/strata.yaml" || { echo "examples/strata.yaml has no rate_limit line to raise" >&2; exit 1; }
export STRATA_CONFIG="$work/strata.yaml"

echo "generating 14 days of history for $users users ..."
"$strata" generate --users "$users" --items 20000 --days 14 --out "$work/events.ndjson" 2>/dev/null
"$strata" import --data-dir "$work/data" --log-format json "$work/events.ndjson" >/dev/null 2>&1
echo "$(wc -l <"$work/events.ndjson") events imported"
# The server runs with its production settings (keys on): the load carries a serve key.
key=$("$strata" keys create --data-dir "$work/data" --name bench --roles serve 2>/dev/null | tail -n 1)
[ -n "$key" ] || { echo "no API key was created" >&2; exit 1; }

"$strata" serve --data-dir "$work/data" --port "$port" --log-format json >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }
echo "one answer: $(curl -fs -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/features/user/u1" | head -c 400)"
echo

"$strata" bench http --target "127.0.0.1:$port" --path '/v1/features/user/u{n}' --ids "$users" --rate "$rate" --seconds "$seconds" --api-key "$key"

if command -v wrk >/dev/null; then
  cat >"$work/ids.lua" <<LUA
math.randomseed(7)
request = function() return wrk.format("GET", "/v1/features/user/u" .. math.random(0, $users - 1), {["Authorization"] = "Bearer $key"}) end
-- An answer that is not 2xx or 3xx makes the figures false: fail the run.
done = function(summary)
  if summary.errors.status > 0 then io.stderr:write(summary.errors.status .. " answers were not 2xx\n"); os.exit(1) end
end
LUA
  echo
  echo "wrk (closed loop: as fast as answers come, 2 threads, 32 connections):"
  wrk -t2 -c32 -d"${seconds}s" --latency -s "$work/ids.lua" "http://127.0.0.1:$port" | sed -n '/Latency Distribution/,$p'
fi

#!/usr/bin/env bash
# Recommendation serving against the Python peer a user would otherwise build (FastAPI +
# uvicorn + implicit, ../shared/anchors/peers/serving_peer.py), in one run on this machine:
# the same 50,000 × 50,000 synthetic interactions, the same ALS hyperparameters (64 factors,
# regularization 0.05, implicit alpha 1 = Strata alpha 0, 15 iterations), the same wrk load
# (2 threads, keep-alive, users drawn at random by spread_users.lua). Prints req/s and latency
# for both and the ratio Strata / peer.
#   scripts/bench-serving-peer.sh [--seconds 20] [--repeats 3] [--workers 2]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${STRATA_SHARED:-../shared}
PEERS="$SHARED/anchors/peers"
seconds=20 repeats=3 workers=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
OUT=${STRATA_BENCH_OUT:-.build-bench/serving}
mkdir -p "$OUT"
scripts/install-deps.sh --with-bench-tools
if [ ! -x .venv-serving-peer/bin/python ]; then
  python3 -m venv .venv-serving-peer
  .venv-serving-peer/bin/pip install -q -r "$PEERS/requirements-serving.txt" \
    || .venv-serving-peer/bin/pip install -q implicit fastapi 'uvicorn[standard]' threadpoolctl
fi
swift build -c release --product strata >&2
STRATA=.build/release/strata
PY=.venv-serving-peer/bin/python

if [ ! -s "$OUT/interactions.tsv" ]; then
  echo "== generating 50,000 users × 50,000 items (target 2,000,000 interactions)"
  $PY "$SHARED/anchors/synthetic_als_bench.py" --users 50000 --items 50000 --target 2000000 --write-tsv "$OUT/interactions.tsv" --generate-only >/dev/null
fi
cut -f1 "$OUT/interactions.tsv" | sort -u >"$OUT/user-ids.txt"

peer=""; strata=""
trap 'kill $peer $strata 2>/dev/null || true; wait 2>/dev/null || true' EXIT
drive() { # name url ids prefix connections
  wrk -t2 -c"$5" -d"${seconds}s" --latency --timeout 5s -s "$PEERS/spread_users.lua" "$2" -- "$3" 10 "$4" >"$OUT/$1.log"
  python3 - "$OUT/$1.log" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    m = re.search(r"\s" + label + r"%\s+([\d.]+)(us|ms|s)", text)
    v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{sys.argv[2]:<34} {rps:>9.0f} req/s   p50 {ms('50'):7.2f} ms   p99 {ms('99'):8.2f} ms   non-2xx {errors.group(1) if errors else 0}")
PY
}
wait_for() { for _ in $(seq 1 600); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }

echo "== the peer: precomputed (its best-case cache path), $workers uvicorn workers"
$PY "$PEERS/serving_peer.py" --data "$OUT/interactions.tsv" --mode precomputed --workers "$workers" --port 18601 2>"$OUT/peer-precomputed.err" &
peer=$!
wait_for http://127.0.0.1:18601/healthz
for r in $(seq 1 "$repeats"); do
  for c in 16 64; do drive "peer-cached-c$c-r$r" http://127.0.0.1:18601 "$OUT/user-ids.txt" /recommendations/ $c; done
done
kill $peer; wait $peer 2>/dev/null || true; peer=""

echo "== the peer: live (model.recommend per request), $workers uvicorn workers"
$PY "$PEERS/serving_peer.py" --data "$OUT/interactions.tsv" --mode live --workers "$workers" --port 18602 2>"$OUT/peer-live.err" &
peer=$!
wait_for http://127.0.0.1:18602/healthz
drive "peer-live-c16" http://127.0.0.1:18602 "$OUT/user-ids.txt" /recommendations/ 16
kill $peer; wait $peer 2>/dev/null || true; peer=""

echo "== Strata: the same interactions and hyperparameters; cached path and live fallback"
$STRATA bench recommendations --tsv "$OUT/interactions.tsv" --iterations 15 --alpha 0 --seconds 5 --repeats 1 --rate 12000 \
  --hold 100000 --port 18603 --ids-file "$OUT/strata-ids.txt" --live-ids-file "$OUT/strata-live-ids.txt" >"$OUT/strata.log" 2>&1 &
strata=$!
for _ in $(seq 1 1200); do grep -q "serving on" "$OUT/strata.log" && break; sleep 0.5; done
grep -v "^serving on" "$OUT/strata.log"
for r in $(seq 1 "$repeats"); do
  for c in 16 64; do drive "strata-cached-c$c-r$r" http://127.0.0.1:18603 "$OUT/strata-ids.txt" /v1/recommendations/ $c; done
done
drive "strata-live-c16" http://127.0.0.1:18603 "$OUT/strata-live-ids.txt" /v1/recommendations/ 16
kill $strata; wait $strata 2>/dev/null || true; strata=""

echo "== medians over $repeats runs, and Strata / peer"
python3 - "$OUT" "$repeats" <<'PY'
import re, statistics, sys
out, repeats = sys.argv[1], int(sys.argv[2])
def rps(name):
    return float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{out}/{name}.log").read()).group(1))
for c in (16, 64):
    s = statistics.median(rps(f"strata-cached-c{c}-r{r}") for r in range(1, repeats + 1))
    p = statistics.median(rps(f"peer-cached-c{c}-r{r}") for r in range(1, repeats + 1))
    print(f"cached c{c}: Strata {s:.0f} req/s, peer {p:.0f} req/s, ratio {s / p:.1f}x")
s, p = rps("strata-live-c16"), rps("peer-live-c16")
print(f"live c16: Strata {s:.0f} req/s (fold-in of 20 recent items), peer {p:.0f} req/s (trained user vector), ratio {s / p:.1f}x")
PY

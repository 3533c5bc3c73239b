#!/usr/bin/env bash
# Strata's models against the peer library `implicit`, measured in one run on the same machine,
# the same data and the same split (../shared/anchors/). Prints quality side by side and the
# ALS speed ratios (Strata time / implicit time; ≤ 1.0 means Strata is faster).
#   scripts/bench-ml-vs-implicit.sh [--quick]     (--quick: one repeat, skips the 10M synthetic set)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${STRATA_SHARED:-../shared}
SPLIT="$SHARED/datasets/ml-latest-small/split_temporal"
OUT=${STRATA_BENCH_OUT:-.build-bench}
REPEATS=3; SYNTHETIC=1
[ "${1:-}" = "--quick" ] && { REPEATS=1; SYNTHETIC=0; }
mkdir -p "$OUT"
scripts/install-deps.sh
if [ ! -x .venv-anchor/bin/python ]; then
  python3 -m venv .venv-anchor
  .venv-anchor/bin/pip install -q implicit numpy scipy threadpoolctl
fi
swift build -c release --product strata
STRATA=.build/release/strata

echo "== implicit on ml-latest-small (threads 1 2, $REPEATS repeats)"
.venv-anchor/bin/python "$SHARED/anchors/implicit_anchor.py" --data "$SHARED/datasets/ml-latest-small/ratings.csv" \
  --name ml-latest-small --split-dir "$OUT/split" --results "$OUT/implicit.json" --threads 1 2 --repeats "$REPEATS" > "$OUT/implicit.log"
cmp -s "$OUT/split/train.tsv" "$SPLIT/train.tsv" || { echo "the anchor wrote a different split than $SPLIT"; exit 1; }

echo "== Strata on the same split"
for threads in 1 2; do
  # implicit's alpha A is Strata's A−1 (confidence 1 + alpha·r on binary data).
  for alpha in 0 9 39; do
    $STRATA evaluate --split "$SPLIT" --model als --param factors=64 --param regularization=0.05 --param alpha=$alpha \
      --param iterations=15 --threads $threads --repeats "$REPEATS" --json > "$OUT/strata-als$alpha-t$threads.json"
  done
  $STRATA evaluate --split "$SPLIT" --model popularity --model item_knn --param neighbors=100 --model bpr \
    --threads $threads --repeats "$REPEATS" --json > "$OUT/strata-others-t$threads.json"
done

if [ "$SYNTHETIC" = 1 ]; then
  echo "== synthetic 10M set: implicit, then Strata (5 iterations, $REPEATS repeats per thread count)"
  for threads in 1 2; do
    .venv-anchor/bin/python "$SHARED/anchors/synthetic_als_bench.py" --cache "$OUT/synth.npz" --threads $threads \
      --repeats "$REPEATS" --iters 5 --results "$OUT/implicit-synthetic-t$threads.json" > "$OUT/implicit-synthetic-t$threads.log"
  done
  $STRATA bench als --synthetic --threads 1 2 --repeats "$REPEATS" --alpha 0 --json > "$OUT/strata-synthetic.json"
  $STRATA bench als --synthetic --threads 1 2 --repeats "$REPEATS" --alpha 1 --json > "$OUT/strata-synthetic-alpha1.json"
fi

python3 - "$OUT" "$SYNTHETIC" <<'PY'
import json, sys, glob, os
out, synthetic = sys.argv[1], sys.argv[2] == "1"
imp = json.load(open(f"{out}/implicit.json"))
runs = {(r["model"], r["threads"]): r for r in imp["runs"]}
def strata(path):
    return {row["model"]: row for row in json.load(open(path))}
print(f"{'model':<28}{'implicit NDCG@10':>18}{'Strata NDCG@10':>16}{'implicit fit s':>16}{'Strata fit s':>14}{'ratio':>8}")
for threads in (1, 2):
    pairs = [("popularity", "popularity", f"strata-others-t{threads}.json"), ("itemknn_cosine_K100", "item_knn", f"strata-others-t{threads}.json"),
             ("als_alpha1", "als", f"strata-als0-t{threads}.json"), ("als_alpha10", "als", f"strata-als9-t{threads}.json"),
             ("als_alpha40", "als", f"strata-als39-t{threads}.json"), ("bpr", "bpr", f"strata-others-t{threads}.json")]
    for anchor, ours, path in pairs:
        a = runs[(anchor, threads)]; s = strata(f"{out}/{path}")[ours]
        ratio = s["fit_seconds"] / a["fit_seconds_median"] if a["fit_seconds_median"] > 0.01 else float("nan")
        print(f"{anchor + ' T' + str(threads):<28}{a['metrics']['ndcg@10']:>18.4f}{s['ndcg@10']:>16.4f}{a['fit_seconds_median']:>16.3f}{s['fit_seconds']:>14.3f}{ratio:>8.2f}")
if synthetic:
    ours = {r["threads"]: r for r in json.load(open(f"{out}/strata-synthetic.json"))["runs"]}
    ours1 = {r["threads"]: r for r in json.load(open(f"{out}/strata-synthetic-alpha1.json"))["runs"]}
    for threads in (1, 2):
        a = json.load(open(f"{out}/implicit-synthetic-t{threads}.json"))
        it = a["runs"][0]["median_seconds_per_iteration"]
        s = ours[threads]["iteration_seconds_median"]; s1 = ours1[threads]["iteration_seconds_median"]
        print(f"synthetic ALS per iteration, {threads} thread(s): implicit {it:.3f} s, Strata (same model) {s:.3f} s, ratio {s / it:.2f}; "
              f"Strata with confidence 2 (more work) {s1:.3f} s, ratio {s1 / it:.2f}")
PY

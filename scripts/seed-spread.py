#!/usr/bin/env python3
"""NDCG@10 of ALS and BPR over several seeds, for `implicit` and for Strata, on the anchor's
MovieLens split: one seed is one draw, so compare the spreads, not single runs.

Run with the virtual environment that has `implicit` (scripts/bench-ml-vs-implicit.sh makes it):
  .venv-anchor/bin/python scripts/seed-spread.py [--strata .build/release/strata] [--seeds 1 2 3 42]
"""
import argparse, json, os, statistics, subprocess, sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
p = argparse.ArgumentParser()
p.add_argument("--shared", default="../shared")
p.add_argument("--strata", default=".build/release/strata")
p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 42])
a = p.parse_args()
sys.path.insert(0, os.path.join(a.shared, "anchors"))
import numpy as np, scipy.sparse as sp  # noqa: E402
import implicit_anchor as anchor  # noqa: E402
import implicit.cpu.als, implicit.cpu.bpr  # noqa: E402

split = os.path.join(a.shared, "datasets/ml-latest-small/split_temporal")
tr = np.loadtxt(f"{split}/train.tsv", dtype=np.int64, ndmin=2)
te = np.loadtxt(f"{split}/test.tsv", dtype=np.int64, ndmin=2)
users = np.unique(np.concatenate([tr[:, 0], te[:, 0]]))
items = np.unique(np.concatenate([tr[:, 1], te[:, 1]]))
train = sp.csr_matrix((np.ones(len(tr), np.float32), (np.searchsorted(users, tr[:, 0]), np.searchsorted(items, tr[:, 1]))),
                      shape=(len(users), len(items)))
train.sort_indices()
test = {}
for u, i in zip(np.searchsorted(users, te[:, 0]), np.searchsorted(items, te[:, 1])):
    test.setdefault(int(u), set()).add(int(i))
evaluated = np.array(sorted(test), dtype=np.int32)

models = {  # name: (implicit factory, Strata --param list)
    "als alpha=1": (lambda s: implicit.cpu.als.AlternatingLeastSquares(factors=64, regularization=0.05, alpha=1.0, iterations=15, random_state=s, num_threads=1),
                    ["--model", "als", "--param", "alpha=0"]),
    "als alpha=10": (lambda s: implicit.cpu.als.AlternatingLeastSquares(factors=64, regularization=0.05, alpha=10.0, iterations=15, random_state=s, num_threads=1),
                     ["--model", "als", "--param", "alpha=9"]),
    "als alpha=40": (lambda s: implicit.cpu.als.AlternatingLeastSquares(factors=64, regularization=0.05, alpha=40.0, iterations=15, random_state=s, num_threads=1),
                     ["--model", "als", "--param", "alpha=39"]),
    "bpr": (lambda s: implicit.cpu.bpr.BayesianPersonalizedRanking(factors=64, learning_rate=0.01, regularization=0.01, iterations=100, random_state=s, num_threads=1),
            ["--model", "bpr"]),
}
print(f"{'model':<14}{'implicit mean':>14}{'sd':>8}{'Strata mean':>13}{'sd':>8}   per seed (implicit | Strata)")
for name, (factory, flags) in models.items():
    ours, theirs = [], []
    for seed in a.seeds:
        m = factory(seed)
        m.fit(train, show_progress=False)
        theirs.append(anchor.evaluate(anchor.recommend_all(m, evaluated, train), test, len(items))["ndcg@10"])
        out = subprocess.run([a.strata, "evaluate", "--split", split, *flags, "--param", f"seed={seed}", "--threads", "1", "--json"],
                             check=True, capture_output=True, text=True).stdout
        ours.append(json.loads(out)[0]["ndcg@10"])
    sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
    print(f"{name:<14}{statistics.mean(theirs):>14.4f}{sd(theirs):>8.4f}{statistics.mean(ours):>13.4f}{sd(ours):>8.4f}   "
          + " ".join(f"{t:.4f}" for t in theirs) + " | " + " ".join(f"{o:.4f}" for o in ours))

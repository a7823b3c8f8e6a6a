"""Bootstrap intervals of `mg-score classify` against an independent Python
transcription of the documented resampling (xoshiro256** seeded by
splitmix64(seed + replicate), Lemire's bounded integers), scikit-learn metrics
on each resample and numpy.percentile. Usage: ref_bootstrap.py TMPDIR"""
import json
import math
import subprocess
import sys
import warnings

import os

import numpy as np
from sklearn import metrics as M

warnings.simplefilter("ignore")
T = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mgrng import Xoshiro  # noqa: E402


def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
    sys.stdout.flush()


def write_tsv(path, header, rows):
    with open(path, "w") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


rng = np.random.default_rng(21)
n, B, seed = 40, 60, 12345
y = (rng.random(n) < 0.15).astype(int)  # few positives: some single-class replicates
y[:2] = 1
p = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), 2)
p2 = np.round(np.clip(0.2 * y + rng.random(n) * 0.8, 0, 1), 2)
write_tsv(f"{T}/b.tsv", ["id", "p", "y"], [("i%d" % i, repr(float(p[i])), y[i]) for i in range(n)])
write_tsv(f"{T}/b2.tsv", ["id", "p"], [("i%d" % i, repr(float(p2[i]))) for i in range(n)])

outs = {}
for th in (1, 3):
    r = subprocess.run(["mg-score", "classify", f"{T}/b.tsv", "--label-col", "y", "--bootstrap", str(B),
                        "--seed", str(seed), "--compare", f"{T}/b2.tsv", "-@", str(th), "-q", "--no-version",
                        "--json", f"{T}/b{th}.json"], capture_output=True, text=True)
    if r.returncode:
        ok("bootstrap_runs", False, r.stderr.strip())
        sys.exit(0)
    outs[th] = open(f"{T}/b{th}.json").read()
ok("bootstrap_identical_for_any_thread_count", outs[1] == outs[3], "JSON differs between -@1 and -@3")
out = json.loads(outs[1])


def metrics_of(yy, pp):
    yp = (pp >= 0.5).astype(int)
    return {
        "auc": M.roc_auc_score(yy, pp),
        "average_precision": M.average_precision_score(yy, pp),
        "accuracy": M.accuracy_score(yy, yp),
        "f1": M.f1_score(yy, yp),
        "brier": M.brier_score_loss(yy, pp),
    }


reps, diffs, skipped = [], [], 0
for b in range(B):
    g = Xoshiro(seed + b)
    idx = np.array([g.below(n) for _ in range(n)])
    yy = y[idx]
    if yy.min() == yy.max():
        skipped += 1
        continue
    a = metrics_of(yy, p[idx])
    c = metrics_of(yy, p2[idx])
    reps.append(a)
    diffs.append({k: a[k] - c[k] for k in a})
ok("bootstrap_skips_single_class_replicates", out["bootstrap"]["skipped"] == skipped,
   "mg %r python %r" % (out["bootstrap"]["skipped"], skipped))
bad = []
for k in ("auc", "average_precision", "accuracy", "f1", "brier"):
    v = np.array([r[k] for r in reps])
    lo, hi = np.percentile(v, [2.5, 97.5])
    m = out["metrics"][k]
    if not (math.isclose(m["ci_low"], lo, rel_tol=1e-12, abs_tol=1e-12) and
            math.isclose(m["ci_high"], hi, rel_tol=1e-12, abs_tol=1e-12)):
        bad.append("%s: mg [%r, %r] py [%r, %r]" % (k, m["ci_low"], m["ci_high"], lo, hi))
    v = np.array([r[k] for r in diffs])
    lo, hi = np.percentile(v, [2.5, 97.5])
    m = out["comparison"]["bootstrap"][k]
    if not (math.isclose(m["ci_low"], lo, rel_tol=1e-12, abs_tol=1e-12) and
            math.isclose(m["ci_high"], hi, rel_tol=1e-12, abs_tol=1e-12)):
        bad.append("diff %s: mg [%r, %r] py [%r, %r]" % (k, m["ci_low"], m["ci_high"], lo, hi))
ok("bootstrap_percentile_intervals_match_python_resampling", not bad, "; ".join(bad[:3]))

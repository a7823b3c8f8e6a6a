#!/usr/bin/env bash
# mg-score reads prediction records from an mgt stream (written here by the
# numpy-only writer examples/mgt.py): tensor "pred", metadata id/classes/label.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip stream_vs_sklearn "python3-sklearn not installed"; exit 0; fi
cd "$T"
PYTHONPATH="$TOP/examples" "$PY" - <<'PY'
import json, subprocess, warnings
import numpy as np
import mgt
from sklearn import metrics as M
warnings.simplefilter("ignore")
def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
r = np.random.default_rng(8); n = 120; k = 3
cls = ["atelectasis", "edema", "normal"]
yi = r.integers(0, k, n)
P = r.dirichlet(np.ones(k), n).astype(np.float32)
recs = [({"id": "s%d" % i, "classes": ",".join(cls), "label": cls[yi[i]]}, {"pred": P[i]}) for i in range(n)]
with open("mc.mgt", "wb") as f:
    mgt.write(f, recs, prov=["test\t1\tgen"])
p = subprocess.run(["mg-score", "classify", "mc.mgt", "--label-col", "label", "--raw-scores", "--json", "mc.json", "-q"],
                   capture_output=True, text=True)
if p.returncode:
    ok("multiclass_stream_metrics_match_sklearn", False, p.stderr.strip())
else:
    m = json.load(open("mc.json"))["metrics"]
    Pd = P.astype(np.float64)
    yp = Pd.argmax(1)
    want = {"accuracy": M.accuracy_score(yi, yp), "f1_macro": M.f1_score(yi, yp, average="macro"),
            "average_precision_macro": M.average_precision_score(np.eye(k)[yi], Pd, average="macro")}
    bad = [(kk, m[kk]["value"], v) for kk, v in want.items() if abs(m[kk]["value"] - v) > 1e-12]
    ok("multiclass_stream_metrics_match_sklearn", not bad, repr(bad))
# binary: scalar pred, truth from a TSV
y = (r.random(n) < 0.4).astype(int); p1 = r.random(n).astype(np.float32)
with open("b.mgt", "wb") as f:
    mgt.write(f, [({"id": "b%d" % i}, {"pred": np.array(p1[i], dtype=np.float32)}) for i in range(n)])
open("b_truth.tsv", "w").write("id\ty\n" + "".join("b%d\t%d\n" % (i, y[i]) for i in range(n)))
p = subprocess.run(["mg-score", "classify", "b.mgt", "b_truth.tsv", "--json", "b.json", "-q"], capture_output=True, text=True)
if p.returncode:
    ok("binary_stream_joined_to_truth_table", False, p.stderr.strip())
else:
    a = json.load(open("b.json"))["metrics"]["auc"]["value"]
    ok("binary_stream_joined_to_truth_table", abs(a - M.roc_auc_score(y, p1.astype(np.float64))) < 1e-12, "auc %r" % a)
# a stream on standard input
with open("b.mgt", "rb") as fin:
    p = subprocess.run(["mg-score", "classify", "-", "b_truth.tsv", "--json", "stdin.json", "-q"], stdin=fin,
                       capture_output=True, text=True)
ok("stream_read_from_standard_input", p.returncode == 0 and
   json.load(open("stdin.json"))["metrics"]["auc"]["value"] == json.load(open("b.json"))["metrics"]["auc"]["value"],
   p.stderr.strip())
# scores as metadata (no pred tensor)
with open("meta.mgt", "wb") as f:
    mgt.write(f, [({"id": "b%d" % i, "prob": repr(float(p1[i])), "label": str(y[i])}, {}) for i in range(n)])
p = subprocess.run(["mg-score", "classify", "meta.mgt", "--score-col", "prob", "--label-col", "label", "--json", "m.json", "-q"],
                   capture_output=True, text=True)
ok("scores_from_record_metadata", p.returncode == 0 and
   abs(json.load(open("m.json"))["metrics"]["auc"]["value"] - M.roc_auc_score(y, p1.astype(np.float64))) < 1e-12,
   p.stderr.strip())
# truncated stream: an error
data = open("b.mgt", "rb").read()
open("trunc.mgt", "wb").write(data[:len(data) - 40])
p = subprocess.run(["mg-score", "classify", "trunc.mgt", "b_truth.tsv"], capture_output=True, text=True)
ok("truncated_stream_is_an_error", p.returncode == 1 and p.stderr.count("\n") == 1 and "error: trunc.mgt" in p.stderr,
   p.stderr.strip())
PY

#!/usr/bin/env bash
# mg-fit → mg-decode classify → mg-score classify: the predictions are
# sklearn's predict_proba / predict (1e-6), in the columns mg-score reads, as
# TSV, JSON Lines and mgt prediction records; a mismatched stream is refused.
source "$(dirname "$0")/../lib.sh"
if ! have_py sklearn; then skip decode_vs_sklearn "python3-sklearn not installed"; exit 0; fi
cd "$T"
PYTHONPATH="$TOP/examples" "$PY" - <<'PY'
import numpy as np, mgt
r = np.random.default_rng(11)
n, d = 400, 16
X = (r.normal(size=(n, d)) * 2 + 1).astype(np.float32)
Z = X @ r.normal(size=(d, 3)) * 0.4 + r.normal(size=(n, 3))
tr, te = np.arange(0, 300), np.arange(300, n)
def stream(path, idx, name="embedding"):
    with open(path, "wb") as f:
        mgt.write(f, [({"id": "c%d" % i}, {name: X[i]}) for i in idx], prov=["test\t1\tgen"])
stream("train.mgt", tr); stream("test.mgt", te)
with open("y.tsv", "w") as f:
    f.write("id\tdisease\n" + "".join("c%d\t%d\n" % (i, Z[i, 0] > 0) for i in range(n)))
with open("mc.tsv", "w") as f:
    f.write("id\tgrade\n" + "".join("c%d\t%s\n" % (i, "abc"[Z[i].argmax()]) for i in range(n)))
with open("ml.tsv", "w") as f:
    f.write("id\tx1\tx2\n" + "".join("c%d\t%d\t%d\n" % (i, Z[i, 0] > 0, Z[i, 1] > 0.5) for i in range(n)))
with open("rg.tsv", "w") as f:
    f.write("id\tlevel\n" + "".join("c%d\t%.17g\n" % (i, Z[i, 2]) for i in range(n)))
np.save("X.npy", X)
PY
for t in y mc ml rg; do
    mg-fit -q train.mgt --labels $t.tsv --grid 0.01,0.1,1,10 --cv 3 -o head_$t || fail "fit_$t" "mg-fit failed"
    mg-decode classify -m head_$t test.mgt -o pred_$t.tsv || fail "decode_$t" "failed"
done
"$PY" - <<'PY'
import json, numpy as np, struct
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multiclass import OneVsRestClassifier
X = np.load("X.npy").astype(np.float64)
tr, te = np.arange(0, 300), np.arange(300, 400)
m, s = X[tr].mean(0), X[tr].std(0)
Xs = (X - m) / s
def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
def table(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path)]
    return rows[0], [r[0] for r in rows[1:]], np.array([[float(v) for v in r[1:]] for r in rows[1:]])
def labels(path):
    rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
    return np.array([r[1:] for r in rows])
for t, kind in (("y", "binary"), ("mc", "multiclass"), ("ml", "multilabel"), ("rg", "regression")):
    cfg = json.load(open("head_%s/config.json" % t))
    C = [f.get("C", f.get("alpha")) for f in cfg["fit"]["fits"]]
    L = labels("%s.tsv" % t)
    try:
        hdr, ids, P = table("pred_%s.tsv" % t)
    except Exception as e:
        ok("predictions_match_sklearn_" + kind, False, repr(e)); continue
    if kind == "binary":
        ref = LogisticRegression(C=C[0], solver="newton-cg", tol=1e-10, max_iter=1000).fit(Xs[tr], L[tr, 0].astype(int))
        want = ref.predict_proba(Xs[te])[:, 1:]
    elif kind == "multiclass":
        ref = LogisticRegression(C=C[0], solver="newton-cg", tol=1e-10, max_iter=1000).fit(Xs[tr], L[tr, 0])
        want = ref.predict_proba(Xs[te])
    elif kind == "multilabel":
        Y = L.astype(int)
        want = np.column_stack([LogisticRegression(C=C[j], solver="newton-cg", tol=1e-10, max_iter=1000)
                                .fit(Xs[tr], Y[tr, j]).predict_proba(Xs[te])[:, 1] for j in range(2)])
    else:
        want = Ridge(alpha=C[0]).fit(Xs[tr], L[tr, 0].astype(float)).predict(Xs[te])[:, None]
    dp = np.abs(P - want).max()
    ok("predictions_match_sklearn_" + kind, dp < 1e-6 and hdr[0] == "id" and hdr[1:] == cfg["outputs"]
       and ids == ["c%d" % i for i in te], "max |d| %.3g, header %r" % (dp, hdr))
PY
# the predictions go straight into mg-score
for t in y mc ml; do
    if mg-score classify -q pred_$t.tsv $t.tsv --json score_$t.json >/dev/null 2>score_$t.err && grep -q '"auc' score_$t.json; then
        pass "mg_score_reads_predictions_$t"
    else fail "mg_score_reads_predictions_$t" "$(head -c 300 score_$t.err)"; fi
done
check mg_score_risk_reads_binary_predictions mg-score risk -q pred_y.tsv y.tsv
# mgt prediction records and JSON Lines carry the same numbers
mg-decode classify -m head_mc -O mgt test.mgt -o pred_mc.mgt && mg-decode classify -m head_mc -O jsonl test.mgt -o pred_mc.jsonl
PYTHONPATH="$TOP/examples" "$PY" - <<'PY'
import json, numpy as np, mgt
rows = [l.rstrip("\n").split("\t") for l in open("pred_mc.tsv")]
tsv = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
prov, recs = mgt.read(open("pred_mc.mgt", "rb"))
P = np.array([t["pred"] for m, t in recs])
good = P.shape == tsv.shape and np.array_equal(P, tsv) and recs[0][0]["classes"] == ",".join(rows[0][1:]) \
       and any(l.startswith("mg-decode") for l in prov)
print(("PASS" if good else "FAIL") + " mgt_prediction_records_match_tsv" + ("" if good else ": differ"))
J = [json.loads(l) for l in open("pred_mc.jsonl")]
good = [j["id"] for j in J] == [r[0] for r in rows[1:]] and np.array_equal(np.array([[j[c] for c in rows[0][1:]] for j in J]), tsv)
print(("PASS" if good else "FAIL") + " jsonl_predictions_match_tsv" + ("" if good else ": differ"))
PY
if mg-score classify -q pred_mc.mgt mc.tsv --json s_mgt.json >/dev/null && mg-score classify -q pred_mc.tsv mc.tsv --json s_tsv.json >/dev/null \
   && [ "$(grep -c . s_mgt.json)" -gt 0 ] && diff <(grep -v '"command_line' s_mgt.json) <(grep -v '"command_line' s_tsv.json) >/dev/null; then
    pass mg_score_reads_prediction_records
else fail mg_score_reads_prediction_records "$(diff s_mgt.json s_tsv.json | head -5)"; fi

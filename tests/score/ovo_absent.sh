#!/usr/bin/env bash
# mg-score classify --multi-class ovo when a score column names a class with no
# case in the truth: scikit-learn (roc_auc_score(..., labels=all, multi_class=
# "ovo")) averages over the pairs of classes present; so must mg-score, with a
# warning naming the class. Checked live against scikit-learn.
source "$(dirname "$0")/../lib.sh"
have_py sklearn || { skip ovo_absent_class "no scikit-learn"; exit 0; }
cd "$T"
"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(11)
for name, n, k, absent in (("a", 60, 4, 1), ("b", 9, 3, 2), ("c", 40, 5, 0)):
    y = rng.integers(0, k, n); y[y == absent] = (absent + 1) % k
    P = rng.dirichlet(np.ones(k), n); P[np.arange(n), y] += rng.random(n) * 0.3
    P /= P.sum(1, keepdims=True)
    with open(name + ".pred.tsv", "w") as f:
        f.write("id\t" + "\t".join("c%d" % j for j in range(k)) + "\n")
        f.writelines("i%d\t%s\n" % (i, "\t".join("%.17g" % v for v in P[i])) for i in range(n))
    with open(name + ".truth.tsv", "w") as f:
        f.write("id\tdx\n" + "".join("i%d\tc%d\n" % (i, y[i]) for i in range(n)))
    np.save(name + ".P.npy", P); np.save(name + ".y.npy", y)
PY
for c in a b c; do
    mg-score classify --multi-class ovo --json "$c.json" -o /dev/null "$c.pred.tsv" "$c.truth.tsv" 2>"$c.err"
    st=$?; [ $st = 0 ] || { fail "ovo_absent_$c" "exit $st: $(cat "$c.err")"; continue; }
    if "$PY" - "$c" <<'PY'; then pass "ovo_absent_${c}_auc_matches_sklearn"; else fail "ovo_absent_${c}_auc_matches_sklearn"; fi
import json, sys, numpy as np
from sklearn.metrics import roc_auc_score
c = sys.argv[1]
P, y = np.load(c + ".P.npy"), np.load(c + ".y.npy")
m = {k: v["value"] for k, v in json.load(open(c + ".json"))["metrics"].items()}
labels = list(range(P.shape[1]))
bad = []
for avg in ("macro", "weighted"):
    want = roc_auc_score(y, P, multi_class="ovo", average=avg, labels=labels)
    got = m["auc_" + avg]
    if got is None or abs(got - want) > 1e-12: bad.append("%s: mg %r sklearn %r" % (avg, got, want))
print("; ".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
    abs=$(case $c in a) echo c1;; b) echo c2;; c) echo c0;; esac)
    grep -q "^mg-score: warning: $c.truth.tsv: class $abs is absent from the truth: left out of the one-vs-one pairs$" "$c.err" \
        && pass "ovo_absent_${c}_warns" || fail "ovo_absent_${c}_warns" "$(cat "$c.err")"
done

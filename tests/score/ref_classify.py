"""Live checks of `mg-score classify` against scikit-learn (and direct
O(n^2) formulas where scikit-learn has none). Prints PASS/FAIL lines.
Usage: ref_classify.py TMPDIR"""
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
from sklearn import metrics as M
from sklearn.preprocessing import label_binarize

warnings.simplefilter("ignore")
T = sys.argv[1]
TOL = 1e-12


def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
    sys.stdout.flush()


def close(a, b, tol=TOL):
    if a is None:
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return False
    return abs(a - b) <= tol * max(1.0, abs(b))


def write_tsv(path, header, rows):
    with open(path, "w") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


def run(args, json_path):
    p = subprocess.run(["mg-score"] + args + ["--json", json_path, "-q"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    with open(json_path) as f:
        return json.load(f)


def sk(fn, *a, **k):
    try:
        return float(fn(*a, **k))
    except ValueError:
        return None  # one class present: sklearn 1.2 raises, newer returns NaN


def compare(name, got, want):
    bad = [(k, got.get(k), v) for k, v in want.items() if not close(got.get(k), v)]
    ok(name, not bad, "; ".join("%s: mg %r sklearn %r" % b for b in bad[:4]))


def fmt(x):
    return repr(float(x))


# ---------------------------------------------------------------- binary
def binary_case(name, n, seed, extra=(), zd="warn", prevalence=0.4, thr=0.5):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    p = np.clip(np.round(0.35 * y + rng.random(n) * 0.65, 2), 0, 1)  # ties
    ids = ["c%04d" % i for i in range(n)]
    order = rng.permutation(n)  # truth in another order
    write_tsv(f"{T}/{name}.pred.tsv", ["id", "prob"], [(ids[i], fmt(p[i])) for i in range(n)])
    write_tsv(f"{T}/{name}.truth.tsv", ["id", "label"], [(ids[i], y[i]) for i in order])
    out = run(["classify", f"{T}/{name}.pred.tsv", f"{T}/{name}.truth.tsv",
               "--zero-division", zd, "--threshold", str(thr)] + list(extra), f"{T}/{name}.json")
    m = {k: v["value"] for k, v in out["metrics"].items()}
    yp = (p >= thr).astype(int)
    zdv = zd if zd == "warn" else int(zd)
    want = {
        "auc": sk(M.roc_auc_score, y, p),
        "average_precision": sk(M.average_precision_score, y, p),
        "accuracy": M.accuracy_score(y, yp),
        "balanced_accuracy": M.balanced_accuracy_score(y, yp),
        "precision": M.precision_score(y, yp, zero_division=zdv),
        "recall": M.recall_score(y, yp, zero_division=zdv),
        "f1": M.f1_score(y, yp, zero_division=zdv),
        "specificity": M.recall_score(1 - y, 1 - yp, zero_division=zdv) if (y == 0).any() else None,
        "brier": M.brier_score_loss(y, p),
        "ece": ece_ref(np.column_stack([1 - p, p]), y, 15),
    }
    compare(name + "_metrics_match_sklearn", m, want)
    cm = M.confusion_matrix(y, yp, labels=[0, 1]).tolist()
    ok(name + "_confusion_matrix_matches_sklearn", out["confusion_matrix"]["matrix"] == cm,
       "%r vs %r" % (out["confusion_matrix"]["matrix"], cm))
    fpr, tpr, thr_ = M.roc_curve(y, p, drop_intermediate=False)
    j = np.argmax(tpr - fpr)
    yd = out["youden"]
    ok(name + "_youden_matches_roc_curve_argmax",
       close(yd["threshold"], float(thr_[j])) and close(yd["sensitivity"], float(tpr[j]))
       and close(yd["specificity"], 1 - float(fpr[j])), "%r vs thr %r" % (yd, thr_[j]))
    return y, p, out


def ece_ref(probs, y, bins):
    """Guo et al. 2017 as gpleiss/temperature_scaling: top-label, bins (lo, hi]."""
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    acc = (pred == y).astype(float)
    b = np.linspace(0, 1, bins + 1)
    e = 0.0
    for lo, hi in zip(b[:-1], b[1:]):
        inb = (conf > lo) & (conf <= hi)
        prop = inb.mean()
        if prop > 0:
            e += abs(conf[inb].mean() - acc[inb].mean()) * prop
    return e


def delong_direct(y, scores):
    """DeLong et al. 1988 from the definition: structural components by
    direct pairwise comparison, O(m n)."""
    pos = [np.asarray(s)[y == 1] for s in scores]
    neg = [np.asarray(s)[y == 0] for s in scores]
    m, n = len(pos[0]), len(neg[0])
    aucs, v10, v01 = [], [], []
    for xp, xn in zip(pos, neg):
        psi = (xp[:, None] > xn[None, :]).astype(float) + 0.5 * (xp[:, None] == xn[None, :])
        aucs.append(psi.mean())
        v10.append(psi.mean(axis=1))
        v01.append(psi.mean(axis=0))
    s10 = np.atleast_2d(np.cov(np.array(v10)))
    s01 = np.atleast_2d(np.cov(np.array(v01)))
    return np.array(aucs), s10 / m + s01 / n


def norm_ppf(q):
    from scipy.stats import norm
    return float(norm.ppf(q))


y, p, out = binary_case("binary_ties", 300, 1)
a, S = delong_direct(y, [p])
z = norm_ppf(0.975)
dl = out["delong"]
se = math.sqrt(S[0, 0])
ok("delong_variance_matches_direct_computation",
   close(dl["auc"], a[0]) and close(dl["variance"], S[0, 0]) and
   close(dl["ci_low"], max(0, a[0] - z * se)) and close(dl["ci_high"], min(1, a[0] + z * se)),
   "%r vs auc %r var %r" % (dl, a[0], S[0, 0]))

binary_case("binary_threshold_0.3_zero_division_1", 120, 2, zd="1", thr=0.3)
# positive-class ECE, 10 bins: reliability of p itself
name = "binary_ece_positive_10_bins"
o2 = run(["classify", f"{T}/binary_ties.pred.tsv", f"{T}/binary_ties.truth.tsv", "--ece-mode", "positive",
          "--ece-bins", "10"], f"{T}/{name}.json")
def ece_positive(p, y, bins):
    b = np.linspace(0, 1, bins + 1)
    e = 0.0
    for lo, hi in zip(b[:-1], b[1:]):
        inb = (p > lo) & (p <= hi)
        if inb.mean() > 0:
            e += abs(p[inb].mean() - y[inb].mean()) * inb.mean()
    return e
ok(name + "_matches_definition", close(o2["metrics"]["ece"]["value"], ece_positive(p, y, 10)),
   "mg %r py %r" % (o2["metrics"]["ece"]["value"], ece_positive(p, y, 10)))
binary_case("binary_all_predicted_negative_zero_division_0", 80, 3, zd="0", thr=0.99)
binary_case("binary_all_predicted_negative_zero_division_1", 80, 3, zd="1", thr=0.99)
binary_case("binary_all_predicted_negative_warn", 80, 3, zd="warn", thr=0.99)
for avg in ("macro", "micro", "weighted"):
    name = "binary_average_" + avg
    rng = np.random.default_rng(4)
    yy = (rng.random(150) < 0.3).astype(int)
    pp = np.round(rng.random(150), 1)
    write_tsv(f"{T}/{name}.tsv", ["id", "p", "y"], [("r%d" % i, fmt(pp[i]), yy[i]) for i in range(150)])
    o2 = run(["classify", f"{T}/{name}.tsv", "--label-col", "y", "--average", avg], f"{T}/{name}.json")
    yp = (pp >= 0.5).astype(int)
    compare(name + "_prf_match_sklearn", {k: o2["metrics"][k]["value"] for k in ("precision", "recall", "f1")},
            {"precision": M.precision_score(yy, yp, average=avg),
             "recall": M.recall_score(yy, yp, average=avg),
             "f1": M.f1_score(yy, yp, average=avg)})

# single class: AUC NaN (sklearn >= 1.3 NaN + warning; 1.2 raises)
name = "binary_single_class"
write_tsv(f"{T}/{name}.tsv", ["id", "p", "y"], [("r%d" % i, fmt(i / 10), 0) for i in range(10)])
pr = subprocess.run(["mg-score", "classify", f"{T}/{name}.tsv", "--label-col", "y",
                     "--json", f"{T}/{name}.json"], capture_output=True, text=True)
o2 = json.load(open(f"{T}/{name}.json")) if pr.returncode == 0 else {}
ok("single_class_auc_is_nan_with_warning",
   pr.returncode == 0 and o2["metrics"]["auc"]["value"] is None and "warning" in pr.stderr
   and o2["metrics"]["average_precision"]["value"] == 0.0,
   "rc %d %s" % (pr.returncode, pr.stderr.strip()))

# ---------------------------------------------------------------- DeLong test
name = "delong_two_models"
rng = np.random.default_rng(5)
n = 250
y = (rng.random(n) < 0.45).astype(int)
p1 = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), 2)
p2 = np.round(np.clip(0.15 * y + 0.5 * p1 + rng.random(n) * 0.35, 0, 1), 2)
ids = ["s%d" % i for i in range(n)]
write_tsv(f"{T}/{name}.a.tsv", ["id", "p"], [(ids[i], fmt(p1[i])) for i in range(n)])
write_tsv(f"{T}/{name}.b.tsv", ["id", "p"], [(ids[i], fmt(p2[i])) for i in reversed(range(n))])
write_tsv(f"{T}/{name}.y.tsv", ["id", "y"], [(ids[i], y[i]) for i in range(n)])
o2 = run(["classify", f"{T}/{name}.a.tsv", f"{T}/{name}.y.tsv", "--compare", f"{T}/{name}.b.tsv"],
         f"{T}/{name}.json")
a, S = delong_direct(y, [p1, p2])
l = np.array([1.0, -1.0])
var = float(l @ S @ l)
zz = (a[0] - a[1]) / math.sqrt(var)
from scipy.stats import norm
pv = float(2 * norm.sf(abs(zz)))
d2 = o2["comparison"]["delong"]
ok("delong_test_matches_direct_computation",
   close(d2["auc_a"], a[0]) and close(d2["auc_b"], a[1]) and close(d2["variance"], var)
   and close(d2["z"], zz, 1e-10) and close(d2["p"], pv, 1e-10),
   "%r vs %r %r z %r p %r" % (d2, a, var, zz, pv))

# ---------------------------------------------------------------- multiclass
def multiclass_case(name, n, k, seed, mc="ovr", absent=None, zd="warn"):
    rng = np.random.default_rng(seed)
    cls = ["c%d" % j for j in range(k)]
    yi = rng.integers(0, k, n)
    if absent is not None:
        yi[yi == absent] = (absent + 1) % k
    counts = rng.multinomial(10, np.ones(k) / k, size=n) + 0
    counts[np.arange(n), yi] += rng.integers(0, 6, n)  # signal
    P = counts / counts.sum(axis=1, keepdims=True)
    ids = ["m%d" % i for i in range(n)]
    write_tsv(f"{T}/{name}.pred.tsv", ["id"] + cls, [[ids[i]] + [fmt(v) for v in P[i]] for i in range(n)])
    write_tsv(f"{T}/{name}.truth.tsv", ["id", "dx"], [(ids[i], cls[yi[i]]) for i in range(n)])
    out = run(["classify", f"{T}/{name}.pred.tsv", f"{T}/{name}.truth.tsv", "--multi-class", mc,
               "--zero-division", zd], f"{T}/{name}.json")
    m = {kk: v["value"] for kk, v in out["metrics"].items()}
    labels = list(range(k))
    yp = P.argmax(axis=1)
    Yb = label_binarize(yi, classes=labels)
    zdv = zd if zd == "warn" else int(zd)
    want = {
        "auc_macro": sk(M.roc_auc_score, yi, P, multi_class=mc, average="macro", labels=labels),
        "auc_weighted": sk(M.roc_auc_score, yi, P, multi_class=mc, average="weighted", labels=labels),
        "average_precision_macro": sk(M.average_precision_score, Yb, P, average="macro"),
        "average_precision_micro": sk(M.average_precision_score, Yb, P, average="micro"),
        "average_precision_weighted": sk(M.average_precision_score, Yb, P, average="weighted"),
        "accuracy": M.accuracy_score(yi, yp),
        "balanced_accuracy": M.balanced_accuracy_score(yi, yp),
        "ece": ece_ref(P, yi, 15),
    }
    if mc == "ovr":
        want["auc_micro"] = sk(M.roc_auc_score, yi, P, multi_class="ovr", average="micro", labels=labels)
    for avg in ("macro", "micro", "weighted"):
        want["precision_" + avg] = M.precision_score(yi, yp, average=avg, zero_division=zdv)
        want["recall_" + avg] = M.recall_score(yi, yp, average=avg, zero_division=zdv)
        want["f1_" + avg] = M.f1_score(yi, yp, average=avg, zero_division=zdv)
    if absent is not None:
        # sklearn 1.2 raises for the AUC of an absent class; mg-score gives NaN
        for kk in ("auc_macro", "auc_weighted"):
            if want[kk] is None:
                want[kk] = None
    compare(name + "_metrics_match_sklearn", m, want)
    cm = M.confusion_matrix(yi, yp, labels=labels).tolist()
    ok(name + "_confusion_matrix_matches_sklearn", out["confusion_matrix"]["matrix"] == cm, "differs")
    pc = out["per_class"]
    pr_, rc_, f_, sup = M.precision_recall_fscore_support(yi, yp, labels=labels, zero_division=zdv)
    good = all(close(pc[j]["precision"], pr_[j]) and close(pc[j]["recall"], rc_[j]) and
               close(pc[j]["f1"], f_[j]) and pc[j]["support"] == sup[j] for j in range(k))
    ok(name + "_per_class_match_sklearn", good, "per-class differs")
    zq = norm_ppf(0.975)
    bad = []
    for j in range(k):
        yj = (yi == j).astype(int)
        if yj.sum() < 2:
            bad += [] if pc[j]["auc_ci_low"] is None else ["class %d: CI without positives" % j]
            continue
        a_, S_ = delong_direct(yj, [P[:, j]])
        lo_, hi_ = max(0, a_[0] - zq * math.sqrt(S_[0, 0])), min(1, a_[0] + zq * math.sqrt(S_[0, 0]))
        if not (close(pc[j]["auc_ci_low"], lo_) and close(pc[j]["auc_ci_high"], hi_)):
            bad.append("class %d: mg [%r, %r] py [%r, %r]" % (j, pc[j]["auc_ci_low"], pc[j]["auc_ci_high"], lo_, hi_))
    ok(name + "_per_class_delong_ci_matches_direct_computation", not bad, "; ".join(bad[:2]))


multiclass_case("multiclass_ovr", 240, 4, 6)
multiclass_case("multiclass_ovo", 240, 4, 7, mc="ovo")
multiclass_case("multiclass_absent_class", 200, 4, 8, absent=2)
multiclass_case("multiclass_absent_class_zero_division_1", 200, 5, 9, absent=0, zd="1")


# ---------------------------------------------------------------- multilabel
def multilabel_case(name, n, k, seed, empty_col=None, zd="warn", thr=0.5):
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, k)) < 0.35).astype(int)
    if empty_col is not None:
        Y[:, empty_col] = 0
    P = np.round(np.clip(0.3 * Y + rng.random((n, k)) * 0.7, 0, 1), 2)
    labs = ["L%d" % j for j in range(k)]
    ids = ["x%d" % i for i in range(n)]
    # truth columns in another order: matched by name
    perm = list(reversed(range(k)))
    write_tsv(f"{T}/{name}.pred.tsv", ["id"] + labs, [[ids[i]] + [fmt(v) for v in P[i]] for i in range(n)])
    write_tsv(f"{T}/{name}.truth.tsv", ["id"] + [labs[j] for j in perm],
              [[ids[i]] + [Y[i, j] for j in perm] for i in range(n)])
    out = run(["classify", f"{T}/{name}.pred.tsv", f"{T}/{name}.truth.tsv", "--zero-division", zd,
               "--threshold", str(thr)], f"{T}/{name}.json")
    m = {kk: v["value"] for kk, v in out["metrics"].items()}
    Yp = (P >= thr).astype(int)
    zdv = zd if zd == "warn" else int(zd)
    want = {"subset_accuracy": M.accuracy_score(Y, Yp)}
    for kk in ("precision", "recall", "f1"):
        want[kk + "_samples"] = getattr(M, kk + "_score")(Y, Yp, average="samples", zero_division=zdv)
    for avg in ("macro", "micro", "weighted"):
        want["auc_" + avg] = sk(M.roc_auc_score, Y, P, average=avg)
        want["average_precision_" + avg] = sk(M.average_precision_score, Y, P, average=avg)
        want["precision_" + avg] = M.precision_score(Y, Yp, average=avg, zero_division=zdv)
        want["recall_" + avg] = M.recall_score(Y, Yp, average=avg, zero_division=zdv)
        want["f1_" + avg] = M.f1_score(Y, Yp, average=avg, zero_division=zdv)
    if empty_col is not None:
        # a label without positives: per-label AUC NaN, so macro/weighted NaN
        # (sklearn >= 1.3; 1.2 raises); check the others, and those from the
        # remaining labels
        keep = [j for j in range(k) if j != empty_col]
        aucs = [M.roc_auc_score(Y[:, j], P[:, j]) for j in keep]
        want["auc_macro"] = None
        want["auc_weighted"] = None
        pc = out["per_class"]
        ok(name + "_per_label_auc_nan_for_absent_label",
           pc[empty_col]["auc"] is None and all(close(pc[j]["auc"], a_) for j, a_ in zip(keep, aucs)),
           "per-label AUC differs")
    compare(name + "_metrics_match_sklearn", m, want)
    mcm = M.multilabel_confusion_matrix(Y, Yp).tolist()
    ok(name + "_confusion_matrices_match_sklearn", out["confusion_matrix"]["per_label"] == mcm, "differs")


multilabel_case("multilabel", 200, 5, 10)
multilabel_case("multilabel_label_without_positives", 150, 4, 11, empty_col=1)
multilabel_case("multilabel_no_predictions_zero_division_1", 100, 3, 12, zd="1", thr=0.999)

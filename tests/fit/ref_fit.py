#!/usr/bin/env python3
"""mg-fit against scikit-learn, live: binary, multinomial, one-vs-rest
(multilabel) logistic regression with and without class_weight="balanced",
ridge, and the cross-validated choice against LogisticRegressionCV given the
same folds. Coefficients are compared on standardised inputs (the head stores
them so: z = W·((x − mean)/scale) + b), after centring the multinomial
intercepts. Usage: ref_fit.py WORKDIR (mg-fit on PATH)."""
import json, os, struct, subprocess, sys, warnings
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
import mgt
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV, Ridge
from sklearn.multiclass import OneVsRestClassifier
from sklearn.model_selection import GridSearchCV

warnings.simplefilter("ignore")
W = sys.argv[1]
os.chdir(W)


def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)


def read_head(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    b = open(os.path.join(d, "head.safetensors"), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    t = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        assert v["dtype"] == "F64"
        t[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype="<f8").reshape(v["shape"])
    return cfg, t


def write_stream(path, X, ids, name="embedding", shape=None):
    recs = []
    for i, idv in enumerate(ids):
        a = X[i] if shape is None else X[i].reshape(shape)
        recs.append(({"id": idv}, {name: a}))
    with open(path, "wb") as f:
        mgt.write(f, recs, prov=["test\t1\tgen"])


def standardise(X):
    X = X.astype(np.float64)
    m = X.mean(0)
    s = X.std(0)
    s[s == 0] = 1
    return (X - m) / s


def run(args):
    p = subprocess.run(["mg-fit", "-q"] + args, capture_output=True, text=True)
    return p


def data(n, d, seed, k=2, scale=1.0):
    r = np.random.default_rng(seed)
    X = (r.normal(size=(n, d)) * r.uniform(0.5, 3, d) + r.normal(size=d) * 2).astype(np.float32)
    Wt = r.normal(size=(d, k)) * scale
    Z = standardise(X) @ Wt + r.normal(size=(n, k))
    return X, Z, r


def probs_head(cfg, t, X):
    Z = ((X.astype(np.float64) - t["norm.mean"]) / t["norm.scale"]) @ t["linear.weight"].T + t["linear.bias"]
    if cfg["task"] == "multiclass":
        Z = Z - Z.max(1, keepdims=True)
        E = np.exp(Z)
        return E / E.sum(1, keepdims=True)
    if cfg["task"] == "regression":
        return Z
    return 1 / (1 + np.exp(-Z))


TOLP, TOLW = 1e-6, 1e-4
n, d = 300, 12
ids = ["s%03d" % i for i in range(n)]

# ---- binary, fixed C, with and without balanced class weights ----
X, Z, r = data(n, d, 1, 1)
y = (Z[:, 0] > 0.8).astype(int)           # unbalanced
write_stream("bin.mgt", X, ids)
with open("bin.tsv", "w") as f:
    f.write("id\tcase\n" + "".join("%s\t%d\n" % (ids[i], y[i]) for i in range(n)))
Xs = standardise(X)
for cw in (None, "balanced"):
    for C in (0.05, 3.0):
        tag = "binary_C%g%s" % (C, "_balanced" if cw else "")
        args = ["bin.mgt", "--labels", "bin.tsv", "--C", str(C), "-o", "h_" + tag]
        if cw:
            args += ["--class-weight", cw]
        p = run(args)
        if p.returncode:
            ok(tag + "_matches_sklearn", False, p.stderr.strip())
            continue
        cfg, t = read_head("h_" + tag)
        ref = LogisticRegression(C=C, solver="newton-cg", tol=1e-10, max_iter=1000, class_weight=cw).fit(Xs, y)
        dp = np.abs(probs_head(cfg, t, X)[:, 0] - ref.predict_proba(Xs)[:, 1]).max()
        dw = max(np.abs(t["linear.weight"] - ref.coef_).max(), np.abs(t["linear.bias"] - ref.intercept_).max())
        ok(tag + "_matches_sklearn", dp < TOLP and dw < TOLW, "max |dp| %.3g, max |dw| %.3g" % (dp, dw))

# ---- multinomial ----
K = 4
X, Z, r = data(n, d, 2, K)
cls_names = ["atelectasis", "cardiomegaly", "edema", "normal"]
yc = Z.argmax(1)
write_stream("mc.mgt", X, ids)
with open("mc.tsv", "w") as f:
    f.write("id\tfinding\n" + "".join("%s\t%s\n" % (ids[i], cls_names[yc[i]]) for i in range(n)))
Xs = standardise(X)
for cw in (None, "balanced"):
    tag = "multinomial_C0.5%s" % ("_balanced" if cw else "")
    args = ["mc.mgt", "--labels", "mc.tsv", "--C", "0.5", "-o", "h_" + tag]
    if cw:
        args += ["--class-weight", cw]
    p = run(args)
    if p.returncode:
        ok(tag + "_matches_sklearn", False, p.stderr.strip())
        continue
    cfg, t = read_head("h_" + tag)
    ref = LogisticRegression(C=0.5, solver="newton-cg", tol=1e-10, max_iter=1000, class_weight=cw).fit(Xs, yc)
    dp = np.abs(probs_head(cfg, t, X) - ref.predict_proba(Xs)).max()
    bi = ref.intercept_ - ref.intercept_.mean()
    dw = max(np.abs(t["linear.weight"] - ref.coef_).max(), np.abs(t["linear.bias"] - bi).max())
    ok(tag + "_matches_sklearn", dp < TOLP and dw < TOLW and cfg["outputs"] == cls_names,
       "max |dp| %.3g, max |dw| %.3g, outputs %r" % (dp, dw, cfg["outputs"]))

# ---- multilabel one-vs-rest ----
L = 3
X, Z, r = data(n, d, 3, L)
Y = (Z > np.array([0.0, 1.0, -0.5])).astype(int)
write_stream("ml.mgt", X, ids)
names = ["effusion", "edema", "opacity"]
with open("ml.tsv", "w") as f:
    f.write("id\t" + "\t".join(names) + "\n")
    f.write("".join("%s\t%s\n" % (ids[i], "\t".join(str(v) for v in Y[i])) for i in range(n)))
Xs = standardise(X)
for cw in (None, "balanced"):
    tag = "one_vs_rest_C2%s" % ("_balanced" if cw else "")
    args = ["ml.mgt", "--labels", "ml.tsv", "--C", "2", "-o", "h_" + tag]
    if cw:
        args += ["--class-weight", cw]
    p = run(args)
    if p.returncode:
        ok(tag + "_matches_sklearn", False, p.stderr.strip())
        continue
    cfg, t = read_head("h_" + tag)
    ref = OneVsRestClassifier(LogisticRegression(C=2, solver="newton-cg", tol=1e-10, max_iter=1000,
                                                 class_weight=cw)).fit(Xs, Y)
    dp = np.abs(probs_head(cfg, t, X) - ref.predict_proba(Xs)).max()
    cw_ = np.vstack([e.coef_ for e in ref.estimators_]); b_ = np.hstack([e.intercept_ for e in ref.estimators_])
    dw = max(np.abs(t["linear.weight"] - cw_).max(), np.abs(t["linear.bias"] - b_).max())
    ok(tag + "_matches_sklearn", dp < TOLP and dw < TOLW and cfg["task"] == "multilabel",
       "max |dp| %.3g, max |dw| %.3g" % (dp, dw))

# ---- ridge ----
X, Z, r = data(n, d, 4, 2)
Yr = Z + 0.5
write_stream("rg.mgt", X, ids)
with open("rg.tsv", "w") as f:
    f.write("id\tage\tbmi\n" + "".join("%s\t%.6f\t%.6f\n" % (ids[i], Yr[i, 0], Yr[i, 1]) for i in range(n)))
Yr = np.loadtxt("rg.tsv", skiprows=1, usecols=(1, 2))
Xs = standardise(X)
p = run(["rg.mgt", "--labels", "rg.tsv", "--alpha", "3.5", "-o", "h_ridge"])
if p.returncode:
    ok("ridge_alpha3.5_matches_sklearn", False, p.stderr.strip())
else:
    cfg, t = read_head("h_ridge")
    ref = Ridge(alpha=3.5).fit(Xs, Yr)
    dp = np.abs(probs_head(cfg, t, X) - ref.predict(Xs)).max()
    dw = max(np.abs(t["linear.weight"] - ref.coef_).max(), np.abs(t["linear.bias"] - ref.intercept_).max())
    ok("ridge_alpha3.5_matches_sklearn", dp < TOLP and dw < TOLW and cfg["task"] == "regression",
       "max |dpred| %.3g, max |dw| %.3g" % (dp, dw))


# ---- cross-validation: the same choice as LogisticRegressionCV on the same folds ----
def folds_of(path, ids_order):
    rows = [l.rstrip("\n").split("\t") for l in open(path)][1:]
    pos = {v: i for i, v in enumerate(ids_order)}
    f = np.array([int(b) for a, b in rows])
    idx = np.array([pos[a] for a, b in rows])
    K = f.max() + 1
    return [(np.sort(idx[f != k]), np.sort(idx[f == k])) for k in range(K)], idx, f


grid = [1e-3, 1e-2, 0.03, 0.1, 0.3, 1, 10, 100]
gs = ",".join(str(g) for g in grid)
X, Z, r = data(n, d, 5, 1, scale=0.3)
y = (Z[:, 0] + r.normal(size=n) > 0.3).astype(int)
write_stream("cv.mgt", X, ids)
with open("cv.tsv", "w") as f:
    f.write("id\ty\n" + "".join("%s\t%d\n" % (ids[i], y[i]) for i in range(n)))
Xs = standardise(X)
for score, cw in (("accuracy", None), ("log-loss", None), ("log-loss", "balanced")):
    tag = "cv_%s%s" % (score, "_balanced" if cw else "")
    args = ["cv.mgt", "--labels", "cv.tsv", "--grid", gs, "--cv", "5", "--cv-score", score, "--seed", "7",
            "--folds-out", tag + ".folds", "--json", tag + ".json", "-o", "h_" + tag]
    if cw:
        args += ["--class-weight", cw]
    p = run(args)
    if p.returncode:
        ok(tag + "_choice_matches_LogisticRegressionCV", False, p.stderr.strip())
        continue
    cv, idx, f = folds_of(tag + ".folds", ids)
    strat = all(abs((y[idx][f == k] == 1).sum() - (y == 1).sum() / 5) <= 1 for k in range(5))
    ref = LogisticRegressionCV(Cs=grid, cv=cv, solver="newton-cg", tol=1e-10, max_iter=1000, class_weight=cw,
                               scoring=None if score == "accuracy" else "neg_log_loss").fit(Xs, y)
    rep = json.load(open(tag + ".json"))
    mine = np.array(rep["fits"][0]["cv_folds"]).T           # folds × grid
    refs = ref.scores_[1]
    cfg, t = read_head("h_" + tag)
    ds = np.abs(mine - refs).max()
    dp = np.abs(probs_head(cfg, t, X)[:, 0] - ref.predict_proba(Xs)[:, 1]).max()
    ok(tag + "_choice_matches_LogisticRegressionCV",
       rep["fits"][0]["C"] == ref.C_[0] and ds < 1e-6 and dp < TOLP and strat,
       "C %r vs %r, max |dscore| %.3g, |dp| %.3g, stratified %s" % (rep["fits"][0]["C"], ref.C_[0], ds, dp, strat))

# multinomial CV and multilabel CV (per column, as OneVsRestClassifier(LogisticRegressionCV))
X, Z, r = data(n, d, 6, 3, scale=0.4)
yc = (Z + r.normal(size=Z.shape)).argmax(1)
write_stream("cvm.mgt", X, ids)
with open("cvm.tsv", "w") as f:
    f.write("id\tgrade\n" + "".join("%s\t%d\n" % (ids[i], yc[i]) for i in range(n)))
Xs = standardise(X)
p = run(["cvm.mgt", "--labels", "cvm.tsv", "--grid", gs, "--cv", "4", "--cv-score", "log-loss",
         "--folds-out", "cvm.folds", "--json", "cvm.json", "-o", "h_cvm"])
if p.returncode:
    ok("cv_multinomial_choice_matches_LogisticRegressionCV", False, p.stderr.strip())
else:
    cv, idx, f = folds_of("cvm.folds", ids)
    ref = LogisticRegressionCV(Cs=grid, cv=cv, solver="newton-cg", tol=1e-10, max_iter=1000,
                               scoring="neg_log_loss").fit(Xs, yc)
    rep = json.load(open("cvm.json"))
    mine = np.array(rep["fits"][0]["cv_folds"]).T
    ds = np.abs(mine - ref.scores_[0]).max()
    cfg, t = read_head("h_cvm")
    dp = np.abs(probs_head(cfg, t, X) - ref.predict_proba(Xs)).max()
    ok("cv_multinomial_choice_matches_LogisticRegressionCV", rep["fits"][0]["C"] == ref.C_[0] and ds < 1e-6 and dp < TOLP,
       "C %r vs %r, |dscore| %.3g, |dp| %.3g" % (rep["fits"][0]["C"], ref.C_[0], ds, dp))

X, Z, r = data(n, d, 7, 2, scale=0.4)
Y = ((Z + r.normal(size=Z.shape)) > 0.2).astype(int)
write_stream("cvl.mgt", X, ids)
with open("cvl.tsv", "w") as f:
    f.write("id\ta\tb\n" + "".join("%s\t%d\t%d\n" % (ids[i], Y[i, 0], Y[i, 1]) for i in range(n)))
Xs = standardise(X)
p = run(["cvl.mgt", "--labels", "cvl.tsv", "--grid", gs, "--cv", "3", "--class-weight", "balanced",
         "--folds-out", "cvl.folds", "--json", "cvl.json", "-o", "h_cvl"])
if p.returncode:
    ok("cv_one_vs_rest_choice_per_column_matches", False, p.stderr.strip())
else:
    cv, idx, f = folds_of("cvl.folds", ids)
    ref = OneVsRestClassifier(LogisticRegressionCV(Cs=grid, cv=cv, solver="newton-cg", tol=1e-10, max_iter=1000,
                                                   class_weight="balanced")).fit(Xs, Y)
    rep = json.load(open("cvl.json"))
    cs = [e["C"] for e in rep["fits"]]
    rc = [e.C_[0] for e in ref.estimators_]
    cfg, t = read_head("h_cvl")
    dp = np.abs(probs_head(cfg, t, X) - ref.predict_proba(Xs)).max()
    ok("cv_one_vs_rest_choice_per_column_matches", cs == rc and dp < TOLP, "C %r vs %r, |dp| %.3g" % (cs, rc, dp))

# ridge: alpha chosen by R2 as GridSearchCV(Ridge)
X, Z, r = data(n, d, 8, 1, scale=0.3)
yr = Z[:, 0] + r.normal(size=n) * 2
write_stream("cvr.mgt", X, ids)
with open("cvr.tsv", "w") as f:
    f.write("id\tscore\n" + "".join("%s\t%.17g\n" % (ids[i], yr[i]) for i in range(n)))
Xs = standardise(X)
ag = [0.1, 1, 10, 100, 1000, 1e4]
p = run(["cvr.mgt", "--labels", "cvr.tsv", "--grid", ",".join(str(a) for a in ag), "--cv", "5",
         "--folds-out", "cvr.folds", "--json", "cvr.json", "-o", "h_cvr"])
if p.returncode:
    ok("cv_ridge_alpha_matches_GridSearchCV", False, p.stderr.strip())
else:
    cv, idx, f = folds_of("cvr.folds", ids)
    gsr = GridSearchCV(Ridge(), {"alpha": ag}, cv=cv).fit(Xs, yr)
    rep = json.load(open("cvr.json"))
    ds = np.abs(np.array(rep["fits"][0]["cv_mean"]) - gsr.cv_results_["mean_test_score"]).max()
    ok("cv_ridge_alpha_matches_GridSearchCV", rep["fits"][0]["alpha"] == gsr.best_params_["alpha"] and ds < 1e-7,
       "alpha %r vs %r, |dscore| %.3g" % (rep["fits"][0]["alpha"], gsr.best_params_["alpha"], ds))

# ---- PRS images [C,H,W]: flattened, input name recorded ----
X, Z, r = data(120, 2 * 4 * 4, 9, 1)
yb = (Z[:, 0] > 0).astype(int)
pids = ["p%d" % i for i in range(120)]
write_stream("prs.mgt", X, pids, name="prs", shape=(2, 4, 4))
with open("prs.tsv", "w") as f:
    f.write("id\tcad\n" + "".join("%s\t%d\n" % (pids[i], yb[i]) for i in range(120)))
p = run(["prs.mgt", "--labels", "prs.tsv", "--input", "prs", "--C", "1", "-o", "h_prs"])
if p.returncode:
    ok("prs_image_flattened_matches_sklearn", False, p.stderr.strip())
else:
    cfg, t = read_head("h_prs")
    Xs = standardise(X)
    ref = LogisticRegression(C=1, solver="newton-cg", tol=1e-10, max_iter=1000).fit(Xs, yb)
    dp = np.abs(probs_head(cfg, t, X)[:, 0] - ref.predict_proba(Xs)[:, 1]).max()
    ok("prs_image_flattened_matches_sklearn", dp < TOLP and cfg["input_name"] == "prs" and cfg["input_shape"] == [2, 4, 4]
       and cfg["input_dim"] == 32, "|dp| %.3g, %r %r" % (dp, cfg["input_name"], cfg["input_shape"]))

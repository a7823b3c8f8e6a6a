"""`mg-score risk` against scikit-learn LogisticRegression (no penalty) and
direct Python computations from the definitions (Nagelkerke R^2, top-decile
OR with numpy.percentile, Harrell's C over all pairs as lifelines defines it).
Usage: ref_risk.py TMPDIR"""
import json
import math
import subprocess
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression

warnings.simplefilter("ignore")
T = sys.argv[1]


def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
    sys.stdout.flush()


def close(a, b, tol):
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


def harrell_direct(time, surv_score, event):
    """lifelines concordance_index definition, O(n^2): a pair is admissible
    when the earlier time is an event (an event and a censoring at the same
    time: the censored one lives longer); concordant when the earlier one has
    the lower survival-like score; score ties count 1/2."""
    conc = tied = adm = 0.0
    n = len(time)
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            if i == j:
                continue
            if time[i] < time[j] or (time[i] == time[j] and not event[j]):
                adm += 1
                if surv_score[i] < surv_score[j]:
                    conc += 1
                elif surv_score[i] == surv_score[j]:
                    tied += 1
    return (conc + 0.5 * tied) / adm


def case(name, n, seed, extra=(), sd_controls=False, ddof=1):
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=n), 2)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 0.8 * x)))).astype(int)
    t = np.round(rng.exponential(3 / np.exp(0.5 * x)), 1)  # ties in time
    e = (rng.random(n) < 0.7).astype(int)
    with open(f"{T}/{name}.tsv", "w") as f:
        f.write("id\tprs\ty\ttime\tevent\n")
        for i in range(n):
            f.write("p%d\t%r\t%d\t%r\t%d\n" % (i, float(x[i]), y[i], float(t[i]), e[i]))
    r = subprocess.run(["mg-score", "risk", f"{T}/{name}.tsv", "--score-col", "prs", "--label-col", "y",
                        "--time-col", "time", "--event-col", "event", "--raw-scores", "-q",
                        "--ddof", str(ddof), "--json", f"{T}/{name}.json"]
                       + (["--sd-controls"] if sd_controls else []) + list(extra),
                       capture_output=True, text=True)
    if r.returncode:
        ok(name, False, r.stderr.strip())
        return
    out = json.load(open(f"{T}/{name}.json"))
    m = {k: v["value"] for k, v in out["metrics"].items()}
    ref = x[y == 0] if sd_controls else x
    z = (x - ref.mean()) / ref.std(ddof=ddof)
    lr = LogisticRegression(penalty="none", solver="newton-cg", tol=1e-12, max_iter=1000).fit(z[:, None], y)
    b0, b1 = float(lr.intercept_[0]), float(lr.coef_[0, 0])
    pr = 1 / (1 + np.exp(-(b0 + b1 * z)))
    W = pr * (1 - pr)
    H = np.array([[W.sum(), (W * z).sum()], [(W * z).sum(), (W * z * z).sum()]])
    se = math.sqrt(np.linalg.inv(H)[1, 1])
    lg = out["logistic"]
    ok(name + "_or_per_sd_matches_sklearn_logistic_regression",
       close(m["or_per_sd"], math.exp(b1), 1e-7) and close(lg["beta_se"], se, 1e-7)
       and close(lg["or_per_sd_ci_low"], math.exp(b1 - 1.959963984540054 * se), 1e-7),
       "mg OR %r se %r, sklearn OR %r se %r" % (m["or_per_sd"], lg["beta_se"], math.exp(b1), se))
    ll1 = float(np.sum(y * np.log(pr) + (1 - y) * np.log(1 - pr)))
    p0 = y.mean()
    ll0 = float(n * (p0 * math.log(p0) + (1 - p0) * math.log(1 - p0)))
    cs = 1 - math.exp(2 * (ll0 - ll1) / n)
    nag = cs / (1 - math.exp(2 * ll0 / n))
    ok(name + "_nagelkerke_r2_matches_definition", close(m["nagelkerke_r2"], nag, 1e-8),
       "mg %r py %r" % (m["nagelkerke_r2"], nag))
    q = np.percentile(x, 90)
    top = x >= q
    a, b = (y[top] == 1).sum(), (y[top] == 0).sum()
    c, d = (y[~top] == 1).sum(), (y[~top] == 0).sum()
    ok(name + "_top_decile_or_matches_definition", close(m["top_decile_or"], a * d / (b * c), 1e-12),
       "mg %r py %r" % (m["top_decile_or"], a * d / (b * c)))
    hc = harrell_direct(t, -x, e)
    ok(name + "_harrell_c_matches_direct_pairs", close(m["harrell_c"], hc, 1e-12),
       "mg %r py %r" % (m["harrell_c"], hc))


case("risk", 300, 1)
case("risk_sd_controls_ddof0", 250, 2, sd_controls=True, ddof=0)


# ---------------- covariates ----------------
name = "risk_with_covariates"
rng = np.random.default_rng(7)
n = 400
x = np.round(rng.normal(size=n), 3)
age = np.round(rng.normal(60, 8, n), 1)
sex = rng.integers(0, 2, n)
eta = -1 + 0.6 * x + 0.04 * (age - 60) + 0.5 * sex
y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
with open(f"{T}/{name}.pred.tsv", "w") as f:
    f.write("id\tprs\n" + "".join("p%d\t%r\n" % (i, float(x[i])) for i in range(n)))
with open(f"{T}/{name}.pheno.tsv", "w") as f:
    f.write("id\tcase\tage\tsex\n" + "".join("p%d\t%d\t%r\t%d\n" % (i, y[i], float(age[i]), sex[i]) for i in range(n)))
r = subprocess.run(["mg-score", "risk", f"{T}/{name}.pred.tsv", f"{T}/{name}.pheno.tsv", "--label-col", "case",
                    "--covariates", "age,sex", "-q", "--json", f"{T}/{name}.json"], capture_output=True, text=True)
if r.returncode:
    ok(name, False, r.stderr.strip())
else:
    out = json.load(open(f"{T}/{name}.json"))
    m = {k: v["value"] for k, v in out["metrics"].items()}
    z = (x - x.mean()) / x.std(ddof=1)
    Xf = np.column_stack([z, age, sex])
    lr = LogisticRegression(penalty="none", solver="newton-cg", tol=1e-12, max_iter=5000).fit(Xf, y)
    b = np.concatenate([lr.intercept_, lr.coef_[0]])
    X1 = np.column_stack([np.ones(n), Xf])
    pr = 1 / (1 + np.exp(-X1 @ b))
    H = (X1 * (pr * (1 - pr))[:, None]).T @ X1
    se = math.sqrt(np.linalg.inv(H)[1, 1])
    ok(name + "_adjusted_or_per_sd_matches_sklearn",
       close(m["or_per_sd"], math.exp(b[1]), 1e-6) and close(out["logistic"]["beta_se"], se, 1e-6),
       "mg OR %r se %r, sklearn OR %r se %r" % (m["or_per_sd"], out["logistic"]["beta_se"], math.exp(b[1]), se))
    lrc = LogisticRegression(penalty="none", solver="newton-cg", tol=1e-12, max_iter=5000).fit(np.column_stack([age, sex]), y)
    prc = lrc.predict_proba(np.column_stack([age, sex]))[:, 1]
    ll1 = float(np.sum(y * np.log(pr) + (1 - y) * np.log(1 - pr)))
    llc = float(np.sum(y * np.log(prc) + (1 - y) * np.log(1 - prc)))
    p0 = y.mean()
    ll0 = float(n * (p0 * math.log(p0) + (1 - p0) * math.log(1 - p0)))
    mx = 1 - math.exp(2 * ll0 / n)
    full = (1 - math.exp(2 * (ll0 - ll1) / n)) / mx
    inc = full - (1 - math.exp(2 * (ll0 - llc) / n)) / mx
    ok(name + "_nagelkerke_r2_increment_matches_definition",
       close(m["nagelkerke_r2"], full, 1e-7) and close(m["nagelkerke_r2_increment"], inc, 1e-6),
       "mg %r %r py %r %r" % (m["nagelkerke_r2"], m["nagelkerke_r2_increment"], full, inc))

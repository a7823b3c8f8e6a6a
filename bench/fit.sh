#!/usr/bin/env bash
# mg-fit speed beside scikit-learn doing the same fit, measured in the same
# run; repeats interleaved (mg, peer, mg, peer, ...), medians reported.
#  1. One-vs-rest logistic regression, 5 labels, fixed C, on N x 1152 float
#     embeddings (L2-normalised rows, as SigLIP's). mg: the whole mg-fit
#     process (read the stream, join the labels, standardise, fit, write the
#     head), -@1 and -@2. Peers, timed inside Python after loading the arrays:
#     StandardScaler + LogisticRegression per label with solver newton-cg,
#     tol 1e-10 (the optimum mg-fit reaches; the probabilities are compared),
#     and with the defaults (lbfgs, tol 1e-4, max_iter raised to 1000).
#  2. The C of one binary label chosen from a grid of 8 by 5-fold CV, refit:
#     mg-fit --grid … --cv 5 against LogisticRegressionCV(Cs=grid, cv=the same
#     folds, newton-cg, tol 1e-10); the chosen C is compared.
#  3. mg-fit --mlp 256 (ReLU, Adam, batches of 128, 3 epochs, 10% validation)
#     on the one-vs-rest embeddings, first label, against the same training
#     loop in PyTorch (float64 as mg-fit, one thread each: torch.set_num_threads
#     (1) beside -@1); the peer draws its own initial weights and batch order
#     (the same amount of work; tests/fit/mlp.sh checks they give the same
#     weights when they are the same draws).
# Sizes: MG_BENCH_FIT_N [100000], MG_BENCH_FIT_CV_N [20000],
# MG_BENCH_FIT_MLP_N [20000]; repeats MG_BENCH_FIT_REPEAT [3]; parts
# MG_BENCH_FIT_PARTS ["ovr cv mlp"]. Rows end with the load average.
set -u
PY=${PY:-/usr/bin/python3}
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${MG_BENCH_FIT_N:-100000}
NCV=${MG_BENCH_FIT_CV_N:-20000}
NMLP=${MG_BENCH_FIT_MLP_N:-20000}
PARTS=${MG_BENCH_FIT_PARTS:-ovr cv mlp}
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
REP=${MG_BENCH_FIT_REPEAT:-3}
D=1152
W=$(mktemp -d "${TMPDIR:-/tmp}/mgbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo nan; return 1; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
med() { printf '%s\n' "$@" | median; }
row() { printf '%s\t%.2f s\t%.2f s\t%.2fx\t%s; load %s\n' "$1" "$2" "$3" "$(echo "$3 / $2" | bc -l)" "$4" "$(load)"; }

PYTHONPATH="$TOP/examples" "$PY" - "$W" "$N" "$NCV" "$D" "$NMLP" "$PARTS" <<'PY'
import sys, numpy as np, mgt
W, n, ncv, d, nmlp, parts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6].split()
L = 5
r = np.random.default_rng(0)
for name, m in (("ovr", n), ("cv", ncv), ("mlp", nmlp)):
    if name not in parts:
        continue
    X = r.normal(size=(m, d)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Z = X.astype(np.float64) @ (r.normal(size=(d, L)) * 30) + r.normal(size=(m, L)) * 1.5
    Y = (Z > np.quantile(Z, [0.5, 0.7, 0.8, 0.9, 0.95], axis=0).diagonal()).astype(int)
    np.save(f"{W}/{name}_X.npy", X); np.save(f"{W}/{name}_Y.npy", Y)
    with open(f"{W}/{name}.mgt", "wb") as f:
        mgt.write(f, (({"id": "i%d" % i}, {"embedding": X[i]}) for i in range(m)))
    cols = L if name == "ovr" else 1
    if name == "mlp":
        np.save(f"{W}/{name}_y.npy", Y[:, 0])
    with open(f"{W}/{name}.tsv", "w") as f:
        f.write("id\t" + "\t".join("f%d" % j for j in range(cols)) + "\n")
        f.write("".join("i%d\t%s\n" % (i, "\t".join(map(str, Y[i, :cols]))) for i in range(m)))
PY
cat >"$W/peer.py" <<'PY'
import sys, time, warnings, numpy as np
warnings.simplefilter("ignore")
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.preprocessing import StandardScaler
W, what = sys.argv[1], sys.argv[2]
if what in ("exact", "default"):
    X = np.load(f"{W}/ovr_X.npy"); Y = np.load(f"{W}/ovr_Y.npy")
    t = time.perf_counter()
    Xs = StandardScaler().fit_transform(X.astype(np.float64))
    kw = dict(solver="newton-cg", tol=1e-10, max_iter=1000) if what == "exact" else dict(max_iter=1000)
    P = np.column_stack([LogisticRegression(C=1.0, **kw).fit(Xs, Y[:, j]).predict_proba(Xs)[:, 1] for j in range(Y.shape[1])])
    print(time.perf_counter() - t)
    np.save(f"{W}/peer_{what}.npy", P)
elif what == "mlp":
    import torch
    torch.set_num_threads(1); torch.manual_seed(0)
    X = np.load(f"{W}/mlp_X.npy").astype(np.float64); y = np.load(f"{W}/mlp_y.npy")
    t = time.perf_counter()
    Xs = torch.tensor((X - X.mean(0)) / X.std(0)); Y = torch.tensor(y, dtype=torch.float64)[:, None]
    perm = torch.randperm(len(X)); nv = len(X) // 10
    va, tr = perm[:nv], perm[nv:]
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 256), torch.nn.ReLU(), torch.nn.Linear(256, 1)).double()
    opt = torch.optim.Adam([{"params": [net[0].weight, net[2].weight], "weight_decay": 1e-4},
                            {"params": [net[0].bias, net[2].bias], "weight_decay": 0.0}], lr=1e-3)
    lossf = torch.nn.BCEWithLogitsLoss()
    for ep in range(3):
        o = tr[torch.randperm(len(tr))]
        for b in range(0, len(o), 128):
            i = o[b:b + 128]
            opt.zero_grad(); lossf(net(Xs[i]), Y[i]).backward(); opt.step()
        with torch.no_grad():
            lossf(net(Xs[va]), Y[va]).item()
    print(time.perf_counter() - t)
else:
    X = np.load(f"{W}/cv_X.npy"); y = np.load(f"{W}/cv_Y.npy")[:, 0]
    rows = [l.split() for l in open(f"{W}/folds.tsv")][1:]
    f = np.array([int(b) for a, b in rows]); idx = np.array([int(a[1:]) for a, b in rows])
    cv = [(np.sort(idx[f != k]), np.sort(idx[f == k])) for k in range(5)]
    grid = [float(g) for g in sys.argv[3].split(",")]
    t = time.perf_counter()
    Xs = StandardScaler().fit_transform(X.astype(np.float64))
    m = LogisticRegressionCV(Cs=grid, cv=cv, solver="newton-cg", tol=1e-10, max_iter=1000).fit(Xs, y)
    print(time.perf_counter() - t)
    open(f"{W}/peer_C.txt", "w").write(repr(m.C_[0]))
PY
# probabilities of a head on the training rows
cat >"$W/probs.py" <<'PY'
import sys, json, struct, numpy as np
W, head, peer = sys.argv[1:4]
X = np.load(f"{W}/ovr_X.npy").astype(np.float64)
b = open(f"{head}/head.safetensors", "rb").read(); n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
t = {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]).reshape(v["shape"])
     for k, v in h.items() if k != "__metadata__"}
P = 1 / (1 + np.exp(-(((X - t["norm.mean"]) / t["norm.scale"]) @ t["linear.weight"].T + t["linear.bias"])))
print("%.1e" % np.abs(P - np.load(peer)).max())
PY

# ---- 1. one-vs-rest, 5 labels, fixed C ----
if part ovr; then
m1=(); m2=(); pe=(); pd=()
for rep in $(seq "$REP"); do
    m1+=("$(secs mg-fit -q -@1 "$W/ovr.mgt" --labels "$W/ovr.tsv" --C 1 -o "$W/h1")")
    pe+=("$("$PY" "$W/peer.py" "$W" exact)")
    m2+=("$(secs mg-fit -q -@2 "$W/ovr.mgt" --labels "$W/ovr.tsv" --C 1 -o "$W/h2")")
    pd+=("$("$PY" "$W/peer.py" "$W" default)")
done
same=identical; cmp -s "$W/h1/head.safetensors" "$W/h2/head.safetensors" || same=DIFFERENT
de=$("$PY" "$W/probs.py" "$W" "$W/h1" "$W/peer_exact.npy")
dd=$("$PY" "$W/probs.py" "$W" "$W/h1" "$W/peer_default.npy")
pex=$(med "${pe[@]}"); pdf=$(med "${pd[@]}")
row "fit: one-vs-rest 5 labels, ${N}x$D, C=1, -@1 vs newton-cg tol 1e-10" "$(med "${m1[@]}")" "$pex" \
    "mg: whole process (stream, join, fit, head); peer: StandardScaler + 5 LogisticRegression after loading arrays; max |p - p_peer| $de"
row "fit: one-vs-rest 5 labels, ${N}x$D, C=1, -@2 vs newton-cg tol 1e-10" "$(med "${m2[@]}")" "$pex" "-@1 and -@2 heads $same"
row "fit: one-vs-rest 5 labels, ${N}x$D, C=1, -@1 vs lbfgs defaults" "$(med "${m1[@]}")" "$pdf" \
    "peer at its default tolerance (1e-4): max |p - p_peer| $dd"
fi

# ---- 2. 5-fold CV over 8 values of C, one label ----
if part cv; then
GRID=1e-4,1e-3,1e-2,0.1,1,10,100,1000
mc=(); pc=()
for rep in $(seq "$REP"); do
    mc+=("$(secs mg-fit -q "$W/cv.mgt" --labels "$W/cv.tsv" --grid $GRID --cv 5 --folds-out "$W/folds.tsv" --json "$W/cv.json" -o "$W/hc")")
    pc+=("$("$PY" "$W/peer.py" "$W" cv "$GRID")")
done
mine=$("$PY" -c "import json; print(repr(json.load(open('$W/cv.json'))['fits'][0]['C']))")
row "fit: 5-fold CV x 8 C + refit, ${NCV}x$D, 1 label" "$(med "${mc[@]}")" "$(med "${pc[@]}")" \
    "peer: LogisticRegressionCV(newton-cg, tol 1e-10) on the same folds; chosen C $mine (peer $(cat "$W/peer_C.txt"))"
fi

# ---- 3. MLP, 256 hidden units, 3 epochs ----
if part mlp; then
mm=(); pm=()
for rep in $(seq "$REP"); do
    mm+=("$(secs mg-fit -q -@1 "$W/mlp.mgt" --labels "$W/mlp.tsv" --mlp 256 --mlp-epochs 3 -o "$W/hm")")
    pm+=("$("$PY" "$W/peer.py" "$W" mlp)")
done
row "fit: MLP 256 ReLU, Adam, batch 128, 3 epochs, ${NMLP}x$D, 1 label, -@1" "$(med "${mm[@]}")" "$(med "${pm[@]}")" \
    "peer: the same loop in PyTorch float64, 1 thread, after loading arrays; mg: whole process"
fi

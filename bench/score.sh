#!/usr/bin/env bash
# mg-score speed beside Python peers doing the same job, measured in the same
# run; repeats are interleaved (mg, peer, mg, peer, ...) and medians reported.
#  1. ROC AUC with DeLong CI on 10M cases:
#     a. end to end from TSV: predictions (id, p) and truth (id, y) in two
#        files, joined by id — truth in the same order, then shuffled. mg:
#        wall time of the whole mg-score process (read, join, every
#        classification metric, DeLong CI, Youden), -@1 and -@2. Peer: pandas
#        read_csv of both files, merge on id with a one-to-one check,
#        sklearn roc_auc_score (no CI), timed inside Python after the imports.
#     b. computation only: mg's sort + metrics + DeLong + Youden (-v timings)
#        against roc_auc_score on arrays already in memory.
#     c. end to end from an mgt prediction stream (1M records: tensor "pred",
#        metadata id and y): whole mg-score process against examples/mgt.py
#        reading the same stream + roc_auc_score (after the imports).
#  2. 1000 bootstrap replicates on 100k cases, -@1 and -@2 (outputs compared
#     byte for byte), against a numpy/scikit-learn bootstrap loop of the AUC.
set -u
PY=${PY:-/usr/bin/python3}
TOP=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/mgbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo nan; return 1; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
med() { printf '%s\n' "$@" | median; }
row() { printf '%s\t%.2f s\t%.2f s\t%.2fx\t%s\n' "$1" "$2" "$3" "$(echo "$3 / $2" | bc -l)" "$4"; }
have_pandas=0; "$PY" -c 'import pandas' 2>/dev/null && have_pandas=1

"$PY" - "$W" <<'PY'
import sys, numpy as np
W = sys.argv[1]
for name, n in (("big", 10_000_000), ("boot", 100_000)):
    r = np.random.default_rng(0)
    y = (r.random(n) < 0.3).astype(np.int8)
    p = np.round(np.clip(0.2 * y + r.random(n) * 0.8, 0, 1), 4)
    np.save(f"{W}/{name}_y.npy", y); np.save(f"{W}/{name}_p.npy", p)
    order = r.permutation(n)
    with open(f"{W}/{name}.tsv", "w") as f, open(f"{W}/{name}_pred.tsv", "w") as fp, \
         open(f"{W}/{name}_truth.tsv", "w") as ft:
        f.write("id\tp\ty\n"); fp.write("id\tp\n"); ft.write("id\ty\n")
        for s in range(0, n, 1_000_000):
            e = min(n, s + 1_000_000)
            ids = [f"i{i}" for i in range(s, e)]
            ps = [f"{x:.4f}" for x in p[s:e].tolist()]; ys = [str(x) for x in y[s:e].tolist()]
            f.write("".join(f"{a}\t{b}\t{c}\n" for a, b, c in zip(ids, ps, ys)))
            fp.write("".join(f"{a}\t{b}\n" for a, b in zip(ids, ps)))
            ft.write("".join(f"{a}\t{b}\n" for a, b in zip(ids, ys)))
    if name == "big":
        yl = y.tolist()
        with open(f"{W}/big_truth_shuf.tsv", "w") as ft:
            ft.write("id\ty\n")
            for s in range(0, n, 1_000_000):
                ft.write("".join(f"i{i}\t{yl[i]}\n" for i in order[s:s + 1_000_000].tolist()))
PY
PYTHONPATH="$TOP/examples" "$PY" - "$W" <<'PY'
import sys, numpy as np, mgt
W = sys.argv[1]; n = 1_000_000
r = np.random.default_rng(1)
y = (r.random(n) < 0.3).astype(np.int8)
p = np.round(np.clip(0.2 * y + r.random(n) * 0.8, 0, 1), 4).astype(np.float32)
with open(f"{W}/pred.mgt", "wb") as f:
    mgt.write(f, (({"id": f"i{i}", "y": str(int(y[i]))}, {"pred": p[i:i + 1].reshape(())})
                  for i in range(n)), prov=["bench\t1\tgen"])
PY
cat >"$W/peer_tsv.py" <<'PY'
import sys, time
import pandas as pd
from sklearn.metrics import roc_auc_score
t = time.perf_counter()
p = pd.read_csv(sys.argv[1], sep="\t", dtype={"id": str})
y = pd.read_csv(sys.argv[2], sep="\t", dtype={"id": str})
m = p.merge(y, on="id", how="inner", validate="one_to_one")
roc_auc_score(m["y"].to_numpy(), m["p"].to_numpy())
print(time.perf_counter() - t)
PY
cat >"$W/peer_mgt.py" <<'PY'
import sys, time
import numpy as np, mgt
from sklearn.metrics import roc_auc_score
t = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    prov, recs = mgt.read(f)
ids = [m["id"] for m, _ in recs]
assert len(set(ids)) == len(ids)
y = np.array([int(m["y"]) for m, _ in recs]); p = np.array([float(x["pred"]) for _, x in recs])
roc_auc_score(y, p)
print(time.perf_counter() - t)
PY

# ---- 1a. end to end from TSV, 10M ----
if [ "$have_pandas" = 1 ]; then
    for truth in big_truth big_truth_shuf; do
        m1=(); m2=(); pk=()
        for rep in 1 2 3; do
            m1+=("$(secs mg-score classify "$W/big_pred.tsv" "$W/$truth.tsv" -@1)")
            m2+=("$(secs mg-score classify "$W/big_pred.tsv" "$W/$truth.tsv" -@2)")
            pk+=("$("$PY" "$W/peer_tsv.py" "$W/big_pred.tsv" "$W/$truth.tsv")")
        done
        what="same order"; [ "$truth" = big_truth_shuf ] && what="shuffled"
        p=$(med "${pk[@]}")
        row "score: AUC+DeLong CI, 10M, pred+truth TSV joined ($what), -@1" "$(med "${m1[@]}")" "$p" \
            "mg: whole process (read, join, all metrics, DeLong CI); peer: pandas read_csv x2 + merge(one_to_one) + roc_auc_score, after imports"
        row "score: AUC+DeLong CI, 10M, pred+truth TSV joined ($what), -@2" "$(med "${m2[@]}")" "$p" "as above, 2 threads for reading and joining"
    done
else
    printf 'score: AUC, 10M, TSV end to end\t-\t-\t-\tskipped: python3-pandas not installed\n'
fi

# ---- 1b. computation only, 10M ----
comp=(); sk=()
for rep in 1 2 3; do
    mg-score classify "$W/big.tsv" --label-col y -v >/dev/null 2>"$W/err.txt" || { echo "mg-score failed" >&2; exit 1; }
    comp+=("$(awk '/sorted and computed|DeLong, Youden/ {s += $(NF-1)} END {print s}' "$W/err.txt")")
    sk+=("$("$PY" -c "
import time, numpy as np
from sklearn.metrics import roc_auc_score
y = np.load('$W/big_y.npy'); p = np.load('$W/big_p.npy')
t = time.perf_counter(); roc_auc_score(y, p); print(time.perf_counter() - t)")")
done
row "score: AUC+DeLong CI, 10M, computation only" "$(med "${comp[@]}")" "$(med "${sk[@]}")" \
    "mg: sort + all classification metrics + DeLong + Youden (-v timings); peer: roc_auc_score on arrays in memory (no CI)"

# ---- 1c. end to end from an mgt stream, 1M ----
ms=(); ps=()
for rep in 1 2 3; do
    ms+=("$(secs mg-score classify "$W/pred.mgt" --label-col y)")
    ps+=("$(PYTHONPATH="$TOP/examples" "$PY" "$W/peer_mgt.py" "$W/pred.mgt")")
done
row "score: AUC+DeLong CI, 1M, mgt prediction stream" "$(med "${ms[@]}")" "$(med "${ps[@]}")" \
    "mg: whole process; peer: examples/mgt.py read + id check + roc_auc_score, after imports"

# ---- 2. bootstrap, 1000 x 100k ----
b1=(); b2=(); pk=()
for rep in 1 2 3; do
    b1+=("$(secs mg-score classify "$W/boot.tsv" --label-col y --bootstrap 1000 --seed 7 -@1 --no-version --json "$W/b1.json")")
    b2+=("$(secs mg-score classify "$W/boot.tsv" --label-col y --bootstrap 1000 --seed 7 -@2 --no-version --json "$W/b2.json")")
    pk+=("$("$PY" -c "
import time, numpy as np
from sklearn.metrics import roc_auc_score
y = np.load('$W/boot_y.npy'); p = np.load('$W/boot_p.npy'); n = len(y)
r = np.random.default_rng(7); t = time.perf_counter(); v = []
for b in range(1000):
    i = r.integers(0, n, n)
    if y[i].min() != y[i].max(): v.append(roc_auc_score(y[i], p[i]))
np.percentile(v, [2.5, 97.5]); print(time.perf_counter() - t)")")
done
same=identical; cmp -s "$W/b1.json" "$W/b2.json" || same=DIFFERENT
p=$(med "${pk[@]}")
row "score: bootstrap 1000 x 100k, -@1" "$(med "${b1[@]}")" "$p" "mg: every classification metric per replicate; peer: AUC only, numpy + sklearn loop"
row "score: bootstrap 1000 x 100k, -@2" "$(med "${b2[@]}")" "$p" "-@1 and -@2 JSON $same"

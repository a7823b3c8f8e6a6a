#!/usr/bin/env bash
# mg-score speed beside scikit-learn, measured in the same run (medians of 3):
#  1. ROC AUC with DeLong CI on 10M scores: mg-score classify end to end (TSV
#     parse, all classification metrics, DeLong, Youden) and its compute part
#     (-v timings), against sklearn.metrics.roc_auc_score on in-memory arrays.
#  2. 1000 bootstrap replicates on 100k cases, -@1 and -@2 (outputs compared
#     byte for byte), against a numpy/scikit-learn bootstrap loop of the AUC.
set -u
PY=${PY:-/usr/bin/python3}
W=$(mktemp -d "${TMPDIR:-/tmp}/mgbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || return 1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

"$PY" - "$W" <<'PY'
import sys, numpy as np
W = sys.argv[1]
for name, n in (("big", 10_000_000), ("boot", 100_000)):
    r = np.random.default_rng(0)
    y = (r.random(n) < 0.3).astype(np.int8)
    p = np.round(np.clip(0.2 * y + r.random(n) * 0.8, 0, 1), 4)
    np.save(f"{W}/{name}_y.npy", y); np.save(f"{W}/{name}_p.npy", p)
    with open(f"{W}/{name}.tsv", "w") as f:
        f.write("id\tp\ty\n")
        for s in range(0, n, 1_000_000):
            e = min(n, s + 1_000_000)
            f.write("".join(f"i{i}\t{pp:.4f}\t{yy}\n" for i, pp, yy in
                            zip(range(s, e), p[s:e].tolist(), y[s:e].tolist())))
PY

# ---- 1. AUC + DeLong on 10M ----
mg=(); comp=(); sk=()
for rep in 1 2 3; do
    t0=$(date +%s.%N)
    mg-score classify "$W/big.tsv" --label-col y -v >"$W/out.txt" 2>"$W/err.txt" || { echo "mg-score failed" >&2; exit 1; }
    t1=$(date +%s.%N)
    mg+=("$(echo "$t1 - $t0" | bc -l)")
    comp+=("$(awk '/sorted and computed|DeLong, Youden/ {s += $(NF-1)} END {print s}' "$W/err.txt")")
    sk+=("$("$PY" -c "
import time, numpy as np
from sklearn.metrics import roc_auc_score
y = np.load('$W/big_y.npy'); p = np.load('$W/big_p.npy')
t = time.perf_counter(); roc_auc_score(y, p); print(time.perf_counter() - t)")")
done
m=$(printf '%s\n' "${mg[@]}" | median); c=$(printf '%s\n' "${comp[@]}" | median); s=$(printf '%s\n' "${sk[@]}" | median)
printf 'score: AUC+DeLong CI, 10M, end to end (TSV)\t%.2f s\t%.2f s\t%.2fx\tpeer: sklearn roc_auc_score on arrays already in memory (no parsing, no CI)\n' "$m" "$s" "$(echo "$s / $m" | bc -l)"
printf 'score: AUC+DeLong CI, 10M, compute\t%.2f s\t%.2f s\t%.2fx\tmg: sort + all classification metrics + DeLong + Youden (-v timings)\n' "$c" "$s" "$(echo "$s / $c" | bc -l)"

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
x1=$(printf '%s\n' "${b1[@]}" | median); x2=$(printf '%s\n' "${b2[@]}" | median); p=$(printf '%s\n' "${pk[@]}" | median)
printf 'score: bootstrap 1000 x 100k, -@1\t%.2f s\t%.2f s\t%.2fx\tmg: every classification metric per replicate; peer: AUC only, numpy + sklearn loop\n' "$x1" "$p" "$(echo "$p / $x1" | bc -l)"
printf 'score: bootstrap 1000 x 100k, -@2\t%.2f s\t%.2f s\t%.2fx\t-@1 and -@2 JSON %s\n' "$x2" "$p" "$(echo "$p / $x2" | bc -l)" "$same"

#!/usr/bin/env bash
# mg-fit output is the same bytes for -@ 1 and -@ 2 (fixed-order reductions),
# with cross-validation, on every task; and the same again for the same seed.
source "$(dirname "$0")/../lib.sh"
cd "$T"
PYTHONPATH="$TOP/examples" "$PY" - <<'PY'
import numpy as np, mgt
r = np.random.default_rng(3)
n, d = 5000, 40            # several reduction blocks and Hessian partitions
X = r.normal(size=(n, d)).astype(np.float32)
Z = X @ r.normal(size=(d, 3)) * 0.3 + r.normal(size=(n, 3))
with open("x.mgt", "wb") as f:
    mgt.write(f, [({"id": "r%d" % i}, {"embedding": X[i]}) for i in range(n)])
with open("bin.tsv", "w") as f:
    f.write("id\ty\n" + "".join("r%d\t%d\n" % (i, Z[i, 0] > 0) for i in range(n)))
with open("mc.tsv", "w") as f:
    f.write("id\tc\n" + "".join("r%d\tk%d\n" % (i, Z[i].argmax()) for i in range(n)))
with open("ml.tsv", "w") as f:
    f.write("id\ta\tb\n" + "".join("r%d\t%d\t%d\n" % (i, Z[i, 0] > 0, Z[i, 1] > 1) for i in range(n)))
with open("rg.tsv", "w") as f:
    f.write("id\tv\n" + "".join("r%d\t%.6f\n" % (i, Z[i, 2]) for i in range(n)))
PY
for t in bin mc ml rg; do
    ok=1
    for th in 1 2; do
        mg-fit -q -@ $th x.mgt --labels $t.tsv --grid 0.01,1,100 --cv 3 --json $t.$th.json -o h_$t.$th || ok=0
    done
    if [ $ok = 1 ] && cmp -s h_$t.1/head.safetensors h_$t.2/head.safetensors && cmp -s $t.1.json $t.2.json \
       && cmp -s h_$t.1/config.json h_$t.2/config.json; then pass "same_head_for_1_and_2_threads_$t"
    else fail "same_head_for_1_and_2_threads_$t" "outputs differ"; fi
done
mg-fit -q x.mgt --labels bin.tsv --seed 5 --folds-out f1.tsv -o h_s1 && mg-fit -q x.mgt --labels bin.tsv --seed 5 --folds-out f2.tsv -o h_s1b \
  && mg-fit -q x.mgt --labels bin.tsv --seed 6 --folds-out f3.tsv -o h_s3
if cmp -s f1.tsv f2.tsv && ! cmp -s f1.tsv f3.tsv && cmp -s h_s1/head.safetensors h_s1b/head.safetensors; then
    pass same_seed_same_folds_other_seed_other_folds
else fail same_seed_same_folds_other_seed_other_folds "fold files"; fi
# an existing head directory is replaced whole
mg-fit -q x.mgt --labels rg.tsv --alpha 1 -o h_s1 && grep -q '"regression"' h_s1/config.json \
  && [ "$(ls -d h_s1* | wc -l)" = 2 ] && pass existing_head_replaced || fail existing_head_replaced "$(ls)"

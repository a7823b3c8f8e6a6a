#!/usr/bin/env bash
# mg-fit --mlp: trained weights against torch.optim.Adam on the same batches
# and the head's forward against torch modules (ref_mlp.py); the same head
# for -@ 1 and -@ 2 and for the same seed; option errors.
source "$(dirname "$0")/../lib.sh"
if ! have_py torch; then skip mlp_vs_torch "python3-torch not installed"
else "$PY" "$TOP/tests/fit/ref_mlp.py" "$T" || fail mlp_reference_script "exited $?"; fi
cd "$T"
PYTHONPATH="$TOP/examples" "$PY" - <<'PY'
import numpy as np, mgt
r = np.random.default_rng(5)
n, d = 3000, 24              # batches of several blocks, validation in several chunks
X = r.normal(size=(n, d)).astype(np.float32)
Z = np.tanh(X @ r.normal(size=(d, 2))) + r.normal(size=(n, 2)) * 0.3
with open("x.mgt", "wb") as f:
    mgt.write(f, [({"id": "r%d" % i}, {"embedding": X[i]}) for i in range(n)])
with open("mc.tsv", "w") as f:
    f.write("id\tc\n" + "".join("r%d\tk%d\n" % (i, (Z[i, 0] > 0) + (Z[i, 1] > 0.5)) for i in range(n)))
PY
ok=1
for th in 1 2; do
    mg-fit -q -@ $th x.mgt --labels mc.tsv --mlp 40 --mlp-epochs 3 --mlp-val 0.7 --seed 9 --json m$th.json -o h$th || ok=0
done
if [ $ok = 1 ] && cmp -s h1/head.safetensors h2/head.safetensors && cmp -s m1.json m2.json; then
    pass mlp_same_head_for_1_and_2_threads
else fail mlp_same_head_for_1_and_2_threads "outputs differ"; fi
mg-fit -q x.mgt --labels mc.tsv --mlp 40 --mlp-epochs 3 --seed 10 -o h3
if ! cmp -s h1/head.safetensors h3/head.safetensors; then pass mlp_other_seed_other_head
else fail mlp_other_seed_other_head "same bytes"; fi
expect_error mlp_usage_excludes_grid 2 'excludes' mg-fit x.mgt --labels mc.tsv --mlp 8 --grid 1,2 -o hb
expect_error mlp_usage_options_need_mlp 2 'need --mlp' mg-fit x.mgt --labels mc.tsv --mlp-lr 0.1 -o hb
expect_error mlp_usage_bad_hidden 2 'mlp: a positive integer' mg-fit x.mgt --labels mc.tsv --mlp 0 -o hb
expect_error mlp_usage_bad_val 2 'mlp-val' mg-fit x.mgt --labels mc.tsv --mlp 8 --mlp-val 1 -o hb
printf 'id\tb\nr0\t0\nr1\t1\nr2\t0\nr3\t1\n' >tiny.tsv
expect_error mlp_no_validation_rows 1 'no validation rows' mg-fit -q x.mgt --labels tiny.tsv --mlp 8 --mlp-val 0.1 -o hb
[ ! -e hb ] && pass mlp_errors_write_nothing || fail mlp_errors_write_nothing "$(ls)"
# a head whose hidden layer does not fit its config is refused
cp -r h1 hw && "$PY" - <<'PY'
import json; c = json.load(open("hw/config.json")); c["hidden_size"] = 41; json.dump(c, open("hw/config.json", "w"))
PY
expect_error mlp_head_shapes_inconsistent 1 "hidden.weight" mg-decode classify -m hw x.mgt

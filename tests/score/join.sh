#!/usr/bin/env bash
# mg-score's id join on tables large enough to be split across threads
# (300k rows): shuffled and same-order truth files, ids missing on either
# side, CRLF lines, no final newline, numbers in exponent notation. The
# reference is a Python dict join and sklearn.metrics.roc_auc_score; -@1,
# -@2 and -@3 must give byte-identical JSON and missing-id lists.
source "$(dirname "$0")/../lib.sh"
cd "$T"
have_py sklearn || { skip join_matches_python_dict_join "no scikit-learn"; exit 0; }

"$PY" - <<'PY'
import random
r = random.Random(5)
n = 300_000
ids = [f"case-{i:07d}" if i % 3 else f"ü{i}" if i % 2 else f"s{i}-{'x' * (i % 23)}" for i in range(n)]
p = {i: (f"{r.random():.6g}" if k % 5 else f"{r.random() * 1e3:.17g}e-3") for k, i in enumerate(ids)}
y = {i: str(int(r.random() < 0.3)) for i in ids}
pred_ids = [i for k, i in enumerate(ids) if k % 97 != 5]          # some ids without prediction
truth_ids = [i for k, i in enumerate(ids) if k % 89 != 3] + [f"extra{k}" for k in range(50)]
for k in range(50): y[f"extra{k}"] = "1"
with open("pred.tsv", "w", newline="") as f:
    f.write("id\tp\n" + "".join(f"{i}\t{p[i]}\n" for i in pred_ids).rstrip("\n"))
shuf = truth_ids[:]; r.shuffle(shuf)
with open("truth_shuf.tsv", "w", newline="") as f:
    f.write("id\ty\r\n" + "".join(f"{i}\t{y[i]}\r\n" for i in shuf))
ts, ps = set(truth_ids), set(pred_ids)
common = [i for i in pred_ids if i in ts]
with open("p_same.tsv", "w") as f: f.write("id\tp\n" + "".join(f"{i}\t{p[i]}\n" for i in common))
with open("y_same.tsv", "w") as f: f.write("id\ty\n" + "".join(f"{i}\t{y[i]}\n" for i in common))
# the missing-id list of the reference: predictions first, then truth, file order
with open("miss_want.tsv", "w") as f:
    f.write("side\tid\n" + "".join(f"predictions\t{i}\n" for i in pred_ids if i not in ts)
            + "".join(f"truth\t{i}\n" for i in shuf if i not in ps))
from sklearn.metrics import roc_auc_score
auc = roc_auc_score([int(y[i]) for i in common], [float(p[i]) for i in common])
open("auc_want.txt", "w").write(repr(auc) + "\n" + str(len(common)) + "\n")
PY

for t in 1 2 3; do
    mg-score classify -q -@$t --no-version pred.tsv truth_shuf.tsv --json shuf$t.json --missing miss$t.tsv >/dev/null 2>err$t.txt
    mg-score classify -q -@$t --no-version p_same.tsv y_same.tsv --json same$t.json >/dev/null 2>>err$t.txt
done
"$PY" - <<'PY' && pass shuffled_join_matches_python_dict_join || fail shuffled_join_matches_python_dict_join "$(cat err1.txt)"
import json
want, n = open("auc_want.txt").read().split()
j = json.load(open("shuf1.json"))
auc = j["metrics"]["auc"] if "auc" in j["metrics"] else j["metrics"]["roc_auc"]
auc = auc["value"] if isinstance(auc, dict) else auc
assert j["n"] == int(n), (j["n"], n)
assert abs(auc - float(want)) <= 1e-12, (auc, want)
PY
cmp -s miss1.tsv miss_want.tsv && pass missing_ids_listed_like_python || fail missing_ids_listed_like_python "$(diff miss1.tsv miss_want.tsv | head -3)"
ok=1; for t in 2 3; do cmp -s shuf1.json shuf$t.json && cmp -s same1.json same$t.json && cmp -s miss1.tsv miss$t.tsv || ok=0; done
[ $ok = 1 ] && pass join_output_identical_for_any_threads || fail join_output_identical_for_any_threads "JSON or missing list differs between -@"
"$PY" - <<'PY' && pass same_order_join_equals_shuffled_join || fail same_order_join_equals_shuffled_join
import json
a, b = json.load(open("shuf1.json")), json.load(open("same1.json"))
assert a["metrics"] == b["metrics"] and a["n"] == b["n"]
PY

# a repeated id deep in same-order files is found on any thread count
awk 'NR == 250001 { $0 = prev } { print; prev = $0 }' p_same.tsv >p_dup.tsv
awk 'NR == 250001 { $0 = prev } { print; prev = $0 }' y_same.tsv >y_dup.tsv
dupid=$(sed -n 250001p p_dup.tsv | cut -f1)
for t in 1 2; do
    expect_error "duplicated_id_in_same_order_files_-@$t" 1 "error: p_dup.tsv: duplicated id '$dupid'" mg-score classify -@$t p_dup.tsv y_dup.tsv
    expect_error "duplicated_truth_id_in_shuffled_join_-@$t" 1 "error: y_dup.tsv: duplicated id '$dupid'" mg-score classify -@$t p_same.tsv y_dup.tsv
done

#!/usr/bin/env bash
# Bad input to mg-fit and mg-decode classify: one error line, exit 1 (usage:
# 2), and nothing written — no head directory, no prediction file.
source "$(dirname "$0")/../lib.sh"
cd "$T"
PYTHONPATH="$TOP/examples" "$PY" - <<'PY'
import numpy as np, mgt
r = np.random.default_rng(5)
n = 60
X = r.normal(size=(n, 6)).astype(np.float32)
def w(path, recs):
    with open(path, "wb") as f: mgt.write(f, recs)
w("x.mgt", [({"id": "a%d" % i}, {"embedding": X[i]}) for i in range(n)])
w("x8.mgt", [({"id": "a%d" % i}, {"embedding": np.zeros(8, np.float32)}) for i in range(n)])
w("prs.mgt", [({"id": "a%d" % i}, {"prs": X[i].reshape(1, 2, 3)}) for i in range(n)])
w("shape.mgt", [({"id": "a%d" % i}, {"embedding": X[i][: 6 if i < 5 else 5]}) for i in range(n)])
w("nan.mgt", [({"id": "a%d" % i}, {"embedding": X[i] * (np.nan if i == 3 else 1)}) for i in range(n)])
w("dup.mgt", [({"id": "a%d" % min(i, 10)}, {"embedding": X[i]}) for i in range(n)])
b = open("x.mgt", "rb").read()
open("trunc.mgt", "wb").write(b[: len(b) - 30])
y = (X[:, 0] > 0).astype(int)
open("y.tsv", "w").write("id\ty\n" + "".join("a%d\t%d\n" % (i, y[i]) for i in range(n)))
open("words.tsv", "w").write("id\tv\n" + "".join("a%d\t%s\n" % (i, "high" if i == 7 else "%.3f" % X[i, 1]) for i in range(n)))
open("ml2.tsv", "w").write("id\tp\tq\n" + "".join("a%d\t%d\t%d\n" % (i, y[i], 2 if i == 9 else 1 - y[i]) for i in range(n)))
open("mlw.tsv", "w").write("id\tp\tq\n" + "".join("a%d\t%d\t%s\n" % (i, y[i], "yes" if i == 9 else "1") for i in range(n)))
open("empty.tsv", "w").write("id\ty\n" + "".join("a%d\t%s\n" % (i, "" if i == 4 else str(y[i])) for i in range(n)))
open("rare.tsv", "w").write("id\ty\n" + "".join("a%d\t%d\n" % (i, i < 3) for i in range(n)))
open("one.tsv", "w").write("id\ty\n" + "".join("a%d\t1\n" % i for i in range(n)))
open("other.tsv", "w").write("id\ty\n" + "".join("b%d\t%d\n" % (i, i % 2) for i in range(n)))
open("duplab.tsv", "w").write("id\ty\n" + "".join("a%d\t%d\n" % (min(i, 20), y[i]) for i in range(n)))
open("part.tsv", "w").write("id\ty\n" + "".join("%s%d\t%d\n" % ("a" if i < 50 else "z", i, y[i]) for i in range(n)))
PY
nohead() { [ ! -e "$1" ] && [ -z "$(ls -d "$1".tmp* 2>/dev/null)" ]; }
fit_err() {  # fit_err NAME PATTERN ARGS...: exit 1, one line, no head
    local name=$1 pat=$2; shift 2
    expect_error "$name" 1 "$pat" mg-fit "$@" -o head_bad
    nohead head_bad || fail "${name}_writes_nothing" "$(ls)"
}
fit_err labels_not_numbers 'words.tsv: id a7: label .high. in column v is not a number' x.mgt --labels words.tsv --task regression
fit_err multilabel_value_not_0_or_1 'ml2.tsv: id a9: label .2. in column q is not 0 or 1' x.mgt --labels ml2.tsv --task multilabel
fit_err several_columns_not_classes 'mlw.tsv: several label columns must hold 0/1' x.mgt --labels mlw.tsv
fit_err empty_label 'empty.tsv: id a4: empty label' x.mgt --labels empty.tsv
fit_err class_without_examples_in_a_fold "rare.tsv: class '1' has no examples in fold [0-9] \\(3 example\\(s\\) for 5 folds\\)" x.mgt --labels rare.tsv --cv 5
fit_err one_class_only 'one.tsv: column y has one class only' x.mgt --labels one.tsv
fit_err binary_task_with_three_classes 'a binary task needs 2' x.mgt --labels words.tsv --task binary
fit_err missing_ids_only 'other.tsv: no id in common' x.mgt --labels other.tsv
fit_err duplicate_label_id 'duplab.tsv: .*a20' x.mgt --labels duplab.tsv
fit_err duplicate_stream_id 'dup.mgt: .*a10' dup.mgt --labels y.tsv
fit_err truncated_stream 'trunc.mgt: .*truncated' trunc.mgt --labels y.tsv
fit_err no_such_input_tensor "prs.mgt: record 1 \\(id a0\\): no tensor 'embedding'" prs.mgt --labels y.tsv
fit_err tensor_changes_shape "shape.mgt: record 6 \\(id a5\\): tensor 'embedding' changes shape" shape.mgt --labels y.tsv
fit_err value_not_finite 'nan.mgt: record 4 \(id a3\): .*not finite' nan.mgt --labels y.tsv
fit_err no_label_column "y.tsv: no label column 'zz'" x.mgt --labels y.tsv --label-col zz
expect_error usage_labels_required 2 'labels is required' mg-fit x.mgt -o head_bad
expect_error usage_C_for_regression 2 'regression takes --alpha' mg-fit -q x.mgt --labels ml2.tsv --C 1 -o head_bad
expect_error usage_bad_grid 2 'grid' mg-fit x.mgt --labels y.tsv --grid 1,-2 -o head_bad
expect_error usage_bad_task 2 'task' mg-fit x.mgt --labels y.tsv --task ordinal -o head_bad
nohead head_bad && pass usage_errors_write_nothing || fail usage_errors_write_nothing "$(ls)"
# an existing file that is not a head is not replaced
echo keep >notahead
expect_error output_not_a_head_dir 1 'notahead: exists and is not a head directory' mg-fit -q x.mgt --labels y.tsv --C 1 -o notahead
[ "$(cat notahead)" = keep ] && pass output_not_a_head_dir_kept || fail output_not_a_head_dir_kept "changed"
# ids on one side only: warnings naming both files, the fit goes on
mg-fit x.mgt --labels part.tsv --C 1 -o head_part 2>part.err
if [ -f head_part/head.safetensors ] && grep -q 'x.mgt: 10 id(s) without a label (first: a50)' part.err \
   && grep -q 'part.tsv: 10 id(s) without a record (first: z50)' part.err; then pass missing_ids_warned_on_both_sides
else fail missing_ids_warned_on_both_sides "$(cat part.err)"; fi
# mg-decode classify: the stream must be what the head was fitted on
mg-fit -q x.mgt --labels y.tsv --C 1 -o head || fail fit_for_decode "mg-fit failed"
dec_err() {
    local name=$1 pat=$2; shift 2
    expect_error "$name" 1 "$pat" mg-decode classify -m head "$@" -o pred.tsv
    [ ! -e pred.tsv ] && [ -z "$(ls pred.tsv.tmp* 2>/dev/null)" ] || fail "${name}_writes_nothing" "$(ls)"
}
dec_err decode_dimension_mismatch "x8.mgt: record 1 \\(id a0\\): tensor 'embedding' has 8 values, the head was fitted on 6" x8.mgt
dec_err decode_input_name_mismatch "prs.mgt: record 1 \\(id a0\\): no tensor 'embedding'" prs.mgt
dec_err decode_truncated_stream 'trunc.mgt: .*truncated' trunc.mgt
dec_err decode_dimension_changes_midway "shape.mgt: record 6 \\(id a5\\): tensor 'embedding' has 5 values" shape.mgt
expect_error decode_not_a_head 1 'y.tsv: config.json' mg-decode classify -m y.tsv x.mgt
cp -r head head_t && printf '{"model_type": "siglip"}' >head_t/config.json
expect_error decode_wrong_model_type 1 "model_type 'siglip' is not a head" mg-decode classify -m head_t x.mgt
cp -r head head_w && "$PY" - <<'PY'
import json; c = json.load(open("head_w/config.json")); c["input_dim"] = 7; c["input_shape"] = [7]
json.dump(c, open("head_w/config.json", "w"))
PY
expect_error decode_head_shapes_inconsistent 1 'linear.weight|norm.mean' mg-decode classify -m head_w x.mgt
expect_error decode_usage_model_required 2 'required' mg-decode classify x.mgt
expect_error decode_unknown_mode 2 "unknown command 'guess'" mg-decode guess x.mgt

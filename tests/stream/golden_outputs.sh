#!/usr/bin/env bash
# mg-stream's text and binary outputs against committed expected files.
source "$(dirname "$0")/../lib.sh"
E="$TOP/tests/stream/expected"
export PYTHONPATH="$TOP/examples"
"$PY" - "$T" <<'PY'
import sys, mgt, numpy as np
t = sys.argv[1]
mgt.write(open(f"{t}/g.mgt", "wb"), [
    ({"id": "ct-001", "modality": "CT", "spacing": "0.7,0.7,1.25"}, {"volume": np.zeros((4, 8, 8), np.float32)}),
    ({"id": "cxr-002", "modality": "CXR"}, {"image": np.zeros((3, 16, 16), np.uint8), "mask": np.zeros((16, 16), np.uint8)}),
    ({"id": "emb-003"}, {"embedding": np.arange(1152, dtype=np.float32)}),
], prov=["mg-preprocess\t0.1.0\tmg-preprocess --preset ct-clip ct.nii.gz"])
PY
golden() {
    local name=$1 file=$2; shift 2
    if [ -n "${MG_REDO_EXPECTED:-}" ]; then "$@" >"$E/$file"; fi
    "$@" >"$T/out" 2>"$T/err" && diff -u "$E/$file" "$T/out" >"$T/diff" && pass "$name" || fail "$name" "$(head -c 400 "$T/diff" "$T/err" | tr '\n' '|')"
}
cd "$T"
golden info_summary info.expected mg-stream info g.mgt
golden info_two_records info-n1.expected mg-stream info -n 1 g.mgt
golden head_then_info head.expected bash -c "mg-stream head --no-version -s 1 -n 1 g.mgt | mg-stream info -"
# Byte-level: the same records always encode to the same bytes.
mg-stream cat --no-version g.mgt -o c.mgt
cmp -s g.mgt c.mgt && pass cat_reproduces_python_bytes || fail cat_reproduces_python_bytes
# Two independent encoders, the C writer and examples/mgt.py, give identical bytes.
"$PY" - "$T" <<'PY'
import sys, mgt, numpy as np
t = sys.argv[1]
arrs = {"a": np.arange(70, dtype=np.int16).reshape(7, 10), "b": np.linspace(0, 1, 9, dtype=np.float64)}
for k, v in arrs.items():
    np.save(f"{t}/{k}.npy", v)
mgt.write(open(f"{t}/py.mgt", "wb"), [({"id": k, "modality": "MR"}, {"image": v}) for k, v in arrs.items()])
PY
mg-stream import --no-version -m modality=MR a.npy b.npy -o c2.mgt
cmp -s py.mgt c2.mgt && pass c_and_python_writers_agree_bytewise || fail c_and_python_writers_agree_bytewise

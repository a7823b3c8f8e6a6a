#!/usr/bin/env bash
# Reliability matrix: every program against damaged inputs (truncated at
# several points, a byte changed at several places, empty, garbage) and
# against faults (full disk, unwritable directory, file size limit, a killed
# run). Each damaged input must be answered by exit 0 (damage the format
# cannot see, e.g. a changed voxel of an uncompressed NIfTI) or by exit 1
# with exactly one stderr line; never a crash. A fault must end in a non-zero
# exit. Nothing may be left behind by a failed run.
#
#   tests/reliability/run.sh --full   (make reliability) the whole matrix
#   tests/reliability/run.sh          a small smoke run, part of make test
# Prints PASS/FAIL lines and the figures.
source "$(dirname "$0")/../lib.sh"
FULL=0; [ "${1:-}" = --full ] && FULL=1
cd "$T"
for m in numpy nibabel PIL; do have_py $m || { skip reliability "python3 module $m missing"; exit 0; }; done

"$PY" - <<'PY'
import numpy as np, nibabel as nib
from PIL import Image
rng = np.random.default_rng(3)
Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save("in.png")
Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save("in.jpg", quality=80)
nib.save(nib.Nifti1Image(rng.normal(size=(16, 16, 8)).astype(np.float32), np.eye(4)), "in.nii")
nib.save(nib.Nifti1Image(rng.normal(size=(16, 16, 8)).astype(np.float32), np.eye(4)), "in.nii.gz")
np.save("in.npy", rng.normal(size=(3, 32, 32)).astype(np.float32))
n = 60
with open("pred.tsv", "w") as f:
    f.write("id\tp\n" + "".join("c%d\t%.6f\n" % (i, rng.random()) for i in range(n)))
with open("truth.tsv", "w") as f:
    f.write("id\ty\n" + "".join("c%d\t%d\n" % (i, i % 3 == 0) for i in range(n)))
with open("in.vcf", "w") as f:
    f.write("##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n")
    f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join("s%d" % i for i in range(8)) + "\n")
    for v in range(30):
        f.write("1\t%d\trs%d\tA\tG\t.\t.\t.\tGT\t%s\n" % (100 + v, v, "\t".join(rng.choice(["0/0", "0/1", "1/1"]) for _ in range(8))))
with open("in.score", "w") as f:
    f.write("ID\tA1\tw\n" + "".join("rs%d\tG\t%.3f\n" % (v, rng.normal()) for v in range(0, 30, 2)))
PY
mg-stream import --no-version in.npy >in.mgt
mg-stream import --no-version -z in.npy >inz.mgt
HAVE_MODEL=0
if have_py torch && $PY "$TOP/examples/sim/encoders.py" gen vit vit >/dev/null 2>&1; then
    $PY "$TOP/examples/sim/encoders.py" images e_ 1 3 32 32 9 >/dev/null && mg-stream import --no-version e_*.npy >enc.mgt && HAVE_MODEL=1
fi

# Damaged copies of FILE: truncations and changed bytes at fractions of its size.
n_tried=0 n_one_line=0 n_accepted=0 n_crash=0 n_bad_answer=0 n_left=0
n_fault=0 n_fault_ok=0
fracs="0.5"; flips="0.3"
[ $FULL = 1 ] && fracs="0.01 0.1 0.25 0.5 0.75 0.9 0.99" && flips="0.02 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 0.98"
damage() {   # damage FILE: prints the paths of damaged copies
    local f=$1 base ext sz; base=$(basename "$f"); sz=$(stat -c %s "$f")
    mkdir -p dmg
    : >"dmg/empty_$base"; echo "dmg/empty_$base"
    head -c 300 /dev/urandom >"dmg/garbage_$base"; echo "dmg/garbage_$base"
    for q in $fracs; do
        local k; k=$("$PY" -c "print(int($sz*$q))")
        head -c "$k" "$f" >"dmg/trunc${q}_$base"; echo "dmg/trunc${q}_$base"
    done
    for q in $flips; do
        "$PY" - "$f" "$q" "dmg/flip${q}_$base" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); i = min(len(b) - 1, int(len(b) * float(sys.argv[2])))
b[i] ^= 0x55; open(sys.argv[3], "wb").write(bytes(b))
PY
        echo "dmg/flip${q}_$base"
    done
}
# try NAME OUTPUT CMD...: run on a damaged input; classify the answer.
try() {
    local name=$1 out=$2; shift 2
    n_tried=$((n_tried + 1))
    rm -rf outd; mkdir outd
    "$@" >outd/.stdout 2>err.txt; local st=$?
    local lines; lines=$(wc -l <err.txt)
    if [ $st -ge 128 ] || grep -qE 'Sanitizer|runtime error|Segmentation|Aborted' err.txt; then
        n_crash=$((n_crash + 1)); fail "$name" "crash (exit $st): $(head -c 200 err.txt)"
    elif [ $st = 0 ]; then n_accepted=$((n_accepted + 1)); [ $FULL = 1 ] && echo "ACCEPTED $name"
    elif [ $st = 1 ] && [ "$lines" = 1 ]; then n_one_line=$((n_one_line + 1))
    else n_bad_answer=$((n_bad_answer + 1)); fail "$name" "exit $st, $lines stderr lines: $(head -c 200 err.txt | tr '\n' '|')"; fi
    rm -f outd/.stdout
    if [ $st != 0 ] && [ -n "$(ls -A outd)" ]; then
        n_left=$((n_left + 1)); fail "${name}_left_behind" "$(ls -A outd | tr '\n' ' ')"
    fi
}
for f in in.png in.jpg in.nii in.nii.gz; do
    for d in $(damage $f); do try "preprocess_$d" outd/o.mgt mg-preprocess --size 32 -o outd/o.mgt "$d"; done
done
for f in in.mgt inz.mgt; do
    for d in $(damage $f); do
        try "stream_info_$d" - mg-stream info -q "$d"
        try "stream_cat_$d" outd/o.mgt mg-stream cat -o outd/o.mgt "$d"
        try "stream_export_$d" outd/o.npy mg-stream export -o "outd/o_{n}.npy" "$d"
        [ $HAVE_MODEL = 1 ] && try "encode2d_$d" outd/o.mgt mg-encode2d -m vit -o outd/o.mgt "$d"
    done
done
if [ $HAVE_MODEL = 1 ]; then
    for d in $(damage enc.mgt); do try "encode2d_$d" outd/o.mgt mg-encode2d -m vit -o outd/o.mgt "$d"; done
    for d in $(damage vit/config.json) $(damage vit/model.safetensors); do
        rm -rf vd; cp -r vit vd; cp "$d" "vd/$(basename "$d" | sed 's/^[a-z0-9.]*_//')"
        try "encode2d_model_$d" outd/o.mgt mg-encode2d -m vd -o outd/o.mgt enc.mgt
    done
fi
for d in $(damage in.vcf); do
    try "prs_vcf_$d" outd/o.sscore mg-prs-image -q --no-mean-imputation --no-image -s in.score --sscore outd/o.sscore "$d"
done
for d in $(damage in.score); do
    try "prs_score_$d" outd/o.sscore mg-prs-image -q --no-mean-imputation --no-image -s "$d" --sscore outd/o.sscore in.vcf
done
for d in $(damage pred.tsv); do try "score_pred_$d" outd/o.json mg-score classify -q --json outd/o.json -o outd/o.txt "$d" truth.tsv; done
for d in $(damage truth.tsv); do try "score_truth_$d" outd/o.json mg-score classify -q --json outd/o.json -o outd/o.txt pred.tsv "$d"; done

# Faults: each must end non-zero, and leave nothing in the output directory.
fault() {   # fault NAME DIR CMD...: DIR is where outputs would go
    local name=$1 dir=$2; shift 2
    n_fault=$((n_fault + 1))
    local before; before=$(ls -A "$dir" 2>/dev/null | sort)
    "$@" >/dev/null 2>err.txt; local st=$?
    local after; after=$(ls -A "$dir" 2>/dev/null | sort)
    if [ $st != 0 ] && [ $st -lt 128 -o $st = 153 -o $st = 143 ] && [ "$before" = "$after" ]; then
        n_fault_ok=$((n_fault_ok + 1)); pass "$name"
    else
        [ "$before" != "$after" ] && n_left=$((n_left + 1))
        fail "$name" "exit $st, left: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ') $(head -c 150 err.txt)"
    fi
}
mkdir -p ro && chmod a-w ro
big=in.nii
cmds=("mg-preprocess --size 32 -o @ in.png" "mg-stream import --no-version -o @ in.npy"
      "mg-stream cat -o @ in.mgt" "mg-stream export -f npy -o @ in.mgt"
      "mg-prs-image -q --no-mean-imputation --no-image -s in.score --sscore @ in.vcf"
      "mg-score classify -q --json @ -o /dev/null pred.tsv truth.tsv")
[ $HAVE_MODEL = 1 ] && cmds+=("mg-encode2d -m vit -o @ enc.mgt")
for c in "${cmds[@]}"; do
    prog=${c%% *}; sub=$(echo "$c" | awk '{print $2}')
    # shellcheck disable=SC2086
    fault "fault_full_disk_${prog}_$sub" . ${c//@//dev/full}
    # shellcheck disable=SC2086
    fault "fault_missing_dir_${prog}_$sub" . ${c//@/nodir/out}
    if [ "$(id -u)" != 0 ]; then
        # shellcheck disable=SC2086
        fault "fault_unwritable_dir_${prog}_$sub" ro ${c//@/ro/out}
    fi
    mkdir -p fz; rm -rf fz/*
    # shellcheck disable=SC2086
    fault "fault_file_size_limit_${prog}_$sub" fz bash -c "ulimit -f 0; exec ${c//@/fz/out}"
done
# a run killed while writing: SIGTERM after it has started
if [ $FULL = 1 ] || true; then
    mkdir -p kd; rm -rf kd/*
    "$PY" -c "import numpy; numpy.save('many.npy', numpy.zeros((64, 512, 512), 'f4'))"
    n_fault=$((n_fault + 1))
    mg-stream import --no-version -o kd/out.mgt many.npy many.npy many.npy many.npy 2>/dev/null & pid=$!
    sleep 0.2; kill -TERM $pid 2>/dev/null; wait $pid; st=$?
    if [ -z "$(ls -A kd)" ] || { [ $st = 0 ] && [ "$(ls -A kd)" = out.mgt ]; }; then n_fault_ok=$((n_fault_ok + 1)); pass fault_sigterm_mid_write
    else n_left=$((n_left + 1)); fail fault_sigterm_mid_write "exit $st, left: $(ls -A kd | tr '\n' ' ')"; fi
fi
chmod u+w ro

echo "reliability: inputs tried $n_tried; answered with one line and exit 1: $n_one_line; accepted (exit 0): $n_accepted; other answers: $n_bad_answer; crashes: $n_crash"
echo "reliability: faults tried $n_fault; survived (non-zero exit, nothing left): $n_fault_ok; files left behind: $n_left"
[ $n_crash = 0 ] && [ $n_bad_answer = 0 ] && pass reliability_every_damaged_input_answered || fail reliability_every_damaged_input_answered "$n_crash crashes, $n_bad_answer other answers"
[ $n_left = 0 ] && pass reliability_nothing_left_behind || fail reliability_nothing_left_behind "$n_left"

#!/usr/bin/env bash
# Slab reading: a 512^3 int16 .nii.gz (256 MiB stored, a few MB on disk) goes
# through mg-preprocess with its peak RSS bounded by 1.5x the stored size plus
# the output (the whole volume is never held as float when it is resampled),
# and the output equal to numpy's: every slab boundary is crossed, and at
# spacing 2 on a 1 mm grid each output voxel is exactly one input voxel.
source "$(dirname "$0")/../lib.sh"
for m in nibabel numpy; do
    have_py $m || { skip "slab" "python3 module $m missing"; exit 0; }
done
[ -x /usr/bin/time ] || { skip "slab" "/usr/bin/time missing"; exit 0; }
N=512
export T N
PYTHONPATH="$(dirname "$0")" "$PY" -c '
import os, bigvol, numpy as np
T, N = os.environ["T"], int(os.environ["N"])
bigvol.write(os.path.join(T, "ras.nii.gz"), N, N, N)
# L, P, I: every axis flipped, so RAS reads the slices backwards
bigvol.write(os.path.join(T, "lpi.nii.gz"), N, N, N, axes=-np.eye(3))
'

# rss_case NAME LIMIT_MIB ARGS...: mg-preprocess ARGS -o $T/out.mgt, peak RSS below LIMIT.
rss_case() {
    local name=$1 limit=$2; shift 2
    if ! /usr/bin/time -f %M -o "$T/rss" mg-preprocess --no-version "$@" -o "$T/out.mgt" 2>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return 1
    fi
    local kib; kib=$(tail -n1 "$T/rss")
    if [ "$kib" -gt $((limit * 1024)) ]; then
        fail "$name" "peak RSS $((kib / 1024)) MiB > $limit MiB"; return 1
    fi
    pass "$name"
    return 0
}
# same_as NAME FLIP SAMPLE: the output equals the generator's volume, flipped
# on every axis when FLIP is 1, taking every SAMPLE-th voxel.
same_as() {
    local name=$1
    if ! mg-stream export -o "$T/out.npy" "$T/out.mgt" 2>"$T/err"; then
        fail "$name" "export: $(head -c 200 "$T/err")"; return
    fi
    FLIP=$2 STEP=$3 PYTHONPATH="$(dirname "$0")" "$PY" -c '
import os, sys, bigvol, numpy as np
N, flip, step = int(os.environ["N"]), os.environ["FLIP"] == "1", int(os.environ["STEP"])
got = np.load(os.path.join(os.environ["T"], "out.npy"), mmap_mode="r")      # [z, y, x]
# MONAI grid: round_half_even((N-1)/step)+1 voxels, the last clamped to N-1
n = int(np.round((N - 1) / step)) + 1
idx = np.minimum(np.arange(n) * step, N - 1)
if got.shape != (n, n, n):
    sys.exit("shape %s, want %s" % (got.shape, (n, n, n)))
for j, k in enumerate(idx):
    s = bigvol.slice_hu(N, N, N, k)
    if flip:          # RAS slice k of a fully flipped file is file slice N-1-k, flipped in-plane
        s = bigvol.slice_hu(N, N, N, N - 1 - k)[::-1, ::-1]
    want = s[np.ix_(idx, idx)].astype(np.float32)
    if not np.array_equal(got[j], want):
        sys.exit("slice %d differs (max %g)" % (j, np.abs(got[j] - want).max()))
' 2>"$T/err" && pass "$name" || fail "$name" "$(tail -n1 "$T/err")"
}

stored=$((N * N * N * 2 / 1048576))
half=$(((N / 2 + 1) ** 3 * 4 / 1048576))
whole=$((N * N * N * 4 / 1048576))
# 1.5x the stored volume plus the output
rss_case "slab spacing 2 peak RSS" $((stored * 3 / 2 + half)) --spacing 2,2,2 -@ 2 \
    "$T/ras.nii.gz" && same_as "slab spacing 2 output" 0 2
rss_case "slab RAS (slices backwards) + spacing 2 peak RSS" $((stored * 3 / 2 + half)) --ras --spacing 2,2,2 \
    "$T/lpi.nii.gz" && same_as "slab RAS + spacing 2 output" 1 2
rss_case "slab whole volume as float peak RSS" $((stored * 3 / 2 + whole)) "$T/ras.nii.gz" &&
    same_as "slab whole volume output" 0 1

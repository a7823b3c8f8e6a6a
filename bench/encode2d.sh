#!/usr/bin/env bash
# mg-encode2d speed and memory: ViT-B/16 at 224 (batch 8) against the same model in
# PyTorch with the same threads, and as a fraction of cblas_sgemm on 2048² measured
# in the same run; SigLIP So400m/14 at 448 (MedSigLIP shape, F32) and the Gemma 3
# tower + projector at 896 (MedGemma shape, BF16): seconds per image, peak RSS.
# Random checkpoints are generated under $BUILD/bench (not committed).
set -u
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
BUILD=${BUILD:-$PWD/build/rel}
TH=${MG_BENCH_THREADS:-$(nproc)}
RUNS=${MG_BENCH_RUNS:-3}
W="$BUILD/bench/encode2d"
mkdir -p "$W"
E="$PY tests/encode2d/encoders.py"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cc -O2 $(pkg-config --cflags openblas) bench/sgemm_peak.c $(pkg-config --libs openblas) \
    -o "$W/sgemm_peak" || exit 1
peak=$("$W/sgemm_peak" 2048 "$TH" 5)

# ---- ViT-B/16, 224 px, batch 8 ----
[ -s "$W/vitb/model.safetensors" ] || $E genbig vit-b16 "$W/vitb" >&2 || exit 1
rm -f "$W"/vb_*.npy
$E images "$W/vb_" 8 3 224 224 >&2
mg-stream import "$W"/vb_*.npy >"$W/vb.mgt"
mg-encode2d -m "$W/vitb" -@ "$TH" -b 8 "$W/vb.mgt" >/dev/null     # warm the page cache
ts=()
for ((r = 0; r < RUNS; r++)); do
    s=$(date +%s.%N)
    mg-encode2d -m "$W/vitb" -@ "$TH" -b 8 "$W/vb.mgt" >/dev/null || exit 1
    ts+=("$(echo "$(date +%s.%N) - $s" | bc -l)")
done
t_mg=$(printf '%s\n' "${ts[@]}" | median)
t_pt=$($PY bench/encode2d_peer.py "$TH" 8 "$RUNS") || exit 1
# FLOPs per image: patch GEMM + 12 × (QKV/O 4·N·D², attention 2·N²·D, MLP 2·N·D·F), ×2 per MAC
gflop=$(awk 'BEGIN { n = 197; d = 768; f = 3072;
    printf "%.3f", 2 * (196 * 768 * 768 + 12 * (4 * n * d * d + 2 * n * n * d + 2 * n * d * f)) / 1e9 }')
awk -v m="$t_mg" -v p="$t_pt" -v th="$TH" 'BEGIN {
    printf "vit-b16 224px batch 8, %d threads (images/s)\t%.2f\t%.2f (pytorch)\t%.2f\tmgpipe wall time includes process start and I/O\n",
           th, 8 / m, 8 / p, p / m }'
awk -v m="$t_mg" -v g="$gflop" -v pk="$peak" -v th="$TH" 'BEGIN {
    printf "vit-b16 achieved GFLOP/s vs cblas_sgemm 2048^2, %d threads\t%.1f\t%.1f (sgemm)\t%.2f\t%.1f GFLOP per image\n",
           th, 8 * g / m, pk, 8 * g / m / pk, g }'

# ---- SigLIP So400m/14 at 448 (F32) and Gemma 3 vision + projector at 896 (BF16) ----
so400m() {   # so400m SHAPE DTYPE SIZE RUNS LABEL
    local shape=$1 dt=$2 size=$3 runs=$4 label=$5 d="$W/$1"
    [ -s "$d/model.safetensors" ] || $E genbig "$shape" "$d" --dtype "$dt" >&2 || return 1
    rm -f "$W"/so_*.npy
    $E images "$W/so_" 1 3 "$size" "$size" >&2
    mg-stream import "$W/so_0.npy" >"$W/so.mgt"
    local wsize ts=() rss=()
    wsize=$(stat -c %s "$d/model.safetensors")
    for ((r = 0; r < runs; r++)); do
        /usr/bin/time -f "%e %M" -o "$W/time" mg-encode2d -m "$d" -@ "$TH" "$W/so.mgt" >/dev/null || return 1
        ts+=("$(cut -d' ' -f1 "$W/time")"); rss+=("$(cut -d' ' -f2 "$W/time")")
    done
    local t m
    t=$(printf '%s\n' "${ts[@]}" | median); m=$(printf '%s\n' "${rss[@]}" | median)
    awk -v t="$t" -v m="$m" -v w="$wsize" -v l="$label" -v th="$TH" -v r="$runs" 'BEGIN {
        printf "%s seconds/image, %d threads\t%.1f\t-\t-\tmedian of %d\n", l, th, t, r
        printf "%s peak RSS (MiB)\t%.0f\t%.0f (weights + 1 GiB)\t%.2f\tweights file %.0f MiB\n",
               l, m / 1024, w / 1048576 + 1024, (m / 1024) / (w / 1048576 + 1024), w / 1048576 }'
}
so400m so400m-448 F32 448 "$RUNS" "siglip so400m/14 448px f32"
so400m so400m-896 BF16 896 "${MG_BENCH_RUNS_896:-1}" "gemma3 vision+projector 896px bf16"

#!/usr/bin/env bash
# mg-encode3d speed and memory, one volume per run, random fp32 weights:
#  - a 3D ViT-B (M3D-CLIP's: perceptron patches 4x16x16 on 32x256x256, 2049
#    tokens, width 768, 12 layers, MLP 3072);
#  - Merlin's I3D ResNet-152 on 224x224x160.
# Volumes/s against the same architecture in PyTorch with the same threads in the
# same run (bench/encode3d_peer.py), achieved GFLOP/s against cblas_sgemm on
# 2048^2 measured in this run, and peak RSS against the weights file.
# Checkpoints are generated once under $BENCH_DIR (never committed).
# MG_BENCH_3D picks the rows (default "vit i3d"; also "i3d-bf16": the I3D with
# --precision bf16, against the same PyTorch fp32 peer). MG_ENCODE3D_BASE names
# a second mg-encode3d build (e.g. an earlier commit's) timed beside it in the
# same run. The peer runs once per model.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
TH=${MG_BENCH_THREADS:-$(nproc)}
RUNS=${MG_BENCH_RUNS_3D:-1}
W=$BENCH_DIR/encode3d
mkdir -p "$W"
R="$PY tests/encode3d/ref3d.py"
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
load() { cut -d' ' -f1 /proc/loadavg; }
calc() { awk "BEGIN { printf \"$2\", $1 }"; }

cc -O2 $(pkg-config --cflags openblas) bench/sgemm_peak.c $(pkg-config --libs openblas) \
    -o "$W/sgemm_peak" || exit 1

[ -s "$W/vitb/model.safetensors" ] || $R gen m3d_clip "$W/vitb" --set 'img_size=[32,256,256]' \
    --set 'patch_size=[4,16,16]' --set hidden_size=768 --set mlp_dim=3072 --set num_layers=12 \
    --set num_heads=12 >&2 || exit 1
[ -s "$W/i3d/model.safetensors" ] || $R gen merlin_i3d "$W/i3d" --set 'layers=[3,8,36,3]' \
    --set width=64 --set n_class=1692 --set n_contrastive=512 >&2 || exit 1
[ -s "$W/vitb.mgt" ] || { $R volumes "$W/vv_" 1 32x256x256 && mg-stream import -t volume "$W/vv_0.npy" >"$W/vitb.mgt"; }
[ -s "$W/i3d.mgt" ] || { $R volumes "$W/iv_" 1 160x224x224 && mg-stream import -t volume "$W/iv_0.npy" >"$W/i3d.mgt"; }

declare -A peer_t peer_c
# bench3d NAME DIR GFLOP [BINARY [OPTIONS]]: rows for one model
bench3d() {
    local name=$1 dir=$2 gf=$3 bin=${4:-mg-encode3d} opt=${5:-} ts=() cs=() rss=() peak=() r
    local cmd="$bin -m '$dir' $opt -@ $TH '$W/$(basename "$dir").mgt'"
    for ((r = 0; r < RUNS; r++)); do
        /usr/bin/time -f "%e %U %S %M" -o "$W/time" bash -c "$cmd" >/dev/null || return 1
        ts+=("$(cut -d' ' -f1 "$W/time")"); cs+=("$(awk '{print $2 + $3}' "$W/time")")
        rss+=("$(awk '{printf "%.0f", $4 / 1024}' "$W/time")")
        peak+=("$("$W/sgemm_peak" 2048 "$TH" 3)")
    done
    local t c m g; t=$(med "${ts[@]}"); c=$(med "${cs[@]}"); m=$(med "${rss[@]}"); g=$(med "${peak[@]}")
    if [ -z "${peer_t[$dir]:-}" ]; then
        read -r peer_t[$dir] peer_c[$dir] < <($PY bench/encode3d_peer.py "$dir" "$TH" "$RUNS") || return 1
    fi
    local t_pt=${peer_t[$dir]} c_pt=${peer_c[$dir]}
    local wmb; wmb=$(awk -v b="$(stat -c %s "$dir/model.safetensors")" 'BEGIN { printf "%.0f", b / 1048576 }')
    row "$name, $TH threads (volumes/s)" "$(calc "1/$t" %.3f)" "pytorch $(calc "1/$t_pt" %.3f)" \
        "$(ratio "$t_pt" "$t")" "target >= 2; ours includes process start, load and I/O; load avg $(load)"
    row "$name, CPU seconds per volume (all threads)" "$(fmt "$c" %.1f)" "pytorch $(fmt "$c_pt" %.1f)" \
        "$(ratio "$c_pt" "$c")" "less sensitive to other load"
    row "$name achieved GFLOP/s vs cblas_sgemm 2048^2" "$(calc "$gf/$t" %.1f)" "sgemm $(fmt "$g" %.1f)" \
        "$(calc "$gf/$t/$g" %.2f)" "$gf GFLOP/volume"
    row "$name peak RSS (MiB)" "$m" "weights $wmb" "$(ratio "$m" "$wmb")" "median of $RUNS"
}
# ViT: patch GEMM 2048·1024·768 + 12 × (Q/K/V/O 4·N·D², scores and mix 2·N²·D, MLP 2·N·D·F); 2 FLOP per MAC
gf_vit=$(awk 'BEGIN { n = 2049; d = 768; f = 3072;
    printf "%.1f", 2 * (2048 * 1024 * 768 + 12 * (4 * n * d * d + 2 * n * n * d + 2 * n * d * f)) / 1e9 }')
# I3D: sum over convolutions of output voxels · out channels · k³ · in channels (python, from the shapes)
gf_i3d=$($PY - <<'PY'
def out(n, k, s, p): return (n + 2 * p - k) // s + 1
Z, X, Y, mac = 160, 224, 224, 0
z, x, y = Z, out(X, 7, 2, 3), out(Y, 7, 2, 3)
mac += z * x * y * 64 * 3 * 49 * 1          # stem on one folded channel
z, x, y = out(z, 3, 2, 1), out(x, 3, 2, 1), out(y, 3, 2, 1)
cin = 64
for st, n in enumerate([3, 8, 36, 3]):
    p = 64 << st
    for b in range(n):
        s = 2 if st and not b else 1
        mac += z * x * y * cin * p                                # 1x1x1
        z2, x2, y2 = out(z, 3, s, 1), out(x, 3, s, 1), out(y, 3, s, 1)
        mac += z2 * x2 * y2 * p * p * 27 + z2 * x2 * y2 * p * 4 * p
        if b == 0: mac += z2 * x2 * y2 * cin * 4 * p
        z, x, y, cin = z2, x2, y2, 4 * p
print("%.1f" % (2 * mac / 1e9))
PY
)
for sel in ${MG_BENCH_3D:-vit i3d}; do
    case $sel in
    vit) bench3d "m3d-clip vit-b 4x16x16 on 32x256x256" "$W/vitb" "$gf_vit" ;;
    i3d) bench3d "merlin i3d resnet-152 224x224x160" "$W/i3d" "$gf_i3d"
         [ -n "${MG_ENCODE3D_BASE:-}" ] &&
             bench3d "merlin i3d resnet-152 224x224x160 (base build)" "$W/i3d" "$gf_i3d" "$MG_ENCODE3D_BASE" ;;
    i3d-bf16) bench3d "merlin i3d resnet-152 224x224x160 bf16" "$W/i3d" "$gf_i3d" mg-encode3d "--precision bf16" ;;
    esac
done

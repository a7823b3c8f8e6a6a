#!/usr/bin/env bash
# mg-encode3d against an independent PyTorch forward of each 3D family (ref3d.py),
# on tiny random checkpoints with the published tensor names and config keys.
source "$(dirname "$0")/../lib.sh"
R="$PY $(dirname "$0")/ref3d.py"
if ! have_py torch; then skip encode3d "python3-torch is not installed"; exit 0; fi

# volumes PREFIX N SHAPE: N random volumes (SHAPE like 1x8x32x32 or 8x32x32) and PREFIX.mgt
volumes() {
    $R volumes "$T/$1_" "$2" "$3" || return 1
    local f=() i
    for ((i = 0; i < $2; i++)); do f+=("$T/$1_$i.npy"); done
    mg-stream import -t volume -m modality=CT "${f[@]}" >"$T/$1.mgt"
}
# parity NAME DIR KIND VOLS N [mg-encode3d options]: outputs match the reference
parity() {
    local name=$1 dir=$2 kind=$3 vol=$4 n=$5 i; shift 5
    local l2=; [[ " $* " == *" --l2 "* ]] && l2=--l2
    rm -f "$T"/o_*.npy
    local k=(-k "$kind"); [ "$kind" = default ] && k=()
    if ! mg-encode3d -m "$dir" "${k[@]}" "$@" "$T/$vol.mgt" >"$T/o.mgt" 2>"$T/err" ||
       ! mg-stream export -o "$T/o_{n}.npy" "$T/o.mgt" 2>>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    local ins=() outs=()
    for ((i = 0; i < n; i++)); do ins+=("$T/${vol}_$i.npy"); outs+=("$T/o_$((i + 1)).npy"); done
    local r; r=$($R check "$dir" "$kind" "${ins[@]}" -- "${outs[@]}" $l2 2>&1)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}

$R gen monai_vit "$T/vit" || fail "generate monai_vit"
$R gen monai_vit "$T/vit_nocls" --set classification=false --set qkv_bias=true
$R gen monai_vit "$T/vit_interp" --set pos_embed_interpolation='"trilinear"' \
    --set in_channels=2 --set proj_type='"perceptron"'
$R gen monai_vit "$T/vit_bf16" --dtype BF16
$R gen m3d_clip "$T/m3d" || fail "generate m3d_clip"
volumes v 3 8x32x32; volumes v2c 2 2x12x48x24; volumes v2s 2 2x8x32x32

parity monai_vit_conv_cls_matches_torch "$T/vit" pooled v 3
parity monai_vit_conv_tokens_match_torch "$T/vit" tokens v 3 -b 2
parity monai_vit_mean_l2_matches_torch "$T/vit" mean v 3 --l2 -@ 2
# BF16 weights through the fp32 back end (auto would pick bf16 on a CPU that has it)
parity monai_vit_bf16_weights "$T/vit_bf16" pooled v 3 --precision f32
parity monai_vit_no_cls_qkv_bias_defaults_to_mean "$T/vit_nocls" default v 3
parity monai_vit_perceptron_two_channels "$T/vit_interp" pooled v2s 2
parity monai_vit_trilinear_pos_interpolation_12x48x24 "$T/vit_interp" tokens v2c 2 -b 2
parity m3d_clip_projected_is_encode_image_cls "$T/m3d" default v 3
parity m3d_clip_perceptron_tokens "$T/m3d" tokens v 3 -b 3 -@ 2
parity m3d_clip_cls_before_projection "$T/m3d" pooled v 3

$R gen merlin_i3d "$T/mer" || fail "generate merlin_i3d"
$R gen merlin_i3d "$T/mer_f16" --dtype F16 --seed 4
volumes m 2 12x20x16; volumes modd 1 7x9x11
parity merlin_i3d_contrastive_embedding_matches_torch "$T/mer" default m 2
parity merlin_i3d_pooled_features_match_torch "$T/mer" pooled m 2 -@ 2
parity merlin_i3d_tokens_per_location_zxy_order "$T/mer" tokens m 2 -b 2
parity merlin_i3d_odd_sizes_padding "$T/mer" tokens modd 1
parity merlin_i3d_f16_checkpoint "$T/mer_f16" projected m 2

# Metadata is carried through, one record per volume.
mg-encode3d -m "$T/m3d" "$T/v.mgt" -o "$T/meta.mgt" && mg-stream info "$T/meta.mgt" >"$T/info"
if grep -q "id=v_2" "$T/info" && grep -q "modality=CT" "$T/info" &&
   grep -q "embedding *f32 *\[32\]" "$T/info"; then pass metadata_carried_through
else fail metadata_carried_through "$(head -c 300 "$T/info")"; fi

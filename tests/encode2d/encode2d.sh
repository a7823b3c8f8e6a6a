#!/usr/bin/env bash
# mg-encode2d against an independent PyTorch forward of each family (encoders.py),
# on tiny random checkpoints with the real tensor names and config keys.
source "$(dirname "$0")/../lib.sh"
E="$PY $(dirname "$0")/../../examples/sim/encoders.py"
if ! have_py torch; then skip encode2d "python3-torch is not installed"; exit 0; fi

# images PREFIX N C H W: N random images in [-1, 1] and their stream PREFIX.mgt
images() {
    $E images "$T/$1_" "$2" "$3" "$4" "$5" 9 || return 1
    local f=() i
    for ((i = 0; i < $2; i++)); do f+=("$T/$1_$i.npy"); done
    mg-stream import -m modality=CR "${f[@]}" >"$T/$1.mgt"
}
# parity NAME DIR KIND IMAGES N [mg-encode2d options]: outputs match the reference
parity() {
    local name=$1 dir=$2 kind=$3 img=$4 n=$5 t=embedding i; shift 5
    case $kind in tokens|projected) t=tokens;; esac
    local l2=; [[ " $* " == *" --l2 "* ]] && l2=--l2
    rm -f "$T"/o_*.npy
    local k=(-k "$kind"); [ "$kind" = default ] && k=()
    if ! mg-encode2d -m "$dir" "${k[@]}" "$@" "$T/$img.mgt" >"$T/o.mgt" 2>"$T/err" ||
       ! mg-stream export -t $t -o "$T/o_{n}.npy" "$T/o.mgt" 2>>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    local ins=() outs=()
    for ((i = 0; i < n; i++)); do ins+=("$T/${img}_$i.npy"); outs+=("$T/o_$((i + 1)).npy"); done
    local r; r=$($E check "$dir" "$kind" "${ins[@]}" -- "${outs[@]}" $l2 2>&1)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}
# same NAME A.npy B.npy MAX_REL MIN_COS: two program outputs agree
same() {
    local r; r=$($E compare "$2" "$3" "$4" "$5" 2>&1)
    if [ $? = 0 ]; then pass "$1"; else fail "$1" "$r"; fi
}

for f in siglip siglip_vision_model gemma3 dinov2 dinov2_with_registers vit; do
    $E gen $f "$T/$f" || fail "generate $f"
done
$E gen gemma3 "$T/gemma3_model" --prefix model.
$E gen siglip_vision_model "$T/sig_nohead" --set vision_use_head=false
$E gen vit "$T/vit_quick" --set hidden_act='"quick_gelu"' --set qkv_bias=false --set layer_norm_eps=1e-5
$E gen dinov2 "$T/dinov2_tanh" --set hidden_act='"gelu_pytorch_tanh"' --set mlp_ratio=2.5
images sig 3 3 96 96; images svm 2 3 24 24; images g3 3 3 32 32; images sq 3 3 32 32
images wide 2 3 48 40; images small 2 3 20 24; images many 15 3 96 96

parity siglip_head_pooled_matches_torch "$T/siglip" pooled sig 3 -b 2
parity siglip_tokens_match_torch_576_tokens_tiled_attention "$T/siglip" tokens sig 3 -@ 2
parity siglip_mean_l2_matches_torch "$T/siglip" mean sig 3 --l2
parity batch_over_token_budget_runs_in_chunks "$T/siglip" pooled many 15 -b 15
parity siglip_vision_model_config_eps_and_act "$T/siglip_vision_model" pooled svm 2
parity gemma3_projector_matches_torch "$T/gemma3" projected g3 3 -b 3
parity gemma3_tower_tokens_match_torch "$T/gemma3" tokens g3 3
parity gemma3_model_prefix_checkpoint "$T/gemma3_model" projected g3 3
parity dinov2_cls_matches_torch "$T/dinov2" pooled sq 3
parity dinov2_bicubic_pos_interpolation_48x40 "$T/dinov2" tokens wide 2
parity dinov2_registers_swiglu_cls "$T/dinov2_with_registers" pooled sq 3
parity dinov2_registers_antialiased_pos_downsampling "$T/dinov2_with_registers" tokens small 2
parity dinov2_registers_mean_upsampled "$T/dinov2_with_registers" mean wide 2 -@ 2
parity vit_cls_matches_torch "$T/vit" pooled sq 3 -b 1
parity vit_tokens_match_torch "$T/vit" tokens sq 3
parity siglip_without_head_defaults_to_mean "$T/sig_nohead" default svm 2
parity vit_quick_gelu_no_qkv_bias "$T/vit_quick" pooled sq 3
parity dinov2_tanh_gelu_fractional_mlp_ratio "$T/dinov2_tanh" pooled sq 3

# Metadata and record order are carried through; the default output is the pooled one.
mg-encode2d -m "$T/siglip" "$T/sig.mgt" -o "$T/meta.mgt" && mg-stream info "$T/meta.mgt" >"$T/info"
if grep -q "id=sig_1" "$T/info" && grep -q "modality=CR" "$T/info" &&
   grep -q "embedding *f32 *\[32\]" "$T/info"; then pass metadata_carried_through
else fail metadata_carried_through "$(head -c 300 "$T/info")"; fi

# Mixed image sizes in one stream are batched separately and stay in order.
mg-stream cat "$T/wide.mgt" "$T/sq.mgt" "$T/wide.mgt" >"$T/mixed.mgt"
mg-encode2d -m "$T/dinov2" -b 4 "$T/mixed.mgt" >"$T/mixed_out.mgt" &&
    mg-stream export -t embedding -o "$T/mx_{n}.npy" "$T/mixed_out.mgt" &&
    mg-encode2d -m "$T/dinov2" -b 1 "$T/sq.mgt" >"$T/sq_out.mgt" &&
    mg-stream export -t embedding -o "$T/sq1_{n}.npy" "$T/sq_out.mgt"
same mixed_sizes_batched_in_order "$T/mx_4.npy" "$T/sq1_2.npy" 1e-6 0.9999999

# Batch size and threads do not change the result beyond rounding.
mg-encode2d -m "$T/siglip" -k tokens -b 1 "$T/sig.mgt" | mg-stream export -t tokens -o "$T/b1_{n}.npy" -
mg-encode2d -m "$T/siglip" -k tokens -b 3 -@ 2 "$T/sig.mgt" | mg-stream export -t tokens -o "$T/b3_{n}.npy" -
same batch_and_threads_agree "$T/b1_3.npy" "$T/b3_3.npy" 1e-5 0.9999999

# BF16 and F16 copies of the same weights: parity with the reference on those
# weights, and close to the F32 copy as the formats' precision allows (the fp32
# back end; --precision auto would pick bf16 for BF16 weights: tests/encode2d/bf16.sh).
$E gen siglip "$T/sig_bf16" --dtype BF16
$E gen dinov2 "$T/dino_f16" --dtype F16
parity siglip_bf16_weights_match_torch "$T/sig_bf16" pooled sig 3 --precision f32
parity dinov2_f16_weights_match_torch "$T/dino_f16" pooled sq 3
mg-encode2d -m "$T/siglip" "$T/sig.mgt" | mg-stream export -t embedding -o "$T/f32_{n}.npy" -
mg-encode2d -m "$T/sig_bf16" --precision f32 "$T/sig.mgt" | mg-stream export -t embedding -o "$T/bf16_{n}.npy" -
same bf16_copy_close_to_f32 "$T/bf16_1.npy" "$T/f32_1.npy" 0.05 0.999

# Sharded checkpoints (model.safetensors.index.json) equal the single file.
$E gen siglip "$T/sig_shard" --shards 3
mg-encode2d -m "$T/sig_shard" "$T/sig.mgt" | mg-stream export -t embedding -o "$T/sh_{n}.npy" -
same sharded_equals_unsharded "$T/sh_2.npy" "$T/f32_2.npy" 0 1

# ---- bad input: one error line, exit 1, no output file ----
bad() {   # bad NAME PATTERN DIR [IMAGES]
    rm -f "$T/bad.mgt"
    expect_error "$1" 1 "$2" mg-encode2d -m "$3" -o "$T/bad.mgt" "$T/${4:-sq}.mgt"
    [ -e "$T/bad.mgt" ] && fail "$1 (no output file)" "bad.mgt was written"
    return 0
}
mk() { rm -rf "$T/$1"; cp -r "$T/$2" "$T/$1"; }
mk b1 dinov2; $E corrupt "$T/b1" drop encoder.layer.1.mlp.fc2.weight
bad missing_tensor_named "^mg-encode2d: error: .*b1: dinov2: missing tensor 'encoder.layer.1.mlp.fc2.weight'" "$T/b1"
mk b2 dinov2; $E corrupt "$T/b2" extra encoder.layer.7.mlp.fc1.weight
bad extra_tensor_named "dinov2: unexpected tensor 'encoder.layer.7.mlp.fc1.weight'" "$T/b2"
mk b3 vit; $E corrupt "$T/b3" reshape encoder.layer.0.attention.attention.key.weight
bad misshaped_tensor_named "vit: tensor 'encoder.layer.0.attention.attention.key.weight' has shape \[32,32,1\], expected \[32,32\]" "$T/b3"
mk b4 vit; $E corrupt "$T/b4" truncate
bad truncated_safetensors "model.safetensors: tensor '[a-z._0-9]+': data offsets .* \\(truncated file\\?\\)" "$T/b4"
mk b5 vit; $E corrupt "$T/b5" lie
bad header_length_lies "header length [0-9]+ does not fit the [0-9]+-byte file" "$T/b5"
mk b6 vit; $E corrupt "$T/b6" dtype layernorm.bias
bad unknown_dtype "tensor 'layernorm.bias': unknown dtype 'Q4_K'" "$T/b6"
mk b10 vit; $E corrupt "$T/b10" overlap
bad overlapping_offsets "data offsets overlap the previous tensor" "$T/b10"
mk b11 vit; $E corrupt "$T/b11" duplicate
bad duplicate_tensor_name "bad header JSON: duplicate object key" "$T/b11"
mk b12 vit; $E corrupt "$T/b12" metadata
bad metadata_values_are_strings "__metadata__ value 'format' is not a string" "$T/b12"
mk b7 vit; sed -i 's/"vit"/"swin"/' "$T/b7/config.json"
bad unknown_model_type "unsupported model_type 'swin'" "$T/b7"
mk b8 vit; sed -i 's/"hidden_act": *"[a-z_]*"\|"model_type"/"hidden_act": "relu6", "model_type"/' "$T/b8/config.json"
bad unsupported_activation "unsupported hidden_act 'relu6'" "$T/b8"
mk b9 sig_shard; rm "$T/b9/model-00002-of-00003.safetensors"
bad missing_shard "model-00002-of-00003.safetensors: No such file" "$T/b9"
bad image_size_does_not_fit "vit: image is 48x40; this model takes 32x32" "$T/vit" wide
$E images "$T/gray_" 1 1 32 32 9 && mg-stream import "$T/gray_0.npy" >"$T/gray.mgt"
bad channel_count_does_not_fit "image has 1 channels, the model expects 3" "$T/vit" gray
$PY -c "import numpy as np; np.save('$T/u8.npy', np.zeros((3,32,32), np.uint8))" &&
    mg-stream import "$T/u8.npy" >"$T/u8.mgt"
bad u8_image_rejected "tensor 'image' must be \[C,H,W\] f32" "$T/vit" u8
rm -f "$T/bad.mgt"; expect_error no_pooled_output_for_gemma3 1 "gemma3: this model has no pooled output" mg-encode2d -m "$T/gemma3" -k pooled -o "$T/bad.mgt" "$T/g3.mgt"
usage() {   # usage NAME PATTERN ARGS...: exit 2, the first stderr line matches
    local name=$1 pat=$2; shift 2
    mg-encode2d "$@" >"$T/.out" 2>"$T/.err"; local st=$?
    if [ $st = 2 ] && head -n 1 "$T/.err" | grep -qE -- "$pat" && [ ! -s "$T/.out" ]; then pass "$name"
    else fail "$name" "exit $st: $(head -c 200 "$T/.err")"; fi
}
usage unknown_kind_is_a_usage_error "unknown kind 'best'" -m "$T/vit" -k best "$T/sq.mgt"
usage model_dir_required "checkpoint directory" "$T/sq.mgt"
exit 0

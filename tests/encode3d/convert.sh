#!/usr/bin/env bash
# examples/convert_3d.py: PyTorch state dicts (torch.save) of each 3D family into
# config.json + model.safetensors that mg-encode3d reads; the converted
# checkpoint gives the PyTorch forward of the original tensors.
source "$(dirname "$0")/../lib.sh"
R="$PY $(dirname "$0")/ref3d.py"
C="$PY $TOP/examples/convert_3d.py"
if ! have_py torch; then skip convert "python3-torch is not installed"; exit 0; fi

$R volumes "$T/v_" 2 8x32x32; $R volumes "$T/m_" 2 10x16x12
mg-stream import -t volume "$T/v_0.npy" "$T/v_1.npy" >"$T/v.mgt"
mg-stream import -t volume "$T/m_0.npy" "$T/m_1.npy" >"$T/m.mgt"

# converted NAME REFDIR VOLS KIND CONVERTED: tensors equal the state dict, and
# mg-encode3d on the converted directory matches the reference of REFDIR
converted() {
    local name=$1 ref=$2 vol=$3 kind=$4 dir=$5 r
    rm -f "$T"/o_*.npy
    if ! r=$($R convert-check "$dir" "$T/$(basename "$ref").pt" 2>&1); then fail "$name" "$r"; return; fi
    if ! mg-encode3d -m "$dir" -k "$kind" "$T/$vol.mgt" 2>"$T/err" | mg-stream export -o "$T/o_{n}.npy" - 2>>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    if r=$($R check "$ref" "$kind" "$T/${vol}_0.npy" "$T/${vol}_1.npy" -- "$T/o_1.npy" "$T/o_2.npy" 2>&1)
    then pass "$name"; else fail "$name" "$r"; fi
}

$R gen monai_vit "$T/vit" --pt "$T/vit.pt"
$C "$T/vit.pt" "$T/vit_c" --heads 4 --img-size 8,32,32 2>/dev/null
converted convert_monai_vit_conv_state_dict "$T/vit" v pooled "$T/vit_c"

$R gen m3d_clip "$T/m3d" --pt "$T/m3d.pt"
$C "$T/m3d.pt" "$T/m3d_c" --heads 4 --img-size 8,32,32 --patch-size 2,8,8 2>/dev/null
converted convert_m3d_clip_state_dict "$T/m3d" v projected "$T/m3d_c"
if grep -q language_encoder "$T/m3d_c/model.safetensors"; then fail convert_drops_text_tower "language_encoder kept"
else pass convert_drops_text_tower; fi

$R gen merlin_i3d "$T/mer" --pt "$T/mer.pt"
$C "$T/mer.pt" "$T/mer_c" 2>/dev/null
converted convert_merlin_checkpoint_layers_from_tensors "$T/mer" m projected "$T/mer_c"

# M3D's pretrained_ViT.bin: the vision encoder alone, without the prefix, in bf16.
$PY - "$T/m3d.pt" "$T/vit_only.bin" <<'PY'
import sys, torch
sd = torch.load(sys.argv[1])
torch.save({k[len("vision_encoder."):]: v.bfloat16() for k, v in sd.items()
            if k.startswith("vision_encoder.")}, sys.argv[2])
PY
$C "$T/vit_only.bin" "$T/bare" --heads 4 --img-size 8,32,32 --patch-size 2,8,8 2>/dev/null
mg-encode3d -m "$T/bare" -k pooled "$T/v.mgt" | mg-stream export -o "$T/b_{n}.npy" - &&
    mg-encode3d -m "$T/m3d" -k pooled "$T/v.mgt" | mg-stream export -o "$T/f_{n}.npy" -
if grep -q '"BF16"' "$T/bare/model.safetensors" && grep -q '"classification": true' "$T/bare/config.json" &&
   r=$($R compare "$T/b_1.npy" "$T/f_1.npy" 0.05 0.999 2>&1); then pass convert_bare_vit_bin_bf16_kept
else fail convert_bare_vit_bin_bf16_kept "${r:-dtype or config}"; fi

expect_error convert_perceptron_needs_patch_size 1 "patch-size" $C "$T/vit_only.bin" "$T/x" --heads 4 --img-size 8,32,32
expect_error convert_needs_heads 1 "heads" $C "$T/vit.pt" "$T/x2" --img-size 8,32,32
expect_error convert_img_size_checked_against_positions 1 "patches" $C "$T/vit.pt" "$T/x3" --heads 4 --img-size 8,64,32

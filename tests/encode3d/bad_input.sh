#!/usr/bin/env bash
# mg-encode3d on bad input: one error line, exit 1 (usage 2), no output file.
source "$(dirname "$0")/../lib.sh"
R="$PY $(dirname "$0")/ref3d.py"
E="$PY $TOP/examples/sim/encoders.py"
if ! have_py torch; then skip bad_input "python3-torch is not installed"; exit 0; fi

$R gen monai_vit "$T/vit"; $R gen merlin_i3d "$T/mer"; $E gen dinov2 "$T/dino"
$R volumes "$T/v_" 1 8x32x32; $R volumes "$T/odd_" 1 8x30x32; $R volumes "$T/big_" 1 16x32x32
$R volumes "$T/two_" 1 2x8x32x32
mg-stream import -t volume "$T/v_0.npy" >"$T/v.mgt"
mg-stream import -t volume "$T/odd_0.npy" >"$T/odd.mgt"
mg-stream import -t volume "$T/big_0.npy" >"$T/big.mgt"
mg-stream import -t volume "$T/two_0.npy" >"$T/two.mgt"
$E images "$T/img_" 1 3 32 32 >/dev/null; mg-stream import "$T/img_0.npy" >"$T/img.mgt"
$PY -c "import numpy as np; a=np.load('$T/v_0.npy'); a[3,4,5]=np.nan; np.save('$T/nan.npy', a)"
mg-stream import -t volume "$T/nan.npy" >"$T/nan.mgt"

# bad NAME PATTERN ARGS...: exit 1, one line matching PATTERN, no output file
bad() {
    local name=$1 pat=$2; shift 2
    rm -f "$T/out.mgt"
    expect_error "$name" 1 "$pat" mg-encode3d -o "$T/out.mgt" "$@"
    if [ -e "$T/out.mgt" ]; then fail "${name}_no_output" "output file left behind"; fi
}
bad volume_not_multiple_of_patch "odd.mgt: record 1 id odd_0: monai_vit: volume is 8x30x32.*multiple of the patch 2x8x8" \
    -m "$T/vit" "$T/odd.mgt"
bad volume_size_without_pos_interpolation "this model takes 8x32x32" -m "$T/vit" "$T/big.mgt"
bad volume_channels_differ "volume has 2 channels, the model expects 1" -m "$T/vit" "$T/two.mgt"
bad merlin_takes_one_channel "Merlin takes one CT channel" -m "$T/mer" "$T/two.mgt"
bad image_record_to_volume_model "no tensor 'volume' \(an image record; this model takes volumes\)" \
    -m "$T/vit" "$T/img.mgt"
bad volume_record_to_slicewise "no tensor 'image' \(a volume record; slice-wise encoding takes the slice records" \
    -m "$T/dino" "$T/v.mgt"
bad nan_voxels "record 1 id nan: NaN or infinite values in the input" -m "$T/vit" "$T/nan.mgt"
bad slices_option_for_volume_model "monai_vit encodes whole volumes; --slices is for image encoders" \
    -m "$T/vit" -s mean "$T/v.mgt"
rm -f "$T/o2.mgt"
expect_error volume_record_to_encode2d 1 "no tensor 'image' \(a volume record; this model takes images\)" \
    mg-encode2d -m "$T/dino" -o "$T/o2.mgt" "$T/v.mgt"
expect_error volume_model_to_encode2d 1 "monai_vit is a volume encoder; use mg-encode3d" \
    mg-encode2d -m "$T/vit" "$T/img.mgt"
expect_error projected_needs_m3d 1 "projected output needs an m3d_clip checkpoint" \
    mg-encode3d -m "$T/vit" -k projected "$T/v.mgt"
expect_error unknown_slice_pooling 2 "unknown slice pooling 'median'" mg-encode3d -m "$T/vit" -s median "$T/v.mgt"

# Damaged checkpoints: the error names the tensor.
ckpt() { rm -rf "$T/$2"; cp -r "$T/$1" "$T/$2"; }
ckpt vit vit_drop; $E corrupt "$T/vit_drop" drop blocks.1.attn.qkv.weight
bad missing_qkv_tensor "monai_vit: missing tensor 'blocks.1.attn.qkv.weight'" -m "$T/vit_drop" "$T/v.mgt"
ckpt vit vit_shape; $E corrupt "$T/vit_shape" reshape patch_embedding.position_embeddings
bad misshaped_position_embedding "tensor 'patch_embedding.position_embeddings' has shape \[32,64,1,1\], expected \[1,64,32\]" \
    -m "$T/vit_shape" "$T/v.mgt"
ckpt vit vit_extra; $E corrupt "$T/vit_extra" extra blocks.0.attn.rel_pos.weight
bad unexpected_tensor "unexpected tensor 'blocks.0.attn.rel_pos.weight'" -m "$T/vit_extra" "$T/v.mgt"
ckpt mer mer_drop; $E corrupt "$T/mer_drop" drop encode_image.i3_resnet.layer2.1.bn2.running_var
bad merlin_missing_bn_statistics "merlin_i3d: missing tensor 'encode_image.i3_resnet.layer2.1.bn2.running_var'" \
    -m "$T/mer_drop" "$T/v.mgt"
ckpt mer mer_shape; $E corrupt "$T/mer_shape" reshape encode_image.i3_resnet.conv1.weight
bad merlin_misshaped_stem "tensor 'encode_image.i3_resnet.conv1.weight' has shape" -m "$T/mer_shape" "$T/v.mgt"
ckpt vit vit_cfg; $PY -c "import json; p='$T/vit_cfg/config.json'; c=json.load(open(p)); c['proj_type']='hyper'; json.dump(c, open(p,'w'))"
bad unsupported_proj_type "unsupported proj_type 'hyper'" -m "$T/vit_cfg" "$T/v.mgt"
ckpt vit vit_img; $PY -c "import json; p='$T/vit_img/config.json'; c=json.load(open(p)); c['img_size']=[8,32]; json.dump(c, open(p,'w'))"
bad img_size_not_three "'img_size' must be a positive integer or a list of 3" -m "$T/vit_img" "$T/v.mgt"

#!/usr/bin/env bash
# A NIfTI phantom through mg-preprocess's 3D presets into each 3D family: the
# encoder output matches the PyTorch forward of the preprocessed volume.
source "$(dirname "$0")/../lib.sh"
R="$PY $(dirname "$0")/ref3d.py"
if ! have_py torch || ! have_py nibabel; then skip pipeline3d "python3-torch or nibabel missing"; exit 0; fi

$R phantom "$T/ph.nii.gz" 48 40 14
$R gen m3d_clip "$T/m3d"; $R gen monai_vit "$T/vit"; $R gen merlin_i3d "$T/mer"

# through NAME DIR KIND PREPROCESS-OPTIONS...: preset output into mg-encode3d
through() {
    local name=$1 dir=$2 kind=$3 r; shift 3
    rm -f "$T/vol.npy" "$T/out.npy"
    if ! mg-preprocess "$@" "$T/ph.nii.gz" >"$T/p.mgt" 2>"$T/err" ||
       ! mg-stream export -t volume -o "$T/vol.npy" "$T/p.mgt" 2>>"$T/err" ||
       ! mg-preprocess "$@" "$T/ph.nii.gz" 2>>"$T/err" | mg-encode3d -m "$dir" -k "$kind" -@ 2 2>>"$T/err" |
         mg-stream export -o "$T/out.npy" - 2>>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    if r=$($R check "$dir" "$kind" "$T/vol.npy" -- "$T/out.npy" 2>&1); then pass "$name"; else fail "$name" "$r"; fi
}
# m3d: min-max, crop to foreground, resize (32 x 32 x 8 here instead of 256 x 256 x 32)
through preset_m3d_into_m3d_clip "$T/m3d" projected -p m3d --resize 32,32,8
through preset_m3d_into_monai_vit_tokens "$T/vit" tokens -p m3d --resize 32,32,8
# merlin: RAS, 1.5 x 1.5 x 3 mm, [-1000, 1000] -> [0, 1], pad/crop (32 x 32 x 16 here)
through preset_merlin_into_i3d_resnet "$T/mer" projected -p merlin --crop-pad 32,32,16
through preset_merlin_into_i3d_resnet_tokens "$T/mer" tokens -p merlin --crop-pad 32,32,16

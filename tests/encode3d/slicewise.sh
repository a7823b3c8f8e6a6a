#!/usr/bin/env bash
# Slice-wise (2.5D) mg-encode3d: the slices mg-preprocess's medgemma-ct preset
# takes of a volume, each through an image encoder, pooled across slices — equal
# to running mg-encode2d on every slice and pooling the results in numpy.
source "$(dirname "$0")/../lib.sh"
R="$PY $(dirname "$0")/ref3d.py"
E="$PY $TOP/examples/sim/encoders.py"
if ! have_py torch || ! have_py nibabel; then skip slicewise "python3-torch or nibabel missing"; exit 0; fi

$E gen gemma3 "$T/g3"; $E gen dinov2 "$T/dino"
$R phantom "$T/ph.nii.gz"; $R phantom "$T/ph2.nii.gz" 36 40 10
mg-preprocess -p medgemma-ct -s 32 --slices 5 "$T/ph.nii.gz" >"$T/sl.mgt"
mg-preprocess -p medgemma-ct -s 32 --slices 4 "$T/ph2.nii.gz" >"$T/sl2.mgt"
mg-stream cat "$T/sl.mgt" "$T/sl2.mgt" >"$T/both.mgt"

# pooled NAME DIR KIND POOL [options]: mg-encode3d -s POOL on both volumes equals
# mg-encode2d per slice, pooled by ref3d.py slices
pooled() {
    local name=$1 dir=$2 kind=$3 pool=$4 i; shift 4
    local l2=; [[ " $* " == *" --l2 "* ]] && l2=--l2
    rm -f "$T"/s_*.npy "$T"/p_*.npy
    if ! mg-encode3d -m "$dir" -k "$kind" -s "$pool" "$@" "$T/both.mgt" >"$T/o.mgt" 2>"$T/err" ||
       ! mg-stream export -o "$T/p_{n}.npy" "$T/o.mgt" 2>>"$T/err" ||
       ! mg-encode2d -m "$dir" -k "$kind" "$T/both.mgt" >"$T/s.mgt" 2>>"$T/err" ||
       ! mg-stream export -o "$T/s_{n}.npy" "$T/s.mgt" 2>>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    local a=() b=() r
    for i in 1 2 3 4 5; do a+=("$T/s_$i.npy"); done
    for i in 6 7 8 9; do b+=("$T/s_$i.npy"); done
    if r=$($R slices "${a[@]}" -- "$T/p_1.npy" --pool "$pool" $l2 2>&1) &&
       r=$($R slices "${b[@]}" -- "$T/p_2.npy" --pool "$pool" $l2 2>&1) &&
       [ ! -e "$T/p_3.npy" ]; then pass "$name"; else fail "$name" "$r"; fi
}
pooled slicewise_gemma3_projected_tokens_stacked "$T/g3" projected tokens
pooled slicewise_gemma3_mean_of_slice_means "$T/g3" mean mean -b 3
pooled slicewise_gemma3_max_over_slices_l2 "$T/g3" mean max --l2
pooled slicewise_dinov2_cls_mean_two_threads "$T/dino" pooled mean -@ 2 -b 2
pooled slicewise_dinov2_tokens_stacked "$T/dino" tokens tokens -b 4

mg-encode3d -m "$T/dino" "$T/both.mgt" -o "$T/meta.mgt" && mg-stream info "$T/meta.mgt" >"$T/info"
if [ "$(grep -c '^record [0-9]' "$T/info")" = 2 ] && grep -q "n_slices=5" "$T/info" &&
   grep -q "n_slices=4" "$T/info" && ! grep -q "slice=" "$T/info" && grep -q "id=ph2" "$T/info"
then pass slicewise_one_record_per_volume_with_metadata
else fail slicewise_one_record_per_volume_with_metadata "$(head -c 400 "$T/info")"; fi

# Slices out of order (another volume's slices in between) are an error.
mg-stream head -n 2 "$T/sl.mgt" >"$T/h1.mgt"
mg-stream cat "$T/h1.mgt" "$T/sl2.mgt" >"$T/short.mgt"
expect_error slicewise_missing_slices_rejected 1 "2 of its n_slices=5" \
    mg-encode3d -m "$T/dino" "$T/short.mgt" -o "$T/short_out.mgt"
[ -e "$T/short_out.mgt" ] && fail slicewise_no_output_on_error "output written" || pass slicewise_no_output_on_error

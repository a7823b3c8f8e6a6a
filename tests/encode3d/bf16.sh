#!/usr/bin/env bash
# mg-encode3d --precision bf16 on Merlin's I3D ResNet: every convolution and the
# contrastive head through the oneDNN bf16 matmul (bf16 products, fp32
# accumulation; batch norm folded in fp32 before the weights are rounded),
# against the float64 forward of ref3d.py and against PyTorch's own bf16
# forward (ref3d.py bf16check).
#
# Why cosine >= 0.999 per embedding / token: bf16 keeps 8 significant bits, so
# every rounded weight and activation carries a relative error up to 2^-9
# (0.2%); sums stay fp32, so the error of a row grows only layer by layer, to
# about 0.5-1% on these networks (measured: cosine 0.99997 or more). A cosine
# of 0.999 allows ~4.5% (1 - cos ~ e^2/2): room for deeper checkpoints, while a
# real mistake (a weight packed wrongly, a lost bias, residual or ReLU) moves a
# row far more. The PyTorch bf16 condition (see ref3d.py) is independent of it.
source "$(dirname "$0")/../lib.sh"
R="$PY $TOP/tests/encode3d/ref3d.py"
if ! have_py torch; then skip encode3d_bf16 "python3-torch is not installed"; exit 0; fi
if ! grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
    skip encode3d_bf16 "this CPU has neither AVX512_BF16 nor AMX"; exit 0
fi
cd "$T"
$R gen merlin_i3d mer || { fail encode3d_bf16 "cannot generate merlin_i3d"; exit 0; }
$R gen merlin_i3d mer_b --dtype BF16 --seed 3
$R volumes m_ 2 12x20x16 && mg-stream import -t volume m_0.npy m_1.npy >m.mgt

# bf16 NAME DIR KIND [options]
bf16() {
    local name=$1 dir=$2 kind=$3; shift 3
    rm -f o_*.npy
    if ! mg-encode3d -m "$dir" -k "$kind" "$@" m.mgt >o.mgt 2>err.txt ||
       ! mg-stream export -o "o_{n}.npy" o.mgt 2>>err.txt; then
        fail "$name" "$(head -c 300 err.txt)"; return
    fi
    local r; r=$($R bf16check "$dir" "$kind" 0.999 m_0.npy m_1.npy -- o_1.npy o_2.npy 2>&1)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}
bf16 merlin_i3d_bf16_projected_within_bound mer projected --precision bf16
bf16 merlin_i3d_bf16_pooled_within_bound mer pooled --precision bf16 -@ 2
bf16 merlin_i3d_bf16_tokens_within_bound mer tokens --precision bf16
bf16 merlin_i3d_bf16_weights_auto_is_bf16 mer_b projected

# auto: bf16 for a checkpoint stored BF16, fp32 for one stored F32; -v says which.
mg-encode3d --no-version -m mer_b -v m.mgt >auto.mgt 2>auto.err
mg-encode3d --no-version -m mer_b --precision bf16 m.mgt >b.mgt
if cmp -s auto.mgt b.mgt && grep -q "precision auto: bf16 (oneDNN" auto.err; then pass merlin_i3d_auto_bf16_for_bf16_weights
else fail merlin_i3d_auto_bf16_for_bf16_weights "$(grep precision auto.err)"; fi
mg-encode3d --no-version -m mer -v m.mgt >a32.mgt 2>a32.err
mg-encode3d --no-version -m mer --precision f32 m.mgt >f32.mgt
if cmp -s a32.mgt f32.mgt && grep -q "precision auto: f32 (OpenBLAS" a32.err; then pass merlin_i3d_auto_f32_for_f32_weights
else fail merlin_i3d_auto_f32_for_f32_weights "$(grep precision a32.err)"; fi
exit 0

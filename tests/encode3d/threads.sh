#!/usr/bin/env bash
# mg-encode3d gives byte-identical streams for -@ 1, 2 and 3: convolution slabs
# and sub-blocks, stem rounds and pooled planes are fixed by the shapes, never
# by the thread count. The volume is large enough for several slabs per
# convolution, several sub-blocks per slab and several stem rounds.
source "$(dirname "$0")/../lib.sh"
R="$PY $TOP/tests/encode3d/ref3d.py"
if ! have_py torch; then skip encode3d_threads "python3-torch is not installed"; exit 0; fi
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then cpu_bf16=1; else cpu_bf16=0; fi
cd "$T"
$R gen merlin_i3d mer || { fail encode3d_threads "cannot generate merlin_i3d"; exit 0; }
$R gen m3d_clip m3d || { fail encode3d_threads "cannot generate m3d_clip"; exit 0; }
$R volumes big_ 1 40x64x64 && mg-stream import -t volume big_0.npy >big.mgt
$R volumes v_ 2 8x32x32 && mg-stream import -t volume v_0.npy v_1.npy >v.mgt

# same NAME DIR VOLS [options]: -@ 1, 2, 3 give the same bytes
same() {
    local name=$1 dir=$2 vol=$3 t; shift 3
    for t in 1 2 3; do
        if ! mg-encode3d --no-version -m "$dir" -@ $t "$@" -o "o$t.mgt" "$vol" 2>err.txt; then
            fail "$name" "-@ $t: $(head -c 200 err.txt)"; return
        fi
    done
    if cmp -s o1.mgt o2.mgt && cmp -s o1.mgt o3.mgt; then pass "$name"; else fail "$name" "outputs differ"; fi
}
same merlin_i3d_projected_identical_for_1_2_3 mer big.mgt
same merlin_i3d_tokens_identical_for_1_2_3 mer big.mgt -k tokens
same m3d_clip_tokens_identical_for_1_2_3 m3d v.mgt -k tokens
if [ $cpu_bf16 = 1 ]; then
    same merlin_i3d_bf16_tokens_identical_for_1_2_3 mer big.mgt -k tokens --precision bf16
else
    skip merlin_i3d_bf16_tokens_identical_for_1_2_3 "this CPU has neither AVX512_BF16 nor AMX"
fi
exit 0

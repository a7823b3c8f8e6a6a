#!/usr/bin/env bash
# mg-encode2d --precision: the bf16 back end (oneDNN, bf16 products, fp32
# accumulation) on every encoder family, against the float64 forward and against
# PyTorch's own bf16 forward (encoders.py bf16check), plus the choice of back end.
#
# Why cosine >= 0.999 per embedding / token: bf16 keeps 8 significant bits, so
# each rounded operand carries a relative error up to 2^-9 (0.2%); products
# accumulate in fp32 and norms, softmax and residuals stay fp32, so a row's
# error grows only through the layers, to about 1% on these models. A cosine
# of 0.999 allows a relative error of ~4.5% per row (1 - cos ~ e^2/2): room for
# deeper models, while a real mistake (a transposed or unpacked weight, a lost
# bias or activation) moves rows by far more. The second condition is stricter
# and independent: the program's error must not exceed that of PyTorch's bf16.
source "$(dirname "$0")/../lib.sh"
E="$PY $(dirname "$0")/../../examples/sim/encoders.py"
if ! have_py torch; then skip bf16 "python3-torch is not installed"; exit 0; fi
# The CPU's own flags, not oneDNN's answer: bf16 dot products (AVX512_BF16 or AMX).
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then cpu_bf16=1; else cpu_bf16=0; fi

images() {   # images PREFIX N C H W
    $E images "$T/$1_" "$2" "$3" "$4" "$5" 11 || return 1
    local f=() i
    for ((i = 0; i < $2; i++)); do f+=("$T/$1_$i.npy"); done
    mg-stream import "${f[@]}" >"$T/$1.mgt"
}
# bf16 NAME DIR KIND IMAGES N [options]: a --precision bf16 run passes bf16check
bf16() {
    local name=$1 dir=$2 kind=$3 img=$4 n=$5 t=embedding i; shift 5
    case $kind in tokens|projected) t=tokens;; esac
    rm -f "$T"/o_*.npy
    if ! mg-encode2d -m "$dir" -k "$kind" --precision bf16 "$@" "$T/$img.mgt" >"$T/o.mgt" 2>"$T/err" ||
       ! mg-stream export -t $t -o "$T/o_{n}.npy" "$T/o.mgt" 2>>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    local ins=() outs=()
    for ((i = 0; i < n; i++)); do ins+=("$T/${img}_$i.npy"); outs+=("$T/o_$((i + 1)).npy"); done
    local r; r=$($E bf16check "$dir" "$kind" 0.999 "${ins[@]}" -- "${outs[@]}" 2>&1)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}

for f in siglip siglip_vision_model gemma3 dinov2 dinov2_with_registers vit; do
    $E gen $f "$T/$f" --dtype BF16 || fail "generate $f"
done
$E gen vit "$T/vit_quick" --set hidden_act='"quick_gelu"' --set qkv_bias=false
$E gen dinov2 "$T/dinov2_tanh" --dtype F16 --set hidden_act='"gelu_pytorch_tanh"' --set mlp_ratio=2.5
$E gen gemma3 "$T/gemma3_model" --prefix model. --dtype BF16
images sig 3 3 96 96; images svm 2 3 24 24; images sq 3 3 32 32; images g3 2 3 32 32

if [ $cpu_bf16 = 1 ]; then
    bf16 siglip_pooled_bf16_within_bound "$T/siglip" pooled sig 3
    bf16 siglip_tokens_bf16_within_bound "$T/siglip" tokens sig 3 -@ 2
    bf16 siglip_vision_model_bf16_within_bound "$T/siglip_vision_model" pooled svm 2
    bf16 gemma3_projector_bf16_within_bound "$T/gemma3" projected g3 2
    bf16 gemma3_tower_tokens_bf16_within_bound "$T/gemma3_model" tokens g3 2
    bf16 dinov2_cls_bf16_within_bound "$T/dinov2" pooled sq 3
    bf16 dinov2_registers_swiglu_bf16_within_bound "$T/dinov2_with_registers" tokens sq 3
    bf16 vit_cls_bf16_within_bound "$T/vit" pooled sq 3 -b 1
    bf16 vit_f32_weights_quick_gelu_converted_at_load "$T/vit_quick" pooled sq 3
    bf16 dinov2_f16_weights_tanh_gelu_converted_at_load "$T/dinov2_tanh" pooled sq 3

    # Same bytes for any thread count: 3 × 576 tokens are 14 row blocks of 128.
    for th in 1 2 3; do
        mg-encode2d --no-version -m "$T/siglip" -k tokens --precision bf16 -@ $th "$T/sig.mgt" >"$T/th$th.mgt"
    done
    if cmp -s "$T/th1.mgt" "$T/th2.mgt" && cmp -s "$T/th1.mgt" "$T/th3.mgt"; then pass bf16_identical_for_1_2_3_threads
    else fail bf16_identical_for_1_2_3_threads "outputs differ"; fi

    # auto: bf16 for BF16 weights on this CPU, and -v names the back end and ISA.
    mg-encode2d --no-version -m "$T/siglip" -v "$T/sig.mgt" >"$T/auto.mgt" 2>"$T/auto.err"
    mg-encode2d --no-version -m "$T/siglip" --precision bf16 "$T/sig.mgt" >"$T/b.mgt"
    if cmp -s "$T/auto.mgt" "$T/b.mgt" && grep -q "precision auto: bf16 (oneDNN.*avx512_core" "$T/auto.err"
    then pass auto_is_bf16_for_bf16_weights_and_verbose_names_isa
    else fail auto_is_bf16_for_bf16_weights_and_verbose_names_isa "$(grep precision "$T/auto.err")"; fi
else
    skip bf16_forward "this CPU has neither AVX512_BF16 nor AMX"
fi

# auto on F32 weights is the fp32 back end: the same bytes as --precision f32.
mg-encode2d --no-version -m "$T/vit_quick" -v "$T/sq.mgt" >"$T/a32.mgt" 2>"$T/a32.err"
mg-encode2d --no-version -m "$T/vit_quick" --precision f32 "$T/sq.mgt" >"$T/f32.mgt"
if cmp -s "$T/a32.mgt" "$T/f32.mgt" && grep -q "precision auto: f32 (OpenBLAS" "$T/a32.err"
then pass auto_is_f32_for_f32_weights; else fail auto_is_f32_for_f32_weights "$(grep precision "$T/a32.err")"; fi

# A CPU without bf16 (oneDNN capped at AVX-512 without BF16): an explicit bf16 is
# an error, auto falls back to fp32.
export ONEDNN_MAX_CPU_ISA=AVX512_CORE
rm -f "$T/bad.mgt"
expect_error bf16_without_cpu_support_is_an_error 1 \
    "^mg-encode2d: error: .*siglip: bf16 precision needs a CPU with AVX512_BF16 or AMX \(oneDNN reports avx512_core\)" \
    mg-encode2d -m "$T/siglip" --precision bf16 -o "$T/bad.mgt" "$T/sig.mgt"
[ -e "$T/bad.mgt" ] && fail "bf16_without_cpu_support_is_an_error (no output file)" "bad.mgt was written"
mg-encode2d --no-version -m "$T/siglip" -v "$T/sig.mgt" >"$T/nb.mgt" 2>"$T/nb.err"
mg-encode2d --no-version -m "$T/siglip" --precision f32 "$T/sig.mgt" >"$T/nbf.mgt"
if cmp -s "$T/nb.mgt" "$T/nbf.mgt" && grep -q "precision auto: f32" "$T/nb.err"
then pass auto_without_cpu_support_is_f32; else fail auto_without_cpu_support_is_f32 "$(grep precision "$T/nb.err")"; fi
unset ONEDNN_MAX_CPU_ISA

expect_error unknown_precision_is_a_usage_error 2 "^mg-encode2d: unknown precision 'fp8' \(f32, bf16, auto\)" \
    mg-encode2d -m "$T/vit" --precision fp8 "$T/sq.mgt"
exit 0

#!/usr/bin/env bash
# mg-decode zeroshot --precision: the SigLIP text tower's matrix products (the
# layers' six matrices and the head) on the oneDNN bf16 back end, against the
# float64 reference of examples/sim/siglip_text.py (itself cross-checked with
# PyTorch in float64); the choice of back end; -@ independence at bf16.
#
# Why cosine >= 0.999 per text embedding: bf16 keeps 8 significant bits, so
# each rounded weight and activation carries a relative error up to 2^-9
# (0.2%); products accumulate in fp32 and the norms, softmax and residual
# stream stay fp32, so an embedding's error grows only layer by layer, to about
# 1% (1 - cos ~ 5e-5). A cosine of 0.999 allows ~4.5% (1 - cos ~ e^2/2): room
# for deeper towers, while a real mistake (a weight packed wrongly, a lost bias
# or activation) moves an embedding far more. With one prompt per class, each
# saved class embedding is one text embedding, normalised.
source "$(dirname "$0")/../lib.sh"
S="$PY $TOP/examples/sim/siglip_text.py"
for m in torch sentencepiece; do
    if ! have_py $m; then skip zeroshot_bf16 "python3-$m is not installed"; exit 0; fi
done
if ! command -v spm_train >/dev/null; then skip zeroshot_bf16 "spm_train (sentencepiece) is not installed"; exit 0; fi
cd "$T"
"$PY" - corpus.txt <<'PY'
import random, sys
random.seed(5)
w = ("chest x-ray shows pleural effusion cardiomegaly pneumothorax normal lungs fracture rib "
     "opacity consolidation edema nodule mass no finding left right with without").split()
with open(sys.argv[1], "w") as f:
    for _ in range(2000):
        f.write(" ".join(random.choice(w) for _ in range(random.randint(3, 12))) + "\n")
PY
spm_train --input=corpus.txt --model_prefix=sp --vocab_size=120 --hard_vocab_limit=false \
    --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 >/dev/null 2>&1 ||
    { fail zeroshot_bf16 "spm_train failed"; exit 0; }
$S gen ck16 sp.model --dtype BF16 --seed 4 || { fail zeroshot_bf16 "cannot generate a checkpoint"; exit 0; }
$S gen ck sp.model --seed 6 || { fail zeroshot_bf16 "cannot generate a checkpoint"; exit 0; }
printf '%s\n' $'effusion\tA chest X-ray showing pleural effusion.' $'normal\tnormal lungs, no finding' \
    $'pneumothorax\tpneumothorax (right)' $'cardiomegaly\tcardiomegaly with edema' >prompts.tsv

# embcheck NAME CKPT [options]: the saved class embeddings within the bound
embcheck() {
    local name=$1 ck=$2; shift 2
    rm -f c_*.npy
    if ! mg-decode zeroshot -m "$ck" -p prompts.tsv "$@" --save-text "$name.mgt" --text-only 2>err.txt ||
       ! mg-stream export -t embedding -o "c_{n}.npy" "$name.mgt" 2>>err.txt; then
        fail "$name" "$(head -c 300 err.txt)"; return
    fi
    local r; r=$("$PY" - "$TOP/examples/sim" "$ck" c_{1..4}.npy <<'PY' 2>&1
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import siglip_text
_, C, _, _ = siglip_text.class_embeddings(sys.argv[2], "prompts.tsv")
got = np.stack([np.load(f).astype(np.float64).ravel() for f in sys.argv[3:]])
if got.shape != C.shape:
    sys.exit("shape %s, reference %s" % (got.shape, C.shape))
cos = (got * C).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(C, axis=1))
print("min cosine %.6f, max rel err %.3g" % (cos.min(), np.abs(got - C).max() / np.abs(C).max()))
sys.exit(0 if np.isfinite(got).all() and cos.min() >= 0.999 else 1)
PY
)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}

if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
    embcheck text_tower_bf16_within_bound ck16 --precision bf16
    embcheck text_tower_f32_weights_bf16_converted_at_load ck --precision bf16 -@ 2
    for th in 1 2 3; do
        mg-decode zeroshot --no-version -m ck16 -p prompts.tsv --precision bf16 -@ $th \
            --save-text "th$th.mgt" --text-only
    done
    if cmp -s th1.mgt th2.mgt && cmp -s th1.mgt th3.mgt; then pass text_tower_bf16_identical_for_1_2_3_threads
    else fail text_tower_bf16_identical_for_1_2_3_threads "outputs differ"; fi
    mg-decode zeroshot --no-version -m ck16 -p prompts.tsv --save-text auto.mgt --text-only
    if cmp -s auto.mgt th1.mgt; then pass auto_is_bf16_for_bf16_weights
    else fail auto_is_bf16_for_bf16_weights "auto and bf16 differ"; fi
else
    skip text_tower_bf16 "this CPU has neither AVX512_BF16 nor AMX"
fi
# auto on F32 weights is the fp32 back end
mg-decode zeroshot --no-version -m ck -p prompts.tsv --save-text a32.mgt --text-only
mg-decode zeroshot --no-version -m ck -p prompts.tsv --precision f32 --save-text f32.mgt --text-only
if cmp -s a32.mgt f32.mgt; then pass auto_is_f32_for_f32_weights; else fail auto_is_f32_for_f32_weights "outputs differ"; fi
embcheck text_tower_f32_on_bf16_weights_within_bound ck16 --precision f32

# A CPU without bf16 (oneDNN capped at AVX-512 without BF16): an explicit bf16 is an error.
rm -f bad.mgt
ONEDNN_MAX_CPU_ISA=AVX512_CORE expect_error bf16_without_cpu_support_is_an_error 1 \
    "^mg-decode: error: .*ck16.*bf16 precision needs a CPU with AVX512_BF16 or AMX" \
    mg-decode zeroshot -m ck16 -p prompts.tsv --precision bf16 --save-text bad.mgt --text-only
[ -e bad.mgt ] && fail "bf16_without_cpu_support_is_an_error (no output file)" "bad.mgt was written"
expect_error unknown_precision_is_a_usage_error 2 "^mg-decode: unknown precision 'fp8' \(f32, bf16, auto\)" \
    mg-decode zeroshot -m ck16 -p prompts.tsv --precision fp8 --text-only --save-text bad.mgt
exit 0

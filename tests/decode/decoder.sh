#!/usr/bin/env bash
# mg-decode generate against two independent forwards of the Gemma 3 text
# decoder (float64 numpy and float64 PyTorch, gemma3.py) on tiny random
# checkpoints with the published tensor names and config keys: logits at every
# processed position within 1e-4 relative, the same greedy continuation, and
# reproducible sampling. Prompts are token ids, so no tokenizer is involved.
# The prompt rows run in fp32 (--precision f32) for the 1e-4 checks; the bf16
# back end (oneDNN, bf16 products with fp32 accumulation) is held to a cosine of
# 0.999 per position: a bf16 rounding of both factors leaves a relative error of
# about 2^-8 per product, ~1e-3 over a sum of random-signed terms, and the
# logits' direction moves by its square (cosine 1 - ~1e-5 observed).
source "$(dirname "$0")/../lib.sh"
G="$PY $(dirname "$0")/../../examples/sim/gemma3.py"
if ! have_py torch; then skip decoder "python3-torch is not installed"; exit 0; fi

# Sliding window 8 and prompts of 30+ positions: every sliding layer masks keys.
$G gen "$T/text_f32" --type gemma3_text || fail gen text_f32
$G gen "$T/text_bf16" --type gemma3_text --dtype BF16 --seed 2 || fail gen text_bf16
$G gen "$T/text_f16" --type gemma3_text --dtype F16 --seed 9 || fail gen text_f16
$G gen "$T/mm_old" --type gemma3 --layout old --dtype BF16 --vision --shards 2 --seed 3 || fail gen mm_old
$G gen "$T/mm_new" --type gemma3 --layout new --dtype F32 --vision --seed 4 || fail gen mm_new
$G gen "$T/untied" --type gemma3_text --top tie_word_embeddings=false --seed 5 \
    --set attention_bias=true --set final_logit_softcapping=3.0 --set attn_logit_softcapping=2.0 || fail gen untied
$G gen "$T/mm_capped" --type gemma3 --set final_logit_softcapping=0.5 --seed 6 || fail gen mm_capped
$G gen "$T/types" --type gemma3_text --seed 7 \
    --set 'layer_types=["full_attention","sliding_attention","sliding_attention","full_attention"]' \
    --set 'rope_scaling=null' --set hidden_activation='"gelu"' || fail gen types
$G gen "$T/ropeparams" --type gemma3_text --seed 8 --set 'rope_scaling=null' \
    --set 'rope_parameters={"full_attention":{"rope_type":"linear","factor":4.0,"rope_theta":50000.0},"sliding_attention":{"rope_type":"default","rope_theta":100.0}}' \
    || fail gen ropeparams
$G image "$T/img1.npy" "$T/mm_old" --seed 11
$G image "$T/img2.npy" "$T/mm_old" --seed 12
mg-stream import -t tokens --id case1 "$T/img1.npy" >"$T/i1.mgt"
mg-stream import -t tokens --id case1 "$T/img2.npy" >"$T/i2.mgt"
mg-stream cat "$T/i1.mgt" "$T/i2.mgt" >"$T/two.mgt"

TEXT_IDS=$($G ids 34 --seed 1)
# <start_of_image>=280, soft token 290 (4 per image), <end_of_image>=281
IMG_IDS="2 105 50 51 10 280 290 290 290 290 281 10 60 61 62 63 64 65 280 290 290 290 290 281 10 70 71 72 106 10 105 80 10"

# parity NAME DIR "IDS" N [images a.npy,b.npy] [mg-decode options...]
# ($CHECK: options of gemma3.py check, the tolerance)
CHECK=
parity() {
    local name=$1 dir=$2 ids=$3 n=$4 imgs=$5; shift 5
    rm -f "$T/l.npy"
    if ! mg-decode -m "$dir" --prompt-ids "$ids" -n "$n" --dump-logits "$T/l.npy" --no-timings \
            --precision f32 "$@" >"$T/o.json" 2>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    local toks r
    toks=$($PY -c "import json,sys; print(' '.join(map(str, json.load(open(sys.argv[1]))['ids'])))" "$T/o.json")
    r=$($G check "$dir" "$T/l.npy" $ids --images "$imgs" --gen "$n" --tokens "$toks" $CHECK 2>&1)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}

parity text_f32_logits_and_greedy_match_references "$T/text_f32" "$TEXT_IDS" 8 ""
parity text_bf16_weights_used_as_stored "$T/text_bf16" "$TEXT_IDS" 8 ""
parity text_f16_weights "$T/text_f16" "$TEXT_IDS" 8 ""
parity text_two_threads "$T/text_bf16" "$TEXT_IDS" 8 "" -@ 2
parity multimodal_original_names_two_images_bidirectional "$T/mm_old" "$IMG_IDS" 6 \
    "$T/img1.npy,$T/img2.npy" "$T/two.mgt"
parity multimodal_model_language_model_names "$T/mm_new" "$IMG_IDS" 6 \
    "$T/img1.npy,$T/img2.npy" "$T/two.mgt" -@ 2
parity images_per_prompt_groups_records "$T/mm_new" "$IMG_IDS" 4 \
    "$T/img1.npy,$T/img2.npy" --images-per-prompt 2 "$T/two.mgt"
parity untied_head_bias_and_softcaps "$T/untied" "$TEXT_IDS" 8 ""
parity conditional_generation_ignores_final_softcap "$T/mm_capped" "$TEXT_IDS" 5 ""
parity layer_types_erf_gelu_unscaled_rope "$T/types" "$TEXT_IDS" 8 ""
parity rope_parameters_per_layer_type "$T/ropeparams" "$TEXT_IDS" 8 ""
# A prompt longer than one prefill chunk (512 rows) with the cache filled in two passes.
LONG_IDS=$($G ids 600 --seed 9)
parity long_prompt_in_chunks "$T/text_bf16" "$LONG_IDS" 3 ""
# Sliding layers keep 1.5 windows of keys and move the last window to the front
# when full: a generation of 100 tokens crosses the window (8) a dozen times and
# the buffer several times, after a prompt that widened it.
parity long_generation_crosses_sliding_window "$T/text_bf16" "$TEXT_IDS" 100 ""
parity long_generation_after_chunked_prompt "$T/mm_new" "$LONG_IDS" 40 ""

# The bf16 prompt path (on CPUs with AVX512_BF16 or AMX).
if mg-decode -m "$T/text_bf16" --prompt-ids 2 -n 1 --precision bf16 >/dev/null 2>"$T/err"; then
    CHECK="--cos 0.999"
    parity bf16_prompt_text "$T/text_bf16" "$TEXT_IDS" 8 "" --precision bf16
    parity bf16_prompt_fp32_stored_weights "$T/text_f32" "$TEXT_IDS" 8 "" --precision bf16
    parity bf16_prompt_two_images_bidirectional "$T/mm_old" "$IMG_IDS" 6 \
        "$T/img1.npy,$T/img2.npy" "$T/two.mgt" --precision bf16
    parity bf16_prompt_bias_and_softcaps "$T/untied" "$TEXT_IDS" 8 "" --precision bf16
    parity bf16_long_prompt_in_chunks_then_long_generation "$T/text_bf16" "$LONG_IDS" 60 "" \
        --precision bf16 -@ 2
    CHECK=
    same=1
    for d in text_bf16 mm_new; do
        for t in 1 2; do
            mg-decode -m "$T/$d" --prompt-ids "$LONG_IDS" -n 20 --dump-logits "$T/t$t.npy" --no-timings \
                --precision bf16 -@ $t >"$T/t$t.json" 2>"$T/err" || same=0
        done
        cmp -s "$T/t1.npy" "$T/t2.npy" && cmp -s "$T/t1.json" "$T/t2.json" || same=0
    done
    if [ $same = 1 ]; then pass bf16_prompt_identical_for_threads
    else fail bf16_prompt_identical_for_threads "logits or ids differ between -@ 1 and -@ 2 $(head -c 200 "$T/err")"; fi
    mg-decode -m "$T/text_bf16" --prompt-ids 2 -n 1 -v 2>"$T/v1" >/dev/null
    mg-decode -m "$T/text_f32" --prompt-ids 2 -n 1 -v 2>"$T/v2" >/dev/null
    if grep -q 'prompt rows bf16 (oneDNN' "$T/v1" && grep -q 'prompt rows f32' "$T/v2"; then
        pass auto_precision_bf16_only_for_bf16_weights
    else fail auto_precision_bf16_only_for_bf16_weights "$(cat "$T/v1" "$T/v2" | head -c 300)"; fi
else
    skip bf16_prompt "no bf16 matmul on this CPU: $(head -c 200 "$T/err")"
fi

# Greedy output does not depend on threads; sampling is reproducible for a seed.
ids_of() { $PY -c "import json,sys; print(' '.join(str(json.loads(l)['ids']) for l in open(sys.argv[1])))" "$1"; }
sample() {
    mg-decode -m "$T/text_bf16" --prompt-ids "$TEXT_IDS" -n 12 --no-timings --temperature 1.5 \
        --top-k 50 --top-p 0.95 --min-p 0.01 "$@" >"$T/s.json" 2>"$T/err" && ids_of "$T/s.json"
}
a=$(sample --seed 7); b=$(sample --seed 7 -@ 2); c=$(sample --seed 8)
if [ -n "$a" ] && [ "$a" = "$b" ]; then pass sampling_reproducible_for_seed_and_threads
else fail sampling_reproducible_for_seed_and_threads "'$a' vs '$b' $(cat "$T/err")"; fi
if [ -n "$c" ] && [ "$a" != "$c" ]; then pass sampling_depends_on_seed
else fail sampling_depends_on_seed "'$a' vs '$c'"; fi
g1=$(mg-decode -m "$T/text_bf16" --prompt-ids "$TEXT_IDS" -n 12 --no-timings | tr -d '\n')
g2=$(mg-decode -m "$T/text_bf16" --prompt-ids "$TEXT_IDS" -n 12 --no-timings -@ 2 | tr -d '\n')
if [ -n "$g1" ] && [ "$g1" = "$g2" ]; then pass output_identical_for_threads
else fail output_identical_for_threads "$g1 | $g2"; fi
# A repetition penalty changes a greedy continuation that repeats itself.
r=$(mg-decode -m "$T/text_bf16" --prompt-ids "$TEXT_IDS" -n 12 --no-timings --repeat-penalty 3 >"$T/r.json" && ids_of "$T/r.json")
if [ -n "$r" ] && [ "$r" != "$(ids_of <(echo "$g1"))" ]; then pass repeat_penalty_changes_greedy_output
else fail repeat_penalty_changes_greedy_output "$r"; fi
# Generation stops at an end-of-sequence id from config.json: make the first
# greedy id that differs from the first one an eos id.
mkdir -p "$T/eos" && ln -s "$T/text_bf16/model.safetensors" "$T/eos/"
$PY - "$T/text_bf16/config.json" "$T/eos/config.json" "$g1" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
ids = json.loads(sys.argv[3])["ids"]
c["eos_token_id"] = [1, next(t for t in ids if t != ids[0])]
json.dump(c, open(sys.argv[2], "w"))
PYEOF
mg-decode -m "$T/eos" --prompt-ids "$TEXT_IDS" -n 12 --no-timings >"$T/e.json" 2>"$T/err"
if $PY -c "
import json, sys
o, f = json.load(open(sys.argv[1])), json.loads(sys.argv[2])['ids']
k = next(i for i, t in enumerate(f) if t != f[0])
assert o['stop'] == 'eos' and o['ids'] == f[:k] and o['generated_tokens'] == k, (o, f)" "$T/e.json" "$g1" 2>"$T/err2"
then pass stops_at_config_eos; else fail stops_at_config_eos "$(cat "$T/err" "$T/err2" | head -c 300)"; fi

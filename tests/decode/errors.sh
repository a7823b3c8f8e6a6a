#!/usr/bin/env bash
# mg-decode generate on bad input: one error line, exit 1 (2 for usage), no output.
source "$(dirname "$0")/../lib.sh"
G="$PY $(dirname "$0")/../../examples/sim/gemma3.py"

$G gen "$T/ok" --type gemma3 --vision || fail gen ok
$G image "$T/img.npy" "$T/ok"
mg-stream import -t tokens --id x "$T/img.npy" >"$T/one.mgt"
mg-stream cat "$T/one.mgt" "$T/one.mgt" >"$T/two.mgt"
$PY -c "import numpy as np; np.save('$T/wide.npy', np.zeros((4, 49), np.float32))"
mg-stream import -t tokens --id x "$T/wide.npy" >"$T/wide.mgt"
IDS="2 105 50 280 290 290 290 290 281 10 106 10 105 10"
NOIMG="2 105 50 51 52 106 10 105 10"

$G gen "$T/missing" --type gemma3 --drop language_model.model.layers.1.mlp.up_proj.weight
expect_error missing_tensor_named 1 "missing tensor 'language_model.model.layers.1.mlp.up_proj.weight'" \
    mg-decode -m "$T/missing" --prompt-ids "$NOIMG" -o "$T/out.json"
[ -e "$T/out.json" ] && fail no_output_file_on_error "out.json exists" || pass no_output_file_on_error
$G gen "$T/yarn" --type gemma3_text --set 'rope_scaling={"rope_type":"yarn","factor":4.0}'
expect_error unsupported_rope_scaling 1 "unsupported rope_scaling type 'yarn'" \
    mg-decode -m "$T/yarn" --prompt-ids "$NOIMG"
$G gen "$T/gqa" --type gemma3_text --set num_key_value_heads=3
expect_error heads_not_multiple_of_kv_heads 1 "unsupported attention settings|shape" \
    mg-decode -m "$T/gqa" --prompt-ids "$NOIMG"
$G gen "$T/lt" --type gemma3_text --set 'layer_types=["full_attention","chunked_attention","full_attention","full_attention"]'
expect_error unsupported_layer_type 1 "unsupported layer type 'chunked_attention'" \
    mg-decode -m "$T/lt" --prompt-ids "$NOIMG"
mkdir -p "$T/llama" && echo '{"model_type": "llama"}' >"$T/llama/config.json"
expect_error model_type_without_decoder 1 "model_type 'llama' has no decoder" \
    mg-decode -m "$T/llama" --prompt-ids "$NOIMG"
$G gen "$T/extra" --type gemma3_text --extra model.layers.0.self_attn.rotary_emb.inv_freq
expect_error unexpected_text_tensor 1 "unexpected tensor 'model.layers.0.self_attn.rotary_emb.inv_freq'" \
    mg-decode -m "$T/extra" --prompt-ids "$NOIMG"
$G gen "$T/text" --type gemma3_text
expect_error tokens_width_not_hidden 1 "tokens f32 \[4,49\]; the decoder takes float \[4,48\]" \
    mg-decode -m "$T/ok" --prompt-ids "$IDS" "$T/wide.mgt"
expect_error more_images_than_positions 1 "2 images for 1 image position" \
    mg-decode -m "$T/ok" --prompt-ids "$IDS" "$T/two.mgt"
expect_error fewer_images_than_positions 1 "0 images for 1 image position" \
    mg-decode -m "$T/ok" --prompt-ids "$IDS"
expect_error broken_soft_token_run 1 "run of 3 image soft tokens" \
    mg-decode -m "$T/ok" --prompt-ids "2 280 290 290 290 281 10" "$T/one.mgt"
expect_error images_for_text_only_decoder 1 "text-only decoder" \
    mg-decode -m "$T/text" --prompt-ids "$IDS" "$T/one.mgt"
expect_error prompt_longer_than_context 1 "prompt of 14 tokens does not fit the context of 10" \
    mg-decode -m "$T/ok" --prompt-ids "$IDS" --ctx 10 "$T/one.mgt"
expect_error context_beyond_model 1 "context 5000 exceeds max_position_embeddings 1024" \
    mg-decode -m "$T/ok" --prompt-ids "$NOIMG" --ctx 5000
expect_error token_id_outside_embedding 1 "token id 300 outside the embedding" \
    mg-decode -m "$T/ok" --prompt-ids "2 300"
expect_error truncated_stream 1 "truncated|end record" \
    sh -c "head -c 200 '$T/one.mgt' | mg-decode -m '$T/ok' --prompt-ids '$IDS' -"
expect_error no_model_is_usage 2 "-m DIR" mg-decode --prompt-ids "$NOIMG"
expect_error bad_temperature_is_usage 2 "invalid --temperature" \
    mg-decode -m "$T/ok" --prompt-ids "$NOIMG" --temperature -1
expect_error unknown_mode_is_usage 2 "unknown command 'frobnicate'" mg-decode frobnicate
expect_error unknown_precision_is_usage 2 "unknown precision 'fp8'" \
    mg-decode -m "$T/ok" --prompt-ids "$NOIMG" --precision fp8

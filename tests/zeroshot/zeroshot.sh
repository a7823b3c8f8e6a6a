#!/usr/bin/env bash
# mg-decode zeroshot and --tokenize on tiny random SiglipModel checkpoints (both
# towers, real tensor names) with a SentencePiece model trained here: ids
# against python3-sentencepiece, the text tower and the scores against a float64
# reference written from the published math and cross-checked with PyTorch
# (examples/sim/siglip_text.py).
source "$(dirname "$0")/../lib.sh"
S="$PY $TOP/examples/sim/siglip_text.py"
E="$PY $TOP/examples/sim/encoders.py"
for m in torch sentencepiece; do
    if ! have_py $m; then skip zeroshot "python3-$m is not installed"; exit 0; fi
done
if ! command -v spm_train >/dev/null; then skip zeroshot "spm_train (sentencepiece) is not installed"; exit 0; fi

# A corpus of radiology words; a unigram model with SigLIP's special ids (pad 0, </s> 1, <unk> 2).
"$PY" - "$T/corpus.txt" <<'EOF'
import random, sys
random.seed(3)
w = ("chest x-ray shows pleural effusion cardiomegaly pneumothorax normal lungs fracture of the "
     "rib opacity consolidation atelectasis edema nodule mass no finding support device lesion "
     "skin melanoma nevus benign malignant retina diabetic retinopathy severe mild photo a an "
     "with without left right").split()
with open(sys.argv[1], "w") as f:
    for _ in range(3000):
        f.write(" ".join(random.choice(w) for _ in range(random.randint(3, 12))) + "\n")
EOF
spm_train --input="$T/corpus.txt" --model_prefix="$T/sp" --vocab_size=150 --hard_vocab_limit=false \
    --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 >/dev/null 2>&1 ||
    fail spm_train_builds_the_tokenizer

$S gen "$T/ck" "$T/sp.model" || fail generate_checkpoint
$S gen "$T/ck16" "$T/sp.model" --dtype BF16 --seed 2 || fail generate_bf16_checkpoint
$S gen "$T/wide" "$T/sp.model" --vset hidden_size=48 || fail generate_wide_checkpoint
$S gen "$T/nohead" "$T/sp.model" --drop text_model.head.weight || fail generate_headless_checkpoint

# Prompts: several per class, upper case (Latin, Greek, Cyrillic), punctuation,
# runs of (no-break) spaces, one longer than 64 pieces (truncated, </s> kept last).
long=$(for i in $(seq 40); do printf 'pleural effusion '; done)
printf '%s\n' \
    $'effusion\tA chest X-ray showing pleural effusion.' \
    $'effusion\tpleural   effusion, LEFT!!' \
    $'normal\tNormal lungs; no finding' \
    $'pneumothorax\tpneumothorax (right)' \
    "effusion	$long" \
    $'cardiomegaly\tcardiomegaly' \
    $'cardiomegaly\tKARDIOMEGALIE  \u00c9NORME\u00a0\u0178 \u039a\u0391\u03a1\u0394\u0399\u0391 \u041f\u041d\u0415\u0412\u041c\u041e \u0130' >"$T/prompts.tsv"
cut -f2 "$T/prompts.tsv" >"$T/texts.txt"

# --tokenize: the rows the text tower reads, as SiglipTokenizer makes them.
if mg-decode -m "$T/ck" --tokenize "$T/texts.txt" >"$T/ids.txt" 2>"$T/err" &&
   $S ids "$T/ck" "$T/texts.txt" >"$T/ids_ref.txt" && cmp -s "$T/ids.txt" "$T/ids_ref.txt" &&
   [ "$(awk '{print NF}' "$T/ids.txt" | sort -u)" = 64 ]; then
    pass tokenize_lowercased_padded_to_64_matches_sentencepiece
else fail tokenize_lowercased_padded_to_64_matches_sentencepiece "$(head -c 300 "$T/err"; diff "$T/ids.txt" "$T/ids_ref.txt" | head -4)"; fi
if mg-decode zeroshot -m "$T/ck" --tokenize <"$T/texts.txt" | cmp -s - "$T/ids_ref.txt"; then
    pass tokenize_in_the_zeroshot_mode_and_from_stdin
else fail tokenize_in_the_zeroshot_mode_and_from_stdin; fi
# a plain SentencePiece file: its own ids, and back
if printf 'pleural effusion\n' | mg-decode -m "$T/sp.model" --tokenize >"$T/plain.txt" &&
   [ "$("$PY" -c 'import sentencepiece as s, sys; print(*s.SentencePieceProcessor(model_file=sys.argv[1]).encode("pleural effusion"))' "$T/sp.model")" = "$(cat "$T/plain.txt")" ] &&
   [ "$(mg-decode -m "$T/sp.model" --detokenize <"$T/plain.txt")" = "pleural effusion" ]; then
    pass tokenize_and_detokenize_a_sentencepiece_model
else fail tokenize_and_detokenize_a_sentencepiece_model "$(cat "$T/plain.txt")"; fi

# Image embeddings of the same checkpoint (the vision tower's pooled output).
$E images "$T/img_" 6 3 32 32 || fail make_images
mg-stream import -m modality=CR "$T"/img_{0..5}.npy >"$T/img.mgt"
if mg-encode2d -m "$T/ck" "$T/img.mgt" >"$T/emb.mgt" && mg-stream export -t embedding -o "$T/e_{n}.npy" "$T/emb.mgt" &&
   r=$($E check "$T/ck" pooled "$T"/img_{0..5}.npy -- "$T"/e_{1..6}.npy 2>&1); then
    pass vision_pooled_of_the_same_checkpoint_matches_torch
else fail vision_pooled_of_the_same_checkpoint_matches_torch "${r:-}"; fi
embs=("$T"/e_{1..6}.npy)

# scores NAME CKPT [options]: zero-shot scores against the reference
scores() {
    local name=$1 ck=$2 sm=; shift 2
    [[ " $* " == *" --softmax "* ]] && sm=--softmax
    if ! mg-decode zeroshot -m "$ck" -p "$T/prompts.tsv" "$@" "$T/emb.mgt" >"$T/$name.tsv" 2>"$T/err"; then
        fail "$name" "$(head -c 300 "$T/err")"; return
    fi
    local r; r=$($S check "$ck" "$T/prompts.tsv" "${embs[@]}" -- "$T/$name.tsv" $sm 2>&1)
    if [ $? = 0 ]; then pass "$name"; else fail "$name" "$r"; fi
}
scores sigmoid_scores_match_float64_reference "$T/ck"
scores softmax_across_classes_matches_reference "$T/ck" --softmax
scores two_threads_match_reference "$T/ck" -@ 2
if cmp -s "$T/sigmoid_scores_match_float64_reference.tsv" "$T/two_threads_match_reference.tsv"; then
    pass output_identical_for_any_thread_count
else fail output_identical_for_any_thread_count; fi

# The text embeddings: written once (mgt), equal to the reference, reused.
if mg-decode zeroshot -m "$T/ck" -p "$T/prompts.tsv" --save-text "$T/text.mgt" --text-only 2>"$T/err" &&
   mg-stream export -t embedding -o "$T/c_{n}.npy" "$T/text.mgt" &&
   r=$($S textemb "$T/ck" "$T/prompts.tsv" "$T"/c_{1..4}.npy 2>&1); then
    pass saved_class_embeddings_match_reference
else fail saved_class_embeddings_match_reference "${r:-$(head -c 300 "$T/err")}"; fi
if mg-decode zeroshot --text-embeddings "$T/text.mgt" "$T/emb.mgt" >"$T/reuse.tsv" &&
   cmp -s "$T/reuse.tsv" "$T/sigmoid_scores_match_float64_reference.tsv"; then
    pass reused_text_embeddings_give_the_same_scores
else fail reused_text_embeddings_give_the_same_scores; fi

# bf16 weights: the text tower in file dtype with fp32 activations (the bf16
# back end, which auto would pick on a CPU with bf16, is tests/zeroshot/bf16.sh)
if mg-encode2d -m "$T/ck16" --precision f32 "$T/img.mgt" >"$T/emb16.mgt" && rm -f "$T"/e_*.npy &&
   mg-stream export -t embedding -o "$T/e_{n}.npy" "$T/emb16.mgt" &&
   mg-decode zeroshot -m "$T/ck16" --precision f32 -p "$T/prompts.tsv" "$T/emb16.mgt" >"$T/bf16.tsv" &&
   r=$($S check "$T/ck16" "$T/prompts.tsv" "${embs[@]}" -- "$T/bf16.tsv" 2>&1); then
    pass bf16_checkpoint_matches_reference
else fail bf16_checkpoint_matches_reference "${r:-}"; fi

# mgt prediction records, and the TSV that mg-score classify reads
if mg-decode zeroshot -m "$T/ck" -p "$T/prompts.tsv" -O mgt "$T/emb.mgt" >"$T/pred.mgt" &&
   [ "$(mg-stream info "$T/pred.mgt" 2>/dev/null | grep -c pred)" -ge 1 ]; then
    pass mgt_prediction_records
else fail mgt_prediction_records; fi
printf 'id\tlabel\nimg_0\teffusion\nimg_1\tnormal\nimg_2\tpneumothorax\nimg_3\tcardiomegaly\nimg_4\teffusion\nimg_5\tnormal\n' >"$T/truth.tsv"
check mg_score_classify_reads_the_softmax_columns \
    mg-score classify "$T/softmax_across_classes_matches_reference.tsv" "$T/truth.tsv"

# Bad input: one line, exit 1, nothing written.
head -c 200 "$T/sp.model" >"$T/trunc.model"
mkdir -p "$T/badtok" && cp "$T/ck/config.json" "$T/ck/model.safetensors" "$T/badtok/" &&
    cp "$T/trunc.model" "$T/badtok/spiece.model"
expect_error truncated_tokenizer_model_is_an_error 1 'error: .*badtok' \
    mg-decode zeroshot -m "$T/badtok" -p "$T/prompts.tsv" -o "$T/out.tsv" "$T/emb.mgt"
head -c 3000 /dev/urandom >"$T/badtok/spiece.model"
expect_error corrupt_tokenizer_model_is_an_error 1 'error: .*badtok' \
    mg-decode zeroshot -m "$T/badtok" -p "$T/prompts.tsv" -o "$T/out.tsv" "$T/emb.mgt"
printf 'effusion\tpleural effusion\nnormal\n' >"$T/noprompt.tsv"
expect_error class_without_prompt_is_an_error 1 "noprompt.tsv: line 2: class 'normal' has no prompt" \
    mg-decode zeroshot -m "$T/ck" -p "$T/noprompt.tsv" -o "$T/out.tsv" --save-text "$T/t2.mgt" "$T/emb.mgt"
printf 'effusion\tpleural effusion\nnormal\t\n' >"$T/noprompt2.tsv"
expect_error class_with_empty_prompt_is_an_error 1 "line 2: class 'normal' has no prompt" \
    mg-decode zeroshot -m "$T/ck" -p "$T/noprompt2.tsv" -o "$T/out.tsv" "$T/emb.mgt"
mg-encode2d -m "$T/wide" "$T/img.mgt" >"$T/emb48.mgt"
expect_error embedding_width_mismatch_is_an_error 1 "emb48.mgt: record 1 .*48 values, the text embeddings 32" \
    mg-decode zeroshot -m "$T/ck" -p "$T/prompts.tsv" -o "$T/out.tsv" --save-text "$T/t2.mgt" "$T/emb48.mgt"
expect_error missing_text_tensor_is_an_error 1 "text_model.head.weight" \
    mg-decode zeroshot -m "$T/nohead" -p "$T/prompts.tsv" -o "$T/out.tsv" "$T/emb.mgt"
expect_error missing_text_tensor_fails_tokenize_too 1 "text_model.head.weight" \
    mg-decode -m "$T/nohead" --tokenize "$T/texts.txt"
if [ -e "$T/out.tsv" ] || [ -e "$T/t2.mgt" ] || ls "$T" | grep -q '\.tmp'; then
    fail bad_input_leaves_no_output "$(ls "$T")"
else pass bad_input_leaves_no_output; fi
expect_error prompts_required 2 'required' mg-decode zeroshot -m "$T/ck" "$T/emb.mgt"

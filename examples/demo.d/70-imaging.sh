# demo: imaging to predictions: X-rays, CT volumes and slide tiles through preprocess, encode, probe and score
set -euo pipefail
. "$EXAMPLES/demo_lib.sh"
E="$PY examples/sim/encoders.py"
D="$DEMO/imaging"
mkdir -p "$D"
echo "   (encoders are tiny and random: the AUCs show what random features of these"
echo "    simulated images carry, through the real pipeline, not a trained model's skill)"

# probe NAME LABEL EMBEDDINGS: train a head on the training ids, predict every
# record, score the test ids; one line per stage, result row in $D/result.tsv.
probe() {
    local name=$1 label=$2 emb=$3 dir="$D/$1"
    awk -F'\t' -v d="$dir" -v l="$label" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
            print "id\t" l > d "/train.tsv"; print "id\t" l > d "/test.tsv"; next }
        { print $1 "\t" $c[l] > d "/" $c["split"] ".tsv" }' "$dir/data/labels.tsv"
    stage "mg-fit: logistic probe on $name embeddings (train ids, C by 5-fold CV)" \
        mg-fit -q -@ 2 --labels "$dir/train.tsv" --cv 5 --cv-score log-loss -o "$dir/head" "$emb"
    stage "mg-decode classify: P($label) per record" \
        mg-decode classify -m "$dir/head" -o "$dir/pred.tsv" "$emb"
    stage "mg-score classify: test ids, AUC with DeLong CI, plots" \
        mg-score classify -q --json "$dir/score.json" --plot "$dir/plots" -o "$dir/score.txt" \
        "$dir/pred.tsv" "$dir/test.tsv"
    "$PY" - "$dir/score.json" "$name" "$label" >>"$D/result.tsv" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
d = j["delong"]
print("%s\t%s\t%d\t%.3f (%.3f-%.3f)\t%.3f" % (sys.argv[2], sys.argv[3], j["n"], d["auc"], d["ci_low"],
                                              d["ci_high"], j["metrics"]["balanced_accuracy"]["value"]))
PY
}
printf 'modality\tlabel\ttest records\tAUC (95%% CI, DeLong)\tbalanced accuracy at 0.5\n' >"$D/result.tsv"

# --- X-rays: 16-bit TIFF and PNG, MedSigLIP's preprocessing, a SigLIP tower
X="$D/xray"; mkdir -p "$X"
stage "simulate 80 chest radiographs (16-bit TIFF, PNG), half with cardiomegaly" \
    "$PY" examples/sim/imaging.py xray "$X/data" --n 80
stage "tiny random SigLIP checkpoint, MedSigLIP's input shape (448 px, patch 14)" \
    $E gen siglip "$X/siglip" --set image_size=448 --set patch_size=14
stage "mg-preprocess --preset medsiglip-448 | mg-encode2d: pooled, L2-normalised embeddings" \
    sh -c "mg-preprocess -@ 2 --preset medsiglip-448 '$X'/data/cxr*.* | mg-encode2d -@ 2 -m '$X/siglip' --l2 -o '$X/emb.mgt'"
probe xray cardiomegaly "$X/emb.mgt"

# --- slide tiles: a pyramidal TIFF tiled at 0.5 um/px, each tile its own id
S="$D/slide"; mkdir -p "$S"
stage "simulate a pyramidal slide (SubIFD levels) with tumour regions, labels per tile" \
    "$PY" examples/sim/imaging.py slide "$S/data"
stage "tiny random DINOv2 checkpoint with registers (RAD-DINO / pathology encoder layout)" \
    $E gen dinov2_with_registers "$S/dinov2"
stage "mg-preprocess --slide: 128-px tiles on tissue | mg-encode2d: CLS embeddings" \
    sh -c "mg-preprocess --slide --mpp 0.5 --tile 128 --tile-ids --size 112 --rescale 0.00392156862745098 '$S/data/slide.tif' | mg-encode2d -@ 2 -m '$S/dinov2' -o '$S/emb.mgt'"
probe slide tumour "$S/emb.mgt"

echo "-- imaging to prediction (test ids):"
column -t -s $'\t' "$D/result.tsv" | sed 's/^/   /'
mg-preprocess --preset medsiglip-448 "$X/data/cxr000.tif" | mg-stream export -c 0 -o "$D/xray_preview.png" -
mg-preprocess --slide --mpp 1 --tile 384 --tissue none "$S/data/slide.tif" \
    | mg-stream export -r 2 -o "$D/slide_preview.png" -
section 30 "Imaging to predictions" \
    --text "Each modality through the real pipeline: preprocessing as the published models expect, a tiny random encoder in the published checkpoint layout, a logistic probe (mg-fit) on the training ids, predictions (mg-decode classify) and metrics on the test ids (mg-score). Random weights: the numbers show the pipeline working on simulated images, not a model's skill." \
    --table "$D/result.tsv" --caption "Test-set AUC of the probes" \
    --svg "$X/plots/roc.svg" --svg "$S/plots/roc.svg" \
    --image "$D/xray_preview.png" --label "X-ray after --preset medsiglip-448 (channel 0)" \
    --image "$D/slide_preview.png" --label "a slide region at 1 um/px"

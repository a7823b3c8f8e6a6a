# demo: mg-score: AUC with DeLong and bootstrap CIs, a model comparison, plots, report and VQA metrics
set -euo pipefail
D="$DEMO/score"
mkdir -p "$D"
"$PY" - "$D" <<'PY'
import sys
import numpy as np
D = sys.argv[1]
r = np.random.default_rng(60)
n = 400
y = (r.random(n) < 0.3).astype(int)
a = np.round(np.clip(0.30 * y + r.random(n) * 0.70, 0, 1), 3)
b = np.round(np.clip(0.15 * y + r.random(n) * 0.85, 0, 1), 3)
with open(f"{D}/truth.tsv", "w") as f:
    f.write("id\tcardiomegaly\n" + "".join(f"cxr{i:04d}\t{y[i]}\n" for i in range(n)))
for name, p in (("model_a", a), ("model_b", b)):
    with open(f"{D}/{name}.tsv", "w") as f:
        f.write("id\tcardiomegaly\n" + "".join(f"cxr{i:04d}\t{p[i]}\n" for i in range(n)))
with open(f"{D}/hyp.tsv", "w") as f:
    f.write("id\ttext\nr1\tthe heart size is normal . no pleural effusion\n"
            "r2\tmild cardiomegaly with small left pleural effusion\n")
with open(f"{D}/ref.tsv", "w") as f:
    f.write("id\ttext\nr1\theart size is normal . there is no pleural effusion\n"
            "r2\tcardiomegaly . small left effusion\nr2\tmild cardiomegaly and a small left effusion\n")
with open(f"{D}/vqa_pred.tsv", "w") as f:
    f.write("id\tanswer\nq1\tYes, the heart is enlarged.\nq2\tleft lower lobe\nq3\tno\n")
with open(f"{D}/vqa_truth.tsv", "w") as f:
    f.write("id\tanswer\tanswer_type\nq1\tyes\tclosed\nq2\tthe left lower lobe\topen\nq3\tyes\tclosed\n")
PY
mg-score classify "$D/model_a.tsv" "$D/truth.tsv" --compare "$D/model_b.tsv" \
    --bootstrap 500 --seed 42 -@ 2 --json "$D/classify.json" --plot "$D/plots"
mg-score report "$D/hyp.tsv" "$D/ref.tsv" --json "$D/report.json"
mg-score vqa "$D/vqa_pred.tsv" "$D/vqa_truth.tsv" --json "$D/vqa.json"
echo "plots: $(ls "$D/plots" | tr '\n' ' ')"
. "$EXAMPLES/demo_lib.sh"
section 70 "Metrics as the references compute them" \
    --text "mg-score: ROC AUC with DeLong and bootstrap CIs and a paired comparison of two models, calibration and precision-recall plots, report metrics (BLEU, ROUGE-L, CIDEr-D) and VQA accuracy, each equal to its reference implementation." \
    $(for f in "$D"/plots/*.svg; do printf -- '--svg %s ' "$f"; done)

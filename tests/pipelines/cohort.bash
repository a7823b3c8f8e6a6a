# Shared by the main-job workflow tests (sourced after lib.sh): a small
# simulated cohort, images, a tiny checkpoint, the sample sheet, the Snakemake
# config, the CWL job, and the main job run by hand as one set of pipes.
#   make_cohort DIR      data under DIR
#   by_hand DIR OUT      the main job piped by hand into OUT
#   same_outputs A B PAIRS...  each pair "a-path:b-path" byte-identical (head
#                        directories: config.json and head.safetensors)
export PYTHONPATH="$TOP/examples"
# mg-fit's head depends in its last bits on OpenBLAS's own thread count (which
# Snakemake, cwltool and Toil each set differently): one BLAS thread everywhere.
export OPENBLAS_NUM_THREADS=1
PREP_XRAY="--pad-square --size 96 --mean 0.5 --std 0.5 --channels 3"
PREP_SLIDE="--slide --tile 64 --tissue none --size 96 --mean 0.5 --std 0.5"

make_cohort() {
    local d=$1
    mkdir -p "$d/img"
    "$PY" "$TOP/examples/sim/polygenic.py" --out "$d/cohort" --samples 400 --variants 800 --seed 7 >/dev/null &&
    bgzip -f "$d/cohort/cohort.vcf" && tabix -p vcf "$d/cohort/cohort.vcf.gz" &&
    "$PY" "$TOP/examples/sim/encoders.py" gen siglip "$d/model" >/dev/null &&
    "$PY" - "$d" <<'PY'
import sys, numpy as np, tifffile
from PIL import Image
d = sys.argv[1]
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
xray = {r[0] for r in pick}
with open(f"{d}/samples.tsv", "w") as f:
    f.write("sample\tmodality\timage\tvcf\n")
    for r in rows:
        f.write(f"{r[0]}\txray\timg/{r[0]}.png\tcohort/cohort.vcf.gz\n" if r[0] in xray
                else f"{r[0]}\t\t\tcohort/cohort.vcf.gz\n")
    f.write(f"{rows[0][0]}\tslide\timg/{rows[0][0]}_slide.tif\t\n")
split = {r[0]: r[1] for r in rows}
def files(sp):
    xs = [r[0] for r in pick if split[r[0]] == sp]
    return "".join(f"  - {{class: File, path: {d}/img/{s}.png}}\n" for s in xs), "[" + ", ".join(xs) + "]"
tr, te = files("train"), files("test")
pgs = "".join(f"  - {{class: File, path: {d}/cohort/pgs/PGS9{i:05d}_hmPOS_GRCh38.txt}}\n" for i in range(1, 25))
with open(f"{d}/job.yml", "w") as f:
    f.write(f"labels: {{class: File, path: {d}/cohort/labels.tsv}}\ntarget: CAD\n"
            f"vcf: {{class: File, path: {d}/cohort/cohort.vcf.gz}}\npgs:\n{pgs}"
            f"prs_layout: {{class: File, path: {d}/cohort/layout.tsv}}\n"
            f"train_images:\n{tr[0]}train_ids: {tr[1]}\ntest_images:\n{te[0]}test_ids: {te[1]}\n"
            f"model: {{class: Directory, path: {d}/model}}\n"
            "pad_square: true\nsize: 96\nmean: \"0.5\"\nstd: \"0.5\"\nchannels: 3\nC: 1\nno_version: true\n")
PY
    cat >"$d/config.yaml" <<EOF
samples: $d/samples.tsv
labels: $d/cohort/labels.tsv
target: CAD
pgs: $d/cohort/pgs/*.txt
prs_opts: "--match pos --layout $d/cohort/layout.tsv"
models: {xray: $d/model, slide: $d/model}
prep: {xray: "$PREP_XRAY", slide: "$PREP_SLIDE"}
fit_opts: "--C 1"
no_version: true
EOF
}

# The same commands as the workflows, written out once by hand.
by_hand() {
    local d=$1 o=$2 s sp
    mkdir -p "$o/labels" "$o/prs" "$o/xray/emb" "$o/slide"
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
    local train=() test=()
    for f in "$d"/img/P*.png; do
        s=$(basename "$f" .png)
        mg-preprocess $PREP_XRAY --id "$s" --no-version "$f" | mg-encode2d -m "$d/model" --no-version -o "$o/xray/emb/$s.mgt" || return 1
        if grep -q "^$s	train	" "$d/cohort/labels.tsv"; then train+=("$o/xray/emb/$s.mgt"); else test+=("$o/xray/emb/$s.mgt"); fi
    done
    mg-stream cat --no-version -o "$o/xray/train.mgt" "${train[@]}" &&
    mg-stream cat --no-version -o "$o/xray/test.mgt" "${test[@]}" &&
    mg-fit --C 1 --labels "$o/labels/train.tsv" --no-version -o "$o/xray/head" "$o/xray/train.mgt" 2>/dev/null &&
    mg-decode classify -m "$o/xray/head" "$o/xray/test.mgt" |
        awk -f "$TOP/pipelines/awk/select-ids.awk" "$o/labels/test.tsv" - >"$o/xray/predictions.tsv" &&
    mg-score classify --no-version --json "$o/xray/metrics.json" -o "$o/xray/metrics.txt" \
        "$o/xray/predictions.tsv" "$o/labels/test.tsv" 2>/dev/null || return 1
    f=$(ls "$d"/img/*_slide.tif); s=$(basename "$f" _slide.tif)
    mg-preprocess $PREP_SLIDE --id "$s" --no-version "$f" | mg-encode2d -m "$d/model" --no-version -o "$o/slide/emb.mgt" &&
    mg-stream cat --no-version -o "$o/slide/embeddings.mgt" "$o/slide/emb.mgt"
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

#!/usr/bin/env bash
# The Snakemake and CWL embedding workflows give the same embeddings as the
# programs piped by hand.
source "$(dirname "$0")/../lib.sh"
export PYTHONPATH="$TOP/examples"
"$PY" "$TOP/examples/sim/encoders.py" gen siglip "$T/model" >/dev/null
mkdir -p "$T/img"
"$PY" - "$T/img" <<'PY'
import sys, numpy as np
from PIL import Image
rng = np.random.default_rng(5)
for i, (h, w) in enumerate([(70, 90), (96, 96), (120, 64)]):
    Image.fromarray((rng.random((h, w)) * 255).astype(np.uint8)).save(f"{sys.argv[1]}/cxr{i}.png")
PY
PREP="--pad-square --size 96 --mean 0.5 --std 0.5 --channels 3"
for i in 0 1 2; do
    mg-preprocess $PREP --id cxr$i "$T/img/cxr$i.png" | mg-encode2d -m "$T/model" -o "$T/by-hand-$i.mgt"
done
mg-stream cat "$T"/by-hand-?.mgt -o "$T/by-hand.mgt"

same() {   # same ids and embeddings, in order
    "$PY" - "$1" "$2" <<'PY'
import sys, mgt, numpy as np
_, a = mgt.read(open(sys.argv[1], "rb"))
_, b = mgt.read(open(sys.argv[2], "rb"))
assert [m["id"] for m, _ in a] == [m["id"] for m, _ in b], ([m["id"] for m, _ in a], [m["id"] for m, _ in b])
for (_, x), (_, y) in zip(a, b):
    assert np.array_equal(x["embedding"], y["embedding"])
PY
}

if command -v snakemake >/dev/null; then
    if (cd "$T" && snakemake -s "$TOP/pipelines/snakemake/Snakefile" --cores 2 --quiet \
            --config images="$T/img" model="$T/model" preset=none extra="$PREP" out="$T/smk" >"$T/smk.log" 2>&1); then
        same "$T/by-hand.mgt" "$T/smk/embeddings.mgt" && pass snakemake_embeddings_match_pipe || fail snakemake_embeddings_match_pipe
    else
        fail snakemake_workflow_runs "$(tail -5 "$T/smk.log" | tr '\n' ' ')"
    fi
    # A failing stage fails the job and leaves no output (pipefail + temp-then-rename).
    rm -rf "$T/img2"; mkdir "$T/img2"; echo "not an image" >"$T/img2/bad.png"
    if (cd "$T" && snakemake -s "$TOP/pipelines/snakemake/Snakefile" --cores 1 --quiet \
            --config images="$T/img2" model="$T/model" preset=none extra="$PREP" out="$T/smk2" >"$T/smk2.log" 2>&1); then
        fail snakemake_bad_image_fails_job "workflow succeeded"
    else
        [ ! -e "$T/smk2/per-image/bad.mgt" ] && pass snakemake_bad_image_fails_job || fail snakemake_bad_image_fails_job "partial output left"
    fi
else
    skip snakemake_embeddings_match_pipe "snakemake not installed"
fi

if command -v cwltool >/dev/null; then
    cat >"$T/job.yml" <<YML
images:
  - {class: File, path: $T/img/cxr0.png}
  - {class: File, path: $T/img/cxr1.png}
  - {class: File, path: $T/img/cxr2.png}
model: {class: Directory, path: $T/model}
size: 96
mean: "0.5"
std: "0.5"
channels: 3
YML
    # CWL ids come from the file names; pad-square is the preset-free default here.
    for i in 0 1 2; do
        mg-preprocess --size 96 --mean 0.5 --std 0.5 --channels 3 "$T/img/cxr$i.png" | mg-encode2d -m "$T/model" -o "$T/cwl-hand-$i.mgt"
    done
    mg-stream cat "$T"/cwl-hand-?.mgt -o "$T/cwl-hand.mgt"
    if cwltool --quiet --preserve-environment PATH --outdir "$T/cwl" "$TOP/pipelines/cwl/embed.cwl" "$T/job.yml" >"$T/cwl.log" 2>&1; then
        same "$T/cwl-hand.mgt" "$T/cwl/embeddings.mgt" && pass cwl_embeddings_match_pipe || fail cwl_embeddings_match_pipe
    else
        fail cwl_workflow_runs "$(tail -5 "$T/cwl.log" | tr '\n' ' ')"
    fi
    cwltool --validate "$TOP/pipelines/cwl/embed.cwl" >/dev/null 2>&1 && pass cwl_workflow_validates || fail cwl_workflow_validates
else
    skip cwl_embeddings_match_pipe "cwltool not installed"
fi

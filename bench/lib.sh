# Helpers for bench scripts: timing with medians, peak memory, ratios.
# Each bench script prints rows: workload<TAB>mgpipe<TAB>peer<TAB>ratio<TAB>note
set -u
PY=${PY:-/usr/bin/python3}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/mgpipe-bench}
mkdir -p "$BENCH_DIR"
REPEAT=${MG_BENCH_REPEAT:-5}

# secs CMD...: wall seconds of one run of a shell command string.
secs() {
    local t0 t1
    t0=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1 || { echo "nan"; return 1; }; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
# median_secs CMD: median wall seconds of $REPEAT runs.
median_secs() {
    local i xs=()
    for i in $(seq "$REPEAT"); do xs+=("$(secs "$1")"); done
    printf '%s\n' "${xs[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}
# peak_rss_mb CMD: peak resident memory of one run, MiB.
peak_rss_mb() {
    /usr/bin/time -f '%M' -o "$BENCH_DIR/.rss" bash -c "$1" >/dev/null 2>&1
    awk '{printf "%.0f", $1/1024}' "$BENCH_DIR/.rss"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt() { awk -v a="$1" -v f="$2" 'BEGIN { printf f, a }'; }
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$@"; }

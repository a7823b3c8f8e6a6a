#!/usr/bin/env bash
# Run every bench/*.sh; each prints rows "workload<TAB>mgpipe<TAB>peer<TAB>ratio<TAB>note"
# (figures already formatted, medians of repeated runs). Prints one table.
set -u
cd "$(dirname "$0")/.."
export MG_BIN PY=/usr/bin/python3 PATH="$MG_BIN:$PATH"
rows=$(mktemp); trap 'rm -f "$rows"' EXIT
printf 'workload\tmgpipe\tpeer\tratio\tnote\n' >"$rows"
for b in bench/*.sh; do
    case "$b" in bench/run.sh|bench/lib.sh) continue;; esac
    [ -n "${MG_BENCH_FILTER:-}" ] && [[ "$b" != *${MG_BENCH_FILTER}* ]] && continue
    echo "bench: $b" >&2
    bash "$b" >>"$rows" || printf '%s\tfailed\t-\t-\t-\n' "$b" >>"$rows"
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
column -t -s $'\t' "$rows"

#!/usr/bin/env bash
# Run every test: C unit tests (MG_UNITS) and every tests/*/*.sh script, two at a
# time. Ends with one line "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/.."
export MG_BIN PY=/usr/bin/python3
out=$(mktemp -d "${TMPDIR:-/tmp}/mgrun.XXXXXX")
trap 'rm -rf "$out"' EXIT
jobs=()
for u in ${MG_UNITS:-}; do jobs+=("$u"); done
for s in tests/*/*.sh; do
    case "$s" in */lib.sh|tests/fuzz/*) continue;; esac
    [ -n "${MG_TEST_FILTER:-}" ] && [[ "$s" != *${MG_TEST_FILTER}* ]] && continue
    jobs+=("$s")
done
run_one() {
    local j=$1 log=$2 st
    case "$j" in *.sh) timeout 1800 bash "$j" >"$log" 2>"$log.err";;
                 *) timeout 600 "$j" >"$log" 2>"$log.err";; esac
    st=$?
    echo "$st" >"$log.status"
}
export -f run_one
i=0
for j in "${jobs[@]}"; do
    i=$((i+1)); printf '%s\0%s\0' "$j" "$out/$i"
done | xargs -0 -n2 -P "${MG_TEST_JOBS:-2}" bash -c 'run_one "$0" "$1"'
np=0; nf=0; ns=0; i=0
for j in "${jobs[@]}"; do
    i=$((i+1)); log="$out/$i"; st=$(cat "$log.status" 2>/dev/null || echo 99)
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
    if [ "$st" != 0 ] && [ "$f" = 0 ]; then
        echo "FAIL $j: exited $st without reporting a failure"
        f=1
    fi
    grep '^FAIL \|^SKIP ' "$log" | sed "s|^|  [$j] |"
    if [ "$f" != 0 ] || [ "$st" != 0 ]; then sed 's/^/    stderr: /' "$log.err" | tail -n 15; fi
    printf '%-40s %3d passed %3d failed %3d skipped\n' "$j" "$p" "$f" "$s"
    np=$((np+p)); nf=$((nf+f)); ns=$((ns+s))
done
echo
if [ "$ns" -gt 0 ]; then echo "$np passed, $nf failed, $ns skipped"; else echo "$np passed, $nf failed"; fi
[ "$nf" = 0 ] && [ "$np" -gt 0 ]

# Helpers for the demonstration's steps (examples/demo.d/*.sh source this).

# stage "what it does" CMD ARGS…: run CMD, then print one line with what it did
# and how long it took; on failure the step stops with CMD's status.
stage() {
    local what=$1; shift
    local t0 t1 st=0
    t0=$(date +%s.%N)
    "$@" || st=$?
    t1=$(date +%s.%N)
    if [ "$st" != 0 ]; then echo "   FAILED ($st): $what" >&2; return "$st"; fi
    printf '   %6.2f s  %s\n' "$(echo "$t1 - $t0" | bc)" "$what"
}

# section ORDER "Title" [page.py section options…]: describe what this step made
# for the summary page (DEMO/index.html).
section() {
    local order=$1 title=$2; shift 2
    "$PY" "$EXAMPLES/report/page.py" section "$DEMO/sections/$order-$(echo "$title" | tr -c 'A-Za-z0-9\n' '_' | cut -c1-40).json" \
        --order "$order" --title "$title" "$@"
}

# json_get a.b.c < FILE: one value of a JSON document on stdin.
json_get() {
    "$PY" -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"
}

# Shared helpers for test scripts. A test script prints one line per case:
#   PASS name   |   FAIL name: why   |   SKIP name: why
# and exits 0; a script that exits non-zero without a FAIL line counts as one failure.
# Environment: MG_BIN (the programs), PY (/usr/bin/python3), T (a fresh temp dir).
set -u
PY=${PY:-/usr/bin/python3}
export PATH="$MG_BIN:$PATH"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/mgtest.XXXXXX")
trap 'rm -rf "$T"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; }
skip() { echo "SKIP $1: ${2:-}"; }
# check NAME COMMAND...: PASS if the command succeeds, else FAIL with its stderr.
check() {
    local name=$1; shift
    if "$@" >"$T/.out" 2>"$T/.err"; then pass "$name"
    else fail "$name" "$(head -c 300 "$T/.err" | tr '\n' ' ')"; fi
}
# expect_error NAME STATUS PATTERN COMMAND...: the command must exit with STATUS,
# print exactly one stderr line matching PATTERN (usage errors may add a "Try
# 'prog --help'." line), and nothing on stdout.
expect_error() {
    local name=$1 want=$2 pat=$3; shift 3
    "$@" >"$T/.out" 2>"$T/.err"; local st=$?
    local lines; lines=$(wc -l <"$T/.err")
    if [ "$st" != "$want" ]; then fail "$name" "exit $st, want $want: $(head -c 200 "$T/.err")"
    elif [ "$lines" != 1 ] && ! { [ "$want" = 2 ] && [ "$lines" = 2 ] && tail -n1 "$T/.err" | grep -q "^Try '"; }; then fail "$name" "$lines stderr lines: $(head -c 300 "$T/.err" | tr '\n' '|')"
    elif ! grep -qE -- "$pat" "$T/.err"; then fail "$name" "stderr '$(cat "$T/.err")' !~ /$pat/"
    elif [ -s "$T/.out" ]; then fail "$name" "unexpected stdout"
    else pass "$name"; fi
}
have_py() { "$PY" -c "import $1" 2>/dev/null; }

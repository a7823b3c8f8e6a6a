#!/usr/bin/env bash
# Every man page is mandoc-lint clean, every program has one, and every long
# option its --help lists is documented in it.
source "$(dirname "$0")/../lib.sh"
command -v mandoc >/dev/null || { skip man_pages "mandoc not installed"; exit 0; }
for m in "$TOP"/man/*.[15]; do
    n=$(basename "$m")
    out=$(mandoc -Tlint -W warning "$m" 2>&1)
    [ -z "$out" ] && pass "mandoc_lint_$n" || fail "mandoc_lint_$n" "$(echo "$out" | head -3 | tr '\n' ' ')"
done
for p in "$MG_BIN"/mg-*; do
    n=$(basename "$p")
    m="$TOP/man/$n.1"
    [ -f "$m" ] || { fail "man_page_exists_$n" "no man/$n.1"; continue; }
    help=$("$p" --help 2>&1)
    if [ "$n" = mg-stream ]; then
        for c in info cat head export import; do help+=$'\n'$("$p" "$c" --help 2>&1); done
    else
        # Programs with subcommands list them as "  name  description" under "Commands:".
        for c in $(echo "$help" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && /^  [a-z]/ {print $1}'); do
            help+=$'\n'$("$p" "$c" --help 2>&1)
        done
    fi
    text=$(mandoc -Tascii "$m" 2>/dev/null | col -b)
    missing=""
    for o in $(echo "$help" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
        grep -qF -- "$o" <<<"$text" || missing+=" $o"
    done
    [ -z "$missing" ] && pass "man_documents_every_option_$n" || fail "man_documents_every_option_$n" "missing:$missing"
done

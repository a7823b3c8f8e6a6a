#!/usr/bin/env bash
# Every library header compiles on its own (a .c holding only its #include),
# with the warnings the build uses turned into errors: a header names what it
# needs, so including it first never depends on what came before.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
cc=${CC:-cc}
flags=$(pkg-config --cflags libtiff-4 htslib libzstd openblas jansson libpng libjpeg 2>/dev/null)
for h in common/*.h common/*/*.h; do
    [ -e "$h" ] || continue
    name=${h#common/}
    name=${name%.h}
    printf '#include "%s"\n' "$h" >"$T/one.c"
    # shellcheck disable=SC2086
    if "$cc" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -fsyntax-only -I. -Icommon \
            -I/usr/include/nifti $flags -c "$T/one.c" 2>"$T/one.err"; then
        pass "header_self_contained_${name//\//_}"
    else
        fail "header_self_contained_${name//\//_}" "$(head -c 300 "$T/one.err" | tr '\n' ' ')"
    fi
done

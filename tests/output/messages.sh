#!/usr/bin/env bash
# Error messages: one line naming the program (and subcommand) and the file;
# standard output called (stdout), never (stdin); no doubled reasons; a help
# text that cannot be written is a runtime error (exit 1) with one line.
source "$(dirname "$0")/../lib.sh"
cd "$T"
"$PY" -c "import numpy; numpy.save('a.npy', (numpy.arange(3*16*16) % 251).astype('u1').reshape(3, 16, 16))"
mg-stream import --no-version a.npy >a.mgt || fail setup "import"
printf 'id\tp\na\t0.5\nb\t0.2\nc\t0.7\nd\t0.1\n' >p.tsv
printf 'id\ty\na\t1\nb\t0\nc\t1\nd\t0\n' >y.tsv

# unknown options of a subcommand name the program and the subcommand
for sub in info cat head export import; do
    mg-stream $sub --bogus >o.txt 2>e.txt; st=$?
    if [ $st = 2 ] && head -n1 e.txt | grep -q "^mg-stream $sub: unrecognized option '--bogus'$" && [ ! -s o.txt ]; then
        pass "unknown_option_names_mg-stream_$sub"
    else fail "unknown_option_names_mg-stream_$sub" "exit $st: $(tr '\n' '|' <e.txt)"; fi
done

# --help / --version into a full device: exit 1, one line
full_help() {
    local name=$1; shift
    "$@" >/dev/full 2>e.txt; local st=$?
    if [ $st = 1 ] && [ "$(wc -l <e.txt)" = 1 ] && grep -qE '^mg-[a-z0-9-]+: error: .*(write failed|writing standard output failed)' e.txt; then
        pass "$name"
    else fail "$name" "exit $st: $(tr '\n' '|' <e.txt)"; fi
}
full_help help_full_mg-stream mg-stream --help
full_help help_full_mg-stream_info mg-stream info --help
full_help version_full_mg-stream_cat mg-stream cat --version
full_help help_full_mg-score mg-score --help
full_help help_full_mg-score_classify mg-score classify --help
full_help help_full_mg-preprocess mg-preprocess --help
full_help help_full_mg-prs-image mg-prs-image --help
full_help version_full_mg-prs-image mg-prs-image --version
full_help help_full_mg-encode2d mg-encode2d --help

# write errors on standard output: "(stdout)", and the reason once
stdout_full() {
    local name=$1; shift
    "$@" >/dev/full 2>e.txt; local st=$?
    if [ $st = 1 ] && grep -q ': error: (stdout): ' e.txt && ! grep -q '(stdin)' e.txt \
        && ! grep -q 'write failed: write failed' e.txt && [ "$(grep -c ': error: ' e.txt)" = 1 ]; then
        pass "$name"
    else fail "$name" "exit $st: $(tr '\n' '|' <e.txt)"; fi
}
stdout_full stdout_full_mg-stream_import mg-stream import a.npy
stdout_full stdout_full_mg-stream_cat mg-stream cat a.mgt
stdout_full stdout_full_mg-score_classify mg-score classify -q p.tsv y.tsv
mg-score classify -q --json /dev/full -o /dev/null p.tsv y.tsv 2>e.txt
st=$?; if [ $st = 1 ] && [ "$(wc -l <e.txt)" = 1 ] && ! grep -q 'write failed: write failed' e.txt; then pass json_full_reason_once
else fail json_full_reason_once "exit $st: $(tr '\n' '|' <e.txt)"; fi

# library messages (libpng) are folded into the one line
mg-stream export -f png -o /dev/full a.mgt 2>e.txt; st=$?
if [ $st = 1 ] && [ "$(wc -l <e.txt)" = 1 ] && grep -q '^mg-stream: error: /dev/full: ' e.txt; then pass png_export_full_one_line
else fail png_export_full_one_line "exit $st: $(tr '\n' '|' <e.txt)"; fi

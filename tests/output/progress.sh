#!/usr/bin/env bash
# The progress line of long steps: one line rewritten with \r on a terminal's
# stderr, erased when the step ends or before a message; never in a pipe or
# file, never with -q, never when the output itself goes to the terminal; and
# the results are the same with or without it. A pseudo-terminal comes from
# script(1) (util-linux).
source "$(dirname "$0")/../lib.sh"
cd "$T"
command -v script >/dev/null || { skip progress "no script(1)"; exit 0; }
"$PY" - <<'PY'
import random
random.seed(7)
with open("p.tsv", "w") as f:
    f.write("id\tlabel\tscore\n")
    for i in range(20000):
        y = random.random() < 0.3
        f.write("s%d\t%d\t%.6f\n" % (i, y, min(1, max(0, random.gauss(0.6 if y else 0.4, 0.2)))))
PY
# enough replicates for several seconds of work on any machine of today
boot="classify --label-col label --bootstrap 20000 --seed 3"
# on_tty OUTFILE CMD: run CMD with stderr (and stdin) on a pseudo-terminal;
# what the terminal showed goes to OUTFILE
on_tty() { local out=$1; shift; script -qec "$*" /dev/null >"$out" 2>&1 </dev/null; }

mg-score $boot --no-version -o plain.json p.tsv 2>plain.err || fail setup "mg-score"
if [ ! -s plain.err ]; then pass progress_silent_when_stderr_is_not_a_terminal
else fail progress_silent_when_stderr_is_not_a_terminal "$(head -c 200 plain.err)"; fi

on_tty tty.txt mg-score $boot --no-version -@ 2 -o tty.json p.tsv
if grep -q $'\r''mg-score: [0-9]*/20000 bootstrap replicates ([0-9]*%), [0-9.e+]*/s' tty.txt; then
    pass progress_line_on_a_terminal
else fail progress_line_on_a_terminal "$(head -c 300 tty.txt | od -c | head -n 5 | tr '\n' ' ')"; fi
# the last thing on the terminal erases the line: nothing is left behind
if [ "$(tail -c 4 tty.txt | od -An -c | tr -d ' ')" = '\r033[K' ]; then pass progress_line_erased_at_the_end
else fail progress_line_erased_at_the_end "$(tail -c 40 tty.txt | od -c | tr '\n' ' ')"; fi
if cmp -s plain.json tty.json; then pass progress_does_not_change_results
else fail progress_does_not_change_results "outputs differ"; fi

on_tty quiet.txt mg-score $boot -q -o q.json p.tsv
if [ ! -s quiet.txt ]; then pass progress_silent_with_quiet
else fail progress_silent_with_quiet "$(head -c 200 quiet.txt | od -c | head -n 3 | tr '\n' ' ')"; fi

# results on the terminal are their own progress
on_tty out.txt mg-score $boot --no-version p.tsv
if ! grep -q 'bootstrap replicates' out.txt; then pass progress_silent_when_output_is_the_terminal
else fail progress_silent_when_output_is_the_terminal "progress drawn over the output"; fi

# a message after progress starts on a clean line: the error is the whole
# last line of the terminal once the erase sequences are applied
on_tty err.txt mg-score $boot --no-version -o /dev/full p.tsv
last=$(tr -d '\n' <err.txt | awk 'BEGIN { RS = "\r" } NF { l = $0 } END { print l }' | sed 's/\x1b\[K//g')
if grep -q 'bootstrap replicates' err.txt && [[ "$last" == "mg-score: error: /dev/full: "* ]]; then
    pass progress_erased_before_an_error
else fail progress_erased_before_an_error "last line '$last'"; fi

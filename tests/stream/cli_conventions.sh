#!/usr/bin/env bash
# The conventions every program shares, exercised through mg-stream.
source "$(dirname "$0")/../lib.sh"

"$PY" -c "import numpy as np; np.save('$T/a.npy', np.arange(6000, dtype=np.float32).reshape(6, 1000))"
mg-stream import --no-version "$T/a.npy" -o "$T/a.mgt"
for i in 1 2 3 4 5; do cp "$T/a.npy" "$T/r$i.npy"; done
mg-stream import --no-version "$T"/r?.npy -o "$T/five.mgt"

# --help on stdout, exit 0; --version one line, exit 0.
out=$(mg-stream cat --help) && [[ "$out" == Usage:* ]] && pass help_to_stdout_exit_0 || fail help_to_stdout_exit_0
v=$(mg-stream info --version) && [ "$(echo "$v" | wc -l)" = 1 ] && [[ "$v" == "mg-stream 0.1.0" ]] \
    && pass version_one_line || fail version_one_line "$v"

# Usage errors exit 2.
mg-stream cat --bogus >/dev/null 2>&1; [ $? = 2 ] && pass unknown_option_exit_2 || fail unknown_option_exit_2
mg-stream frobnicate >/dev/null 2>&1; [ $? = 2 ] && pass unknown_command_exit_2 || fail unknown_command_exit_2
mg-stream cat -@ zero "$T/a.mgt" >/dev/null 2>&1; [ $? = 2 ] && pass bad_thread_count_exit_2 || fail bad_thread_count_exit_2

# Data errors: one line "mg-stream: error: FILE: what", exit 1, nothing on stdout.
expect_error missing_file_error 1 '^mg-stream: error: .*/nope.mgt: No such file' mg-stream info "$T/nope.mgt"
echo "plain text" >"$T/text.txt"
expect_error not_a_stream_error 1 '^mg-stream: error: .*text.txt: not an mgt stream' mg-stream info "$T/text.txt"
size=$(stat -c %s "$T/five.mgt")
for cut in 10 30 $((size / 2)) $((size - 1)); do
    head -c $cut "$T/five.mgt" >"$T/cut.mgt"
    expect_error "truncated_at_${cut}_detected_by_cat" 1 'truncated stream' mg-stream cat "$T/cut.mgt" -o "$T/cut-out.mgt"
    [ ! -e "$T/cut-out.mgt" ] && ! ls "$T"/cut-out.mgt.tmp.* >/dev/null 2>&1 \
        && pass "no_partial_output_after_truncation_$cut" || fail "no_partial_output_after_truncation_$cut"
done
# A truncated stream through a pipe: the consumer fails and pipefail sees it.
( set -o pipefail; head -c $((size - 7)) "$T/five.mgt" | mg-stream cat >"$T/piped.mgt" 2>"$T/err" )
[ $? = 1 ] && grep -q 'truncated stream' "$T/err" && pass truncated_pipe_fails_the_pipeline || fail truncated_pipe_fails_the_pipeline
# A flipped byte inside a record: checksum mismatch.
cp "$T/five.mgt" "$T/bad.mgt"
printf '\x55' | dd of="$T/bad.mgt" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_error corrupted_record_detected 1 'checksum mismatch' mg-stream info -q "$T/bad.mgt"

# Write errors: /dev/full ends with status 1 and one error line.
expect_error dev_full_write_error 1 'mg-stream: error: /dev/full: write failed: No space left' mg-stream cat "$T/five.mgt" -o /dev/full
mg-stream info "$T/five.mgt" >/dev/full 2>"$T/err"; st=$?
[ $st = 1 ] && grep -q 'No space left' "$T/err" && pass text_output_to_dev_full_fails || fail text_output_to_dev_full_fails "status $st"
# A reader that goes away: SIGPIPE, non-zero status, no hang.
# (more data than a widened 1 MiB pipe buffer holds, so the writer must block)
"$PY" -c "import numpy as np; np.save('$T/big.npy', np.zeros(1 << 20, dtype=np.float32))"
for i in 1 2 3 4; do echo "$T/big.npy"; done | xargs mg-stream import --no-version -o "$T/many.mgt"
( set -o pipefail; timeout 20 mg-stream cat "$T/many.mgt" | head -c 10 >/dev/null ); st=$?
[ $st != 0 ] && [ $st != 124 ] && pass reader_gone_nonzero_status || fail reader_gone_nonzero_status "status $st"

# Binary output refused on a terminal (run under a pseudo-terminal).
if "$PY" -c "import pty" 2>/dev/null; then
    "$PY" - "$T/a.mgt" "$MG_BIN/mg-stream" >"$T/tty.txt" 2>&1 <<'PY'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], [sys.argv[2], "cat", sys.argv[1]])
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.stdout.write("\nstatus=%d\n" % os.waitstatus_to_exitcode(st))
PY
    grep -q 'refusing to write binary data to a terminal' "$T/tty.txt" && grep -q 'status=1' "$T/tty.txt" \
        && pass binary_refused_on_terminal || fail binary_refused_on_terminal "$(cat "$T/tty.txt")"
fi

# A FIFO output is streamed into, not replaced.
mkfifo "$T/fifo"
mg-stream info "$T/fifo" >"$T/fifo-info.txt" 2>&1 &
mg-stream cat --no-version "$T/five.mgt" -o "$T/fifo"
wait $!
[ -p "$T/fifo" ] && grep -q 'records: 5' "$T/fifo-info.txt" && pass fifo_output_streamed || fail fifo_output_streamed

# Output file written under a temporary name, then renamed; --no-version makes it byte-stable.
mg-stream cat --no-version "$T/five.mgt" -o "$T/c1.mgt"
mg-stream cat --no-version "$T/five.mgt" -o "$T/c2.mgt"
cmp -s "$T/c1.mgt" "$T/c2.mgt" && cmp -s "$T/c1.mgt" "$T/five.mgt" && pass no_version_output_byte_stable || fail no_version_output_byte_stable
# head and slicing
mg-stream head -n 2 -s 1 --no-version "$T/five.mgt" | mg-stream info -n 0 >"$T/h.txt"
grep -q 'records: 2' "$T/h.txt" && pass head_with_skip_selects_records || fail head_with_skip_selects_records "$(cat "$T/h.txt")"
mg-stream cat "$T/five.mgt" "$T/a.mgt" | mg-stream info -n 0 >"$T/c.txt"
grep -q 'records: 6' "$T/c.txt" && pass cat_concatenates || fail cat_concatenates
mg-stream cat <"$T/five.mgt" | mg-stream info -q && pass stdin_is_default_input || fail stdin_is_default_input

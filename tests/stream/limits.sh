#!/usr/bin/env bash
# Record size limit (--max-record-size, man/mgt.5): a small stream whose zstd
# frame decodes to gigabytes is refused before decoding, by every reader, in
# bounded memory; records under the limit still decode.
. "$(dirname "$0")/../lib.sh"
Z="$TOP/tests/stream/zbomb.py"
"$PY" "$Z" "$T/bomb.mgt" $((4 << 30)) || { fail zbomb-make "python"; exit 0; }
"$PY" "$Z" "$T/small.mgt" $((600 << 10))
sz=$(stat -c %s "$T/bomb.mgt")
[ "$sz" -lt 200000 ] && pass "zbomb-size ($sz bytes for 4 GiB)" || fail zbomb-size "$sz"
# 1.5 GB of address space: without the limit the 4 GiB buffer would not fit
# (and decoding would take minutes); with it the record is refused up front.
lim() { (ulimit -v 1500000; "$@"); }
expect_error info-default 1 'record 1: .*over the record size limit of 2147483648 \(--max-record-size\)' lim mg-stream info -q "$T/bomb.mgt"
expect_error export-default 1 'record size limit .*--max-record-size' lim mg-stream export -o "$T/x.npy" "$T/bomb.mgt"
[ -e "$T/x.npy" ] && fail export-leaves "x.npy left" || pass export-leaves-nothing
expect_error head-decoded 1 'record size limit' lim mg-stream info -q "$T/bomb.mgt"
if $PY "$TOP/examples/sim/encoders.py" gen vit "$T/vit" >/dev/null 2>&1; then
    expect_error encode2d-default 1 'record size limit' lim mg-encode2d -m "$T/vit" -o "$T/e.mgt" "$T/bomb.mgt"
    [ -e "$T/e.mgt" ] && fail encode2d-leaves "e.mgt left" || pass encode2d-leaves-nothing
else fail encode2d-default "cannot make a vit checkpoint"; fi
# An explicit limit: 512 KiB refuses the 600 KiB record, 1M accepts it and
# decodes every byte.
expect_error info-512k 1 'over the record size limit of 524288' mg-stream info -q --max-record-size 512K "$T/small.mgt"
check info-1m mg-stream info --max-record-size 1M "$T/small.mgt"
check export-1m mg-stream export --max-record-size 1M -o "$T/s.npy" "$T/small.mgt"
if "$PY" -c "import numpy,sys; a=numpy.load(sys.argv[1]); sys.exit(not (a.shape==(600<<10,) and not a.any()))" "$T/s.npy"; then
    pass export-1m-content; else fail export-1m-content "decoded data differs"; fi
expect_error bad-size 2 'invalid record size limit' mg-stream info --max-record-size 12Q "$T/small.mgt"
expect_error tiny-size 2 'invalid record size limit' mg-stream info --max-record-size 10 "$T/small.mgt"
# A .npy whose header shape is far larger than the file (a fuzzing reproducer,
# tests/fuzz/fuzz_npy.seed) is refused before its data is allocated, from a
# file and from a pipe (bounded by the record size limit there).
"$PY" - "$T/huge.npy" <<'PY'
import sys
h = b"{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000,), }"
h += b" " * (63 - (10 + len(h)) % 64) + b"\n"
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + b"\0" * 16)
PY
expect_error npy-huge-shape 1 'huge.npy: truncated \.npy data' lim mg-stream import -o "$T/h.mgt" "$T/huge.npy"
expect_error npy-huge-shape-pipe 1 'truncated \.npy data' lim sh -c 'cat "$1" | mg-stream import -o "$2" -' sh "$T/huge.npy" "$T/h.mgt"
[ -e "$T/h.mgt" ] && fail npy-huge-leaves "h.mgt left" || pass npy-huge-leaves-nothing

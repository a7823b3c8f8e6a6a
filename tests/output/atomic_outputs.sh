#!/usr/bin/env bash
# Outputs appear whole or not at all: file modes as a plain fopen gives them,
# write failures (a file size limit standing in for a full disk), damaged
# input streams, multi-file exports and plots committed all or nothing, and
# temporaries removed on SIGTERM however many are open, and those SIGKILL
# leaves found by the pattern mgt(5) documents.
source "$(dirname "$0")/../lib.sh"
export PYTHONPATH="$TOP/examples"
cd "$T"

"$PY" - <<'PY'
import mgt, numpy as np, struct, zlib
rng = np.random.default_rng(5)
recs = [({"id": f"r{i}", "spacing": "1,1,1"}, {"volume": rng.standard_normal((4, 5, 6)).astype(np.float32)})
        for i in range(20)]
mgt.write(open("s.mgt", "wb"), recs)
mgt.write(open("one.mgt", "wb"), recs[:1])
big = [({"id": "big", "spacing": "1,1,1"}, {"volume": rng.standard_normal((24, 24, 24)).astype(np.float32)})]
mgt.write(open("big.mgt", "wb"), big)
# the same stream with a wrong END count (checksum made to match)
raw = open("one.mgt", "rb").read()
end = raw[-28:]                  # kind, flags, length, count, crc
assert end[:4] == b"END\0", end
fh = end[:16]
body = struct.pack("<Q", 5)
open("badcount.mgt", "wb").write(raw[:-28] + fh + body + struct.pack("<I", zlib.crc32(fh + body)))
open("noend.mgt", "wb").write(raw[:-28])
open("afterend.mgt", "wb").write(raw + b"REC\0 trailing bytes")
open("cut.mgt", "wb").write(open("s.mgt", "rb").read()[:-100])
# a classification table for the plots
n = 200
y = (rng.random(n) < .3).astype(int); p = np.round(np.clip(.3 * y + rng.random(n) * .7, 0, 1), 3)
open("d.tsv", "w").write("id\tp\ty\n" + "".join(f"i{i}\t{p[i]}\t{y[i]}\n" for i in range(n)))
PY
for f in s one big badcount noend afterend cut; do
    [ -s "$f.mgt" ] || { fail test_data_made "$f.mgt"; exit 0; }
done
[ -s d.tsv ] || { fail test_data_made d.tsv; exit 0; }

# nothing but the named files in a directory (no temporaries left behind)
only() {
    local dir=$1; shift
    local have; have=$(cd "$dir" && ls -A | sort | tr '\n' ' ')
    local want; want=$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')
    [ "$have" = "$want" ] || { echo "have '$have', want '$want'" >&2; return 1; }
}

# ---- modes: 0666 & ~umask, the same for every kind of output
mkdir modes
for out in v.nii.gz v.nii v.npy; do
    (umask 022; mg-stream export --id r0 -o "modes/$out" s.mgt)
done
(umask 022; mg-stream cat -o modes/v.mgt s.mgt; mg-stream info -o modes/v.txt s.mgt)
for f in v.nii.gz v.nii v.npy v.mgt v.txt; do
    m=$(stat -c %a "modes/$f" 2>/dev/null)
    [ "$m" = 644 ] && pass "mode_0644_under_umask_022_${f//./_}" || fail "mode_0644_under_umask_022_${f//./_}" "mode $m"
done
(umask 077; mg-stream export --id r0 -o modes/private.nii.gz s.mgt)
m=$(stat -c %a modes/private.nii.gz)
[ "$m" = 600 ] && pass mode_follows_umask_077 || fail mode_follows_umask_077 "mode $m"

# ---- a write that cannot complete (file size limit: SIGXFSZ is ignored, the
# write fails with EFBIG like on a full disk): exit 1, nothing left
for out in big.nii big.nii.gz big.npy; do
    mkdir -p "lim_$out"
    (ulimit -f 8; mg-stream export -o "lim_$out/$out" big.mgt) 2>"lim_$out.err"; st=$?
    if [ "$st" = 1 ] && only "lim_$out" && [ "$(wc -l <"lim_$out.err")" = 1 ]; then pass "size_limit_${out//./_}_exits_1_leaves_nothing"
    else fail "size_limit_${out//./_}_exits_1_leaves_nothing" "exit $st, $(ls -A "lim_$out") $(head -c 200 "lim_$out.err")"; fi
done
mkdir lim_mgt
(ulimit -f 8; mg-stream cat -o lim_mgt/x.mgt big.mgt) 2>lim_mgt.err; st=$?
[ "$st" = 1 ] && only lim_mgt && pass size_limit_mgt_exits_1_leaves_nothing \
    || fail size_limit_mgt_exits_1_leaves_nothing "exit $st, $(ls -A lim_mgt) $(head -c 200 lim_mgt.err)"
if [ -w /dev/full ]; then
    expect_error npy_to_dev_full_exits_1 1 "No space left on device" mg-stream export --format npy --id r0 -o /dev/full s.mgt
fi

# ---- damaged streams: a single export reads to the end record and fails
for s in noend badcount afterend cut; do
    mkdir "one_$s"
    mg-stream export --id r0 -o "one_$s/x.npy" "$s.mgt" 2>"one_$s.err"; st=$?
    if [ "$st" = 1 ] && only "one_$s" && [ "$(wc -l <"one_$s.err")" = 1 ] && grep -q "^mg-stream: error: $s.mgt: " "one_$s.err"; then pass "single_export_of_${s}_stream_exits_1_leaves_nothing"
    else fail "single_export_of_${s}_stream_exits_1_leaves_nothing" "exit $st, $(ls -A "one_$s") $(head -c 200 "one_$s.err")"; fi
done

# ---- a per-record export of a truncated stream: no file at all
mkdir pat
mg-stream export -o 'pat/x_{n}.npy' cut.mgt 2>pat.err; st=$?
[ "$st" = 1 ] && only pat && grep -q "truncated" pat.err && pass per_record_export_of_truncated_stream_leaves_no_file \
    || fail per_record_export_of_truncated_stream_leaves_no_file "exit $st, $(ls -A pat | head -3)"
mkdir pat_ok
mg-stream export -o 'pat_ok/x_{n}.nii.gz' s.mgt && [ "$(ls pat_ok | grep -c '^x_[0-9]*\.nii\.gz$')" = 20 ] && only pat_ok $(cd pat_ok && ls) \
    && [ -z "$(ls pat_ok | grep tmp)" ] && pass per_record_export_writes_every_file || fail per_record_export_writes_every_file

# ---- plots: all three or none
mkdir -p plots_fail/pr.svg     # a directory where a plot should go: its rename fails
mg-score classify d.tsv --label-col y --plot plots_fail -q >/dev/null 2>plots_fail.err; st=$?
[ "$st" = 1 ] && only plots_fail pr.svg && grep -q "pr.svg" plots_fail.err && pass plots_all_or_nothing_when_one_cannot_be_placed \
    || fail plots_all_or_nothing_when_one_cannot_be_placed "exit $st, $(ls -A plots_fail)"
mkdir plots_lim
(ulimit -f 1; mg-score classify d.tsv --label-col y --bootstrap 20 --plot plots_lim -q >/dev/null) 2>plots_lim.err; st=$?
[ "$st" = 1 ] && only plots_lim && grep -q "File too large" plots_lim.err && pass plots_write_failure_leaves_nothing \
    || fail plots_write_failure_leaves_nothing "exit $st, $(ls -A plots_lim) $(head -c 200 plots_lim.err)"

# ---- SIGTERM with more than 16 temporaries open: all removed. A per-record
# export keeps every finished file as a temporary until the end record, so
# with the last bytes held back 20 temporaries are open at once.
mkdir sig
mkfifo sig.fifo
size=$(stat -c %s s.mgt)
{ head -c $((size - 1)) s.mgt; sleep 30; } >sig.fifo &
feeder=$!
mg-stream export -o 'sig/x_{n}.npy' sig.fifo 2>/dev/null &
pid=$!
for _ in $(seq 100); do
    [ "$(ls sig | wc -l)" -ge 20 ] && break
    sleep 0.1
done
n_open=$(ls sig | wc -l)
kill -TERM "$pid"
wait "$pid"; st=$?
kill "$feeder" 2>/dev/null; wait "$feeder" 2>/dev/null
if [ "$n_open" = 20 ] && [ "$st" = $((128 + 15)) ] && only sig; then pass sigterm_removes_20_open_temporaries
else fail sigterm_removes_20_open_temporaries "$n_open open, exit $st, left: $(ls -A sig | head -3)"; fi

# ---- SIGKILL cannot be caught: the temporaries stay, under the names that
# mgt(5) FILES documents, and no file appears under a final name
for ext in npy nii.gz; do
    d=kill_${ext//./_}
    mkdir -p "$d"; rm -f kill.fifo; mkfifo kill.fifo
    { head -c $((size - 1)) s.mgt; sleep 30; } >kill.fifo &
    feeder=$!
    mg-stream export -o "$d/x_{n}.$ext" kill.fifo 2>/dev/null &
    pid=$!
    for _ in $(seq 100); do
        [ "$(ls "$d" | wc -l)" -ge 20 ] && break
        sleep 0.1
    done
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null; st=$?
    kill "$feeder" 2>/dev/null; wait "$feeder" 2>/dev/null
    found=$(find "$d" \( -name '*.tmp.??????' -o -name '*.tmp.??????.nii' -o -name '*.tmp.??????.nii.gz' \) -type f | wc -l)
    final=$(find "$d" -type f -name "x_*.$ext" ! -name '*.tmp.*' | wc -l)
    if [ "$st" = $((128 + 9)) ] && [ "$found" = 20 ] && [ "$final" = 0 ] && [ "$(ls -A "$d" | wc -l)" = 20 ]; then
        pass "sigkill_leaves_temporaries_found_by_documented_pattern_${ext//./_}"
    else
        fail "sigkill_leaves_temporaries_found_by_documented_pattern_${ext//./_}" "exit $st, $found found, $final final: $(ls -A "$d" | head -3 | tr '\n' ' ')"
    fi
done

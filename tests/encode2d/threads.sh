#!/usr/bin/env bash
# Every encoder family gives byte-identical output streams for -@ 1, 2 and 3,
# for its default output and for tokens (OpenBLAS's own thread split used to
# change the last bits of DINOv2's products).
source "$(dirname "$0")/../lib.sh"
have_py torch || { skip encode2d_threads "no PyTorch"; exit 0; }
E="$PY $TOP/examples/sim/encoders.py"
cd "$T"
$E images im_ 3 3 32 32 9 >/dev/null && mg-stream import --no-version im_*.npy >im.mgt || { fail setup "images"; exit 0; }
$E images big_ 2 3 96 96 9 >/dev/null && mg-stream import --no-version big_*.npy >big.mgt
for f in siglip siglip_vision_model gemma3 dinov2 dinov2_with_registers vit; do
    $E gen $f "m_$f" >/dev/null 2>&1 || { fail "threads_$f" "cannot generate"; continue; }
    img=im.mgt; [ $f = siglip ] && img=big.mgt
    grep -q '"image_size": *24' "m_$f/config.json" && { $E images s_ 2 3 24 24 9 >/dev/null; mg-stream import --no-version s_*.npy >s.mgt; img=s.mgt; }
    for k in default tokens; do
        kk=(); [ $k = tokens ] && kk=(-k tokens)
        [ $f = gemma3 ] && [ $k = tokens ] && kk=(-k projected)
        ok=1
        for t in 1 2 3; do
            mg-encode2d -m "m_$f" "${kk[@]}" -@ $t --no-version -o "o$t.mgt" "$img" 2>err.txt || { ok=0; fail "threads_${f}_$k" "-@ $t: $(head -c 200 err.txt)"; break; }
        done
        [ $ok = 1 ] || continue
        if cmp -s o1.mgt o2.mgt && cmp -s o1.mgt o3.mgt; then pass "threads_${f}_${k}_identical_for_1_2_3"
        else fail "threads_${f}_${k}_identical_for_1_2_3" "outputs differ"; fi
    done
done

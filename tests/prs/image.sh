#!/usr/bin/env bash
# The PRS image records: blocks of z-scores placed as the layout says, checked
# with numpy against z-scores computed from plink2's own .sscore SUM columns.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v plink2 >/dev/null; then skip prs_image "plink2 not installed"; exit 0; fi
if ! have_py numpy; then skip prs_image "numpy missing"; exit 0; fi

"$PY" "$HERE/../../examples/sim/sim_cohort.py" --out "$T/c" --samples 60 --variants 500 --scores 5 --seed 21 --chroms 4
plink2 --vcf "$T/c.vcf" --score "$T/c.score" header-read cols=+scoresums,+denom \
    --score-col-nums 3-7 --out "$T/p" >/dev/null 2>&1 || { fail prs_image "plink2 failed"; exit 0; }
# two traits: A with three channels (p0, p2, p4) and B with two (p1, p3)
printf 'traitA_p0\tA\ntraitB_p1\tB\ntraitA_p2\tA\ntraitB_p3\tB\ntraitA_p4\tA\n' >"$T/layout.tsv"

# check NAME STREAM LAYOUT-JSON [STATS]: every image against plink2 z-scores
check_images() {
    local name=$1 stream=$2 layout=$3 stats=${4:-}
    rm -rf "$T/npy"; mkdir -p "$T/npy"
    if ! mg-stream export -t prs -o "$T/npy/{id}.npy" "$stream" 2>"$T/err"; then
        fail "$name" "export: $(cat "$T/err")"; return
    fi
    if "$PY" - "$T/p.sscore" "$T/npy" "$layout" "$stats" >"$T/out" 2>&1 <<'EOF'
import json, sys, numpy as np
sscore, npydir, layout, stats = sys.argv[1:5]
rows = [l.rstrip("\n").split("\t") for l in open(sscore)]
head, body = rows[0], rows[1:]
L = json.load(open(layout))
sums = {h[:-4]: np.array([float(r[i]) for r in body]) for i, h in enumerate(head) if h.endswith("_SUM")}
if stats:
    st = {l.split("\t")[0]: (float(l.split("\t")[1]), float(l.split("\t")[2]))
          for l in open(stats) if not l.startswith("#")}
else:
    st = {k: (v.mean(), v.std()) for k, v in sums.items()}
B, R, C, K = L["block"], L["rows"], L["cols"], L["channels"]
for si, r in enumerate(body):
    img = np.load("%s/%s.npy" % (npydir, r[0]))
    assert img.shape == (K, R * B, C * B), img.shape
    want = np.zeros_like(img)
    for t in L["traits"]:
        for ch, name in enumerate(t["scores"]):
            if name is None: continue
            m, sd = st[name]
            want[ch, t["row"]*B:(t["row"]+1)*B, t["col"]*B:(t["col"]+1)*B] = (sums[name][si] - m) / sd
    # plink2 prints 6 significant digits, so compare to that precision
    if not np.allclose(img, want, rtol=1e-4, atol=2e-4):
        print("sample", r[0], "max diff", np.abs(img - want).max()); sys.exit(1)
EOF
    then pass "$name"; else fail "$name" "$(tail -n 2 "$T/out" | tr '\n' ' ')"; fi
}

if mg-prs-image -s "$T/c.score" --layout "$T/layout.tsv" --write-layout "$T/layout.json" \
        --write-ref-stats "$T/stats.tsv" -o "$T/img.mgt" "$T/c.vcf" 2>"$T/err"; then
    check_images image_blocks_hold_cohort_z_scores_of_plink2_sums "$T/img.mgt" "$T/layout.json"
    "$PY" -c "
import json,sys; L=json.load(open('$T/layout.json'))
assert (L['rows'],L['cols'],L['channels'],L['block'])==(1,2,3,8), L
assert [t['trait'] for t in L['traits']]==['A','B']
assert L['traits'][1]['scores']==['traitB_p1','traitB_p3',None]" 2>"$T/err" &&
        pass image_layout_groups_trait_channels || fail image_layout_groups_trait_channels "$(tail -1 "$T/err")"
else
    fail image_blocks_hold_cohort_z_scores_of_plink2_sums "$(cat "$T/err")"
fi

# --ref-stats: standardise with given statistics (here: a shifted table)
awk -F'\t' 'BEGIN{OFS="\t"} /^#/ {print; next} {print $1, $2 + 0.5, $3 * 2}' "$T/stats.tsv" >"$T/ref.tsv"
if mg-prs-image -s "$T/c.score" --layout "$T/layout.tsv" --ref-stats "$T/ref.tsv" \
        --write-layout "$T/layout2.json" -o "$T/img2.mgt" "$T/c.vcf" 2>"$T/err"; then
    check_images image_ref_stats_used_for_z "$T/img2.mgt" "$T/layout2.json" "$T/ref.tsv"
else fail image_ref_stats_used_for_z "$(cat "$T/err")"; fi

# u8 images: z in [-3, 3] -> 0..255
if mg-prs-image -s "$T/c.score" --u8 -B 4 -o "$T/u8.mgt" "$T/c.vcf" 2>"$T/err" &&
   mg-prs-image -s "$T/c.score" -B 4 -o "$T/f.mgt" "$T/c.vcf" 2>>"$T/err" &&
   mg-stream export -t prs -r 3 -o "$T/u8.npy" "$T/u8.mgt" && mg-stream export -t prs -r 3 -o "$T/f.npy" "$T/f.mgt" &&
   "$PY" -c "
import numpy as np
u, f = np.load('$T/u8.npy'), np.load('$T/f.npy')
assert u.dtype == np.uint8 and u.shape == f.shape == (1, 8, 12), (u.dtype, u.shape, f.shape)
want = np.clip(np.floor((f.astype(np.float64) + 3) / 6 * 255 + 0.5), 0, 255)
assert (u == want).all()" 2>"$T/err"; then pass image_u8_maps_z_range_to_bytes
else fail image_u8_maps_z_range_to_bytes "$(tail -2 "$T/err" | tr '\n' ' ')"; fi

# per-chromosome blocks: partial scores add up to plink2's SUM
if mg-prs-image -s "$T/c.score" --per-chrom --write-ref-stats "$T/cst.tsv" --write-layout "$T/cl.json" \
        -o "$T/chr.mgt" "$T/c.vcf" 2>"$T/err" && rm -rf "$T/cn" && mkdir "$T/cn" &&
   mg-stream export -t prs -o "$T/cn/{id}.npy" "$T/chr.mgt" &&
   "$PY" - "$T/p.sscore" "$T/cn" "$T/cl.json" "$T/cst.tsv" 2>"$T/err" <<'EOF'
import json, sys, numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
head, body = rows[0], rows[1:]
L = json.load(open(sys.argv[3]))
st = {l.split("\t")[0]: (float(l.split("\t")[1]), float(l.split("\t")[2])) for l in open(sys.argv[4]) if l[0] != "#"}
B = L["block"]
assert L["cols"] == 22 and L["rows"] == len(L["traits"]) == 5
for r in body:
    img = np.load("%s/%s.npy" % (sys.argv[2], r[0])).astype(np.float64)
    for t in L["traits"]:
        name = t["scores"][0]
        tot = 0.0
        for c in range(22):
            m, sd = st["%s:chr%d" % (name, c + 1)]
            tot += img[0, t["row"] * B, c * B] * sd + m
        want = float(r[head.index(name + "_SUM")])
        assert abs(tot - want) <= 1e-4 * max(1, abs(want)), (name, tot, want)
EOF
then pass image_per_chrom_partial_scores_add_to_plink2_sum
else fail image_per_chrom_partial_scores_add_to_plink2_sum "$(tail -2 "$T/err" | tr '\n' ' ')"; fi
exit 0

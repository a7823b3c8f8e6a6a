# demo: polygenic risk scores from a VCF, identical to plink2, as PRS images
set -euo pipefail
D="$DEMO/prs"
mkdir -p "$D/pgs"
# A simulated cohort (LD blocks, missing calls, multi-allelic sites) and five
# plink2-style scores for two traits (A at three p-value thresholds, B at two).
"$PY" examples/sim/sim_cohort.py --out "$D/cohort" --samples 200 --variants 2000 --scores 5 \
    --multiallelic 0.05 --chroms 6 --seed 3
bgzip -fk "$D/cohort.vcf"
printf 'traitA_p0\tA\ntraitA_p2\tA\ntraitA_p4\tA\ntraitB_p1\tB\ntraitB_p3\tB\n' >"$D/layout.tsv"
mg-prs-image -@ 2 -s "$D/cohort.score" --layout "$D/layout.tsv" --sscore "$D/cohort.sscore" \
    -o "$D/cohort.mgt" "$D/cohort.vcf.gz"
head -n 3 "$D/cohort.sscore" | cut -f 1-6
if command -v plink2 >/dev/null; then
    plink2 --vcf "$D/cohort.vcf.gz" --score "$D/cohort.score" header-read cols=+scoresums,+denom \
        --score-col-nums 3-7 --out "$D/plink2" >/dev/null 2>&1
    cmp "$D/cohort.sscore" "$D/plink2.sscore" && echo "plink2 --score wrote the same bytes"
fi
mg-stream info -n 1 "$D/cohort.mgt"
mg-stream export -t prs -r 1 -c 0 -R -3,3 -o "$D/sample1_channel0.png" "$D/cohort.mgt"

# PGS Catalog files (format 2.0, harmonised) matched by position as pgsc_calc does.
"$PY" examples/sim/make_pgs.py "$D/cohort.vcf" "$D/pgs" 2 --gzip
mg-prs-image -m pos --min-overlap 0.5 -s "$D"/pgs/PGS000001* -s "$D"/pgs/PGS000002* \
    --match-log "$D/match.tsv" --write-layout "$D/pgs_layout.json" -o "$D/pgs.mgt" "$D/cohort.vcf.gz"
echo "match types:"; awk -F'\t' 'NR > 1 && $17 == 1 {print "  " $19 " " $13}' "$D/match.tsv" | sort | uniq -c | sort -rn | head
echo "wrote $D/cohort.sscore, $D/cohort.mgt, $D/sample1_channel0.png, $D/pgs.mgt, $D/match.tsv"
. "$EXAMPLES/demo_lib.sh"
section 60 "Polygenic scores identical to plink2" \
    --text "mg-prs-image scored a simulated cohort (LD blocks, missing calls, multi-allelic sites) with plink2-style score files, writing the same .sscore bytes as plink2 --score, and PGS Catalog files matched by position with pgsc_calc's rules; each sample became a PRS image (an 8x8 block per trait, a channel per score)." \
    --image "$D/sample1_channel0.png" --label "sample 1, channel 0"

#!/usr/bin/env bash
# The .sscore table must not depend on -@: one, two and three threads give the
# same bytes as plink2 --score, from VCF, VCF.gz (many BGZF blocks, many
# batches of records) and BCF, with GT cells in every form the fast paths and
# the cell-by-cell code meet: "0/1", "1|0", "./.", ".|.", haploid "1", ".".
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v plink2 >/dev/null; then skip threads "plink2 not installed"; exit 0; fi
if ! have_py numpy; then skip threads "numpy missing"; exit 0; fi
command -v bcftools >/dev/null || { skip threads "bcftools not installed"; exit 0; }

"$PY" "$HERE/../../examples/sim/sim_cohort.py" --out "$T/c" --samples 300 --variants 1500 --missing 0.03 \
    --scores 3 --seed 21
# every 7th record: odd cells in the middle and at the end of the line
awk 'BEGIN{FS=OFS="\t"} !/^#/ && NR % 7 == 0 {$22 = "1"; $31 = "."; $40 = ".|."; $NF = "0"} {print}' \
    "$T/c.vcf" >"$T/t.vcf"
bcftools view -Oz -o "$T/t.vcf.gz" "$T/t.vcf"
bcftools view -Ob -o "$T/t.bcf" "$T/t.vcf"
plink2 --vcf "$T/t.vcf" --score "$T/c.score" header-read cols=+scoresums,+denom \
    --score-col-nums 3-5 --out "$T/pl" >/dev/null 2>&1
plink2 --bcf "$T/t.bcf" --score "$T/c.score" header-read cols=+scoresums,+denom \
    --score-col-nums 3-5 --out "$T/plb" >/dev/null 2>&1

for f in t.vcf t.vcf.gz t.bcf; do
    ref=$T/pl.sscore
    [ "$f" = t.bcf ] && ref=$T/plb.sscore
    ok=1 why=
    for th in 1 2 3; do
        if ! mg-prs-image -@ "$th" --no-image --sscore "$T/mg$th.sscore" -s "$T/c.score" "$T/$f" \
            2>"$T/err"; then
            ok=0 why="-@ $th failed: $(head -c 200 "$T/err")"
        elif ! cmp -s "$T/mg$th.sscore" "$ref"; then
            ok=0 why="-@ $th differs from plink2: $(diff "$T/mg$th.sscore" "$ref" | head -n 2 | tr '\n' '|')"
        fi
    done
    if [ ! -s "$ref" ]; then fail "sscore_threads_1_2_3_identical_${f//./_}" "no plink2 output"
    elif [ $ok = 1 ]; then pass "sscore_threads_1_2_3_identical_${f//./_}"
    else fail "sscore_threads_1_2_3_identical_${f//./_}" "$why"; fi
done

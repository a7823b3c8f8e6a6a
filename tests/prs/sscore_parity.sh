#!/usr/bin/env bash
# mg-prs-image --sscore against Debian's plink2 --score on the same simulated
# cohorts: the tables must be byte-identical.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v plink2 >/dev/null; then skip sscore_parity "plink2 not installed"; exit 0; fi
if ! have_py numpy; then skip sscore_parity "numpy missing"; exit 0; fi
command -v bcftools >/dev/null || { skip sscore_parity "bcftools not installed"; exit 0; }

# A: hard calls with missing calls, multi-allelic sites, second alleles of one
#    variant, an unknown ID and a mismatching allele. B: DS dosages (biallelic:
#    plink2 refuses multi-allelic dosages).
"$PY" "$HERE/../../examples/sim/sim_cohort.py" --out "$T/a" --samples 70 --variants 600 --multiallelic 0.1 \
    --missing 0.03 --scores 3 --seed 11
"$PY" "$HERE/../../examples/sim/sim_cohort.py" --out "$T/b" --samples 64 --variants 500 --ds \
    --missing 0.05 --scores 2 --seed 12
for x in a b; do
    bcftools view -Oz -o "$T/$x.vcf.gz" "$T/$x.vcf"
    bcftools view -Ob -o "$T/$x.bcf" "$T/$x.vcf"
done

# plink2 NAME INPUT-FLAGS SCORE NCOLS MODIFIERS...
plink_score() {
    local out=$1 inflags=$2 score=$3 ncol=$4 cols=3; shift 4
    [ "$ncol" -gt 1 ] && cols=3-$((ncol + 2))
    # shellcheck disable=SC2086
    plink2 $inflags --score "$score" header-read cols=+scoresums,+denom "$@" \
        --score-col-nums "$cols" --out "$T/$out" >/dev/null 2>&1 ||
        { echo "plink2 failed: $(grep -i error "$T/$out.log")" >&2; return 1; }
}

# same NAME PLINK-SSCORE MG-ARGS...: run mg-prs-image and compare the tables
same() {
    local name=$1 ref=$2; shift 2
    if ! mg-prs-image --no-image --sscore "$T/mg.sscore" "$@" 2>"$T/mg.err"; then
        fail "$name" "mg-prs-image failed: $(head -c 300 "$T/mg.err")"
    elif [ ! -s "$ref" ]; then
        fail "$name" "no plink2 output"
    elif cmp -s "$T/mg.sscore" "$ref"; then
        pass "$name"
    else
        fail "$name" "$(diff "$T/mg.sscore" "$ref" | head -n 3 | tr '\n' '|')"
    fi
}

plink_score a_gt "--vcf $T/a.vcf" "$T/a.score" 3
same sscore_gt_vcf_identical_to_plink2 "$T/a_gt.sscore" -s "$T/a.score" "$T/a.vcf"
same sscore_gt_vcfgz_two_threads_identical_to_plink2 "$T/a_gt.sscore" -@ 2 -s "$T/a.score" "$T/a.vcf.gz"
plink_score a_bcf "--bcf $T/a.bcf" "$T/a.score" 3
same sscore_gt_bcf_identical_to_plink2_bcf "$T/a_bcf.sscore" -s "$T/a.score" "$T/a.bcf"
same sscore_gt_bcf_scoring_thread_identical_to_plink2_bcf "$T/a_bcf.sscore" -@ 2 -s "$T/a.score" "$T/a.bcf"
same sscore_from_stdin_identical_to_plink2 "$T/a_gt.sscore" -s "$T/a.score" - <"$T/a.vcf.gz"

plink_score a_dom "--vcf $T/a.vcf" "$T/a.score" 3 dominant
same sscore_dominant_identical_to_plink2 "$T/a_dom.sscore" --dominant -s "$T/a.score" "$T/a.vcf"
plink_score a_rec "--vcf $T/a.vcf" "$T/a.score" 3 recessive
same sscore_recessive_identical_to_plink2 "$T/a_rec.sscore" --recessive -s "$T/a.score" "$T/a.vcf"
plink_score a_nomean "--vcf $T/a.vcf" "$T/a.score" 3 no-mean-imputation
same sscore_no_mean_imputation_identical_to_plink2 "$T/a_nomean.sscore" --no-mean-imputation \
    -s "$T/a.score" "$T/a.vcf"

plink_score b_ds "--vcf $T/b.vcf dosage=DS" "$T/b.score" 2
same sscore_ds_vcf_identical_to_plink2 "$T/b_ds.sscore" --dosage DS -s "$T/b.score" "$T/b.vcf"
same sscore_ds_vcfgz_scoring_thread_identical_to_plink2 "$T/b_ds.sscore" -@ 3 --dosage DS \
    -s "$T/b.score" "$T/b.vcf.gz"
plink_score b_dsbcf "--bcf $T/b.bcf dosage=DS" "$T/b.score" 2
same sscore_ds_bcf_identical_to_plink2_bcf "$T/b_dsbcf.sscore" --dosage DS -s "$T/b.score" "$T/b.bcf"
plink_score b_dsrec "--vcf $T/b.vcf dosage=DS" "$T/b.score" 2 recessive no-mean-imputation
same sscore_ds_recessive_no_mean_identical_to_plink2 "$T/b_dsrec.sscore" --dosage DS --recessive \
    --no-mean-imputation -s "$T/b.score" "$T/b.vcf.gz"
plink_score b_gt "--vcf $T/b.vcf" "$T/b.score" 2
same sscore_gt_ignores_ds_like_plink2 "$T/b_gt.sscore" -s "$T/b.score" "$T/b.vcf"

# --read-freq: imputation frequencies from plink2 --freq on 40 of the samples
# (IDs made unique first: plink2 refuses '.' IDs with --read-freq)
awk 'BEGIN{OFS="\t"} /^#/ {print; next} {if ($3 == ".") $3 = "u" NR; print}' "$T/a.vcf" >"$T/au.vcf"
grep '^#CHROM' "$T/au.vcf" | tr '\t' '\n' | tail -n +10 | head -n 40 >"$T/keep.txt"
plink2 --vcf "$T/au.vcf" --keep "$T/keep.txt" --freq --out "$T/sub" >/dev/null 2>&1
plink_score a_rf "--vcf $T/au.vcf --read-freq $T/sub.afreq" "$T/a.score" 3
same sscore_read_freq_identical_to_plink2 "$T/a_rf.sscore" --read-freq "$T/sub.afreq" \
    -s "$T/a.score" "$T/au.vcf"
same sscore_read_freq_scoring_thread_identical_to_plink2 "$T/a_rf.sscore" -@ 2 \
    --read-freq "$T/sub.afreq" -s "$T/a.score" "$T/au.vcf"

# --read-freq with plink2's own .afreq of the same file: a variant whose calls
# are all missing (ALT_FREQS nan, OBS_CT 0) is skipped and gets the cohort
# frequency, an ALT of '.' matches the record's '.', and a scored variant
# absent from the table falls back the same way.
{ printf '##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\n'
  printf '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n'
  printf '1\t200\trs2\tC\tT\t.\t.\t.\tGT\t./.\t./.\t./.\n'
  printf '1\t300\trs3\tG\t.\t.\t.\t.\tGT\t0/0\t0/0\t./.\n'
  printf '1\t400\trs4\tG\tA\t.\t.\t.\tGT\t0/1\t./.\t0/0\n'
  printf '1\t500\trs5\tT\tC\t.\t.\t.\tGT\t0/1\t./.\t1/1\n'; } >"$T/nf.vcf"
printf 'ID\tA1\tw\nrs1\tG\t0.5\nrs2\tT\t-0.2\nrs3\tG\t0.3\nrs4\tA\t1\nrs5\tC\t0.7\n' >"$T/nf.score"
plink2 --vcf "$T/nf.vcf" --freq --out "$T/nf" >/dev/null 2>&1
if grep -q 'rs2.*nan' "$T/nf.afreq" && grep -qP 'rs3\tG\t\.\t' "$T/nf.afreq"; then pass afreq_has_nan_and_dot_rows
else fail afreq_has_nan_and_dot_rows "$(cat "$T/nf.afreq" | tr '\n' '|')"; fi
# rs4 dropped from the table
awk '$2 != "rs4"' "$T/nf.afreq" >"$T/nf2.afreq"
plink_score nf_rf "--vcf $T/nf.vcf --read-freq $T/nf.afreq" "$T/nf.score" 1
same sscore_read_freq_nan_and_dot_alt_identical_to_plink2 "$T/nf_rf.sscore" --read-freq "$T/nf.afreq" \
    -s "$T/nf.score" "$T/nf.vcf"
plink_score nf_rf2 "--vcf $T/nf.vcf --read-freq $T/nf2.afreq" "$T/nf.score" 1
same sscore_read_freq_missing_row_identical_to_plink2 "$T/nf_rf2.sscore" \
    --read-freq "$T/nf2.afreq" -s "$T/nf.score" "$T/nf.vcf"

# DS values whose named-allele dosage sums are exact ties at 3 decimals
{ printf '##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
  printf '##FORMAT=<ID=DS,Number=A,Type=Float,Description="d">\n'
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\ts4\ts5\ts6\n'
  printf '1\t100\tr1\tA\tG\t.\t.\t.\tGT:DS\t0/0:0.0625\t0/0:0.1875\t0/1:1.0625\t0/1:1.1875\t0/1:0.3125\t1/1:1.9375\n'
  printf '1\t200\tr2\tC\tT\t.\t.\t.\tGT:DS\t0/0:0.5\t0/1:1\t0/1:1.0000305\t0/1:0.00003\t./.:.\t1/1:2\n'
} >"$T/tie.vcf"
printf 'ID\tA1\tw\nr1\tG\t1\nr2\tT\t0.25\n' >"$T/tie.score"
for mod in "" dominant recessive; do
    plink_score "tie$mod" "--vcf $T/tie.vcf dosage=DS" "$T/tie.score" 1 no-mean-imputation $mod
    same "sscore_dosage_sum_ties_as_plink2${mod:+_$mod}" "$T/tie$mod.sscore" --dosage DS \
        --no-mean-imputation ${mod:+--$mod} -s "$T/tie.score" "$T/tie.vcf"
done

# haploid calls on an autosome count as two copies (GT and DS), in text and BCF
{ printf '##fileformat=VCFv4.2\n##contig=<ID=1>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
  printf '##FORMAT=<ID=DS,Number=A,Type=Float,Description="d">\n'
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\ts4\ts5\ts6\n'
  printf '1\t100\tr1\tA\tG\t.\t.\t.\tGT:DS\t1:1\t0:0\t1:0.5\t0/1:1\t.:.\t1/1:2\n'
  printf '1\t200\tr2\tC\tT,G\t.\t.\t.\tGT\t2\t1\t0/2\t./.\t1|2\t0\n'
  printf '1\t300\tr3\tG\tA\t.\t.\t.\tGT\t1\t0\t.\t0/1\t1/1\t0|1\n'
} >"$T/hap.vcf"
bcftools view -Ob -o "$T/hap.bcf" "$T/hap.vcf"
printf 'ID\tA1\tw\nr1\tG\t1\nr2\tG\t0.5\nr3\tA\t0.25\n' >"$T/hap.score"
plink_score hap "--vcf $T/hap.vcf" "$T/hap.score" 1 no-mean-imputation
same sscore_haploid_gt_counts_twice_as_plink2 "$T/hap.sscore" --no-mean-imputation -s "$T/hap.score" "$T/hap.vcf"
same sscore_haploid_gt_bcf_counts_twice_as_plink2 "$T/hap.sscore" --no-mean-imputation -s "$T/hap.score" "$T/hap.bcf"
grep -v $'^1\t200\t' "$T/hap.vcf" >"$T/hap2.vcf"     # plink2 refuses multi-allelic DS files
printf 'ID\tA1\tw\nr1\tG\t1\nr3\tA\t0.25\n' >"$T/hap1.score"
plink_score hapds "--vcf $T/hap2.vcf dosage=DS" "$T/hap1.score" 1 no-mean-imputation
same sscore_haploid_ds_doubled_as_plink2 "$T/hapds.sscore" --dosage DS --no-mean-imputation \
    -s "$T/hap1.score" "$T/hap2.vcf"

# Two scoring files are scored as one wide file (weights 0 where a file lacks a
# variant), as pgsc_calc merges them for plink2.
"$PY" - "$T/a.score" "$T/a1.score" "$T/a2.score" "$T/wide.score" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
h, body = rows[0], rows[1:]
half = len(body) // 2
with open(sys.argv[2], "w") as f:
    f.write("\t".join(h[:3]) + "\n")
    for r in body[:half + 20]: f.write("\t".join(r[:3]) + "\n")
with open(sys.argv[3], "w") as f:
    f.write("\t".join(h[:2] + h[3:]) + "\n")
    for r in body[half:]: f.write("\t".join(r[:2] + r[3:]) + "\n")
keys = {}
for r in body[:half + 20]: keys.setdefault((r[0], r[1]), ["0"] * (len(h) - 2))[0] = r[2]
for r in body[half:]:
    w = keys.setdefault((r[0], r[1]), ["0"] * (len(h) - 2)); w[1:] = r[3:]
with open(sys.argv[4], "w") as f:
    f.write("\t".join(h) + "\n")
    for (i, a), w in keys.items(): f.write("\t".join([i, a] + w) + "\n")
EOF
plink_score wide "--vcf $T/a.vcf" "$T/wide.score" 3
same sscore_two_files_identical_to_plink2_on_merged_file "$T/wide.sscore" \
    -s "$T/a1.score" -s "$T/a2.score" "$T/a.vcf"
exit 0

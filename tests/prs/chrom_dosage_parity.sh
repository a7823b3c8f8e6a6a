#!/usr/bin/env bash
# chrX, chrY, XY and MT, and DS/GP/HDS dosages: mg-prs-image --sscore against
# Debian's plink2 --score on simulated VCFs (sim_chrom_dosage.py), byte for byte.
# A VCF carries no sex, so plink2 scores X and XY as autosomes, MT as haploid
# and Y not at all; dosages are read as its dosage= import reads them.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v plink2 >/dev/null; then skip chrom_dosage_parity "plink2 not installed"; exit 0; fi
command -v bcftools >/dev/null || { skip chrom_dosage_parity "bcftools not installed"; exit 0; }

SIM="$HERE/sim_chrom_dosage.py"
"$PY" "$SIM" "$T/c" --seed 3                      # GT only: 1, X, Y, XY, MT
"$PY" "$SIM" "$T/cc" --seed 4 --names chr         # chr1, chrX, chrY, PAR1, chrM
"$PY" "$SIM" "$T/d" --seed 5 --dosage             # GT:DS:GP:HDS
for x in c d; do
    bcftools view -Ob -o "$T/$x.bcf" "$T/$x.vcf" && bgzip -c "$T/$x.vcf" >"$T/$x.vcf.gz" ||
        { fail chrom_dosage_parity "bcftools failed"; exit 0; }
done

# plink2 NAME INPUT-FLAGS SCORE COLS MODIFIERS...
plink_score() {
    local out=$1 inflags=$2 score=$3 cols=$4; shift 4
    # shellcheck disable=SC2086
    plink2 $inflags --score "$score" header-read cols=+scoresums,+denom "$@" \
        --score-col-nums "$cols" --out "$T/$out" >/dev/null 2>&1 ||
        { echo "plink2 failed: $(grep -i error "$T/$out.log")" >&2; return 1; }
}
# same NAME PLINK-SSCORE MG-ARGS...
same() {
    local name=$1 ref=$2; shift 2
    rm -f "$T/mg.sscore"
    if ! mg-prs-image -q --no-image --sscore "$T/mg.sscore" "$@" 2>"$T/mg.err"; then
        fail "$name" "mg-prs-image failed: $(head -c 300 "$T/mg.err")"
    elif [ ! -s "$ref" ]; then
        fail "$name" "no plink2 output"
    elif cmp -s "$T/mg.sscore" "$ref"; then
        pass "$name"
    else
        fail "$name" "$(diff "$T/mg.sscore" "$ref" | head -n 3 | tr '\n' '|')"
    fi
}

# ---- sex chromosomes, hard calls ----
plink_score c_gt "--vcf $T/c.vcf" "$T/c.score" 3-4
same chrxy_mt_gt_vcf_identical_to_plink2 "$T/c_gt.sscore" -s "$T/c.score" "$T/c.vcf"
same chrxy_mt_gt_vcfgz_two_threads_identical_to_plink2 "$T/c_gt.sscore" -@ 3 -s "$T/c.score" "$T/c.vcf.gz"
plink_score c_bcf "--bcf $T/c.bcf" "$T/c.score" 3-4
same chrxy_mt_gt_bcf_identical_to_plink2 "$T/c_bcf.sscore" -s "$T/c.score" "$T/c.bcf"
plink_score c_nomean "--vcf $T/c.vcf" "$T/c.score" 3-4 no-mean-imputation
same chrxy_mt_gt_no_mean_imputation_identical_to_plink2 "$T/c_nomean.sscore" --no-mean-imputation \
    -s "$T/c.score" "$T/c.vcf"
plink_score cc_gt "--vcf $T/cc.vcf" "$T/cc.score" 3-4
same chr_prefixed_and_par1_names_identical_to_plink2 "$T/cc_gt.sscore" -s "$T/cc.score" "$T/cc.vcf"
# a score of chrY variants only: every sample has unknown sex, so nothing
# counts (ALLELE_CT and DENOM 0, AVG nan)
plink_score c_y "--vcf $T/c.vcf" "$T/c.y.score" 3
same chry_only_counts_nothing_without_sex_as_plink2 "$T/c_y.sscore" -s "$T/c.y.score" "$T/c.vcf"
if [ "$(awk 'NR == 2 {print $2, $3, $5}' "$T/c_y.sscore")" = "0 0 nan" ]; then pass chry_only_plink2_reference_is_empty
else fail chry_only_plink2_reference_is_empty "$(sed -n 2p "$T/c_y.sscore")"; fi
for m in dominant recessive; do
    plink_score "c_$m" "--vcf $T/c.vcf" "$T/c.auto.score" 3-4 $m
    same "${m}_on_autosome_and_xy_identical_to_plink2" "$T/c_$m.sscore" --$m -s "$T/c.auto.score" "$T/c.vcf"
done
# --read-freq from plink2 --freq of 40 of the samples, X and MT included
grep '^#CHROM' "$T/c.vcf" | tr '\t' '\n' | tail -n +10 | head -n 40 >"$T/keep.txt"
plink2 --vcf "$T/c.vcf" --keep "$T/keep.txt" --freq --out "$T/sub" >/dev/null 2>&1
plink_score c_rf "--vcf $T/c.vcf --read-freq $T/sub.afreq" "$T/c.score" 3-4
same chrxy_mt_read_freq_identical_to_plink2 "$T/c_rf.sscore" --read-freq "$T/sub.afreq" -s "$T/c.score" "$T/c.vcf"

# ---- position matching: pgsc_calc scores 1-22, X, Y, XY (plink2 --chr) ----
# The reference is plink2 on the same rows by ID, MT (and PAR1, which plink2
# keeps out of --chr XY) left out.
pos_case() {
    local name=$1 pre=$2; shift 2
    awk '!/^#/ && ($1 == "MT" || $1 == "chrM" || $1 == "PAR1") {print $3}' "$T/$pre.vcf" >"$T/mt.ids"
    awk 'NR == FNR {mt[$1] = 1; next} FNR == 1 || !($1 in mt) {print $1 "\t" $2 "\t" $3}' \
        "$T/mt.ids" "$T/$pre.score" | sed '1s/.*/ID\tA1\tPGS900001/' >"$T/$pre.ref.score"
    plink2 --vcf "$T/$pre.vcf" "$@" --chr 1-22, X, Y, XY --score "$T/$pre.ref.score" header-read \
        cols=+scoresums,+denom --out "$T/${pre}_pos" >/dev/null 2>&1
    same "$name" "$T/${pre}_pos.sscore" --match pos --min-overlap 0.3 ${DOS:+--dosage $DOS} -s "$T/$pre.pgs" "$T/$pre.vcf"
}
pos_case match_pos_chrx_chry_xy_identical_to_plink2 c
pos_case match_pos_chr_prefixed_names_identical_to_plink2 cc
DOS=GP pos_case match_pos_gp_dosages_on_sex_chromosomes_identical_to_plink2 d dosage=GP-force
tabix -p vcf "$T/c.vcf.gz" 2>/dev/null
mg-prs-image -q -@ 2 --match pos --min-overlap 0.3 --no-image --sscore "$T/idx.sscore" -s "$T/c.pgs" "$T/c.vcf.gz" 2>"$T/err" &&
    cmp -s "$T/idx.sscore" "$T/c_pos.sscore" && pass match_pos_sex_chromosomes_through_index_same_bytes ||
    fail match_pos_sex_chromosomes_through_index_same_bytes "differs"

# ---- dosages: DS, GP, HDS (GP read as plink2 dosage=GP-force: the header
#      also declares DS, which plain dosage=GP refuses) ----
for f in DS GP HDS; do
    pf=$f; [ $f = GP ] && pf=GP-force
    lc=$(echo $f | tr 'A-Z' 'a-z')
    plink_score "d_$lc" "--vcf $T/d.vcf dosage=$pf" "$T/d.score" 3-4
    same "dosage_${lc}_vcf_identical_to_plink2" "$T/d_$lc.sscore" --dosage $f -s "$T/d.score" "$T/d.vcf"
    same "dosage_${lc}_vcfgz_scoring_thread_identical_to_plink2" "$T/d_$lc.sscore" -@ 2 --dosage $f \
        -s "$T/d.score" "$T/d.vcf.gz"
    plink_score "d_${lc}_nomean" "--vcf $T/d.vcf dosage=$pf" "$T/d.score" 3-4 no-mean-imputation
    same "dosage_${lc}_no_mean_imputation_identical_to_plink2" "$T/d_${lc}_nomean.sscore" --dosage $f \
        --no-mean-imputation -s "$T/d.score" "$T/d.vcf"
    plink_score "d_${lc}_bcf" "--bcf $T/d.bcf dosage=$pf" "$T/d.score" 3-4
    same "dosage_${lc}_bcf_identical_to_plink2_bcf" "$T/d_${lc}_bcf.sscore" --dosage $f -s "$T/d.score" "$T/d.bcf"
done
plink_score d_gt "--vcf $T/d.vcf" "$T/d.score" 3-4
same dosage_fields_ignored_without_dosage_option_as_plink2 "$T/d_gt.sscore" -s "$T/d.score" "$T/d.vcf"

# NAMED_ALLELE_DOSAGE_SUM as plink2 prints it: 0.873046875 and 0.123046875
# (remainder 4032/8192) print one less in the third decimal, halves of a
# 1/16384 unit come from haploid MT calls, .9995 carries to the integer
{ printf '##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=MT>\n'
  printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n##FORMAT=<ID=DS,Number=A,Type=Float,Description="d">\n'
  printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\tc\td\te\n'
  printf '1\t100\tr1\tA\tG\t.\t.\t.\tGT:DS\t0/1:0.873046875\t0/1:1.873046875\t0/0:0.123046875\t0/1:0.99951\t0/1:1\n'
  printf 'MT\t200\tr2\tC\tT\t.\t.\t.\tGT:DS\t0:0\t1:0.00006\t0:.\t1:0.00003\t1:0.50003\n'
} >"$T/pr.vcf"
printf 'ID\tA1\tw\nr1\tG\t1\nr2\tT\t1\n' >"$T/pr.score"
plink_score pr "--vcf $T/pr.vcf dosage=DS" "$T/pr.score" 3 no-mean-imputation
same dosage_sum_printed_digit_for_digit_as_plink2 "$T/pr.sscore" --dosage DS --no-mean-imputation \
    -s "$T/pr.score" "$T/pr.vcf"

# plink2 stores dosages in 1/16384 units, and it shows: a model of DS scoring
# (no mean imputation) matches plink2's SUM only when DS is quantised first
"$PY" - "$T/d.vcf" "$T/d.score" "$T/d_ds_nomean.sscore" >"$T/q.out" 2>&1 <<'EOF'
import sys
vcf, score, sscore = sys.argv[1:4]
w = {l.split()[0]: (l.split()[1], float(l.split()[2])) for l in list(open(score))[1:]}
rows = [l.rstrip("\n").split("\t") for l in open(vcf) if not l.startswith("##")]
names = rows[0][9:]
def model(quantise):
    tot = [0.0] * len(names)
    for r in rows[1:]:
        if r[2] not in w: continue
        ea, wt = w[r[2]]
        a = 0 if ea == r[3] else 1
        ploidy = {"Y": 0, "MT": 1}.get(r[0], 2)
        for s, cell in enumerate(r[9:]):
            gt, ds = cell.split(":")[:2]
            hap = len(gt) == 1
            if ds != ".":
                x = float(ds) * (2 if hap else 1)
                d = int(x * 16384 + 0.5) / 16384 if quantise else x
            elif gt[0] == ".":
                continue
            else:
                d = 2 * int(gt[0]) if hap else int(gt[0]) + int(gt[2])
            if a == 0: d = 2 - d
            tot[s] += d * wt * {2: 1.0, 1: 0.5, 0: 0.0}[ploidy]
    return tot
ref = [float(l.split("\t")[6]) for l in list(open(sscore))[1:]]
def agree(t): return all(abs(x - y) <= 6e-6 * max(abs(y), 1e-3) for x, y in zip(t, ref))
q, u = agree(model(True)), agree(model(False))
print("quantised model agrees:", q, "unquantised agrees:", u)
sys.exit(0 if q and not u else 1)
EOF
if [ $? = 0 ]; then pass dosage_quantisation_to_1_16384_shows_in_plink2_sums
else fail dosage_quantisation_to_1_16384_shows_in_plink2_sums "$(tail -n 1 "$T/q.out")"; fi

# the image stream carries the fractional scores: its z-scores are those of
# plink2's GP SUM column
if mg-prs-image -@ 2 --dosage GP -s "$T/d.score" --write-layout "$T/d.json" -o "$T/d.mgt" "$T/d.vcf" 2>/dev/null &&
   mkdir -p "$T/npy" && mg-stream export -t prs -o "$T/npy/{id}.npy" "$T/d.mgt" 2>/dev/null &&
   have_py numpy && "$PY" - "$T/d_gp.sscore" "$T/npy" "$T/d.json" >"$T/img.out" 2>&1 <<'EOF'
import json, sys, numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
L = json.load(open(sys.argv[3]))
head, body = rows[0], rows[1:]
for t in L["traits"]:
    name = t["scores"][0]
    s = np.array([float(r[head.index(name + "_SUM")]) for r in body])
    z = (s - s.mean()) / s.std()
    B = L["block"]
    got = np.array([np.load("%s/%s.npy" % (sys.argv[2], r[0]))[0, t["row"] * B, t["col"] * B] for r in body])
    assert np.allclose(got, z, rtol=1e-4, atol=2e-4), (name, np.abs(got - z).max())
EOF
then pass dosage_gp_image_stream_z_scores_from_plink2_sums
else fail dosage_gp_image_stream_z_scores_from_plink2_sums "$(tail -n 1 "$T/img.out" 2>/dev/null)"; fi
exit 0

#!/usr/bin/env bash
# Bad input: one stderr line "mg-prs-image: error: FILE[:LINE]: what", exit 1
# (usage errors exit 2), and no output file left behind.
source "$(dirname "$0")/../lib.sh"

vcf_head() {
    printf '##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=X>\n'
    printf '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
    printf '##FORMAT=<ID=DS,Number=A,Type=Float,Description="d">\n'
    printf '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\n'
}
good='1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n1\t200\trs2\tC\tT\t.\t.\t.\tGT\t0/0\t0/1\t./.\n'
{ vcf_head; printf "$good"; } >"$T/ok.vcf"
printf 'ID\tA1\tw\nrs1\tG\t0.5\nrs2\tT\t-0.2\n' >"$T/ok.score"

# bad NAME PATTERN VCF-LINES [SCORE-FILE] [OPTIONS...]
bad_vcf() {
    local name=$1 pat=$2 lines=$3; shift 3
    { vcf_head; printf "$lines"; } >"$T/bad.vcf"
    rm -f "$T/out.sscore" "$T/out.mgt" "$T/out.log"
    expect_error "$name" 1 "$pat" mg-prs-image -q -s "$T/ok.score" "$@" --sscore "$T/out.sscore" \
        --match-log "$T/out.log" -o "$T/out.mgt" "$T/bad.vcf"
    if [ -e "$T/out.sscore" ] || [ -e "$T/out.mgt" ] || [ -e "$T/out.log" ] || ls "$T"/out.*.tmp* >/dev/null 2>&1; then
        fail "${name}_writes_nothing" "output left: $(ls "$T" | tr '\n' ' ')"
    fi
}
bad_score() {
    local name=$1 pat=$2 text=$3; shift 3
    printf "$text" >"$T/bad.score"
    rm -f "$T/out.sscore"
    expect_error "$name" 1 "$pat" mg-prs-image -q -s "$T/bad.score" "$@" --sscore "$T/out.sscore" \
        --no-image "$T/ok.vcf"
    [ -e "$T/out.sscore" ] && fail "${name}_writes_nothing" "output left"
}

bad_vcf error_malformed_vcf_pos 'error: .*bad\.vcf:8: POS .x1. is not a position' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n1\tx1\trs2\tC\tT\t.\t.\t.\tGT\t0/0\t0/1\t0/1\n'
bad_vcf error_vcf_too_few_columns 'error: .*bad\.vcf:7: fewer than 8' '1\t100\trs1\tA\tG\n'
bad_vcf error_scored_record_without_gt 'error: .*bad\.vcf:9: no GT field' \
    "$good"'1\t300\trs2b\tC\tT\t.\t.\t.\tDS\t0\t1\t2\n' -s <(printf 'ID\tA1\tv\nrs2b\tT\t1\n')
bad_vcf error_sample_count_mismatch 'error: .*bad\.vcf:7: 2 sample columns, header has 3' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\n'
bad_vcf error_too_many_sample_columns 'error: .*bad\.vcf:7: more sample columns than the 3' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\t0/0\n'
bad_vcf error_half_missing_call 'error: .*bad\.vcf:7: half-missing GT' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/.\t1/1\t0/0\n'
bad_vcf error_ds_outside_range 'error: .*bad\.vcf:7: DS .2.5. is not a dosage in \[0, 2\]' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT:DS\t0/1:1\t1/1:2.5\t0/0:0\n' --dosage DS
bad_vcf error_duplicate_variant_id 'error: .*bad\.vcf:8: variant ID .rs1. occurs more than once' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n1\t150\trs1\tA\tC\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n'
bad_vcf error_unknown_chromosome_refused 'error: .*bad\.vcf:7: scored variant on chromosome .GL000192\.1.: only 1-22, X, Y, XY and MT' \
    'GL000192.1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n'
bad_vcf error_dominant_on_mt_refused 'error: .*bad\.vcf:7: dominant or recessive score on chromosome .MT.' \
    'MT\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1\t0\n' --dominant
bad_vcf error_recessive_on_x_refused 'error: .*bad\.vcf:7: dominant or recessive score on chromosome .X.' \
    'X\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1\t0\n' --recessive
# dosage fields: malformed values are refused, with the record's line
bad_vcf error_gp_two_values_on_diploid_call 'error: .*bad\.vcf:7: GP .0\.2,0\.8. is not 3 probabilities' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT:GP\t0/1:0.2,0.8\t1/1:0,0,1\t0/0:1,0,0\n' --dosage GP
bad_vcf error_gp_probability_above_one 'error: .*bad\.vcf:7: GP .0,0,1\.5. is not 3 probabilities' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT:GP\t0/1:0,0,1.5\t1/1:0,0,1\t0/0:1,0,0\n' --dosage GP
bad_vcf error_hds_half_call 'error: .*bad\.vcf:7: HDS .0\.3,\..: second haplotype' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT:HDS\t0|1:0.3,.\t1|1:1,1\t0|0:0,0\n' --dosage HDS
bad_vcf error_hds_above_one 'error: .*bad\.vcf:7: HDS .1\.2. is not a haplotype dosage' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT:HDS\t1:1.2\t1|1:1,1\t0|0:0,0\n' --dosage HDS
bad_vcf error_haploid_ds_above_one 'error: .*bad\.vcf:7: DS .1\.5. is not a dosage in \[0, 1\]' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT:DS\t1:1.5\t1/1:2\t0/0:0\n' --dosage DS
bad_vcf error_gp_on_multiallelic_record 'error: .*bad\.vcf:7: dosages on a multi-allelic record' \
    '1\t100\trs1\tA\tG,C\t.\t.\t.\tGT:GP\t0/1:0,1,0,0,0,0\t1/1:0,0,1,0,0,0\t0/0:1,0,0,0,0,0\n' --dosage GP
# a BCF FORMAT field of absurd length is refused before it is converted
{ vcf_head | sed '2a ##FORMAT=<ID=GP,Number=G,Type=Float,Description="p">'
  printf '1\t100\trs1\tA\tG\t.\t.\t.\tGT:GP\t0/1:%s\t0/0:1,0,0\t0/0:1,0,0\n' "$(printf '0%.0s,' $(seq 1 40))0"; } >"$T/long.vcf"
if command -v bcftools >/dev/null && bcftools view -Ob -o "$T/long.bcf" "$T/long.vcf" 2>/dev/null; then
    expect_error error_bcf_gp_too_many_values 1 'error: .*long\.bcf:1: GP has 41 values per sample \(at most 16\)' \
        mg-prs-image -q -s "$T/ok.score" --dosage GP --sscore "$T/out.sscore" --no-image "$T/long.bcf"
else skip error_bcf_gp_too_many_values "bcftools missing"; fi
bad_vcf error_empty_intersection 'error: .*bad\.vcf: no scoring-file variant matched' \
    '1\t100\trs9\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n'
bad_vcf error_unsorted_vcf_for_pos_matching 'error: .*bad\.vcf:9: position 1:100 met again' \
    '1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n1\t200\trs2\tC\tT\t.\t.\t.\tGT\t0/0\t0/1\t0/1\n1\t100\trs3\tA\tT\t.\t.\t.\tGT\t0/1\t1/1\t0/0\n' \
    --match pos -s <(printf '###PGS CATALOG SCORING FILE\n#format_version=2.0\n#pgs_id=PGS1\nchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n1\t100\tG\tA\t1\n1\t200\tT\tC\t1\n')
# A file cut mid-record on a line the score does not use: plink2 and bcftools
# reject it, and so must the fast path that skips unscored records.
bad_vcf error_unscored_line_cut_short 'error: .*bad\.vcf:9: 2 sample columns, header has 3' \
    "$good"'1\t300\trs77\tC\tT\t.\t.\t.\tGT\t0/0\t0/1\n'
bad_vcf error_unscored_line_cut_in_info 'error: .*bad\.vcf:9: 8 columns, the header has 12' \
    "$good"'1\t300\trs77\tC\tT\t.\t.\tAC=1\n'
bad_vcf error_unscored_line_too_many 'error: .*bad\.vcf:7: more sample columns than the 3' \
    '1\t50\trs77\tC\tT\t.\t.\t.\tGT\t0/0\t0/1\t0/0\t1/1\n'"$good"
bad_vcf error_unscored_last_line_cut 'error: .*bad\.vcf:9: 1 sample columns, header has 3' \
    "$good"'1\t300\trs77\tC\tT\t.\t.\t.\tGT\t0/'

bad_score error_score_missing_columns 'error: .*bad\.score:3: 2 columns, header has 3' \
    'ID\tA1\tw\nrs1\tG\t0.5\nrs2\tT\n'
bad_score error_score_non_numeric_weight "error: .*bad\\.score:2: weight 'abc' is not a number" \
    'ID\tA1\tw\nrs1\tG\tabc\n'
bad_score error_score_header_too_short 'error: .*bad\.score:1: header has 2 columns' 'ID\tA1\nrs1\tG\n'
bad_score error_duplicate_variant_allele_in_score "error: .*bad\\.score:3: variant 'rs1' allele 'G' also on line 2" \
    'ID\tA1\tw\nrs1\tG\t0.5\nrs1\tG\t0.1\n'
bad_score error_pgs_unknown_format_version "error: .*bad\\.score:2: unknown format_version '1.0'" \
    '###PGS CATALOG SCORING FILE\n#format_version=1.0\nrsID\teffect_allele\teffect_weight\nrs1\tG\t1\n'
bad_score error_pgs_non_numeric_weight "error: .*bad\\.score:5: effect_weight 'x' is not a number" \
    '###PGS CATALOG SCORING FILE\n#format_version=2.0\n#pgs_id=PGS9\nrsID\teffect_allele\teffect_weight\nrs1\tG\tx\n'
bad_score error_pgs_without_effect_allele 'error: .*bad\.score:3: no effect_allele column' \
    '###PGS CATALOG SCORING FILE\n#format_version=2.0\nrsID\teffect_weight\nrs1\t1\n'

expect_error error_missing_vcf_file 1 'error: .*nope\.vcf: cannot open' \
    mg-prs-image -s "$T/ok.score" --no-image --sscore "$T/x" "$T/nope.vcf"
# usage errors: exit 2, the reason, then the pointer to --help
usage_error() {
    local name=$1 pat=$2; shift 2
    "$@" >"$T/.out" 2>"$T/.err"; local st=$?
    if [ "$st" = 2 ] && head -n1 "$T/.err" | grep -qE -- "$pat" && [ ! -s "$T/.out" ]; then pass "$name"
    else fail "$name" "exit $st: $(head -c 200 "$T/.err")"; fi
}
usage_error usage_without_score 'no scoring file' mg-prs-image "$T/ok.vcf"
usage_error usage_bad_match_mode "match must be" mg-prs-image -m chr -s "$T/ok.score" "$T/ok.vcf"
usage_error usage_bad_dosage_field "dosage must be DS, GP or HDS" mg-prs-image --dosage PL -s "$T/ok.score" "$T/ok.vcf"
printf '#score\tmean\tsd\nother\t0\t1\n' >"$T/ref.tsv"
expect_error error_ref_stats_missing_score 1 "error: .*ref\\.tsv: no statistics for score 'w'" \
    mg-prs-image -q -s "$T/ok.score" --ref-stats "$T/ref.tsv" -o "$T/o.mgt" "$T/ok.vcf"

# --match pos scores chrX as pgsc_calc does and excludes MT with a warning
{ vcf_head; printf "$good"'X\t100\trsX\tA\tG\t.\t.\t.\tGT\t0/1\t1\t0\nMT\t100\trsM\tA\tG\t.\t.\t.\tGT\t0\t1\t1\n'; } >"$T/x.vcf"
printf '###PGS CATALOG SCORING FILE\n#format_version=2.0\n#pgs_id=PGSX\nchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n1\t100\tG\tA\t1\n1\t200\tT\tC\t1\nX\t100\tG\tA\t1\nMT\t100\tG\tA\t1\n' >"$T/x.pgs"
if mg-prs-image -m pos --min-overlap 0.5 -s "$T/x.pgs" --no-image --sscore "$T/x.sscore" \
        --match-log "$T/x.log" "$T/x.vcf" 2>"$T/err" &&
   grep -q 'warning: .*1 matched score rows outside chromosomes 1-22, X, Y, XY excluded' "$T/err" &&
   grep -q 'MT.*excluded_chromosome' "$T/x.log" && [ "$(cut -f3 "$T/x.sscore" | tail -n1)" = 6 ]; then
    pass pos_match_scores_chrx_and_excludes_mt_with_warning
else fail pos_match_scores_chrx_and_excludes_mt_with_warning "$(cat "$T/err")"; fi

# a small cohort is scored, with a warning about mean-imputation frequencies
if mg-prs-image -s "$T/ok.score" --no-image --sscore "$T/ok.sscore" "$T/ok.vcf" 2>"$T/err" &&
   grep -q 'warning: .*3 samples' "$T/err" && [ "$(wc -l <"$T/ok.sscore")" = 4 ]; then
    pass small_cohort_scored_with_warning
else fail small_cohort_scored_with_warning "$(cat "$T/err")"; fi
exit 0

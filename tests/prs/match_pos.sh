#!/usr/bin/env bash
# --match pos against a Python transcription of pgsc_calc's matching rules
# (pgsc_match_ref.py) followed by plink2 --score on the variants it keeps, as
# pgsc_calc runs it: per-row verdicts, match rates and .sscore bytes must agree.
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if ! command -v plink2 >/dev/null; then skip match_pos "plink2 not installed"; exit 0; fi
if ! have_py numpy; then skip match_pos "numpy missing"; exit 0; fi

"$PY" "$HERE/../../examples/sim/sim_cohort.py" --out "$T/m" --samples 60 --variants 800 --multiallelic 0.08 \
    --same-pos 0.05 --no-score --seed 31 --chroms 3
mkdir -p "$T/pgs"
"$PY" "$HERE/../../examples/sim/make_pgs.py" "$T/m.vcf" "$T/pgs" 3 --gzip --seed 5
PGS=("$T"/pgs/PGS*)
SARGS=(); for f in "${PGS[@]}"; do SARGS+=(-s "$f"); done

# case NAME OPTIONS...: compare verdicts and scores under the given options
case_pos() {
    local name=$1; shift
    "$PY" "$HERE/pgsc_match_ref.py" "$T/m.vcf" "$T/ref.score" "$T/ref.dec" "$T/ref.rates" \
        "${PGS[@]}" --min-overlap 0.3 "$@" || { fail "$name" "reference failed"; return; }
    plink2 --vcf "$T/m.vcf" --set-all-var-ids '@:#:$r:$a' --new-id-max-allele-len 100 missing \
        --score "$T/ref.score" header-read cols=+scoresums,+denom --score-col-nums 3-5 \
        --out "$T/refp" >/dev/null 2>&1 || { fail "$name" "plink2 failed"; return; }
    rm -f "$T/mg.sscore"
    if ! mg-prs-image --match pos --min-overlap 0.3 "$@" "${SARGS[@]}" --sscore "$T/mg.sscore" \
            --match-log "$T/mg.log" --no-image "$T/m.vcf" 2>"$T/err"; then
        fail "$name" "$(cat "$T/err")"; return
    fi
    # one verdict per scoring row: the best candidate's status (or why none)
    awk -F'\t' 'NR > 1 && ($17 == 1 || $9 == ".") {
            st = $19; sub(/^dropped_non_acgt_allele$/, "dropped", st)
            print $1 "\t" $3 "\t" st "\t" (st == "matched" ? $13 : ".") }' "$T/mg.log" | sort >"$T/mg.dec"
    cut -f1,2,3,5 "$T/ref.dec" | sort >"$T/ref.dec4"
    if ! cmp -s "$T/mg.dec" "$T/ref.dec4"; then
        fail "$name" "verdicts differ: $(diff "$T/mg.dec" "$T/ref.dec4" | head -n 3 | tr '\n' '|')"
    elif ! cmp -s "$T/mg.sscore" "$T/refp.sscore"; then
        fail "$name" "sscore differs: $(diff "$T/mg.sscore" "$T/refp.sscore" | head -n 3 | tr '\n' '|')"
    else pass "$name"; fi
}
case_pos match_pos_default_rules_agree_with_pgsc_calc_transcription
cp "$T/mg.sscore" "$T/default.sscore"
if mg-prs-image -@ 2 --match pos --min-overlap 0.3 "${SARGS[@]}" --sscore "$T/thr.sscore" --no-image \
        "$T/m.vcf" 2>/dev/null && cmp -s "$T/thr.sscore" "$T/default.sscore"; then
    pass match_pos_scoring_thread_same_bytes
else fail match_pos_scoring_thread_same_bytes "differs"; fi
case_pos match_pos_keep_ambiguous_agrees --keep-ambiguous
case_pos match_pos_keep_multiallelic_agrees --keep-multiallelic
case_pos match_pos_ignore_strand_flips_agrees --ignore-strand-flips
case_pos match_pos_keep_first_match_agrees --keep-first-match

# with a .tbi/.csi index only the scored positions are read: same bytes. The
# positions are spread 100x so that most index windows hold no scored variant.
command -v bcftools >/dev/null && command -v tabix >/dev/null && {
    awk 'BEGIN{OFS="\t"} /^#/ {print; next} {$2 = $2 * 100; print}' "$T/m.vcf" >"$T/s.vcf"
    mkdir -p "$T/spgs"
    "$PY" "$HERE/../../examples/sim/make_pgs.py" "$T/s.vcf" "$T/spgs" 2 --seed 9 --rows 40
    XARGS=(); for f in "$T"/spgs/PGS*; do XARGS+=(-s "$f"); done
    bgzip -c "$T/s.vcf" >"$T/s.vcf.gz" && tabix -p vcf "$T/s.vcf.gz"
    bcftools view -Ob -o "$T/s.bcf" "$T/s.vcf.gz" && bcftools index "$T/s.bcf"
    mg-prs-image --match pos --min-overlap 0.3 "${XARGS[@]}" --sscore "$T/seq.sscore" \
        --match-log "$T/seq.log" --no-image "$T/s.vcf" 2>/dev/null
    for th in 1 2; do for f in s.vcf.gz s.bcf; do
        name=match_pos_through_index_same_as_sequential_${f#s.}
        [ $th = 1 ] || name=${name}_threads_$th
        if mg-prs-image -v -@ $th --match pos --min-overlap 0.3 "${XARGS[@]}" --sscore "$T/idx.sscore" \
                --match-log "$T/idx.log" --no-image "$T/$f" 2>"$T/err" &&
           grep -q "through .*index" "$T/err" && cmp -s "$T/idx.sscore" "$T/seq.sscore" &&
           cmp -s <(sort "$T/idx.log") <(sort "$T/seq.log"); then
            pass "$name"
        else fail "$name" "$(grep -v warning "$T/err" | head -2)"; fi
    done; done
}

# the default --min-overlap 0.75 fails loudly when a score matches less
"$PY" "$HERE/pgsc_match_ref.py" "$T/m.vcf" "$T/ref.score" "$T/ref.dec" "$T/ref.rates" "${PGS[@]}"
want=$(awk '$4 == "fail" {print $1; exit}' "$T/ref.rates")
if [ -z "$want" ]; then skip match_pos_min_overlap_fails_below_threshold "every score passes"
else
    expect_error match_pos_min_overlap_fails_below_threshold 1 \
        "^mg-prs-image: error: .*PGS.*: score $want: [0-9]+ of [0-9]+ variants matched .*below --min-overlap 0.75" \
        mg-prs-image --match pos "${SARGS[@]}" --sscore "$T/no.sscore" --no-image "$T/m.vcf"
    [ -e "$T/no.sscore" ] && fail match_pos_min_overlap_writes_nothing "sscore written"
fi

# a GRCh37 VCF against GRCh38-harmonised scores: the build mismatch is reported
sed 's/^##reference=GRCh38/##reference=GRCh37/' "$T/m.vcf" >"$T/m37.vcf"
mg-prs-image --match pos --min-overlap 0.3 "${SARGS[@]}" --sscore "$T/b.sscore" --no-image \
    "$T/m37.vcf" 2>"$T/err"
if grep -q "warning: .*genome build GRCh38 differs from .*GRCh37" "$T/err"; then
    pass match_pos_build_mismatch_reported
else fail match_pos_build_mismatch_reported "$(cat "$T/err")"; fi

# the PGS Catalog header names the score and its trait in the image layout
mg-prs-image --match pos --min-overlap 0.3 "${SARGS[@]}" --write-layout "$T/l.json" \
    -o "$T/img.mgt" "$T/m.vcf" 2>"$T/err" &&
"$PY" -c "
import json; L = json.load(open('$T/l.json'))
names = sorted(t['trait'] for t in L['traits'])
assert names == ['coronary artery disease', 'type 2 diabetes'], names
cad = [t for t in L['traits'] if t['trait'] == 'coronary artery disease'][0]
assert cad['scores'] == ['PGS000001', 'PGS000003'], cad" 2>"$T/err2" &&
    pass match_pos_pgs_traits_group_channels || fail match_pos_pgs_traits_group_channels "$(cat "$T/err" "$T/err2" | tail -2)"
exit 0

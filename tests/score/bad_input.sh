#!/usr/bin/env bash
# mg-score bad input: one error line "mg-score: error: FILE: what", exit 1,
# no output files; usage errors exit 2.
source "$(dirname "$0")/../lib.sh"
cd "$T"
printf 'id\tp\na\t0.2\nb\t0.7\nc\t0.4\n' >ok.tsv
printf 'id\ty\na\t0\nb\t1\nc\t1\n' >y.tsv
printf 'id\tp\na\t0.2\nb\thigh\nc\t0.4\n' >nonnum.tsv
printf 'id\tp\na\t0.2\nb\t1.3\nc\t0.4\n' >outside.tsv
printf 'id\tp\na\t0.2\nb\t0.7\na\t0.4\n' >dup.tsv
printf 'id\ty\na\t0\nb\t1\nb\t1\n' >dupy.tsv
printf 'id\tp\n' >header_only.tsv
: >empty.tsv
printf 'id\ty\na\t0\nb\tyes\nc\t1\n' >badlabel.tsv
printf 'id\tp\na\t0.2\tx\n' >ragged.tsv
printf 'id\tp\nx\t0.2\n' >disjoint.tsv
printf 'id\ta\tb\nr1\t0.5\t0.6\n' >rowsum.tsv
printf 'id\ty\nr1\ta\n' >rowsum_y.tsv

expect_error non_numeric_score_is_an_error 1 'error: nonnum.tsv: id b: .*not a number' mg-score classify nonnum.tsv y.tsv -o out.txt --json out.json
[ ! -e out.txt ] && [ ! -e out.json ] && pass error_leaves_no_output_files || fail error_leaves_no_output_files "output written"
printf 'id\tp\na\t0x1p-2\nb\t0.7\nc\t0.4\n' >hex.tsv
expect_error hexadecimal_score_is_not_a_number 1 "error: hex.tsv: id a: score '0x1p-2'" mg-score classify hex.tsv y.tsv
printf 'id\tp\na\tnan\nb\t0.7\nc\t0.4\n' >nan.tsv
expect_error nan_score_is_not_a_number 1 "error: nan.tsv: id a: score 'nan'" mg-score classify nan.tsv y.tsv
expect_error probability_outside_unit_interval_is_an_error 1 'error: outside.tsv: .*outside \[0,1\]' mg-score classify outside.tsv y.tsv
check raw_scores_accept_values_outside_unit_interval mg-score classify --raw-scores outside.tsv y.tsv
expect_error duplicated_prediction_id_is_an_error 1 "error: dup.tsv: duplicated id 'a'" mg-score classify dup.tsv y.tsv
expect_error duplicated_truth_id_is_an_error 1 "error: dupy.tsv: duplicated id 'b'" mg-score classify ok.tsv dupy.tsv
expect_error header_only_file_is_an_error 1 'error: header_only.tsv: no data rows' mg-score classify header_only.tsv y.tsv
expect_error empty_file_is_an_error 1 'error: empty.tsv: empty table' mg-score classify empty.tsv y.tsv
expect_error label_not_0_or_1_is_an_error 1 "error: badlabel.tsv: id b: label 'yes'" mg-score classify ok.tsv badlabel.tsv
expect_error ragged_row_is_an_error 1 'error: ragged.tsv:2: 3 fields, header has 2' mg-score classify ragged.tsv y.tsv
expect_error no_common_id_is_an_error 1 'error: y.tsv: no id in common' mg-score classify disjoint.tsv y.tsv
expect_error missing_file_is_an_error 1 'error: nosuch.tsv: No such file' mg-score classify nosuch.tsv y.tsv
expect_error missing_column_is_an_error 1 "error: ok.tsv: no score column 'q'" mg-score classify --score-col q ok.tsv y.tsv
expect_error multiclass_rows_must_sum_to_one 1 'error: rowsum.tsv: id r1: multiclass scores sum to' mg-score classify rowsum.tsv rowsum_y.tsv
expect_error empty_report_table_is_an_error 1 'error: empty.tsv: empty table' mg-score report empty.tsv y.tsv

# missing ids on either side: a warning each, metrics on the common ids
printf 'id\ty\na\t0\nb\t1\nz\t1\n' >y_extra.tsv
printf 'id\tp\na\t0.2\nb\t0.7\nc\t0.4\nd\t0.1\n' >p_extra.tsv
mg-score classify p_extra.tsv y_extra.tsv >out.txt 2>err.txt; st=$?
if [ $st = 0 ] && grep -q "p_extra.tsv: 2 id(s) not in the truth table (first: c)" err.txt &&
   grep -q "y_extra.tsv: 1 id(s) without a prediction (first: z)" err.txt && grep -q "2 cases" out.txt
then pass missing_ids_are_reported_on_both_sides; else fail missing_ids_are_reported_on_both_sides "$st $(cat err.txt)"; fi
mg-score classify -q p_extra.tsv y_extra.tsv --missing miss.tsv >/dev/null
printf 'side\tid\npredictions\tc\npredictions\td\ntruth\tz\n' >miss_want.tsv
cmp -s miss.tsv miss_want.tsv && pass missing_ids_listed_with_their_side || fail missing_ids_listed_with_their_side "$(cat miss.tsv 2>&1)"

# usage errors: exit 2
for args in "classify" "classify --bootstrap -1 ok.tsv y.tsv" "classify --nope ok.tsv y.tsv" "classify --alpha 2 ok.tsv y.tsv" "nosuchcommand" "report --tokenize x a b" "vqa a"; do
    mg-score $args >/dev/null 2>&1; st=$?
    [ $st = 2 ] && pass "usage_error_exit_2: $args" || fail "usage_error_exit_2: $args" "exit $st"
done
mg-score --version | grep -qx 'mg-score [0-9.]*' && pass version_is_one_line || fail version_is_one_line
mg-score classify --help | grep -q -- '--bootstrap' && pass help_lists_options || fail help_lists_options

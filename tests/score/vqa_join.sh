#!/usr/bin/env bash
# mg-score vqa: ids on one side only are left out with a warning for each side,
# worded as classify words them, and the scores use the common ids only.
source "$(dirname "$0")/../lib.sh"
cd "$T"
printf 'id\tanswer\nq1\tyes\nq2\tno\nq9\tleft\n' >p.tsv
printf 'id\tanswer\tanswer_type\nq5\tright\topen\nq1\tyes\tclosed\nq2\tyes\tclosed\nq7\tno\tclosed\nq7\tnope\tclosed\n' >g.tsv
mg-score vqa --json out.json -o out.txt p.tsv g.tsv 2>err.txt; st=$?
[ $st = 0 ] && pass vqa_one_sided_ids_exit_0 || fail vqa_one_sided_ids_exit_0 "exit $st"
grep -q '^mg-score: warning: p.tsv: 1 id(s) not in the gold table (first: q9); left out$' err.txt \
    && pass vqa_warns_prediction_only || fail vqa_warns_prediction_only "$(cat err.txt)"
grep -q '^mg-score: warning: g.tsv: 2 id(s) without a prediction (first: q5); left out$' err.txt \
    && pass vqa_warns_gold_only || fail vqa_warns_gold_only "$(cat err.txt)"
[ "$(wc -l <err.txt)" = 2 ] && pass vqa_two_warning_lines || fail vqa_two_warning_lines "$(cat err.txt)"
"$PY" -c "import json,sys; m=json.load(open('out.json'))['metrics']; sys.exit(abs(m['closed_accuracy']['value']-0.5) > 1e-12)" \
    && pass vqa_scores_common_ids || fail vqa_scores_common_ids "$(head -c 300 out.json)"
mg-score vqa -q --json out.json -o out.txt p.tsv g.tsv 2>err.txt
[ -s err.txt ] && fail vqa_quiet "$(cat err.txt)" || pass vqa_quiet_no_warnings

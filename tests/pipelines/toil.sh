#!/usr/bin/env bash
# The CWL main job (pipelines/cwl/main.cwl) under Toil on a single machine gives
# the same bytes as the programs piped by hand.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cohort.bash"
command -v toil-cwl-runner >/dev/null || { skip toil_main_job_matches_pipes "toil-cwl-runner not installed"; exit 0; }
make_cohort "$T/d" || { fail make_cohort "could not make the test data"; exit 0; }
by_hand "$T/d" "$T/hand" || { fail by_hand "the main job piped by hand failed"; exit 0; }
mkdir -p "$T/work"
if toil-cwl-runner --jobStore "file:$T/jobstore" --workDir "$T/work" --outdir "$T/toil" \
        --batchSystem single_machine --maxCores 2 --logLevel WARNING --preserve-entire-environment \
        "$TOP/pipelines/cwl/main.cwl" "$T/d/job.yml" >"$T/toil.log" 2>&1; then
    H=$T/hand C=$T/toil
    same_outputs toil_main_job_matches_pipes "$H/prs/cohort.mgt:$C/cohort.mgt" "$H/prs/cohort.sscore:$C/cohort.sscore" \
        "$H/labels/train.tsv:$C/train.tsv" "$H/labels/test.tsv:$C/test.tsv" \
        "$H/xray/train.mgt:$C/train.mgt" "$H/xray/test.mgt:$C/test.mgt"
else
    fail toil_main_job_runs "$(grep -v '^ *"' "$T/toil.log" | tail -5 | tr '\n' ' ')"
fi

#!/usr/bin/env bash
# The CWL main job (pipelines/cwl/main.cwl: PRS, X-ray and CT probes, zero-shot,
# reports and closed VQA) under Toil on a single machine gives the same bytes as
# the programs piped by hand.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cohort.bash"
command -v toil-cwl-runner >/dev/null || { skip toil_main_job_matches_pipes "toil-cwl-runner not installed"; exit 0; }
for p in mg-fit mg-decode; do
    command -v $p >/dev/null || { skip toil_main_job_matches_pipes "$p not built"; exit 0; }
done
make_cohort "$T/d" || { fail make_cohort "could not make the test data"; exit 0; }
by_hand "$T/d" "$T/hand" || { fail by_hand "the main job piped by hand failed"; exit 0; }
mkdir -p "$T/work"
if toil-cwl-runner --jobStore "file:$T/jobstore" --workDir "$T/work" --outdir "$T/toil" \
        --batchSystem single_machine --maxCores 2 --logLevel WARNING --preserve-entire-environment \
        "$TOP/pipelines/cwl/main.cwl" "$T/d/job.yml" >"$T/toil.log" 2>&1; then
    # shellcheck disable=SC2046
    same_outputs toil_main_job_matches_pipes $(cwl_pairs "$T/hand" "$T/toil")
else
    fail toil_main_job_runs "$(grep -v '^ *"' "$T/toil.log" | tail -5 | tr '\n' ' ')"
fi

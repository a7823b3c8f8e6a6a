#!/usr/bin/env bash
# The main job as workflows (pipelines/snakemake/Snakefile, pipelines/cwl/main.cwl
# under cwltool) on a simulated cohort gives the same bytes as the programs piped
# by hand: PRS images, X-ray and CT embeddings, heads, predictions, zero-shot
# scores, generated reports and answers, metric JSON; a failing stage (a corrupt
# image, a corrupt CT volume) fails its job and leaves no output.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cohort.bash"
for p in mg-fit mg-decode; do
    command -v $p >/dev/null || { skip main_job "$p not built"; exit 0; }
done
make_cohort "$T/d" || { fail make_cohort "could not make the test data"; exit 0; }
by_hand "$T/d" "$T/hand" || { fail by_hand "the main job piped by hand failed"; exit 0; }
H=$T/hand
OUTS="prs/cohort.mgt prs/cohort.sscore prs/match.tsv prs/head
      prs/predictions.tsv prs/metrics.json prs/metrics.txt xray/train.mgt xray/test.mgt xray/head
      xray/predictions.tsv xray/metrics.json slide/embeddings.mgt ct/train.mgt ct/test.mgt ct/head
      ct/predictions.tsv ct/metrics.json ct/metrics.txt xray/zeroshot/predictions.tsv
      xray/zeroshot/metrics.json generate/reports.jsonl generate/reports.tsv generate/report_metrics.json
      generate/report_metrics.txt generate/answers.jsonl generate/answers.tsv generate/vqa_metrics.json"

if command -v snakemake >/dev/null; then
    SMK=(snakemake -s "$TOP/pipelines/snakemake/Snakefile" --configfile "$T/d/config.yaml")
    if (cd "$T" && "${SMK[@]}" --dry-run --cores 2 --config out="$T/smk" >"$T/dry.log" 2>&1) &&
       grep -q '^prs_image  *1 ' "$T/dry.log" && grep -q '^embed  *13 ' "$T/dry.log" &&
       grep -q '^score  *3 ' "$T/dry.log" && grep -q '^zeroshot  *1 ' "$T/dry.log" &&
       grep -q '^soft_tokens  *4 ' "$T/dry.log" && grep -q '^generate  *2 ' "$T/dry.log" &&
       grep -q '^score_vqa  *1 ' "$T/dry.log" && [ ! -e "$T/smk" ] &&
       (cd "$T" && "${SMK[@]}" --dag --cores 2 --config out="$T/smk" 2>/dev/null) >"$T/dag.dot" &&
       grep -q '^digraph' "$T/dag.dot" && grep -q 'label = "prs_image"' "$T/dag.dot"; then
        pass snakemake_dry_run_lists_jobs
    else
        fail snakemake_dry_run_lists_jobs "$(tail -5 "$T/dry.log" | tr '\n' ' ')"
    fi
    if (cd "$T" && "${SMK[@]}" --cores 2 --quiet --config out="$T/smk" >"$T/smk.log" 2>&1); then
        pairs=(); for f in $OUTS; do pairs+=("$H/$f:$T/smk/$f"); done
        for t in prs xray ct; do for sp in train test; do pairs+=("$H/labels/$sp.tsv:$T/smk/labels/$t/$sp.tsv"); done; done
        pairs+=("$T/d/refs.tsv:$T/smk/generate/sheet/report.tsv" "$T/d/answers.tsv:$T/smk/generate/sheet/answer.tsv"
                "$T/d/questions.tsv:$T/smk/generate/sheet/question.tsv")
        same_outputs snakemake_main_job_matches_pipes "${pairs[@]}"
        n=$(ls "$T/smk/logs/encode/xray" | wc -l); n3=$(ls "$T/smk/logs/encode/ct" | wc -l)
        [ "$n" = 8 ] && [ "$n3" = 4 ] && [ -s "$T/smk/logs/fit/prs.log" ] && [ -e "$T/smk/logs/generate/answers.log" ] &&
            [ -e "$T/smk/logs/zeroshot/xray.log" ] && pass snakemake_log_per_job ||
            fail snakemake_log_per_job "$n X-ray and $n3 CT encode logs"
    else
        fail snakemake_main_job_runs "$(tail -5 "$T/smk.log" | tr '\n' ' ')"
    fi
    # a cohort split by chromosome is joined on a pipe (bcftools concat) into the same PRS images
    if command -v bcftools >/dev/null; then
        bcftools view -Oz -o "$T/d/cohort/chr1-3.vcf.gz" -r 1,2,3 "$T/d/cohort/cohort.vcf.gz" &&
        bcftools view -Oz -o "$T/d/cohort/chr4-6.vcf.gz" -r 4,5,6 "$T/d/cohort/cohort.vcf.gz" &&
        awk 'BEGIN { FS = OFS = "\t" } NR > 1 && $4 != "" { $4 = "cohort/chr1-3.vcf.gz,cohort/chr4-6.vcf.gz" } 1' \
            "$T/d/samples.tsv" >"$T/d/samples-chr.tsv"
        if (cd "$T" && snakemake "$T/chr/prs/cohort.mgt" "${SMK[@]:1}" --cores 2 --quiet \
                --config out="$T/chr" samples="$T/d/samples-chr.tsv" >"$T/chr.log" 2>&1); then
            same_outputs snakemake_per_chromosome_vcfs_joined "$H/prs/cohort.mgt:$T/chr/prs/cohort.mgt" \
                "$H/prs/cohort.sscore:$T/chr/prs/cohort.sscore"
        else
            fail snakemake_per_chromosome_vcfs_joined "$(tail -3 "$T/chr.log" | tr '\n' ' ')"
        fi
    fi
    # the SLURM profile: threads, memory and time of each job go to sbatch
    mkdir -p "$T/fakebin"
    cat >"$T/fakebin/sbatch" <<SH
#!/bin/bash
echo "\$*" >>"$T/sbatch.args"
bash "\${@: -1}" >/dev/null 2>&1
echo \$RANDOM
SH
    chmod +x "$T/fakebin/sbatch"
    ct1=$(ls "$T/d/ct" | grep -m1 -o 'P[0-9]*')
    if (cd "$T" && PATH="$T/fakebin:$PATH" snakemake "$T/prof/prs/cohort.mgt" "$T/prof/xray/emb/$(ls "$T/d/img" | grep -m1 -o 'P[0-9]*')".mgt \
            "$T/prof/ct/emb/$ct1.mgt" "$T/prof/generate/reports.tsv" "${SMK[@]:1}" \
            --profile "$TOP/pipelines/snakemake/profiles/slurm" --jobs 2 --quiet --config out="$T/prof" \
            >"$T/prof.log" 2>&1) &&
       grep -q -- '--cpus-per-task=2 --mem=2000 --time=60 --job-name=mg-prs_image' "$T/sbatch.args" &&
       grep -q -- '--cpus-per-task=2 --mem=5000 --time=60 --job-name=mg-embed' "$T/sbatch.args" &&
       grep -q -- '--cpus-per-task=2 --mem=8000 --time=60 --job-name=mg-generate' "$T/sbatch.args" &&
       cmp -s "$H/prs/cohort.mgt" "$T/prof/prs/cohort.mgt" && cmp -s "$H/ct/emb/$ct1.mgt" "$T/prof/ct/emb/$ct1.mgt" &&
       cmp -s "$H/generate/reports.tsv" "$T/prof/generate/reports.tsv"; then
        pass snakemake_slurm_profile_maps_resources
    else
        fail snakemake_slurm_profile_maps_resources "$(cat "$T/sbatch.args" 2>/dev/null | cut -c1-120 | tr '\n' ' ') $(tail -3 "$T/prof.log" | tr '\n' ' ')"
    fi
    # a corrupt image and a truncated CT volume fail their jobs; nothing of them
    # or after them is left
    cp -r "$T/d" "$T/bad"
    sed -i "s|$T/d|$T/bad|g" "$T/bad/config.yaml"
    bad=$(ls "$T/bad/img" | grep -m1 png); echo "not a PNG" >"$T/bad/img/$bad"
    split=$(awk -v s="${bad%.png}" '$1 == s { print $2 }' "$T/d/cohort/labels.tsv")
    badct=$(ls "$T/bad/ct" | grep -m1 -o 'P[0-9]*')
    head -c 2000 "$T/d/ct/$badct.nii.gz" >"$T/bad/ct/$badct.nii.gz"
    ctsplit=$(awk -v s="$badct" '$1 == s { print $2 }' "$T/d/cohort/labels.tsv")
    if (cd "$T" && "${SMK[@]/$T\/d\//$T/bad/}" --configfile "$T/bad/config.yaml" --cores 2 --quiet --keep-going \
            --config out="$T/smk-bad" >"$T/smk-bad.log" 2>&1); then
        fail snakemake_corrupt_image_fails_job "workflow succeeded"
    elif [ -e "$T/smk-bad/xray/emb/${bad%.png}.mgt" ] || [ -e "$T/smk-bad/xray/$split.mgt" ] ||
         [ -e "$T/smk-bad/xray/metrics.json" ] || [ -e "$T/smk-bad/ct/emb/$badct.mgt" ] ||
         [ -e "$T/smk-bad/ct/$ctsplit.mgt" ] || [ -e "$T/smk-bad/ct/metrics.json" ]; then
        fail snakemake_corrupt_image_fails_job "output left behind"
    elif ! grep -q "mg-preprocess: error" "$T/smk-bad/logs/preprocess/xray/${bad%.png}.log" ||
         ! grep -q "mg-preprocess: error: .*$badct.nii.gz" "$T/smk-bad/logs/preprocess/ct/$badct.log"; then
        fail snakemake_corrupt_image_fails_job "no error in the preprocess logs"
    else
        cmp -s "$H/prs/metrics.json" "$T/smk-bad/prs/metrics.json" && pass snakemake_corrupt_image_fails_job ||
            fail snakemake_corrupt_image_fails_job "the independent PRS jobs did not complete (--keep-going)"
    fi
    # a checkpoint without one of its tensors fails every encoder job
    cp -r "$T/d/model" "$T/model-bad"
    "$PY" "$TOP/examples/sim/encoders.py" corrupt "$T/model-bad" drop vision_model.encoder.layers.1.mlp.fc1.weight >/dev/null
    if (cd "$T" && "${SMK[@]}" --cores 2 --quiet --config out="$T/smk-ck" models="{xray: $T/model-bad, slide: $T/model-bad}" \
            >"$T/smk-ck.log" 2>&1); then
        fail snakemake_missing_tensor_fails_job "workflow succeeded"
    elif ls "$T/smk-ck/xray/emb/"*.mgt >/dev/null 2>&1; then
        fail snakemake_missing_tensor_fails_job "embeddings left behind"
    else
        pass snakemake_missing_tensor_fails_job
    fi
else
    skip snakemake_main_job_matches_pipes "snakemake not installed"
fi

if command -v cwltool >/dev/null; then
    bad=""
    for f in "$TOP"/pipelines/cwl/*.cwl; do cwltool --validate "$f" >/dev/null 2>&1 || bad="$bad $(basename "$f")"; done
    [ -z "$bad" ] && pass cwl_every_file_validates || fail cwl_every_file_validates "$bad"
    if cwltool --quiet --preserve-environment PATH --preserve-environment OPENBLAS_NUM_THREADS --outdir "$T/cwl" "$TOP/pipelines/cwl/main.cwl" "$T/d/job.yml" >"$T/cwl.log" 2>&1; then
        # shellcheck disable=SC2046
        same_outputs cwl_main_job_matches_pipes $(cwl_pairs "$H" "$T/cwl")
    else
        fail cwl_main_job_runs "$(grep -v '^ *"' "$T/cwl.log" | tail -5 | tr '\n' ' ')"
    fi
    # (cwltool stops at the first failing step: the truncated CT volume alone)
    sed -e "s|$T/d/ct/|$T/bad/ct/|" "$T/d/job.yml" >"$T/bad.yml"
    if cwltool --quiet --preserve-environment PATH --preserve-environment OPENBLAS_NUM_THREADS --outdir "$T/cwl-bad" "$TOP/pipelines/cwl/main.cwl" "$T/bad.yml" >"$T/cwl-bad.log" 2>&1; then
        fail cwl_corrupt_image_fails_job "workflow succeeded"
    elif ! grep -q "mg-preprocess: error: .*$badct.nii.gz" "$T/cwl-bad.log"; then
        fail cwl_corrupt_image_fails_job "no mg-preprocess error in the log"
    elif [ -n "$(ls -A "$T/cwl-bad" 2>/dev/null)" ]; then
        fail cwl_corrupt_image_fails_job "outputs left in the output folder"
    else
        pass cwl_corrupt_image_fails_job
    fi
else
    skip cwl_main_job_matches_pipes "cwltool not installed"
fi

#!/usr/bin/env bash
# The main job as workflows (pipelines/snakemake/Snakefile, pipelines/cwl/main.cwl
# under cwltool) on a simulated cohort gives the same bytes as the programs piped
# by hand: PRS images, heads, predictions and metric JSON; a failing stage fails
# its job and leaves no output.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cohort.bash"
for p in mg-fit mg-decode; do
    command -v $p >/dev/null || { skip main_job "$p not built"; exit 0; }
done
make_cohort "$T/d" || { fail make_cohort "could not make the test data"; exit 0; }
by_hand "$T/d" "$T/hand" || { fail by_hand "the main job piped by hand failed"; exit 0; }
H=$T/hand
OUTS="labels/train.tsv labels/test.tsv prs/cohort.mgt prs/cohort.sscore prs/match.tsv prs/head
      prs/predictions.tsv prs/metrics.json prs/metrics.txt xray/train.mgt xray/test.mgt xray/head
      xray/predictions.tsv xray/metrics.json slide/embeddings.mgt"

if command -v snakemake >/dev/null; then
    SMK=(snakemake -s "$TOP/pipelines/snakemake/Snakefile" --configfile "$T/d/config.yaml")
    if (cd "$T" && "${SMK[@]}" --dry-run --cores 2 --config out="$T/smk" >"$T/dry.log" 2>&1) &&
       grep -q '^prs_image  *1 ' "$T/dry.log" && grep -q '^embed  *9 ' "$T/dry.log" &&
       grep -q '^score  *2 ' "$T/dry.log" && [ ! -e "$T/smk" ] &&
       (cd "$T" && "${SMK[@]}" --dag --cores 2 --config out="$T/smk" 2>/dev/null) >"$T/dag.dot" &&
       grep -q '^digraph' "$T/dag.dot" && grep -q 'label = "prs_image"' "$T/dag.dot"; then
        pass snakemake_dry_run_lists_jobs
    else
        fail snakemake_dry_run_lists_jobs "$(tail -5 "$T/dry.log" | tr '\n' ' ')"
    fi
    if (cd "$T" && "${SMK[@]}" --cores 2 --quiet --config out="$T/smk" >"$T/smk.log" 2>&1); then
        pairs=(); for f in $OUTS; do pairs+=("$H/$f:$T/smk/$f"); done
        same_outputs snakemake_main_job_matches_pipes "${pairs[@]}"
        n=$(ls "$T/smk/logs/encode/xray" | wc -l)
        [ "$n" = 8 ] && [ -s "$T/smk/logs/fit/prs.log" ] && pass snakemake_log_per_job || fail snakemake_log_per_job "$n encode logs"
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
    if (cd "$T" && PATH="$T/fakebin:$PATH" snakemake "$T/prof/prs/cohort.mgt" "$T/prof/xray/emb/$(ls "$T/d/img" | grep -m1 -o 'P[0-9]*')".mgt "${SMK[@]:1}" \
            --profile "$TOP/pipelines/snakemake/profiles/slurm" --jobs 2 --quiet --config out="$T/prof" \
            >"$T/prof.log" 2>&1) &&
       grep -q -- '--cpus-per-task=2 --mem=2000 --time=60 --job-name=mg-prs_image' "$T/sbatch.args" &&
       grep -q -- '--cpus-per-task=2 --mem=5000 --time=60 --job-name=mg-embed' "$T/sbatch.args" &&
       cmp -s "$H/prs/cohort.mgt" "$T/prof/prs/cohort.mgt"; then
        pass snakemake_slurm_profile_maps_resources
    else
        fail snakemake_slurm_profile_maps_resources "$(cat "$T/sbatch.args" 2>/dev/null | cut -c1-120 | tr '\n' ' ') $(tail -3 "$T/prof.log" | tr '\n' ' ')"
    fi
    # a corrupt image fails its job; nothing of it or after it is left
    cp -r "$T/d" "$T/bad"
    sed -i "s|$T/d|$T/bad|g" "$T/bad/config.yaml"
    bad=$(ls "$T/bad/img" | grep -m1 png); echo "not a PNG" >"$T/bad/img/$bad"
    split=$(awk -v s="${bad%.png}" '$1 == s { print $2 }' "$T/d/cohort/labels.tsv")
    if (cd "$T" && "${SMK[@]/$T\/d\//$T/bad/}" --configfile "$T/bad/config.yaml" --cores 2 --quiet --keep-going \
            --config out="$T/smk-bad" >"$T/smk-bad.log" 2>&1); then
        fail snakemake_corrupt_image_fails_job "workflow succeeded"
    elif [ -e "$T/smk-bad/xray/emb/${bad%.png}.mgt" ] || [ -e "$T/smk-bad/xray/$split.mgt" ] ||
         [ -e "$T/smk-bad/xray/metrics.json" ]; then
        fail snakemake_corrupt_image_fails_job "output left behind"
    elif ! grep -q "error" "$T/smk-bad/logs/preprocess/xray/${bad%.png}.log"; then
        fail snakemake_corrupt_image_fails_job "no error in the preprocess log"
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
        C=$T/cwl
        # (the match log names each scoring file by its path, which differs once staged)
        same_outputs cwl_main_job_matches_pipes "$H/prs/cohort.mgt:$C/cohort.mgt" "$H/prs/cohort.sscore:$C/cohort.sscore" \
            "$H/prs/head:$C/prs_head" "$H/prs/predictions.tsv:$C/prs_predictions.tsv" \
            "$H/prs/metrics.json:$C/prs_metrics.json" "$H/xray/train.mgt:$C/train.mgt" "$H/xray/test.mgt:$C/test.mgt" \
            "$H/xray/head:$C/image_head" "$H/xray/predictions.tsv:$C/image_predictions.tsv" \
            "$H/xray/metrics.json:$C/image_metrics.json"
    else
        fail cwl_main_job_runs "$(grep -v '^ *"' "$T/cwl.log" | tail -5 | tr '\n' ' ')"
    fi
    sed "s|$T/d/img/|$T/bad/img/|" "$T/d/job.yml" >"$T/bad.yml"
    if cwltool --quiet --preserve-environment PATH --preserve-environment OPENBLAS_NUM_THREADS --outdir "$T/cwl-bad" "$TOP/pipelines/cwl/main.cwl" "$T/bad.yml" >"$T/cwl-bad.log" 2>&1; then
        fail cwl_corrupt_image_fails_job "workflow succeeded"
    elif ! grep -q "mg-preprocess: error" "$T/cwl-bad.log"; then
        fail cwl_corrupt_image_fails_job "no mg-preprocess error in the log"
    elif [ -n "$(ls -A "$T/cwl-bad" 2>/dev/null)" ]; then
        fail cwl_corrupt_image_fails_job "outputs left in the output folder"
    else
        pass cwl_corrupt_image_fails_job
    fi
else
    skip cwl_main_job_matches_pipes "cwltool not installed"
fi

# Embed a folder of medical images: one job per image (mg-preprocess piped into
# mg-encode2d), then one stream of all embeddings. Every step is a shell pipe of
# mgpipe programs; Snakemake's 'set -euo pipefail' makes any failing stage fail
# the job, and mgpipe leaves no partial output behind.
#
#   snakemake -s pipelines/snakemake/embed.smk --cores 2 \
#       --config images=data/cxr model=medsiglip-448 preset=medsiglip-448 out=results
#   (add --profile pipelines/snakemake/profiles/slurm to run the jobs on SLURM)
#
# config: images  folder of .png/.jpg/.tif/.nii.gz files
#         model   Hugging Face checkpoint directory for mg-encode2d
#         preset  mg-preprocess preset; "model" to use the checkpoint's
#                 preprocessor_config.json [model]; "none" for only 'extra' 
#         out     output folder [results]
#         extra   extra mg-preprocess options [""]
import os

IMAGES = config["images"]
MODEL = config["model"]
PRESET = config.get("preset", "model")
OUT = config.get("out", "results")
EXTRA = config.get("extra", "")
EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".nii", ".nii.gz")


def sample_of(name):
    for e in sorted(EXTS, key=len, reverse=True):
        if name.endswith(e):
            return name[: -len(e)]
    return None


FILES = {sample_of(f): f for f in sorted(os.listdir(IMAGES)) if sample_of(f)}
PREP = {"model": f"--model {MODEL}", "none": ""}.get(PRESET, f"--preset {PRESET}")

rule all:
    input: f"{OUT}/embeddings.mgt"

rule embed:
    input: lambda w: os.path.join(IMAGES, FILES[w.sample])
    output: f"{OUT}/per-image/{{sample}}.mgt"
    threads: 2
    log: f"{OUT}/logs/{{sample}}.log"
    shell:
        "mg-preprocess {PREP} {EXTRA} --id {wildcards.sample} {input} 2> {log}"
        " | mg-encode2d -m {MODEL} -@ {threads} -o {output} 2>> {log}"

rule gather:
    input: expand(f"{OUT}/per-image/{{sample}}.mgt", sample=sorted(FILES))
    output: f"{OUT}/embeddings.mgt"
    shell: "mg-stream cat {input} -o {output}"

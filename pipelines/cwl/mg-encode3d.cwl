#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-encode3d: volume records (mg-preprocess of a NIfTI) to one embedding per
  volume, with a 3D encoder (monai_vit, m3d_clip, merlin_i3d) or slice by slice
  with an image encoder (the slices of --preset medgemma-ct), pooled.
baseCommand: mg-encode3d
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 4000
inputs:
  records:
    type: File
    inputBinding: {position: 10}
  model:
    type: Directory
    inputBinding: {prefix: -m}
  kind:
    type: string?
    doc: pooled, mean, tokens or projected [the model's own]
    inputBinding: {prefix: --kind}
  slices:
    type: string?
    doc: "image encoders: pool the slices by mean or max, or keep them as tokens [mean]"
    inputBinding: {prefix: --slices}
  l2:
    type: boolean?
    inputBinding: {prefix: --l2}
  options:
    type: string[]?
    inputBinding: {position: 1}
  threads:
    type: int
    default: 1
    inputBinding: {prefix: -@}
  no_version:
    type: boolean
    default: false
    inputBinding: {prefix: --no-version}
arguments:
  - {prefix: -o, valueFrom: $(inputs.records.nameroot).emb.mgt}
outputs:
  embeddings:
    type: File
    outputBinding: {glob: $(inputs.records.nameroot).emb.mgt}

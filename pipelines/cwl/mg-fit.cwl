#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-fit: a linear head (logistic or ridge regression, scikit-learn's objective)
  fitted on one tensor of every record (embeddings, PRS images) joined by id to
  a labels table; records without a label are left out.
baseCommand: mg-fit
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 2000
inputs:
  stream:
    type: File
    inputBinding: {position: 10}
  labels:
    type: File
    inputBinding: {prefix: --labels}
  input_name:
    type: string?
    doc: tensor to train on [embedding]; prs for PRS images
    inputBinding: {prefix: --input}
  label_col:
    type: string?
    inputBinding: {prefix: --label-col}
  task:
    type: string?
    inputBinding: {prefix: --task}
  C:
    type: double?
    doc: fixed inverse L2 strength; no cross-validation
    inputBinding: {prefix: --C}
  cv:
    type: int?
    inputBinding: {prefix: --cv}
  seed:
    type: int?
    inputBinding: {prefix: --seed}
  class_weight:
    type: string?
    inputBinding: {prefix: --class-weight}
  options:
    type: string[]?
    inputBinding: {position: 1}
  name:
    type: string
    default: head
  threads:
    type: int
    default: 1
    inputBinding: {prefix: -@}
  no_version:
    type: boolean
    default: false
    inputBinding: {prefix: --no-version}
arguments: [-o, $(inputs.name), --json, $(inputs.name).fit.json]
outputs:
  head:
    type: Directory
    outputBinding: {glob: $(inputs.name)}
  report:
    type: File
    outputBinding: {glob: $(inputs.name).fit.json}

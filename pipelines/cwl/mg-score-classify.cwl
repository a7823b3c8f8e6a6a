#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-score classify: AUC (with its DeLong interval), AP, accuracy, F1, Brier,
  ECE ... of predictions against truth joined by id; a table and JSON.
baseCommand: [mg-score, classify]
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 1000
inputs:
  predictions:
    type: File
    inputBinding: {position: 10}
  truth:
    type: File?
    inputBinding: {position: 11}
  bootstrap:
    type: int?
    inputBinding: {prefix: --bootstrap}
  seed:
    type: int?
    inputBinding: {prefix: --seed}
  threshold:
    type: double?
    inputBinding: {prefix: --threshold}
  score_col:
    type: string?
    doc: the score column(s) to use, e.g. the positive class of zero-shot scores
    inputBinding: {prefix: --score-col}
  options:
    type: string[]?
    inputBinding: {position: 1}
  name:
    type: string
    default: metrics
  threads:
    type: int
    default: 1
    inputBinding: {prefix: -@}
  no_version:
    type: boolean
    default: false
    inputBinding: {prefix: --no-version}
arguments: [--json, $(inputs.name).json, -o, $(inputs.name).txt]
outputs:
  json:
    type: File
    outputBinding: {glob: $(inputs.name).json}
  table:
    type: File
    outputBinding: {glob: $(inputs.name).txt}

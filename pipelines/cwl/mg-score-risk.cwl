#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-score risk: risk scores (PRS, model outputs) against outcomes joined by id:
  the classify metrics plus OR per SD, top-decile OR, Nagelkerke R2 and, with a
  follow-up time column, Harrell's C; a table and JSON.
baseCommand: [mg-score, risk]
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
  time_col:
    type: string?
    inputBinding: {prefix: --time-col}
  covariates:
    type: string?
    doc: comma-separated covariate columns
    inputBinding: {prefix: --covariates}
  score_col:
    type: string?
    doc: the score column(s) to use, e.g. the positive class of zero-shot scores
    inputBinding: {prefix: --score-col}
  options:
    type: string[]?
    inputBinding: {position: 1}
  name:
    type: string
    default: risk_metrics
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

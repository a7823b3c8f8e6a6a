#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-score report: generated reports against references joined by id (BLEU-1..4,
  ROUGE-L, CIDEr-D; with options CheXpert-label or RadGraph F1); a table and JSON.
baseCommand: [mg-score, report]
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 1000
inputs:
  hypotheses:
    type: File
    inputBinding: {position: 10}
  references:
    type: File
    inputBinding: {position: 11}
  tokenize:
    type: string?
    doc: none, simple or ptb [none]
    inputBinding: {prefix: --tokenize}
  bootstrap:
    type: int?
    inputBinding: {prefix: --bootstrap}
  seed:
    type: int?
    inputBinding: {prefix: --seed}
  options:
    type: string[]?
    inputBinding: {position: 1}
  name:
    type: string
    default: report_metrics
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

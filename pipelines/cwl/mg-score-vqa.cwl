#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-score vqa: answers against gold answers joined by id (closed-question
  accuracy, open-question recall, token F1, exact match); a table and JSON.
baseCommand: [mg-score, vqa]
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
    type: File
    inputBinding: {position: 11}
  compat:
    type: string?
    doc: closed-question rule, exact or llava-med [exact]
    inputBinding: {prefix: --compat}
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
    default: vqa_metrics
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

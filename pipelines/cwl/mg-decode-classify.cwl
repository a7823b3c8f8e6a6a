#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-decode classify: apply a head written by mg-fit to every record of a
  stream; one prediction row per record (TSV, JSON Lines or mgt).
baseCommand: [mg-decode, classify]
requirements:
  InlineJavascriptRequirement: {}
hints:
  ResourceRequirement: {coresMin: 1, ramMin: 1000}
inputs:
  head:
    type: Directory
    inputBinding: {prefix: -m}
  stream:
    type: File
    inputBinding: {position: 10}
  format:
    type: string
    default: tsv
    inputBinding: {prefix: -O}
  name:
    type: string
    default: predictions
  no_version:
    type: boolean
    default: false
    inputBinding: {prefix: --no-version}
arguments: [-o, $(inputs.name).$(inputs.format)]
outputs:
  predictions:
    type: File
    outputBinding: {glob: $(inputs.name).$(inputs.format)}

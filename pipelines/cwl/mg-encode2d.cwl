#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: "mg-encode2d: image records to embeddings with a Hugging Face vision checkpoint."
baseCommand: mg-encode2d
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
    inputBinding: {prefix: --kind}
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

#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-decode zeroshot: the embedding records of a stream (mg-encode2d of the same
  SigLIP checkpoint) scored against class prompts embedded by the checkpoint's
  text tower; one column per class, in the columns mg-score classify reads.
baseCommand: [mg-decode, zeroshot]
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 2000
inputs:
  stream:
    type: File
    inputBinding: {position: 10}
  model:
    type: Directory
    doc: SigLIP / MedSigLIP checkpoint with its text tower and tokenizer
    inputBinding: {prefix: -m}
  prompts:
    type: File
    doc: class<TAB>prompt lines; several prompts per class are averaged
    inputBinding: {prefix: -p}
  softmax:
    type: boolean?
    inputBinding: {prefix: --softmax}
  format:
    type: string
    default: tsv
    inputBinding: {prefix: -O}
  name:
    type: string
    default: zeroshot
  threads:
    type: int
    default: 1
    inputBinding: {prefix: -@}
  no_version:
    type: boolean
    default: false
    inputBinding: {prefix: --no-version}
arguments: [-o, $(inputs.name).$(inputs.format)]
outputs:
  predictions:
    type: File
    outputBinding: {glob: $(inputs.name).$(inputs.format)}

#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-decode generate: text from a Gemma 3 / MedGemma decoder for each image of
  a stream of soft tokens (mg-encode2d -k projected; records with one id are
  the images of one prompt): a report, or with choices the option of highest
  log-probability after the prompt (closed questions). JSON Lines, one object
  per prompt.
baseCommand: [mg-decode, generate]
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 8000
inputs:
  tokens:
    type: File?
    doc: soft-token records; without them the prompts are text only
    inputBinding: {position: 10}
  model:
    type: Directory
    doc: decoder checkpoint (config.json, safetensors, tokenizer.json)
    inputBinding: {prefix: -m}
  prompt:
    type: string?
    inputBinding: {prefix: -p}
  prompts:
    type: File?
    doc: "'id<TAB>prompt' lines: the prompt of each record id"
    inputBinding: {prefix: --prompts}
  system:
    type: string?
    inputBinding: {prefix: -s}
  max_tokens:
    type: int?
    inputBinding: {prefix: -n}
  choices:
    type: string?
    doc: comma-separated options scored by summed log-probability
    inputBinding: {prefix: --choices}
  options:
    type: string[]?
    inputBinding: {position: 1}
  name:
    type: string
    default: generated
  threads:
    type: int
    default: 1
    inputBinding: {prefix: -@}
arguments: [--no-timings, -o, $(inputs.name).jsonl]
outputs:
  jsonl:
    type: File
    outputBinding: {glob: $(inputs.name).jsonl}

#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: "mg-preprocess: a medical image to a model-ready tensor stream."
baseCommand: mg-preprocess
requirements:
  InlineJavascriptRequirement: {}
inputs:
  image:
    type: File
    inputBinding: {position: 10}
  preset:
    type: string?
    inputBinding: {prefix: --preset}
  size:
    type: int?
    inputBinding: {prefix: --size}
  mean:
    type: string?
    inputBinding: {prefix: --mean}
  std:
    type: string?
    inputBinding: {prefix: --std}
  channels:
    type: int?
    inputBinding: {prefix: --channels}
  id:
    type: string?
    inputBinding: {prefix: --id}
arguments: [--no-version, -o, $(inputs.image.nameroot).mgt]
outputs:
  records:
    type: File
    outputBinding: {glob: $(inputs.image.nameroot).mgt}

#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-preprocess: a medical image (NIfTI, TIFF, whole-slide TIFF, PNG, JPEG) to a
  model-ready tensor stream. The record id is 'id', else the file name.
baseCommand: mg-preprocess
requirements:
  InlineJavascriptRequirement: {}
hints:
  ResourceRequirement: {coresMin: 1, ramMin: 1000}
inputs:
  image:
    type: File
    inputBinding: {position: 10}
  id:
    type: string?
    inputBinding: {prefix: --id}
  preset:
    type: string?
    inputBinding: {prefix: --preset}
  model:
    type: Directory?
    doc: 2D settings from the checkpoint's preprocessor_config.json
    inputBinding: {prefix: --model}
  pad_square:
    type: boolean?
    inputBinding: {prefix: --pad-square}
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
  options:
    type: string[]?
    doc: any other options, one argument per item (e.g. [--slide, --tile, "224"])
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
  - {prefix: -o, valueFrom: $(inputs.id || inputs.image.nameroot).mgt}
outputs:
  records:
    type: File
    outputBinding: {glob: $(inputs.id || inputs.image.nameroot).mgt}

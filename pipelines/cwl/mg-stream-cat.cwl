#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: "mg-stream cat: concatenate tensor streams, in the order given."
baseCommand: [mg-stream, cat]
hints:
  ResourceRequirement: {coresMin: 1, ramMin: 500}
inputs:
  streams:
    type: File[]
    inputBinding: {position: 10}
  name:
    type: string
    default: all.mgt
  no_version:
    type: boolean
    default: false
    inputBinding: {prefix: --no-version}
arguments: [-o, $(inputs.name)]
outputs:
  stream:
    type: File
    outputBinding: {glob: $(inputs.name)}

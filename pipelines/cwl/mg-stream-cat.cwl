#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: "mg-stream cat: concatenate tensor streams."
baseCommand: [mg-stream, cat]
inputs:
  streams:
    type: File[]
    inputBinding: {position: 10}
  name:
    type: string
    default: all.mgt
arguments: [--no-version, -o, $(inputs.name)]
outputs:
  stream:
    type: File
    outputBinding: {glob: $(inputs.name)}

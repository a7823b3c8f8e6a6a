#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: "One split (train or test) of a labels table (id, split, label columns) as id and one label column."
baseCommand: awk
hints:
  ResourceRequirement: {coresMin: 1, ramMin: 100}
inputs:
  labels:
    type: File
    inputBinding: {position: 10}
  split:
    type: string
    inputBinding: {prefix: -v, valueFrom: s=$(self), position: 1}
  target:
    type: string
    inputBinding: {prefix: -v, valueFrom: col=$(self), position: 2}
  script:
    type: File
    default: {class: File, location: ../awk/split-labels.awk}
    inputBinding: {prefix: -f, position: 3}
stdout: $(inputs.split).tsv
outputs:
  table:
    type: stdout

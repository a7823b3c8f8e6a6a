#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: "The rows of a table (header kept) whose id is in the first column of another table."
baseCommand: awk
hints:
  ResourceRequirement: {coresMin: 1, ramMin: 100}
inputs:
  ids:
    type: File
    inputBinding: {position: 10}
  table:
    type: File
    inputBinding: {position: 11}
  name:
    type: string
    default: selected.tsv
  script:
    type: File
    default: {class: File, location: ../awk/select-ids.awk}
    inputBinding: {prefix: -f, position: 1}
stdout: $(inputs.name)
outputs:
  selected:
    type: stdout

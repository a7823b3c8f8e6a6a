#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  The JSON Lines of mg-decode generate as the two-column table (id and text,
  tabs and line breaks folded) that mg-score report and vqa read.
baseCommand: [jq, -nr]
requirements:
  InlineJavascriptRequirement: {}
hints:
  ResourceRequirement: {coresMin: 1, ramMin: 100}
inputs:
  jsonl:
    type: File
    inputBinding: {position: 10}
  column:
    type: string
    default: text
    doc: header of the text column (text for mg-score report, answer for vqa)
  script:
    type: File
    default: {class: File, location: ../jq/texts.jq}
    inputBinding: {prefix: -f, position: 2}
  name:
    type: string
    default: texts.tsv
arguments: [--arg, col, $(inputs.column)]
stdout: $(inputs.name)
outputs:
  table:
    type: stdout

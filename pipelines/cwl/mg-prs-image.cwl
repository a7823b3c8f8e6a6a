#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: |
  mg-prs-image: score every sample of a cohort VCF/BCF with PGS Catalog (or
  plink2-style) scoring files as plink2 --score does; write one PRS image record
  per sample, the plink2 .sscore table and the match log.
baseCommand: mg-prs-image
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: $(inputs.threads)
    ramMin: 2000
inputs:
  vcf:
    type: File
    secondaryFiles:
      - {pattern: .tbi, required: false}
      - {pattern: .csi, required: false}
    inputBinding: {position: 10}
  scores:
    type:
      type: array
      items: File
      inputBinding: {prefix: -s}
    inputBinding: {position: 2}
  match:
    type: string?
    doc: id (plink2 --score) or pos (pgsc_calc)
    inputBinding: {prefix: --match}
  min_overlap:
    type: string?
    inputBinding: {prefix: --min-overlap}
  layout:
    type: File?
    doc: lines 'score<TAB>trait'
    inputBinding: {prefix: --layout}
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
arguments: [-o, cohort.mgt, --sscore, cohort.sscore, --match-log, match.tsv]
outputs:
  stream:
    type: File
    outputBinding: {glob: cohort.mgt}
  sscore:
    type: File
    outputBinding: {glob: cohort.sscore}
  match_log:
    type: File
    outputBinding: {glob: match.tsv}

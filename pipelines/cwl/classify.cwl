#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  A classifier from records to metrics: mg-fit on the records of the training
  ids, mg-decode classify on the records to predict, the predictions of the
  test ids kept, mg-score classify against their truth.
requirements:
  InlineJavascriptRequirement: {}
  StepInputExpressionRequirement: {}
inputs:
  prefix: {type: string, default: "", doc: "prefix of the output names (prs_: prs_head, prs_metrics.json ...)"}
  train: File
  predict: File
  train_labels: File
  test_labels: File
  input_name: string?
  C: double?
  cv: int?
  fit_options: string[]?
  score_options: string[]?
  threads: {type: int, default: 1}
  no_version: {type: boolean, default: false}
outputs:
  head: {type: Directory, outputSource: fit/head}
  fit_report: {type: File, outputSource: fit/report}
  predictions: {type: File, outputSource: select/selected}
  metrics: {type: File, outputSource: score/json}
  metrics_table: {type: File, outputSource: score/table}
steps:
  fit:
    run: mg-fit.cwl
    in:
      stream: train
      labels: train_labels
      input_name: input_name
      C: C
      cv: cv
      options: fit_options
      threads: threads
      name: {source: prefix, valueFrom: $(self)head}
      no_version: no_version
    out: [head, report]
  decode:
    run: mg-decode-classify.cwl
    in:
      head: fit/head
      stream: predict
      name: {source: prefix, valueFrom: $(self)all_predictions}
      no_version: no_version
    out: [predictions]
  select:
    run: select-ids.cwl
    in:
      ids: test_labels
      table: decode/predictions
      name: {source: prefix, valueFrom: $(self)predictions.tsv}
    out: [selected]
  score:
    run: mg-score-classify.cwl
    in:
      predictions: select/selected
      truth: test_labels
      options: score_options
      name: {source: prefix, valueFrom: $(self)metrics}
      no_version: no_version
    out: [json, table]

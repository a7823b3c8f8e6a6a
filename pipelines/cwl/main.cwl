#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  The mgpipe main job. PRS: mg-prs-image over the cohort VCF with PGS Catalog
  scoring files, a head fitted on the training ids, predictions and metrics
  (AUC with DeLong interval) on the test ids. Imaging: the training and the
  test images embedded (mg-preprocess, mg-encode2d, scattered over the
  samples), a head fitted on the training embeddings, metrics on the test ones.
  cwltool main.cwl job.yml, or toil-cwl-runner on Slurm, Kubernetes or a cloud
  batch system.
requirements:
  SubworkflowFeatureRequirement: {}
inputs:
  labels: {type: File, doc: "id, split (train/test) and label columns"}
  target: {type: string, doc: the label column to predict}
  vcf:
    type: File
    secondaryFiles:
      - {pattern: .tbi, required: false}
      - {pattern: .csi, required: false}
  pgs: File[]
  prs_match: {type: string, default: pos}
  prs_layout: File?
  prs_options: string[]?
  train_images: File[]
  train_ids: string[]
  test_images: File[]
  test_ids: string[]
  model: Directory
  pad_square: boolean?
  size: int?
  mean: string?
  std: string?
  channels: int?
  prep_options: string[]?
  encode_options: string[]?
  C: double?
  cv: int?
  fit_options: string[]?
  score_options: string[]?
  threads: {type: int, default: 1}
  no_version: {type: boolean, default: false}
outputs:
  prs_stream: {type: File, outputSource: prs/stream}
  prs_sscore: {type: File, outputSource: prs/sscore}
  prs_match_log: {type: File, outputSource: prs/match_log}
  prs_head: {type: Directory, outputSource: prs_classify/head}
  prs_fit_report: {type: File, outputSource: prs_classify/fit_report}
  prs_predictions: {type: File, outputSource: prs_classify/predictions}
  prs_metrics: {type: File, outputSource: prs_classify/metrics}
  prs_metrics_table: {type: File, outputSource: prs_classify/metrics_table}
  image_train: {type: File, outputSource: embed_train/stream}
  image_test: {type: File, outputSource: embed_test/stream}
  image_head: {type: Directory, outputSource: image_classify/head}
  image_fit_report: {type: File, outputSource: image_classify/fit_report}
  image_predictions: {type: File, outputSource: image_classify/predictions}
  image_metrics: {type: File, outputSource: image_classify/metrics}
  image_metrics_table: {type: File, outputSource: image_classify/metrics_table}
steps:
  train_labels:
    run: split-labels.cwl
    in: {labels: labels, target: target, split: {default: train}}
    out: [table]
  test_labels:
    run: split-labels.cwl
    in: {labels: labels, target: target, split: {default: test}}
    out: [table]
  prs:
    run: mg-prs-image.cwl
    in:
      vcf: vcf
      scores: pgs
      match: prs_match
      layout: prs_layout
      options: prs_options
      threads: threads
      no_version: no_version
    out: [stream, sscore, match_log]
  prs_classify:
    run: classify.cwl
    in:
      train: prs/stream
      predict: prs/stream
      train_labels: train_labels/table
      test_labels: test_labels/table
      prefix: {default: prs_}
      input_name: {default: prs}
      C: C
      cv: cv
      fit_options: fit_options
      score_options: score_options
      threads: threads
      no_version: no_version
    out: [head, fit_report, predictions, metrics, metrics_table]
  embed_train:
    run: embed-images.cwl
    in:
      images: train_images
      ids: train_ids
      model: model
      pad_square: pad_square
      size: size
      mean: mean
      std: std
      channels: channels
      prep_options: prep_options
      encode_options: encode_options
      threads: threads
      name: {default: train.mgt}
      no_version: no_version
    out: [stream]
  embed_test:
    run: embed-images.cwl
    in:
      images: test_images
      ids: test_ids
      model: model
      pad_square: pad_square
      size: size
      mean: mean
      std: std
      channels: channels
      prep_options: prep_options
      encode_options: encode_options
      threads: threads
      name: {default: test.mgt}
      no_version: no_version
    out: [stream]
  image_classify:
    run: classify.cwl
    in:
      train: embed_train/stream
      predict: embed_test/stream
      train_labels: train_labels/table
      test_labels: test_labels/table
      prefix: {default: image_}
      C: C
      cv: cv
      fit_options: fit_options
      score_options: score_options
      threads: threads
      no_version: no_version
    out: [head, fit_report, predictions, metrics, metrics_table]

#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  The mgpipe main job. PRS: mg-prs-image over the cohort VCF with PGS Catalog
  scoring files, a head fitted on the training ids, predictions and metrics
  (AUC with DeLong interval) on the test ids. Imaging: the training and the
  test images embedded (mg-preprocess, mg-encode2d, scattered over the
  samples), a head fitted on the training embeddings, metrics on the test ones.
  and:
  - CT: the training and test volumes (NIfTI) through mg-preprocess and
    mg-encode3d (slice-wise with an image checkpoint, or a 3D encoder), a head,
    metrics on the test ids;
  - zero-shot: the test images' embeddings against class prompts embedded by
    the image checkpoint's own text tower (mg-decode zeroshot), the positive
    class's column scored;
  - reports and closed VQA (reports.cwl): soft tokens of the report images (mg-encode2d -k
    projected of a MedGemma-style vision tower), a report per image and the
    answer to each image's question among the choices (mg-decode generate),
    scored by mg-score report and vqa against references / gold answers.
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
  # CT volumes
  ct_train_volumes: File[]
  ct_train_ids: string[]
  ct_test_volumes: File[]
  ct_test_ids: string[]
  ct_model: {type: Directory, doc: image checkpoint (slice-wise) or 3D encoder}
  ct_prep_options: {type: "string[]?", doc: "e.g. [--preset, medgemma-ct]"}
  ct_encode_options: {type: "string[]?", doc: "mg-encode3d options, e.g. [--slices, max]"}
  # zero-shot on the test images
  zeroshot_prompts: {type: File, doc: "class<TAB>prompt lines, read by the image checkpoint's text tower"}
  zeroshot_positive: {type: string, doc: the class column scored against the target}
  # reports and closed VQA
  report_images: {type: "File[]", doc: images to write reports for and to ask about}
  report_ids: string[]
  vision: {type: Directory, doc: "image tower + projector (gemma3 layout)"}
  decoder: {type: Directory, doc: Gemma 3 / MedGemma decoder with its tokenizer}
  report_prep_options: {type: "string[]?", doc: "e.g. [--preset, medgemma-896]"}
  system: string?
  report_prompt: {type: string, default: Describe this image.}
  max_tokens: int?
  report_refs: {type: File, doc: "reference reports (id, text)"}
  choices: {type: string, default: "yes,no", doc: options of the closed questions}
  question: {type: string?, doc: "the question put to every image (or questions)"}
  questions: {type: File?, doc: "'id<TAB>question' lines: each image's own question"}
  vqa_truth: {type: File, doc: "gold answers (id, answer[, answer_type])"}
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
  ct_train: {type: File, outputSource: embed_ct_train/stream}
  ct_test: {type: File, outputSource: embed_ct_test/stream}
  ct_head: {type: Directory, outputSource: ct_classify/head}
  ct_fit_report: {type: File, outputSource: ct_classify/fit_report}
  ct_predictions: {type: File, outputSource: ct_classify/predictions}
  ct_metrics: {type: File, outputSource: ct_classify/metrics}
  ct_metrics_table: {type: File, outputSource: ct_classify/metrics_table}
  zeroshot_predictions: {type: File, outputSource: zeroshot/predictions}
  zeroshot_metrics: {type: File, outputSource: zeroshot_score/json}
  zeroshot_metrics_table: {type: File, outputSource: zeroshot_score/table}
  report_tokens: {type: File, outputSource: generate/tokens}
  reports_jsonl: {type: File, outputSource: generate/reports_jsonl}
  reports: {type: File, outputSource: generate/reports}
  report_metrics: {type: File, outputSource: generate/report_metrics}
  report_metrics_table: {type: File, outputSource: generate/report_metrics_table}
  answers_jsonl: {type: File, outputSource: generate/answers_jsonl}
  answers: {type: File, outputSource: generate/answers}
  vqa_metrics: {type: File, outputSource: generate/vqa_metrics}
  vqa_metrics_table: {type: File, outputSource: generate/vqa_metrics_table}
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
  embed_ct_train:
    run: embed-volumes.cwl
    in:
      volumes: ct_train_volumes
      ids: ct_train_ids
      model: ct_model
      prep_options: ct_prep_options
      encode_options: ct_encode_options
      threads: threads
      name: {default: ct_train.mgt}
      no_version: no_version
    out: [stream]
  embed_ct_test:
    run: embed-volumes.cwl
    in:
      volumes: ct_test_volumes
      ids: ct_test_ids
      model: ct_model
      prep_options: ct_prep_options
      encode_options: ct_encode_options
      threads: threads
      name: {default: ct_test.mgt}
      no_version: no_version
    out: [stream]
  ct_classify:
    run: classify.cwl
    in:
      train: embed_ct_train/stream
      predict: embed_ct_test/stream
      train_labels: train_labels/table
      test_labels: test_labels/table
      prefix: {default: ct_}
      C: C
      cv: cv
      fit_options: fit_options
      score_options: score_options
      threads: threads
      no_version: no_version
    out: [head, fit_report, predictions, metrics, metrics_table]
  zeroshot:
    run: mg-decode-zeroshot.cwl
    in:
      stream: embed_test/stream
      model: model
      prompts: zeroshot_prompts
      threads: threads
      name: {default: zeroshot_predictions}
    out: [predictions]
  zeroshot_score:
    run: mg-score-classify.cwl
    in:
      predictions: zeroshot/predictions
      truth: test_labels/table
      score_col: zeroshot_positive
      options: score_options
      name: {default: zeroshot_metrics}
      no_version: no_version
    out: [json, table]
  generate:
    run: reports.cwl
    in:
      images: report_images
      ids: report_ids
      vision: vision
      decoder: decoder
      prep_options: report_prep_options
      system: system
      prompt: report_prompt
      max_tokens: max_tokens
      references: report_refs
      choices: choices
      question: question
      questions: questions
      truth: vqa_truth
      threads: threads
      no_version: no_version
    out: [tokens, reports_jsonl, reports, report_metrics, report_metrics_table,
          answers_jsonl, answers, vqa_metrics, vqa_metrics_table]

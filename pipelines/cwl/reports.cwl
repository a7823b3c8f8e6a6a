#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  Reports and closed questions from images with a MedGemma-style pair of
  checkpoints: the soft tokens of each image (mg-preprocess, mg-encode2d -k
  projected of the vision tower + projector, scattered), a report per image
  and the answer to each image's question among the choices (mg-decode
  generate), each as a table scored by mg-score report against the reference
  reports and by mg-score vqa against the gold answers.
requirements:
  SubworkflowFeatureRequirement: {}
inputs:
  images: File[]
  ids: string[]
  vision: {type: Directory, doc: "image tower + projector (gemma3 layout)"}
  decoder: {type: Directory, doc: Gemma 3 / MedGemma decoder with its tokenizer}
  prep_options: {type: "string[]?", doc: "e.g. [--preset, medgemma-896]"}
  system: string?
  prompt: {type: string, default: Describe this image.}
  max_tokens: int?
  references: {type: File, doc: "reference reports (id, text)"}
  choices: {type: string, default: "yes,no"}
  question: {type: string?, doc: "the question put to every image (or questions)"}
  questions: {type: File?, doc: "'id<TAB>question' lines: each image's own question"}
  truth: {type: File, doc: "gold answers (id, answer[, answer_type])"}
  threads: {type: int, default: 1}
  no_version: {type: boolean, default: false}
outputs:
  tokens: {type: File, outputSource: soft_tokens/stream}
  reports_jsonl: {type: File, outputSource: write_reports/jsonl}
  reports: {type: File, outputSource: report_texts/table}
  report_metrics: {type: File, outputSource: report_score/json}
  report_metrics_table: {type: File, outputSource: report_score/table}
  answers_jsonl: {type: File, outputSource: answer/jsonl}
  answers: {type: File, outputSource: answer_texts/table}
  vqa_metrics: {type: File, outputSource: vqa_score/json}
  vqa_metrics_table: {type: File, outputSource: vqa_score/table}
steps:
  soft_tokens:
    run: embed-images.cwl
    in:
      images: images
      ids: ids
      model: vision
      prep_options: prep_options
      encode_options: {default: [--kind, projected]}
      threads: threads
      name: {default: report_tokens.mgt}
      no_version: no_version
    out: [stream]
  write_reports:
    run: mg-decode-generate.cwl
    in:
      tokens: soft_tokens/stream
      model: decoder
      system: system
      prompt: prompt
      max_tokens: max_tokens
      threads: threads
      name: {default: reports}
    out: [jsonl]
  report_texts:
    run: generated-texts.cwl
    in:
      jsonl: write_reports/jsonl
      column: {default: text}
      name: {default: reports.tsv}
    out: [table]
  report_score:
    run: mg-score-report.cwl
    in:
      hypotheses: report_texts/table
      references: references
      no_version: no_version
    out: [json, table]
  answer:
    run: mg-decode-generate.cwl
    in:
      tokens: soft_tokens/stream
      model: decoder
      system: system
      prompt: question
      prompts: questions
      choices: choices
      threads: threads
      name: {default: answers}
    out: [jsonl]
  answer_texts:
    run: generated-texts.cwl
    in:
      jsonl: answer/jsonl
      column: {default: answer}
      name: {default: answers.tsv}
    out: [table]
  vqa_score:
    run: mg-score-vqa.cwl
    in:
      predictions: answer_texts/table
      truth: truth
      no_version: no_version
    out: [json, table]

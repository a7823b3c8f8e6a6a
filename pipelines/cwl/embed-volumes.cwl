#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  Volumes (NIfTI) to one stream of embeddings: mg-preprocess and mg-encode3d
  scattered over the volumes (each with its sample id), then mg-stream cat in
  input order.
requirements:
  ScatterFeatureRequirement: {}
  StepInputExpressionRequirement: {}
inputs:
  volumes: File[]
  ids: string[]
  model: Directory
  prep_options: string[]?
  encode_options: string[]?
  threads: {type: int, default: 1}
  name: {type: string, default: embeddings.mgt}
  no_version: {type: boolean, default: false}
outputs:
  stream:
    type: File
    outputSource: gather/stream
steps:
  preprocess:
    run: mg-preprocess.cwl
    scatter: [image, id]
    scatterMethod: dotproduct
    in:
      image: volumes
      id: ids
      options: prep_options
      no_version: no_version
    out: [records]
  encode:
    run: mg-encode3d.cwl
    scatter: records
    in:
      records: preprocess/records
      model: model
      options: encode_options
      threads: threads
      no_version: no_version
    out: [embeddings]
  gather:
    run: mg-stream-cat.cwl
    in:
      streams: encode/embeddings
      name: name
      no_version: no_version
    out: [stream]

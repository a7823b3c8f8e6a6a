#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  Images to one stream of embeddings: mg-preprocess and mg-encode2d scattered
  over the images (each with its sample id), then mg-stream cat in input order.
requirements:
  ScatterFeatureRequirement: {}
  StepInputExpressionRequirement: {}
inputs:
  images: File[]
  ids: string[]
  model: Directory
  pad_square: boolean?
  size: int?
  mean: string?
  std: string?
  channels: int?
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
      image: images
      id: ids
      pad_square: pad_square
      size: size
      mean: mean
      std: std
      channels: channels
      options: prep_options
      no_version: no_version
    out: [records]
  encode:
    run: mg-encode2d.cwl
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

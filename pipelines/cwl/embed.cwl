#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  Embed images: mg-preprocess and mg-encode2d scattered over the images, then one
  stream of all embeddings. Runs with cwltool locally or toil-cwl-runner on a
  cluster (Slurm, Kubernetes, cloud batch).
requirements:
  ScatterFeatureRequirement: {}
inputs:
  images: File[]
  model: Directory
  preset: string?
  size: int?
  mean: string?
  std: string?
  channels: int?
  l2: boolean?
outputs:
  embeddings:
    type: File
    outputSource: gather/stream
steps:
  preprocess:
    run: mg-preprocess.cwl
    scatter: image
    in:
      image: images
      preset: preset
      size: size
      mean: mean
      std: std
      channels: channels
    out: [records]
  encode:
    run: mg-encode2d.cwl
    scatter: records
    in:
      records: preprocess/records
      model: model
      l2: l2
    out: [embeddings]
  gather:
    run: mg-stream-cat.cwl
    in:
      streams: encode/embeddings
      name: {default: embeddings.mgt}
    out: [stream]

#!/usr/bin/python3
"""Convert a PyTorch 3D-encoder checkpoint (.pt / .bin state dict) into the
checkpoint directory mg-encode3d reads: config.json + model.safetensors.

  convert_3d.py [options] CHECKPOINT OUTDIR

Families (detected from the tensor names, or --family):
  monai_vit   a monai.networks.nets.ViT state dict (patch_embedding.*, blocks.N.*,
              norm.*, cls_token when classification=True), e.g. M3D's
              pretrained_ViT.bin
  m3d_clip    an M3D-CLIP state dict (vision_encoder.* + mm_vision_proj.*)
  merlin_i3d  Merlin's checkpoint (encode_image.i3_resnet.*), e.g.
              i3_resnet_clinical_longformer_best_clip_04-02-2024_23-21-36_epoch_99.pt

Sizes stored in the tensors (hidden size, layers, MLP width, channels, conv
patch size, blocks per stage) are read from them; what only the model's
constructor knows comes from options: --heads, --img-size, --patch-size (the
perceptron form), --proj-type, --pos-embed-type, --qkv-bias, --pos-interp.
Tensor names and values are kept as published; what the encoder does not use
(the text tower, BatchNorm's num_batches_tracked) is left out unless
--keep-all. Needs only PyTorch (torch.load) and numpy.
"""
import argparse
import json
import os
import re
import struct
import sys

import numpy as np
import torch

ST_DTYPE = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def load_state_dict(path):
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:                     # torch < 1.13 has no weights_only
        sd = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model", "module"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
        raise SystemExit("%s: not a state dict of tensors" % path)
    if all(k.startswith("module.") for k in sd):        # saved from DataParallel
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def detect(sd):
    if any(k.startswith("encode_image.i3_resnet.") for k in sd) or "conv1.weight" in sd and "layer1.0.conv1.weight" in sd:
        return "merlin_i3d"
    if any(k.startswith("vision_encoder.patch_embedding.") for k in sd):
        return "m3d_clip"
    if any(k.startswith("patch_embedding.") for k in sd):
        return "monai_vit"
    raise SystemExit("cannot tell the family from the tensor names; use --family")


def triple(s):
    v = [int(x) for x in s.split(",")]
    if len(v) == 1:
        v = v * 3
    if len(v) != 3:
        raise argparse.ArgumentTypeError("give D,H,W or one number")
    return v


def vit_config(sd, a, family):
    p = "vision_encoder." if family == "m3d_clip" else ""
    blocks = {int(m.group(1)) for k in sd for m in [re.match(re.escape(p) + r"blocks\.(\d+)\.", k)] if m}
    if not blocks:
        raise SystemExit("no %sblocks.N.* tensors" % p)
    conv = sd.get(p + "patch_embedding.patch_embeddings.weight")
    lin = sd.get(p + "patch_embedding.patch_embeddings.1.weight")
    proj = a.proj_type or ("conv" if conv is not None and conv.dim() == 5 else "perceptron")
    pos = sd[p + "patch_embedding.position_embeddings"]
    hidden, n_patches = pos.shape[2], pos.shape[1]
    if proj == "conv":
        if conv is None:
            raise SystemExit("proj_type conv needs patch_embedding.patch_embeddings.weight [D,C,pd,ph,pw]")
        in_ch, patch = conv.shape[1], list(conv.shape[2:])
        if a.patch_size and a.patch_size != patch:
            raise SystemExit("--patch-size %s, but the conv weight says %s" % (a.patch_size, patch))
    else:
        if lin is None:
            raise SystemExit("proj_type perceptron needs patch_embedding.patch_embeddings.1.weight")
        patch = a.patch_size or ([4, 16, 16] if family == "m3d_clip" else None)
        if not patch:
            raise SystemExit("the perceptron form does not store the patch size: give --patch-size")
        in_ch = lin.shape[1] // int(np.prod(patch))
        if in_ch * int(np.prod(patch)) != lin.shape[1]:
            raise SystemExit("--patch-size %s does not divide the patch width %d" % (patch, lin.shape[1]))
    img = a.img_size or ([32, 256, 256] if family == "m3d_clip" else None)
    if not img:
        raise SystemExit("give --img-size D,H,W (the position embedding holds %d patches)" % n_patches)
    if int(np.prod([i // q for i, q in zip(img, patch)])) != n_patches:
        raise SystemExit("--img-size %s / patch %s gives %d patches; the checkpoint has %d"
                         % (img, patch, int(np.prod([i // q for i, q in zip(img, patch)])), n_patches))
    if not a.heads:
        raise SystemExit("the head count is not stored in the tensors: give --heads (ViT-B: 12)")
    if hidden % a.heads:
        raise SystemExit("--heads %d does not divide the hidden size %d" % (a.heads, hidden))
    cfg = {"model_type": family, "in_channels": in_ch, "img_size": img, "patch_size": patch,
           "hidden_size": hidden, "mlp_dim": sd[p + "blocks.0.mlp.linear1.weight"].shape[0],
           "num_layers": max(blocks) + 1, "num_heads": a.heads, "spatial_dims": 3}
    if family == "m3d_clip":
        cfg["pos_embed"] = proj
    else:
        cfg.update({"proj_type": proj, "pos_embed_type": a.pos_embed_type,
                    "classification": p + "cls_token" in sd,
                    "qkv_bias": a.qkv_bias or p + "blocks.0.attn.qkv.bias" in sd})
    if a.pos_interp != "none":
        cfg["pos_embed_interpolation"] = a.pos_interp
    keep = lambda k: k.startswith(p) or (family == "m3d_clip" and k.startswith("mm_vision_proj."))
    return cfg, keep


def merlin_config(sd, a):
    p = "encode_image.i3_resnet." if any(k.startswith("encode_image.i3_resnet.") for k in sd) else ""
    stages = []
    for s in range(1, 5):
        ks = {int(m.group(1)) for k in sd for m in [re.match(re.escape(p) + r"layer%d\.(\d+)\." % s, k)] if m}
        stages.append(max(ks) + 1 if ks else 0)
    cfg = {"model_type": "merlin_i3d", "layers": stages, "width": sd[p + "conv1.weight"].shape[0],
           "n_contrastive": sd[p + "contrastive_head.weight"].shape[0]}
    if p + "classifier.weight" in sd:
        cfg["n_class"] = sd[p + "classifier.weight"].shape[0]
    keep = lambda k: k.startswith(p) and not k.endswith("num_batches_tracked")
    return cfg, keep


def write_safetensors(path, tensors):
    header, off = {"__metadata__": {"format": "pt"}}, 0
    names = sorted(tensors)
    blobs = []
    for n in names:
        t = tensors[n].detach().contiguous()
        if t.dtype not in ST_DTYPE:
            t = t.float()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[n] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("outdir")
    ap.add_argument("--family", choices=["monai_vit", "m3d_clip", "merlin_i3d"])
    ap.add_argument("--heads", type=int, help="attention heads (ViT)")
    ap.add_argument("--img-size", type=triple, help="D,H,W the ViT was built for")
    ap.add_argument("--patch-size", type=triple, help="D,H,W patch (needed for perceptron)")
    ap.add_argument("--proj-type", choices=["conv", "perceptron"], help="[from the tensor names]")
    ap.add_argument("--pos-embed-type", default="learnable", choices=["learnable", "sincos", "none"])
    ap.add_argument("--qkv-bias", action="store_true", help="[when blocks.0.attn.qkv.bias exists]")
    ap.add_argument("--pos-interp", default="none", choices=["none", "trilinear"],
                    help="resize the position embedding for other volume sizes")
    ap.add_argument("--keep-all", action="store_true", help="copy every tensor of the checkpoint")
    a = ap.parse_args(argv)
    sd = load_state_dict(a.checkpoint)
    family = a.family or detect(sd)
    cfg, keep = merlin_config(sd, a) if family == "merlin_i3d" else vit_config(sd, a, family)
    out = {k: v for k, v in sd.items() if a.keep_all or keep(k)}
    os.makedirs(a.outdir, exist_ok=True)
    write_safetensors(os.path.join(a.outdir, "model.safetensors"), out)
    with open(os.path.join(a.outdir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    print("%s: %s, %d tensors -> %s" % (a.checkpoint, family, len(out), a.outdir), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])

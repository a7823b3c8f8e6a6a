#!/usr/bin/python3
"""Tiny random Hugging Face-style vision checkpoints and an independent PyTorch
forward of each family, written from the published architectures
(transformers modeling_siglip / modeling_gemma3 / modeling_dinov2 /
modeling_dinov2_with_registers / modeling_vit).

  encoders.py gen FAMILY DIR [--dtype F32|BF16|F16] [--shards N] [--seed S] [--prefix P]
                             [--set KEY=JSON]   (config override; the vision config for siglip/gemma3)
  encoders.py images OUTPREFIX N C H W [--seed S]      (writes OUTPREFIX{i}.npy)
  encoders.py check DIR KIND IMAGES.npy... -- OUTPUTS.npy...  [--l2]
  encoders.py bf16check DIR KIND MIN_COS IMAGES.npy... -- OUTPUTS.npy...
                                        (a bf16 run: per-row cosine against float64,
                                        error against PyTorch's own bf16 forward)
  encoders.py genbig SHAPE DIR [--dtype D]   vit-b16, so400m-448 (siglip), so400m-896 (gemma3)
  encoders.py compare A.npy B.npy MAX_REL MIN_COS     (two outputs of the program)
  encoders.py corrupt DIR HOW [NAME]    damage DIR/model.safetensors: drop, extra,
                                        reshape, truncate, lie, dtype, overlap,
                                        duplicate, metadata

Safetensors files are written by hand (struct + json + numpy): u64 header length,
JSON header padded to 8 bytes, then the data buffer.
"""
import json
import math
import os
import struct
import sys

import numpy as np

torch = F = None        # imported by check() only: the other commands need numpy alone


def load_torch():
    global torch, F
    import torch as t
    import torch.nn.functional as f
    torch, F = t, f
    torch.set_grad_enabled(False)

# ---------------------------------------------------------------- safetensors
ST_DT = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}


def to_bf16_bits(a):
    """float32 -> bfloat16 bit patterns, round to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write_safetensors(path, tensors, dtype):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype=np.float32)
        if dtype == "BF16":
            raw = to_bf16_bits(a).tobytes()
        elif dtype == "F16":
            raw = a.astype(np.float16).tobytes()
        else:
            raw = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf = data[8 + n:]
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, e2 = e["data_offsets"]
        a = np.frombuffer(buf[b:e2], dtype=ST_DT[e["dtype"]])
        if e["dtype"] == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = torch.from_numpy(a.astype(np.float64).reshape(e["shape"]))
    return out


def read_checkpoint(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        w = {}
        for shard in sorted(set(json.load(open(idx))["weight_map"].values())):
            w.update(read_safetensors(os.path.join(d, shard)))
        return w
    return read_safetensors(os.path.join(d, "model.safetensors"))


def save_checkpoint(d, cfg, tensors, dtype="F32", shards=1):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    names = sorted(tensors)
    if shards <= 1:
        write_safetensors(os.path.join(d, "model.safetensors"), tensors, dtype)
        return
    wm, total = {}, 0
    for k in range(shards):
        fn = "model-%05d-of-%05d.safetensors" % (k + 1, shards)
        part = {n: tensors[n] for n in names[k::shards]}
        write_safetensors(os.path.join(d, fn), part, dtype)
        for n in part:
            wm[n] = fn
            total += np.asarray(part[n]).size * (4 if dtype == "F32" else 2)
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": wm}, f, indent=2)


# ---------------------------------------------------------------- random weights
class Rand:
    def __init__(self, seed):
        self.g = np.random.default_rng(seed)

    def lin(self, t, name, out, inp, bias=True):
        t[name + ".weight"] = self.g.normal(0, 1 / math.sqrt(inp), (out, inp)).astype(np.float32)
        if bias:
            t[name + ".bias"] = self.g.normal(0, 0.1, (out,)).astype(np.float32)

    def norm(self, t, name, d, bias=True):
        t[name + ".weight"] = (1 + self.g.normal(0, 0.1, (d,))).astype(np.float32)
        if bias:
            t[name + ".bias"] = self.g.normal(0, 0.1, (d,)).astype(np.float32)

    def arr(self, shape, scale=0.5, mean=0.0):
        return (mean + self.g.normal(0, scale, shape)).astype(np.float32)


def siglip_tensors(r, t, p, v, head):
    D, Fh, C, P = v["hidden_size"], v["intermediate_size"], v.get("num_channels", 3), v["patch_size"]
    n = (v["image_size"] // P) ** 2
    t[p + "embeddings.patch_embedding.weight"] = r.arr((D, C, P, P), 1 / math.sqrt(C * P * P))
    t[p + "embeddings.patch_embedding.bias"] = r.arr((D,), 0.1)
    t[p + "embeddings.position_embedding.weight"] = r.arr((n, D))
    for i in range(v["num_hidden_layers"]):
        q = p + "encoder.layers.%d." % i
        for k in "qkv":
            r.lin(t, q + "self_attn.%s_proj" % k, D, D)
        r.lin(t, q + "self_attn.out_proj", D, D)
        r.lin(t, q + "mlp.fc1", Fh, D)
        r.lin(t, q + "mlp.fc2", D, Fh)
        r.norm(t, q + "layer_norm1", D)
        r.norm(t, q + "layer_norm2", D)
    r.norm(t, p + "post_layernorm", D)
    if head:
        t[p + "head.probe"] = r.arr((1, 1, D), 1.0)
        t[p + "head.attention.in_proj_weight"] = r.arr((3 * D, D), 1 / math.sqrt(D))
        t[p + "head.attention.in_proj_bias"] = r.arr((3 * D,), 0.1)
        r.lin(t, p + "head.attention.out_proj", D, D)
        r.norm(t, p + "head.layernorm", D)
        r.lin(t, p + "head.mlp.fc1", Fh, D)
        r.lin(t, p + "head.mlp.fc2", D, Fh)


def hf_vit_tensors(r, t, p, cfg, dinov2):
    D, C, P = cfg["hidden_size"], cfg.get("num_channels", 3), cfg["patch_size"]
    n = (cfg["image_size"] // P) ** 2
    t[p + "embeddings.cls_token"] = r.arr((1, 1, D), 1.0)
    t[p + "embeddings.position_embeddings"] = r.arr((1, n + 1, D))
    t[p + "embeddings.patch_embeddings.projection.weight"] = r.arr((D, C, P, P), 1 / math.sqrt(C * P * P))
    t[p + "embeddings.patch_embeddings.projection.bias"] = r.arr((D,), 0.1)
    if dinov2:
        t[p + "embeddings.mask_token"] = np.zeros((1, D), np.float32)
        nreg = cfg.get("num_register_tokens", 0)
        if nreg:
            t[p + "embeddings.register_tokens"] = r.arr((1, nreg, D), 1.0)
        hid = int(D * cfg.get("mlp_ratio", 4))
        if cfg.get("use_swiglu_ffn"):
            hid = (int(hid * 2 / 3) + 7) // 8 * 8
    for i in range(cfg["num_hidden_layers"]):
        q = p + "encoder.layer.%d." % i
        for k in ("query", "key", "value"):
            r.lin(t, q + "attention.attention." + k, D, D, cfg.get("qkv_bias", True))
        r.lin(t, q + "attention.output.dense", D, D)
        if dinov2:
            r.norm(t, q + "norm1", D)
            r.norm(t, q + "norm2", D)
            t[q + "layer_scale1.lambda1"] = r.arr((D,), 0.2, 0.5)
            t[q + "layer_scale2.lambda1"] = r.arr((D,), 0.2, 0.5)
            if cfg.get("use_swiglu_ffn"):
                r.lin(t, q + "mlp.weights_in", 2 * hid, D)
                r.lin(t, q + "mlp.weights_out", D, hid)
            else:
                r.lin(t, q + "mlp.fc1", hid, D)
                r.lin(t, q + "mlp.fc2", D, hid)
        else:
            Fh = cfg["intermediate_size"]
            r.norm(t, q + "layernorm_before", D)
            r.norm(t, q + "layernorm_after", D)
            r.lin(t, q + "intermediate.dense", Fh, D)
            r.lin(t, q + "output.dense", D, Fh)
    r.norm(t, p + "layernorm", D)
    if not dinov2:
        r.lin(t, p + "pooler.dense", D, D)


class SpecRand(Rand):
    """Records (shape, scale, mean) instead of drawing, so that large checkpoints
    are generated one tensor at a time while writing."""

    def lin(self, t, name, out, inp, bias=True):
        t[name + ".weight"] = ((out, inp), 1 / math.sqrt(inp), 0.0)
        if bias:
            t[name + ".bias"] = ((out,), 0.1, 0.0)

    def norm(self, t, name, d, bias=True):
        t[name + ".weight"] = ((d,), 0.1, 1.0)
        if bias:
            t[name + ".bias"] = ((d,), 0.1, 0.0)

    def arr(self, shape, scale=0.5, mean=0.0):
        return (tuple(shape), scale, mean)


def write_big(path, specs, dtype, seed=3):
    g = np.random.default_rng(seed)
    es = 4 if dtype == "F32" else 2
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name in sorted(specs):
        shape = specs[name][0] if isinstance(specs[name], tuple) else specs[name].shape
        n = es * int(np.prod(shape, dtype=np.int64))
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for name in sorted(specs):
            sp = specs[name]
            a = sp if not isinstance(sp, tuple) else \
                (sp[2] + sp[1] * g.standard_normal(sp[0], dtype=np.float32)).astype(np.float32)
            f.write(to_bf16_bits(a).tobytes() if dtype == "BF16" else a.astype(np.float32).tobytes())


def genbig(shape, d, dtype):
    r, t = SpecRand(0), {}
    if shape == "vit-b16":
        cfg = {"model_type": "vit", "hidden_size": 768, "num_hidden_layers": 12,
               "num_attention_heads": 12, "intermediate_size": 3072, "image_size": 224, "patch_size": 16}
        hf_vit_tensors(r, t, "", cfg, False)
    elif shape == "so400m-448":
        v = {"hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 27,
             "num_attention_heads": 16, "image_size": 448, "patch_size": 14}
        cfg = {"model_type": "siglip", "vision_config": v}
        siglip_tensors(r, t, "vision_model.", v, True)
    elif shape == "so400m-896":
        v = {"model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304,
             "num_hidden_layers": 27, "num_attention_heads": 16, "image_size": 896, "patch_size": 14,
             "vision_use_head": False}
        cfg = {"model_type": "gemma3", "mm_tokens_per_image": 256, "vision_config": v,
               "text_config": {"hidden_size": 2560}}
        siglip_tensors(r, t, "vision_tower.vision_model.", v, False)
        t["multi_modal_projector.mm_input_projection_weight"] = ((1152, 2560), 0.03, 0.0)
        t["multi_modal_projector.mm_soft_emb_norm.weight"] = ((1152,), 0.1, 0.0)
    else:
        raise SystemExit("unknown shape " + shape)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_big(os.path.join(d, "model.safetensors"), t, dtype)
    return cfg


def family_config(fam):
    small = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4}
    if fam == "siglip":        # SiglipModel: defaults for hidden_act, eps, vision_use_head
        return {"model_type": "siglip", "vision_config": dict(small, intermediate_size=72,
                                                              image_size=96, patch_size=4)}
    if fam == "siglip_vision_model":
        return dict(small, model_type="siglip_vision_model", intermediate_size=40, image_size=24,
                    patch_size=6, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-5)
    if fam == "gemma3":
        return {"model_type": "gemma3", "mm_tokens_per_image": 4,
                "text_config": {"model_type": "gemma3_text", "hidden_size": 48},
                "vision_config": dict(small, model_type="siglip_vision_model", intermediate_size=72,
                                      image_size=32, patch_size=4, vision_use_head=False)}
    if fam == "dinov2":
        return dict(small, model_type="dinov2", mlp_ratio=4, image_size=32, patch_size=4,
                    layer_norm_eps=1e-6)
    if fam == "dinov2_with_registers":
        return dict(small, model_type="dinov2_with_registers", mlp_ratio=4, image_size=32,
                    patch_size=4, layer_norm_eps=1e-6, num_register_tokens=2, use_swiglu_ffn=True)
    if fam == "vit":
        return dict(small, model_type="vit", intermediate_size=64, image_size=32, patch_size=8)
    raise SystemExit("unknown family " + fam)


def gen(fam, d, dtype="F32", shards=1, seed=1, prefix=None, overrides=None):
    cfg, r, t = family_config(fam), Rand(seed), {}
    for kv in overrides or []:
        k, v = kv.split("=", 1)
        (cfg["vision_config"] if "vision_config" in cfg else cfg)[k] = json.loads(v)
    if fam == "siglip":
        siglip_tensors(r, t, "vision_model.", cfg["vision_config"], True)
        t["text_model.final_layer_norm.weight"] = r.arr((32,))   # the text tower is not read
        t["logit_scale"] = r.arr((1,))
    elif fam == "siglip_vision_model":
        siglip_tensors(r, t, "vision_model.", cfg, cfg.get("vision_use_head", True))
    elif fam == "gemma3":
        p = prefix if prefix is not None else ""
        siglip_tensors(r, t, p + "vision_tower.vision_model.", cfg["vision_config"], False)
        t[p + "multi_modal_projector.mm_input_projection_weight"] = r.arr((32, 48), 1 / math.sqrt(32))
        t[p + "multi_modal_projector.mm_soft_emb_norm.weight"] = r.arr((32,), 0.3)
        t[(p or "language_model.") + ("language_model." if p else "") + "model.norm.weight"] = r.arr((48,))
    else:
        hf_vit_tensors(r, t, prefix or "", cfg, fam.startswith("dinov2"))
    save_checkpoint(d, cfg, t, dtype, shards)


# ---------------------------------------------------------------- reference forwards
GELU = {"gelu": lambda x: F.gelu(x), "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x)}


def mha(x, W, p, heads):
    """Self-attention: softmax(Q Kᵀ/√hd) V per head, then the output projection."""
    B, N, D = x.shape
    hd = D // heads
    q, k, v = (F.linear(x, W[p + n + ".weight"], W.get(p + n + ".bias")).view(B, N, heads, hd).transpose(1, 2)
               for n in p_names(p))
    a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1) @ v
    a = a.transpose(1, 2).reshape(B, N, D)
    return a


def p_names(p):
    return ("q_proj", "k_proj", "v_proj") if p.endswith("self_attn.") else ("query", "key", "value")


def patch_embed(img, w, b, P):
    return F.conv2d(img, w, b, stride=P).flatten(2).transpose(1, 2)


def siglip_ref(W, p, v, img, head):
    D, H = v["hidden_size"], v["num_attention_heads"]
    eps, act = v.get("layer_norm_eps", 1e-6), GELU[v.get("hidden_act", "gelu_pytorch_tanh")]
    P = v["patch_size"]
    x = patch_embed(img, W[p + "embeddings.patch_embedding.weight"], W[p + "embeddings.patch_embedding.bias"], P)
    x = x + W[p + "embeddings.position_embedding.weight"][None]
    ln = lambda x, n: F.layer_norm(x, (D,), W[n + ".weight"], W[n + ".bias"], eps)
    for i in range(v["num_hidden_layers"]):
        q = p + "encoder.layers.%d." % i
        a = mha(ln(x, q + "layer_norm1"), W, q + "self_attn.", H)
        x = x + F.linear(a, W[q + "self_attn.out_proj.weight"], W[q + "self_attn.out_proj.bias"])
        h = act(F.linear(ln(x, q + "layer_norm2"), W[q + "mlp.fc1.weight"], W[q + "mlp.fc1.bias"]))
        x = x + F.linear(h, W[q + "mlp.fc2.weight"], W[q + "mlp.fc2.bias"])
    x = ln(x, p + "post_layernorm")
    if not head:
        return x, None
    m = torch.nn.MultiheadAttention(D, H, batch_first=True).to(x.dtype)
    m.in_proj_weight.copy_(W[p + "head.attention.in_proj_weight"])
    m.in_proj_bias.copy_(W[p + "head.attention.in_proj_bias"])
    m.out_proj.weight.copy_(W[p + "head.attention.out_proj.weight"])
    m.out_proj.bias.copy_(W[p + "head.attention.out_proj.bias"])
    probe = W[p + "head.probe"].expand(x.shape[0], 1, D)
    a = m(probe, x, x, need_weights=False)[0]
    h = act(F.linear(ln(a, p + "head.layernorm"), W[p + "head.mlp.fc1.weight"], W[p + "head.mlp.fc1.bias"]))
    a = a + F.linear(h, W[p + "head.mlp.fc2.weight"], W[p + "head.mlp.fc2.bias"])
    return x, a[:, 0]


def hf_vit_ref(W, p, cfg, img, fam):
    D, H, P = cfg["hidden_size"], cfg["num_attention_heads"], cfg["patch_size"]
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = GELU[cfg.get("hidden_act", "gelu")]
    B, _, h, w = img.shape
    x = patch_embed(img, W[p + "embeddings.patch_embeddings.projection.weight"],
                    W[p + "embeddings.patch_embeddings.projection.bias"], P)
    cls = W[p + "embeddings.cls_token"].expand(B, 1, D)
    x = torch.cat([cls, x], 1)
    pos = W[p + "embeddings.position_embeddings"]
    g = int(round(math.sqrt(pos.shape[1] - 1)))
    if (h // P, w // P) != (g, g):       # only DINOv2 interpolates
        pp = pos[:, 1:].reshape(1, g, g, D).permute(0, 3, 1, 2).float()
        kw = {"antialias": True} if fam == "dinov2_with_registers" else {}
        pp = F.interpolate(pp, size=(h // P, w // P), mode="bicubic", align_corners=False, **kw)
        pos = torch.cat([pos[:, :1], pp.to(pos.dtype).permute(0, 2, 3, 1).reshape(1, -1, D)], 1)
    x = x + pos
    nreg = 0
    if p + "embeddings.register_tokens" in W:
        reg = W[p + "embeddings.register_tokens"]
        nreg = reg.shape[1]
        x = torch.cat([x[:, :1], reg.expand(B, -1, -1), x[:, 1:]], 1)
    ln = lambda x, n: F.layer_norm(x, (D,), W[n + ".weight"], W[n + ".bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        q = p + "encoder.layer.%d." % i
        n1, n2 = ("norm1", "norm2") if fam.startswith("dinov2") else ("layernorm_before", "layernorm_after")
        a = mha(ln(x, q + n1), W, q + "attention.attention.", H)
        a = F.linear(a, W[q + "attention.output.dense.weight"], W[q + "attention.output.dense.bias"])
        if fam.startswith("dinov2"):
            a = a * W[q + "layer_scale1.lambda1"]
        x = x + a
        y = ln(x, q + n2)
        if fam == "vit":
            y = F.linear(act(F.linear(y, W[q + "intermediate.dense.weight"], W[q + "intermediate.dense.bias"])),
                         W[q + "output.dense.weight"], W[q + "output.dense.bias"])
        elif cfg.get("use_swiglu_ffn"):
            u = F.linear(y, W[q + "mlp.weights_in.weight"], W[q + "mlp.weights_in.bias"])
            u1, u2 = u.chunk(2, dim=-1)
            y = F.linear(F.silu(u1) * u2, W[q + "mlp.weights_out.weight"], W[q + "mlp.weights_out.bias"])
        else:
            y = F.linear(act(F.linear(y, W[q + "mlp.fc1.weight"], W[q + "mlp.fc1.bias"])),
                         W[q + "mlp.fc2.weight"], W[q + "mlp.fc2.bias"])
        if fam.startswith("dinov2"):
            y = y * W[q + "layer_scale2.lambda1"]
        x = x + y
    x = ln(x, p + "layernorm")
    return x, 1 + nreg


def reference(d, kind, img, dtype=None):
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = read_checkpoint(d)
    if dtype is not None:        # the whole model cast, as model.to(dtype) does
        W = {k: v.to(dtype) for k, v in W.items()}
        img = img.to(dtype)
    fam = cfg["model_type"]
    if fam in ("siglip", "siglip_vision_model"):
        v = cfg["vision_config"] if fam == "siglip" else cfg
        x, pooled = siglip_ref(W, "vision_model.", v, img, v.get("vision_use_head", True))
        skip = 0
    elif fam == "gemma3":
        p = "" if "vision_tower.vision_model.post_layernorm.weight" in W else "model."
        v = cfg["vision_config"]
        x, _ = siglip_ref(W, p + "vision_tower.vision_model.", v, img, False)
        skip, pooled = 0, None
        if kind in ("projected", "default"):
            # Gemma3MultiModalProjector: [B,N,D] -> [B,D,g,g] -> AvgPool2d -> RMSNorm(1+w) -> @ W
            B, N, D = x.shape
            g = int(round(math.sqrt(N)))
            side = int(round(math.sqrt(cfg.get("mm_tokens_per_image", 256))))
            y = x.transpose(1, 2).reshape(B, D, g, g)
            y = F.avg_pool2d(y, kernel_size=g // side, stride=g // side).flatten(2).transpose(1, 2)
            y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + v.get("layer_norm_eps", 1e-6))
            y = y * (1 + W[p + "multi_modal_projector.mm_soft_emb_norm.weight"])
            return y @ W[p + "multi_modal_projector.mm_input_projection_weight"]
    else:
        p = "" if "embeddings.cls_token" in W else ("vit." if fam == "vit" else fam + ".")
        x, skip = hf_vit_ref(W, p, cfg, img, fam)
        pooled = x[:, 0]
    if kind in ("pooled", "default"):
        return pooled if pooled is not None else x[:, skip:].mean(1)
    if kind == "mean":
        return x[:, skip:].mean(1)
    if kind == "tokens":
        return x[:, skip:]
    raise SystemExit("bad kind " + kind)


def check(d, kind, imgs, outs, l2):
    load_torch()
    img = torch.from_numpy(np.stack([np.load(f) for f in imgs]).astype(np.float64))
    ref = reference(d, kind, img).numpy()
    if l2:
        ref = ref / np.linalg.norm(ref, axis=-1, keepdims=True)
    got = np.stack([np.load(f) for f in outs]).astype(np.float64)
    if got.shape != ref.shape:
        print("shape %s, reference %s" % (got.shape, ref.shape))
        return 1
    scale = np.abs(ref).max()
    err = np.abs(got - ref).max()
    cos = min(float(np.dot(a.ravel(), b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b)))
              for a, b in zip(got, ref))
    ok = err <= 1e-4 * scale and cos >= 0.99999
    print("max_abs_err %.3g scale %.3g min_cos %.8f%s" % (err, scale, cos, "" if ok else " FAIL"))
    return 0 if ok else 1


def row_cos(a, b):
    """Cosine of each embedding ([B, D]) or each token ([B, N, D]) row."""
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def bf16check(d, kind, min_cos, imgs, outs):
    """A bf16 run of the program against the float64 forward (every row's cosine
    at least min_cos) and against PyTorch's own bf16 forward of the same model
    (model and input cast to bfloat16): the program's error against float64 must
    not exceed PyTorch bf16's, which also rounds the residual stream, the
    norms and the attention to bf16."""
    load_torch()
    img = torch.from_numpy(np.stack([np.load(f) for f in imgs]).astype(np.float64))
    ref = reference(d, kind, img).numpy()
    tb = reference(d, kind, img, torch.bfloat16).double().numpy()
    got = np.stack([np.load(f) for f in outs]).astype(np.float64)
    if got.shape != ref.shape:
        print("shape %s, reference %s" % (got.shape, ref.shape))
        return 1
    scale = np.abs(ref).max()
    err, terr = np.abs(got - ref).max() / scale, np.abs(tb - ref).max() / scale
    cos, tcos = row_cos(got, ref).min(), row_cos(tb, ref).min()
    ok = cos >= min_cos and err <= terr
    print("vs float64: max_rel_err %.3g min_row_cos %.6f; torch bf16: max_rel_err %.3g "
          "min_row_cos %.6f%s" % (err, cos, terr, tcos, "" if ok else " FAIL"))
    return 0 if ok else 1


def compare(a, b, max_rel, min_cos):
    x, y = np.load(a).astype(np.float64), np.load(b).astype(np.float64)
    if x.shape != y.shape:
        print("shapes %s and %s" % (x.shape, y.shape))
        return 1
    rel = np.abs(x - y).max() / max(np.abs(y).max(), 1e-30)
    cos = float(np.dot(x.ravel(), y.ravel()) / (np.linalg.norm(x) * np.linalg.norm(y)))
    # identical arrays pass whatever rounding the cosine's own arithmetic has
    ok = rel <= max_rel and (cos >= min_cos or rel == 0)
    print("max_rel_err %.3g cos %.8f%s" % (rel, cos, "" if ok else " FAIL"))
    return 0 if ok else 1


def corrupt(d, how, name=None):
    path = os.path.join(d, "model.safetensors")
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header, buf = json.loads(data[8:8 + n]), data[8 + n:]
    if how == "truncate":
        open(path, "wb").write(data[:-10])
        return 0
    if how == "lie":
        open(path, "wb").write(struct.pack("<Q", len(data)) + data[8:])
        return 0
    meta = header.pop("__metadata__", None)
    if how == "overlap":          # the second tensor (by offset) starts inside the first
        first, second = sorted(header, key=lambda k: header[k]["data_offsets"][0])[:2]
        b0, e0 = header[first]["data_offsets"]
        b1, e1 = header[second]["data_offsets"]
        header[second]["data_offsets"] = [b1 - 4, e1 - 4]
        h = json.dumps(header)
        open(path, "wb").write(struct.pack("<Q", len(h)) + h.encode() + buf)
        return 0
    if how == "duplicate":        # the same name twice in the header text
        k = sorted(header)[0]
        h = json.dumps(header)
        h = h[:-1] + ", " + json.dumps(k) + ": " + json.dumps(header[k]) + "}"
        open(path, "wb").write(struct.pack("<Q", len(h)) + h.encode() + buf)
        return 0
    if how == "metadata":         # __metadata__ values must be strings
        header["__metadata__"] = {"format": 1}
        h = json.dumps(header)
        open(path, "wb").write(struct.pack("<Q", len(h)) + h.encode() + buf)
        return 0
    if meta is not None:
        header["__metadata__"] = meta
    if how == "dtype":
        header[name]["dtype"] = "Q4_K"
    elif how == "reshape":
        header[name]["shape"] = header[name]["shape"][::-1] + [1]
    tensors = {}
    header.pop("__metadata__", None)
    for k, e in header.items():
        b, e2 = e["data_offsets"]
        tensors[k] = (e, buf[b:e2])
    if how == "drop":
        del tensors[name]
    elif how == "extra":
        tensors[name] = ({"dtype": "F32", "shape": [2]}, b"\0" * 8)
    out, blobs, off = {}, [], 0
    for k in sorted(tensors):
        e, raw = tensors[k]
        out[k] = dict(e, data_offsets=[off, off + len(raw)])
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(out).encode()
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    return 0


def main(a):
    if a[0] == "gen":
        pairs = list(zip(a[3::2], a[4::2]))
        opts = dict(pairs)
        gen(a[1], a[2], opts.get("--dtype", "F32"), int(opts.get("--shards", 1)),
            int(opts.get("--seed", 1)), opts.get("--prefix"), [v for k, v in pairs if k == "--set"])
        return 0
    if a[0] == "images":
        pre, n, c, h, w = a[1], *map(int, a[2:6])
        seed = int(a[7]) if len(a) > 7 else 7
        g = np.random.default_rng(seed)
        for i in range(n):
            np.save("%s%d.npy" % (pre, i), g.uniform(-1, 1, (c, h, w)).astype(np.float32))
        return 0
    if a[0] == "check":
        l2 = "--l2" in a
        a = [x for x in a if x != "--l2"]
        sep = a.index("--")
        return check(a[1], a[2], a[3:sep], a[sep + 1:], l2)
    if a[0] == "bf16check":
        sep = a.index("--")
        return bf16check(a[1], a[2], float(a[3]), a[4:sep], a[sep + 1:])
    if a[0] == "genbig":
        opts = dict(zip(a[3::2], a[4::2]))
        genbig(a[1], a[2], opts.get("--dtype", "F32"))
        return 0
    if a[0] == "compare":
        return compare(a[1], a[2], float(a[3]), float(a[4]))
    if a[0] == "corrupt":
        return corrupt(a[1], a[2], a[3] if len(a) > 3 else None)
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

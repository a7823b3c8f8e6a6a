#!/usr/bin/python3
"""Tiny random Gemma 3 text decoders with the published tensor names and config
keys, and two independent forwards of the published math to check mg-decode
against: a float64 numpy one written from the equations (per query, explicit
allowed-key test) and a float64 PyTorch one written after transformers'
modeling_gemma3 (Gemma3TextScaledWordEmbedding, Gemma3RMSNorm, rotate_half RoPE,
additive causal / sliding-window masks with the token_type_ids OR-mask,
eager attention). The two must agree to 1e-6 before either is trusted.

  gemma3.py gen DIR [--type gemma3|gemma3_text] [--layout old|new] [--dtype F32|BF16]
                    [--shards N] [--seed S] [--set KEY=JSON] (text config key)
                    [--top KEY=JSON] (top-level key) [--drop NAME] [--extra NAME] [--vision]
  gemma3.py genbig 1b|4b DIR [--fast]         a random bf16 checkpoint of a published shape
  gemma3.py ids N [--seed S] [--vocab V]      random prompt ids (one line)
  gemma3.py image OUT.npy DIR [--seed S]      random soft tokens [mm_tokens, hidden]
  gemma3.py check DIR LOGITS.npy IDS... [--images A.npy,B.npy] [--gen N] [--tokens T...]
                 [--tol R | --cos C]
        The program's logits (one row per processed position: the prompt, then each
        generated token but the last) against both references, within R relative
        to each row's largest logit [1e-4], or with a cosine of at least C per row;
        with --gen, the program's generated ids (--tokens) against the references'
        greedy ones.
        Image positions are the ids equal to the config's image_token_index, in
        runs of mm_tokens_per_image, filled from the --images files in order.
"""
import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from encoders import save_checkpoint, to_bf16_bits  # noqa: E402  (the safetensors writer)

# ---------------------------------------------------------------- checkpoints
TEXT = {
    "model_type": "gemma3_text", "hidden_size": 48, "intermediate_size": 96,
    "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 16, "vocab_size": 300, "sliding_window": 8, "max_position_embeddings": 1024,
    "query_pre_attn_scalar": 24, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
    "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
    "sliding_window_pattern": 3,
}


def layer_names(i):
    p = "layers.%d." % i
    return [p + s for s in (
        "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
        "self_attn.o_proj.weight", "self_attn.q_norm.weight", "self_attn.k_norm.weight",
        "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight",
        "input_layernorm.weight", "post_attention_layernorm.weight",
        "pre_feedforward_layernorm.weight", "post_feedforward_layernorm.weight")]


def text_shapes(c):
    D, F, H, KV, hd = (c["hidden_size"], c["intermediate_size"], c["num_attention_heads"],
                       c["num_key_value_heads"], c["head_dim"])
    s = {"embed_tokens.weight": (c["vocab_size"], D), "norm.weight": (D,)}
    for i in range(c["num_hidden_layers"]):
        p = "layers.%d." % i
        s.update({p + "self_attn.q_proj.weight": (H * hd, D), p + "self_attn.k_proj.weight": (KV * hd, D),
                  p + "self_attn.v_proj.weight": (KV * hd, D), p + "self_attn.o_proj.weight": (D, H * hd),
                  p + "self_attn.q_norm.weight": (hd,), p + "self_attn.k_norm.weight": (hd,),
                  p + "mlp.gate_proj.weight": (F, D), p + "mlp.up_proj.weight": (F, D),
                  p + "mlp.down_proj.weight": (D, F)})
        for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                  "post_feedforward_layernorm"):
            s[p + n + ".weight"] = (D,)
        if c.get("attention_bias"):
            s.update({p + "self_attn.q_proj.bias": (H * hd,), p + "self_attn.k_proj.bias": (KV * hd,),
                      p + "self_attn.v_proj.bias": (KV * hd,), p + "self_attn.o_proj.bias": (D,)})
    return s


def gen(a):
    d = a[0]
    opt = {"--type": "gemma3_text", "--layout": "old", "--dtype": "F32", "--shards": "1",
           "--seed": "1"}
    sets, tops, drops, extras, vision = [], [], [], [], False
    i = 1
    while i < len(a):
        if a[i] == "--set": sets.append(a[i + 1]); i += 2
        elif a[i] == "--top": tops.append(a[i + 1]); i += 2
        elif a[i] == "--drop": drops.append(a[i + 1]); i += 2
        elif a[i] == "--extra": extras.append(a[i + 1]); i += 2
        elif a[i] == "--vision": vision = True; i += 1
        else: opt[a[i]] = a[i + 1]; i += 2
    tc = dict(TEXT)
    for s in sets:
        k, v = s.split("=", 1)
        tc[k] = json.loads(v)
    r = np.random.default_rng(int(opt["--seed"]))
    shapes = text_shapes(tc)
    w = {}
    for n, sh in sorted(shapes.items()):
        if n.endswith("norm.weight"):
            w[n] = r.normal(0.0, 0.3, sh)               # zero-centred Gemma norm scales
        elif n.endswith(".bias"):
            w[n] = r.normal(0.0, 0.2, sh)
        else:
            w[n] = r.normal(0.0, 1.0 / math.sqrt(sh[-1]), sh)
    if opt["--type"] == "gemma3":
        tc["model_type"] = "gemma3_text"
        cfg = {"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
               "text_config": tc, "vision_config": {"model_type": "siglip_vision_model"},
               "mm_tokens_per_image": 4, "boi_token_index": 280, "eoi_token_index": 281,
               "image_token_index": 290, "eos_token_id": [1, 106]}
        pre = "language_model.model." if opt["--layout"] == "old" else "model.language_model."
        tensors = {pre + n: v for n, v in w.items()}
        if vision:   # a few tower/projector tensors the decoder must leave alone
            vp = "vision_tower." if opt["--layout"] == "old" else "model.vision_tower."
            mp = "multi_modal_projector." if opt["--layout"] == "old" else "model.multi_modal_projector."
            tensors[vp + "vision_model.post_layernorm.weight"] = r.normal(0, 1, (8,))
            tensors[mp + "mm_input_projection_weight"] = r.normal(0, 1, (8, tc["hidden_size"]))
    else:
        cfg = dict(tc)
        cfg["architectures"] = ["Gemma3ForCausalLM"]
        cfg.update({"bos_token_id": 2, "eos_token_id": [1, 106], "pad_token_id": 0})
        tensors = {"model." + n: v for n, v in w.items()}
    for t in tops:
        k, v = t.split("=", 1)
        cfg[k] = json.loads(v)
    if not cfg.get("tie_word_embeddings", True):
        hp = "language_model." if cfg["model_type"] == "gemma3" and opt["--layout"] == "old" else ""
        tensors[hp + "lm_head.weight"] = r.normal(0, 0.1, (tc["vocab_size"], tc["hidden_size"]))
    for n in drops:
        del tensors[n]
    for n in extras:
        tensors[n] = r.normal(0, 1, (8,))
    save_checkpoint(d, cfg, tensors, opt["--dtype"], int(opt["--shards"]))


# Published shapes for benchmarks (Gemma 3 1B; MedGemma / Gemma 3 4B text model).
BIG = {
    "1b": dict(hidden_size=1152, intermediate_size=6912, num_hidden_layers=26, num_attention_heads=4,
               num_key_value_heads=1, head_dim=256, vocab_size=262144, sliding_window=512,
               query_pre_attn_scalar=256, max_position_embeddings=32768, rope_scaling=None,
               sliding_window_pattern=6),
    "4b": dict(hidden_size=2560, intermediate_size=10240, num_hidden_layers=34, num_attention_heads=8,
               num_key_value_heads=4, head_dim=256, vocab_size=262208, sliding_window=1024,
               query_pre_attn_scalar=256, max_position_embeddings=131072,
               rope_scaling={"factor": 8.0, "rope_type": "linear"}, sliding_window_pattern=6),
}


def genbig(shape, d, fast=False):
    """A random bf16 Gemma3ForCausalLM of a published shape, written tensor by
    tensor (never the whole model in memory). fast: every piece is a slice, at a
    random offset, of one pool of 2^25 normal draws (scaled per tensor) instead
    of fresh draws: a 4B checkpoint in about a minute instead of most of an hour,
    for benchmarks of speed and memory only."""
    tc = dict(TEXT)
    tc.update(BIG[shape])
    cfg = dict(tc, architectures=["Gemma3ForCausalLM"], bos_token_id=2, eos_token_id=[1, 106],
               pad_token_id=0)
    shapes = {"model." + n: s for n, s in text_shapes(tc).items()}
    names = sorted(shapes)
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for n in names:
        nb = int(np.prod(shapes[n])) * 2
        header[n] = {"dtype": "BF16", "shape": list(shapes[n]), "data_offsets": [off, off + nb]}
        off += nb
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(d, exist_ok=True)
    r = np.random.default_rng(0)
    pool = r.standard_normal(1 << 25, dtype=np.float32) if fast else None
    with open(os.path.join(d, "model.safetensors.tmp"), "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for n in names:
            sh = shapes[n]
            scale = 0.3 if n.endswith("norm.weight") else 1.0 / math.sqrt(sh[-1])
            rows = max(1, (1 << 24) // int(np.prod(sh[1:])) if len(sh) > 1 else sh[0])
            for r0 in range(0, sh[0], rows):
                part = (sh[0] - r0 if sh[0] - r0 < rows else rows,) + tuple(sh[1:])
                if fast:
                    o = int(r.integers(0, (1 << 25) - int(np.prod(part)) + 1))
                    x = pool[o:o + int(np.prod(part))].reshape(part)
                else:
                    x = r.standard_normal(part, dtype=np.float32)
                f.write(to_bf16_bits(x * np.float32(scale)).tobytes())
    os.replace(os.path.join(d, "model.safetensors.tmp"), os.path.join(d, "model.safetensors"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


# ---------------------------------------------------------------- reading back
def read_st(path):
    out = {}
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf = data[8 + n:]
    dt = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, e2 = e["data_offsets"]
        x = np.frombuffer(buf[b:e2], dtype=dt[e["dtype"]])
        if e["dtype"] == "BF16":
            x = (x.astype(np.uint32) << 16).view(np.float32)
        out[name] = x.astype(np.float64).reshape(e["shape"])
    return out, {n: header[n]["dtype"] for n in header if n != "__metadata__"}


def load(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) \
        else ["model.safetensors"]
    w, dts = {}, {}
    for f in files:
        a, b = read_st(os.path.join(d, f))
        w.update(a)
        dts.update(b)
    mm = cfg["model_type"] == "gemma3"
    tc = cfg["text_config"] if mm else cfg
    pre = "model."
    for p in ("language_model.model.", "model.language_model."):
        if mm and p + "embed_tokens.weight" in w:
            pre = p
    W = {n[len(pre):]: v for n, v in w.items() if n.startswith(pre)}
    tie = cfg.get("tie_word_embeddings", tc.get("tie_word_embeddings", True))
    if not tie:
        W["lm_head"] = w[("language_model." if pre == "language_model.model." else "") + "lm_head.weight"]
    else:
        W["lm_head"] = W["embed_tokens.weight"]
    return cfg, tc, W, dts[pre + "embed_tokens.weight"]


def settings(cfg, tc, edtype):
    L = tc["num_hidden_layers"]
    if tc.get("layer_types"):
        sliding = [t == "sliding_attention" for t in tc["layer_types"]]
    else:
        pat = tc.get("sliding_window_pattern", 6)
        sliding = [bool((i + 1) % pat) for i in range(L)]
    rs = tc.get("rope_scaling") or {}
    factor = rs.get("factor", 1.0) if rs.get("rope_type", rs.get("type")) == "linear" else 1.0
    glob, local = tc.get("rope_theta", 1e6), tc.get("rope_local_base_freq", 1e4)
    rp = tc.get("rope_parameters")
    if rp:      # transformers' newer per-layer-type form
        f, sl = rp.get("full_attention", {}), rp.get("sliding_attention", {})
        factor = f.get("factor", 1.0) if f.get("rope_type") == "linear" else 1.0
        glob, local = f.get("rope_theta", glob), sl.get("rope_theta", local)
    D = tc["hidden_size"]
    # sqrt(hidden) as a tensor of the embedding's dtype (Gemma3TextScaledWordEmbedding)
    scale = np.float32(D ** 0.5)
    if edtype == "BF16":
        scale = (to_bf16_bits(np.array([scale])).astype(np.uint32) << 16).view(np.float32)[0]
    elif edtype == "F16":
        scale = np.float16(scale)
    mm = cfg["model_type"] == "gemma3"
    return dict(sliding=sliding, factor=factor, scale=float(scale), glob=glob, local=local,
                fcap=None if mm else tc.get("final_logit_softcapping"),
                acap=tc.get("attn_logit_softcapping"))


def inv_freq(base, hd, factor):
    # float32 as transformers computes it; the angle is formed in float32 too
    f = (1.0 / (base ** (np.arange(0, hd, 2, dtype=np.int64).astype(np.float32) / hd))).astype(np.float32)
    return (f / np.float32(factor)).astype(np.float32)


# ---------------------------------------------------------------- numpy float64
def np_forward(cfg, tc, W, edt, ids, rows, groups):
    """ids: token ids; rows: {position: soft-token vector}; groups: per position image
    block id (0 = text). Returns logits [n, vocab] (float64)."""
    S = settings(cfg, tc, edt)
    D, H, KV, hd = tc["hidden_size"], tc["num_attention_heads"], tc["num_key_value_heads"], tc["head_dim"]
    eps = tc.get("rms_norm_eps", 1e-6)
    win = tc["sliding_window"]
    n = len(ids)

    def rms(x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * (1.0 + w)

    def gelu(x):
        if tc.get("hidden_activation", "gelu_pytorch_tanh") == "gelu":      # erf form
            return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    def rope(x, base, factor):      # x [n, heads, hd]
        f = inv_freq(base, hd, factor)
        ang = (np.arange(n, dtype=np.float32)[:, None] * f[None, :]).astype(np.float64)
        # cos/sin rounded to float32 as transformers' rotary embedding returns them
        c = np.cos(ang).astype(np.float32).astype(np.float64)[:, None, :]
        s = np.sin(ang).astype(np.float32).astype(np.float64)[:, None, :]
        a, b = x[..., :hd // 2], x[..., hd // 2:]
        return np.concatenate([a * c - b * s, b * c + a * s], axis=-1)

    x = np.stack([rows[i] if i in rows else W["embed_tokens.weight"][ids[i]] * S["scale"]
                  for i in range(n)])
    for li in range(tc["num_hidden_layers"]):
        p = "layers.%d." % li
        sl = S["sliding"][li]
        h = rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).reshape(n, H, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).reshape(n, KV, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).reshape(n, KV, hd)
        if tc.get("attention_bias"):
            q = q + W[p + "self_attn.q_proj.bias"].reshape(H, hd)
            k = k + W[p + "self_attn.k_proj.bias"].reshape(KV, hd)
            v = v + W[p + "self_attn.v_proj.bias"].reshape(KV, hd)
        q = rms(q, W[p + "self_attn.q_norm.weight"])
        k = rms(k, W[p + "self_attn.k_norm.weight"])
        base = S["local"] if sl else S["glob"]
        fac = 1.0 if sl else S["factor"]
        q, k = rope(q, base, fac), rope(k, base, fac)
        att = np.zeros((n, H, hd))
        for i in range(n):
            ok = [(j <= i and (not sl or j > i - win)) or (groups[i] and groups[j] == groups[i])
                  for j in range(n)]
            ok = np.array(ok)
            for hh in range(H):
                kv = hh // (H // KV)
                s = k[:, kv] @ q[i, hh] * tc.get("query_pre_attn_scalar", 256) ** -0.5
                if S["acap"]:
                    s = np.tanh(s / S["acap"]) * S["acap"]
                s = np.where(ok, s, -np.inf)
                e = np.exp(s - s.max())
                att[i, hh] = (e / e.sum()) @ v[:, kv]
        o = att.reshape(n, H * hd) @ W[p + "self_attn.o_proj.weight"].T
        if tc.get("attention_bias"):
            o = o + W[p + "self_attn.o_proj.bias"]
        x = x + rms(o, W[p + "post_attention_layernorm.weight"])
        m = rms(x, W[p + "pre_feedforward_layernorm.weight"])
        m = (gelu(m @ W[p + "mlp.gate_proj.weight"].T) * (m @ W[p + "mlp.up_proj.weight"].T)) \
            @ W[p + "mlp.down_proj.weight"].T
        x = x + rms(m, W[p + "post_feedforward_layernorm.weight"])
    lg = rms(x, W["norm.weight"]) @ W["lm_head"].T
    if S["fcap"]:
        lg = np.tanh(lg / S["fcap"]) * S["fcap"]
    return lg


# ---------------------------------------------------------------- PyTorch float64
def torch_forward(cfg, tc, W, edt, ids, rows, groups):
    import torch
    torch.set_grad_enabled(False)
    S = settings(cfg, tc, edt)
    T = {k: torch.from_numpy(v) for k, v in W.items()}
    D, H, KV, hd = tc["hidden_size"], tc["num_attention_heads"], tc["num_key_value_heads"], tc["head_dim"]
    eps = tc.get("rms_norm_eps", 1e-6)
    n = len(ids)
    dt = torch.float64

    class RMS:      # Gemma3RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + w)
        def __init__(self, w): self.w = w

        def __call__(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + self.w)

    def rotate_half(x):
        x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
        return torch.cat((-x2, x1), dim=-1)

    def cos_sin(base, factor):
        f = torch.from_numpy(inv_freq(base, hd, factor))
        freqs = (f[:, None] @ torch.arange(n, dtype=torch.float32)[None, :]).T   # [n, hd/2] fp32
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dt), emb.sin().to(dt)

    # Masks as masking_utils builds them: causal (and sliding) AND-ed, then the
    # token_type_ids block OR-ed in; additive with the dtype's minimum.
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    g = torch.tensor(groups)
    same_image = (g[:, None] == g[None, :]) & (g[:, None] > 0)
    full = (j <= i) | same_image
    slide = ((j <= i) & (j > i - tc["sliding_window"])) | same_image
    neg = torch.finfo(dt).min

    def additive(m):
        return torch.where(m, torch.zeros((), dtype=dt), torch.full((), neg, dtype=dt))

    emb = T["embed_tokens.weight"][torch.tensor(ids)] * torch.tensor(S["scale"], dtype=dt)
    for pos, r in rows.items():
        emb[pos] = torch.from_numpy(r)
    x = emb[None]
    for li in range(tc["num_hidden_layers"]):
        p = "layers.%d." % li
        sl = S["sliding"][li]
        res = x
        h = RMS(T[p + "input_layernorm.weight"])(x)

        def proj(name, t):
            y = t @ T[p + "self_attn.%s_proj.weight" % name].T
            if tc.get("attention_bias"):
                y = y + T[p + "self_attn.%s_proj.bias" % name]
            return y
        q = proj("q", h).view(1, n, H, hd).transpose(1, 2)
        k = proj("k", h).view(1, n, KV, hd).transpose(1, 2)
        v = proj("v", h).view(1, n, KV, hd).transpose(1, 2)
        q = RMS(T[p + "self_attn.q_norm.weight"])(q)
        k = RMS(T[p + "self_attn.k_norm.weight"])(k)
        cos, sin = cos_sin(S["local"], 1.0) if sl else cos_sin(S["glob"], S["factor"])
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)           # repeat_kv
        v = v.repeat_interleave(H // KV, dim=1)
        w = q @ k.transpose(2, 3) * tc.get("query_pre_attn_scalar", 256) ** -0.5
        if S["acap"]:
            w = torch.tanh(w / S["acap"]) * S["acap"]
        w = w + additive(slide if sl else full)
        w = torch.softmax(w.float() if dt == torch.float32 else w, dim=-1).to(dt)
        a = (w @ v).transpose(1, 2).reshape(1, n, H * hd)
        a = a @ T[p + "self_attn.o_proj.weight"].T
        if tc.get("attention_bias"):
            a = a + T[p + "self_attn.o_proj.bias"]
        x = res + RMS(T[p + "post_attention_layernorm.weight"])(a)
        res = x
        h = RMS(T[p + "pre_feedforward_layernorm.weight"])(x)
        approx = "none" if tc.get("hidden_activation", "gelu_pytorch_tanh") == "gelu" else "tanh"
        gate = torch.nn.functional.gelu(h @ T[p + "mlp.gate_proj.weight"].T, approximate=approx)
        h = (gate * (h @ T[p + "mlp.up_proj.weight"].T)) @ T[p + "mlp.down_proj.weight"].T
        x = res + RMS(T[p + "post_feedforward_layernorm.weight"])(h)
    lg = RMS(T["norm.weight"])(x) @ T["lm_head"].T
    if S["fcap"]:
        lg = torch.tanh(lg / S["fcap"]) * S["fcap"]
    return lg[0].numpy()


# ---------------------------------------------------------------- checks
def layout(cfg, ids, images):
    """Soft-token rows and image block ids for the image-token runs of ids."""
    tok = cfg.get("image_token_index", -1)
    mm = cfg.get("mm_tokens_per_image", 256)
    rows, groups, k, i = {}, [0] * len(ids), 0, 0
    while i < len(ids):
        if ids[i] == tok:
            if k >= len(images):
                raise SystemExit("more image runs than --images")
            img = np.load(images[k]).astype(np.float64)
            for t in range(mm):
                rows[i + t] = img[t]
                groups[i + t] = k + 1
            k += 1
            i += mm
        else:
            i += 1
    return rows, groups


def both(cfg, tc, W, edt, ids, images):
    rows, groups = layout(cfg, ids, images)
    a = np_forward(cfg, tc, W, edt, ids, rows, groups)
    b = torch_forward(cfg, tc, W, edt, ids, rows, groups)
    err = np.abs(a - b).max() / np.abs(a).max()
    # float32 cos/sin (torch's vs correctly rounded) may differ by an ulp
    if err > 1e-6:
        raise SystemExit("numpy and torch references disagree: %.3g" % err)
    return a


def check(a):
    d, lpath = a[0], a[1]
    ids, images, ngen, toks, tol, cos = [], [], 0, [], 1e-4, None
    i = 2
    while i < len(a):
        if a[i] == "--images": images = [p for p in a[i + 1].split(",") if p]; i += 2
        elif a[i] == "--gen": ngen = int(a[i + 1]); i += 2
        elif a[i] == "--tol": tol = float(a[i + 1]); i += 2
        elif a[i] == "--cos": cos = float(a[i + 1]); i += 2
        elif a[i] == "--tokens":
            toks = [int(t) for t in a[i + 1].split()]; i += 2
        else: ids.append(int(a[i])); i += 1
    cfg, tc, W, edt = load(d)
    got = np.load(lpath).astype(np.float64)
    nv = got.shape[1]
    # The greedy reference continuation. The model is causal, so one forward over
    # the prompt and the program's ids gives the reference logits of every step
    # for as long as the program's ids are the reference's greedy ones; the
    # first step where they differ is reported.
    eos = cfg.get("eos_token_id", [1])
    eos = eos if isinstance(eos, list) else [eos]
    # The program feeds back every id it writes but the one that hits the limit
    # (an eos id ends generation and is not written).
    seq = list(ids) + (toks if len(toks) < ngen else toks[:ngen - 1])
    ref = both(cfg, tc, W, edt, seq, images)[:, :nv]
    gen_ref = []
    for k in range(ngen):
        t = int(np.argmax(ref[len(ids) - 1 + k]))
        if t in eos:
            break
        gen_ref.append(t)
        if len(gen_ref) == ngen or k >= len(toks) or toks[k] != t:
            break
    if got.shape != ref.shape:
        raise SystemExit("logits shape %s, reference %s (greedy ids %s, reference %s)"
                         % (got.shape, ref.shape, toks, gen_ref))
    worst, worst_cos = 0.0, 1.0
    for r in range(ref.shape[0]):
        e = np.abs(got[r] - ref[r]).max() / np.abs(ref[r]).max()
        worst = max(worst, e)
        c = got[r] @ ref[r] / (np.linalg.norm(got[r]) * np.linalg.norm(ref[r]))
        worst_cos = min(worst_cos, c)
    if cos is None and worst > tol:
        raise SystemExit("logits differ: max relative %.3g (> %g)" % (worst, tol))
    if cos is not None and worst_cos < cos:
        raise SystemExit("logits differ: min cosine %.6f (< %g), max relative %.3g"
                         % (worst_cos, cos, worst))
    if ngen and toks != gen_ref:
        raise SystemExit("greedy ids %s, reference %s" % (toks, gen_ref))
    print("max relative %.3g, min cosine %.7f over %d positions" % (worst, worst_cos, ref.shape[0]))


def main(a):
    if a[0] == "gen":
        gen(a[1:])
    elif a[0] == "genbig":
        genbig(a[1], a[2], "--fast" in a)
    elif a[0] == "ids":
        n = int(a[1])
        seed = int(a[a.index("--seed") + 1]) if "--seed" in a else 1
        vocab = int(a[a.index("--vocab") + 1]) if "--vocab" in a else 270
        r = np.random.default_rng(seed)
        print(" ".join(str(int(x)) for x in [2] + list(r.integers(5, vocab, n - 1))))
    elif a[0] == "image":
        cfg, tc, W, edt = load(a[2])
        seed = int(a[a.index("--seed") + 1]) if "--seed" in a else 1
        r = np.random.default_rng(seed)
        mm = cfg.get("mm_tokens_per_image", 256)
        np.save(a[1], r.normal(0, 1, (mm, tc["hidden_size"])).astype(np.float32))
    elif a[0] == "check":
        check(a[1:])
    else:
        raise SystemExit("unknown command " + a[0])


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/python3
"""Tiny random SigLIP (SiglipModel) checkpoints with both towers, and an
independent float64 reference of the text tower and of zero-shot scoring,
written from the published math (transformers modeling_siglip.py
SiglipTextTransformer / SiglipModel.forward, tokenization_siglip.py), itself
cross-checked against a second forward in PyTorch.

  siglip_text.py gen DIR SPM.model [--dtype F32|BF16] [--seed S] [--drop NAME]
                 [--vset KEY=JSON] [--tset KEY=JSON]     (vision / text config overrides)
                 [--big LAYERS]      MedSigLIP's text tower shape with LAYERS layers, text only
  siglip_text.py ids DIR TEXTS.txt           processor ids, one row of 64 per line
  siglip_text.py check DIR PROMPTS.tsv EMB.npy... -- SCORES.tsv [--softmax]
  siglip_text.py textemb DIR PROMPTS.tsv CLASS.npy...   (--save-text records)

Text is prepared as SiglipTokenizer does: lower-cased, string.punctuation
removed, whitespace runs folded and trimmed, SentencePiece ids (the python
sentencepiece module), </s> appended, truncated and padded with </s> to
max_position_embeddings. Class embeddings: each prompt's embedding
L2-normalised, averaged per class, normalised again.
"""
import json
import math
import os
import re
import shutil
import string
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import encoders  # noqa: E402  (safetensors writer, vision tensors)


def text_config(vocab):
    return {"hidden_size": 40, "intermediate_size": 56, "num_hidden_layers": 2,
            "num_attention_heads": 4, "max_position_embeddings": 64, "vocab_size": vocab,
            "projection_size": 32}


def gen(d, spm, dtype="F32", seed=1, drop=None, vset=(), tset=(), big_layers=0):
    import sentencepiece as sp
    vocab = sp.SentencePieceProcessor(model_file=spm).get_piece_size()
    if big_layers:
        # MedSigLIP's text tower (medgemini-spec §4) with big_layers of its 27
        # layers; the vision tower is left out (the text family reads none of it)
        tset = ["hidden_size=1152", "intermediate_size=4304", "num_attention_heads=16",
                "vocab_size=32000", "projection_size=1152", "num_hidden_layers=%d" % big_layers]
    v = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=72,
             image_size=32, patch_size=8)
    t = text_config(vocab)
    for kv in vset:
        k, x = kv.split("=", 1)
        v[k] = json.loads(x)
    for kv in tset:
        k, x = kv.split("=", 1)
        t[k] = json.loads(x)
    cfg = {"model_type": "siglip", "architectures": ["SiglipModel"], "vision_config": v, "text_config": t}
    r, w = (encoders.SpecRand if big_layers else encoders.Rand)(seed), {}
    if not big_layers:
        encoders.siglip_tensors(r, w, "vision_model.", v, True)
    D, Fh, L, P = t["hidden_size"], t["intermediate_size"], t["max_position_embeddings"], t["projection_size"]
    p = "text_model."
    w[p + "embeddings.token_embedding.weight"] = r.arr((t["vocab_size"], D))
    w[p + "embeddings.position_embedding.weight"] = r.arr((L, D))
    for i in range(t["num_hidden_layers"]):
        q = p + "encoder.layers.%d." % i
        for k in "qkv":
            r.lin(w, q + "self_attn.%s_proj" % k, D, D)
        r.lin(w, q + "self_attn.out_proj", D, D)
        r.lin(w, q + "mlp.fc1", Fh, D)
        r.lin(w, q + "mlp.fc2", D, Fh)
        r.norm(w, q + "layer_norm1", D)
        r.norm(w, q + "layer_norm2", D)
    r.norm(w, p + "final_layer_norm", D)
    r.lin(w, p + "head", P, D)
    # scale and bias of the order that keeps the sigmoids away from 0 and 1
    w["logit_scale"] = np.array([math.log(8.0)], np.float32)
    w["logit_bias"] = np.array([-0.75], np.float32)
    if drop:
        del w[drop]
    if big_layers:
        os.makedirs(d, exist_ok=True)
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
        encoders.write_big(os.path.join(d, "model.safetensors"), w, dtype, seed)
    else:
        encoders.save_checkpoint(d, cfg, w, dtype)
    shutil.copy(spm, os.path.join(d, "spiece.model"))


# ---------------------------------------------------------------- tokenization
def processor_ids(d, texts):
    import sentencepiece as sp
    cfg = json.load(open(os.path.join(d, "config.json")))
    L = cfg["text_config"].get("max_position_embeddings", 64)
    m = sp.SentencePieceProcessor(model_file=os.path.join(d, "spiece.model"))
    eos = m.piece_to_id("</s>")
    rows = []
    for s in texts:
        s = s.lower().translate(str.maketrans("", "", string.punctuation))
        s = re.sub(r"\s+", " ", s).strip()
        ids = m.encode(s)[:L - 1] + [eos]
        rows.append(ids + [eos] * (L - len(ids)))
    return np.array(rows, dtype=np.int64)


# ---------------------------------------------------------------- text tower
def weights(d):
    encoders.load_torch()
    return {k: v.numpy() for k, v in encoders.read_checkpoint(d).items()}


def text_numpy(W, t, ids):
    """float64 numpy, from the published math."""
    D, H = t["hidden_size"], t["num_attention_heads"]
    hd, eps = D // H, t.get("layer_norm_eps", 1e-6)
    p = "text_model."

    def ln(x, n):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * W[n + ".weight"] + W[n + ".bias"]

    def lin(x, n):
        return x @ W[n + ".weight"].T + W[n + ".bias"]

    def gelu_tanh(x):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

    B, L = ids.shape
    x = W[p + "embeddings.token_embedding.weight"][ids] + W[p + "embeddings.position_embedding.weight"][:L]
    for i in range(t["num_hidden_layers"]):
        q = p + "encoder.layers.%d." % i
        h = ln(x, q + "layer_norm1")
        Q, K, V = (lin(h, q + "self_attn.%s_proj" % k).reshape(B, L, H, hd).transpose(0, 2, 1, 3) for k in "qkv")
        s = Q @ K.transpose(0, 1, 3, 2) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = (s / s.sum(-1, keepdims=True)) @ V
        x = x + lin(a.transpose(0, 2, 1, 3).reshape(B, L, D), q + "self_attn.out_proj")
        x = x + lin(gelu_tanh(lin(ln(x, q + "layer_norm2"), q + "mlp.fc1")), q + "mlp.fc2")
    x = ln(x, p + "final_layer_norm")
    return lin(x[:, -1], p + "head")


def text_torch(W, t, ids):
    """The same in PyTorch's own modules (float64): the cross-check."""
    import torch
    import torch.nn.functional as F
    D, H = t["hidden_size"], t["num_attention_heads"]
    eps = t.get("layer_norm_eps", 1e-6)
    T = {k: torch.from_numpy(v) for k, v in W.items()}
    p = "text_model."
    ln = lambda x, n: F.layer_norm(x, (D,), T[n + ".weight"], T[n + ".bias"], eps)
    lin = lambda x, n: F.linear(x, T[n + ".weight"], T[n + ".bias"])
    torch.set_grad_enabled(False)
    ids = torch.from_numpy(ids)
    B, L = ids.shape
    x = F.embedding(ids, T[p + "embeddings.token_embedding.weight"]) + T[p + "embeddings.position_embedding.weight"][:L]
    for i in range(t["num_hidden_layers"]):
        q = p + "encoder.layers.%d." % i
        h = ln(x, q + "layer_norm1")
        # nn.MultiheadAttention with the q|k|v projections packed as in_proj
        m = torch.nn.MultiheadAttention(D, H).double()
        m.in_proj_weight.copy_(torch.cat([T[q + "self_attn.%s_proj.weight" % k] for k in "qkv"]))
        m.in_proj_bias.copy_(torch.cat([T[q + "self_attn.%s_proj.bias" % k] for k in "qkv"]))
        m.out_proj.weight.copy_(T[q + "self_attn.out_proj.weight"])
        m.out_proj.bias.copy_(T[q + "self_attn.out_proj.bias"])
        h = h.transpose(0, 1)                  # [L, B, D]: the module's sequence-first layout
        x = x + m(h, h, h, need_weights=False)[0].transpose(0, 1)
        x = x + lin(F.gelu(lin(ln(x, q + "layer_norm2"), q + "mlp.fc1"), approximate="tanh"), q + "mlp.fc2")
    return lin(ln(x, p + "final_layer_norm")[:, -1], p + "head").numpy()


def read_prompts(path):
    classes, prompts = [], []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        c, s = line.split("\t", 1)
        if c not in classes:
            classes.append(c)
        prompts.append((classes.index(c), s))
    return classes, prompts


def class_embeddings(d, prompts_path):
    cfg = json.load(open(os.path.join(d, "config.json")))
    t = dict(cfg["text_config"])
    W = weights(d)
    classes, prompts = read_prompts(prompts_path)
    ids = processor_ids(d, [s for _, s in prompts])
    e = text_numpy(W, t, ids)
    e2 = text_torch(W, t, ids)
    dev = np.abs(e - e2).max() / np.abs(e2).max()
    if dev > 1e-10:
        raise SystemExit("numpy and torch references disagree: %.3g" % dev)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    C = np.zeros((len(classes), e.shape[1]))
    for (k, _), v in zip(prompts, e):
        C[k] += v
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    return classes, C, float(W["logit_scale"][0]), float(W["logit_bias"][0])


def scores(C, ls, lb, X, softmax):
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    logits = math.exp(ls) * X @ C.T + lb
    if softmax:
        z = np.exp(logits - logits.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)
    return 1 / (1 + np.exp(-logits))


def rel_err(got, ref):
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))


def check(d, prompts, embs, tsv, softmax):
    classes, C, ls, lb = class_embeddings(d, prompts)
    X = np.stack([np.load(f).astype(np.float64).ravel() for f in embs])
    ref = scores(C, ls, lb, X, softmax)
    rows = [l.rstrip("\n").split("\t") for l in open(tsv)]
    if rows[0] != ["id"] + classes:
        print("header %s, want %s" % (rows[0], ["id"] + classes))
        return 1
    got = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    if got.shape != ref.shape:
        print("shape %s, reference %s" % (got.shape, ref.shape))
        return 1
    e = rel_err(got, ref)
    print("max_rel_err %.3g%s" % (e, "" if e < 1e-4 else " FAIL"))
    return 0 if e < 1e-4 else 1


def textemb(d, prompts, outs):
    classes, C, _, _ = class_embeddings(d, prompts)
    got = np.stack([np.load(f).astype(np.float64).ravel() for f in outs])
    if got.shape != C.shape:
        print("shape %s, reference %s" % (got.shape, C.shape))
        return 1
    e = rel_err(got, C)
    print("max_rel_err %.3g%s" % (e, "" if e < 1e-4 else " FAIL"))
    return 0 if e < 1e-4 else 1


def main(a):
    if a[0] == "gen":
        pairs = list(zip(a[3::2], a[4::2]))
        o = dict(pairs)
        gen(a[1], a[2], o.get("--dtype", "F32"), int(o.get("--seed", 1)), o.get("--drop"),
            [v for k, v in pairs if k == "--vset"], [v for k, v in pairs if k == "--tset"],
            int(o.get("--big", 0)))
        return 0
    if a[0] == "ids":
        texts = open(a[2], encoding="utf-8").read().split("\n")
        if texts and texts[-1] == "":
            texts.pop()
        for r in processor_ids(a[1], texts):
            print(" ".join(map(str, r)))
        return 0
    if a[0] == "check":
        sm = "--softmax" in a
        a = [x for x in a if x != "--softmax"]
        sep = a.index("--")
        return check(a[1], a[2], a[3:sep], a[sep + 1], sm)
    if a[0] == "textemb":
        return textemb(a[1], a[2], a[3:])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

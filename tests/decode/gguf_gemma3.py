#!/usr/bin/python3
"""Write a Gemma 3 text decoder checkpoint (Hugging Face safetensors, as published)
as a GGUF file that llama.cpp loads as architecture "gemma3", with the gguf-py
package of the llama.cpp tree the tests build (GGUFWriter; put its gguf-py folder
on PYTHONPATH).

  gguf_gemma3.py CHECKPOINT_DIR OUT.gguf [--tokenizer tokenizer.json]

Weights keep their stored type (F32, F16 or BF16; written as mapped, never held in
memory); the norm scales become F32 holding 1 + w, computed in float32, because
Gemma's RMSNorm multiplies by (1 + w) (HF Gemma3RMSNorm) and llama.cpp's by the
stored value. Embedding rows past the tokenizer's vocabulary are left out, as
llama.cpp restricts the output to the vocabulary. The tokenizer (tokenizer.json
in the checkpoint, or --tokenizer) becomes llama.cpp's SentencePiece vocabulary.
A configuration llama.cpp's gemma3 graph cannot express is refused with a one-line
error, rather than converted into a different model:
  - attention scale 1/sqrt(query_pre_attn_scalar): llama.cpp fixes it to
    1/sqrt(head_dim) (or 1/sqrt(hidden/heads) for the 62-layer shape);
  - sliding layers: llama.cpp takes a period p (layer i slides unless
    (i+1) % p == 0), so layer_types must follow one;
  - attention biases, attention logit soft-capping, activations other than
    the tanh GELU.
"""
import json
import math
import os
import struct
import sys

import numpy as np

try:
    import gguf
except ImportError:
    sys.exit("gguf_gemma3.py: error: the gguf package (llama.cpp's gguf-py) is not on PYTHONPATH")

# Gemma3TextConfig defaults (transformers): published configs omit some of these.
DEFAULTS = {
    "vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216,
    "num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4,
    "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
    "attention_bias": False, "query_pre_attn_scalar": 256, "sliding_window": 4096,
    "final_logit_softcapping": None, "attn_logit_softcapping": None, "rope_scaling": None,
    "rope_local_base_freq": 10000.0, "sliding_window_pattern": 6, "layer_types": None,
}

# Hugging Face names (after the model prefix) -> llama.cpp names (src/llama-arch.cpp).
LAYER_NAMES = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
    "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm",
    "post_attention_layernorm": "post_attention_norm", "pre_feedforward_layernorm": "ffn_norm",
    "post_feedforward_layernorm": "post_ffw_norm", "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
}

ST_DTYPES = {"F32": (np.float32, gguf.GGMLQuantizationType.F32),
             "F16": (np.float16, gguf.GGMLQuantizationType.F16),
             "BF16": (np.uint16, gguf.GGMLQuantizationType.BF16)}
FILE_TYPES = {"F32": gguf.LlamaFileType.ALL_F32, "F16": gguf.LlamaFileType.MOSTLY_F16,
              "BF16": gguf.LlamaFileType.MOSTLY_BF16}


class Refused(Exception):
    pass


def map_safetensors(path):
    """name -> (stored dtype, read-only array mapped from the file)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100 << 20:
            raise Refused("%s: safetensors header too large" % path)
        header = json.loads(f.read(n))
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] not in ST_DTYPES:
            raise Refused("%s: %s is %s; F32, F16 or BF16 expected" % (path, name, e["dtype"]))
        b, end = e["data_offsets"]
        npt = ST_DTYPES[e["dtype"]][0]
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        if end - b != count * np.dtype(npt).itemsize:
            raise Refused("%s: %s has %d bytes for shape %s" % (path, name, end - b, e["shape"]))
        a = np.memmap(path, dtype=npt, mode="r", offset=base + b, shape=(count,))
        out[name] = (e["dtype"], a.reshape(e["shape"]))
    return out


def read_checkpoint(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        files = sorted(set(json.load(open(idx))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for f in files:
        w.update(map_safetensors(os.path.join(d, f)))
    return w


def text_config(cfg):
    """(text config with defaults filled in, whether the final soft-cap applies)."""
    if cfg.get("model_type") == "gemma3":
        # Gemma3ForConditionalGeneration never applies the final logit soft-cap.
        tc, causal = dict(cfg.get("text_config") or {}), False
    elif cfg.get("model_type") == "gemma3_text":
        tc, causal = dict(cfg), True
    else:
        raise Refused("model_type %r is not gemma3 or gemma3_text" % cfg.get("model_type"))
    for k, v in DEFAULTS.items():
        tc.setdefault(k, v)
    tc["tie_word_embeddings"] = cfg.get("tie_word_embeddings", tc.get("tie_word_embeddings", True))
    return tc, causal


def sliding_period(tc):
    L = tc["num_hidden_layers"]
    if not tc.get("layer_types"):
        return int(tc["sliding_window_pattern"])
    sliding = [t == "sliding_attention" for t in tc["layer_types"]]
    for p in range(1, L + 2):
        if sliding == [bool((i + 1) % p) for i in range(L)]:
            return p
    raise Refused("layer_types %s follow no period; llama.cpp's gemma3 takes one" % tc["layer_types"])


def rope(tc):
    """(global base, global linear factor, local base) from rope_parameters or the
    older rope_theta / rope_scaling / rope_local_base_freq keys."""
    glob, local = float(tc["rope_theta"]), float(tc["rope_local_base_freq"])
    rs = tc.get("rope_scaling") or {}
    factor = float(rs.get("factor", 1.0)) if rs.get("rope_type", rs.get("type")) == "linear" else 1.0
    if rs and rs.get("rope_type", rs.get("type")) not in ("linear", "default"):
        raise Refused("rope_scaling %s is not linear" % rs)
    rp = tc.get("rope_parameters")
    if rp:
        full, sl = rp.get("full_attention", {}), rp.get("sliding_attention", {})
        if full.get("rope_type", "default") not in ("linear", "default") or \
                sl.get("rope_type", "default") != "default":
            raise Refused("rope_parameters %s: llama.cpp scales full layers linearly only" % rp)
        factor = float(full.get("factor", 1.0)) if full.get("rope_type") == "linear" else 1.0
        glob, local = float(full.get("rope_theta", glob)), float(sl.get("rope_theta", local))
    return glob, factor, local


def vocabulary(path, rows):
    """Pieces, scores and token types of the first min(rows, tokenizer size) ids."""
    t = json.load(open(path, encoding="utf-8"))
    pieces = {i: p for p, i in t["model"]["vocab"].items()}
    kinds = {}
    for a in t.get("added_tokens", []):
        pieces[a["id"]] = a["content"]
        kinds[a["id"]] = gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED
    size = max(pieces) + 1
    n = min(rows, size)
    toks, scores, types = [], [], []
    for i in range(n):
        p = pieces.get(i)
        if p is None:
            toks.append("[PAD%d]" % i); types.append(gguf.TokenType.UNUSED); scores.append(-1e9)
            continue
        toks.append(p)
        if p == t["model"].get("unk_token"):
            types.append(gguf.TokenType.UNKNOWN)
        elif i in kinds:
            types.append(kinds[i])
        elif len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
            types.append(gguf.TokenType.BYTE)
        else:
            types.append(gguf.TokenType.NORMAL)
        # Scores only steer llama.cpp's own tokenizer (the comparisons pass token
        # ids); SentencePiece BPE vocabularies list pieces roughly by merge order.
        scores.append(0.0 if types[-1] != gguf.TokenType.NORMAL else -float(i))
    return n, toks, scores, types


def convert(d, out, tok_path):
    cfg = json.load(open(os.path.join(d, "config.json")))
    tc, causal = text_config(cfg)
    w = read_checkpoint(d)
    pre = None
    for p in ("model.language_model.", "language_model.model.", "model."):
        if p + "embed_tokens.weight" in w:
            pre = p
            break
    if pre is None:
        raise Refused("%s: no embed_tokens.weight" % d)
    L, D, H, KV, hd = (tc["num_hidden_layers"], tc["hidden_size"], tc["num_attention_heads"],
                       tc["num_key_value_heads"], tc["head_dim"])
    if tc["attention_bias"]:
        raise Refused("attention_bias: llama.cpp's gemma3 has no attention biases")
    if tc["attn_logit_softcapping"] is not None:
        raise Refused("attn_logit_softcapping: llama.cpp's gemma3 has no attention soft-cap")
    if tc["hidden_activation"] != "gelu_pytorch_tanh":
        raise Refused("hidden_activation %s: llama.cpp's gemma3 uses the tanh GELU" % tc["hidden_activation"])
    scale_dim = D // H if L == 62 else hd
    if float(tc["query_pre_attn_scalar"]) != float(scale_dim):
        raise Refused("query_pre_attn_scalar %s: llama.cpp's gemma3 scales attention by 1/sqrt(%d)"
                      % (tc["query_pre_attn_scalar"], scale_dim))
    period = sliding_period(tc)
    glob, factor, local = rope(tc)

    tok_path = tok_path or os.path.join(d, "tokenizer.json")
    if not os.path.exists(tok_path):
        raise Refused("%s: no tokenizer.json (give one with --tokenizer)" % d)
    emb_dtype, emb = w[pre + "embed_tokens.weight"]
    n_vocab, toks, scores, types = vocabulary(tok_path, emb.shape[0])

    wr = gguf.GGUFWriter(out, "gemma3")
    wr.add_name(os.path.basename(os.path.normpath(d)))
    wr.add_file_type(FILE_TYPES[emb_dtype])
    wr.add_context_length(int(tc["max_position_embeddings"]))
    wr.add_embedding_length(D)
    wr.add_block_count(L)
    wr.add_feed_forward_length(int(tc["intermediate_size"]))
    wr.add_head_count(H)
    wr.add_head_count_kv(KV)
    wr.add_key_length(hd)
    wr.add_value_length(hd)
    wr.add_layer_norm_rms_eps(float(tc["rms_norm_eps"]))
    wr.add_rope_freq_base(glob)
    wr.add_rope_freq_base_swa(local)
    if factor != 1.0:
        wr.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        wr.add_rope_scaling_factor(factor)
    if period != 1:
        wr.add_sliding_window(int(tc["sliding_window"]))
        wr.add_sliding_window_pattern(period)
    if causal and tc["final_logit_softcapping"]:
        wr.add_final_logit_softcapping(float(tc["final_logit_softcapping"]))
    wr.add_tokenizer_model("llama")
    wr.add_tokenizer_pre("default")
    wr.add_token_list(toks)
    wr.add_token_scores(scores)
    wr.add_token_types(types)
    for key, fn in (("pad_token_id", wr.add_pad_token_id), ("eos_token_id", wr.add_eos_token_id),
                    ("bos_token_id", wr.add_bos_token_id)):
        v = cfg.get(key, tc.get(key))
        v = v[0] if isinstance(v, list) else v
        if v is not None and v < n_vocab:
            fn(int(v))
    if 3 < n_vocab:
        wr.add_unk_token_id(3)
    wr.add_add_bos_token(True)
    wr.add_add_eos_token(False)
    wr.add_add_space_prefix(False)

    def matrix(gname, hname, rows=None):
        if hname not in w:
            raise Refused("%s: no %s" % (d, hname))
        dt, a = w[hname]
        if rows is not None:
            a = a[:rows]
        wr.add_tensor(gname, a, raw_shape=a.shape, raw_dtype=ST_DTYPES[dt][1])

    def norm(gname, hname):
        if hname not in w:
            raise Refused("%s: no %s" % (d, hname))
        dt, a = w[hname]
        x = (a.astype(np.uint32) << 16).view(np.float32) if dt == "BF16" else a.astype(np.float32)
        wr.add_tensor(gname, (np.float32(1.0) + x).astype(np.float32))

    matrix("token_embd.weight", pre + "embed_tokens.weight", n_vocab)
    norm("output_norm.weight", pre + "norm.weight")
    if not tc["tie_word_embeddings"]:
        head = ("language_model." if pre == "language_model.model." else "") + "lm_head.weight"
        matrix("output.weight", head, n_vocab)
    for i in range(L):
        for h, g in LAYER_NAMES.items():
            hname, gname = "%slayers.%d.%s.weight" % (pre, i, h), "blk.%d.%s.weight" % (i, g)
            (norm if h.endswith("norm") else matrix)(gname, hname)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def main(a):
    if len(a) not in (2, 4) or (len(a) == 4 and a[2] != "--tokenizer"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out = a[1]
    tmp = out + ".tmp"
    try:
        convert(a[0], tmp, a[3] if len(a) == 4 else None)
        os.replace(tmp, out)
    except (Refused, OSError, KeyError, ValueError) as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        print("gguf_gemma3.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

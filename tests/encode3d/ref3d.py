#!/usr/bin/python3
"""Tiny random 3D-encoder checkpoints in their published layouts, and an
independent PyTorch forward of each, written from the published code's
semantics (MONAI monai.networks.nets.ViT with PatchEmbeddingBlock /
TransformerBlock / SABlock / MLPBlock; M3D LaMed/src/model/CLIP.py; Merlin
merlin/models/{build,i3res,inflate}.py over torchvision's ResNet Bottleneck).

  ref3d.py gen FAMILY DIR [--set KEY=JSON] [--seed S] [--pt FILE] [--dtype D]
        FAMILY: monai_vit (MONAI ViT state dict), m3d_clip (M3D-CLIP),
        merlin_i3d (Merlin's image encoder). --pt also saves the state dict
        as torch.save() does for the converter's test.
  ref3d.py volumes OUTPREFIX N SHAPE [--seed S]    (SHAPE like 1x8x32x32; OUTPREFIX{i}.npy)
  ref3d.py check DIR KIND VOL.npy... -- OUT.npy... [--l2]
  ref3d.py bf16check DIR KIND MIN_COS VOL.npy... -- OUT.npy...   a bf16 run (see bf16check)
  ref3d.py slices IMG.npy... -- OUT.npy [--pool mean|max|tokens] [--l2]
        pool per-slice outputs of mg-encode2d as mg-encode3d --slices does
  ref3d.py compare A.npy B.npy MAX_REL MIN_COS
  ref3d.py phantom FILE.nii.gz [NX NY NZ]   a CT-like phantom in HU (nibabel)
  ref3d.py convert-check DIR FILE.pt    same tensors (names, shapes, values)
"""
import copy
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "sim"))
import encoders  # noqa: E402
from encoders import read_checkpoint, save_checkpoint  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_grad_enabled(False)
encoders.load_torch()
torch.set_num_threads(1)


def triple(v):
    return list(v) * 3 if isinstance(v, (list, tuple)) and len(v) == 1 else (
        list(v) if isinstance(v, (list, tuple)) else [v] * 3)


# ------------------------------------------------------------------ MONAI ViT
class PatchFlatten(nn.Module):
    """einops "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)"."""

    def __init__(self, patch):
        super().__init__()
        self.p = patch

    def forward(self, x):
        b, c, s0, s1, s2 = x.shape
        p0, p1, p2 = self.p
        x = x.reshape(b, c, s0 // p0, p0, s1 // p1, p1, s2 // p2, p2)
        x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)      # b h w d p1 p2 p3 c
        return x.reshape(b, (s0 // p0) * (s1 // p1) * (s2 // p2), p0 * p1 * p2 * c)


class PatchEmbedding(nn.Module):
    def __init__(self, c, img, patch, dim, perceptron):
        super().__init__()
        self.perceptron = perceptron
        n = int(np.prod([i // p for i, p in zip(img, patch)]))
        if perceptron:
            self.patch_embeddings = nn.Sequential(PatchFlatten(patch), nn.Linear(c * int(np.prod(patch)), dim))
        else:
            self.patch_embeddings = nn.Conv3d(c, dim, kernel_size=patch, stride=patch)
        self.position_embeddings = nn.Parameter(torch.zeros(1, n, dim))

    def forward(self, x, grid=None):
        x = self.patch_embeddings(x)
        if not self.perceptron:
            x = x.flatten(2).transpose(-1, -2)
        pos = self.position_embeddings
        if grid is not None:        # trilinear resize of the learned grid
            g0 = pos.reshape(1, *self.grid0, -1).permute(0, 4, 1, 2, 3)
            pos = F.interpolate(g0, size=grid, mode="trilinear", align_corners=False)
            pos = pos.flatten(2).transpose(1, 2)
        return x + pos


class SelfAttention(nn.Module):
    def __init__(self, dim, heads, qkv_bias):
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.out_proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) * (d // self.h) ** -0.5, dim=-1)
        return self.out_proj((a @ v).transpose(1, 2).reshape(b, n, d))


class CrossAttention(nn.Module):
    """Present in current MONAI TransformerBlock state dicts, never called here."""

    def __init__(self, dim):
        super().__init__()
        self.out_proj = nn.Linear(dim, dim)
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)


class MLP(nn.Module):
    def __init__(self, dim, ffn):
        super().__init__()
        self.linear1 = nn.Linear(dim, ffn)
        self.linear2 = nn.Linear(ffn, dim)

    def forward(self, x):
        return self.linear2(F.gelu(self.linear1(x)))


class Block(nn.Module):
    def __init__(self, dim, ffn, heads, qkv_bias, cross):
        super().__init__()
        self.mlp = MLP(dim, ffn)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        if cross:
            self.norm_cross_attn = nn.LayerNorm(dim)
            self.cross_attn = CrossAttention(dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT3D(nn.Module):
    def __init__(self, cfg, cross=True):
        super().__init__()
        img, patch = triple(cfg.get("img_size", 96)), triple(cfg.get("patch_size", 16))
        dim = cfg.get("hidden_size", 768)
        proj = cfg.get("proj_type", cfg.get("pos_embed", "conv"))
        self.patch = patch
        self.patch_embedding = PatchEmbedding(cfg.get("in_channels", 1), img, patch, dim, proj == "perceptron")
        self.patch_embedding.grid0 = [i // p for i, p in zip(img, patch)]
        self.blocks = nn.ModuleList([Block(dim, cfg.get("mlp_dim", 3072), cfg.get("num_heads", 12),
                                           cfg.get("qkv_bias", False), cross)
                                     for _ in range(cfg.get("num_layers", 12))])
        self.norm = nn.LayerNorm(dim)
        if cfg.get("classification", False):
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x):
        grid = [s // p for s, p in zip(x.shape[2:], self.patch)]
        x = self.patch_embedding(x, None if grid == self.patch_embedding.grid0 else grid)
        if hasattr(self, "cls_token"):
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        for b in self.blocks:
            x = b(x)
        return self.norm(x)


class M3DCLIPVision(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = dict(cfg)
        c["classification"] = True
        c.setdefault("proj_type", cfg.get("pos_embed", "perceptron"))
        self.vision_encoder = ViT3D(c, cross=False)      # M3D pins an older MONAI
        d = cfg.get("hidden_size", 768)
        self.mm_vision_proj = nn.Linear(d, d)
        self.mm_language_proj = nn.Linear(d, d)
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))


# --------------------------------------------------------------- Merlin I3D
class Bottleneck3d(nn.Module):
    """torchvision Bottleneck (stride on conv2) inflated as Merlin's i3res:
    1x1x1, 3x3x3 stride (s,s,s) padding 1, 1x1x1; downsample 1x1x1 stride s."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv3d(cin, planes * 4, 1, stride=stride, bias=False),
                                            nn.BatchNorm3d(planes * 4))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = F.relu(self.bn2(self.conv2(o)))
        o = self.bn3(self.conv3(o))
        return F.relu(o + (self.downsample(x) if self.downsample is not None else x))


class I3ResNet(nn.Module):
    def __init__(self, layers, width=64, n_class=1692, n_contrastive=512):
        super().__init__()
        self.conv1 = nn.Conv3d(3, width, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        self.maxpool = nn.MaxPool3d((3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1))
        cin = width
        for i, n in enumerate(layers):
            planes, blocks = width * 2 ** i, []
            for k in range(n):
                blocks.append(Bottleneck3d(cin, planes, (1 if i == 0 else 2) if k == 0 else 1))
                cin = planes * 4
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        self.classifier = nn.Conv3d(cin, n_class, 1, bias=True)
        self.contrastive_head = nn.Conv3d(cin, n_contrastive, 1, bias=True)

    def features(self, x):
        """x: MONAI's [B, 1, X, Y, Z]; Merlin permutes to [B, 1, Z, X, Y] and
        repeats the channel three times."""
        x = x.permute(0, 1, 4, 2, 3)
        x = torch.cat((x, x, x), dim=1)
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, "layer%d" % i)(x)
        return x

    def forward(self, x):
        f = self.features(x)
        p = F.adaptive_avg_pool3d(f, 1)
        return f, p, self.contrastive_head(p).flatten(2).mean(2)


class MerlinImage(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.encode_image = nn.Module()
        self.encode_image.i3_resnet = I3ResNet(cfg["layers"], cfg.get("width", 64),
                                               cfg.get("n_class", 1692), cfg.get("n_contrastive", 512))


# ------------------------------------------------------------------- configs
def family_config(fam):
    if fam == "monai_vit":
        return {"model_type": "monai_vit", "in_channels": 1, "img_size": [8, 32, 32],
                "patch_size": [2, 8, 8], "hidden_size": 32, "mlp_dim": 48, "num_layers": 2,
                "num_heads": 4, "proj_type": "conv", "pos_embed_type": "learnable",
                "classification": True, "qkv_bias": False, "spatial_dims": 3}
    if fam == "m3d_clip":
        return {"model_type": "m3d_clip", "in_channels": 1, "img_size": [8, 32, 32],
                "patch_size": [2, 8, 8], "hidden_size": 32, "mlp_dim": 64, "num_layers": 2,
                "num_heads": 4, "pos_embed": "perceptron", "dropout_rate": 0, "spatial_dims": 3,
                "architectures": ["M3DCLIP"]}
    if fam == "merlin_i3d":
        return {"model_type": "merlin_i3d", "layers": [1, 2, 1, 1], "width": 4, "n_class": 5,
                "n_contrastive": 12}
    raise SystemExit("unknown family " + fam)


def build(cfg):
    t = cfg["model_type"]
    if t == "monai_vit":
        return ViT3D(cfg)
    if t == "m3d_clip":
        return M3DCLIPVision(cfg)
    return MerlinImage(cfg)


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    for name, p in model.state_dict().items():
        if "running_var" in name:
            p.copy_(0.5 + torch.rand(p.shape, generator=g))
        elif "num_batches_tracked" in name:
            p.fill_(7)
        elif name.endswith("bn1.weight") or ".bn" in name or name.endswith("downsample.1.weight"):
            p.copy_(0.6 + 0.4 * torch.rand(p.shape, generator=g))
        else:
            fan = p.shape[1:].numel() if p.dim() > 1 else 4
            p.copy_(torch.randn(p.shape, generator=g) / max(1.0, fan ** 0.5) * (1.5 if p.dim() > 1 else 0.3))


def gen(fam, d, overrides, seed, pt, dtype):
    cfg = family_config(fam)
    cfg.update(overrides)
    model = build(cfg)
    randomize(model, seed)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    if fam == "m3d_clip":        # the text side is in the same file; the encoder skips it
        sd["language_encoder.embeddings.word_embeddings.weight"] = torch.randn(11, cfg["hidden_size"])
    if fam == "merlin_i3d":
        sd["encode_text.linear_layer.weight"] = torch.randn(4, 6)
        sd["logit_scale"] = torch.ones([])
    if pt:
        torch.save(sd, pt)
    tens = {k: v.numpy().astype(np.float32) for k, v in sd.items()
            if not k.endswith("num_batches_tracked")}
    save_checkpoint(d, cfg, tens, dtype)


def load(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    model = build(cfg)
    sd = {k: v.float() for k, v in read_checkpoint(d).items()}
    want = model.state_dict()
    sd = {k: v for k, v in sd.items() if k in want}
    for k in want:
        if k.endswith("num_batches_tracked"):
            sd[k] = want[k]
    model.load_state_dict(sd, strict=True)
    return cfg, model.eval()


def reference(cfg, model, kind, vol, dtype=torch.float32):
    """vol: the record's [D,H,W] or [C,D,H,W] array; the model is in dtype."""
    t = cfg["model_type"]
    x = torch.from_numpy(vol.astype(np.float64)).to(dtype)
    if x.dim() == 3:
        x = x[None]
    if t == "merlin_i3d":
        # records are [z, y, x]; MONAI's loader gives Merlin [X, Y, Z]
        f, p, c = model.encode_image.i3_resnet(x.permute(0, 3, 2, 1)[None])
        if kind in ("projected", "default"):
            return c[0]
        if kind == "pooled":
            return p.flatten()
        return f[0].flatten(1).T          # (z, x, y) locations
    vit = model.vision_encoder if t == "m3d_clip" else model
    y = vit(x[None])[0]
    has_cls = t == "m3d_clip" or cfg.get("classification", False)
    if kind == "default":
        kind = "projected" if t == "m3d_clip" else "pooled" if has_cls else "mean"
    if kind == "projected":
        return F.normalize(model.mm_vision_proj(y), dim=-1)[0]
    if kind == "pooled":
        return y[0]
    toks = y[1:] if has_cls else y
    return toks.mean(0) if kind == "mean" else toks


def compare_arrays(ref, got, max_rel, min_cos, what):
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.shape != got.shape:
        return "%s: shape %s, expected %s" % (what, got.shape, ref.shape)
    rel = np.abs(ref - got).max() / max(np.abs(ref).max(), 1e-30)
    cos = float((ref * got).sum() / max(np.linalg.norm(ref) * np.linalg.norm(got), 1e-30))
    if not np.isfinite(got).all() or rel > max_rel or cos < min_cos:
        return "%s: max rel %.3g (<= %g), cosine %.9f (>= %g)" % (what, rel, max_rel, cos, min_cos)
    return None


def check(d, kind, vols, outs, l2):
    cfg, model = load(d)
    bad = []
    for v, o in zip(vols, outs):
        r = reference(cfg, model, kind, np.load(v))
        if l2:
            r = F.normalize(r, dim=-1)
        e = compare_arrays(r.numpy(), np.load(o), 1e-5, 0.99999, os.path.basename(o))
        if e:
            bad.append(e)
    if len(vols) != len(outs):
        bad.append("%d inputs, %d outputs" % (len(vols), len(outs)))
    if bad:
        raise SystemExit("; ".join(bad))


def row_cos(a, b):
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-300)


class MaxPoolUpcast(nn.Module):
    """A max pool of bf16 values through float32 (torch 1.13 has no bf16
    max_pool3d on CPU); the maximum of bf16 values is one of them, so this is
    exactly what a bf16 max pool gives."""
    def __init__(self, pool):
        super().__init__()
        self.pool = pool

    def forward(self, x):
        return self.pool(x.float()).to(x.dtype)


def bf16check(d, kind, min_cos, vols, outs):
    """A --precision bf16 run against the float64 forward (every embedding's or
    token's cosine at least min_cos) and against PyTorch's own bf16 forward
    (model and input cast to bfloat16), which also rounds activations, batch
    norm and the residual sums to bf16: the program's worst row distance from
    float64 (1 - cosine) at most twice PyTorch bf16's. Twice, not once: the two
    round different things (here batch norm is folded in fp32 before the
    weights are rounded), so on a handful of rows either may come out ahead;
    a wrong layer moves rows by orders of magnitude more."""
    cfg, model = load(d)
    m64 = copy.deepcopy(model).double()
    m16 = copy.deepcopy(model).to(torch.bfloat16)
    if cfg["model_type"] == "merlin_i3d":
        net = m16.encode_image.i3_resnet
        net.maxpool = MaxPoolUpcast(net.maxpool)
    bad = []
    if len(vols) != len(outs):
        bad.append("%d inputs, %d outputs" % (len(vols), len(outs)))
    for v, o in zip(vols, outs):
        vol = np.load(v)
        with torch.no_grad():
            ref = reference(cfg, m64, kind, vol, torch.float64).numpy()
            tb = reference(cfg, m16, kind, vol, torch.bfloat16).double().numpy()
        got = np.load(o).astype(np.float64)
        if got.shape != ref.shape:
            bad.append("%s: shape %s, expected %s" % (o, got.shape, ref.shape))
            continue
        scale = np.abs(ref).max()
        err, terr = np.abs(got - ref).max() / scale, np.abs(tb - ref).max() / scale
        cos, tcos = row_cos(got, ref).min(), row_cos(tb, ref).min()
        line = "%s vs float64: max_rel_err %.3g min_row_cos %.6f; torch bf16: max_rel_err %.3g " \
               "min_row_cos %.6f" % (os.path.basename(o), err, cos, terr, tcos)
        print(line)
        if not (np.isfinite(got).all() and cos >= min_cos and 1 - cos <= 2 * (1 - tcos)):
            bad.append(line)
    if bad:
        raise SystemExit("; ".join(bad))


def slices(imgs, out, pool, l2):
    a = np.stack([np.load(i).astype(np.float64) for i in imgs])
    if pool == "mean":
        r = a.mean(0)
    elif pool == "max":
        r = a.max(0)
    else:
        r = a.reshape(-1, a.shape[-1]) if a.ndim == 3 else a
    if l2:
        r = r / np.linalg.norm(r, axis=-1, keepdims=True)
    e = compare_arrays(r, np.load(out), 1e-6, 0.999999, "slice pooling")
    if e:
        raise SystemExit(e)


def phantom(path, nx=40, ny=36, nz=12):
    """Air around an elliptic body (soft tissue), two lungs and a bone ring,
    int16 HU, 2 x 2 x 4 mm voxels."""
    import nibabel as nib
    x, y, z = np.meshgrid(np.linspace(-1, 1, nx), np.linspace(-1, 1, ny), np.linspace(-1, 1, nz),
                          indexing="ij")
    r = (x / 0.8) ** 2 + (y / 0.6) ** 2
    v = np.full((nx, ny, nz), -1000.0)
    v[r < 1] = 40 + 30 * z[r < 1]
    v[(r > 0.8) & (r < 1)] = 700
    for cx in (-0.35, 0.35):
        v[((x - cx) / 0.25) ** 2 + (y / 0.35) ** 2 + (z / 1.2) ** 2 < 1] = -800
    img = nib.Nifti1Image(v.astype(np.int16), np.diag([2.0, 2.0, 4.0, 1.0]))
    img.header.set_qform(img.affine, code=1)
    img.header.set_sform(img.affine, code=1)
    nib.save(img, path)


def main(a):
    cmd = a[0]
    if cmd == "gen":
        fam, d = a[1], a[2]
        ov, seed, pt, dtype, i = {}, 1, None, "F32", 3
        while i < len(a):
            if a[i] == "--set":
                k, v = a[i + 1].split("=", 1)
                ov[k] = json.loads(v)
            elif a[i] == "--seed":
                seed = int(a[i + 1])
            elif a[i] == "--pt":
                pt = a[i + 1]
            elif a[i] == "--dtype":
                dtype = a[i + 1]
            i += 2
        gen(fam, d, ov, seed, pt, dtype)
    elif cmd == "volumes":
        pre, n, shape = a[1], int(a[2]), [int(s) for s in a[3].split("x")]
        seed = int(a[5]) if len(a) > 5 else 5
        rng = np.random.default_rng(seed)
        for i in range(n):
            np.save("%s%d.npy" % (pre, i), rng.uniform(0, 1, shape).astype(np.float32))
    elif cmd == "check":
        k = a.index("--")
        l2 = "--l2" in a
        rest = [x for x in a[k + 1:] if x != "--l2"]
        check(a[1], a[2], a[3:k], rest, l2)
    elif cmd == "bf16check":
        k = a.index("--")
        bf16check(a[1], a[2], float(a[3]), a[4:k], a[k + 1:])
    elif cmd == "slices":
        k = a.index("--")
        pool = a[a.index("--pool") + 1] if "--pool" in a else "mean"
        slices(a[1:k], a[k + 1], pool, "--l2" in a)
    elif cmd == "compare":
        e = compare_arrays(np.load(a[1]), np.load(a[2]), float(a[3]), float(a[4]), "outputs")
        if e:
            raise SystemExit(e)
    elif cmd == "phantom":
        phantom(a[1], *[int(x) for x in a[2:5]])
    elif cmd == "convert-check":
        got = read_checkpoint(a[1])
        sd = torch.load(a[2], map_location="cpu")
        sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
        for k, v in got.items():
            if k not in sd or tuple(sd[k].shape) != tuple(np.shape(v)) or \
                    not torch.equal(sd[k].float(), v.float()):
                raise SystemExit("tensor %s differs from the state dict" % k)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])

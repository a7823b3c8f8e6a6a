#!/usr/bin/python3
"""The PyTorch peer for bench/encode2d.sh: ViT-B/16 (12 pre-LN layers, width 768,
MLP 3072, exact GELU, CLS token) at 224 px with random weights, in fp32 or with
the model and input cast to bfloat16 (model.to(torch.bfloat16); autocast fails
in nn.MultiheadAttention's fast path in torch 1.13).
Prints the median wall seconds and the median CPU seconds (all threads) of RUNS
forward passes of a batch of BATCH images.

  encode2d_peer.py THREADS BATCH RUNS [f32|bf16]
"""
import sys
import time

import torch
import torch.nn as nn


class ViT(nn.Module):
    def __init__(self, d=768, layers=12, heads=12, ffn=3072, patch=16, size=224):
        super().__init__()
        n = (size // patch) ** 2
        self.patch = nn.Conv2d(3, d, patch, stride=patch)
        self.cls = nn.Parameter(torch.randn(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, n + 1, d))
        layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout=0.0, activation="gelu",
                                           layer_norm_eps=1e-12, batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        return self.norm(self.enc(x))[:, 0]


def main():
    threads, batch, runs = map(int, sys.argv[1:4])
    dtype = torch.bfloat16 if len(sys.argv) > 4 and sys.argv[4] == "bf16" else torch.float32
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = ViT().eval().to(dtype)
    x = (torch.rand(batch, 3, 224, 224) * 2 - 1).to(dtype)
    wall, cpu = [], []
    with torch.inference_mode():
        m(x)
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            m(x)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    wall.sort()
    cpu.sort()
    print("%.4f %.4f" % (wall[len(wall) // 2], cpu[len(cpu) // 2]))


if __name__ == "__main__":
    main()

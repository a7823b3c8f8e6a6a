#!/usr/bin/python3
"""The PyTorch peer for bench/encode3d.sh: the same architectures in PyTorch
(tests/encode3d/ref3d.py, written from MONAI's ViT and Merlin's I3ResNet: plain
attention as MONAI's SABlock computes it by default, cuDNN-free Conv3d and
eval-mode BatchNorm as Merlin runs) built from a checkpoint's config.json with
random weights, fp32. Prints the median wall seconds and the median CPU
seconds (all threads) of RUNS forward passes of one volume.

  encode3d_peer.py DIR THREADS RUNS
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "encode3d"))
import ref3d  # noqa: E402
import torch  # noqa: E402


def main():
    d, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    torch.manual_seed(0)
    model = ref3d.build(cfg).eval()
    if cfg["model_type"] == "merlin_i3d":
        net = model.encode_image.i3_resnet
        x = torch.rand(1, 1, 224, 224, 160)             # MONAI's [B, 1, X, Y, Z]
        run = lambda: net(x)[2]
    else:
        vit = model.vision_encoder if cfg["model_type"] == "m3d_clip" else model
        x = torch.rand(1, cfg.get("in_channels", 1), *cfg["img_size"])
        run = lambda: vit(x)[:, 0]
    wall, cpu = [], []
    with torch.inference_mode():
        for _ in range(runs):
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    med = lambda a: sorted(a)[len(a) // 2]
    print("%.4f %.4f" % (med(wall), med(cpu)))


if __name__ == "__main__":
    main()

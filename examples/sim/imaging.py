#!/usr/bin/python3
"""Labelled imaging data for the demonstration, in the formats clinics export.

  xray   chest X-ray-like radiographs (lungs, heart, ribs, noise); half of them
         with an enlarged heart (cardiothoracic ratio > 0.5: "cardiomegaly").
         16-bit TIFF (MONOCHROME2) and 8-bit PNG, alternately.
  ct     CT phantoms in Hounsfield units (body, lungs, spine), half of them
         with a lung nodule; NIfTI-1 .nii.gz written with different storage
         orientations (LPS, RAS, permuted axes, an oblique sform) and int16 with
         scl_slope, as scanners' converters write them.
  slide  one pyramidal whole-slide TIFF (deflate tiles, SubIFD levels, mpp in the
         resolution tags): pink stroma with regions of dense purple nuclei
         ("tumour"); labels per 128-px tile of level 0.

Usage: imaging.py KIND OUTDIR [--n N] [--seed S]
Writes the images and OUTDIR/labels.tsv (id, label, split); split alternates so
that both classes are in both halves.
"""
import argparse
import os
import numpy as np


def split_of(i):
    return "test" if i % 5 in (1, 3) else "train"          # 40 % test


def xray(out, n, rng):
    import tifffile
    from PIL import Image
    h, w = 320, 288
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    rows = []
    for i in range(n):
        y = i % 2
        ctr = rng.uniform(0.52, 0.62) if y else rng.uniform(0.36, 0.46)
        cx, cy = w * rng.uniform(0.47, 0.53), h * rng.uniform(0.58, 0.64)
        thorax = w * rng.uniform(0.78, 0.86)
        img = np.full((h, w), 0.85)
        for side in (-1, 1):                      # lungs: dark ellipses
            lx = cx + side * thorax * 0.24
            img -= 0.55 * (((xx - lx) / (thorax * 0.2)) ** 2 + ((yy - h * 0.5) / (h * 0.33)) ** 2 < 1)
        for k in range(7):                        # ribs: bright arcs
            ry = h * (0.22 + 0.09 * k)
            img += 0.08 * (np.abs(yy - ry - 0.0015 * (xx - cx) ** 2) < 3)
        heart = ((xx - cx) / (thorax * ctr / 2)) ** 2 + ((yy - cy) / (h * 0.16)) ** 2 < 1
        img = np.where(heart, 0.8, img)
        img += rng.normal(0, 0.03, img.shape)
        img = np.clip(img, 0, 1)
        name = "cxr%03d" % i
        if i % 2 == 0:
            tifffile.imwrite(os.path.join(out, name + ".tif"), (img * 65535).astype(np.uint16),
                             photometric="minisblack")
        else:
            Image.fromarray((img * 255).astype(np.uint8)).save(os.path.join(out, name + ".png"))
        rows.append((name, y))
    return rows


def ct(out, n, rng):
    import nibabel as nib
    d, hh, ww = 24, 48, 48                      # z, y, x voxels in RAS order
    z, y, x = np.meshgrid(np.linspace(-1, 1, d), np.linspace(-1, 1, hh), np.linspace(-1, 1, ww), indexing="ij")
    rows = []
    for i in range(n):
        lab = i % 2
        v = np.full(x.shape, -1000.0)
        v[(x / 0.85) ** 2 + (y / 0.65) ** 2 < 1] = 40            # body
        for cxl in (-0.38, 0.38):
            v[((x - cxl) / 0.3) ** 2 + (y / 0.45) ** 2 < 1] = -860  # lungs
        v[x ** 2 + (y + 0.5) ** 2 < 0.012] = 700                   # spine
        if lab:
            cxl = 0.38 * (1 if rng.random() < 0.5 else -1)
            c = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.2, 0.2), cxl + rng.uniform(-0.1, 0.1)])
            r = rng.uniform(0.12, 0.2)
            v[((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) < r * r] = 30
        v += rng.normal(0, 15, v.shape)
        ras = v.transpose(2, 1, 0)                                 # [x, y, z] as nibabel stores
        sp = (0.9, 0.9, 2.0)
        kind = i % 4
        if kind == 0:        # RAS
            data, aff = ras, np.diag([sp[0], sp[1], sp[2], 1.0])
        elif kind == 1:      # LPS: x and y stored flipped
            data = ras[::-1, ::-1, :]
            aff = np.diag([-sp[0], -sp[1], sp[2], 1.0])
            aff[0, 3], aff[1, 3] = sp[0] * (ras.shape[0] - 1), sp[1] * (ras.shape[1] - 1)
        elif kind == 2:      # axes permuted: stored as [y, x, z]
            data = ras.transpose(1, 0, 2)
            aff = np.zeros((4, 4)); aff[0, 1] = sp[0]; aff[1, 0] = sp[1]; aff[2, 2] = sp[2]; aff[3, 3] = 1
        else:                # slightly oblique sform
            data = ras
            t = np.deg2rad(4.0)
            rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
            aff = np.eye(4); aff[:3, :3] = rot @ np.diag(sp)
        img = nib.Nifti1Image(np.round(data).astype(np.int16), aff)
        img.header.set_slope_inter(1.0, 0.0)
        img.set_qform(aff, code=1); img.set_sform(aff, code=1)
        name = "ct%03d" % i
        nib.save(img, os.path.join(out, name + ".nii.gz"))
        rows.append((name, lab))
    return rows


def slide(out, n, rng):
    import tifffile
    size, tile = 1536, 128
    yy, xx = np.mgrid[0:size, 0:size]
    tumour = np.zeros((size, size), bool)
    for _ in range(5):
        cy, cx, r = rng.uniform(200, size - 200), rng.uniform(200, size - 200), rng.uniform(120, 260)
        tumour |= (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    tissue = ((yy - size / 2) / (size * 0.47)) ** 2 + ((xx - size / 2) / (size * 0.47)) ** 2 < 1
    img = np.zeros((size, size, 3))
    img[:] = (242, 242, 242)                                # glass
    stroma = np.array([225, 160, 190])
    img[tissue] = stroma + rng.normal(0, 8, (tissue.sum(), 3))
    # nuclei: small dark purple discs, dense in tumour, sparse elsewhere
    for dense, count in ((True, 9000), (False, 1500)):
        ys, xs = rng.integers(0, size, count), rng.integers(0, size, count)
        keep = (tumour[ys, xs] if dense else ~tumour[ys, xs]) & tissue[ys, xs]
        for y0, x0 in zip(ys[keep], xs[keep]):
            r = rng.integers(3, 7)
            sl = (slice(max(0, y0 - r), y0 + r), slice(max(0, x0 - r), x0 + r))
            img[sl] = (95, 55, 140)
    img = np.clip(img, 0, 255).astype(np.uint8)
    path = os.path.join(out, "slide.tif")
    mpp = 0.5
    with tifffile.TiffWriter(path) as tw:
        opts = dict(tile=(256, 256), photometric="rgb", compression="zlib",
                    resolution=(1e4 / mpp, 1e4 / mpp), resolutionunit="CENTIMETER")
        tw.write(img, subifds=2, **opts)
        for k in (2, 4):
            small = img.reshape(size // k, k, size // k, k, 3).mean((1, 3)).astype(np.uint8)
            tw.write(small, subfiletype=1, **dict(opts, resolution=(1e4 / (mpp * k), 1e4 / (mpp * k))))
    rows = []
    for y0 in range(0, size - tile + 1, tile):
        for x0 in range(0, size - tile + 1, tile):
            frac = tumour[y0:y0 + tile, x0:x0 + tile].mean()
            rows.append(("slide_%d_%d" % (x0, y0), int(frac > 0.5)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=("xray", "ct", "slide"))
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    rows = {"xray": xray, "ct": ct, "slide": slide}[a.kind](a.out, a.n, rng)
    label = {"xray": "cardiomegaly", "ct": "nodule", "slide": "tumour"}[a.kind]
    with open(os.path.join(a.out, "labels.tsv"), "w") as f:
        f.write("id\t%s\tsplit\n" % label)
        for i, (name, y) in enumerate(rows):
            # slide tiles: split by tile row blocks so that neighbours stay together
            sp = split_of(i // 12) if a.kind == "slide" else split_of(i // 2)
            f.write("%s\t%d\t%s\n" % (name, y, sp))


if __name__ == "__main__":
    main()

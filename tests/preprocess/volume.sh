#!/usr/bin/env bash
# 3D path: resampling against scipy.ndimage.map_coordinates (MONAI Spacing grid)
# and torch.nn.functional.interpolate (resize, CT-CLIP grid), HU windows,
# foreground crop, centre crop/pad, slice sampling, and a CT phantom through
# every volume preset.
source "$(dirname "$0")/../lib.sh"
for m in nibabel numpy scipy torch; do
    have_py $m || { skip "volume" "python3 module $m missing"; exit 0; }
done
export T
PYTHONPATH="$(dirname "$0")" "$PY" - <<'EOF'
import os
import numpy as np
import nibabel as nib
import torch
import torch.nn.functional as F
from scipy import ndimage
from pp import prep, run, case, T

torch.set_num_threads(1)
rng = np.random.default_rng(11)

def save(name, data, zooms, R=np.eye(3), origin=(0, 0, 0), dtype=None):
    a = np.eye(4); a[:3, :3] = R @ np.diag(zooms); a[:3, 3] = origin
    hdr = nib.Nifti1Header()
    if dtype is not None:
        hdr.set_data_dtype(dtype)
    img = nib.Nifti1Image(data, a, hdr)
    p = os.path.join(T, name); nib.save(img, p)
    return p, a

def xyz(got):
    return got.transpose(2, 1, 0)

def aff_of(m):
    return np.array([float(v) for v in m["affine"].split(",")]).reshape(4, 4)

# smooth-ish data of unit scale so that 1e-4 is a meaningful tolerance
shape = (23, 19, 13)
data = ndimage.gaussian_filter(rng.normal(size=shape), 1.0).astype(np.float32) * 3
zooms = (0.7, 0.8, 1.25)
p, a = save("vol.nii", data, zooms, origin=(3, -4, 5))

def spacing_monai(target, extra=()):
    def f():
        (m, got), = prep(p, ["--spacing", ",".join(map(str, target))] + list(extra))
        n_out = [int(np.round((n - 1) * s / t)) + 1 for n, s, t in zip(shape, zooms, target)]
        coords = np.meshgrid(*[np.arange(k) * t / s for k, s, t in zip(n_out, zooms, target)], indexing="ij")
        ref = ndimage.map_coordinates(data.astype(np.float64), coords, order=1, mode="nearest")
        g = xyz(got)
        if g.shape != ref.shape:
            return False, "shape %s vs %s" % (g.shape, ref.shape)
        d = np.abs(g - ref).max()
        want_aff = a.copy(); want_aff[:3, :3] = a[:3, :3] @ np.diag(np.array(target) / zooms)
        da = np.abs(aff_of(m) - want_aff).max()
        sp = [float(v) for v in m["spacing"].split(",")]
        return d < 1e-4 and da < 1e-9 and np.allclose(sp, target), "max diff %g affine %g" % (d, da)
    return f
case("spacing_monai_grid_downsample_vs_scipy_map_coordinates", spacing_monai((1.5, 1.5, 1.5)))
case("spacing_monai_grid_upsample_vs_scipy_map_coordinates", spacing_monai((0.5, 0.37, 0.9)))
case("spacing_threaded_same_result", lambda: (
    np.array_equal(prep(p, ["--spacing", "1.5,1.5,1.5", "-@", "3"])[0][1],
                   prep(p, ["--spacing", "1.5,1.5,1.5"])[0][1]), "threads change the output"))

def labels():
    lab = rng.integers(0, 5, size=shape).astype(np.uint8)
    pl, _ = save("lab.nii", lab, zooms, dtype=np.uint8)
    target = (1.0, 1.07, 1.7)          # no voxel lands on a .5 tie
    (m, got), = prep(pl, ["--spacing", "1.0,1.07,1.7", "--labels"])
    n_out = [int(np.round((n - 1) * s / t)) + 1 for n, s, t in zip(shape, zooms, target)]
    coords = np.meshgrid(*[np.arange(k) * t / s for k, s, t in zip(n_out, zooms, target)], indexing="ij")
    ref = ndimage.map_coordinates(lab, coords, order=0, mode="nearest")
    return np.array_equal(xyz(got), ref), "labels differ"
case("labels_nearest_vs_scipy_order0", labels)

def torch_resize(size, mode):
    def f():
        (m, got), = prep(p, ["--resize", ",".join(map(str, size))] + (["--labels"] if mode == "nearest" else []))
        t = torch.from_numpy(np.ascontiguousarray(data.transpose(2, 1, 0)))[None, None]
        kw = {"align_corners": False} if mode == "trilinear" else {}
        ref = F.interpolate(t, size=tuple(size[::-1]), mode=mode, **kw)[0, 0].numpy()
        if got.shape != ref.shape:
            return False, "shape %s vs %s" % (got.shape, ref.shape)
        d = np.abs(got - ref).max()
        return d < 1e-4, "max diff %g" % d
    return f
case("resize_down_vs_torch_interpolate_trilinear", torch_resize((11, 7, 5), "trilinear"))
case("resize_up_vs_torch_interpolate_trilinear", torch_resize((40, 31, 29), "trilinear"))
case("resize_labels_vs_torch_interpolate_nearest", torch_resize((17, 25, 8), "nearest"))

def scale_grid():
    target = (1.1, 1.3, 2.0)
    (m, got), = prep(p, ["--spacing", "1.1,1.3,2", "--spacing-grid", "scale"])
    size = [int(n * s / t) for n, s, t in zip(shape, zooms, target)]
    t = torch.from_numpy(np.ascontiguousarray(data.transpose(2, 1, 0))).double()[None, None]
    ref = F.interpolate(t, size=tuple(size[::-1]), mode="trilinear", align_corners=False)[0, 0].numpy()
    d = np.abs(got - ref).max() if got.shape == ref.shape else 1
    return d < 1e-4, "max diff %g shape %s" % (d, got.shape)
case("spacing_scale_grid_vs_torch_interpolate_as_ct_clip", scale_grid)

hu = rng.uniform(-1200, 1500, size=shape).astype(np.float32)
ph, _ = save("hu.nii", hu, zooms)

def window(arg, lo, hi, rng_args=(), olo=0, ohi=1):
    def f():
        (m, got), = prep(ph, ["--window", arg] + list(rng_args))
        ref = (np.clip(hu, lo, hi) - lo) / (hi - lo) * (ohi - olo) + olo
        d = np.abs(xyz(got) - ref).max()
        return d < 1e-5 and m["window"] == "%g,%g" % ((lo + hi) / 2, hi - lo), "diff %g window %s" % (d, m.get("window"))
    return f
case("window_lung_clip_and_scale", window("lung", -1350, 150))
case("window_level_width_to_minus1_1", window("40,400", -160, 240, ("--range", "-1,1"), -1, 1))

def crop_fg():
    v = np.zeros(shape, np.float32); v[3:9, 5:12, 2:7] = rng.uniform(0.1, 1, size=(6, 7, 5))
    pf, af = save("fg.nii", v, zooms)
    (m, got), = prep(pf, ["--crop-foreground"])
    ok = np.array_equal(xyz(got), v[3:9, 5:12, 2:7])
    want = af.copy(); want[:3, 3] = af[:3, :3] @ [3, 5, 2] + af[:3, 3]
    return ok and np.abs(aff_of(m) - want).max() < 1e-5, "crop box or affine wrong"
case("crop_foreground_bounding_box_and_affine", crop_fg)

def crop_pad():
    (m, got), = prep(p, ["--crop-pad", "10,25,13", "--pad-value", "-7"])
    g = xyz(got)
    # x: crop 23 -> 10 from 23//2 - 10//2 = 6; y: pad 19 -> 25, 3 before
    ref = np.full((10, 25, 13), -7, np.float32); ref[:, 3:22, :] = data[6:16, :, :]
    return np.array_equal(g, ref), "crop/pad layout differs"
case("centre_crop_and_symmetric_pad_as_monai", crop_pad)

def slices():
    (m0, _), = prep(ph, [])
    recs = prep(ph, ["--slices", "4", "--slice-windows", "0,2048;40,350;40,80"])
    idx = [int(m["slice"]) for m, g in recs]
    want = list(np.round(np.linspace(0, shape[2] - 1, 4)).astype(int))
    m, g = recs[1]
    z = idx[1]
    wins = [(-1024, 1024), (-135, 215), (0, 80)]
    ref = np.stack([np.round((np.clip(hu[:, :, z].T, lo, hi) - lo) / (hi - lo) * 255) for lo, hi in wins])
    return idx == want and g.shape == (3, shape[1], shape[0]) and np.abs(g * 255 - ref).max() < 1e-3, \
        "idx %s want %s" % (idx, want)
case("slices_evenly_spaced_three_window_rgb", slices)

# CT phantom in HU through every volume preset
def phantom():
    n = (64, 56, 30)
    z, y, x = np.meshgrid(np.arange(n[2]), np.arange(n[1]), np.arange(n[0]), indexing="ij")
    x, y, z = (x - n[0] / 2) / (n[0] / 2), (y - n[1] / 2) / (n[1] / 2), (z - n[2] / 2) / (n[2] / 2)
    v = np.full(x.shape, -1000.0)
    body = x ** 2 / 0.8 + y ** 2 / 0.6 < 1
    v[body] = 40
    for cx in (-0.35, 0.35):
        v[((x - cx) ** 2 / 0.06 + y ** 2 / 0.15 < 1)] = -850
    v[(x ** 2 + (y + 0.5) ** 2) < 0.01] = 700
    v[((x - 0.35) ** 2 + y ** 2 + z ** 2) < 0.01] = 60
    v += rng.normal(0, 10, size=v.shape)
    return save("phantom.nii.gz", v.transpose(2, 1, 0).astype(np.int16), (0.8, 0.8, 2.5),
                R=np.diag([-1, -1, 1]), dtype=np.int16)[0]
pp_ = phantom()

def preset(name, want_shape, lo, hi, n_rec=1):
    def f():
        recs = prep(pp_, ["--preset", name])
        m, g = recs[0]
        ok = len(recs) == n_rec and g.shape == want_shape and g.min() >= lo - 1e-6 and g.max() <= hi + 1e-6
        return ok and np.isfinite(g).all() and g.max() > g.min(), \
            "%d records, shape %s range %g..%g" % (len(recs), g.shape, g.min(), g.max())
    return f
case("phantom_preset_ct_clip", preset("ct-clip", (240, 480, 480), -1, 1))
case("phantom_preset_m3d", preset("m3d", (32, 256, 256), 0, 1))
case("phantom_preset_merlin", preset("merlin", (160, 224, 224), 0, 1))
case("phantom_preset_medgemma_ct", preset("medgemma-ct", (3, 896, 896), -1, 1, n_rec=30))

def merlin_reference():
    img = nib.as_closest_canonical(nib.load(pp_))
    v = img.get_fdata()
    zo = img.header.get_zooms()
    target = (1.5, 1.5, 3.0)
    n_out = [int(np.round((n - 1) * s / t)) + 1 for n, s, t in zip(v.shape, zo, target)]
    coords = np.meshgrid(*[np.arange(k) * t / s for k, s, t in zip(n_out, zo, target)], indexing="ij")
    r = ndimage.map_coordinates(v, coords, order=1, mode="nearest")
    r = (np.clip(r, -1000, 1000) + 1000) / 2000
    out = np.zeros((224, 224, 160))
    src, dst = [], []
    for n, w in zip(r.shape, (224, 224, 160)):
        if w >= n:
            b = (w - n) // 2; src.append(slice(0, n)); dst.append(slice(b, b + n))
        else:
            s0 = n // 2 - w // 2; src.append(slice(s0, s0 + w)); dst.append(slice(0, w))
    out[tuple(dst)] = r[tuple(src)]
    (m, got), = prep(pp_, ["--preset", "merlin"])
    d = np.abs(xyz(got) - out).max()
    return d < 1e-4, "max diff %g" % d
case("phantom_merlin_matches_nibabel_scipy_pipeline", merlin_reference)
EOF

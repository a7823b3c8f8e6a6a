#!/usr/bin/env bash
# 2D path: Pillow-identical resizing, padding, normalisation, presets, --model,
# and the PNG/JPEG/TIFF readers, each checked against Pillow / tifffile.
source "$(dirname "$0")/../lib.sh"
for m in PIL numpy tifffile; do
    have_py $m || { skip "image2d" "python3 module $m missing"; exit 0; }
done
export T
PYTHONPATH="$(dirname "$0")" "$PY" - <<'EOF'
import json, os
import numpy as np
import tifffile
from PIL import Image
from pp import prep, case, run, records, T

rng = np.random.default_rng(7)
F = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS,
     "box": Image.BOX, "hamming": Image.HAMMING, "nearest": Image.NEAREST}

def save(name, arr, mode=None, **kw):
    p = os.path.join(T, name)
    Image.fromarray(arr, mode).save(p, **kw)
    return p

def chw(a):
    a = np.asarray(a)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)

grey = rng.integers(0, 256, (61, 83), dtype=np.uint8)
rgb = rng.integers(0, 256, (50, 37, 3), dtype=np.uint8)
pg, pr = save("grey.png", grey), save("rgb.png", rgb)

# 8-bit resizing: identical bytes to Pillow's Image.resize for every filter
def resize_u8():
    bad = []
    for path, arr in ((pg, grey), (pr, rgb)):
        for f in F:
            for (w, h) in ((17, 29), (200, 131), (83, 40), (448, 448)):
                (m, got), = prep(path, ["--size", "%dx%d" % (w, h), "-r", f, "--rescale", "1"])
                ref = chw(Image.fromarray(arr).resize((w, h), F[f])).astype(np.float32)
                if got.shape != ref.shape or not np.array_equal(got, ref):
                    bad.append("%s %s %dx%d" % (os.path.basename(path), f, w, h))
    return not bad, ", ".join(bad[:5])
case("resize_8bit_identical_to_pillow_all_filters", resize_u8)

# 16-bit: divided by 65535, resized in Pillow's float mode
g16 = rng.integers(0, 65536, (70, 45), dtype=np.uint16)
p16 = save("g16.png", g16)
def resize_16():
    worst = 0
    for f in ("bilinear", "bicubic"):
        (m, got), = prep(p16, ["--size", "33x91", "-r", f])
        ref = np.asarray(Image.fromarray((g16 / 65535).astype(np.float32), "F").resize((33, 91), F[f]))
        worst = max(worst, float(np.abs(got[0] - ref).max()))
    return worst < 1e-5, "max diff %g" % worst
case("resize_16bit_float_within_1e-5_of_pillow", resize_16)

# 16-bit RGB and float images, and resizes along one axis only (Pillow skips
# the other pass): Pillow's float mode per channel, within 1e-5; the 16-bit
# file is zlib-compressed in strips of 5 rows (the last one partial)
def resize_16_rgb_float_one_axis():
    bad = []
    rgb16 = rng.integers(0, 65536, (53, 38, 3), dtype=np.uint16)
    p = os.path.join(T, "rgb16s.tif")
    tifffile.imwrite(p, rgb16, photometric="rgb", rowsperstrip=5, compression="zlib")
    f32 = (rng.random((47, 66)) * 4 - 1).astype(np.float32)
    pf = os.path.join(T, "f32r.tif"); tifffile.imwrite(pf, f32)
    for path, arr, div in ((p, rgb16, 65535), (pf, f32, 1), (p16, g16, 65535)):
        h, w = arr.shape[:2]
        for f in ("bicubic", "bilinear", "lanczos"):
            for (ow, oh) in ((19, 23), (w, 17), (25, h), (2 * w + 1, h + 7)):
                (m, got), = prep(path, ["--size", "%dx%d" % (ow, oh), "-r", f, "--rescale", "1"])
                a = (arr / div).astype(np.float32)
                chans = [a] if a.ndim == 2 else [a[:, :, k] for k in range(a.shape[2])]
                ref = np.stack([np.asarray(Image.fromarray(ch, "F").resize((ow, oh), F[f])) for ch in chans])
                d = float(np.abs(got - ref).max()) if got.shape == ref.shape else 1.0
                if d > 1e-5:
                    bad.append("%s %s %dx%d diff %g" % (os.path.basename(path), f, ow, oh, d))
    return not bad, ", ".join(bad[:4])
case("resize_16bit_rgb_float_and_one_axis_within_1e-5_of_pillow", resize_16_rgb_float_one_axis)

# -@ N splits output rows across threads: the bytes do not depend on N, and
# 8-bit results stay identical to Pillow with several threads
def threads_identical():
    bad = []
    big = rng.integers(0, 256, (301, 257, 3), dtype=np.uint8)
    pb = save("big_rgb.png", big)
    g16b = rng.integers(0, 65536, (233, 311), dtype=np.uint16)
    pb16 = os.path.join(T, "big16.tif"); tifffile.imwrite(pb16, g16b)
    for path in (pb, pb16):
        for f in ("bicubic", "lanczos", "bilinear"):
            for size in ("97x61", "448x448", "257x100"):
                outs = []
                for n in ("1", "2", "3", "7"):
                    o = os.path.join(T, "thr%s.mgt" % n)
                    run(["-@", n, "--size", size, "-r", f, "--rescale", "1", "-o", o, path])
                    outs.append(records(o)[0][1])
                if not all(x.tobytes() == outs[0].tobytes() for x in outs[1:]):
                    bad.append("%s %s %s" % (os.path.basename(path), f, size))
                if path == pb:
                    w, h = map(int, size.split("x"))
                    ref = chw(Image.fromarray(big).resize((w, h), F[f])).astype(np.float32)
                    if not np.array_equal(outs[2], ref):
                        bad.append("8-bit -@ 3 differs from Pillow: %s %s" % (f, size))
    return not bad, ", ".join(bad[:4])
case("threads_give_identical_output_and_pillow_bytes", threads_identical)

# pages of uncompressed strips (>= 256 KiB) are mapped rather than read:
# samples as tifffile reads them, in one strip or several, 16-bit big-endian
# (read, not mapped), 8-bit RGB, and resized as Pillow does
def mapped_pages():
    bad = []
    g = rng.integers(0, 65536, (300, 520), dtype=np.uint16)
    c8 = rng.integers(0, 256, (310, 300, 3), dtype=np.uint8)
    cases = []
    p = os.path.join(T, "m1.tif"); tifffile.imwrite(p, g); cases.append((p, g, 65535))
    p = os.path.join(T, "m2.tif"); tifffile.imwrite(p, g, rowsperstrip=37); cases.append((p, g, 65535))
    p = os.path.join(T, "m3.tif"); tifffile.imwrite(p, g, byteorder=">"); cases.append((p, g, 65535))
    p = os.path.join(T, "m4.tif"); tifffile.imwrite(p, c8, photometric="rgb"); cases.append((p, c8, 1))
    for path, arr, div in cases:
        (m, got), = prep(path, ["--rescale", "1"])
        if got.shape != chw(arr).shape or np.abs(got - chw(arr) / div).max() > 1e-6:
            bad.append(os.path.basename(path))
    (m, got), = prep(cases[1][0], ["--size", "97x131"])
    ref = np.asarray(Image.fromarray((g / 65535).astype(np.float32), "F").resize((97, 131), Image.BICUBIC))
    if np.abs(got[0] - ref).max() > 1e-5:
        bad.append("resize")
    (m, got), = prep(cases[3][0], ["--size", "97x131", "--rescale", "1"])
    if not np.array_equal(got, chw(Image.fromarray(c8).resize((97, 131), Image.BICUBIC)).astype(np.float32)):
        bad.append("8-bit resize")
    # truncated data behind an intact header: an error, not a crash
    t = os.path.join(T, "mtrunc.tif")
    open(t, "wb").write(open(cases[0][0], "rb").read()[:200000])
    r = run(["-o", os.path.join(T, "mtrunc.mgt"), t], check=False)
    if r.returncode != 1 or len(r.stderr.splitlines()) != 1 or os.path.exists(os.path.join(T, "mtrunc.mgt")):
        bad.append("truncated: exit %d %r" % (r.returncode, r.stderr))
    return not bad, ", ".join(bad)
case("uncompressed_pages_mapped_read_as_tifffile_and_resized_as_pillow", mapped_pages)

def pad_square():
    (m, got), = prep(pr, ["--pad-square", "--rescale", "1"])
    s = max(rgb.shape[:2]); ref = np.zeros((s, s, 3), np.uint8)
    y0, x0 = (s - rgb.shape[0]) // 2, (s - rgb.shape[1]) // 2
    ref[y0:y0 + rgb.shape[0], x0:x0 + rgb.shape[1]] = rgb
    return np.array_equal(got, chw(ref).astype(np.float32)), "padded image differs"
case("pad_square_centred_zero_padding", pad_square)

def ref_pipeline(arr, size, filt, mean, std, pad=True):
    im = Image.fromarray(arr).convert("RGB")
    if pad:
        s = max(im.size); c = Image.new("RGB", (s, s)); c.paste(im, ((s - im.size[0]) // 2, (s - im.size[1]) // 2)); im = c
    im = im.resize((size, size), filt)
    x = np.asarray(im).astype(np.float32) / 255.0
    return ((x - np.float32(mean)) / np.float32(std)).transpose(2, 0, 1)

def preset(name, size, filt):
    def f():
        (m, got), = prep(pg, ["--preset", name])
        ref = ref_pipeline(grey, size, filt, 0.5, 0.5)
        d = float(np.abs(got - ref).max())
        return got.shape == ref.shape and d < 1e-6 and m.get("original_shape") == "1,61,83", "diff %g meta %s" % (d, m)
    return f
case("preset_medsiglip_448_matches_pillow_pipeline", preset("medsiglip-448", 448, Image.BICUBIC))
case("preset_medgemma_896_matches_pillow_pipeline", preset("medgemma-896", 896, Image.BILINEAR))

def rad_dino():
    (m, got), = prep(pr, ["--preset", "rad-dino"])
    im = Image.fromarray(rgb)
    w, h = im.size
    nw, nh = (518, int(518 * h / w)) if w <= h else (int(518 * w / h), 518)
    im = im.resize((nw, nh), Image.BICUBIC)
    l, t = (nw - 518) // 2, (nh - 518) // 2
    x = np.asarray(im)[t:t + 518, l:l + 518].astype(np.float32) / 255
    ref = ((x - 0.5307) / 0.2583).transpose(2, 0, 1)
    d = float(np.abs(got - ref).max()) if got.shape == ref.shape else 1
    return d < 1e-5, "diff %g shape %s" % (d, got.shape)
case("preset_rad_dino_shortest_edge_and_centre_crop", rad_dino)

def model_dir():
    d = os.path.join(T, "ckpt"); os.makedirs(d, exist_ok=True)
    json.dump({"image_processor_type": "SiglipImageProcessor", "do_resize": True,
               "size": {"height": 64, "width": 48}, "resample": 2, "do_rescale": True,
               "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.1, 0.2, 0.3],
               "image_std": [0.5, 0.6, 0.7], "do_convert_rgb": True},
              open(os.path.join(d, "preprocessor_config.json"), "w"))
    (m, got), = prep(pr, ["--model", d])
    x = np.asarray(Image.fromarray(rgb).resize((48, 64), Image.BILINEAR)).astype(np.float32) / 255
    ref = ((x - np.float32([0.1, 0.2, 0.3])) / np.float32([0.5, 0.6, 0.7])).transpose(2, 0, 1)
    dd = float(np.abs(got - ref).max()) if got.shape == ref.shape else 1
    return dd < 1e-5, "diff %g" % dd
case("model_dir_preprocessor_config", model_dir)

def explicit_overrides_preset():
    (m, got), = prep(pg, ["--size", "32", "--preset", "medsiglip-448"])
    return got.shape == (3, 32, 32), str(got.shape)
case("explicit_option_overrides_preset", explicit_overrides_preset)

# readers
def jpeg():
    p = save("x.jpg", rgb, quality=90)
    (m, got), = prep(p, ["--rescale", "1"])
    ref = chw(Image.open(p).convert("RGB")).astype(np.float32)
    return np.array_equal(got, ref), "decoded pixels differ from Pillow"
case("jpeg_decodes_as_pillow", jpeg)

def png_palette_alpha():
    p = os.path.join(T, "pal.png")
    Image.fromarray(rgb[:, :, 0] // 16).convert("P").save(p)
    pa = save("rgba.png", np.dstack([rgb, rgb[:, :, :1]]))
    (m1, g1), = prep(p, ["--rescale", "1"]); (m2, g2), = prep(pa, ["--rescale", "1"])
    r1 = chw(Image.open(p).convert("RGB")).astype(np.float32)
    r2 = chw(Image.open(pa).convert("RGB")).astype(np.float32)
    return np.array_equal(g1, r1) and np.array_equal(g2, r2), "palette or RGBA differs"
case("png_palette_and_alpha_as_pillow_convert", png_palette_alpha)

def tiffs():
    bad = []
    g8 = rng.integers(0, 256, (45, 70), dtype=np.uint8)
    c16 = rng.integers(0, 65536, (40, 52), dtype=np.uint16)
    rgba = rng.integers(0, 256, (33, 47, 4), dtype=np.uint8)
    cases = []
    p = os.path.join(T, "s8.tif"); tifffile.imwrite(p, g8, rowsperstrip=7); cases.append((p, g8, 1))
    p = os.path.join(T, "t16.tif"); tifffile.imwrite(p, c16, tile=(16, 32), compression="zlib"); cases.append((p, c16, 65535))
    p = os.path.join(T, "rgb.tif"); tifffile.imwrite(p, rgb, photometric="rgb", compression="zlib"); cases.append((p, rgb, 1))
    p = os.path.join(T, "rgba.tif"); tifffile.imwrite(p, rgba, photometric="rgb", extrasamples=[2]); cases.append((p, rgba[:, :, :3], 1))
    p = os.path.join(T, "mw.tif"); tifffile.imwrite(p, g8, photometric="miniswhite"); cases.append((p, 255 - g8, 1))
    p = os.path.join(T, "lzw.tif"); Image.fromarray(rgb).save(p, compression="tiff_lzw"); cases.append((p, rgb, 1))
    p = os.path.join(T, "jpg.tif"); Image.fromarray(rgb).save(p, compression="jpeg")
    cases.append((p, np.asarray(Image.open(p).convert("RGB")), 1))
    rgb16 = rng.integers(0, 65536, (21, 34, 3), dtype=np.uint16)
    p = os.path.join(T, "rgb16.tif"); tifffile.imwrite(p, rgb16, photometric="rgb", tile=(16, 16)); cases.append((p, rgb16, 65535))
    f32 = rng.random((19, 23)).astype(np.float32)
    p = os.path.join(T, "f32.tif"); tifffile.imwrite(p, f32); cases.append((p, f32, 1))
    p = os.path.join(T, "pal.tif"); Image.fromarray(rgb[:, :, 0] // 32).convert("P").save(p)
    cases.append((p, np.asarray(Image.open(p).convert("RGB")), 1))
    p = os.path.join(T, "bilevel.tif"); Image.fromarray(g8 > 128).save(p)
    cases.append((p, np.asarray(Image.open(p).convert("RGB")), 1))
    for path, ref, div in cases:
        args = ["--rescale", "1"]
        (m, got), = prep(path, args)
        r = chw(ref).astype(np.float64) / div
        if got.shape != r.shape or np.abs(got - r).max() > 1e-6:
            bad.append(os.path.basename(path))
    return not bad, "differ: " + ", ".join(bad)
case("tiff_strips_tiles_16bit_rgb_rgba_miniswhite_lzw_jpeg_float_palette_bilevel", tiffs)

def multipage():
    pages = rng.integers(0, 256, (3, 20, 30), dtype=np.uint8)
    p = os.path.join(T, "multi.tif")
    with tifffile.TiffWriter(p) as tw:
        for pg in pages:
            tw.write(pg, photometric="minisblack")
    recs = prep(p, ["--rescale", "1"])
    ok = len(recs) == 3 and all(np.array_equal(g[0], pages[i]) and m.get("page") == str(i)
                                for i, (m, g) in enumerate(recs))
    (m, g), = prep(p, ["--rescale", "1", "--page", "2"])
    return ok and np.array_equal(g[0], pages[2]), "pages differ"
case("tiff_multipage_one_record_per_page", multipage)

def sniff_not_extension():
    p = os.path.join(T, "actually_png.jpg")
    Image.fromarray(grey).save(p, format="PNG")
    (m, g), = prep(p, ["--rescale", "1"])
    return np.array_equal(g[0], grey) and m["id"] == "actually_png", "sniffing failed"
case("format_sniffed_from_magic_bytes_not_extension", sniff_not_extension)
# a 16-bit X-ray-like image (lungs, ribs, spine, noise) through every 2D preset
def xray():
    h, w = 300, 260
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    v = 52000 - 30000 * ((((x - 0.3) ** 2 / 0.02 + (y - 0.5) ** 2 / 0.1) < 1) | (((x - 0.7) ** 2 / 0.02 + (y - 0.5) ** 2 / 0.1) < 1))
    v = v + 6000 * (np.sin(y * 60) > 0.8) + 8000 * (np.abs(x - 0.5) < 0.04)
    v = np.clip(v + rng.normal(0, 500, v.shape), 0, 65535).astype(np.uint16)
    p = os.path.join(T, "xray16.tif"); tifffile.imwrite(p, v)
    return p, v
xp, xv = xray()
def xray_presets():
    bad = []
    want = {"medsiglip-448": (3, 448, 448), "medgemma-896": (3, 896, 896), "rad-dino": (3, 518, 518)}
    for name, shp in want.items():
        (m, g), = prep(xp, ["--preset", name])
        if g.shape != shp or not np.isfinite(g).all():
            bad.append("%s %s" % (name, g.shape))
    # MedSigLIP on 16-bit: x/65535, zero pad to square, float bicubic resize, (x-0.5)/0.5
    (m, g), = prep(xp, ["--preset", "medsiglip-448"])
    f = (xv / 65535).astype(np.float32); s = max(f.shape)
    sq = np.zeros((s, s), np.float32); y0, x0 = (s - f.shape[0]) // 2, (s - f.shape[1]) // 2
    sq[y0:y0 + f.shape[0], x0:x0 + f.shape[1]] = f
    ref = (np.asarray(Image.fromarray(sq, "F").resize((448, 448), Image.BICUBIC)) - 0.5) / 0.5
    d = float(np.abs(g - ref[None]).max())
    return not bad and d < 1e-5, "bad %s diff %g" % (bad, d)
case("xray_16bit_through_every_2d_preset", xray_presets)
EOF

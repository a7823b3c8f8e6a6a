#!/usr/bin/env bash
# Whole-slide tiling: pyramids written by libtiff (tests/preprocess/mkslide.c)
# with REDUCEDIMAGE pages and with SubIFDs, JPEG and Deflate tiles. Tiles must
# equal the same regions read by tifffile (Deflate) or the raw JPEG tile
# decoded by Pillow (tifffile needs imagecodecs for JPEG), with level-0 x/y,
# level and mpp in the metadata, and background tiles skipped.
source "$(dirname "$0")/../lib.sh"
for m in tifffile PIL numpy; do
    have_py $m || { skip "slide" "python3 module $m missing"; exit 0; }
done
cc -O2 -o "$T/mkslide" "$TOP/tests/preprocess/mkslide.c" $(pkg-config --cflags --libs libtiff-4) -lm \
    || { fail "slide_helper_builds" "cc failed"; exit 0; }
for lay in reduced subifd; do
    for comp in jpeg deflate; do
        "$T/mkslide" "$T/$lay-$comp.tif" $lay $comp 1800 1400 256 0.25 || fail "mkslide_$lay_$comp"
    done
done
export T
PYTHONPATH="$(dirname "$0")" "$PY" - <<'EOF'
import io, os
import numpy as np
import tifffile
from PIL import Image
from pp import prep, case, T

def levels(path):
    t = tifffile.TiffFile(path)
    pages = [t.pages[0]]
    if t.pages[0].subifds:
        pages += [lv.pages[0] for lv in t.series[0].levels[1:]]
    else:
        pages += [p for p in t.pages[1:] if p.subfiletype & 1]
    return t, pages

def jpeg_tile(t, page, tx, ty):
    """Decode one JPEG tile of page with Pillow (tables + tile data)."""
    tw = page.tilewidth
    across = (page.imagewidth + tw - 1) // tw
    i = (ty // page.tilelength) * across + tx // tw
    fh = t.filehandle
    fh.seek(page.dataoffsets[i]); data = fh.read(page.databytecounts[i])
    tables = page.jpegtables
    stream = tables[:-2] + data[2:] if tables else data
    return np.asarray(Image.open(io.BytesIO(stream)).convert("RGB"))

def tiles_match(lay, comp, tile, stride, mpp, want_level):
    def f():
        path = os.path.join(T, "%s-%s.tif" % (lay, comp))
        t, pages = levels(path)
        recs = prep(path, ["--slide", "--tile", tile, "--stride", stride, "--mpp", mpp,
                           "--tissue", "none", "--rescale", "1"])
        page = pages[want_level]
        h, w = page.shape[:2]
        arr = page.asarray() if comp == "deflate" else None
        ds = pages[0].shape[1] / w
        n_want = ((w - tile) // stride + 1) * ((h - tile) // stride + 1)
        if len(recs) != n_want:
            return False, "%d tiles, want %d" % (len(recs), n_want)
        for m, g in recs:
            x0, y0 = int(m["x"]), int(m["y"])
            lx, ly = round(x0 / ds), round(y0 / ds)
            if m["level"] != str(want_level) or abs(float(m["mpp"]) - 0.25 * ds) > 1e-6:
                return False, "metadata %s" % m
            if arr is not None:
                ref = arr[ly:ly + tile, lx:lx + tile]
            else:   # one TIFF tile holds the whole output tile in these cases
                tt = page.tilewidth
                ref = jpeg_tile(t, page, lx, ly)[ly % tt:ly % tt + tile, lx % tt:lx % tt + tile]
            got = g.transpose(1, 2, 0)
            if got.shape != ref.shape or not np.array_equal(got, ref.astype(np.float32)):
                return False, "tile at %d,%d differs (max %g)" % (x0, y0, np.abs(got - ref).max() if got.shape == ref.shape else -1)
        return True, ""
    return f

for lay in ("reduced", "subifd"):
    case("tiles_equal_tifffile_regions_%s_deflate_level1" % lay, tiles_match(lay, "deflate", 200, 150, "0.5", 1))
    case("tiles_equal_tifffile_regions_%s_deflate_level0" % lay, tiles_match(lay, "deflate", 256, 300, "0.2", 0))
    case("tiles_equal_pillow_decoded_jpeg_tiles_%s_level1" % lay, tiles_match(lay, "jpeg", 256, 256, "0.6", 1))
    case("tiles_equal_pillow_decoded_jpeg_tiles_%s_level2" % lay, tiles_match(lay, "jpeg", 128, 128, "1.1", 2))

def background_skipped(method):
    def f():
        path = os.path.join(T, "reduced-deflate.tif")
        allt = prep(path, ["--slide", "--tile", "100", "--mpp", "0.5", "--tissue", "none", "--rescale", "1"])
        kept = prep(path, ["--slide", "--tile", "100", "--mpp", "0.5", "--tissue", method, "--rescale", "1"])
        pos = {(m["x"], m["y"]) for m, g in kept}
        # a corner tile is pure background; the centre of the first blob is tissue
        ok = 0 < len(kept) < len(allt) and ("0", "0") not in pos and ("400", "400") in pos
        # kept tiles are saturated (stained), skipped ones are not
        sat = lambda g: ((g.max(0) - g.min(0)) / np.maximum(g.max(0), 1) * 255 > 8).mean()
        skipped = [g for m, g in allt if (m["x"], m["y"]) not in pos]
        ok = ok and min(sat(g) for m, g in kept) > max(sat(g) for g in skipped) - 0.3
        return ok, "kept %d of %d" % (len(kept), len(allt))
    return f
case("background_tiles_skipped_saturation", background_skipped("saturation"))
case("background_tiles_skipped_otsu", background_skipped("otsu"))

def tile_preset():
    path = os.path.join(T, "subifd-jpeg.tif")
    recs = prep(path, ["--slide", "--tile", "256", "--mpp", "0.5", "--preset", "medsiglip-448"])
    return len(recs) > 0 and all(g.shape == (3, 448, 448) for m, g in recs), "%d tiles" % len(recs)
case("slide_tiles_through_2d_preset", tile_preset)
def aperio_mpp():
    # no resolution tags, MPP in an Aperio ImageDescription
    p = os.path.join(T, "aperio.tif")
    img = np.full((512, 512, 3), 230, np.uint8)
    tifffile.imwrite(p, img, tile=(256, 256), photometric="rgb", compression="zlib", resolution=None,
                     description="Aperio Image Library v12.0.15\n512x512 [0,0 512x512] (256x256) |AppMag = 40|MPP = 0.2520|")
    recs = prep(p, ["--slide", "--tile", "256", "--tissue", "none"])
    return len(recs) == 4 and all(m["mpp"] == "0.252" and m["level"] == "0" for m, g in recs), \
        "%d tiles, meta %s" % (len(recs), recs[0][0] if recs else None)
case("aperio_description_mpp", aperio_mpp)
def tile_ids():
    path = os.path.join(T, "reduced-deflate.tif")
    shared = prep(path, ["--slide", "--tile", "200", "--mpp", "0.5", "--tissue", "none", "--id", "s1"])
    own = prep(path, ["--slide", "--tile", "200", "--mpp", "0.5", "--tissue", "none", "--id", "s1", "--tile-ids"])
    ids = [m["id"] for m, g in own]
    ok = len(own) == len(shared) > 1 and all(m["id"] == "s1" and "slide" not in m for m, g in shared)
    ok = ok and len(set(ids)) == len(ids) and all(
        m["id"] == "s1_%s_%s" % (m["x"], m["y"]) and m["slide"] == "s1" for m, g in own)
    return ok, "ids %s" % ids[:3]
case("tile_ids_give_each_tile_its_own_id", tile_ids)
EOF

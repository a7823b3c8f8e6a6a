#!/usr/bin/env bash
# mg-stream export, read back by independent readers: numpy, Pillow, nibabel.
source "$(dirname "$0")/../lib.sh"
export PYTHONPATH="$TOP/examples"

"$PY" - "$T" <<'PY'
import sys, mgt, numpy as np
t = sys.argv[1]
rng = np.random.default_rng(3)
rgb = rng.integers(0, 256, (3, 20, 30), dtype=np.uint8)
grey = rng.standard_normal((17, 23)).astype(np.float32)
vol = rng.standard_normal((5, 6, 7)).astype(np.float32)          # [D,H,W]
aff = "-0.7,0,0,120.5,0,0.8,0,-30,0,0,1.25,12,0,0,0,1"
mgt.write(open(f"{t}/s.mgt", "wb"), [
    ({"id": "rgb"}, {"image": rgb}),
    ({"id": "grey"}, {"image": grey}),
    ({"id": "ct", "spacing": "0.7,0.8,1.25", "affine": aff}, {"volume": vol}),
])
np.save(f"{t}/rgb.npy", rgb); np.save(f"{t}/grey.npy", grey); np.save(f"{t}/vol.npy", vol)
PY

mg-stream export --id rgb -o "$T/rgb.png" "$T/s.mgt" && "$PY" - "$T" <<'PY' && pass png_rgb_matches_pillow || fail png_rgb_matches_pillow
import sys, numpy as np
from PIL import Image
t = sys.argv[1]
im = np.asarray(Image.open(f"{t}/rgb.png"))
want = np.load(f"{t}/rgb.npy").transpose(1, 2, 0)
assert im.shape == want.shape and np.array_equal(im, want)
PY

mg-stream export --id grey -R -1,1 -o "$T/grey.png" "$T/s.mgt" && "$PY" - "$T" <<'PY' && pass png_float_window_matches_pillow || fail png_float_window_matches_pillow
import sys, numpy as np
from PIL import Image
t = sys.argv[1]
im = np.asarray(Image.open(f"{t}/grey.png")).astype(int)
g = np.load(f"{t}/grey.npy").astype(np.float64)
want = np.clip(np.rint((g + 1) / 2 * 255), 0, 255).astype(int)
assert im.shape == want.shape and np.abs(im - want).max() <= 1, np.abs(im - want).max()
PY

for ext in nii nii.gz; do
    mg-stream export --id ct -o "$T/ct.$ext" "$T/s.mgt" && "$PY" - "$T" "$ext" <<'PY' && pass "nifti_${ext/./_}_matches_nibabel" || fail "nifti_${ext/./_}_matches_nibabel"
import sys, numpy as np, nibabel as nib
t, ext = sys.argv[1], sys.argv[2]
img = nib.load(f"{t}/ct.{ext}")
vol = np.load(f"{t}/vol.npy")                     # [D,H,W] → NIfTI (x=W, y=H, z=D)
data = np.asarray(img.dataobj)
assert data.shape == (7, 6, 5), data.shape
assert np.array_equal(data, vol.transpose(2, 1, 0))
want = np.array([[-0.7, 0, 0, 120.5], [0, 0.8, 0, -30], [0, 0, 1.25, 12], [0, 0, 0, 1]])
assert np.allclose(img.affine, want, atol=1e-5), img.affine
assert np.allclose(img.header.get_zooms(), (0.7, 0.8, 1.25), atol=1e-6)
PY
done

mg-stream export -o "$T/e_{id}.npy" "$T/s.mgt" && "$PY" - "$T" <<'PY' && pass npy_pattern_exports_every_record || fail npy_pattern_exports_every_record
import sys, numpy as np
t = sys.argv[1]
assert np.array_equal(np.load(f"{t}/e_rgb.npy"), np.load(f"{t}/rgb.npy"))
assert np.array_equal(np.load(f"{t}/e_grey.npy"), np.load(f"{t}/grey.npy"))
assert np.array_equal(np.load(f"{t}/e_ct.npy"), np.load(f"{t}/vol.npy"))
PY

expect_error export_missing_tensor 1 "mg-stream: error: .*has no tensor 'nope'" mg-stream export -t nope -o "$T/x.npy" "$T/s.mgt"
[ ! -e "$T/x.npy" ] && pass export_failure_leaves_no_file || fail export_failure_leaves_no_file
expect_error export_needs_output 2 "export needs -o" mg-stream export "$T/s.mgt"
expect_error import_bad_npy 1 "mg-stream: error: .*s.mgt: not a .npy file" mg-stream import "$T/s.mgt" -o "$T/y.mgt"
[ ! -e "$T/y.mgt" ] && pass import_failure_leaves_no_file || fail import_failure_leaves_no_file
ls "$T"/*.tmp.* >/dev/null 2>&1 && fail exports_leave_no_temporary_files "$(ls "$T"/*.tmp.*)" || pass exports_leave_no_temporary_files
expect_error nifti_export_needs_volume 1 "mg-stream: error: .*grey.nii: NIfTI export needs" mg-stream export --id grey -o "$T/grey.nii" "$T/s.mgt"
[ ! -e "$T/grey.nii" ] && pass failed_nifti_export_leaves_no_file || fail failed_nifti_export_leaves_no_file

# demo: mg-preprocess turns a CT volume, a 16-bit X-ray and a slide into model inputs
set -euo pipefail
cd "$DEMO"
"$PY" - <<'PYEOF'
import numpy as np, nibabel as nib, tifffile
rng = np.random.default_rng(0)
# a small CT phantom in HU, stored left-posterior-superior with int16 + scl_slope
n = (96, 80, 40)
z, y, x = np.meshgrid(*[np.linspace(-1, 1, k) for k in n[::-1]], indexing="ij")
v = np.full(x.shape, -1000.0)
v[x ** 2 / 0.8 + y ** 2 / 0.6 < 1] = 40
for cx in (-0.35, 0.35):
    v[(x - cx) ** 2 / 0.06 + y ** 2 / 0.15 < 1] = -850
v[x ** 2 + (y + 0.5) ** 2 < 0.01] = 700
v += rng.normal(0, 10, v.shape)
img = nib.Nifti1Image(v.transpose(2, 1, 0).astype(np.float32), np.diag([-0.8, -0.8, 2.5, 1]))
nib.save(img, "phantom_ct.nii.gz")
# a 16-bit chest X-ray-like image
yy, xx = np.mgrid[0:400, 0:320] / np.array([400, 320])[:, None, None]
lungs = ((xx - 0.3) ** 2 / 0.02 + (yy - 0.5) ** 2 / 0.1 < 1) | ((xx - 0.7) ** 2 / 0.02 + (yy - 0.5) ** 2 / 0.1 < 1)
cxr = np.clip(52000 - 30000 * lungs + rng.normal(0, 500, lungs.shape), 0, 65535).astype(np.uint16)
tifffile.imwrite("cxr16.tif", cxr)
PYEOF
echo "-- CT phantom: header orientation LPS, reoriented to RAS, 1.5 mm, lung window"
mg-preprocess -v --ras --spacing 1.5,1.5,1.5 --window lung phantom_ct.nii.gz -o ct_lung.mgt
mg-stream info ct_lung.mgt | sed -n '3,20p'
echo "-- the same phantom for MedGemma (6 slices x 3 windows, 896 px) and Merlin"
mg-preprocess -z --preset medgemma-ct --slices 6 phantom_ct.nii.gz -o ct_medgemma.mgt
mg-preprocess -z --preset merlin phantom_ct.nii.gz -o ct_merlin.mgt
mg-stream info -n 1 ct_medgemma.mgt | tail -n 3
mg-stream info -n 0 ct_merlin.mgt | tail -n 2
echo "-- 16-bit X-ray for MedSigLIP"
mg-preprocess --preset medsiglip-448 cxr16.tif -o cxr_medsiglip.mgt
mg-stream info cxr_medsiglip.mgt | sed -n '3,9p'
mg-stream export -c 0 -o cxr_medsiglip.png cxr_medsiglip.mgt
echo "wrote $DEMO/cxr_medsiglip.png"
. "$EXAMPLES/demo_lib.sh"
mg-stream export -t image -r 1 -c 0 -o ct_medgemma_slice1.png ct_medgemma.mgt
section 50 "Preprocessing" \
    --text "mg-preprocess read a CT phantom stored LPS (NIfTI, scl_slope), reoriented it to RAS and resampled it to 1.5 mm, made MedGemma's three-window slices and Merlin's input from it, and turned a 16-bit X-ray into MedSigLIP's 448 px input, resized exactly as Pillow does." \
    --image "$DEMO/cxr_medsiglip.png" --label "16-bit X-ray after --preset medsiglip-448" \
    --image "$DEMO/ct_medgemma_slice1.png" --label "CT phantom, MedGemma slice 1, window 1"

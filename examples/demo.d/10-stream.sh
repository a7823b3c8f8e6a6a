# demo: the tensor stream: import arrays, inspect, slice, export for viewing
set -euo pipefail
"$PY" - "$DEMO" <<'PY'
import sys, numpy as np
d = sys.argv[1]
# A synthetic chest-X-ray-like image: bright mediastinum, two dark lung fields, ribs.
y, x = np.mgrid[0:256, 0:256] / 255.0
img = 0.75 - 0.45 * (np.exp(-((x - 0.3) / 0.13) ** 2 - ((y - 0.5) / 0.3) ** 2) +
                     np.exp(-((x - 0.7) / 0.13) ** 2 - ((y - 0.5) / 0.3) ** 2))
img += 0.12 * (np.sin(y * 60) > 0.85)
np.save(f"{d}/cxr.npy", np.clip(img, 0, 1).astype(np.float32)[None].repeat(3, 0))
np.save(f"{d}/noise.npy", np.random.default_rng(0).standard_normal((3, 64, 64)).astype(np.float32))
PY
mg-stream import -m modality=CXR "$DEMO/cxr.npy" "$DEMO/noise.npy" -o "$DEMO/images.mgt"
mg-stream info "$DEMO/images.mgt"
mg-stream head -n 1 "$DEMO/images.mgt" | mg-stream export -R 0,1 -o "$DEMO/cxr.png"
PYTHONPATH=examples "$PY" examples/mgt.py "$DEMO/images.mgt"
echo "wrote $DEMO/images.mgt and $DEMO/cxr.png"

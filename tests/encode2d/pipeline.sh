#!/usr/bin/env bash
# The README pipeline: a PNG through mg-preprocess's presets into mg-encode2d, with
# tiny checkpoints of the presets' input shapes; the encoder output is compared with
# the PyTorch reference run on the preprocessed image.
source "$(dirname "$0")/../lib.sh"
E="$PY $(dirname "$0")/../../examples/sim/encoders.py"
if ! have_py torch || ! have_py PIL; then skip pipeline "python3-torch or python3-pil missing"; exit 0; fi
command -v mg-preprocess >/dev/null || { skip pipeline "mg-preprocess not built"; exit 0; }
"$PY" - "$T/cxr.png" <<'PY'
import sys, numpy as np
from PIL import Image
g = np.random.default_rng(3)
Image.fromarray((g.random((300, 260)) * 255).astype(np.uint8)).save(sys.argv[1])
PY
$E gen siglip "$T/medsiglip" --set image_size=448 --set patch_size=14
$E gen dinov2 "$T/raddino" --set image_size=518 --set patch_size=14

# pipe PRESET DIR KIND TENSOR NAME
pipe() {
    if mg-preprocess --preset "$1" "$T/cxr.png" >"$T/pp.mgt" 2>"$T/err" &&
       mg-stream export -t image -o "$T/pp.npy" "$T/pp.mgt" 2>>"$T/err" &&
       mg-preprocess --preset "$1" "$T/cxr.png" 2>>"$T/err" | mg-encode2d -m "$2" -k "$3" 2>>"$T/err" |
           mg-stream export -t "$4" -o "$T/out.npy" - 2>>"$T/err"; then
        local r; r=$($E check "$2" "$3" "$T/pp.npy" -- "$T/out.npy" 2>&1)
        if [ $? = 0 ]; then pass "$5"; else fail "$5" "$r"; fi
    else
        fail "$5" "$(head -c 300 "$T/err")"
    fi
}
pipe medsiglip-448 "$T/medsiglip" pooled embedding medsiglip_preset_png_to_embedding
pipe rad-dino "$T/raddino" pooled embedding rad_dino_preset_png_to_cls
exit 0

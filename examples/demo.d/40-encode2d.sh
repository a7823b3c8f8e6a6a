# demo: mg-encode2d runs SigLIP, Gemma 3 and DINOv2 checkpoints and agrees with PyTorch
set -euo pipefail
E="$PY $(dirname "$0")/../sim/encoders.py"
D=$DEMO/encode2d
mkdir -p "$D"
# Tiny random checkpoints with the real tensor names and config keys.
$E gen siglip "$D/siglip"
$E gen gemma3 "$D/gemma3"
$E gen dinov2_with_registers "$D/dinov2"
$E images "$D/img_" 2 3 96 96
$E images "$D/small_" 2 3 32 32
mg-stream import -m modality=CR "$D/img_0.npy" "$D/img_1.npy" >"$D/images.mgt"
mg-stream import "$D/small_0.npy" "$D/small_1.npy" >"$D/small.mgt"

echo "-- a PNG through mg-preprocess --preset medsiglip-448 into a MedSigLIP-shaped SigLIP"
$E gen siglip "$D/medsiglip" --set image_size=448 --set patch_size=14
"$PY" -c "import numpy as np; from PIL import Image; Image.fromarray((np.random.default_rng(1).random((300, 260)) * 255).astype(np.uint8)).save('$D/cxr.png')"
mg-preprocess --preset medsiglip-448 "$D/cxr.png" | mg-encode2d -m "$D/medsiglip" --l2 >"$D/cxr_emb.mgt"
mg-stream info "$D/cxr_emb.mgt" | sed -n '/^record 1/,+2p'

echo "-- SigLIP with its attention-pooling head, L2-normalised embeddings"
mg-encode2d -m "$D/siglip" --l2 -o "$D/siglip.mgt" "$D/images.mgt"
mg-stream info "$D/siglip.mgt" | sed -n '/^record 1/,/^record 2/p' | head -3
mg-stream export -t embedding -o "$D/sig_{n}.npy" "$D/siglip.mgt"
echo -n "PyTorch reference: "
$E check "$D/siglip" pooled "$D/img_0.npy" "$D/img_1.npy" -- "$D/sig_1.npy" "$D/sig_2.npy" --l2

echo "-- Gemma 3 vision tower + projector: image tokens for the decoder"
mg-encode2d -m "$D/gemma3" -o "$D/gemma3.mgt" "$D/small.mgt"
mg-stream export -t tokens -o "$D/g3_{n}.npy" "$D/gemma3.mgt"
echo -n "PyTorch reference: "
$E check "$D/gemma3" projected "$D/small_0.npy" "$D/small_1.npy" -- "$D/g3_1.npy" "$D/g3_2.npy"

echo "-- DINOv2 with registers at another input size (position embeddings interpolated)"
mg-encode2d -m "$D/dinov2" -k tokens -o "$D/dino.mgt" "$D/images.mgt"
mg-stream export -t tokens -o "$D/dn_{n}.npy" "$D/dino.mgt"
echo -n "PyTorch reference: "
$E check "$D/dinov2" tokens "$D/img_0.npy" "$D/img_1.npy" -- "$D/dn_1.npy" "$D/dn_2.npy"

#!/usr/bin/env bash
# Bad input: truncated and corrupt NIfTI/TIFF/PNG/JPEG, absurd dimensions,
# NaN or zero spacing, unknown presets, options that do not fit the input.
# Each: one error line naming the file, exit 1 (2 for usage), no output file.
source "$(dirname "$0")/../lib.sh"
for m in nibabel numpy PIL tifffile; do
    have_py $m || { skip "bad_input" "python3 module $m missing"; exit 0; }
done
cd "$T"
"$PY" - <<'EOF'
import os, struct
import numpy as np, nibabel as nib, tifffile
from PIL import Image
rng = np.random.default_rng(5)
a = np.diag([1.0, 1.0, 2.0, 1.0])
nib.save(nib.Nifti1Image(rng.normal(size=(20, 20, 10)).astype(np.float32), a), "good.nii")
nib.save(nib.Nifti1Image(rng.normal(size=(20, 20, 10)).astype(np.float32), a), "good.nii.gz")
b = open("good.nii", "rb").read()
open("trunc.nii", "wb").write(b[:len(b) // 2])
open("trunc_header.nii", "wb").write(b[:200])
g = open("good.nii.gz", "rb").read()
open("trunc.nii.gz", "wb").write(g[:len(g) // 2])
# gzip damage that the deflate stream does not show: a wrong CRC-32 or ISIZE
# in the trailer, and a changed voxel in a stored (level 0) block
# (large enough that the damage lies beyond what format sniffing reads)
import gzip
nib.save(nib.Nifti1Image(rng.normal(size=(64, 64, 16)).astype(np.float32), a), "big.nii.gz")
G = open("big.nii.gz", "rb").read()
for name, off in (("badcrc.nii.gz", -8), ("badisize.nii.gz", -4)):
    x = bytearray(G); x[len(x) + off] ^= 0x5a; open(name, "wb").write(bytes(x))
x = bytearray(gzip.compress(open("big.nii.gz", "rb").read() and gzip.decompress(G), compresslevel=0))
x[len(x) // 2] ^= 0x01
open("flipped_stored.nii.gz", "wb").write(bytes(x))
# a header claiming 4096^3 voxels with no data behind it
h = bytearray(b[:352]); struct.pack_into("<8h", h, 40, 3, 4096, 4096, 4096, 1, 1, 1, 1)
open("huge.nii", "wb").write(bytes(h))
# zero and NaN voxel sizes
# (pixdim at byte 80; qform_code, sform_code at 252, 254; srow_y at 296)
for name, vals, codes in (("zero_sp.nii", (0.0, 1.0, 1.0), (0, 0)), ("nan_sp.nii", (float("nan"), 1.0, 1.0), (0, 0)),
                          ("zero_sp_qform.nii", (1.0, 0.0, 1.0), (1, 0))):
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), name)
    x = bytearray(open(name, "rb").read()); struct.pack_into("<3f", x, 80, *vals)
    struct.pack_into("<2h", x, 252, *codes)
    open(name, "wb").write(bytes(x))
nib.save(nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4)), "zero_col.nii")
x = bytearray(open("zero_col.nii", "rb").read()); struct.pack_into("<4f", x, 296, 0, 0, 0, 0)
struct.pack_into("<2h", x, 252, 0, 2); open("zero_col.nii", "wb").write(bytes(x))
# zero-size dimension
x = bytearray(b); struct.pack_into("<h", x, 44, 0); open("zero_dim.nii", "wb").write(bytes(x))
x = bytearray(b); struct.pack_into("<h", x, 40, 9); open("bad_dim0.nii", "wb").write(bytes(x))
n2 = os.path.join(".", "n2.nii")
nib.save(nib.Nifti2Image(np.zeros((3, 4, 2), np.float32), a), n2)
x = bytearray(open(n2, "rb").read()); struct.pack_into("<q", x, 16, 16132); open("bad_dim0_n2.nii", "wb").write(bytes(x))
open("trunc_header_n2.nii", "wb").write(bytes(x[:400]))
# NIfTI-2 dims 4x4x4x2^32x2^32: their int64 product overflows
y = bytearray(open(n2, "rb").read()); struct.pack_into("<8q", y, 16, 5, 4, 4, 4, 1 << 32, 1 << 32, 1, 1)
open("huge_dims_n2.nii", "wb").write(bytes(y))
# TIFF
tifffile.imwrite("good.tif", rng.integers(0, 255, (64, 64), dtype=np.uint8), compression="zlib", tile=(32, 32))
t = open("good.tif", "rb").read()
open("trunc.tif", "wb").write(t[:len(t) // 2])
c = bytearray(t); c[16:200] = bytes(184); open("corrupt.tif", "wb").write(bytes(c))
tifffile.imwrite("bigtile.tif", np.zeros((16, 16), np.uint8))
x = bytearray(open("bigtile.tif", "rb").read())
# patch ImageWidth/ImageLength to 200000 in the first IFD
off = struct.unpack_from("<I", x, 4)[0]; n = struct.unpack_from("<H", x, off)[0]
for i in range(n):
    tag, typ, cnt = struct.unpack_from("<HHI", x, off + 2 + 12 * i)
    if tag in (256, 257):
        if typ == 3: struct.pack_into("<H", x, off + 2 + 12 * i + 8, 60000)
        else: struct.pack_into("<I", x, off + 2 + 12 * i + 8, 200000)
open("absurd.tif", "wb").write(bytes(x))
# PNG / JPEG
Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save("good.png")
p = open("good.png", "rb").read()
open("trunc.png", "wb").write(p[:len(p) // 2])
c = bytearray(p); c[60] ^= 0xff; open("corrupt.png", "wb").write(bytes(c))
x = bytearray(p); struct.pack_into(">II", x, 16, 1000000, 1000000)
import zlib; struct.pack_into(">I", x, 29, zlib.crc32(bytes(x[12:29])))
open("absurd.png", "wb").write(bytes(x))
Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save("good.jpg", quality=90)
j = open("good.jpg", "rb").read()
open("trunc.jpg", "wb").write(j[:len(j) // 2])
open("garbage.bin", "wb").write(b"hello, this is not an image at all" * 20)
open("empty.nii", "wb").write(b"")
EOF

# bad FILE: exit 1, one line naming the file, and no output file left
bad() {
    local name=$1 pat=$2; shift 2
    rm -f "$T/o.mgt"
    expect_error "$name" 1 "^mg-preprocess: error: [^:]+: .*($pat)" mg-preprocess -o "$T/o.mgt" "$@"
    [ -e "$T/o.mgt" ] && fail "${name}_no_output" "output file left behind"
}
bad truncated_nifti              "truncated|cannot read" trunc.nii
bad truncated_nifti_header       "header|unrecognised"    trunc_header.nii
bad truncated_nifti_gz           "truncated|corrupt|cannot read|gzip" trunc.nii.gz
bad nifti_gz_wrong_crc           "corrupt gzip stream \\(incorrect data check" badcrc.nii.gz
bad nifti_gz_wrong_isize         "corrupt gzip stream \\(incorrect length check" badisize.nii.gz
bad nifti_gz_flipped_stored_byte "corrupt gzip stream \\(incorrect data check" flipped_stored.nii.gz
bad nifti_claiming_2pow36_voxels "too large"            huge.nii
bad nifti_zero_pixdim            "spacing"              zero_sp.nii
bad nifti_nan_pixdim             "non-finite|spacing"   nan_sp.nii
bad nifti_zero_pixdim_qform      "spacing"              zero_sp_qform.nii
bad nifti_zero_affine_column     "spacing"              zero_col.nii
bad nifti_zero_dimension         "dimension|header"     zero_dim.nii
bad truncated_nifti2_header      "truncated"            trunc_header_n2.nii
bad nifti1_bad_dim0              "dimensions"           bad_dim0.nii
bad nifti2_bad_dim0_no_crash     "dimensions|header"    bad_dim0_n2.nii
bad nifti2_dims_product_overflow "volume too large \\(4x4x4x4294967296x4294967296 voxels" huge_dims_n2.nii
bad truncated_tiff               "TIFF"                 trunc.tif
bad corrupt_tiff                 "TIFF"                 corrupt.tif
bad tiff_absurd_dimensions       "too large|TIFF"       absurd.tif
bad truncated_png                "PNG"                  trunc.png
bad corrupt_png                  "PNG"                  corrupt.png
bad png_absurd_dimensions        "PNG|too large"        absurd.png
bad truncated_jpeg               "JPEG"                 trunc.jpg
bad unknown_format               "unrecognised"         garbage.bin
bad empty_file                   "empty"                empty.nii
bad missing_file                 "No such file"         nonexistent.png
bad spacing_option_on_png        "--spacing applies to volumes" --spacing 1,1,1 good.png
bad size_option_on_volume        "--size applies to 2D" --size 64 good.nii
bad slide_option_on_volume       "--tile applies to slides" --tile 64 good.nii
bad volume_preset_on_png         "preset ct-clip is a volume preset" --preset ct-clip good.png
bad image_preset_on_volume       "preset medsiglip-448 is a 2D preset" --preset medsiglip-448 good.nii
mkdir -p ckpt && echo '{"size": {"height": 32, "width": 32}, "resample": 2}' >ckpt/preprocessor_config.json
bad model_dir_on_volume          "--model ckpt is a 2D preset" --model ckpt good.nii
mkdir -p badckpt && echo '{"size": {"height": 32,' >badckpt/preprocessor_config.json
expect_error model_dir_corrupt_json 1 '^mg-preprocess: error: badckpt: .*preprocessor_config.json' \
    mg-preprocess -o "$T/o.mgt" --model badckpt good.png
expect_error model_dir_missing_config 1 '^mg-preprocess: error: nockpt: ' mg-preprocess -o "$T/o.mgt" --model nockpt good.png
# preprocessor_config.json values that cannot describe a preprocessing
badcfg() {
    local name=$1 pat=$2 cfg=$3
    mkdir -p "cfg_$name" && printf '%s\n' "$cfg" >"cfg_$name/preprocessor_config.json"
    rm -f "$T/o.mgt"
    expect_error "$name" 1 "^mg-preprocess: error: cfg_$name: preprocessor_config.json: $pat" \
        mg-preprocess -o "$T/o.mgt" --model "cfg_$name" good.png
    [ -e "$T/o.mgt" ] && fail "${name}_no_output" "output file left behind"
}
badcfg hf_size_0x0          'size 0x0 out of range' '{"size": {"height": 0, "width": 0}}'
badcfg hf_size_int_0        'size 0x0 out of range' '{"size": 0}'
badcfg hf_shortest_edge_0   'size .* out of range' '{"size": {"shortest_edge": 0}}'
badcfg hf_crop_0x0          'size 0x0 out of range' '{"size": {"height": 32, "width": 32}, "do_center_crop": true, "crop_size": {"height": 0, "width": 0}}'
badcfg hf_mean_non_numeric  'image_mean holds a non-number' '{"size": {"height": 32, "width": 32}, "image_mean": ["a", 1, 2], "image_std": [1, 1, 1]}'
badcfg hf_mean_7_values     'image_mean must be a number or a list of 1 or 3' '{"size": {"height": 32, "width": 32}, "image_mean": [1, 2, 3, 4, 5, 6, 7], "image_std": [1, 1, 1]}'
badcfg hf_mean_7_no_std     'image_mean must be a number or a list of 1 or 3' '{"size": {"height": 32, "width": 32}, "image_mean": [1, 2, 3, 4, 5, 6, 7]}'
badcfg hf_mean_string_unused 'image_mean must be' '{"size": {"height": 32, "width": 32}, "image_mean": "x", "image_std": [1, 1, 1], "do_normalize": false}'
badcfg hf_mean_without_std  'image_mean without image_std' '{"size": {"height": 32, "width": 32}, "image_mean": [0.5, 0.5, 0.5]}'
badcfg hf_std_zero          'image_std must be non-zero' '{"size": {"height": 32, "width": 32}, "image_mean": [0.5, 0.5, 0.5], "image_std": [1, 0, 1]}'
bad slide_on_untiled_tiff        "tiled" --slide bigtile.tif
bad second_file_bad_no_output    "truncated|cannot read" good.nii trunc.nii

# write errors belong to the output
expect_error write_error_names_output 1 '^mg-preprocess: error: /dev/full: write failed' \
    mg-preprocess --preset medsiglip-448 -o /dev/full good.png

# usage errors: exit 2, the message first, no output file
usage() {
    local name=$1 pat=$2; shift 2
    rm -f "$T/o.mgt"
    mg-preprocess -o "$T/o.mgt" "$@" >"$T/u.out" 2>"$T/u.err"; local st=$?
    if [ $st != 2 ]; then fail "$name" "exit $st, want 2"
    elif ! head -n1 "$T/u.err" | grep -qE -- "^mg-preprocess: .*$pat"; then fail "$name" "stderr: $(head -c 200 "$T/u.err")"
    elif [ -e "$T/o.mgt" ] || [ -s "$T/u.out" ]; then fail "$name" "output written"
    else pass "$name"; fi
}
usage unknown_preset          "unknown preset 'nope'" --preset nope good.png
usage nan_target_spacing      "invalid value 'nan,1,1'" --spacing nan,1,1 good.nii
usage zero_target_spacing     "invalid value '0,1,1'" --spacing 0,1,1 good.nii
usage bad_window              "invalid value 'sideways'" --window sideways good.nii
usage negative_window_width   "invalid value '40,-5'" --window 40,-5 good.nii
usage unknown_filter          "invalid value 'fancy'" -r fancy good.png
usage no_input                "no input files"
usage id_with_two_files       "exactly one" --id x good.png good.jpg
exit 0

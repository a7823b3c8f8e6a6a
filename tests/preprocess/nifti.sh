#!/usr/bin/env bash
# NIfTI reading and reorientation checked against nibabel: the affine nibabel
# chooses (sform, qform, fallback), scl_slope/inter, data layout, NIfTI-2,
# .nii.gz, 4D, and RAS reorientation (as_closest_canonical) for flipped,
# permuted and oblique affines.
source "$(dirname "$0")/../lib.sh"
for m in nibabel numpy; do
    have_py $m || { skip "nifti" "python3 module $m missing"; exit 0; }
done
export T
PYTHONPATH="$(dirname "$0")" "$PY" - <<'EOF'
import os, struct, subprocess
import numpy as np
import nibabel as nib
from pp import prep, run, case, T

rng = np.random.default_rng(3)

def rot(axis, deg):
    t = np.deg2rad(deg); c, s = np.cos(t), np.sin(t)
    r = np.eye(3)
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    r[i, i] = c; r[j, j] = c; r[i, j] = -s; r[j, i] = s
    return r

def affine(R, zooms, origin):
    a = np.eye(4); a[:3, :3] = R @ np.diag(zooms); a[:3, 3] = origin
    return a

def write(name, data, aff, sform=2, qform=0, cls=nib.Nifti1Image, qaff=None):
    img = cls(data, None)
    img.set_sform(aff if sform else None, code=sform)
    img.set_qform((qaff if qaff is not None else aff) if qform else None, code=qform)
    p = os.path.join(T, name)
    nib.save(img, p)
    return p

def vol_of(got):
    """[D,H,W] -> nibabel's (x,y,z) order"""
    return got.transpose(2, 1, 0)

def aff_of(m):
    return np.array([float(v) for v in m["affine"].split(",")]).reshape(4, 4)

shape = (7, 6, 5)
data = rng.normal(size=shape).astype(np.float32)
perm = np.array([[0, 1, 0], [0, 0, -1], [1, 0, 0]], float)
geoms = {
    "flipped": affine(np.diag([-1, 1, -1]), (0.8, 0.9, 2.0), (10, -20, 30)),
    "permuted": affine(perm, (1.1, 0.7, 2.5), (-5, 6, 7)),
    "oblique": affine(rot(2, 30) @ rot(0, 20), (0.9, 0.9, 1.5), (1, 2, 3)),
    "permuted_oblique": affine(perm @ rot(1, 25), (1.0, 1.2, 3.0), (0, 0, 0)),
}

def check_file(p, want_aff_tol=1e-4, args=()):
    img = nib.load(p)
    (m, got), = prep(p, list(args))
    ref = np.asarray(img.get_fdata(), np.float64)
    if got.shape != ref.shape[::-1]:
        return False, "shape %s vs %s" % (got.shape, ref.shape)
    d = np.abs(vol_of(got) - ref).max()
    da = np.abs(aff_of(m) - img.affine).max()
    codes = "".join(nib.aff2axcodes(img.affine))
    return (d < 1e-5 and da < want_aff_tol and m["orientation"] == codes,
            "data %g affine %g codes %s/%s" % (d, da, m["orientation"], codes))

for name, a in geoms.items():
    for sf, qf, tag in ((2, 0, "sform_only"), (0, 1, "qform_only")):
        p = write("%s_%s.nii" % (name, tag), data, a, sform=sf, qform=qf)
        case("affine_as_nibabel_%s_%s" % (name, tag), lambda p=p: check_file(p))

def canon(p):
    img = nib.load(p)
    c = nib.as_closest_canonical(img)
    (m, got), = prep(p, ["--ras"])
    ref = c.get_fdata()
    if got.shape != ref.shape[::-1]:
        return False, "shape %s vs %s" % (got.shape, ref.shape)
    d = np.abs(vol_of(got) - ref).max(); da = np.abs(aff_of(m) - c.affine).max()
    return d < 1e-5 and da < 1e-4, "data %g affine %g" % (d, da)
for name, a in geoms.items():
    p = os.path.join(T, "%s_sform_only.nii" % name)
    case("ras_reorientation_as_nibabel_canonical_%s" % name, lambda p=p: canon(p))

def fallback():
    p = write("nocode.nii", data, geoms["flipped"], sform=0, qform=0)
    return check_file(p)
case("no_sform_no_qform_uses_nibabel_fallback_affine", fallback)

def sform_wins_with_warning():
    p = write("both.nii", data, geoms["flipped"], sform=2, qform=1, qaff=geoms["permuted"])
    ok, why = check_file(p)
    r = run(["-o", os.path.join(T, "w.mgt"), p])
    warned = "sform and qform disagree" in r.stderr
    return ok and warned, why + (" (no warning)" if not warned else "")
case("sform_preferred_and_disagreement_warned", sform_wins_with_warning)

def agree_quiet():
    p = write("agree.nii", data, geoms["oblique"], sform=2, qform=1)
    r = run(["-o", os.path.join(T, "a.mgt"), p])
    return r.stderr == "", r.stderr
case("agreeing_sform_qform_no_warning", agree_quiet)

def scaled():
    raw = rng.integers(-2000, 2000, size=shape).astype(np.int16)
    img = nib.Nifti1Image(raw, geoms["flipped"]); img.set_data_dtype(np.int16)
    p = os.path.join(T, "scaled.nii"); nib.save(img, p)
    with open(p, "r+b") as f:          # scl_slope, scl_inter at bytes 112, 116
        f.seek(112); f.write(struct.pack("<ff", 2.5, -1024.0))
    return check_file(p)
case("scl_slope_inter_applied_as_nibabel", scaled)

def datatypes():
    bad = []
    for dt in (np.uint8, np.int8, np.uint16, np.int32, np.float64, np.int64):
        raw = (rng.integers(0, 100, size=shape)).astype(dt)
        hdr = nib.Nifti1Header(); hdr.set_data_dtype(dt)
        img = nib.Nifti1Image(raw, geoms["permuted"], hdr)
        p = os.path.join(T, "dt_%s.nii" % np.dtype(dt).name); nib.save(img, p)
        ok, why = check_file(p)
        if not ok: bad.append("%s: %s" % (np.dtype(dt).name, why))
    return not bad, "; ".join(bad)
case("datatypes_u8_i8_u16_i32_f64_i64", datatypes)

def nifti2_gz():
    p = write("n2.nii.gz", data, geoms["oblique"], cls=nib.Nifti2Image)
    return check_file(p)
case("nifti2_gzipped", nifti2_gz)

def four_d():
    d4 = rng.normal(size=shape + (3,)).astype(np.float32)
    p = write("four.nii.gz", d4, geoms["flipped"])
    (m, got), = prep(p, [])
    ref = nib.load(p).get_fdata().transpose(3, 2, 1, 0)
    return got.shape == ref.shape and np.abs(got - ref).max() < 1e-6, "shape %s" % (got.shape,)
case("4d_volume_as_channels_first", four_d)
def big_endian():
    hdr = nib.Nifti1Header(endianness=">")
    raw = rng.integers(-500, 500, size=shape).astype(">i2")
    img = nib.Nifti1Image(raw, geoms["oblique"], hdr)
    p = os.path.join(T, "be.nii"); nib.save(img, p)
    return check_file(p)
case("big_endian_nifti", big_endian)
def frames():
    d4 = rng.normal(size=shape + (3,)).astype(np.float32)
    p = write("frames.nii.gz", d4, geoms["flipped"])
    recs = prep(p, ["--frames", "--ras"])
    ref = nib.as_closest_canonical(nib.load(p)).get_fdata()
    ok = len(recs) == 3 and all(m["frame"] == str(i) and np.abs(g.transpose(2, 1, 0) - ref[..., i]).max() < 1e-6
                                for i, (m, g) in enumerate(recs))
    return ok, "%d records" % len(recs)
case("4d_frames_one_record_each_after_reorientation", frames)
def any_name():
    import gzip, shutil
    src = write("named.nii", data, geoms["permuted"])
    a, b = os.path.join(T, "scan.dat"), os.path.join(T, "scan_gz")
    shutil.copy(src, a)
    with open(src, "rb") as f, gzip.open(b, "wb") as g:
        g.write(f.read())
    ok = True
    os.environ["TMPDIR"] = T          # where the reader's temporary link goes
    for p in (a, b):
        (m, got), = prep(p, [])
        ok = ok and np.abs(vol_of(got) - nib.load(src).get_fdata()).max() < 1e-6
    return ok and not [d for d in os.listdir(T) if d.startswith("mgnii")], "content differs or temp left"
case("nifti_recognised_by_content_whatever_its_name", any_name)
# nibabel's own test images, where the package ships them
def nibabel_data():
    d = os.path.join(os.path.dirname(nib.__file__), "tests", "data")
    names = ["anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz", "functional.nii",
             "reoriented_anat_moved.nii", "resampled_anat_moved.nii", "standard.nii.gz"]
    paths = [os.path.join(d, n) for n in names if os.path.exists(os.path.join(d, n))]
    if not paths:
        return True, ""
    bad = []
    for p in paths:
        img = nib.load(p)
        (m, got), = prep(p, ["--ras"])
        c = nib.as_closest_canonical(img)
        ref = np.asarray(c.get_fdata())
        ref = ref.transpose(2, 1, 0) if ref.ndim == 3 else ref.transpose(3, 2, 1, 0)
        if got.shape != ref.shape or np.abs(got - ref).max() > 1e-4 * max(1, np.abs(ref).max()) \
                or np.abs(aff_of(m) - c.affine).max() > 1e-4:
            bad.append(os.path.basename(p))
    return not bad, "differ: %s" % bad
case("nibabel_test_images_reoriented_as_nibabel", nibabel_data)
EOF

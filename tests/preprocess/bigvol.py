"""Large NIfTI volumes that cost little disk and little time to make: mostly
air (-1000 HU) around a sphere of soft tissue (40 HU) whose edge steps in
HU with depth, written a slice at a time to a .nii.gz (a constant slice
deflates to a few hundred bytes). Used by the slab-reading memory test and
the preprocess benchmark."""
import gzip

import numpy as np
import nibabel as nib


def slice_hu(nx, ny, nz, k, noise=0):
    """Slice k as int16 HU (x fastest in the file, so the array is [y, x]);
    noise: Gaussian noise of that many HU, seeded by k."""
    y, x = np.ogrid[0:ny, 0:nx]
    cx, cy, cz, r = nx / 2, ny / 2, nz / 2, min(nx, ny, nz) * 0.35
    s = np.full((ny, nx), -1000, np.int16)
    d2 = (x - cx) ** 2 + (y - cy) ** 2 + (k - cz) ** 2
    s[d2 <= r * r] = 40 + (k % 16) * 10
    if noise:
        s += np.random.default_rng(k).normal(0, noise, s.shape).round().astype(np.int16)
    return s


def write(path, nx, ny, nz, zooms=(1.0, 1.0, 1.0), axes=np.eye(3), slope=None, inter=0.0, noise=0):
    """Write the volume; axes (3x3, columns = voxel axes in RAS) sets the
    orientation, slope/inter the scaling (stored = (HU - inter) / slope)."""
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((nx, ny, nz))
    hdr.set_data_dtype(np.int16)
    a = np.eye(4)
    a[:3, :3] = np.asarray(axes, float) @ np.diag(zooms)
    hdr.set_sform(a, code=1)
    hdr.set_qform(a, code=1)
    if slope is not None:
        hdr.set_slope_inter(slope, inter)
    hdr["vox_offset"] = 352
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(hdr.binaryblock)
        f.write(b"\0\0\0\0")                 # no extensions
        for k in range(nz):
            s = slice_hu(nx, ny, nz, k, noise)
            if slope is not None:
                s = np.round((s - inter) / slope).astype(np.int16)
            f.write(s.astype("<i2").tobytes())
    return a

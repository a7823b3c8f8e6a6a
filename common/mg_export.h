/* mg_export.h: write tensors as files people can open (PNG, NIfTI). */
#ifndef MG_EXPORT_H
#define MG_EXPORT_H

#include <stdio.h>
#include "mg_output.h"
#include "mg_stream.h"

typedef struct {
    int channel;          /* -1: all channels (1, 3 or 4 → grey, RGB, RGBA) */
    int slice;            /* for 3-D [D,H,W]: axial slice; -1 = middle */
    int have_range;       /* map [lo,hi] to 0..255, else min..max of the data */
    double lo, hi;
    int bit16;            /* u16 tensors as 16-bit PNG */
} mg_png_opts;

/** Write an image-like tensor ([H,W], [C,H,W] with C ∈ {1,3,4}, or one channel or
 *  slice of a larger tensor) as PNG. u8 is written as is; other dtypes are
 *  scaled linearly from [lo,hi] to 0..255. Returns 0 or -1 with err. */
MG_MUST_CHECK int mg_png_write_tensor(FILE *fp, const mg_tensor *t, const mg_png_opts *o, char *err, size_t errlen);

/** Write a volume ([D,H,W] or [C,D,H,W], x fastest) as NIfTI-1 (.nii or .nii.gz by
 *  the target's name) into out, opened with the suffix mg_nifti_suffix()
 *  gives (libnifti writes the file by name; the result is read back, so a
 *  short write is an error), with spacing "x,y,z" and affine (16 numbers, row-major) taken from
 *  the record's metadata when present (the affine goes into the sform, code 1
 *  "scanner", and the qform). Returns 0 or -1 with err. */
MG_MUST_CHECK int mg_nifti_write_tensor(mg_ofile *out, const mg_tensor *t, const mg_record *rec,
                                        char *err, size_t errlen);
/** ".nii.gz" or ".nii" when path ends so, else NULL. */
const char *mg_nifti_suffix(const char *path);

#endif

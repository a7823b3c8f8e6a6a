/* mg_nifti.h: NIfTI-1 and NIfTI-2 (.nii, .nii.gz) volumes through libnifti2.
 *
 * Voxels become float: scl_slope/scl_inter applied as nibabel does (only when
 * the slope is finite and non-zero; never for RGB), dimensions 4 and 5 become
 * channels, RGB24/RGBA32 become 3/4 channels. The affine is nibabel's
 * get_best_affine: the sform when sform_code > 0, else the qform when
 * qform_code > 0, else nibabel's shape_zoom_affine fallback (x flipped, volume
 * centred on the origin) — not libnifti's diag(pixdim) "method 1".
 */
#ifndef MG_NIFTI_H
#define MG_NIFTI_H

#include "mg_err.h"

#include "mg_volume.h"

typedef enum { MG_AFFINE_FALLBACK = 0, MG_AFFINE_QFORM = 1, MG_AFFINE_SFORM = 2 } mg_affine_source;

typedef struct {
    int nifti_version;          /* 1 or 2 */
    int datatype;               /* NIfTI DT_* code */
    int64_t dim[8];             /* header dims as stored */
    int sform_code, qform_code;
    mg_affine_source source;
    double qs_diff;             /* max |sform - qform| when both are set, else 0 */
    int scaled;                 /* slope/intercept applied */
} mg_nifti_info;

/** sform and qform are said to disagree above this (mm, any matrix entry). */
#define MG_NIFTI_QS_TOL 1e-3

/** Read the whole volume. NULL and err on failure (unreadable, truncated,
 *  unsupported datatype, dimensions over MG_VOLUME_MAX_VOXELS, non-finite
 *  or zero voxel spacing). info may be NULL. Peak memory: the float volume
 *  plus one slab. */
MG_MUST_CHECK mg_volume *mg_nifti_read(const char *path, mg_nifti_info *info, char *err, size_t errlen);

typedef struct mg_nifti_file mg_nifti_file;

/** Open a volume: every header check of mg_nifti_read, the geometry and the
 *  scaling decided, no voxel read yet. NULL and err on failure. */
MG_MUST_CHECK mg_nifti_file *mg_nifti_open(const char *path, mg_nifti_info *info, char *err, size_t errlen);
/** The volume as a slab source, valid until mg_nifti_close; slabs are the
 *  floats mg_nifti_read gives. Asked for in increasing (channel, slice) order
 *  they are streamed from the file, a slice of the stored type at a time
 *  (an uncompressed file in any order); in a .nii.gz the first request that
 *  goes back (a reversed slice axis) loads the whole volume in its stored
 *  type once, as RGB(A) volumes always are. A read error ("cannot read the
 *  voxel data ...") can first show up here. */
const mg_volume_src *mg_nifti_src(const mg_nifti_file *f);
void mg_nifti_close(mg_nifti_file *f);

#endif

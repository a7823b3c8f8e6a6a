/* mg_volume_prep.h: the 3D preprocessing pipeline and its parameters.
 *
 * Order: clip (raw HU) -> reorient to RAS -> resample to a spacing -> window
 * (clip + linear map) or per-volume min-max -> crop to foreground -> centre
 * crop/pad -> resize to a fixed shape. Slices for slice-wise encoders are then
 * taken from the result with mg_volume_slice_image().
 */
#ifndef MG_VOLUME_PREP_H
#define MG_VOLUME_PREP_H

#include "mg_image.h"
#include "mg_volume.h"

typedef enum { MG_GRID_MONAI = 0, MG_GRID_SCALE = 1 } mg_spacing_grid;

typedef struct {
    int clip;                    /* clip raw values to [clip_lo, clip_hi] first */
    double clip_lo, clip_hi;
    int ras;                     /* reorient to RAS */
    int spacing_set;
    double spacing[3];           /* mm, x y z */
    mg_spacing_grid grid;
    int labels;                  /* nearest-neighbour resampling */
    int window;                  /* clip to [win_lo, win_hi], map to [out_lo, out_hi] */
    double win_lo, win_hi, out_lo, out_hi;
    int minmax;                  /* per-volume min-max to [0,1] */
    int crop_fg;
    double fg_threshold;
    int64_t crop_pad[3];         /* x y z; 0: off */
    double pad_value;
    int64_t resize[3];           /* x y z; 0: off */
} mg_volume_prep;

mg_volume_prep mg_volume_prep_default(void);

/** Named CT windows: "lung" (-600/1500), "mediastinum" (50/350), "abdomen"
 *  (40/400), "bone" (400/1800), "brain" (40/80), or "L,W". Sets lo/hi
 *  (L -/+ W/2). 0, or -1 if unknown or W <= 0. */
int mg_window_parse(const char *s, double *lo, double *hi);

/** Run the pipeline in place. 0 or -1 with err. */
int mg_volume_prep_run(const mg_volume_prep *p, mg_volume *v, mg_pool *pool,
                       char *err, size_t errlen);
/** Run the pipeline on a source, as mg_volume_prep_run on the whole volume
 *  would (same floats): clip, RAS and spacing are applied a slab at a time
 *  while the source is read, so the input is never held whole as float when
 *  it is resampled; a reorientation that moves the slice axis reads it whole
 *  first. The result, or NULL and err. */
MG_MUST_CHECK mg_volume *mg_volume_prep_src(const mg_volume_prep *p, const mg_volume_src *s, mg_pool *pool,
                                            char *err, size_t errlen);

/** Axial slice z of channel 0 as an 8-bit image: one channel per window
 *  (nwin 1 or 3): clip to [lo, hi], (x-lo)/(hi-lo)*255, round half to even
 *  (as MedGemma's CT notebook). radiological: flip x and y so that a RAS
 *  volume shows anterior up and the patient's right on the left. */
mg_image *mg_volume_slice_image(const mg_volume *v, int64_t z, int nwin,
                                const double win[][2], int radiological,
                                char *err, size_t errlen);

#endif

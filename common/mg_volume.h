/* mg_volume.h: 3D volumes and the 3D preprocessing operations.
 *
 * A volume holds nc channels of nz x ny x nx float voxels, x fastest, channel
 * slowest (so one channel is the [D,H,W] tensor of the stream), with the
 * voxel-to-world affine (row-major 4x4, mm, RAS+ world as NIfTI).
 * Operations return 0 and replace the volume's data, or -1 with err; they
 * never print.
 */
#ifndef MG_VOLUME_H
#define MG_VOLUME_H

#include "mg_err.h"

#include <stddef.h>
#include <stdint.h>
#include "mg_pool.h"

/** Largest volume accepted, in voxels over all channels (smaller under the
 *  fuzzer). */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define MG_VOLUME_MAX_VOXELS (1LL << 24)
#else
#define MG_VOLUME_MAX_VOXELS (1LL << 31)
#endif

typedef struct {
    int64_t nx, ny, nz, nc;
    float *data;             /* nc*nz*ny*nx, owned */
    double affine[16];       /* voxel (i,j,k,1) -> world (x,y,z,1), row-major */
} mg_volume;

MG_MUST_CHECK mg_volume *mg_volume_new(int64_t nx, int64_t ny, int64_t nz, int64_t nc);
/** A volume that takes ownership of data (malloc'd, nc*nz*ny*nx floats),
 *  identity affine; NULL (data not freed) on bad size or allocation failure. */
MG_MUST_CHECK mg_volume *mg_volume_wrap(int64_t nx, int64_t ny, int64_t nz, int64_t nc, float *data);
void mg_volume_free(mg_volume *v);
/** Voxel sizes: lengths of the affine's first three columns. */
void mg_volume_spacing(const mg_volume *v, double sp[3]);

/** A volume produced a slab of slices at a time (a file being read, a view
 *  of one), so that large inputs need not be held whole as float. read fills
 *  dst with slices z0..z0+n-1 of channel c (nx*ny floats each, x fastest),
 *  0 or -1 with err; any order is allowed, but file readers are fastest (and
 *  smallest) when (c, z0) never decreases, which is how the functions below
 *  read. */
typedef struct {
    int64_t nx, ny, nz, nc;
    double affine[16];
    int (*read)(void *ctx, int64_t c, int64_t z0, int64_t n, float *dst, char *err, size_t errlen);
    void *ctx;
} mg_volume_src;

/** Slabs hold about this many bytes of float input (at least two slices). */
#define MG_VOLUME_SLAB_BYTES ((size_t)32 << 20)

/** The whole source as a volume, read a slab at a time. */
MG_MUST_CHECK mg_volume *mg_volume_src_load(const mg_volume_src *s, char *err, size_t errlen);

/** A source clipped to [lo, hi] (when clip; as mg_volume_prep's clip) and
 *  reoriented to RAS (when ras; as mg_volume_reorient_ras, same values),
 *  read through its input a slab at a time. Possible when the slice axis
 *  stays the slice axis (x and y may swap, any axis may flip): check with
 *  mg_volume_view_possible. The view reads in through its pointer: in must
 *  outlive it. */
typedef struct mg_volume_view mg_volume_view;
int mg_volume_view_possible(const mg_volume_src *in, int ras);
MG_MUST_CHECK mg_volume_view *mg_volume_view_new(const mg_volume_src *in, int clip, double lo, double hi,
                                                 int ras, char *err, size_t errlen);
const mg_volume_src *mg_volume_view_src(const mg_volume_view *w);
void mg_volume_view_free(mg_volume_view *w);

/** nibabel io_orientation: for each voxel axis, the world axis it points
 *  along (0=x/R, 1=y/A, 2=z/S) and its sign (+1 towards R/A/S), from the
 *  polar (closest orthogonal) factor of the affine's normalised columns,
 *  assigned greedily in axis order. -1 if the affine is singular. */
int mg_affine_orientation(const double affine[16], int axis[3], int sign[3]);
/** Orientation code as nibabel aff2axcodes, e.g. "RAS", "LPI". */
void mg_affine_axcodes(const double affine[16], char codes[4]);

/** Reorder and flip voxel axes so that they point R, A, S (as MONAI
 *  Orientation("RAS") / nibabel as_closest_canonical); no interpolation; the
 *  affine is updated so every voxel keeps its world position. */
MG_MUST_CHECK int mg_volume_reorient_ras(mg_volume *v, char *err, size_t errlen);

/** One output axis of a separable resampling: output index i reads input
 *  indices i0[i] and i1[i] with weight w1[i] on i1 (1-w1 on i0). */
typedef struct { int64_t n_out; int64_t *i0, *i1; float *w1; } mg_axis_map;

typedef enum { MG_INTERP_LINEAR = 0, MG_INTERP_NEAREST = 1 } mg_interp;

/** Resample to voxel spacing sp_out (mm, x y z) on MONAI Spacing's grid:
 *  n_out = round_half_even((n-1)*s_in/s_out)+1, output voxel j at input
 *  index j*s_out/s_in (first voxel centre fixed), edge values beyond the last
 *  voxel (padding "border"). Linear = trilinear; nearest rounds half to even.
 *  Threads split output slices. Peak memory: input + output + two xy slices
 *  per thread. */
MG_MUST_CHECK int mg_volume_resample_spacing(mg_volume *v, const double sp_out[3], mg_interp mode,
                               mg_pool *pool, char *err, size_t errlen);
/** mg_volume_resample_spacing (torch_grid 0) or _scaled (1) of a source,
 *  the same floats, reading it once in slice order, a slab at a time: peak
 *  memory is the output plus one slab (MG_VOLUME_SLAB_BYTES) and what the
 *  source itself holds. NULL and err on failure. */
MG_MUST_CHECK mg_volume *mg_volume_src_resample_spacing(const mg_volume_src *s, const double sp_out[3],
                                                        mg_interp mode, int torch_grid, mg_pool *pool,
                                                        char *err, size_t errlen);
/** Resample to spacing on the grid of torch interpolate with size
 *  int(n*s_in/s_out) (as CT-CLIP): see mg_volume_resize for the grid. */
MG_MUST_CHECK int mg_volume_resample_spacing_scaled(mg_volume *v, const double sp_out[3], mg_interp mode,
                                      mg_pool *pool, char *err, size_t errlen);
/** Resize to nx x ny x nz as torch.nn.functional.interpolate(mode="trilinear",
 *  align_corners=False): src = (dst+0.5)*in/out-0.5 clamped at 0, upper
 *  neighbour min(i0+1, n-1); nearest as interpolate(mode="nearest"):
 *  floor(dst*in/out). The affine is scaled to keep the volume's extent. */
MG_MUST_CHECK int mg_volume_resize(mg_volume *v, int64_t nx, int64_t ny, int64_t nz, mg_interp mode,
                     mg_pool *pool, char *err, size_t errlen);

/** Clip to [lo, hi] then map linearly to [out_lo, out_hi]. */
void mg_volume_window(mg_volume *v, double lo, double hi, double out_lo, double out_hi);
/** Map [min, max] of the volume to [0, 1] (a constant volume becomes 0). */
void mg_volume_minmax(mg_volume *v);
/** Crop to the bounding box of voxels > threshold in any channel (as MONAI
 *  CropForeground with select_fn x > threshold, margin 0); unchanged when
 *  nothing is above. */
MG_MUST_CHECK int mg_volume_crop_foreground(mg_volume *v, double threshold, char *err, size_t errlen);
/** Centre crop and/or symmetric pad each axis to the given size; pad before =
 *  (size-n)/2 (MONAI SpatialPad), crop start = n/2 - size/2 (MONAI
 *  CenterSpatialCrop); padding voxels get value pad. The affine follows. */
MG_MUST_CHECK int mg_volume_crop_pad(mg_volume *v, int64_t nx, int64_t ny, int64_t nz, float pad,
                       char *err, size_t errlen);
/** Indices of at most n evenly spaced slices of nz: all when nz <= n, else
 *  round_half_even(k*(nz-1)/(n-1)) for k = 0..n-1 (numpy linspace + round).
 *  Returns the count written to idx (caller provides n entries). */
int64_t mg_slice_indices(int64_t nz, int64_t n, int64_t *idx);

#endif

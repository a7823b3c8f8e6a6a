/* mg_slicewise.h: slice-wise (2.5D) encoding of a volume with an image
 * encoder, as MedGemma takes CT: each axial slice (three windows as RGB, from
 * mg-preprocess --preset medgemma-ct) is one image; the per-slice outputs are
 * pooled across slices (mean, max) or stacked as tokens for a decoder. */
#ifndef MG_SLICEWISE_H
#define MG_SLICEWISE_H

#include <stdint.h>

typedef enum { MG_SLICES_OFF = 0, MG_SLICES_MEAN, MG_SLICES_MAX, MG_SLICES_STACK } mg_slice_pool;

/** "mean", "max", "tokens" <-> pooling; MG_SLICES_OFF for an unknown name. */
mg_slice_pool mg_slice_pool_from_name(const char *name);

/** Output shape of slice-wise pooling over n_slices slices whose own output
 *  has per_ndim dims per_shape: [D] for mean/max of embeddings, [N,D] for
 *  mean/max of tokens; stacking gives [n_slices, D] or [n_slices·N, D]. */
int mg_slices_output_shape(mg_slice_pool pool, int64_t n_slices, int per_ndim,
                           const int64_t *per_shape, int64_t out_shape[2]);
/** Pool per-slice outputs [n_slices, per] into out (see above). */
void mg_slices_pool(mg_slice_pool pool, const float *per_slice, int64_t n_slices, int64_t per,
                    float *out);

#endif

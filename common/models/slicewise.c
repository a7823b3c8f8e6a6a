/* slicewise.c: slice-wise (2.5D) pooling of an image encoder's per-slice
 * outputs (mg_slicewise.h). MedGemma passes each CT slice as its own image
 * (≤ 85 slices, each 256 soft tokens after the projector); stacking keeps
 * that sequence for a decoder, mean and max give one vector per volume. */
#include "../mg_slicewise.h"

#include <math.h>
#include <string.h>

mg_slice_pool mg_slice_pool_from_name(const char *s)
{
    if (strcmp(s, "mean") == 0) return MG_SLICES_MEAN;
    if (strcmp(s, "max") == 0) return MG_SLICES_MAX;
    if (strcmp(s, "tokens") == 0) return MG_SLICES_STACK;
    return MG_SLICES_OFF;
}

int mg_slices_output_shape(mg_slice_pool pool, int64_t n_slices, int per_ndim,
                           const int64_t *per_shape, int64_t out_shape[2])
{
    if (pool != MG_SLICES_STACK) {
        for (int i = 0; i < per_ndim; i++) out_shape[i] = per_shape[i];
        return per_ndim;
    }
    out_shape[0] = per_ndim == 1 ? n_slices : n_slices * per_shape[0];
    out_shape[1] = per_shape[per_ndim - 1];
    return 2;
}

void mg_slices_pool(mg_slice_pool pool, const float *x, int64_t n, int64_t per, float *out)
{
    if (pool == MG_SLICES_STACK) {
        memcpy(out, x, (size_t)(n * per) * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < per; i++) {
        if (pool == MG_SLICES_MAX) {
            /* torch.amax: a NaN anywhere gives NaN */
            float m = x[i];
            for (int64_t s = 1; s < n; s++) {
                float v = x[s * per + i];
                if (v > m || isnan(v)) m = v;
            }
            out[i] = m;
        } else {
            double acc = 0;
            for (int64_t s = 0; s < n; s++) acc += x[s * per + i];
            out[i] = (float)(acc / (double)n);
        }
    }
}

/* mg_resize.h: 2D resizing with Pillow's convolution resampler.
 *
 * Separable and antialiased as Pillow's libImaging/Resample.c: for output index
 * i the filter is centred at (i+0.5)*scale and widened by max(scale,1); the
 * horizontal pass runs first, then the vertical one, and a pass is skipped when
 * its size does not change. 8-bit images use Pillow's 22-bit fixed-point
 * weights with rounding and clipping after each pass (identical bytes to
 * Image.resize on "L"/"RGB" images).
 * Float and 16-bit images give Pillow's mode "F" result up to float rounding
 * (measured within 5e-7 of it on [0,1] data, every filter): the vertical
 * pass runs first, straight from the input samples, then the horizontal one,
 * both summing in float (one channel; more channels sum horizontally in
 * double). The result does not depend on the thread count or the CPU.
 * 16-bit images are resized as float, never through Pillow's "I;16" path
 * (it packs bytes with a quirky clip that no model pipeline relies on).
 */
#ifndef MG_RESIZE_H
#define MG_RESIZE_H

#include "mg_err.h"

#include "mg_image.h"
#include "mg_pool.h"

typedef enum {
    MG_FILTER_NEAREST = 0, MG_FILTER_LANCZOS = 1, MG_FILTER_BILINEAR = 2,
    MG_FILTER_BICUBIC = 3, MG_FILTER_BOX = 4, MG_FILTER_HAMMING = 5
} mg_filter;   /* codes are PIL.Image.Resampling values (HF "resample") */

/** Filter from a name ("bilinear", "bicubic", "lanczos", "box", "hamming",
 *  "nearest"); -1 if unknown. */
int mg_filter_from_name(const char *name);
const char *mg_filter_name(int filter);

/** Resize an 8-bit or float image to ow x oh with filter. NULL and err on
 *  failure (16-bit input, bad size, out of memory). */
MG_MUST_CHECK mg_image *mg_resize(const mg_image *im, int ow, int oh, int filter,
                    char *err, size_t errlen);

/** As mg_resize, also for 16-bit input, with 16-bit and float samples
 *  multiplied by in_scale (the result is float; 8-bit input needs in_scale 1
 *  and stays 8-bit), and output rows split across the workers of pool (NULL: the
 *  caller alone; the result is identical for any number). */
MG_MUST_CHECK mg_image *mg_resize_ex(const mg_image *im, int ow, int oh, int filter, double in_scale,
                       mg_pool *pool, char *err, size_t errlen);

#endif

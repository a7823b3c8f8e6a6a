/* mg_image_prep.h: the 2D preprocessing pipeline and its parameters, as Hugging
 * Face image processors and Med-Gemini-style models define them.
 *
 * Order: channels (grey -> RGB) -> centred zero pad to square -> resize
 * (fixed size, or shortest edge) with a Pillow filter -> centre crop ->
 * rescale -> normalise (v - mean)/std -> planar [C,H,W] float.
 * 8-bit images stay 8-bit through the geometric steps (Pillow's 8-bit
 * arithmetic, as transformers resizes uint8 arrays through PIL) and are
 * rescaled afterwards; 16-bit images are rescaled by 1/65535 (as MedSigLIP's
 * x / dtype max) and, like float images, resized in Pillow's float mode.
 * The 16-bit samples are read by the resizer directly, with the 1/65535 in
 * its weights (no full-size float copy); grey is copied to RGB while
 * writing the planar output.
 */
#ifndef MG_IMAGE_PREP_H
#define MG_IMAGE_PREP_H

#include "mg_image.h"
#include "mg_pool.h"

typedef struct {
    int pad_square;
    int size_w, size_h;      /* resize to this (0: no fixed-size resize) */
    int shortest_edge;       /* resize so the shorter side is this (0: off) */
    int crop_w, crop_h;      /* centre crop (0: off) */
    int filter;              /* mg_filter code */
    double rescale;          /* factor for 8-bit images; < 0: 1/255 */
    int n_mean;              /* 0 (no normalisation), 1 or 3 */
    double mean[3], std[3];
    int channels;            /* 0: keep; 1 or 3 */
    mg_pool *pool;           /* resizing workers (NULL: the caller); same result for any */
} mg_image_prep;

/** No geometric change, bicubic, rescale to [0,1], no normalisation. */
mg_image_prep mg_image_prep_default(void);

/** Fill p from DIR/preprocessor_config.json (transformers image processor
 *  keys: do_resize/size {height,width | shortest_edge}, resample,
 *  do_center_crop/crop_size, do_rescale/rescale_factor,
 *  do_normalize/image_mean/image_std, do_convert_rgb, and do_pad as centred
 *  square padding). 0 or -1 with err. */
int mg_image_prep_from_hf(const char *dir, mg_image_prep *p, char *err, size_t errlen);

/** Run the pipeline on im. On success *out is a malloc'd [c][h][w] float
 *  array (caller frees) and c/h/w are set. */
int mg_image_prep_run(const mg_image_prep *p, const mg_image *im, float **out,
                      int *c, int *h, int *w, char *err, size_t errlen);

#endif

/* mg_slide.h: whole-slide images stored as pyramidal tiled TIFF.
 *
 * Levels are page 0, later pages of the main IFD chain marked REDUCEDIMAGE
 * (the layout OpenSlide's generic TIFF reader accepts) and the SubIFDs of
 * page 0 (OME-TIFF / libvips pyramids), sorted from largest to smallest.
 * Tiles are read one TIFF tile at a time, so memory stays at a few tiles
 * whatever the slide size.
 */
#ifndef MG_SLIDE_H
#define MG_SLIDE_H

#include <stdint.h>
#include "mg_image.h"

#define MG_SLIDE_MAX_LEVELS 64

typedef struct {
    int page, sub;            /* mg_tiff_select address */
    int64_t w, h;
    double downsample;        /* mean of the w and h ratios to level 0 (OpenSlide) */
    double mpp;               /* microns per pixel, 0 if unknown */
} mg_slide_level;

typedef enum { MG_TISSUE_SATURATION = 0, MG_TISSUE_OTSU = 1, MG_TISSUE_NONE = 2 } mg_tissue_method;

typedef struct {
    double mpp;               /* target microns per pixel; <= 0: level 0 */
    int tile, stride;         /* tile side and step, in level pixels */
    mg_tissue_method tissue;
    int sat_threshold;        /* HSV saturation (0..255) above which a pixel is tissue */
    double min_tissue;        /* fraction of a tile's mask pixels needed to keep it */
    int thumb_min;            /* mask level: the smallest at least this long */
} mg_slide_params;

/** tile 224, stride 224, saturation threshold 8 (CLAM's default), at least
 *  25% tissue, mask on the smallest level at least 1024 px long. */
mg_slide_params mg_slide_params_default(void);

typedef struct mg_slide mg_slide;

/** Open a TIFF as a slide: page 0 must be tiled. mpp from the resolution
 *  tags, or "MPP = x" in an Aperio ImageDescription. NULL and err. */
mg_slide *mg_slide_open(const char *path, char *err, size_t errlen);
void mg_slide_close(mg_slide *s);
int mg_slide_nlevels(const mg_slide *s);
const mg_slide_level *mg_slide_level_info(const mg_slide *s, int level);
/** Level whose mpp is nearest target (in log ratio); level 0 if target <= 0
 *  or the slide has no mpp. */
int mg_slide_best_level(const mg_slide *s, double target_mpp);

/** Called for every kept tile: level pixels w x h (8-bit RGB), level-0
 *  position x0,y0. Return <0 to stop (mg_slide_tiles then returns -1 with
 *  err untouched). */
typedef int (*mg_slide_tile_fn)(void *ctx, const mg_image *tile, int64_t x0, int64_t y0,
                                int level, double mpp);

/** Tiles of p->tile px every p->stride px over the chosen level (whole
 *  tiles only), skipping tiles whose tissue fraction is below p->min_tissue.
 *  Returns the number of tiles emitted, or -1 with err. */
int64_t mg_slide_tiles(mg_slide *s, const mg_slide_params *p, mg_slide_tile_fn fn,
                       void *ctx, char *err, size_t errlen);

#endif

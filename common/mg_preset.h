/* mg_preset.h: named input preparations of the published models, as one
 * call (like minimap2's mm_set_opt): the image processor of a 2D encoder, or the
 * volume transforms of a 3D one, with the source of each in mg_preset.c.
 * mg-preprocess applies them before its own options (which then override);
 * the 3D encoders and examples/ use the same names. */
#ifndef MG_PRESET_H
#define MG_PRESET_H

#include <stddef.h>
#include <stdint.h>

#include "mg_image_prep.h"
#include "mg_volume_prep.h"

enum { MG_PRESET_NONE = 0, MG_PRESET_2D = 2, MG_PRESET_3D = 3 };

/* What a preset sets: the 2D image preparation, the volume preparation, and
 * (for models that see CT as images) the axial slices and their windows. */
typedef struct {
    mg_image_prep img;
    mg_volume_prep vol;
    int64_t slices;             /* > 0: a volume becomes at most this many axial slices */
    int nwin;                   /* 0, 1 or 3 windows of the slice channels */
    double win[3][2];           /* [lo, hi] HU */
    int kind;                   /* MG_PRESET_2D, MG_PRESET_3D, or NONE */
    const char *preset;         /* the applied preset's name, or NULL */
} mg_prep_opts;

/** The defaults: mg_image_prep_default(), mg_volume_prep_default(), no slices. */
mg_prep_opts mg_prep_opts_default(void);

/** Apply preset name to o: a 2D preset replaces o->img, a 3D one o->vol (and
 *  medgemma-ct the slicing and o->img); other fields are kept. 0, or -1 with
 *  err naming the known presets. */
int mg_preset_apply(const char *name, mg_prep_opts *o, char *err, size_t errlen);

typedef struct {
    const char *name;           /* "medsiglip-448" */
    int kind;                   /* MG_PRESET_2D or MG_PRESET_3D */
    const char *summary;        /* one line for --help */
} mg_preset_info;
/** The presets in a fixed order; *n gets their number. */
const mg_preset_info *mg_preset_list(size_t *n);

/** MedGemma's three CT windows (R, G, B) into o. */
void mg_preset_medgemma_windows(mg_prep_opts *o);

#endif

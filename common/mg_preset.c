/* mg_preset.c: the presets of mg_preset.h, each with the source it follows. */
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "mg_preset.h"
#include "mg_resize.h"

mg_prep_opts mg_prep_opts_default(void)
{
    mg_prep_opts o;
    memset(&o, 0, sizeof o);
    o.img = mg_image_prep_default();
    o.vol = mg_volume_prep_default();
    return o;
}

void mg_preset_medgemma_windows(mg_prep_opts *o)
{
    /* MedGemma CT notebook: R [-1024,1024], G [-135,215], B [0,80] HU */
    static const double w[3][2] = { {-1024, 1024}, {-135, 215}, {0, 80} };
    o->nwin = 3;
    memcpy(o->win, w, sizeof w);
}

static void image_2d(mg_prep_opts *o, int pad, int size, int filter, double mean, double sd)
{
    o->img = mg_image_prep_default();
    o->img.pad_square = pad;
    o->img.size_w = o->img.size_h = size;
    o->img.filter = filter;
    o->img.n_mean = 3;
    for (int i = 0; i < 3; i++) { o->img.mean[i] = mean; o->img.std[i] = sd; }
    o->img.channels = 3;
}

static void medsiglip_448(mg_prep_opts *o)
{
    /* MedSigLIP: pad to square, SiglipImageProcessor 448, bicubic, mean=std=0.5 */
    image_2d(o, 1, 448, MG_FILTER_BICUBIC, 0.5, 0.5);
}

static void medgemma_896(mg_prep_opts *o)
{
    /* MedGemma: pad to square, Gemma 3 image processor 896, bilinear, 0.5/0.5 */
    image_2d(o, 1, 896, MG_FILTER_BILINEAR, 0.5, 0.5);
}

static void rad_dino(mg_prep_opts *o)
{
    /* RAD-DINO (BitImageProcessor): shortest edge 518, centre crop 518, bicubic */
    image_2d(o, 0, 0, MG_FILTER_BICUBIC, 0.5307, 0.2583);
    o->img.shortest_edge = 518;
    o->img.crop_w = o->img.crop_h = 518;
}

static void ct_clip(mg_prep_opts *o)
{
    /* CT-CLIP data_inference_nii.py: clip [-1000,1000], resample to 0.75 x
     * 0.75 x 1.5 mm with size int(n*s/t), /1000, crop/pad to 480x480x240 with -1 */
    o->vol = mg_volume_prep_default();
    o->vol.clip = 1; o->vol.clip_lo = -1000; o->vol.clip_hi = 1000;
    o->vol.spacing_set = 1;
    o->vol.spacing[0] = 0.75; o->vol.spacing[1] = 0.75; o->vol.spacing[2] = 1.5;
    o->vol.grid = MG_GRID_SCALE;
    o->vol.window = 1; o->vol.win_lo = -1000; o->vol.win_hi = 1000;
    o->vol.out_lo = -1; o->vol.out_hi = 1;
    o->vol.crop_pad[0] = 480; o->vol.crop_pad[1] = 480; o->vol.crop_pad[2] = 240;
    o->vol.pad_value = -1;
}

static void m3d(mg_prep_opts *o)
{
    /* M3D: per-volume min-max, CropForeground, Resize to 32x256x256 */
    o->vol = mg_volume_prep_default();
    o->vol.minmax = 1;
    o->vol.crop_fg = 1; o->vol.fg_threshold = 0;
    o->vol.resize[0] = 256; o->vol.resize[1] = 256; o->vol.resize[2] = 32;
}

static void merlin(mg_prep_opts *o)
{
    /* Merlin monai_transforms.py: Orientation RAS, Spacing (1.5,1.5,3),
     * clip [-1000,1000] to [0,1], SpatialPad + CenterSpatialCrop 224x224x160 */
    o->vol = mg_volume_prep_default();
    o->vol.ras = 1;
    o->vol.spacing_set = 1;
    o->vol.spacing[0] = 1.5; o->vol.spacing[1] = 1.5; o->vol.spacing[2] = 3;
    o->vol.window = 1; o->vol.win_lo = -1000; o->vol.win_hi = 1000;
    o->vol.out_lo = 0; o->vol.out_hi = 1;
    o->vol.crop_pad[0] = 224; o->vol.crop_pad[1] = 224; o->vol.crop_pad[2] = 160;
}

static void medgemma_ct(mg_prep_opts *o)
{
    /* MedGemma CT: <= 85 axial slices, three windows as RGB, then the
     * MedGemma 2D input (pad, 896 bilinear, 0.5/0.5) */
    o->vol = mg_volume_prep_default();
    o->vol.ras = 1;
    o->slices = 85;
    mg_preset_medgemma_windows(o);
    medgemma_896(o);
}

static const mg_preset_info presets[] = {
    { "medsiglip-448", MG_PRESET_2D, "MedSigLIP: pad to square, 448 bicubic, mean/std 0.5" },
    { "medgemma-896", MG_PRESET_2D, "MedGemma: pad to square, 896 bilinear, mean/std 0.5" },
    { "rad-dino", MG_PRESET_2D, "RAD-DINO: shortest edge 518, centre crop 518, bicubic" },
    { "ct-clip", MG_PRESET_3D, "CT-CLIP: 0.75x0.75x1.5 mm, [-1000,1000] to [-1,1], 480x480x240" },
    { "m3d", MG_PRESET_3D, "M3D: min-max, crop foreground, resize 256x256x32" },
    { "merlin", MG_PRESET_3D, "Merlin: RAS, 1.5x1.5x3 mm, [-1000,1000] to [0,1], 224x224x160" },
    { "medgemma-ct", MG_PRESET_3D, "MedGemma CT: 85 axial slices, 3 windows as RGB, 896" },
};
/* same order as presets[] */
static void (*const preset_fn[])(mg_prep_opts *) = {
    medsiglip_448, medgemma_896, rad_dino, ct_clip, m3d, merlin, medgemma_ct,
};

const mg_preset_info *mg_preset_list(size_t *n)
{
    *n = sizeof presets / sizeof presets[0];
    return presets;
}

int mg_preset_apply(const char *name, mg_prep_opts *o, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(name, presets[i].name)) {
            preset_fn[i](o);
            o->kind = presets[i].kind;
            o->preset = presets[i].name;
            return 0;
        }
    /* the known names, from the table */
    char names[256];
    size_t len = 0;
    names[0] = 0;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0] && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", presets[i].name);
    mg_seterr(err, errlen, "unknown preset '%s' (%s)", name, names);
    return -1;
}

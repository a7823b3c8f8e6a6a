/* libFuzzer harness for mg-preprocess's readers: any bytes are written to a
 * file (libtiff, libpng, libjpeg and libnifti read files), sniffed, and read
 * as the format they claim: PNG, JPEG, TIFF pages, a TIFF slide (a few tiles),
 * NIfTI volumes (then reoriented and resampled a little, whole and a slab at
 * a time). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_image.h"
#include "mg_nifti.h"
#include "mg_slide.h"
#include "mg_tiff.h"
#include "mg_volume.h"
#include "mg_volume_prep.h"

static int stop_after_four(void *ctx, const mg_image *tile, int64_t x0, int64_t y0, int level, double mpp)
{
    int *n = ctx;
    (void)tile; (void)x0; (void)y0; (void)level; (void)mpp;
    return ++*n >= 4 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_preprocess.%d.nii", (int)getpid());
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    if (fwrite(data, 1, size, fp) != size) { fclose(fp); return 0; }
    if (fclose(fp) != 0) return 0;
    char err[256];
    mg_format fmt;
    if (mg_format_sniff_file(path, &fmt, err, sizeof err) < 0) return 0;
    if (fmt == MG_FMT_PNG) {
        mg_image_free(mg_image_read_png(path, err, sizeof err));
    } else if (fmt == MG_FMT_JPEG) {
        mg_image_free(mg_image_read_jpeg(path, err, sizeof err));
    } else if (fmt == MG_FMT_TIFF) {
        mg_tiff *t = mg_tiff_open(path, err, sizeof err);
        if (t) {
            mg_tiff_dir d;
            for (int p = 0; p < mg_tiff_npages(t) && p < 3; p++)
                if (mg_tiff_select(t, p, 0, &d, err, sizeof err) == 0)
                    mg_image_free(mg_tiff_read_region(t, -3, -3, 40, 40, err, sizeof err));
            mg_tiff_close(t);
        }
        mg_slide *s = mg_slide_open(path, err, sizeof err);
        if (s) {
            mg_slide_params sp = mg_slide_params_default();
            sp.tile = sp.stride = 16;
            sp.tissue = MG_TISSUE_OTSU;
            int n = 0;
            mg_slide_tiles(s, &sp, stop_after_four, &n, err, sizeof err);
            mg_slide_close(s);
        }
    } else if (fmt == MG_FMT_NIFTI) {
        mg_volume *v = mg_nifti_read(path, NULL, err, sizeof err);
        if (v) {
            double sp[3];
            mg_volume_spacing(v, sp);
            double target[3] = { sp[0] * 1.7, sp[1] * 1.7, sp[2] * 1.7 };
            if (mg_volume_reorient_ras(v, err, sizeof err) == 0)
                mg_volume_resample_spacing(v, target, MG_INTERP_LINEAR, NULL, err, sizeof err);
            mg_volume_free(v);
        }
        /* the slab path: streamed slices, RAS view, slab-wise resampling */
        mg_nifti_file *f = mg_nifti_open(path, NULL, err, sizeof err);
        if (f) {
            const mg_volume_src *s = mg_nifti_src(f);
            mg_volume_prep p = mg_volume_prep_default();
            p.ras = p.clip = 1;
            p.clip_lo = -100;
            p.clip_hi = 100;
            p.spacing_set = 1;
            double sp[3];
            for (int a = 0; a < 3; a++) {
                sp[a] = 0;
                for (int i = 0; i < 3; i++) sp[a] += s->affine[i * 4 + a] * s->affine[i * 4 + a];
                p.spacing[a] = 1.3 * sqrt(sp[a]);
            }
            mg_volume_free(mg_volume_prep_src(&p, s, NULL, err, sizeof err));
            mg_nifti_close(f);
        }
    }
    return 0;
}

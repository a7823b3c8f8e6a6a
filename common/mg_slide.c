/* mg_slide.c: pyramidal TIFF slides, tissue masks and tiling (see mg_slide.h). */
#include "mg_slide.h"
#include "mg_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_tiff.h"

struct mg_slide {
    mg_tiff *t;
    int n;
    mg_slide_level lv[MG_SLIDE_MAX_LEVELS];
};

mg_slide_params mg_slide_params_default(void)
{
    mg_slide_params p;
    memset(&p, 0, sizeof p);
    p.tile = p.stride = 224;
    p.tissue = MG_TISSUE_SATURATION;
    p.sat_threshold = 8;
    p.min_tissue = 0.25;
    p.thumb_min = 1024;
    return p;
}

/* Aperio ImageDescription: "...|MPP = 0.4990|..." */
static double aperio_mpp(const char *desc)
{
    if (!desc || strncmp(desc, "Aperio", 6)) return 0;
    const char *m = strstr(desc, "MPP = ");
    if (!m) return 0;
    double v = strtod(m + 6, NULL);
    return isfinite(v) && v > 0 ? v : 0;
}

static int add_level(mg_slide *s, int page, int sub, const mg_tiff_dir *d)
{
    if (s->n >= MG_SLIDE_MAX_LEVELS) return 0;
    mg_slide_level *l = &s->lv[s->n++];
    l->page = page; l->sub = sub; l->w = d->w; l->h = d->h;
    l->mpp = d->mpp_x > 0 && d->mpp_y > 0 ? 0.5 * (d->mpp_x + d->mpp_y) : 0;
    return 0;
}

static int cmp_level(const void *a, const void *b)
{
    const mg_slide_level *x = a, *y = b;
    return x->w > y->w ? -1 : x->w < y->w ? 1 : 0;
}

mg_slide *mg_slide_open(const char *path, char *err, size_t errlen)
{
    mg_slide *s = calloc(1, sizeof *s);
    if (!s) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    mg_tiff_dir d;
    s->t = mg_tiff_open(path, err, errlen);
    if (!s->t) goto fail;
    if (mg_tiff_select(s->t, 0, 0, &d, err, errlen) < 0) goto fail;
    if (!d.tiled) { mg_seterr(err, errlen, "not a tiled TIFF: page 0 is stored in strips"); goto fail; }
    double mpp0 = aperio_mpp(mg_tiff_description(s->t));
    add_level(s, 0, 0, &d);
    int nsub = d.n_subifd;
    for (int k = 1; k <= nsub; k++) {
        mg_tiff_dir ds;
        if (mg_tiff_select(s->t, 0, k, &ds, err, errlen) < 0) goto fail;
        if (ds.tiled) add_level(s, 0, k, &ds);
    }
    for (int p = 1; p < mg_tiff_npages(s->t); p++) {
        mg_tiff_dir dp;
        if (mg_tiff_select(s->t, p, 0, &dp, err, errlen) < 0) goto fail;
        /* OpenSlide generic TIFF: later tiled IFDs with REDUCEDIMAGE only */
        if (dp.tiled && dp.reduced) add_level(s, p, 0, &dp);
    }
    qsort(s->lv, (size_t)s->n, sizeof *s->lv, cmp_level);
    if (s->lv[0].mpp <= 0 && mpp0 > 0) s->lv[0].mpp = mpp0;
    for (int i = 0; i < s->n; i++) {
        mg_slide_level *l = &s->lv[i];
        l->downsample = 0.5 * ((double)s->lv[0].w / l->w + (double)s->lv[0].h / l->h);
        /* levels rarely carry their own resolution tags: derive from level 0 */
        if (i > 0 && s->lv[0].mpp > 0) l->mpp = s->lv[0].mpp * l->downsample;
    }
    return s;
fail:
    mg_slide_close(s);
    return NULL;
}

void mg_slide_close(mg_slide *s)
{
    if (!s) return;
    mg_tiff_close(s->t);
    free(s);
}

int mg_slide_nlevels(const mg_slide *s) { return s->n; }

const mg_slide_level *mg_slide_level_info(const mg_slide *s, int level)
{
    return level >= 0 && level < s->n ? &s->lv[level] : NULL;
}

int mg_slide_best_level(const mg_slide *s, double target)
{
    if (target <= 0 || s->lv[0].mpp <= 0) return 0;
    int best = 0;
    double bd = INFINITY;
    for (int i = 0; i < s->n; i++) {
        double d = fabs(log(s->lv[i].mpp / target));
        if (d < bd - 1e-12) { bd = d; best = i; }
    }
    return best;
}

/* Otsu's threshold on a 256-bin histogram (maximum between-class variance). */
static int otsu(const int64_t hist[256])
{
    int64_t total = 0;
    double sum = 0;
    for (int i = 0; i < 256; i++) { total += hist[i]; sum += (double)i * hist[i]; }
    double sb = 0, wb = 0, best = -1;
    int th = 0;
    for (int t = 0; t < 256; t++) {
        wb += (double)hist[t];
        if (wb == 0) continue;
        double wf = (double)total - wb;
        if (wf == 0) break;
        sb += (double)t * hist[t];
        double mb = sb / wb, mf = (sum - sb) / wf;
        double between = wb * wf * (mb - mf) * (mb - mf);
        if (between > best) { best = between; th = t; }
    }
    return th;
}

/* Tissue mask (1 = tissue) over the level used as thumbnail. */
static uint8_t *tissue_mask(mg_slide *s, const mg_slide_params *p, int *tl,
                            char *err, size_t errlen)
{
    /* the smallest level at least thumb_min px on its longer side, so the
     * mask costs the same whatever the slide size */
    int t = 0;
    for (int i = s->n - 1; i >= 0; i--)
        if (s->lv[i].w >= p->thumb_min || s->lv[i].h >= p->thumb_min) { t = i; break; }
    const mg_slide_level *l = &s->lv[t];
    if (l->w > 16384 || l->h > 16384) {
        mg_seterr(err, errlen, "no pyramid level small enough for a tissue mask (smallest %lldx%lld)",
               (long long)l->w, (long long)l->h);
        return NULL;
    }
    mg_tiff_dir d;
    if (mg_tiff_select(s->t, l->page, l->sub, &d, err, errlen) < 0) return NULL;
    mg_image *th = mg_tiff_read_dir(s->t, err, errlen);
    if (!th) return NULL;
    size_t n = (size_t)th->w * th->h;
    uint8_t *mask = malloc(n);
    if (!mask) { mg_image_free(th); mg_seterr(err, errlen, "out of memory"); return NULL; }
    int64_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) {
        /* HSV saturation as OpenCV: (max-min)/max*255 */
        double r, g, b;
        if (th->type == MG_PIX_U8) {
            const uint8_t *px = (const uint8_t *)th->data + i * th->c;
            r = px[0]; g = th->c >= 3 ? px[1] : r; b = th->c >= 3 ? px[2] : r;
        } else if (th->type == MG_PIX_U16) {
            const uint16_t *px = (const uint16_t *)th->data + i * th->c;
            r = px[0] / 257.0; g = th->c >= 3 ? px[1] / 257.0 : r; b = th->c >= 3 ? px[2] / 257.0 : r;
        } else {
            const float *px = (const float *)th->data + i * th->c;
            r = px[0] * 255; g = th->c >= 3 ? px[1] * 255 : r; b = th->c >= 3 ? px[2] * 255 : r;
        }
        double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b));
        int sat = mx > 0 ? (int)nearbyint((mx - mn) / mx * 255.0) : 0;
        if (sat < 0) sat = 0;
        if (sat > 255) sat = 255;
        mask[i] = (uint8_t)sat;
        hist[sat]++;
    }
    int thr = p->tissue == MG_TISSUE_OTSU ? otsu(hist) : p->sat_threshold;
    for (size_t i = 0; i < n; i++) mask[i] = p->tissue == MG_TISSUE_NONE || mask[i] > thr;
    mg_image_free(th);
    *tl = t;
    return mask;
}

int64_t mg_slide_tiles(mg_slide *s, const mg_slide_params *p, mg_slide_tile_fn fn,
                       void *ctx, char *err, size_t errlen)
{
    if (p->tile <= 0 || p->stride <= 0) { mg_seterr(err, errlen, "tile and stride must be positive"); return -1; }
    int level = mg_slide_best_level(s, p->mpp);
    const mg_slide_level *L = &s->lv[level];
    int tl = 0;
    uint8_t *mask = NULL;
    if (p->tissue != MG_TISSUE_NONE) {
        mask = tissue_mask(s, p, &tl, err, errlen);
        if (!mask) return -1;
    }
    const mg_slide_level *T = &s->lv[tl];
    mg_tiff_dir d;
    if (mg_tiff_select(s->t, L->page, L->sub, &d, err, errlen) < 0) { free(mask); return -1; }
    if (d.c != 3 && d.c != 1) { free(mask); mg_seterr(err, errlen, "slide level is not grey or RGB"); return -1; }
    int64_t count = 0;
    double sx = (double)s->lv[0].w / L->w, sy = (double)s->lv[0].h / L->h;
    for (int64_t y = 0; y + p->tile <= L->h; y += p->stride)
        for (int64_t x = 0; x + p->tile <= L->w; x += p->stride) {
            if (mask) {
                /* tile footprint on the thumbnail level */
                double fx = (double)T->w / L->w, fy = (double)T->h / L->h;
                int64_t ax = (int64_t)floor(x * fx), bx = (int64_t)ceil((x + p->tile) * fx);
                int64_t ay = (int64_t)floor(y * fy), by = (int64_t)ceil((y + p->tile) * fy);
                if (bx > T->w) bx = T->w;
                if (by > T->h) by = T->h;
                int64_t in = 0, all = 0;
                for (int64_t yy = ay; yy < by; yy++)
                    for (int64_t xx = ax; xx < bx; xx++) { in += mask[yy * T->w + xx]; all++; }
                if (all == 0 || (double)in < p->min_tissue * (double)all) continue;
            }
            mg_image *im = mg_tiff_read_region(s->t, x, y, p->tile, p->tile, err, errlen);
            if (!im) { free(mask); return -1; }
            int rc = fn(ctx, im, (int64_t)nearbyint(x * sx), (int64_t)nearbyint(y * sy), level, L->mpp);
            mg_image_free(im);
            if (rc < 0) { free(mask); return -1; }
            count++;
        }
    free(mask);
    return count;
}

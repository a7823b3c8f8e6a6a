/* mg_volume_prep.c: the 3D preprocessing pipeline (see mg_volume_prep.h). */
#include "mg_volume_prep.h"
#include "mg_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mg_volume_prep mg_volume_prep_default(void)
{
    mg_volume_prep p;
    memset(&p, 0, sizeof p);
    p.out_hi = 1.0;
    return p;
}

/* Common radiology level/width pairs (HU); institutions vary. */
static const struct { const char *name; double level, width; } windows[] = {
    {"lung", -600, 1500}, {"mediastinum", 50, 350}, {"abdomen", 40, 400},
    {"bone", 400, 1800}, {"brain", 40, 80},
};

int mg_window_parse(const char *s, double *lo, double *hi)
{
    for (size_t i = 0; i < sizeof windows / sizeof *windows; i++)
        if (!strcmp(s, windows[i].name)) {
            *lo = windows[i].level - windows[i].width / 2;
            *hi = windows[i].level + windows[i].width / 2;
            return 0;
        }
    char *e;
    double l = strtod(s, &e);
    if (e == s || *e != ',') return -1;
    const char *s2 = e + 1;
    double w = strtod(s2, &e);
    if (e == s2 || *e || !isfinite(l) || !isfinite(w) || !(w > 0)) return -1;
    *lo = l - w / 2;
    *hi = l + w / 2;
    return 0;
}

int mg_volume_prep_run(const mg_volume_prep *p, mg_volume *v, mg_pool *pool,
                       char *err, size_t errlen)
{
    mg_interp mode = p->labels ? MG_INTERP_NEAREST : MG_INTERP_LINEAR;
    if (p->clip) {
        size_t n = (size_t)(v->nx * v->ny * v->nz * v->nc);
        for (size_t i = 0; i < n; i++) {
            float x = v->data[i];
            v->data[i] = x < p->clip_lo ? (float)p->clip_lo : x > p->clip_hi ? (float)p->clip_hi : x;
        }
    }
    if (p->ras && mg_volume_reorient_ras(v, err, errlen) < 0) return -1;
    if (p->spacing_set) {
        int rc = p->grid == MG_GRID_SCALE
            ? mg_volume_resample_spacing_scaled(v, p->spacing, mode, pool, err, errlen)
            : mg_volume_resample_spacing(v, p->spacing, mode, pool, err, errlen);
        if (rc < 0) return -1;
    }
    if (p->window) mg_volume_window(v, p->win_lo, p->win_hi, p->out_lo, p->out_hi);
    if (p->minmax) mg_volume_minmax(v);
    if (p->crop_fg && mg_volume_crop_foreground(v, p->fg_threshold, err, errlen) < 0) return -1;
    if (p->crop_pad[0] > 0 &&
        mg_volume_crop_pad(v, p->crop_pad[0], p->crop_pad[1], p->crop_pad[2],
                           (float)p->pad_value, err, errlen) < 0) return -1;
    if (p->resize[0] > 0 &&
        (p->resize[0] != v->nx || p->resize[1] != v->ny || p->resize[2] != v->nz) &&
        mg_volume_resize(v, p->resize[0], p->resize[1], p->resize[2], mode, pool,
                         err, errlen) < 0) return -1;
    return 0;
}

mg_volume *mg_volume_prep_src(const mg_volume_prep *p, const mg_volume_src *s, mg_pool *pool,
                              char *err, size_t errlen)
{
    mg_volume_prep rest = *p;
    mg_volume *v = NULL;
    if (!mg_volume_view_possible(s, p->ras)) {
        v = mg_volume_src_load(s, err, errlen);        /* the whole pipeline, in memory */
    } else {
        mg_volume_view *w = mg_volume_view_new(s, p->clip, p->clip_lo, p->clip_hi, p->ras, err, errlen);
        if (!w) return NULL;
        const mg_volume_src *ws = mg_volume_view_src(w);
        v = p->spacing_set
            ? mg_volume_src_resample_spacing(ws, p->spacing, p->labels ? MG_INTERP_NEAREST : MG_INTERP_LINEAR,
                                             p->grid == MG_GRID_SCALE, pool, err, errlen)
            : mg_volume_src_load(ws, err, errlen);
        mg_volume_view_free(w);
        rest.clip = rest.ras = rest.spacing_set = 0;
    }
    if (v && mg_volume_prep_run(&rest, v, pool, err, errlen) < 0) {
        mg_volume_free(v);
        v = NULL;
    }
    return v;
}

mg_image *mg_volume_slice_image(const mg_volume *v, int64_t z, int nwin,
                                const double win[][2], int radiological,
                                char *err, size_t errlen)
{
    if (z < 0 || z >= v->nz || nwin < 1 || nwin > 4) {
        mg_seterr(err, errlen, "bad slice request");
        return NULL;
    }
    if (v->nx > 65536 || v->ny > 65536) { mg_seterr(err, errlen, "slice too large"); return NULL; }
    mg_image *im = mg_image_new((int)v->nx, (int)v->ny, nwin, MG_PIX_U8);
    if (!im) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    const float *s = v->data + (size_t)(z * v->ny * v->nx);
    uint8_t *o = im->data;
    for (int64_t r = 0; r < v->ny; r++) {
        int64_t y = radiological ? v->ny - 1 - r : r;
        for (int64_t c = 0; c < v->nx; c++) {
            int64_t x = radiological ? v->nx - 1 - c : c;
            double val = s[y * v->nx + x];
            for (int k = 0; k < nwin; k++) {
                double lo = win[k][0], hi = win[k][1];
                double t = val < lo ? lo : val > hi ? hi : val;
                if (isnan(t)) t = lo;
                o[(size_t)(r * v->nx + c) * nwin + k] = (uint8_t)nearbyint((t - lo) / (hi - lo) * 255.0);
            }
        }
    }
    return im;
}

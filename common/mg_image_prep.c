/* mg_image_prep.c: the 2D preprocessing pipeline (see mg_image_prep.h). */
#include "mg_image_prep.h"
#include "mg_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mg_resize.h"

mg_image_prep mg_image_prep_default(void)
{
    mg_image_prep p;
    memset(&p, 0, sizeof p);
    p.filter = MG_FILTER_BICUBIC;
    p.rescale = -1;
    return p;
}

/* ---------------------------------------------------------- HF config */

static int json_flag(const json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* A JSON integer clamped into int so that range checks see absurd values. */
static int json_dim(const json_t *v)
{
    json_int_t k = json_integer_value(v);
    return k < 0 ? -1 : k > 65537 ? 65537 : (int)k;
}

static int json_size(const json_t *v, int *w, int *h, int *shortest, char *err, size_t errlen)
{
    /* transformers size dicts: {"height","width"}, {"shortest_edge"}, or an int */
    json_t *hh = json_object_get(v, "height"), *ww = json_object_get(v, "width");
    json_t *se = json_object_get(v, "shortest_edge");
    if (json_is_integer(v)) {
        *w = *h = json_dim(v);
    } else if (!json_is_object(v)) {
        mg_seterr(err, errlen, "size is not an object");
        return -1;
    } else if (json_is_integer(hh) && json_is_integer(ww)) {
        *h = json_dim(hh);
        *w = json_dim(ww);
    } else if (json_is_integer(se) && shortest) {
        *shortest = json_dim(se);
    } else {
        mg_seterr(err, errlen, "size needs height and width%s", shortest ? " or shortest_edge" : "");
        return -1;
    }
    /* 0x0 (or a 0 shortest edge) would make an empty image downstream */
    if (*w < 0 || *h < 0 || *w > 65536 || *h > 65536 || (shortest && (*shortest < 0 || *shortest > 65536)) ||
        ((!shortest || *shortest <= 0) && (*w < 1 || *h < 1))) {
        mg_seterr(err, errlen, "size %dx%d out of range (1..65536)", *w, *h);
        return -1;
    }
    return 0;
}

static int json_triplet(const json_t *v, double out[3], int *n, char *err, size_t errlen,
                        const char *what)
{
    if (json_is_number(v)) { out[0] = out[1] = out[2] = json_number_value(v); *n = 3; return 0; }
    if (!json_is_array(v) || (json_array_size(v) != 1 && json_array_size(v) != 3)) {
        mg_seterr(err, errlen, "%s must be a number or a list of 1 or 3 numbers", what);
        return -1;
    }
    size_t k = json_array_size(v);
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(v, k == 1 ? 0 : i);
        if (!json_is_number(e)) { mg_seterr(err, errlen, "%s holds a non-number", what); return -1; }
        out[i] = json_number_value(e);
    }
    *n = 3;
    return 0;
}

int mg_image_prep_from_hf(const char *dir, mg_image_prep *p, char *err, size_t errlen)
{
    char path[4096];
    json_error_t je;
    if (snprintf(path, sizeof path, "%s/preprocessor_config.json", dir) >= (int)sizeof path) {
        mg_seterr(err, errlen, "path too long");
        return -1;
    }
    json_t *root = json_load_file(path, 0, &je);
    if (!root) { mg_seterr(err, errlen, "%s: %s (line %d)", path, je.text, je.line); return -1; }
    int rc = -1;
    if (!json_is_object(root)) { mg_seterr(err, errlen, "%s: not a JSON object", path); goto out; }
    *p = mg_image_prep_default();
    json_t *v;
    if ((v = json_object_get(root, "size")) && json_flag(root, "do_resize", 1))
        if (json_size(v, &p->size_w, &p->size_h, &p->shortest_edge, err, errlen) < 0) goto out;
    if ((v = json_object_get(root, "crop_size")) && json_flag(root, "do_center_crop", 0))
        if (json_size(v, &p->crop_w, &p->crop_h, NULL, err, errlen) < 0) goto out;
    if ((v = json_object_get(root, "resample"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 5) {
            mg_seterr(err, errlen, "resample must be a PIL filter code 0..5");
            goto out;
        }
        p->filter = (int)json_integer_value(v);
    }
    if (json_flag(root, "do_rescale", 1) && (v = json_object_get(root, "rescale_factor"))) {
        if (!json_is_number(v) || !(json_number_value(v) > 0)) {
            mg_seterr(err, errlen, "bad rescale_factor");
            goto out;
        }
        p->rescale = json_number_value(v);
    } else if (!json_flag(root, "do_rescale", 1)) {
        p->rescale = 1.0;
    }
    json_t *m = json_object_get(root, "image_mean"), *s = json_object_get(root, "image_std");
    /* A malformed mean or std is refused even when do_normalize is off: the
     * file is not what its producer meant it to be. */
    double tm[3], ts[3];
    int nm = 0, ns = 0;
    if (m && json_triplet(m, tm, &nm, err, errlen, "image_mean") < 0) goto out;
    if (s && json_triplet(s, ts, &ns, err, errlen, "image_std") < 0) goto out;
    if (json_flag(root, "do_normalize", 1) && (m || s) && !(m && s)) {
        mg_seterr(err, errlen, "%s without %s", m ? "image_mean" : "image_std", m ? "image_std" : "image_mean");
        goto out;
    }
    if (json_flag(root, "do_normalize", m && s) && m && s) {
        memcpy(p->mean, tm, sizeof tm);
        memcpy(p->std, ts, sizeof ts);
        for (int i = 0; i < 3; i++)
            if (!(p->std[i] != 0) || !isfinite(p->std[i])) {
                mg_seterr(err, errlen, "image_std must be non-zero");
                goto out;
            }
        p->n_mean = 3;
    }
    if (json_flag(root, "do_convert_rgb", 1)) p->channels = 3;
    p->pad_square = json_flag(root, "do_pad", 0);
    rc = 0;
out:
    if (rc < 0 && err && errlen && strncmp(err, path, strlen(path)) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        mg_seterr(err, errlen, "preprocessor_config.json: %s", why);
    }
    json_decref(root);
    return rc;
}

/* ---------------------------------------------------------- pipeline */

/* Replace *cur by next (freeing the old one unless it is the caller's). */
static int step(mg_image **cur, const mg_image *orig, mg_image *next)
{
    if (!next) return -1;
    if (*cur != orig) mg_image_free(*cur);
    *cur = next;
    return 0;
}

int mg_image_prep_run(const mg_image_prep *p, const mg_image *im, float **out,
                      int *c, int *h, int *w, char *err, size_t errlen)
{
    mg_image *cur = (mg_image *)im;
    /* scale: the factor not yet applied to cur's samples (8-bit: the rescale
     * factor; 16-bit: 1/65535 until the resizer or the output applies it) */
    double scale = 1.0;
    if (im->type == MG_PIX_U8) scale = p->rescale < 0 ? 1.0 / 255.0 : p->rescale;
    else if (im->type == MG_PIX_U16) scale = 1.0 / 65535.0;
    /* Dropping channels first and copying grey to RGB last gives the same
     * pixels (resizing is per channel) for a third of the work. */
    if (p->channels && p->channels < cur->c)
        if (step(&cur, im, mg_image_to_channels(cur, p->channels, err, errlen)) < 0) goto fail;
    if (p->pad_square && cur->w != cur->h)
        if (step(&cur, im, mg_image_pad_square(cur, err, errlen)) < 0) goto fail;
    int ow = 0, oh = 0;
    if (p->size_w > 0 && p->size_h > 0) {
        ow = p->size_w; oh = p->size_h;
    } else if (p->shortest_edge > 0) {
        /* transformers get_resize_output_image_size(default_to_square=False) */
        int sh = cur->w <= cur->h ? cur->w : cur->h, lg = cur->w <= cur->h ? cur->h : cur->w;
        int nl = (int)((double)p->shortest_edge * lg / sh);
        if (cur->w <= cur->h) { ow = p->shortest_edge; oh = nl; }
        else { ow = nl; oh = p->shortest_edge; }
    }
    if (ow > 0 && (ow != cur->w || oh != cur->h)) {
        int u16 = cur->type == MG_PIX_U16;
        if (step(&cur, im, mg_resize_ex(cur, ow, oh, p->filter, u16 ? scale : 1.0, p->pool,
                                        err, errlen)) < 0) goto fail;
        if (u16) scale = 1.0;
    }
    if (p->crop_w > 0 && p->crop_h > 0 && (p->crop_w != cur->w || p->crop_h != cur->h)) {
        if (p->crop_w > cur->w || p->crop_h > cur->h) {
            mg_seterr(err, errlen, "centre crop %dx%d is larger than the %dx%d image",
                   p->crop_w, p->crop_h, cur->w, cur->h);
            goto fail;
        }
        if (step(&cur, im, mg_image_center_crop(cur, p->crop_w, p->crop_h, err, errlen)) < 0) goto fail;
    }
    int nc = p->channels && p->channels > cur->c ? p->channels : cur->c;
    if (nc != cur->c && cur->c != 1)
        if (step(&cur, im, mg_image_to_channels(cur, nc, err, errlen)) < 0) goto fail;
    size_t n = (size_t)cur->w * cur->h * nc;
    float *buf = malloc(n * sizeof *buf);
    if (!buf) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    /* (v*scale - mean)/std, computed in double per sample */
    double mean[4] = {0, 0, 0, 0}, sd[4] = {1, 1, 1, 1};
    if (p->n_mean)
        for (int k = 0; k < nc && k < 3; k++) { mean[k] = p->mean[k] / scale; sd[k] = p->std[k] / scale; }
    else
        for (int k = 0; k < nc; k++) sd[k] = 1.0 / scale;
    mg_image_to_planes(cur, nc, mean, sd, buf);
    *out = buf;
    *c = nc; *h = cur->h; *w = cur->w;
    if (cur != im) mg_image_free(cur);
    return 0;
fail:
    if (cur != im) mg_image_free(cur);
    return -1;
}

/* mg_resize.c: Pillow-compatible convolution resampling (see mg_resize.h).
 *
 * Coefficients, bounds and the fixed-point rounding follow the arithmetic of
 * Pillow's libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
 * the 8bpc and 32bpc passes) so that 8-bit results are bit-identical. */
#include "mg_resize.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Pillow: PRECISION_BITS = 32 - 8 - 2, so 255 * sum|w| cannot overflow int32. */
#define PRECISION_BITS 22

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const struct { const char *name; int code; } filter_names[] = {
    {"nearest", MG_FILTER_NEAREST}, {"lanczos", MG_FILTER_LANCZOS},
    {"bilinear", MG_FILTER_BILINEAR}, {"bicubic", MG_FILTER_BICUBIC},
    {"box", MG_FILTER_BOX}, {"hamming", MG_FILTER_HAMMING},
};

int mg_filter_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof filter_names / sizeof *filter_names; i++)
        if (!strcasecmp(name, filter_names[i].name)) return filter_names[i].code;
    return -1;
}

const char *mg_filter_name(int filter)
{
    for (size_t i = 0; i < sizeof filter_names / sizeof *filter_names; i++)
        if (filter == filter_names[i].code) return filter_names[i].name;
    return "unknown";
}

/* ---- filters: Pillow's kernels and supports ---- */
static double f_box(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }
static double f_bilinear(double x)
{
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}
static double f_hamming(double x)
{
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x *= M_PI;
    return sin(x) / x * (0.54 + 0.46 * cos(x));
}
static double f_bicubic(double x)
{
    const double a = -0.5;      /* Pillow's bicubic uses a = -0.5 */
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}
static double sinc(double x)
{
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}
static double f_lanczos(double x)
{
    return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

typedef struct { double (*fn)(double); double support; } filter_def;

static int get_filter(int code, filter_def *f)
{
    switch (code) {
    case MG_FILTER_BOX: f->fn = f_box; f->support = 0.5; return 0;
    case MG_FILTER_BILINEAR: f->fn = f_bilinear; f->support = 1.0; return 0;
    case MG_FILTER_HAMMING: f->fn = f_hamming; f->support = 1.0; return 0;
    case MG_FILTER_BICUBIC: f->fn = f_bicubic; f->support = 2.0; return 0;
    case MG_FILTER_LANCZOS: f->fn = f_lanczos; f->support = 3.0; return 0;
    default: return -1;
    }
}

/* Per output index: first input index, count, and ksize weights (Pillow's
 * precompute_coeffs with box (0, in_size)). Returns ksize, or -1. */
static int precompute_coeffs(int in_size, int out_size, const filter_def *f,
                             int **boundsp, double **kkp)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = f->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *kk = malloc((size_t)out_size * ksize * sizeof *kk);
    int *bounds = malloc((size_t)out_size * 2 * sizeof *bounds);
    if (!kk || !bounds) { free(kk); free(bounds); return -1; }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = &kk[(size_t)xx * ksize];
        int x;
        for (x = 0; x < xmax; x++) {
            double w = f->fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    *boundsp = bounds;
    *kkp = kk;
    return ksize;
}

/* Pillow normalize_coeffs_8bpc: round half away from zero to 22 bits. */
static int32_t *fixed_coeffs(const double *kk, size_t n)
{
    int32_t *k = malloc(n * sizeof *k);
    if (!k) return NULL;
    for (size_t i = 0; i < n; i++)
        k[i] = kk[i] < 0 ? (int32_t)(-0.5 + kk[i] * (1 << PRECISION_BITS))
                         : (int32_t)(0.5 + kk[i] * (1 << PRECISION_BITS));
    return k;
}

static inline uint8_t clip8(int32_t v)
{
    /* Arithmetic shift floors negatives, then clamp (Pillow's clip8). */
    int32_t s = v >> PRECISION_BITS;
    return s < 0 ? 0 : s > 255 ? 255 : (uint8_t)s;
}

/* One separable pass along a line of n_out outputs. Input samples at
 * in[(bounds+x)*step] for channel offset already applied. */
static void pass_u8(const uint8_t *in, size_t in_step, uint8_t *out, size_t out_step,
                    int n_out, int ksize, const int *bounds, const int32_t *k)
{
    for (int i = 0; i < n_out; i++) {
        int xmin = bounds[2 * i], xmax = bounds[2 * i + 1];
        const int32_t *w = k + (size_t)i * ksize;
        int32_t ss = 1 << (PRECISION_BITS - 1);
        for (int x = 0; x < xmax; x++) ss += in[(size_t)(xmin + x) * in_step] * w[x];
        out[(size_t)i * out_step] = clip8(ss);
    }
}

static void pass_f32(const float *in, size_t in_step, float *out, size_t out_step,
                     int n_out, int ksize, const int *bounds, const double *k)
{
    for (int i = 0; i < n_out; i++) {
        int xmin = bounds[2 * i], xmax = bounds[2 * i + 1];
        const double *w = k + (size_t)i * ksize;
        double ss = 0.0;
        for (int x = 0; x < xmax; x++) ss += in[(size_t)(xmin + x) * in_step] * w[x];
        out[(size_t)i * out_step] = (float)ss;
    }
}

/* Pillow resizes with NEAREST through ImagingScaleAffine: the source
 * coordinate starts at scale/2 and is advanced by adding scale (the rounding
 * of that running sum decides ties, so it is reproduced as is). */
static int *nearest_index(int in, int out)
{
    int *idx = malloc((size_t)out * sizeof *idx);
    if (!idx) return NULL;
    double s = (double)in / out, v = s * 0.5;
    for (int i = 0; i < out; i++, v += s) idx[i] = (int)v < in ? (int)v : in - 1;
    return idx;
}

static mg_image *resize_nearest(const mg_image *im, int ow, int oh, char *err, size_t errlen)
{
    mg_image *out = mg_image_new(ow, oh, im->c, im->type);
    int *ix = nearest_index(im->w, ow), *iy = nearest_index(im->h, oh);
    if (!out || !ix || !iy) {
        seterr(err, errlen, "out of memory");
        mg_image_free(out); free(ix); free(iy);
        return NULL;
    }
    size_t ps = (size_t)im->c * mg_pix_size(im->type);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
            memcpy((char *)out->data + ((size_t)y * ow + x) * ps,
                   (const char *)im->data + ((size_t)iy[y] * im->w + ix[x]) * ps, ps);
    free(ix); free(iy);
    return out;
}

mg_image *mg_resize(const mg_image *im, int ow, int oh, int filter, char *err, size_t errlen)
{
    filter_def f;
    int *bh = NULL, *bv = NULL;
    double *kh = NULL, *kv = NULL;
    int32_t *ih = NULL, *iv = NULL;
    mg_image *tmp = NULL, *out = NULL;
    if (ow <= 0 || oh <= 0 || (long long)ow * oh * im->c > MG_IMAGE_MAX_SAMPLES) {
        seterr(err, errlen, "bad output size %dx%d", ow, oh);
        return NULL;
    }
    if (im->type == MG_PIX_U16) {
        seterr(err, errlen, "16-bit images must be converted to float before resizing");
        return NULL;
    }
    if (filter == MG_FILTER_NEAREST) return resize_nearest(im, ow, oh, err, errlen);
    if (get_filter(filter, &f) < 0) {
        seterr(err, errlen, "unknown resampling filter %d", filter);
        return NULL;
    }
    int c = im->c, u8 = im->type == MG_PIX_U8;
    int ksh = precompute_coeffs(im->w, ow, &f, &bh, &kh);
    int ksv = precompute_coeffs(im->h, oh, &f, &bv, &kv);
    if (ksh < 0 || ksv < 0) goto nomem;
    if (u8) {
        ih = fixed_coeffs(kh, (size_t)ow * ksh);
        iv = fixed_coeffs(kv, (size_t)oh * ksv);
        if (!ih || !iv) goto nomem;
    }
    /* Horizontal pass only over the rows the vertical pass reads (Pillow's
     * ybox_first..ybox_last), then the vertical pass with shifted bounds. */
    int need_h = ow != im->w, need_v = oh != im->h;
    int y_first = 0, y_last = im->h;
    if (need_v) {
        y_first = bv[0];
        y_last = bv[(oh - 1) * 2] + bv[(oh - 1) * 2 + 1];
    }
    const mg_image *src = im;
    int row0 = 0;
    if (need_h) {
        tmp = mg_image_new(ow, y_last - y_first, c, im->type);
        if (!tmp) goto nomem;
        for (int y = y_first; y < y_last; y++)
            for (int ch = 0; ch < c; ch++) {
                size_t ib = (size_t)y * im->w * c + ch, ob = (size_t)(y - y_first) * ow * c + ch;
                if (u8) pass_u8((const uint8_t *)im->data + ib, c, (uint8_t *)tmp->data + ob, c,
                                ow, ksh, bh, ih);
                else pass_f32((const float *)im->data + ib, c, (float *)tmp->data + ob, c,
                              ow, ksh, bh, kh);
            }
        src = tmp;
        row0 = y_first;
    }
    if (need_v) {
        out = mg_image_new(ow, oh, c, im->type);
        if (!out) goto nomem;
        for (int i = 0; i < oh; i++) bv[2 * i] -= row0;
        /* Row by row over the output so the k input rows are read
         * sequentially; per sample the sum runs over k in the same order as
         * Pillow's ImagingResampleVertical. */
        size_t stride = (size_t)ow * c;
        for (int i = 0; i < oh; i++) {
            int ymin = bv[2 * i], ymax = bv[2 * i + 1];
            if (u8) {
                const int32_t *k = iv + (size_t)i * ksv;
                const uint8_t *s0 = (const uint8_t *)src->data + (size_t)ymin * stride;
                uint8_t *o = (uint8_t *)out->data + (size_t)i * stride;
                for (size_t x = 0; x < stride; x++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (int y = 0; y < ymax; y++) ss += s0[(size_t)y * stride + x] * k[y];
                    o[x] = clip8(ss);
                }
            } else {
                const double *k = kv + (size_t)i * ksv;
                const float *s0 = (const float *)src->data + (size_t)ymin * stride;
                float *o = (float *)out->data + (size_t)i * stride;
                for (size_t x = 0; x < stride; x++) {
                    double ss = 0.0;
                    for (int y = 0; y < ymax; y++) ss += s0[(size_t)y * stride + x] * k[y];
                    o[x] = (float)ss;
                }
            }
        }
        mg_image_free(tmp);
        tmp = NULL;
    } else if (tmp) {
        out = tmp;
        tmp = NULL;
    } else {
        out = mg_image_new(ow, oh, c, im->type);
        if (!out) goto nomem;
        memcpy(out->data, im->data, (size_t)ow * oh * c * mg_pix_size(im->type));
    }
    free(bh); free(bv); free(kh); free(kv); free(ih); free(iv);
    return out;
nomem:
    seterr(err, errlen, "out of memory");
    free(bh); free(bv); free(kh); free(kv); free(ih); free(iv);
    mg_image_free(tmp);
    mg_image_free(out);
    return NULL;
}

/* mg_resize.c: Pillow-compatible convolution resampling (see mg_resize.h).
 *
 * Coefficients, bounds and the fixed-point rounding follow the arithmetic of
 * Pillow's libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
 * the 8bpc passes) so that 8-bit results are bit-identical.
 *
 * Speed: every output row depends only on a few input rows, so output rows
 * are split across threads and each row is computed the same way whatever
 * the split (identical results for any thread count). The loops that touch
 * every input sample run across contiguous samples (or across rows
 * interleaved sample by sample) in fixed-length blocks with restrict
 * pointers, the shape gcc vectorises at -O2 with the baseline instruction
 * set; on x86-64 an AVX2 copy of each is picked at run time (HOT). */
#include "mg_resize.h"
#include "mg_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Pillow: PRECISION_BITS = 32 - 8 - 2, so 255 * sum|w| cannot overflow int32. */
#define PRECISION_BITS 22
/* On x86-64 the loops over every sample are also compiled for AVX2 and the
 * version is picked at run time (GCC function multiversioning). Each lane
 * does the same IEEE operations in the same order either way (ISO C mode
 * contracts no multiply-add), so results do not depend on the CPU. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) \
    && !defined(MG_NO_CLONES)
#define HOT __attribute__((target_clones("avx2", "default")))
#define MG_AVX2 1
#else
#define HOT
#endif

/* Length of the partial-sum arrays of the vectorised loops (two 128-bit
 * float vectors each; gcc keeps a few such arrays in registers but spills
 * longer ones). */
#define VB 8
/* Rows resized horizontally at once, one vector lane per row (see
 * hpass8_f32 and hpass8_u8). */
#define HROWS 8

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

/* The weights of one axis: for output index i, taps bounds[2i+1] input
 * samples from bounds[2i] with weights kd[i*ksize ...] (Pillow's doubles),
 * the same as float times the input scale (kf), or as Pillow's 22-bit fixed
 * point (ki). */
typedef struct {
    int n, ksize;
    int *bounds;
    double *kd;
    float *kf;
    int32_t *ki;
} axis;

static void axis_free(axis *a)
{
    free(a->bounds); free(a->kd); free(a->kf); free(a->ki);
    memset(a, 0, sizeof *a);
}

/* Pillow's precompute_coeffs with box (0, in_size), then the float or
 * fixed-point copy (normalize_coeffs_8bpc: round half away from zero).
 * 0, or -1 when out of memory. */
static int axis_init(axis *a, int in_size, int out_size, const filter_def *f, int u8,
                     double scale)
{
    double sc = (double)in_size / out_size;
    double filterscale = sc < 1.0 ? 1.0 : sc;
    double support = f->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    size_t nk = (size_t)out_size * ksize;
    memset(a, 0, sizeof *a);
    a->n = out_size;
    a->ksize = ksize;
    a->kd = malloc(nk * sizeof *a->kd);
    a->bounds = malloc((size_t)out_size * 2 * sizeof *a->bounds);
    if (u8) a->ki = malloc(nk * sizeof *a->ki);
    else a->kf = malloc(nk * sizeof *a->kf);
    if (!a->kd || !a->bounds || (u8 ? !a->ki : !a->kf)) { axis_free(a); return -1; }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * sc;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *k = &a->kd[(size_t)xx * ksize];
        int x;
        for (x = 0; x < xmax; x++) {
            double w = f->fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (x = 0; x < xmax; x++)
            if (ww != 0.0) k[x] /= ww;
        for (; x < ksize; x++) k[x] = 0;
        a->bounds[xx * 2] = xmin;
        a->bounds[xx * 2 + 1] = xmax;
    }
    for (size_t i = 0; i < nk; i++) {
        double k = a->kd[i];
        if (u8) a->ki[i] = k < 0 ? (int32_t)(-0.5 + k * (1 << PRECISION_BITS))
                                 : (int32_t)(0.5 + k * (1 << PRECISION_BITS));
        else a->kf[i] = (float)(k * scale);
    }
    return 0;
}

static inline uint8_t clip8(int32_t v)
{
    /* Arithmetic shift floors negatives, then clamp (Pillow's clip8). */
    int32_t s = v >> PRECISION_BITS;
    return s < 0 ? 0 : s > 255 ? 255 : (uint8_t)s;
}

/* ---------------------------------------------------------------- 8-bit */

/* Horizontal pass of one row of c interleaved channels (Pillow's
 * ImagingResampleHorizontal_8bpc; integer sums, so the order of the taps
 * does not matter). */
HOT static void hpass_u8(const uint8_t *restrict in, uint8_t *restrict out, int c, const axis *a)
{
    for (int i = 0; i < a->n; i++) {
        int xmin = a->bounds[2 * i], n = a->bounds[2 * i + 1];
        const int32_t *w = a->ki + (size_t)i * a->ksize;
        const uint8_t *s = in + (size_t)xmin * c;
        int32_t ss[4];
        for (int ch = 0; ch < c; ch++) ss[ch] = 1 << (PRECISION_BITS - 1);
        if (c == 1) {
            for (int x = 0; x < n; x++) ss[0] += s[x] * w[x];
        } else if (c == 3) {
            for (int x = 0; x < n; x++) {
                ss[0] += s[3 * x] * w[x];
                ss[1] += s[3 * x + 1] * w[x];
                ss[2] += s[3 * x + 2] * w[x];
            }
        } else {
            for (int x = 0; x < n; x++)
                for (int ch = 0; ch < c; ch++) ss[ch] += s[x * c + ch] * w[x];
        }
        for (int ch = 0; ch < c; ch++) out[(size_t)i * c + ch] = clip8(ss[ch]);
    }
}

/* Eight rows of n bytes widened and interleaved: d[8k + r] = rows[r][k]. */
HOT static void widen8_u8(const uint8_t *const *rows, int32_t *restrict d, size_t n)
{
    const uint8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const uint8_t *r4 = rows[4], *r5 = rows[5], *r6 = rows[6], *r7 = rows[7];
    for (size_t k = 0; k < n; k++) {
        d[8 * k] = r0[k]; d[8 * k + 1] = r1[k]; d[8 * k + 2] = r2[k]; d[8 * k + 3] = r3[k];
        d[8 * k + 4] = r4[k]; d[8 * k + 5] = r5[k]; d[8 * k + 6] = r6[k]; d[8 * k + 7] = r7[k];
    }
}

/* hpass_u8 on HROWS rows at once from their widened, interleaved samples;
 * output row r at out + r*out_stride. Integer sums: the same bytes as one
 * row at a time. */
HOT static void hpass8_u8(const int32_t *restrict in8, uint8_t *restrict out, size_t out_stride,
                          int c, const axis *a)
{
    size_t step = (size_t)HROWS * c;
    for (int i = 0; i < a->n; i++) {
        int xmin = a->bounds[2 * i], n = a->bounds[2 * i + 1];
        const int32_t *restrict w = a->ki + (size_t)i * a->ksize;
        for (int ch = 0; ch < c; ch++) {
            const int32_t *restrict s = in8 + ((size_t)xmin * c + ch) * HROWS;
            int32_t p[HROWS];
            for (int r = 0; r < HROWS; r++) p[r] = 0;
            for (int x = 0; x < n; x++)
                for (int r = 0; r < HROWS; r++) p[r] += w[x] * s[step * x + r];
            for (int r = 0; r < HROWS; r++)
                out[r * out_stride + (size_t)i * c + ch] = clip8(p[r] + (1 << (PRECISION_BITS - 1)));
        }
    }
}

/* Vertical pass for one output row of len samples from n rows at src, in
 * blocks of 2*VB columns (a shape gcc vectorises, widening the bytes). */
HOT static void vpass_u8(const uint8_t *src, size_t stride, int n, const int32_t *w,
                         uint8_t *restrict out, size_t len)
{
    size_t j0 = 0;
    for (; j0 + 2 * VB <= len; j0 += 2 * VB) {
        int32_t a[2 * VB];
        for (int j = 0; j < 2 * VB; j++) a[j] = 0;
        for (int t = 0; t < n; t++) {
            const uint8_t *restrict s = src + (size_t)t * stride + j0;
            int32_t k = w[t];
            for (int j = 0; j < 2 * VB; j++) a[j] += k * (int32_t)s[j];
        }
        for (int j = 0; j < 2 * VB; j++) out[j0 + j] = clip8(a[j] + (1 << (PRECISION_BITS - 1)));
    }
    for (; j0 < len; j0++) {
        int32_t ss = 1 << (PRECISION_BITS - 1);
        for (int t = 0; t < n; t++) ss += src[(size_t)t * stride + j0] * w[t];
        out[j0] = clip8(ss);
    }
}

/* ------------------------------------------------------- 16-bit and float */

/* Vertical pass for one row: acc[j*os] = sum_t k[t] * rows[t][j] in float
 * (os > 1 writes one row of the interleaved layout of hpass8_f32), each
 * column summed over t in order whatever the block it falls in. Blocks of
 * NV*VB columns are summed over all taps at once: gcc keeps the NV
 * partial-sum arrays in vector registers and vectorises the fixed-length j
 * loops at -O2. NV is 4 for 128-bit vectors (more spill) and 8 for AVX2,
 * hence two copies of the kernel instead of one HOT function. */
#define VPASS_F32(NAME, NV)                                                      \
static void NAME(const float *const *rows, int n, const float *k,                \
                 float *restrict acc, size_t os, size_t len)                     \
{                                                                                \
    size_t j0 = 0;                                                               \
    for (; j0 + NV * VB <= len; j0 += NV * VB) {                                 \
        float a0[VB], a1[VB], a2[VB], a3[VB], a4[VB], a5[VB], a6[VB], a7[VB];    \
        for (int j = 0; j < VB; j++)                                             \
            a0[j] = a1[j] = a2[j] = a3[j] = a4[j] = a5[j] = a6[j] = a7[j] = 0;   \
        for (int t = 0; t < n; t++) {                                            \
            const float *restrict s = rows[t] + j0;                              \
            float w = k[t];                                                      \
            for (int j = 0; j < VB; j++) a0[j] += w * s[j];                      \
            for (int j = 0; j < VB; j++) a1[j] += w * s[VB + j];                 \
            for (int j = 0; j < VB; j++) a2[j] += w * s[2 * VB + j];             \
            for (int j = 0; j < VB; j++) a3[j] += w * s[3 * VB + j];             \
            if (NV == 8) {                                                       \
                for (int j = 0; j < VB; j++) a4[j] += w * s[4 * VB + j];         \
                for (int j = 0; j < VB; j++) a5[j] += w * s[5 * VB + j];         \
                for (int j = 0; j < VB; j++) a6[j] += w * s[6 * VB + j];         \
                for (int j = 0; j < VB; j++) a7[j] += w * s[7 * VB + j];         \
            }                                                                    \
        }                                                                        \
        float *restrict d = acc + j0 * os;                                       \
        for (int j = 0; j < VB; j++) {                                           \
            d[j * os] = a0[j]; d[(VB + j) * os] = a1[j];                         \
            d[(2 * VB + j) * os] = a2[j]; d[(3 * VB + j) * os] = a3[j];          \
            if (NV == 8) {                                                       \
                d[(4 * VB + j) * os] = a4[j]; d[(5 * VB + j) * os] = a5[j];      \
                d[(6 * VB + j) * os] = a6[j]; d[(7 * VB + j) * os] = a7[j];      \
            }                                                                    \
        }                                                                        \
    }                                                                            \
    for (; j0 + VB <= len; j0 += VB) {                                           \
        float a[VB];                                                             \
        for (int j = 0; j < VB; j++) a[j] = 0;                                   \
        for (int t = 0; t < n; t++) {                                            \
            const float *restrict s = rows[t] + j0;                              \
            float w = k[t];                                                      \
            for (int j = 0; j < VB; j++) a[j] += w * s[j];                       \
        }                                                                        \
        for (int j = 0; j < VB; j++) acc[(j0 + j) * os] = a[j];                  \
    }                                                                            \
    for (; j0 < len; j0++) {                                                     \
        float s = 0;                                                             \
        for (int t = 0; t < n; t++) s += k[t] * rows[t][j0];                     \
        acc[j0 * os] = s;                                                        \
    }                                                                            \
}
VPASS_F32(vpass_f32_base, 4)
#ifdef MG_AVX2
__attribute__((target("avx2"))) VPASS_F32(vpass_f32_avx2, 8)
#endif

static void vpass_f32(const float *const *rows, int n, const float *k,
                      float *restrict acc, size_t os, size_t len)
{
#ifdef MG_AVX2
    if (__builtin_cpu_supports("avx2")) {
        vpass_f32_avx2(rows, n, k, acc, os, len);
        return;
    }
#endif
    vpass_f32_base(rows, n, k, acc, os, len);
}

HOT static void u16_to_f32(const uint16_t *restrict s, float *restrict d, size_t len)
{
    size_t j0 = 0;
    for (; j0 + 2 * VB <= len; j0 += 2 * VB)
        for (int j = 0; j < 2 * VB; j++) d[j0 + j] = s[j0 + j];
    for (; j0 < len; j0++) d[j0] = s[j0];
}

/* Horizontal pass of one-channel float rows: each output the float sum of
 * its n real taps in order (so a non-finite sample reaches the same outputs
 * as in Pillow). hpass1 does one row; hpass8 eight interleaved rows with
 * the same per-row arithmetic, one vector lane per row, so a row's result
 * does not depend on whether it went through hpass1 or hpass8 (the rows of
 * a thread's share are grouped by eight from its first row). */
static void hpass1_f32(const float *restrict in, float *restrict out, const axis *a)
{
    for (int i = 0; i < a->n; i++) {
        int xmin = a->bounds[2 * i], n = a->bounds[2 * i + 1];
        const float *restrict w = a->kf + (size_t)i * a->ksize;
        const float *s = in + xmin;
        float ss = 0;
        for (int x = 0; x < n; x++) ss += w[x] * s[x];
        out[i] = ss;
    }
}

HOT static void hpass8_f32(const float *restrict in8, float *restrict out, size_t out_stride,
                           const axis *a)
{
    for (int i = 0; i < a->n; i++) {
        int xmin = a->bounds[2 * i], n = a->bounds[2 * i + 1];
        const float *restrict w = a->kf + (size_t)i * a->ksize;
        const float *restrict s = in8 + (size_t)xmin * HROWS;
        float p[HROWS];
        for (int r = 0; r < HROWS; r++) p[r] = 0;
        for (int x = 0; x < n; x++)
            for (int r = 0; r < HROWS; r++) p[r] += w[x] * s[HROWS * x + r];
        for (int r = 0; r < HROWS; r++) out[r * out_stride + (size_t)i] = p[r];
    }
}

/* Horizontal pass of c > 1 interleaved channels, per channel in double as
 * Pillow's 32bpc pass. */
static void hpassc_f32(const float *restrict in, float *restrict out, int c, const axis *a)
{
    for (int i = 0; i < a->n; i++) {
        int xmin = a->bounds[2 * i], n = a->bounds[2 * i + 1];
        const double *w = a->kd + (size_t)i * a->ksize;
        const float *s = in + (size_t)xmin * c;
        for (int ch = 0; ch < c; ch++) {
            double ss = 0;
            for (int x = 0; x < n; x++) ss += s[x * c + ch] * w[x];
            out[(size_t)i * c + ch] = (float)ss;
        }
    }
}

/* ------------------------------------------------------------- threads */

typedef struct {
    const mg_image *in;
    mg_image *out;
    const axis *h, *v;      /* NULL: that pass is skipped */
    float scale;            /* input scale when there is no vertical pass */
    int r0, r1;             /* output rows of this share */
    int failed;
} job;

/* 8-bit: horizontal pass over the input rows this share needs (Pillow's
 * ybox for these rows), then the vertical pass. */
static void *work_u8(void *arg)
{
    job *j = arg;
    const mg_image *im = j->in;
    int c = im->c, ow = j->out->w;
    size_t in_stride = (size_t)im->w * c, out_stride = (size_t)ow * c;
    int y0 = j->r0, y1 = j->r1;
    if (j->v) {
        y0 = j->v->bounds[2 * j->r0];
        y1 = j->v->bounds[2 * (j->r1 - 1)] + j->v->bounds[2 * (j->r1 - 1) + 1];
    }
    const uint8_t *src = (const uint8_t *)im->data + (size_t)y0 * in_stride;
    size_t src_stride = in_stride;
    uint8_t *tmp = NULL;
    if (j->h) {
        int32_t *wide = y1 - y0 >= HROWS ? malloc(in_stride * HROWS * sizeof *wide) : NULL;
        tmp = malloc((size_t)(y1 - y0) * out_stride);
        if (!tmp || (y1 - y0 >= HROWS && !wide)) { free(tmp); free(wide); j->failed = 1; return NULL; }
        int y = y0;
        for (; y + HROWS <= y1; y += HROWS) {
            const uint8_t *rows[HROWS];
            for (int r = 0; r < HROWS; r++) rows[r] = (const uint8_t *)im->data + (size_t)(y + r) * in_stride;
            widen8_u8(rows, wide, in_stride);
            hpass8_u8(wide, tmp + (size_t)(y - y0) * out_stride, out_stride, c, j->h);
        }
        for (; y < y1; y++)
            hpass_u8((const uint8_t *)im->data + (size_t)y * in_stride,
                     tmp + (size_t)(y - y0) * out_stride, c, j->h);
        free(wide);
        src = tmp;
        src_stride = out_stride;
    }
    uint8_t *out = j->out->data;
    for (int i = j->r0; i < j->r1; i++) {
        uint8_t *o = out + (size_t)i * out_stride;
        if (j->v) {
            const axis *v = j->v;
            vpass_u8(src + (size_t)(v->bounds[2 * i] - y0) * src_stride, src_stride,
                     v->bounds[2 * i + 1], v->ki + (size_t)i * v->ksize, o, out_stride);
        } else {
            memcpy(o, src + (size_t)(i - y0) * src_stride, out_stride);
        }
    }
    free(tmp);
    return NULL;
}

/* 16-bit and float: per output row, the vertical pass from the input rows
 * into a row of floats (the input scale is in its weights), then the
 * horizontal pass. The two passes are linear, so this order gives Pillow's
 * result up to float rounding, and no full-size float copy is made: 16-bit
 * rows are converted once each into a ring of ksize float rows (the rows an
 * output row needs are consecutive and at most ksize). */
typedef struct {
    const job *j;
    int ring, next;             /* ring rows; first input row not in it yet */
    float *slots;
    const float **rows;
} vsrc;

static void vertical_row(vsrc *vs, int i, float *dst, size_t os)
{
    const job *j = vs->j;
    const mg_image *im = j->in;
    size_t len = (size_t)im->w * im->c;
    const axis *v = j->v;
    if (!v) {
        /* no vertical pass: the scaled input row */
        if (im->type == MG_PIX_U16) {
            const uint16_t *s = (const uint16_t *)im->data + (size_t)i * len;
            for (size_t x = 0; x < len; x++) dst[x * os] = (float)s[x] * j->scale;
        } else {
            const float *s = (const float *)im->data + (size_t)i * len;
            for (size_t x = 0; x < len; x++) dst[x * os] = s[x] * j->scale;
        }
        return;
    }
    int y = v->bounds[2 * i], n = v->bounds[2 * i + 1];
    if (im->type == MG_PIX_U16) {
        if (vs->next < y) vs->next = y;
        for (; vs->next < y + n; vs->next++)
            u16_to_f32((const uint16_t *)im->data + (size_t)vs->next * len,
                       vs->slots + (size_t)(vs->next % vs->ring) * len, len);
        for (int t = 0; t < n; t++) vs->rows[t] = vs->slots + (size_t)((y + t) % vs->ring) * len;
    } else {
        /* float rows are read in place */
        for (int t = 0; t < n; t++) vs->rows[t] = (const float *)im->data + (size_t)(y + t) * len;
    }
    vpass_f32(vs->rows, n, v->kf + (size_t)i * v->ksize, dst, os, len);
}

static void *work_f32(void *arg)
{
    job *j = arg;
    const mg_image *im = j->in;
    int c = im->c;
    size_t len = (size_t)im->w * c, ow = (size_t)j->out->w, out_stride = ow * c;
    int group = c == 1 && j->h && j->v;     /* HROWS rows at a time */
    vsrc vs = { j, j->v && im->type == MG_PIX_U16 ? j->v->ksize : 0, 0, NULL, NULL };
    size_t nbuf = len * ((size_t)vs.ring + (group ? HROWS : 1));
    float *buf = malloc(nbuf * sizeof *buf);
    vs.rows = malloc((j->v ? (size_t)j->v->ksize : 1) * sizeof *vs.rows);
    if (!buf || !vs.rows) { free(buf); free(vs.rows); j->failed = 1; return NULL; }
    float *acc = buf, *inter = buf;
    vs.slots = buf + len * (group ? HROWS : 1);
    float *out = j->out->data;
    int i = j->r0;
    if (group)
        for (; i + HROWS <= j->r1; i += HROWS) {
            for (int r = 0; r < HROWS; r++) vertical_row(&vs, i + r, inter + r, HROWS);
            hpass8_f32(inter, out + (size_t)i * ow, ow, j->h);
        }
    for (; i < j->r1; i++) {
        float *o = out + (size_t)i * out_stride;
        if (!j->h) { vertical_row(&vs, i, o, 1); continue; }
        vertical_row(&vs, i, acc, 1);
        if (c == 1) hpass1_f32(acc, o, j->h);
        else hpassc_f32(acc, o, c, j->h);
    }
    free(buf);
    free(vs.rows);
    return NULL;
}

typedef struct { void *(*fn)(void *); job *jobs; } shares;

static void share_task(void *arg, int task, int worker)
{
    (void)worker;
    shares *s = arg;
    s->fn(&s->jobs[task]);
}

/* Run fn over the output rows in one contiguous share per pool worker (each
 * row is computed the same way in any share). 0, or -1 if a share ran out of
 * memory. */
static int run_shares(void *(*fn)(void *), job *proto, int rows, mg_pool *pool)
{
    int threads = mg_pool_threads(pool);
    if (threads > rows) threads = rows;
    if (threads > 64) threads = 64;
    job jobs[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = *proto;
        jobs[t].r0 = (int)((long long)rows * t / threads);
        jobs[t].r1 = (int)((long long)rows * (t + 1) / threads);
        jobs[t].failed = 0;
    }
    shares s = { fn, jobs };
    mg_pool_for(pool, threads, share_task, &s);
    int failed = 0;
    for (int t = 0; t < threads; t++) failed |= jobs[t].failed;
    return failed ? -1 : 0;
}

/* ------------------------------------------------------------- nearest */

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
    mg_image *out = mg_image_new_uninit(ow, oh, im->c, im->type);
    int *ix = nearest_index(im->w, ow), *iy = nearest_index(im->h, oh);
    if (!out || !ix || !iy) {
        mg_seterr(err, errlen, "out of memory");
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
    if (im->type == MG_PIX_U16) {
        mg_seterr(err, errlen, "16-bit images must be converted to float before resizing");
        return NULL;
    }
    return mg_resize_ex(im, ow, oh, filter, 1.0, NULL, err, errlen);
}

mg_image *mg_resize_ex(const mg_image *im, int ow, int oh, int filter, double in_scale,
                       mg_pool *pool, char *err, size_t errlen)
{
    filter_def f;
    axis ah = {0}, av = {0};
    if (ow <= 0 || oh <= 0 || (long long)ow * oh * im->c > MG_IMAGE_MAX_SAMPLES) {
        mg_seterr(err, errlen, "bad output size %dx%d", ow, oh);
        return NULL;
    }
    int u8 = im->type == MG_PIX_U8;
    if (u8 && in_scale != 1.0) {
        mg_seterr(err, errlen, "8-bit images are resized unscaled");
        return NULL;
    }
    if (filter == MG_FILTER_NEAREST) {
        if (im->type != MG_PIX_U16 && in_scale == 1.0) return resize_nearest(im, ow, oh, err, errlen);
        mg_image *fl = mg_image_to_float(im, in_scale, err, errlen);
        if (!fl) return NULL;
        mg_image *out = resize_nearest(fl, ow, oh, err, errlen);
        mg_image_free(fl);
        return out;
    }
    if (get_filter(filter, &f) < 0) {
        mg_seterr(err, errlen, "unknown resampling filter %d", filter);
        return NULL;
    }
    /* A pass is skipped when its size does not change (as Pillow); the
     * input scale goes into the weights of the first pass (vertical). */
    int need_h = ow != im->w, need_v = oh != im->h;
    if ((need_h && axis_init(&ah, im->w, ow, &f, u8, 1.0) < 0) ||
        (need_v && axis_init(&av, im->h, oh, &f, u8, in_scale) < 0)) {
        mg_seterr(err, errlen, "out of memory");
        axis_free(&ah); axis_free(&av);
        return NULL;
    }
    mg_image *out = mg_image_new_uninit(ow, oh, im->c, u8 ? MG_PIX_U8 : MG_PIX_F32);
    if (!out) {
        mg_seterr(err, errlen, "out of memory");
        axis_free(&ah); axis_free(&av);
        return NULL;
    }
    job proto = { im, out, need_h ? &ah : NULL, need_v ? &av : NULL, (float)in_scale, 0, 0, 0 };
    if (run_shares(u8 ? work_u8 : work_f32, &proto, oh, pool) < 0) {
        mg_seterr(err, errlen, "out of memory");
        mg_image_free(out);
        out = NULL;
    }
    axis_free(&ah); axis_free(&av);
    return out;
}

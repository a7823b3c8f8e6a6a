/* mg_nn_conv.c: 3D convolution, pooling, patch extraction and grid resizing
 * for volume encoders (declared in mg_nn.h). Activations are channels-last
 * [D·H·W, C]: a convolution gathers each output voxel's receptive field into
 * one row (im2col) and multiplies a block of such rows with the weight in one
 * GEMM; a 1×1×1 stride-1 convolution needs no gathering at all. */
#include "mg_nn.h"
#include "mg_matmul.h"
#include <cblas.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t mg_nn_conv_out_len(int64_t n, int k, int s, int p)
{
    int64_t span = n + 2 * (int64_t)p - k;
    if (span < 0 || s < 1) return 0;
    return span / s + 1;
}

void mg_nn_conv3d_weight_cl(const float *w, int64_t O, int64_t C, int kd, int kh, int kw,
                            float *out)
{
    int64_t taps = (int64_t)kd * kh * kw;
    for (int64_t o = 0; o < O; o++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t t = 0; t < taps; t++)
                out[(o * taps + t) * C + c] = w[(o * C + c) * taps + t];
}

typedef struct {
    const float *x;
    float *cols;
    int64_t C, D, H, W, Do, Ho, Wo, r0, nrows, chunk;
    const mg_nn_conv3d_geom *g;
} im2col_job;

/* Rows r0 + [t·chunk, (t+1)·chunk) of the gathered matrix. */
static void im2col_task(void *arg, int t, int wk)
{
    (void)wk;
    const im2col_job *j = arg;
    const mg_nn_conv3d_geom *g = j->g;
    int64_t C = j->C, K = (int64_t)g->k[0] * g->k[1] * g->k[2] * C;
    int64_t a = (int64_t)t * j->chunk, b = a + j->chunk < j->nrows ? a + j->chunk : j->nrows;
    for (int64_t r = a; r < b; r++) {
        int64_t o = j->r0 + r, ow = o % j->Wo, oh = o / j->Wo % j->Ho, od = o / j->Wo / j->Ho;
        float *row = j->cols + r * K;
        for (int kz = 0; kz < g->k[0]; kz++) {
            int64_t z = od * g->s[0] - g->p[0] + kz;
            for (int ky = 0; ky < g->k[1]; ky++) {
                int64_t y = oh * g->s[1] - g->p[1] + ky;
                int zy_in = z >= 0 && z < j->D && y >= 0 && y < j->H;
                for (int kx = 0; kx < g->k[2]; kx++, row += C) {
                    int64_t x = ow * g->s[2] - g->p[2] + kx;
                    if (zy_in && x >= 0 && x < j->W)
                        memcpy(row, j->x + ((z * j->H + y) * j->W + x) * C, (size_t)C * sizeof(float));
                    else
                        memset(row, 0, (size_t)C * sizeof(float));
                }
            }
        }
    }
}

/* Output rows are computed in slabs of about 16 MiB of gathered rows (at least
 * 256 rows), so the gather buffer is bounded whatever the volume; a slab is cut
 * into sub-blocks of SUB rows, the unit of work of the pool. Slab and sub-block
 * boundaries depend on the shapes only, never on the thread count, and every
 * product runs single-threaded on one worker (or in the bf16 back end's own
 * row blocks, which depend on the row count only): the output is the same for
 * any -@. */
#define MG_CONV_SLAB_BYTES (16 << 20)
#define SUB 256

typedef struct {
    im2col_job g;                   /* the gather (g.cols, g.r0 set per slab) */
    const mg_nn_weight *w;
    const float *bias;
    const mg_nn_conv3d_out *o;
    float *y;                       /* output row ybase */
    float *prod;                    /* with a residual: products before the epilogue */
    int64_t ybase, n, K, O;         /* ybase: absolute row of y[0]; n: rows in the slab */
    int pointwise, gemm, sgemm, failed; /* sgemm: aligned fp32 weight, bias in the epilogue */
} conv_job;

/* y rows [a, a + n) (absolute) = act(p + bias + res), p being their products
 * (it may be y itself), bias added here only for sgemm. Row by row, each read
 * before it is written, so res may alias y. The sums are in the order of
 * mg_nn_linear's (bias first, then the product) and torch's. */
static void conv_epilogue(const conv_job *j, int64_t a, int64_t n, const float *p)
{
    const mg_nn_conv3d_out *o = j->o;
    const float *b = j->sgemm ? j->bias : NULL, *r = o && o->res ? o->res + (a - j->ybase) * j->O : NULL;
    int relu = o && o->relu;
    if (!b && !r && !relu) return;
    float *y = j->y + (a - j->ybase) * j->O;
    for (int64_t i = 0; i < n; i++, p += j->O, y += j->O, r = r ? r + j->O : NULL)
        for (int64_t c = 0; c < j->O; c++) {
            float v = b ? b[c] + p[c] : p[c];
            if (r) v += r[c];
            y[c] = relu && v <= 0 ? 0 : v;
        }
}

/* Sub-block t of the current slab: gather its rows (unless pointwise); with
 * gemm set, also multiply them with single-threaded BLAS and finish them while
 * they are in cache (through the worker's product buffer when a residual is
 * added, since the residual may be the output itself). */
static void conv_sub_task(void *arg, int t, int wk)
{
    conv_job *j = arg;
    int64_t a = (int64_t)t * SUB, n = j->n - a < SUB ? j->n - a : SUB, r0 = j->g.r0 + a;
    const float *src = j->g.x + r0 * j->K;
    if (!j->pointwise) {
        im2col_job g = j->g;
        g.cols = j->g.cols + a * j->K;
        g.r0 = r0;
        g.nrows = n;
        g.chunk = n;
        im2col_task(&g, 0, wk);
        src = g.cols;
    }
    if (!j->gemm) return;
    float *p = j->prod ? j->prod + (int64_t)wk * SUB * j->O : j->y + (r0 - j->ybase) * j->O;
    mg_nn_ctx one = { .threads = 1 };
    if (j->sgemm)
        /* one product over every output channel: the gathered rows are packed once */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)j->O, (int)j->K, 1.0f, src,
                    (int)j->K, (const float *)j->w->data, (int)j->K, 0.0f, p, (int)j->O);
    else if (mg_nn_linear(&one, src, n, j->w, j->bias, p, j->O) < 0) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    conv_epilogue(j, r0, n, p);
}

/* Sub-block t of a slab multiplied by the bf16 back end: its epilogue. */
static void conv_epi_task(void *arg, int t, int wk)
{
    (void)wk;
    conv_job *j = arg;
    int64_t a = (int64_t)t * SUB, n = j->n - a < SUB ? j->n - a : SUB, r0 = j->g.r0 + a;
    conv_epilogue(j, r0, n, j->prod ? j->prod + a * j->O : j->y + (r0 - j->ybase) * j->O);
}

int mg_nn_conv3d_cl(const mg_nn_ctx *ctx, mg_mm *mm, const float *x, int64_t C, int64_t D, int64_t H,
                    int64_t W, const mg_nn_conv3d_geom *g, const mg_nn_weight *w,
                    const float *bias, const mg_nn_conv3d_out *o, float *y)
{
    int64_t Do = mg_nn_conv_out_len(D, g->k[0], g->s[0], g->p[0]);
    int64_t Ho = mg_nn_conv_out_len(H, g->k[1], g->s[1], g->p[1]);
    int64_t Wo = mg_nn_conv_out_len(W, g->k[2], g->s[2], g->p[2]);
    int64_t K = (int64_t)g->k[0] * g->k[1] * g->k[2] * C, O = w->rows;
    int64_t od0 = o && o->od1 > o->od0 ? o->od0 : 0, od1 = o && o->od1 > o->od0 ? o->od1 : Do;
    if (od1 > Do) od1 = Do;
    int64_t L0 = od0 * Ho * Wo, L1 = od1 * Ho * Wo;
    if (L1 <= L0 || Ho <= 0 || Wo <= 0) return 0;
    conv_job j = { { x, NULL, C, D, H, W, Do, Ho, Wo, 0, 0, 0, g }, w, bias, o, y, NULL, L0, 0, K, O,
                   0, mg_mm_precision(mm) != MG_PREC_BF16, 0, 0 };
    j.sgemm = j.gemm && w->dtype == MG_F32 && ((uintptr_t)w->data & 3) == 0;
    j.pointwise = g->k[0] == 1 && g->k[1] == 1 && g->k[2] == 1 && g->s[0] == 1 && g->s[1] == 1 &&
                  g->s[2] == 1 && g->p[0] == 0 && g->p[1] == 0 && g->p[2] == 0;
    int64_t wide = K > O ? K : O, slab = MG_CONV_SLAB_BYTES / (wide * (int64_t)sizeof(float)) / SUB * SUB;
    if (slab < SUB) slab = SUB;
    int64_t rows = L1 - L0 < slab ? L1 - L0 : slab;
    int nw = mg_pool_threads(ctx->pool) > ctx->threads ? mg_pool_threads(ctx->pool) : ctx->threads;
    float *cols = NULL;
    if ((!j.pointwise && !(cols = malloc((size_t)(rows * K) * sizeof(float)))) ||
        (o && o->res &&
         !(j.prod = malloc((size_t)((j.gemm ? (int64_t)nw * SUB : rows) * O) * sizeof(float))))) {
        free(cols);
        return -1;
    }
    /* One BLAS thread per worker for the whole region (mg_nn.h's OpenBLAS rule). */
    int prev = mg_nn_blas_enter(1);
    for (int64_t a = L0; a < L1 && !j.failed; a += slab) {
        j.g.r0 = a;
        j.n = a + slab < L1 ? slab : L1 - a;
        j.g.cols = cols;
        int nsub = (int)((j.n + SUB - 1) / SUB);
        if (j.gemm || !j.pointwise) mg_nn_parallel(ctx, nsub, conv_sub_task, &j);
        if (j.gemm) continue;
        const float *src = j.pointwise ? x + a * K : cols;
        float *p = j.prod ? j.prod : y + (a - L0) * O;
        if (mg_mm_linear(mm, ctx, src, j.n, w, bias, 0, p, O) < 0) { j.failed = 1; break; }
        if (o && (o->res || o->relu)) mg_nn_parallel(ctx, nsub, conv_epi_task, &j);
    }
    mg_nn_blas_leave(prev, 1);
    free(cols);
    free(j.prod);
    return j.failed ? -1 : 0;
}

typedef struct {
    const float *x;                 /* input plane z0 */
    float *y;                       /* output plane od0 */
    int64_t C, D, H, W, Do, Ho, Wo, z0, z1, od0;
    const mg_nn_conv3d_geom *g;
} pool_job;

/* Output depth plane od0 + t. Input planes outside [z0, z1) are never read:
 * the caller passes every plane the output planes need. */
static void maxpool_task(void *arg, int t, int wk)
{
    (void)wk;
    const pool_job *j = arg;
    const mg_nn_conv3d_geom *g = j->g;
    int64_t C = j->C, od = j->od0 + t;
    for (int64_t oh = 0; oh < j->Ho; oh++)
        for (int64_t ow = 0; ow < j->Wo; ow++) {
            float *dst = j->y + (((int64_t)t * j->Ho + oh) * j->Wo + ow) * C;
            for (int64_t c = 0; c < C; c++) dst[c] = -INFINITY;
            for (int kz = 0; kz < g->k[0]; kz++) {
                int64_t z = od * g->s[0] - g->p[0] + kz;
                if (z < 0 || z >= j->D || z < j->z0 || z >= j->z1) continue;
                for (int ky = 0; ky < g->k[1]; ky++) {
                    int64_t yy = oh * g->s[1] - g->p[1] + ky;
                    if (yy < 0 || yy >= j->H) continue;
                    for (int kx = 0; kx < g->k[2]; kx++) {
                        int64_t xx = ow * g->s[2] - g->p[2] + kx;
                        if (xx < 0 || xx >= j->W) continue;
                        const float *src = j->x + (((z - j->z0) * j->H + yy) * j->W + xx) * C;
                        /* NaN propagates as in torch (a NaN input wins). */
                        for (int64_t c = 0; c < C; c++)
                            if (src[c] > dst[c] || isnan(src[c])) dst[c] = src[c];
                    }
                }
            }
        }
}

void mg_nn_maxpool3d_cl(const mg_nn_ctx *ctx, const float *x, int64_t C, int64_t D, int64_t H,
                        int64_t W, const mg_nn_conv3d_geom *g, float *y)
{
    mg_nn_maxpool3d_cl_planes(ctx, x, 0, D, C, D, H, W, g, 0,
                              mg_nn_conv_out_len(D, g->k[0], g->s[0], g->p[0]), y);
}

void mg_nn_maxpool3d_cl_planes(const mg_nn_ctx *ctx, const float *x, int64_t z0, int64_t z1,
                               int64_t C, int64_t D, int64_t H, int64_t W,
                               const mg_nn_conv3d_geom *g, int64_t od0, int64_t od1, float *y)
{
    pool_job j = { x, y, C, D, H, W, mg_nn_conv_out_len(D, g->k[0], g->s[0], g->p[0]),
                   mg_nn_conv_out_len(H, g->k[1], g->s[1], g->p[1]),
                   mg_nn_conv_out_len(W, g->k[2], g->s[2], g->p[2]), z0, z1, od0, g };
    if (od1 > j.Do) od1 = j.Do;
    if (od1 > od0 && j.Ho > 0 && j.Wo > 0) mg_nn_parallel(ctx, (int)(od1 - od0), maxpool_task, &j);
}

int mg_nn_adaptive_avgpool3d_cl(const float *x, int64_t C, int64_t D, int64_t H, int64_t W,
                                int od, int oh, int ow, float *y)
{
    double *acc = malloc((size_t)C * sizeof(double));
    if (!acc) return -1;
    for (int i = 0; i < od; i++) {
        int64_t z0 = i * D / od, z1 = ((i + 1) * D + od - 1) / od;
        for (int jj = 0; jj < oh; jj++) {
            int64_t y0 = jj * H / oh, y1 = ((jj + 1) * H + oh - 1) / oh;
            for (int k = 0; k < ow; k++) {
                int64_t x0 = k * W / ow, x1 = ((k + 1) * W + ow - 1) / ow;
                float *dst = y + (((int64_t)i * oh + jj) * ow + k) * C;
                memset(acc, 0, (size_t)C * sizeof(double));
                for (int64_t z = z0; z < z1; z++)
                    for (int64_t yy = y0; yy < y1; yy++)
                        for (int64_t xx = x0; xx < x1; xx++) {
                            const float *src = x + ((z * H + yy) * W + xx) * C;
                            for (int64_t c = 0; c < C; c++) acc[c] += src[c];
                        }
                double n = (double)((z1 - z0) * (y1 - y0) * (x1 - x0));
                for (int64_t c = 0; c < C; c++) dst[c] = (float)(acc[c] / n);
            }
        }
    }
    free(acc);
    return 0;
}

void mg_nn_im2col_patches3d(const float *vol, int64_t c, int64_t d, int64_t h, int64_t w,
                            int pd, int ph, int pw, int channel_last, float *cols)
{
    int64_t gd = d / pd, gh = h / ph, gw = w / pw, K = c * pd * ph * pw;
    for (int64_t i = 0; i < gd; i++)
        for (int64_t j = 0; j < gh; j++)
            for (int64_t k = 0; k < gw; k++) {
                float *row = cols + ((i * gh + j) * gw + k) * K;
                for (int64_t ch = 0; ch < c; ch++)
                    for (int a = 0; a < pd; a++)
                        for (int b = 0; b < ph; b++) {
                            const float *src = vol + ((ch * d + i * pd + a) * h + j * ph + b) * w + k * pw;
                            int64_t e = ((int64_t)a * ph + b) * pw;
                            if (!channel_last)
                                memcpy(row + ch * pd * ph * pw + e, src, (size_t)pw * sizeof(float));
                            else
                                for (int x = 0; x < pw; x++) row[(e + x) * c + ch] = src[x];
                        }
            }
}

/* torch's linear source index for align_corners=False (upsample_trilinear3d):
 * src = max(0, (i + 0.5)·n/o − 0.5), i0 = floor, i1 = min(i0 + 1, n − 1). */
static void lin_taps(int n, int o, int i, int *i0, int *i1, float *l1)
{
    float scale = (float)n / (float)o;
    float src = scale * ((float)i + 0.5f) - 0.5f;
    if (src < 0) src = 0;
    *i0 = (int)src;
    if (*i0 > n - 1) *i0 = n - 1;
    *i1 = *i0 + (*i0 < n - 1);
    *l1 = src - (float)*i0;
}

int mg_nn_resize_trilinear_grid(const float *in, int g0, int g1, int g2, int d, float *out,
                                int o0, int o1, int o2)
{
    for (int a = 0; a < o0; a++) {
        int a0, a1;
        float la;
        lin_taps(g0, o0, a, &a0, &a1, &la);
        for (int b = 0; b < o1; b++) {
            int b0, b1;
            float lb;
            lin_taps(g1, o1, b, &b0, &b1, &lb);
            for (int c = 0; c < o2; c++) {
                int c0, c1;
                float lc;
                lin_taps(g2, o2, c, &c0, &c1, &lc);
                float *dst = out + (((int64_t)a * o1 + b) * o2 + c) * d;
#define P(i, j, k) (in + (((int64_t)(i) * g1 + (j)) * g2 + (k)) * d)
                const float *p000 = P(a0, b0, c0), *p001 = P(a0, b0, c1), *p010 = P(a0, b1, c0),
                            *p011 = P(a0, b1, c1), *p100 = P(a1, b0, c0), *p101 = P(a1, b0, c1),
                            *p110 = P(a1, b1, c0), *p111 = P(a1, b1, c1);
#undef P
                float ha = 1 - la, hb = 1 - lb, hc = 1 - lc;
                for (int e = 0; e < d; e++)
                    dst[e] = ha * (hb * (hc * p000[e] + lc * p001[e]) + lb * (hc * p010[e] + lc * p011[e])) +
                             la * (hb * (hc * p100[e] + lc * p101[e]) + lb * (hc * p110[e] + lc * p111[e]));
            }
        }
    }
    return 0;
}

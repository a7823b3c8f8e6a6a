/* mg_nn_conv.c: 3D convolution, pooling, patch extraction and grid resizing
 * for volume encoders (declared in mg_nn.h). Activations are channels-last
 * [D·H·W, C]: a convolution gathers each output voxel's receptive field into
 * one row (im2col) and multiplies a block of such rows with the weight in one
 * GEMM; a 1×1×1 stride-1 convolution needs no gathering at all. */
#include "mg_nn.h"
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

/* Output rows per block: about 16 MiB of gathered rows, at least 64. The block
 * size depends on the shapes only, never on the thread count. */
#define MG_CONV_BLOCK_BYTES (16 << 20)

typedef struct {
    im2col_job g;                   /* the gather (g.r0, g.nrows set per block) */
    const mg_nn_weight *w;
    const float *bias;
    float *y;
    float **cols;                   /* one gather buffer per worker */
    int64_t block, L, O, K;
    int pointwise, failed;
} conv_job;

/* Block t: gather its rows (unless pointwise) and multiply them on this worker
 * with single-threaded BLAS, so every output element is summed in the same
 * order whatever the thread count (deterministic output for any -@). */
static void conv_block_task(void *arg, int t, int wk)
{
    conv_job *j = arg;
    int64_t r0 = (int64_t)t * j->block, n = j->L - r0 < j->block ? j->L - r0 : j->block;
    const float *src = j->g.x + r0 * j->K;
    if (!j->pointwise) {
        im2col_job g = j->g;
        g.cols = j->cols[wk];
        g.r0 = r0;
        g.nrows = n;
        g.chunk = n;
        im2col_task(&g, 0, wk);
        src = g.cols;
    }
    mg_nn_ctx one = { .threads = 1 };
    if (mg_nn_linear(&one, src, n, j->w, j->bias, j->y + r0 * j->O, j->O) < 0) j->failed = 1;
}

int mg_nn_conv3d_cl(const mg_nn_ctx *ctx, const float *x, int64_t C, int64_t D, int64_t H,
                    int64_t W, const mg_nn_conv3d_geom *g, const mg_nn_weight *w,
                    const float *bias, float *y)
{
    int64_t Do = mg_nn_conv_out_len(D, g->k[0], g->s[0], g->p[0]);
    int64_t Ho = mg_nn_conv_out_len(H, g->k[1], g->s[1], g->p[1]);
    int64_t Wo = mg_nn_conv_out_len(W, g->k[2], g->s[2], g->p[2]);
    int64_t L = Do * Ho * Wo, K = (int64_t)g->k[0] * g->k[1] * g->k[2] * C, O = w->rows;
    if (L <= 0) return 0;
    int nt = ctx->threads > 0 ? ctx->threads : 1, rc = 0;
    conv_job j = { { x, NULL, C, D, H, W, Do, Ho, Wo, 0, 0, 0, g }, w, bias, y, NULL, 0, L, O, K,
                   0, 0 };
    j.pointwise = g->k[0] == 1 && g->k[1] == 1 && g->k[2] == 1 && g->s[0] == 1 && g->s[1] == 1 &&
                  g->s[2] == 1 && g->p[0] == 0 && g->p[1] == 0 && g->p[2] == 0;
    j.block = MG_CONV_BLOCK_BYTES / (K * (int64_t)sizeof(float));
    if (j.block < 64) j.block = 64;
    if (j.block > L) j.block = L;
    if (!j.pointwise) {
        if (!(j.cols = calloc((size_t)nt, sizeof *j.cols))) return -1;
        for (int i = 0; i < nt; i++)
            if (!(j.cols[i] = malloc((size_t)(j.block * K) * sizeof(float)))) rc = -1;
    }
    if (rc == 0) {
        /* One BLAS thread per worker for the whole region (mg_nn.h's OpenBLAS rule). */
        int prev = openblas_get_num_threads();
        if (prev != 1) openblas_set_num_threads(1);
        mg_nn_parallel(ctx, (int)((L + j.block - 1) / j.block), conv_block_task, &j);
        if (prev != 1) openblas_set_num_threads(prev);
        rc = j.failed ? -1 : 0;
    }
    for (int i = 0; j.cols && i < nt; i++) free(j.cols[i]);
    free(j.cols);
    return rc;
}

typedef struct {
    const float *x;
    float *y;
    int64_t C, D, H, W, Do, Ho, Wo;
    const mg_nn_conv3d_geom *g;
} pool_job;

/* One output depth plane per task. */
static void maxpool_task(void *arg, int od, int wk)
{
    (void)wk;
    const pool_job *j = arg;
    const mg_nn_conv3d_geom *g = j->g;
    int64_t C = j->C;
    for (int64_t oh = 0; oh < j->Ho; oh++)
        for (int64_t ow = 0; ow < j->Wo; ow++) {
            float *dst = j->y + (((int64_t)od * j->Ho + oh) * j->Wo + ow) * C;
            for (int64_t c = 0; c < C; c++) dst[c] = -INFINITY;
            for (int kz = 0; kz < g->k[0]; kz++) {
                int64_t z = od * g->s[0] - g->p[0] + kz;
                if (z < 0 || z >= j->D) continue;
                for (int ky = 0; ky < g->k[1]; ky++) {
                    int64_t yy = oh * g->s[1] - g->p[1] + ky;
                    if (yy < 0 || yy >= j->H) continue;
                    for (int kx = 0; kx < g->k[2]; kx++) {
                        int64_t xx = ow * g->s[2] - g->p[2] + kx;
                        if (xx < 0 || xx >= j->W) continue;
                        const float *src = j->x + ((z * j->H + yy) * j->W + xx) * C;
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
    pool_job j = { x, y, C, D, H, W, mg_nn_conv_out_len(D, g->k[0], g->s[0], g->p[0]),
                   mg_nn_conv_out_len(H, g->k[1], g->s[1], g->p[1]),
                   mg_nn_conv_out_len(W, g->k[2], g->s[2], g->p[2]), g };
    if (j.Do > 0 && j.Ho > 0 && j.Wo > 0) mg_nn_parallel(ctx, (int)j.Do, maxpool_task, &j);
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

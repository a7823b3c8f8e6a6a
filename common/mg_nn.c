/* mg_nn.c: fp32 kernels around OpenBLAS for the transformer encoders. */
#include "mg_nn.h"
#include "mg_dtype.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- vectorised exp: Cephes expf's range reduction and polynomial (relative
 * error ~2 ulp), written with GCC/Clang vector extensions so that softmax and
 * tanh-GELU run 16 lanes at a time; target_clones picks AVX-512, AVX2 or
 * baseline SSE when the program loads. The helpers are macros so that no
 * function passes vectors across an ABI boundary. */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
#define VCLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define V16(x) ((v16f){ x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x })
/* lane-wise select, min and max through the comparison masks */
#define VSEL(m, a, b) ((v16f)(((v16i)(a) & (m)) | ((v16i)(b) & ~(m))))
#define VMAX(a, b) VSEL((a) > (b), a, b)
#define VMIN(a, b) VSEL((a) < (b), a, b)
/* out = exp(in) for lanes in [-87.3, 88.4] (clamped) */
#define VEXP(out, in) do { \
    v16f x_ = VMAX(VMIN((in), V16(88.3762626647949f)), V16(-87.3365447504f)); \
    const v16f magic_ = V16(12582912.0f);    /* 1.5·2^23: round to integer */ \
    v16f t_ = x_ * V16(1.44269504088896341f) + magic_; \
    v16f n_ = t_ - magic_; \
    v16f r_ = x_ - n_ * V16(0.693359375f) + n_ * V16(2.12194440e-4f); \
    v16f p_ = V16(1.9875691500e-4f); \
    p_ = p_ * r_ + V16(1.3981999507e-3f); \
    p_ = p_ * r_ + V16(8.3334519073e-3f); \
    p_ = p_ * r_ + V16(4.1665795894e-2f); \
    p_ = p_ * r_ + V16(1.6666665459e-1f); \
    p_ = p_ * r_ + V16(5.0000001201e-1f); \
    p_ = p_ * r_ * r_ + r_ + V16(1.0f); \
    v16i e_ = ((v16i)t_ - (v16i)magic_ + 127) << 23;    /* 2^n */ \
    (out) = p_ * (v16f)e_; \
} while (0)

/* x[i] = exp(x[i] − sub); returns the sum. */
VCLONES static float exp_sub_sum(float *x, int64_t n, float sub)
{
    int64_t i = 0;
    v16f acc = V16(0.0f), vs = V16(sub);
    for (; i + 16 <= n; i += 16) {
        v16f v;
        memcpy(&v, x + i, sizeof v);
        VEXP(v, v - vs);
        memcpy(x + i, &v, sizeof v);
        acc += v;
    }
    float s = 0;
    for (int k = 0; k < 16; k++) s += acc[k];
    for (; i < n; i++) { x[i] = expf(x[i] - sub); s += x[i]; }
    return s;
}

VCLONES static float max_of(const float *x, int64_t n)
{
    int64_t i = 0;
    float m = -INFINITY;
    if (n >= 16) {
        v16f vm;
        memcpy(&vm, x, sizeof vm);
        for (i = 16; i + 16 <= n; i += 16) {
            v16f v;
            memcpy(&v, x + i, sizeof v);
            vm = VMAX(v, vm);
        }
        for (int k = 0; k < 16; k++) if (vm[k] > m) m = vm[k];
    }
    for (; i < n; i++) if (x[i] > m) m = x[i];
    return m;
}

/* 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), computed as x / (1 + e^{−2u})
 * (since 1 + tanh(u) = 2·σ(2u)), which has no cancellation for negative x. */
VCLONES static void gelu_tanh_array(float *x, int64_t n)
{
    int64_t i = 0;
    const v16f c = V16(-1.5957691216057307f), k = V16(0.044715f), one = V16(1.0f);
    for (; i + 16 <= n; i += 16) {
        v16f v, e;
        memcpy(&v, x + i, sizeof v);
        VEXP(e, c * (v + k * v * v * v));       /* e^{−2u} */
        v = v / (one + e);
        memcpy(x + i, &v, sizeof v);
    }
    for (; i < n; i++) {
        float v = x[i];
        x[i] = v / (1.0f + expf(-1.5957691216057307f * (v + 0.044715f * v * v * v)));
    }
}

/* OpenBLAS's own thread control (declared by its cblas.h on Debian). */
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);

/* The OpenBLAS rule of mg_nn.h: a kernel sets the process-wide count to n for its
 * own BLAS calls (blas_enter) and restores what it found (blas_leave). */
int mg_nn_blas_enter(int n)
{
    int prev = openblas_get_num_threads();
    if (n < 1) n = 1;
    if (n != prev) openblas_set_num_threads(n);
    return prev;
}

void mg_nn_blas_leave(int prev, int n)
{
    if (n < 1) n = 1;
    if (n != prev) openblas_set_num_threads(prev);
}

int mg_nn_ctx_init(mg_nn_ctx *ctx, int threads)
{
    ctx->threads = threads > 0 ? threads : 1;
    ctx->pool = NULL;
    if (ctx->threads > 1 && !(ctx->pool = mg_pool_create(ctx->threads))) return -1;
    if (ctx->pool) ctx->threads = mg_pool_threads(ctx->pool);   /* all started, or fewer */
    return 0;
}

void mg_nn_ctx_free(mg_nn_ctx *ctx)
{
    mg_pool_free(ctx->pool);
    ctx->pool = NULL;
}

int mg_nn_parallel(const mg_nn_ctx *ctx, int ntasks, void (*fn)(void *, int, int), void *arg)
{
    return mg_pool_for(ctx->pool, ntasks, fn, arg);
}

/* ---- GEMM ---- */

/* Rows per converted tile: about 1 MiB of f32 weights, so the tile stays in cache
 * while sgemm streams the activations past it. */
static int64_t tile_rows(int64_t cols)
{
    int64_t r = (256 * 1024) / (cols > 0 ? cols : 1);
    return r < 16 ? 16 : r;
}

static int is_aligned_f32(const mg_nn_weight *w)
{
    return w->dtype == MG_F32 && ((uintptr_t)w->data & 3) == 0;
}

/* Rows r0 … r0+nr−1 of w as f32; -1 for a dtype that is not F32/F16/BF16. */
static int convert_rows(const mg_nn_weight *w, int64_t r0, int64_t nr, float *dst)
{
    return mg_dtype_float_to_f32(w->dtype, w->data, r0 * w->cols, nr * w->cols, dst);
}

/* Thread-count independence: OpenBLAS splits an sgemm among its threads, and
 * the split decides which output elements fall in its vectorised main kernel
 * and which in its edge kernels, whose summation orders differ; the same
 * product then differs in the last bits between -@ 1 and -@ 2 (measured:
 * 8e-7 on a DINOv2 embedding). So the output features are cut into fixed
 * blocks of GEMM_BLOCK, each multiplied by a single-threaded sgemm, and the
 * blocks are shared among our own workers: every element is computed by the
 * same call shape whatever the thread count. */
#define GEMM_BLOCK 64

typedef struct {
    const float *x;
    int64_t n, in, out, ldy;
    const mg_nn_weight *w;
    float beta;
    float *y;
    float *scratch;          /* per worker: GEMM_BLOCK x in (non-f32 weights) */
    int rc;                  /* set to -1 by a failing task */
} lin_job;

static void lin_task(void *p, int task, int wk)
{
    lin_job *j = p;
    int64_t r0 = (int64_t)task * GEMM_BLOCK, nr = j->out - r0 < GEMM_BLOCK ? j->out - r0 : GEMM_BLOCK;
    const float *wt;
    if (j->scratch) {
        float *tile = j->scratch + (size_t)wk * GEMM_BLOCK * (size_t)j->in;
        if (convert_rows(j->w, r0, nr, tile) < 0) { j->rc = -1; return; }
        wt = tile;
    } else {
        wt = (const float *)j->w->data + r0 * j->in;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->n, (int)nr, (int)j->in, 1.0f,
                j->x, (int)j->in, wt, (int)j->in, j->beta, j->y + r0, (int)j->ldy);
}

int mg_nn_linear(const mg_nn_ctx *ctx, const float *x, int64_t n, const mg_nn_weight *w,
                 const float *bias, float *y, int64_t ldy)
{
    int64_t out = w->rows, in = w->cols;
    if (n <= 0) return 0;
    if (bias)
        for (int64_t i = 0; i < n; i++) memcpy(y + i * ldy, bias, (size_t)out * sizeof(float));
    int nthreads = ctx->threads > 0 ? ctx->threads : 1;
    lin_job j = { x, n, in, out, ldy, w, bias ? 1.0f : 0.0f, y, NULL, 0 };
    if (!is_aligned_f32(w)) {
        j.scratch = malloc((size_t)nthreads * GEMM_BLOCK * (size_t)in * sizeof(float));
        if (!j.scratch) return -1;
    }
    int prev = mg_nn_blas_enter(1);
    mg_nn_parallel(ctx, (int)((out + GEMM_BLOCK - 1) / GEMM_BLOCK), lin_task, &j);
    mg_nn_blas_leave(prev, 1);
    free(j.scratch);
    return j.rc;
}

int mg_nn_matmul_in_out(const mg_nn_ctx *ctx, const float *x, int64_t n,
                        const mg_nn_weight *w, float *y)
{
    int64_t in = w->rows, out = w->cols;
    if (n <= 0) return 0;
    /* Single-threaded BLAS for the same reason as mg_nn_linear. */
    (void)ctx;
    int prev = mg_nn_blas_enter(1), rc = 0;
    if (is_aligned_f32(w)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)out, (int)in, 1.0f,
                    x, (int)in, (const float *)w->data, (int)out, 0.0f, y, (int)out);
        goto done;
    }
    /* Tiles of input rows k: y += x[:, k0:k1] · W[k0:k1, :]. */
    int64_t tr = tile_rows(out);
    if (tr > in) tr = in;
    float *tile = malloc((size_t)(tr * out) * sizeof(float));
    if (!tile) { rc = -1; goto done; }
    for (int64_t r0 = 0; r0 < in && rc == 0; r0 += tr) {
        int64_t nr = in - r0 < tr ? in - r0 : tr;
        if ((rc = convert_rows(w, r0, nr, tile)) < 0) break;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)out, (int)nr, 1.0f,
                    x + r0, (int)in, tile, (int)out, r0 ? 1.0f : 0.0f, y, (int)out);
    }
    free(tile);
done:
    mg_nn_blas_leave(prev, 1);
    return rc;
}

/* ---- row-wise kernels, split into chunks of rows across threads ---- */
typedef struct {
    const float *x;
    float *y;
    int64_t n, d, chunk;
    const float *a, *b;
    float eps;
    int act;
} rows_job;

static int n_chunks(const mg_nn_ctx *ctx, int64_t n, int64_t d, int64_t *chunk)
{
    /* Threads only pay off for large arrays; chunks of >= 64k elements. */
    int64_t want = ctx->threads > 1 && n * d >= 65536 ? ctx->threads * 4 : 1;
    if (want > n) want = n > 0 ? n : 1;
    *chunk = (n + want - 1) / want;
    return (int)((n + *chunk - 1) / *chunk);
}

static void layer_norm_task(void *p, int t, int wk)
{
    (void)wk;
    rows_job *j = p;
    int64_t r1 = (t + 1) * j->chunk < j->n ? (t + 1) * j->chunk : j->n;
    for (int64_t r = t * j->chunk; r < r1; r++) {
        const float *x = j->x + r * j->d;
        float *y = j->y + r * j->d;
        double s = 0, ss = 0;
        for (int64_t i = 0; i < j->d; i++) s += x[i];
        double mu = s / (double)j->d;
        for (int64_t i = 0; i < j->d; i++) { double c = x[i] - mu; ss += c * c; }
        float inv = (float)(1.0 / sqrt(ss / (double)j->d + j->eps));
        float m = (float)mu;
        for (int64_t i = 0; i < j->d; i++)
            y[i] = (x[i] - m) * inv * j->a[i] + (j->b ? j->b[i] : 0.0f);
    }
}

void mg_nn_layer_norm(const mg_nn_ctx *ctx, const float *x, float *y, int64_t n, int64_t d,
                      const float *gamma, const float *beta, float eps)
{
    rows_job j = { x, y, n, d, 0, gamma, beta, eps, 0 };
    int nc = n_chunks(ctx, n, d, &j.chunk);
    mg_nn_parallel(ctx, nc, layer_norm_task, &j);
}

static void rms_task(void *p, int t, int wk)
{
    (void)wk;
    rows_job *j = p;
    int64_t r1 = (t + 1) * j->chunk < j->n ? (t + 1) * j->chunk : j->n;
    for (int64_t r = t * j->chunk; r < r1; r++) {
        const float *x = j->x + r * j->d;
        float *y = j->y + r * j->d;
        double ss = 0;
        for (int64_t i = 0; i < j->d; i++) ss += (double)x[i] * x[i];
        float inv = (float)(1.0 / sqrt(ss / (double)j->d + j->eps));
        /* Gemma stores the scale zero-centred: multiply by (1 + w). */
        for (int64_t i = 0; i < j->d; i++) y[i] = x[i] * inv * (1.0f + j->a[i]);
    }
}

void mg_nn_rms_norm_gemma(const mg_nn_ctx *ctx, const float *x, float *y, int64_t n, int64_t d,
                          const float *w, float eps)
{
    rows_job j = { x, y, n, d, 0, w, NULL, eps, 0 };
    int nc = n_chunks(ctx, n, d, &j.chunk);
    mg_nn_parallel(ctx, nc, rms_task, &j);
}

static void act_task(void *p, int t, int wk)
{
    (void)wk;
    rows_job *j = p;
    int64_t i1 = (t + 1) * j->chunk < j->n ? (t + 1) * j->chunk : j->n;
    float *x = j->y;
    switch (j->act) {
    case MG_ACT_GELU_ERF:       /* 0.5·x·(1 + erf(x/√2)) */
        for (int64_t i = t * j->chunk; i < i1; i++)
            x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
        break;
    case MG_ACT_GELU_TANH:      /* 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
        gelu_tanh_array(x + t * j->chunk, i1 - t * j->chunk);
        break;
    case MG_ACT_QUICK_GELU:     /* x·σ(1.702·x) */
        for (int64_t i = t * j->chunk; i < i1; i++) x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
        break;
    default:
        break;
    }
}

void mg_nn_activate(const mg_nn_ctx *ctx, float *x, int64_t n, int act)
{
    rows_job j = { NULL, x, n, 1, 0, NULL, NULL, 0, act };
    int nc = n_chunks(ctx, n, 1, &j.chunk);
    mg_nn_parallel(ctx, nc, act_task, &j);
}

static void swiglu_task(void *p, int t, int wk)
{
    (void)wk;
    rows_job *j = p;
    int64_t r1 = (t + 1) * j->chunk < j->n ? (t + 1) * j->chunk : j->n;
    for (int64_t r = t * j->chunk; r < r1; r++) {
        const float *a = j->x + r * 2 * j->d, *b = a + j->d;
        float *h = j->y + r * j->d;
        for (int64_t i = 0; i < j->d; i++) h[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
    }
}

void mg_nn_swiglu(const mg_nn_ctx *ctx, const float *x, float *h, int64_t n, int64_t f)
{
    rows_job j = { x, h, n, f, 0, NULL, NULL, 0, 0 };
    int nc = n_chunks(ctx, n, f, &j.chunk);
    mg_nn_parallel(ctx, nc, swiglu_task, &j);
}

void mg_nn_softmax(float *x, int64_t n, int64_t d)
{
    for (int64_t r = 0; r < n; r++) {
        float *row = x + r * d, m = -INFINITY;
        for (int64_t i = 0; i < d; i++) if (row[i] > m) m = row[i];
        double s = 0;
        for (int64_t i = 0; i < d; i++) { row[i] = expf(row[i] - m); s += row[i]; }
        float inv = (float)(1.0 / s);
        for (int64_t i = 0; i < d; i++) row[i] *= inv;
    }
}

/* ---- attention: blocks of queries against blocks of keys with an online softmax
 * (Milakov & Gimelshein 2018; the FlashAttention schedule), so memory is
 * O(block²) per worker instead of O(n²). ---- */
enum { ATT_BQ = 256, ATT_BK = 512 };

typedef struct {
    const float *q, *k, *v;
    float *out;
    int64_t ldq, ldk, ldo, nq, nk;
    int heads, hd, nqb;
    float scale;
    float *scratch;          /* per worker: S [BQ, BK], O [BQ, hd], m, l [BQ] */
    size_t per_worker;
    mg_nn_sgemm_fn gemm;
} att_job;

static void blas_sgemm(int transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                       int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static void att_task(void *p, int task, int wk)
{
    att_job *j = p;
    int qb = task % j->nqb, bh = task / j->nqb, h = bh % j->heads, b = bh / j->heads;
    int64_t i0 = (int64_t)qb * ATT_BQ, bq = j->nq - i0 < ATT_BQ ? j->nq - i0 : ATT_BQ;
    int hd = j->hd;
    float *S = j->scratch + (size_t)wk * j->per_worker, *O = S + ATT_BQ * ATT_BK,
          *m = O + ATT_BQ * hd, *l = m + ATT_BQ;
    const float *Q = j->q + (b * j->nq + i0) * j->ldq + (int64_t)h * hd;
    for (int64_t i = 0; i < bq; i++) { m[i] = -INFINITY; l[i] = 0; }
    memset(O, 0, (size_t)(bq * hd) * sizeof(float));
    for (int64_t k0 = 0; k0 < j->nk; k0 += ATT_BK) {
        int64_t bk = j->nk - k0 < ATT_BK ? j->nk - k0 : ATT_BK;
        const float *K = j->k + (b * j->nk + k0) * j->ldk + (int64_t)h * hd;
        const float *V = j->v + (b * j->nk + k0) * j->ldk + (int64_t)h * hd;
        j->gemm(1, bq, bk, hd, j->scale, Q, j->ldq, K, j->ldk, 0.0f, S, bk);
        for (int64_t i = 0; i < bq; i++) {
            float *s = S + i * bk, mx = max_of(s, bk);
            if (m[i] > mx) mx = m[i];
            float corr = expf(m[i] - mx);              /* exp(-inf) = 0 on the first block */
            float sum = exp_sub_sum(s, bk, mx);
            l[i] = l[i] * corr + sum;
            m[i] = mx;
            if (corr != 1.0f) for (int c = 0; c < hd; c++) O[i * hd + c] *= corr;
        }
        j->gemm(0, bq, hd, bk, 1.0f, S, bk, V, j->ldk, 1.0f, O, hd);
    }
    for (int64_t i = 0; i < bq; i++) {
        float inv = 1.0f / l[i], *dst = j->out + (b * j->nq + i0 + i) * j->ldo + (int64_t)h * hd;
        for (int c = 0; c < hd; c++) dst[c] = O[i * hd + c] * inv;
    }
}

int mg_nn_attention(const mg_nn_ctx *ctx, const float *q, int64_t ldq, const float *k,
                    const float *v, int64_t ldk, float *out, int64_t ldo, int batch,
                    int64_t nq, int64_t nk, int heads, int hd, float scale)
{
    return mg_nn_attention_gemm(ctx, NULL, q, ldq, k, v, ldk, out, ldo, batch, nq, nk, heads,
                                hd, scale);
}

int mg_nn_attention_gemm(const mg_nn_ctx *ctx, mg_nn_sgemm_fn gemm, const float *q, int64_t ldq,
                         const float *k, const float *v, int64_t ldk, float *out, int64_t ldo,
                         int batch, int64_t nq, int64_t nk, int heads, int hd, float scale)
{
    att_job j = { q, k, v, out, ldq, ldk, ldo, nq, nk, heads, hd,
                  (int)((nq + ATT_BQ - 1) / ATT_BQ), scale, NULL, 0, gemm ? gemm : blas_sgemm };
    int nthreads = ctx->threads > 0 ? ctx->threads : 1;
    j.per_worker = (size_t)ATT_BQ * ATT_BK + (size_t)ATT_BQ * hd + 2 * ATT_BQ;
    j.scratch = malloc(j.per_worker * (size_t)nthreads * sizeof(float));
    if (!j.scratch) return -1;
    /* The workers call sgemm concurrently, each single-threaded. */
    int ntasks = batch * heads * j.nqb, bt = nthreads > 1 && ntasks > 1 ? 1 : nthreads;
    int prev = mg_nn_blas_enter(bt);
    mg_nn_parallel(ctx, ntasks, att_task, &j);
    mg_nn_blas_leave(prev, bt);
    free(j.scratch);
    return 0;
}

void mg_nn_im2col_patches(const float *img, int c, int h, int w, int p, float *cols)
{
    int gh = h / p, gw = w / p;
    int64_t k = (int64_t)c * p * p;
    for (int r = 0; r < gh; r++)
        for (int col = 0; col < gw; col++) {
            float *dst = cols + ((int64_t)r * gw + col) * k;
            for (int ch = 0; ch < c; ch++)
                for (int ky = 0; ky < p; ky++) {
                    const float *src = img + ((int64_t)ch * h + (int64_t)r * p + ky) * w + (int64_t)col * p;
                    memcpy(dst + ((int64_t)ch * p + ky) * p, src, (size_t)p * sizeof(float));
                }
        }
}

/* ---- bicubic resize of a grid of vectors ---- */

/* Keys' cubic convolution kernel with parameter a. */
static double cubic(double x, double a)
{
    x = fabs(x);
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

/* Taps of one axis: for each output index, `taps` input indices and weights. */
static int axis_taps(int in, int out, int antialias, int *taps, int **idx, double **wt)
{
    double scale = (double)in / out;
    int nt;
    if (!antialias) nt = 4;
    else {
        double support = 2.0 * (scale >= 1 ? scale : 1);
        nt = (int)ceil(support) * 2 + 1;
    }
    *idx = malloc((size_t)out * nt * sizeof **idx);
    *wt = calloc((size_t)out * nt, sizeof **wt);
    if (!*idx || !*wt) return -1;
    for (int i = 0; i < out; i++) {
        int *ix = *idx + (size_t)i * nt;
        double *w = *wt + (size_t)i * nt;
        if (!antialias) {
            /* upsample_bicubic2d: source = scale·(i + 0.5) − 0.5, taps at floor−1 … floor+2
             * clamped to the border, a = −0.75. */
            float src = (float)(scale * (i + 0.5) - 0.5);
            int f = (int)floorf(src);
            double t = src - f;
            for (int k = 0; k < 4; k++) {
                int s = f - 1 + k;
                ix[k] = s < 0 ? 0 : s >= in ? in - 1 : s;
                w[k] = cubic(t + 1 - k, -0.75);
            }
        } else {
            /* The antialiased kernel follows PIL: support 2·max(scale, 1), a = −0.5,
             * taps clipped to the image and the weights renormalised. */
            double support = 2.0 * (scale >= 1 ? scale : 1), inv = scale >= 1 ? 1 / scale : 1;
            double center = scale * (i + 0.5);
            int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
            if (lo < 0) lo = 0;
            if (hi > in) hi = in;
            double tot = 0;
            for (int k = 0; k < nt; k++) {
                int s = lo + k;
                ix[k] = s < hi ? s : lo;
                w[k] = s < hi ? cubic((s - center + 0.5) * inv, -0.5) : 0;
                tot += w[k];
            }
            if (tot != 0) for (int k = 0; k < nt; k++) w[k] /= tot;
        }
    }
    *taps = nt;
    return 0;
}

int mg_nn_resize_bicubic_grid(const float *in, int gh, int gw, int d, float *out,
                              int oh, int ow, int antialias)
{
    int rc = -1, tx, ty;
    int *ixx = NULL, *ixy = NULL;
    double *wx = NULL, *wy = NULL;
    float *tmp = malloc((size_t)gh * ow * d * sizeof(float));
    if (!tmp) goto fail;
    if (axis_taps(gw, ow, antialias, &tx, &ixx, &wx) < 0) goto fail;
    if (axis_taps(gh, oh, antialias, &ty, &ixy, &wy) < 0) goto fail;
    /* width pass, then height pass */
    for (int r = 0; r < gh; r++)
        for (int c = 0; c < ow; c++)
            for (int e = 0; e < d; e++) {
                double s = 0;
                for (int k = 0; k < tx; k++)
                    s += wx[(size_t)c * tx + k] * in[((size_t)r * gw + ixx[(size_t)c * tx + k]) * d + e];
                tmp[((size_t)r * ow + c) * d + e] = (float)s;
            }
    for (int r = 0; r < oh; r++)
        for (int c = 0; c < ow; c++)
            for (int e = 0; e < d; e++) {
                double s = 0;
                for (int k = 0; k < ty; k++)
                    s += wy[(size_t)r * ty + k] * tmp[((size_t)ixy[(size_t)r * ty + k] * ow + c) * d + e];
                out[((size_t)r * ow + c) * d + e] = (float)s;
            }
    rc = 0;
fail:
    free(tmp); free(ixx); free(ixy); free(wx); free(wy);
    return rc;
}

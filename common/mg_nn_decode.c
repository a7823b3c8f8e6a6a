/* mg_nn_decode.c: kernels for autoregressive decoders: rotary position
 * embedding, attention of new queries over a key/value cache with causal,
 * sliding-window and bidirectional-span masks (grouped-query heads), and a
 * bandwidth-bound matrix-vector product over weights in file dtype for
 * one-token-at-a-time decoding. */
#include "mg_nn.h"
#include "mg_dtype.h"

#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* OpenBLAS's own thread control (declared by its cblas.h on Debian). */
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);

/* ---- RoPE ---- */

typedef struct {
    float *x;
    int64_t n, ld;
    int heads, hd;
    const int64_t *pos;
    const float *inv_freq;
} rope_job;

static void rope_task(void *p, int t, int wk)
{
    (void)wk;
    rope_job *j = p;
    int half = j->hd / 2;
    float cs[MG_NN_ROPE_MAX_HD];
    int64_t chunk = (j->n + 63) / 64, r1 = (t + 1) * chunk < j->n ? (t + 1) * chunk : j->n;
    for (int64_t r = t * chunk; r < r1; r++) {
        /* The angle is formed in fp32 as transformers does (inv_freq · position
         * as a float32 product), then cos/sin of it. */
        float fp = (float)j->pos[r];
        for (int i = 0; i < half; i++) {
            float a = fp * j->inv_freq[i];
            cs[i] = (float)cos((double)a);
            cs[half + i] = (float)sin((double)a);
        }
        for (int h = 0; h < j->heads; h++) {
            float *v = j->x + r * j->ld + (int64_t)h * j->hd;
            /* rotate_half: [x1, x2] -> [x1·cos − x2·sin, x2·cos + x1·sin] */
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[half + i];
                v[i] = a * cs[i] - b * cs[half + i];
                v[half + i] = b * cs[i] + a * cs[half + i];
            }
        }
    }
}

void mg_nn_rope_inv_freq(int hd, double theta, double factor, float *inv_freq)
{
    /* transformers _compute_default_rope_parameters: 1 / θ^(2i/d) in float32;
     * linear scaling divides it by the factor (_compute_linear_scaling_rope_parameters). */
    for (int i = 0; i < hd / 2; i++) {
        float e = (float)(2 * i) / (float)hd;
        float f = (float)(1.0 / pow(theta, (double)e));
        inv_freq[i] = factor != 1.0 ? f / (float)factor : f;
    }
}

int mg_nn_rope(const mg_nn_ctx *ctx, float *x, int64_t n, int64_t ld, int heads, int hd,
               const int64_t *pos, const float *inv_freq)
{
    if (n <= 0) return 0;
    if (hd <= 0 || hd > MG_NN_ROPE_MAX_HD || hd % 2) return -1;
    rope_job j = { x, n, ld, heads, hd, pos, inv_freq };
    int64_t chunk = (n + 63) / 64;
    int ntask = (int)((n + chunk - 1) / chunk);
    if (n * heads * hd < 65536) {           /* small: one task, no threads */
        for (int t = 0; t < ntask; t++) rope_task(&j, t, 0);
        return 0;
    }
    return mg_nn_parallel(ctx, ntask, rope_task, &j);
}

/* ---- attention over a cache ---- */
enum { ATTC_BQ = 64 };

typedef struct {
    const float *q, *k, *v;
    float *out;
    int64_t ldq, ldk, ldo, k0, nq, nk;
    const int64_t *qpos;
    int heads, kv_heads, hd, nqb;
    float scale, softcap;
    int64_t window;
    const int32_t *span;
    float *scratch;
    size_t per_worker;
} attc_job;

/* Keys query i may see lie in [lo, hi]: the causal (and window) range, widened
 * to the run of keys sharing the query's span id. */
static void key_range(const attc_job *j, int64_t p, int64_t *lo, int64_t *hi)
{
    int64_t a = j->window > 0 && p - j->window + 1 > 0 ? p - j->window + 1 : 0, b = p;
    if (j->span && p < j->nk && j->span[p]) {
        int32_t s = j->span[p];
        int64_t u = p, w = p;
        while (u > 0 && j->span[u - 1] == s) u--;
        while (w + 1 < j->nk && j->span[w + 1] == s) w++;
        if (u < a) a = u;
        if (w > b) b = w;
    }
    if (b >= j->nk) b = j->nk - 1;
    *lo = a;
    *hi = b;
}

static int key_allowed(const attc_job *j, int64_t p, int64_t kpos)
{
    if (kpos <= p && (j->window <= 0 || kpos > p - j->window)) return 1;
    /* transformers' token_type_ids OR-mask: one image's soft tokens see each other */
    return j->span && p < j->nk && j->span[p] && j->span[kpos] == j->span[p];
}

static void attc_task(void *arg, int task, int wk)
{
    attc_job *j = arg;
    int qb = task % j->nqb, h = task / j->nqb, hd = j->hd;
    int kvh = h / (j->heads / j->kv_heads);          /* GQA: consecutive heads share */
    int64_t i0 = (int64_t)qb * ATTC_BQ, bq = j->nq - i0 < ATTC_BQ ? j->nq - i0 : ATTC_BQ;
    int64_t lo = INT64_MAX, hi = -1;
    for (int64_t i = 0; i < bq; i++) {
        int64_t a, b;
        key_range(j, j->qpos[i0 + i], &a, &b);
        if (a < lo) lo = a;
        if (b > hi) hi = b;
    }
    int64_t nkr = hi - lo + 1;
    float *S = j->scratch + (size_t)wk * j->per_worker;
    const float *Q = j->q + i0 * j->ldq + (int64_t)h * hd;
    const float *K = j->k + (lo - j->k0) * j->ldk + (int64_t)kvh * hd;
    const float *V = j->v + (lo - j->k0) * j->ldk + (int64_t)kvh * hd;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)nkr, hd, j->scale,
                Q, (int)j->ldq, K, (int)j->ldk, 0.0f, S, (int)nkr);
    for (int64_t i = 0; i < bq; i++) {
        float *s = S + i * nkr, mx = -INFINITY;
        int64_t p = j->qpos[i0 + i];
        for (int64_t c = 0; c < nkr; c++) {
            float x = s[c];
            /* soft-capping comes before the mask (transformers eager_attention_forward) */
            if (j->softcap > 0) x = j->softcap * tanhf(x / j->softcap);
            x = key_allowed(j, p, lo + c) ? x : -INFINITY;
            s[c] = x;
            if (x > mx) mx = x;
        }
        double sum = 0;
        for (int64_t c = 0; c < nkr; c++) {
            float e = s[c] == -INFINITY ? 0.0f : expf(s[c] - mx);
            s[c] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int64_t c = 0; c < nkr; c++) s[c] *= inv;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, hd, (int)nkr, 1.0f,
                S, (int)nkr, V, (int)j->ldk, 0.0f, j->out + i0 * j->ldo + (int64_t)h * hd,
                (int)j->ldo);
}

int mg_nn_attention_cached(const mg_nn_ctx *ctx, const float *q, int64_t ldq, int64_t nq,
                           const int64_t *qpos, const float *k, const float *v, int64_t ldk,
                           int64_t k0, int64_t nk, int heads, int kv_heads, int hd, float scale,
                           float softcap, const mg_nn_mask *mask, float *out, int64_t ldo)
{
    if (nq <= 0) return 0;
    if (kv_heads <= 0 || heads % kv_heads) return -1;
    if (k0 < 0) return -1;
    for (int64_t i = 0; i < nq; i++) if (qpos[i] < 0 || qpos[i] >= nk) return -1;
    attc_job j = { q, k, v, out, ldq, ldk, ldo, k0, nq, nk, qpos, heads, kv_heads, hd,
                   (int)((nq + ATTC_BQ - 1) / ATTC_BQ), scale, softcap,
                   mask ? mask->window : 0, mask ? mask->span : NULL, NULL, 0 };
    if (k0 > 0)                     /* every key a query sees must still be held */
        for (int64_t i = 0; i < nq; i++) {
            int64_t a, b;
            key_range(&j, qpos[i], &a, &b);
            if (a < k0) return -1;
        }
    /* scratch per pool worker (any worker may take any task) */
    int nworkers = ctx->pool ? mg_pool_threads(ctx->pool) : 1;
    int ntasks = heads * j.nqb;
    j.per_worker = (size_t)ATTC_BQ * (size_t)nk;
    j.scratch = malloc(j.per_worker * (size_t)nworkers * sizeof(float));
    if (!j.scratch) return -1;
    /* The workers call sgemm concurrently, each single-threaded; the count found
     * is put back (the OpenBLAS rule of mg_nn.h). */
    int prev = openblas_get_num_threads();
    if (prev != 1) openblas_set_num_threads(1);
    int rc = mg_nn_parallel(ctx, ntasks, attc_task, &j);
    if (prev != 1) openblas_set_num_threads(prev);
    free(j.scratch);
    return rc;
}

/* ---- matrix-vector product ----
 * Decoding one token reads every weight once, so the product is bound by memory
 * bandwidth; the kernels only have to keep up with it. bf16 weights:
 *  - AVX-512 BF16: vdpbf16ps multiplies bf16 pairs exactly and accumulates in
 *    fp32. To keep fp32 accuracy the activation is split into two bf16 parts,
 *    x ≈ hi + lo (hi = bf16(x), lo = bf16(x − hi); relative residual < 2⁻¹⁷),
 *    and W·hi + W·lo is formed: twice the arithmetic, the same memory traffic.
 *  - AVX2: bf16 widened to fp32 by a 16-bit shift, then FMA with fp32 x.
 * Every row is one dot product in a fixed order, so results do not depend on
 * the thread count. */

typedef struct {
    const mg_nn_weight *w;
    const float *x;
    const uint16_t *xh, *xl;         /* bf16 parts of x (AVX-512 BF16 path) */
    const float *bias;
    float *y;
    int64_t rows, chunk;
    int path;
} gemv_job;

enum { GEMV_SCALAR = 0, GEMV_AVX2, GEMV_AVX512BF16 };

static uint16_t bf16_round(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* NaN */
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static float bf16_to_f32(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

__attribute__((target("avx512f,avx512bf16")))
static float dot_bf16_avx512(const uint16_t *w, const uint16_t *xh, const uint16_t *xl, int64_t n)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i w0 = _mm512_loadu_si512(w + i), w1 = _mm512_loadu_si512(w + i + 32);
        a0 = _mm512_dpbf16_ps(a0, (__m512bh)w0, (__m512bh)_mm512_loadu_si512(xh + i));
        b0 = _mm512_dpbf16_ps(b0, (__m512bh)w0, (__m512bh)_mm512_loadu_si512(xl + i));
        a1 = _mm512_dpbf16_ps(a1, (__m512bh)w1, (__m512bh)_mm512_loadu_si512(xh + i + 32));
        b1 = _mm512_dpbf16_ps(b1, (__m512bh)w1, (__m512bh)_mm512_loadu_si512(xl + i + 32));
    }
    for (; i + 32 <= n; i += 32) {
        __m512i w0 = _mm512_loadu_si512(w + i);
        a0 = _mm512_dpbf16_ps(a0, (__m512bh)w0, (__m512bh)_mm512_loadu_si512(xh + i));
        b0 = _mm512_dpbf16_ps(b0, (__m512bh)w0, (__m512bh)_mm512_loadu_si512(xl + i));
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(b0, b1)));
    for (; i < n; i++) s += bf16_to_f32(w[i]) * (bf16_to_f32(xh[i]) + bf16_to_f32(xl[i]));
    return s;
}

__attribute__((target("avx2,fma")))
static float dot_bf16_avx2(const uint16_t *w, const float *x, int64_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
#define WIDEN(p) _mm256_castsi256_ps(_mm256_slli_epi32( \
        _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(WIDEN(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(WIDEN(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(WIDEN(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(WIDEN(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(WIDEN(w + i), _mm256_loadu_ps(x + i), a0);
#undef WIDEN
    __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float s = _mm_cvtss_f32(h);
    for (; i < n; i++) s += bf16_to_f32(w[i]) * x[i];
    return s;
}

__attribute__((target("avx2,fma,f16c")))
static float dot_f16_avx2(const uint16_t *w, const float *x, int64_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))),
                             _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8))),
                             _mm256_loadu_ps(x + i + 8), a1);
    }
    __m256 a = _mm256_add_ps(a0, a1);
    float t[8], s = 0;
    _mm256_storeu_ps(t, a);
    for (int k = 0; k < 8; k++) s += t[k];
    for (; i < n; i++) s += _cvtsh_ss(w[i]) * x[i];
    return s;
}

__attribute__((target("avx2,fma")))
static float dot_f32_avx2(const float *w, const float *x, int64_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    }
    __m256 a = _mm256_add_ps(a0, a1);
    float t[8], s = 0;
    _mm256_storeu_ps(t, a);
    for (int k = 0; k < 8; k++) s += t[k];
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

/* Portable fallback: rows converted by the dtype module (the dtype was
 * checked by the caller, so the conversion cannot fail). */
static float dot_scalar(const mg_nn_weight *w, int64_t r, const float *x)
{
    float tmp[256];
    float s = 0;
    for (int64_t i0 = 0; i0 < w->cols; i0 += 256) {
        int64_t m = w->cols - i0 < 256 ? w->cols - i0 : 256;
        if (mg_dtype_float_to_f32(w->dtype, w->data, r * w->cols + i0, m, tmp) < 0) return NAN;
        for (int64_t i = 0; i < m; i++) s += tmp[i] * x[i0 + i];
    }
    return s;
}

static void gemv_task(void *p, int t, int wk)
{
    (void)wk;
    gemv_job *j = p;
    const mg_nn_weight *w = j->w;
    int64_t r0 = t * j->chunk, r1 = r0 + j->chunk < j->rows ? r0 + j->chunk : j->rows;
    int64_t n = w->cols;
    for (int64_t r = r0; r < r1; r++) {
        float s;
        if (j->path == GEMV_AVX512BF16)
            s = dot_bf16_avx512((const uint16_t *)w->data + r * n, j->xh, j->xl, n);
        else if (j->path == GEMV_AVX2 && w->dtype == MG_BF16)
            s = dot_bf16_avx2((const uint16_t *)w->data + r * n, j->x, n);
        else if (j->path == GEMV_AVX2 && w->dtype == MG_F16)
            s = dot_f16_avx2((const uint16_t *)w->data + r * n, j->x, n);
        else if (j->path == GEMV_AVX2)
            s = dot_f32_avx2((const float *)w->data + r * n, j->x, n);
        else
            s = dot_scalar(w, r, j->x);
        j->y[r] = j->bias ? s + j->bias[r] : s;
    }
}

int mg_nn_gemv_path(int dtype)
{
    __builtin_cpu_init();
    if (dtype == MG_BF16 && __builtin_cpu_supports("avx512bf16")) return GEMV_AVX512BF16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        (dtype != MG_F16 || __builtin_cpu_supports("f16c"))) return GEMV_AVX2;
    return GEMV_SCALAR;
}

int mg_nn_gemv(const mg_nn_ctx *ctx, const mg_nn_weight *w, int64_t rows, const float *x,
               const float *bias, float *y)
{
    return mg_nn_gemv_on(ctx, mg_nn_gemv_path(w->dtype), w, rows, x, bias, y);
}

int mg_nn_gemv_on(const mg_nn_ctx *ctx, int path, const mg_nn_weight *w, int64_t rows,
                  const float *x, const float *bias, float *y)
{
    if (rows > w->rows) rows = w->rows;
    if (rows <= 0) return 0;
    if (w->dtype != MG_F32 && w->dtype != MG_F16 && w->dtype != MG_BF16) return -1;
    /* a path this CPU (or dtype) lacks falls back to the best one it has */
    int best = mg_nn_gemv_path(w->dtype);
    if (path < 0 || path > best || (path == GEMV_AVX512BF16 && w->dtype != MG_BF16)) path = best;
    gemv_job j = { w, x, NULL, NULL, bias, y, rows, 0, path };
    uint16_t *parts = NULL;
    if (j.path == GEMV_AVX512BF16) {
        int64_t n = w->cols;
        if (!(parts = malloc((size_t)n * 2 * sizeof *parts))) return -1;
        for (int64_t i = 0; i < n; i++) {
            parts[i] = bf16_round(x[i]);
            parts[n + i] = bf16_round(x[i] - bf16_to_f32(parts[i]));
        }
        j.xh = parts;
        j.xl = parts + n;
    }
    /* Chunks of about 64 KiB of weights: enough tasks to balance threads, few
     * enough that taking one costs nothing beside reading it. */
    int64_t rb = (int64_t)mg_dtype_size(w->dtype) * w->cols;
    j.chunk = rb > 0 ? (65536 + rb - 1) / rb : rows;
    if (j.chunk < 1) j.chunk = 1;
    int64_t ntask = (rows + j.chunk - 1) / j.chunk;
    int rc = 0;
    if (!ctx->pool || ntask == 1)
        for (int64_t t = 0; t < ntask; t++) gemv_task(&j, (int)t, 0);
    else
        rc = mg_nn_parallel(ctx, (int)ntask, gemv_task, &j);
    free(parts);
    return rc;
}

/* Unit tests of the decoder kernels (mg_nn_decode.c) against direct
 * double-precision computations: the matrix-vector product on every code path
 * this CPU has (portable, AVX2, AVX-512 BF16) for F32/F16/BF16 weights and odd
 * widths, thread-count independence, RoPE, and cached attention with causal,
 * sliding-window and bidirectional-span masks and grouped-query heads, and
 * the bf16 prompt product over weights as stored (mg_mm_linear_stored).
 * (Whole-model parity with PyTorch is in tests/decode/.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_nn.h"
#include "mg_dtype.h"
#include "mg_matmul.h"

static int n_fail;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); n_fail++; } } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

static void test_gemv(int dtype, const char *dname)
{
    const int64_t rows = 37, cols = 1000 + 77;           /* tails on every path */
    size_t es = mg_dtype_size(dtype);
    unsigned char *w = malloc((size_t)(rows * cols) * es);
    float *wf = malloc((size_t)(rows * cols) * sizeof *wf), x[1077], y[37], y2[37], b[37];
    double ref[37];
    for (int64_t i = 0; i < rows * cols; i++) {
        float v = frand();
        if (dtype == MG_BF16) { uint16_t h = to_bf16(v); memcpy(w + 2 * i, &h, 2); }
        else if (dtype == MG_F16) { _Float16 h = (_Float16)v; memcpy(w + 2 * i, &h, 2); }
        else memcpy(w + 4 * i, &v, 4);
    }
    if (mg_dtype_float_to_f32(dtype, w, 0, rows * cols, wf) < 0) { n_fail++; return; }
    for (int i = 0; i < cols; i++) x[i] = frand() * 100.0f;     /* large: tests the bf16 split */
    for (int i = 0; i < rows; i++) b[i] = frand();
    double scale = 0;
    for (int64_t r = 0; r < rows; r++) {
        double s = b[r];
        for (int64_t c = 0; c < cols; c++) s += (double)wf[r * cols + c] * x[c];
        ref[r] = s;
        if (fabs(s) > scale) scale = fabs(s);
    }
    mg_nn_weight W = { dtype, w, rows, cols };
    mg_nn_ctx c1 = { .threads = 1 }, c2;
    if (mg_nn_ctx_init(&c2, 2) < 0) { printf("FAIL pool\n"); n_fail++; return; }
    int best = mg_nn_gemv_path(dtype);
    for (int path = 0; path <= best; path++) {
        if (path == 2 && dtype != MG_BF16) continue;
        char name[96];
        double err = 0;
        int rc = mg_nn_gemv_on(&c1, path, &W, rows, x, b, y);
        for (int r = 0; r < rows; r++) err = fmax(err, fabs(y[r] - ref[r]) / scale);
        snprintf(name, sizeof name, "gemv_%s_path%d_matches_double", dname, path);
        CHECK(name, rc == 0 && err < 2e-6);
        rc = mg_nn_gemv_on(&c2, path, &W, rows, x, b, y2);
        snprintf(name, sizeof name, "gemv_%s_path%d_same_for_two_threads", dname, path);
        CHECK(name, rc == 0 && memcmp(y, y2, sizeof y) == 0);
    }
    /* the row limit: only the first rows are written */
    for (int r = 0; r < rows; r++) y[r] = -7;
    int rc5 = mg_nn_gemv(&c1, &W, 5, x, NULL, y);
    char name[64];
    snprintf(name, sizeof name, "gemv_%s_writes_only_the_rows_asked_for", dname);
    CHECK(name, rc5 == 0 && y[4] != -7 && y[5] == -7);
    mg_nn_ctx_free(&c2);
    free(w);
    free(wf);
}

static void test_rope(void)
{
    enum { N = 5, H = 2, HD = 8 };
    float x[N * H * HD], x0[N * H * HD], inv[HD / 2];
    int64_t pos[N] = { 0, 1, 7, 100, 3000 };
    for (int i = 0; i < N * H * HD; i++) x0[i] = x[i] = frand();
    mg_nn_rope_inv_freq(HD, 10000.0, 8.0, inv);
    mg_nn_ctx c = { .threads = 1 };
    CHECK("rope_runs", mg_nn_rope(&c, x, N, H * HD, H, HD, pos, inv) == 0);
    double err = 0;
    for (int r = 0; r < N; r++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < HD / 2; i++) {
                double f = 1.0 / pow(10000.0, 2.0 * i / HD) / 8.0, a = (double)pos[r] * f;
                const float *v = x0 + (r * H + h) * HD;
                double e1 = v[i] * cos(a) - v[i + HD / 2] * sin(a);
                double e2 = v[i + HD / 2] * cos(a) + v[i] * sin(a);
                err = fmax(err, fabs(e1 - x[(r * H + h) * HD + i]));
                err = fmax(err, fabs(e2 - x[(r * H + h) * HD + i + HD / 2]));
            }
    /* the angle is a float32 product as in transformers: ~1e-7 relative of 375 rad */
    CHECK("rope_linear_scaled_matches_double", err < 1e-4);
    CHECK("rope_rejects_odd_width", mg_nn_rope(&c, x, N, H * HD, H, 7, pos, inv) < 0);
}

static void test_attention(void)
{
    enum { NK = 150, H = 4, KV = 2, HD = 16, NQ = 90, W = 20 };
    int64_t ld = KV * HD, ldq = H * HD;
    float *k = malloc(NK * ld * sizeof *k), *v = malloc(NK * ld * sizeof *v);
    float *q = malloc(NQ * ldq * sizeof *q), *o = malloc(NQ * ldq * sizeof *o);
    float *o2 = malloc(NQ * ldq * sizeof *o2);
    int32_t span[NK] = { 0 };
    int64_t qpos[NQ];
    for (int i = 0; i < NK * ld; i++) { k[i] = frand(); v[i] = frand(); }
    for (int i = 0; i < NQ * ldq; i++) q[i] = frand() * 2;
    for (int i = 70; i < 100; i++) span[i] = 1;     /* an image straddling queries and window */
    for (int i = 120; i < 126; i++) span[i] = 2;
    for (int i = 0; i < NQ; i++) qpos[i] = NK - NQ + i;        /* queries 60 … 149 */
    for (int pass = 0; pass < 2; pass++) {
        int64_t win = pass ? W : 0;
        float cap = pass ? 1.5f : 0.0f;
        mg_nn_mask m = { win, span };
        mg_nn_ctx c1 = { .threads = 1 }, c2;
        if (mg_nn_ctx_init(&c2, 2) < 0) { printf("FAIL pool\n"); n_fail++; return; }
        int rc = mg_nn_attention_cached(&c1, q, ldq, NQ, qpos, k, v, ld, 0, NK, H, KV, HD, 0.25f, cap,
                                        &m, o, ldq);
        rc |= mg_nn_attention_cached(&c2, q, ldq, NQ, qpos, k, v, ld, 0, NK, H, KV, HD, 0.25f, cap, &m,
                                     o2, ldq);
        double err = 0;
        for (int i = 0; i < NQ; i++)
            for (int h = 0; h < H; h++) {
                int kvh = h / (H / KV);
                int64_t p = qpos[i];
                double s[NK], mx = -INFINITY, sum = 0;
                for (int j = 0; j < NK; j++) {
                    int ok = (j <= p && (!win || j > p - win)) || (span[p] && span[j] == span[p]);
                    double d = 0;
                    for (int c = 0; c < HD; c++) d += (double)q[i * ldq + h * HD + c] * k[j * ld + kvh * HD + c];
                    d *= 0.25;
                    if (cap > 0) d = cap * tanh(d / cap);
                    s[j] = ok ? d : -INFINITY;
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j < NK; j++) { s[j] = s[j] == -INFINITY ? 0 : exp(s[j] - mx); sum += s[j]; }
                for (int c = 0; c < HD; c++) {
                    double a = 0;
                    for (int j = 0; j < NK; j++) a += s[j] / sum * v[j * ld + kvh * HD + c];
                    err = fmax(err, fabs(a - o[i * ldq + h * HD + c]));
                }
            }
        CHECK(pass ? "attention_window_span_softcap_gqa_matches_double"
                   : "attention_causal_span_gqa_matches_double", rc == 0 && err < 1e-5);
        CHECK(pass ? "attention_window_same_for_two_threads" : "attention_causal_same_for_two_threads",
              memcmp(o, o2, NQ * ldq * sizeof *o) == 0);
        if (pass) {
            /* a cache that keeps only the window: the first query (60) sees keys 41 on */
            int64_t k0 = NK - NQ - W + 1;
            int r2 = mg_nn_attention_cached(&c2, q, ldq, NQ, qpos, k + k0 * ld, v + k0 * ld, ld, k0, NK,
                                            H, KV, HD, 0.25f, cap, &m, o2, ldq);
            CHECK("attention_window_cache_from_k0_same_as_whole",
                  r2 == 0 && memcmp(o, o2, NQ * ldq * sizeof *o) == 0);
            CHECK("attention_rejects_keys_below_k0",
                  mg_nn_attention_cached(&c2, q, ldq, NQ, qpos, k + (k0 + 1) * ld, v + (k0 + 1) * ld, ld,
                                         k0 + 1, NK, H, KV, HD, 0.25f, cap, &m, o2, ldq) < 0);
        }
        mg_nn_ctx_free(&c2);
    }
    int64_t bad = NK;
    mg_nn_ctx c1 = { .threads = 1 };
    CHECK("attention_rejects_position_outside_cache",
          mg_nn_attention_cached(&c1, q, ldq, 1, &bad, k, v, ld, 0, NK, H, KV, HD, 1, 0, NULL, o, ldq) < 0);
    CHECK("attention_rejects_heads_not_multiple_of_kv",
          mg_nn_attention_cached(&c1, q, ldq, 1, qpos, k, v, ld, 0, NK, 3, 2, HD, 1, 0, NULL, o, ldq) < 0);
    free(k); free(v); free(q); free(o); free(o2);
}

static float bf16_round(float f)
{
    uint32_t u = (uint32_t)to_bf16(f) << 16;
    memcpy(&f, &u, 4);
    return f;
}

/* y = x·Wᵀ + b on the bf16 back end with W read as stored (BF16 in place, F32
 * rounded a block at a time): against the double product of the bf16-rounded
 * operands (what the hardware multiplies exactly), over column blocks with a
 * tail, for one and two threads. */
static void test_linear_stored(int dtype, const char *dname)
{
    if (!mg_mm_cpu_has_bf16()) { printf("SKIP linear_stored_%s: no bf16 on this CPU\n", dname); return; }
    enum { N = 70, OUT = 300, IN = 200 };
    size_t es = mg_dtype_size(dtype);
    unsigned char *w = malloc((size_t)OUT * IN * es);
    float *x = malloc(N * IN * sizeof *x), *y1 = malloc(N * OUT * sizeof *y1), *y2 = malloc(N * OUT * sizeof *y2);
    float b[OUT];
    double err = 0;
    for (int i = 0; i < OUT * IN; i++) {
        float f = frand();
        if (dtype == MG_BF16) { uint16_t h = to_bf16(f); memcpy(w + (size_t)i * 2, &h, 2); }
        else memcpy(w + (size_t)i * 4, &f, 4);
    }
    for (int i = 0; i < N * IN; i++) x[i] = frand() * 3;
    for (int i = 0; i < OUT; i++) b[i] = frand();
    mg_nn_weight wt = { dtype, w, OUT, IN };
    mg_nn_ctx c1 = { .threads = 1 }, c2;
    char e[200];
    mg_mm *mm = mg_mm_create(MG_PREC_BF16, e, sizeof e);
    if (!mm || mg_nn_ctx_init(&c2, 2) < 0) { printf("FAIL linear_stored_%s: setup\n", dname); n_fail++; return; }
    int rc = mg_mm_linear_stored(mm, &c1, x, N, &wt, b, y1, OUT);
    rc |= mg_mm_linear_stored(mm, &c2, x, N, &wt, b, y2, OUT);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double r = b[o];
            float wf;
            for (int k = 0; k < IN; k++) {
                if (dtype == MG_BF16) {
                    uint16_t h;
                    memcpy(&h, w + ((size_t)o * IN + k) * 2, 2);
                    uint32_t u = (uint32_t)h << 16;
                    memcpy(&wf, &u, 4);
                } else memcpy(&wf, w + ((size_t)o * IN + k) * 4, 4);
                r += (double)bf16_round(x[i * IN + k]) * bf16_round(wf);
            }
            err = fmax(err, fabs(r - y1[i * OUT + o]));
        }
    char nm[64];
    /* fp32 accumulation of 200 products of size ~3: ~1e-5 absolute */
    snprintf(nm, sizeof nm, "linear_stored_%s_matches_double_of_bf16_operands", dname);
    CHECK(nm, rc == 0 && err < 1e-3);
    snprintf(nm, sizeof nm, "linear_stored_%s_same_for_two_threads", dname);
    CHECK(nm, rc == 0 && memcmp(y1, y2, N * OUT * sizeof *y1) == 0);
    mg_nn_ctx_free(&c2);
    mg_mm_free(mm);
    free(w); free(x); free(y1); free(y2);
}

int main(void)
{
    test_gemv(MG_BF16, "bf16");
    test_gemv(MG_F16, "f16");
    test_gemv(MG_F32, "f32");
    test_rope();
    test_attention();
    test_linear_stored(MG_BF16, "bf16");
    test_linear_stored(MG_F32, "f32");
    return n_fail ? 1 : 0;
}

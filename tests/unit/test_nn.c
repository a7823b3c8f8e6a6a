/* Unit tests of the mg_nn kernels: blocked attention against a direct
 * double-precision computation, GELU, softmax and the bicubic grid resize. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_nn.h"

static int n_fail;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); n_fail++; } } while (0)

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* softmax(Q Kᵀ·scale) V for one batch and head, in double. */
static void naive_attention(const float *q, const float *k, const float *v, int64_t ld, int nq,
                            int nk, int h, int hd, float scale, double *out)
{
    double *s = malloc(sizeof(double) * (size_t)nk);
    for (int i = 0; i < nq; i++) {
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < nk; j++) {
            double d = 0;
            for (int c = 0; c < hd; c++) d += (double)q[i * ld + h * hd + c] * k[j * ld + h * hd + c];
            s[j] = d * scale;
            if (s[j] > mx) mx = s[j];
        }
        for (int j = 0; j < nk; j++) { s[j] = exp(s[j] - mx); sum += s[j]; }
        for (int c = 0; c < hd; c++) {
            double o = 0;
            for (int j = 0; j < nk; j++) o += s[j] * v[j * ld + h * hd + c];
            out[i * hd + c] = o / sum;
        }
    }
    free(s);
}

static void test_attention(int threads)
{
    enum { NQ = 300, NK = 700, H = 3, HD = 8, D = H * HD };
    float *q = malloc(sizeof(float) * NQ * D), *k = malloc(sizeof(float) * NK * D),
          *v = malloc(sizeof(float) * NK * D), *o = malloc(sizeof(float) * NQ * D);
    double *ref = malloc(sizeof(double) * NQ * HD), err = 0;
    for (int i = 0; i < NQ * D; i++) q[i] = 3 * frand();
    for (int i = 0; i < NK * D; i++) { k[i] = 3 * frand(); v[i] = frand(); }
    mg_nn_ctx ctx;
    int rc = mg_nn_ctx_init(&ctx, threads);
    if (rc == 0) rc = mg_nn_attention(&ctx, q, D, k, v, D, o, D, 1, NQ, NK, H, HD, 0.5f);
    for (int h = 0; h < H; h++) {
        naive_attention(q, k, v, D, NQ, NK, h, HD, 0.5f, ref);
        for (int i = 0; i < NQ; i++)
            for (int c = 0; c < HD; c++) err = fmax(err, fabs(o[i * D + h * HD + c] - ref[i * HD + c]));
    }
    char name[64];
    snprintf(name, sizeof name, "blocked_attention_matches_direct_%d_threads", threads);
    CHECK(name, rc == 0 && err < 2e-6);
    if (err >= 2e-6) printf("  max abs err %g\n", err);
    mg_nn_ctx_free(&ctx);
    free(q); free(k); free(v); free(o); free(ref);
}

static void test_gelu_and_resize(void)
{
    enum { N = 1000 };
    float x[N], y[N];
    double err = 0;
    for (int i = 0; i < N; i++) x[i] = y[i] = (float)(i - N / 2) * 0.02f;
    mg_nn_ctx ctx = { .threads = 1 };
    mg_nn_activate(&ctx, y, N, MG_ACT_GELU_TANH);
    for (int i = 0; i < N; i++) {
        double v = x[i], g = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
        err = fmax(err, fabs(y[i] - g) / (fabs(g) + 1e-3));
    }
    CHECK("gelu_tanh_vectorised_matches_formula", err < 2e-6);
    if (err >= 2e-6) printf("  max rel err %g\n", err);

    float sm[3 * 7];
    for (int i = 0; i < 21; i++) sm[i] = 40 * frand();
    float first = sm[0], second = sm[1];
    mg_nn_softmax(sm, 3, 7);
    double tot = 0, mx = 0;
    for (int i = 0; i < 7; i++) { tot += sm[i]; if (sm[i] > mx) mx = sm[i]; }
    CHECK("softmax_rows_sum_to_one_and_keep_ratios", fabs(tot - 1) < 1e-6 && mx <= 1 &&
          fabs(log((double)sm[0] / sm[1]) - (first - second)) < 1e-4);

    float grid[5 * 4 * 2], out[5 * 4 * 2];
    for (int i = 0; i < 40; i++) grid[i] = frand();
    int same = 1;
    for (int aa = 0; aa < 2; aa++) {
        same &= mg_nn_resize_bicubic_grid(grid, 5, 4, 2, out, 5, 4, aa) == 0;
        for (int i = 0; i < 40; i++) same &= fabsf(out[i] - grid[i]) < 1e-6f;
    }
    CHECK("bicubic_resize_to_same_size_is_identity", same);
    float ones[6 * 6], up[9 * 11];
    for (int i = 0; i < 36; i++) ones[i] = 1.0f;
    int flat = mg_nn_resize_bicubic_grid(ones, 6, 6, 1, up, 9, 11, 1) == 0;
    for (int i = 0; i < 99; i++) flat &= fabsf(up[i] - 1.0f) < 1e-6f;
    CHECK("antialiased_bicubic_keeps_constants", flat);
}

int main(void)
{
    test_attention(1);
    test_attention(2);
    test_gelu_and_resize();
    return n_fail ? 1 : 0;
}

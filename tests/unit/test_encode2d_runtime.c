/* Unit tests of the model runtime: the safetensors reader on hand-built images,
 * blocked attention against a direct double-precision computation, GELU and the
 * bicubic grid resize. (Whole-model parity with PyTorch is in tests/encode2d/.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_nn.h"
#include "mg_safetensors.h"

static int n_fail;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); n_fail++; } } while (0)

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* [u64 header length][header][data] in buf; returns the total size. */
static size_t build(unsigned char *buf, const char *header, const void *data, size_t n)
{
    size_t h = strlen(header);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    memcpy(buf + 8 + h, data, n);
    return 8 + h + n;
}

static void test_safetensors(void)
{
    unsigned char buf[1024], data[32];
    char err[256];
    float a[4] = { 1.5f, -2.0f, 3.25f, 0.0f }, out[4];
    uint16_t s = 0x3fc0;                      /* bf16 1.5 */
    memcpy(data, a, 16);
    memcpy(data + 16, &s, 2);
    size_t n = build(buf, "{\"__metadata__\":{\"format\":\"pt\"},"
                     "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                     "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[16,16]},"
                     "\"s\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[16,18]}}", data, 18);
    mg_st *st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_scalar_and_empty_tensors_accepted", st != NULL);
    if (!st) { printf("  %s\n", err); return; }
    mg_st_tensor *ta = mg_st_find(st, "a"), *ts = mg_st_find(st, "s"), *te = mg_st_find(st, "e");
    CHECK("safetensors_lookup_by_name", ta && ts && te && !mg_st_find(st, "b") && mg_st_count(st) == 3);
    CHECK("safetensors_f32_values", ta && mg_st_to_f32(ta, 0, 4, out) == 0 && memcmp(out, a, 16) == 0);
    CHECK("safetensors_bf16_scalar", ts && ts->ndim == 0 && ts->numel == 1 &&
          mg_st_to_f32(ts, 0, 1, out) == 0 && out[0] == 1.5f);
    CHECK("safetensors_empty_tensor", te && te->numel == 0 && te->nbytes == 0);
    mg_st_close(st);

    n = build(buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", data, 18);
    st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_trailing_bytes_rejected", !st && strstr(err, "data buffer is 18 bytes"));
    mg_st_close(st);
    n = build(buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", data, 16);
    st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_size_must_match_shape", !st && strstr(err, "16 bytes for 6 elements"));
    mg_st_close(st);
    n = build(buf, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,16]}}", data, 16);
    st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_negative_dimension_rejected", !st && strstr(err, "bad shape"));
    mg_st_close(st);
    n = build(buf, "[1,2]", data, 0);
    st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_header_must_be_object", !st && strstr(err, "not a JSON object"));
    mg_st_close(st);
    buf[0] = 0xff;
    buf[6] = 0x01;
    st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_header_length_cap", !st && strstr(err, "exceeds"));
    mg_st_close(st);
    st = mg_st_open_mem(buf, 5, err, sizeof err);
    CHECK("safetensors_short_file", !st && strstr(err, "truncated"));
    mg_st_close(st);
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
    mg_nn_begin(&ctx);
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
    test_safetensors();
    test_attention(1);
    test_attention(2);
    test_gelu_and_resize();
    return n_fail ? 1 : 0;
}

/* Unit tests of the safetensors reader on hand-built images (header checks,
 * scalar and empty tensors, float conversion). Whole-model parity with PyTorch
 * is in tests/encode2d/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_safetensors.h"

static int n_fail;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); n_fail++; } } while (0)

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

    /* A file with no tensors (a fuzzing reproducer: the lookup once passed
     * the NULL tensor array to qsort/bsearch, undefined behaviour under UBSan). */
    n = build(buf, "{}", data, 0);
    st = mg_st_open_mem(buf, n, err, sizeof err);
    CHECK("safetensors_no_tensors", st && mg_st_count(st) == 0 && !mg_st_find(st, "a"));
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

int main(void)
{
    test_safetensors();
    return n_fail ? 1 : 0;
}

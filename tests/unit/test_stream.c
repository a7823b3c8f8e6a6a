/* Unit tests of the stream library: round trips, truncation, corruption, bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_stream.h"
#include "mg_tensor.h"
#include <zlib.h>

static int n_fail;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); n_fail++; } } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

/* A record with one tensor of every dtype and some metadata. */
static mg_record *sample_record(int i)
{
    mg_record *r = mg_record_init();
    if (!r || mg_record_set_metaf(r, "id", "sample-%d", i) < 0 ||
        mg_record_set_meta(r, "spacing", "0.7,0.7,1.25") < 0) abort();
    for (int d = MG_U8; d <= MG_F64; d++) {
        char name[32];
        snprintf(name, sizeof name, "t_%s", mg_dtype_name(d));
        int64_t shape[3] = {2 + i, 3, 5};
        mg_tensor *t = mg_record_add_tensor(r, name, d, 3, shape);
        unsigned char *p = t->data;
        for (size_t k = 0; k < t->nbytes; k++) p[k] = (unsigned char)next_rand();
    }
    int64_t big[2] = {64, 100};
    mg_tensor *t = mg_record_add_tensor(r, "zeros_f32", MG_F32, 2, big);
    ((float *)t->data)[7] = 1.5f;
    int64_t none[1] = {0};
    if (!mg_record_add_tensor(r, "empty", MG_F32, 1, none) ||
        !mg_record_add_tensor(r, "scalar", MG_F64, 0, NULL)) abort();
    return r;
}

static int same_record(const mg_record *a, const mg_record *b)
{
    if (a->n_tensors != b->n_tensors || a->n_meta != b->n_meta) return 0;
    for (int i = 0; i < a->n_meta; i++) {
        const char *v = mg_record_get_meta(b, a->meta[i].key);
        if (!v || strcmp(v, a->meta[i].value)) return 0;
    }
    for (int i = 0; i < a->n_tensors; i++) {
        const mg_tensor *x = &a->tensors[i], *y = mg_record_find_tensor(b, x->name);
        if (!y || x->dtype != y->dtype || x->ndim != y->ndim || x->nbytes != y->nbytes) return 0;
        for (int d = 0; d < x->ndim; d++) if (x->shape[d] != y->shape[d]) return 0;
        if (x->nbytes && memcmp(x->data, y->data, x->nbytes)) return 0;
        if (((uintptr_t)y->data & 63) != 0 && y->nbytes) return 0;   /* 64-byte aligned */
    }
    return 1;
}

/* Write n sample records to a temporary file and return its bytes. */
static unsigned char *make_stream(int n, int level, size_t *len)
{
    char path[] = "/tmp/mgunit.XXXXXX";
    int fd = mkstemp(path);
    mg_prov prov = {0};
    mg_prov_add(&prov, "mg-test\t0\tmg-test --flag");
    mg_writer_opts o = {level, 1};
    mg_writer *w = mg_writer_open_fd(fd, &prov, &o, NULL, 0);
    for (int i = 0; i < n; i++) {
        mg_record *r = sample_record(i);
        if (mg_writer_write(w, r) < 0) abort();
        mg_record_destroy(r);
    }
    if (mg_writer_close(w, 1, NULL, 0) < 0) abort();
    mg_prov_free(&prov);
    FILE *fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *b = malloc(*len);
    if (fread(b, 1, *len, fp) != *len) abort();
    fclose(fp);
    close(fd);
    unlink(path);
    return b;
}

/* Read a whole stream from memory: records read, or -1 on the first error. */
static int read_all(const unsigned char *b, size_t len, char *why, size_t wl)
{
    mg_reader *r = mg_reader_open_mem(b, len, why, wl);
    if (!r) return -1;
    mg_record *rec = mg_record_init();
    int k, n = 0;
    while ((k = mg_reader_next(r, rec)) == 1) n++;
    if (k < 0 && why) snprintf(why, wl, "%s", mg_reader_error(r));
    mg_record_destroy(rec);
    mg_reader_close(r);
    return k < 0 ? -1 : n;
}

static void test_roundtrip(int level)
{
    size_t len;
    rng = 0x9e3779b97f4a7c15ull;
    unsigned char *b = make_stream(3, level, &len);
    mg_reader *r = mg_reader_open_mem(b, len, NULL, 0);
    mg_record *rec = mg_record_init();
    int ok = r != NULL, n = 0;
    rng = 0x9e3779b97f4a7c15ull;
    while (ok && mg_reader_next(r, rec) == 1) {
        mg_record *want = sample_record(n++);
        ok = same_record(want, rec);
        mg_record_destroy(want);
    }
    char name[64];
    snprintf(name, sizeof name, "roundtrip_every_dtype_%s", level ? "zstd" : "raw");
    CHECK(name, ok && n == 3 && mg_reader_count(r) == 3);
    snprintf(name, sizeof name, "provenance_kept_%s", level ? "zstd" : "raw");
    CHECK(name, r && mg_reader_prov(r)->n == 1 && !strcmp(mg_reader_prov(r)->lines[0], "mg-test\t0\tmg-test --flag"));
    mg_record_destroy(rec);
    mg_reader_close(r);
    free(b);
}

static void test_truncation(int level)
{
    size_t len;
    unsigned char *b = make_stream(3, level, &len);
    int undetected = 0, wrong_msg = 0;
    char why[256];
    for (size_t cut = 0; cut < len; cut++) {
        if (read_all(b, cut, why, sizeof why) >= 0) undetected++;
        else if (cut > 0 && !strstr(why, "truncated")) { wrong_msg++; if (wrong_msg < 3) printf("# cut %zu: %s\n", cut, why); }
    }
    char name[64];
    snprintf(name, sizeof name, "truncation_at_every_byte_detected_%s", level ? "zstd" : "raw");
    CHECK(name, undetected == 0);
    snprintf(name, sizeof name, "truncation_reported_as_truncated_%s", level ? "zstd" : "raw");
    CHECK(name, wrong_msg == 0);
    CHECK(level ? "complete_stream_reads_zstd" : "complete_stream_reads_raw", read_all(b, len, NULL, 0) == 3);
    free(b);
}

static void test_corruption(void)
{
    size_t len;
    unsigned char *b = make_stream(2, 0, &len);
    int undetected = 0;
    for (size_t i = 0; i < len; i++) {
        b[i] ^= 0x10;
        if (read_all(b, len, NULL, 0) >= 0) undetected++;
        b[i] ^= 0x10;
    }
    CHECK("every_single_byte_corruption_detected", undetected == 0);
    /* Extra bytes after the end record. */
    unsigned char *c = malloc(len + 1);
    memcpy(c, b, len);
    c[len] = 0;
    char why[256] = "";
    CHECK("data_after_end_rejected", read_all(c, len + 1, why, sizeof why) < 0 && strstr(why, "after end"));
    free(c);
    free(b);
}

/* Little-endian helpers for hand-made frames. */
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }

/* A stream whose single record body is given, with valid checksums. */
static unsigned char *craft(const unsigned char *body, size_t blen, uint64_t claimed_len, size_t *len)
{
    size_t hdr_len;
    unsigned char *h = make_stream(0, 0, &hdr_len);   /* header + END */
    size_t head = hdr_len - 28;                      /* END frame: 16 + 8 + 4 */
    unsigned char *s = malloc(head + 16 + blen + 4 + 32);
    memcpy(s, h, head);
    unsigned char *f = s + head;
    memcpy(f, "REC\0", 4);
    put32(f + 4, 0);
    put64(f + 8, claimed_len);
    memcpy(f + 16, body, blen);
    put32(f + 16 + blen, mg_crc32(0, f, 16 + blen));
    unsigned char *e = f + 16 + blen + 4;
    memcpy(e, "END\0", 4);
    put32(e + 4, 0);
    put64(e + 8, 8);
    put64(e + 16, 1);
    put32(e + 24, mg_crc32(0, e, 24));
    *len = head + 16 + blen + 4 + 28;
    free(h);
    return s;
}

static void test_bounds(void)
{
    /* One f32 tensor claiming 2^40 × 2^40 elements. */
    unsigned char body[256];
    memset(body, 0, sizeof body);
    size_t p = 0;
    put32(body, 0); put32(body + 4, 1); p = 8;
    body[p] = 1; body[p + 1] = 0; p += 2;
    body[p++] = 'x';
    body[p++] = MG_F32; body[p++] = 2; body[p++] = 0; body[p++] = 0;
    put64(body + p, 1ull << 40); p += 8;
    put64(body + p, 1ull << 40); p += 8;
    put64(body + p, 0); p += 8;
    p = (p + 63) / 64 * 64;
    size_t len;
    unsigned char *s = craft(body, p, p, &len);
    char why[256] = "";
    CHECK("absurd_dimensions_rejected", read_all(s, len, why, sizeof why) < 0 && strstr(why, "absurd"));
    free(s);
    /* A record length of 2^62. */
    s = craft(body, 8, 1ull << 62, &len);
    CHECK("absurd_record_length_rejected", read_all(s, len, why, sizeof why) < 0 && strstr(why, "record length"));
    free(s);
    /* A record claiming 60 GiB with a few bytes present: truncated, no 60 GiB allocation. */
    s = craft(body, 8, 60ull << 30, &len);
    CHECK("record_over_default_limit_refused", read_all(s, len, why, sizeof why) < 0 && strstr(why, "--max-record-size"));
    mg_stream_set_max_record(MG_MAX_RECORD_BYTES);       /* a limit the lie fits under */
    CHECK("lying_record_length_is_truncation", read_all(s, len, why, sizeof why) < 0 && strstr(why, "truncated"));
    mg_stream_set_max_record(0);
    free(s);
    /* Metadata key length past the body. */
    memset(body, 0, sizeof body);
    put32(body, 1); put32(body + 4, 0); put32(body + 8, 1000);
    s = craft(body, 16, 16, &len);
    CHECK("metadata_overrun_rejected", read_all(s, len, why, sizeof why) < 0 && strstr(why, "corrupt"));
    free(s);
    /* Not a stream at all; empty input. */
    CHECK("bad_magic_rejected", read_all((const unsigned char *)"hello world, not a stream", 25, why, sizeof why) < 0 && strstr(why, "not an mgt"));
    CHECK("empty_input_rejected", read_all((const unsigned char *)"", 0, why, sizeof why) < 0 && strstr(why, "empty"));
}

static void test_record_api(void)
{
    mg_record *r = mg_record_init();
    int64_t s[1] = {4};
    CHECK("duplicate_tensor_name_refused", mg_record_add_tensor(r, "a", MG_F32, 1, s) && !mg_record_add_tensor(r, "a", MG_U8, 1, s));
    int64_t neg[1] = {-1};
    CHECK("negative_dimension_refused", !mg_record_add_tensor(r, "b", MG_F32, 1, neg));
    CHECK("unknown_dtype_refused", !mg_record_add_tensor(r, "c", 99, 1, s));
    int set = mg_record_set_meta(r, "k", "1") + mg_record_set_meta(r, "k", "2");
    CHECK("meta_replaced_not_duplicated", set == 0 && r->n_meta == 1 && !strcmp(mg_record_get_meta(r, "k"), "2"));
    mg_record_del_meta(r, "k");
    CHECK("meta_deleted", mg_record_get_meta(r, "k") == NULL);
    mg_record_destroy(r);
}

static void test_conversions(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mg_f16_to_f32((uint16_t)h);
        uint16_t back = mg_f32_to_f16(f);
        int is_nan = ((h >> 10) & 0x1f) == 31 && (h & 0x3ff);
        if (!is_nan && back != h) bad++;
    }
    CHECK("f16_roundtrip_all_values", bad == 0);
    CHECK("f16_rounds_to_nearest_even", mg_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00 && mg_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);
    CHECK("f16_overflow_is_inf", mg_f32_to_f16(70000.0f) == 0x7c00 && mg_f32_to_f16(65504.0f) == 0x7bff);
    CHECK("bf16_round_nearest_even", mg_f32_to_bf16(1.00390625f) == 0x3f80 && mg_f32_to_bf16(1.01171875f) == 0x3f82);
    CHECK("bf16_exact_widen", mg_bf16_to_f32(0x3fc0) == 1.5f);
    uint32_t c = mg_crc32(0, "123456789", 9);
    CHECK("crc32_check_value", c == 0xcbf43926u);
    /* The folded path against zlib on random lengths, offsets and seeds. */
    size_t n = 1 << 16;
    unsigned char *buf = malloc(n + 64);
    for (size_t i = 0; i < n + 64; i++) buf[i] = (unsigned char)next_rand();
    int mismatch = 0;
    for (int trial = 0; trial < 2000; trial++) {
        size_t off = next_rand() % 64, len = next_rand() % (trial < 1000 ? 1024 : n);
        uint32_t seed = (uint32_t)next_rand();
        if (mg_crc32(seed, buf + off, len) != (uint32_t)crc32(seed, buf + off, (uInt)len)) mismatch++;
    }
    /* Split computation equals one pass. */
    uint32_t whole = mg_crc32(0, buf, n), split = mg_crc32(mg_crc32(0, buf, 1000), buf + 1000, n - 1000);
    CHECK("crc32_fast_path_equals_zlib", mismatch == 0 && whole == split && whole == (uint32_t)crc32(0, buf, (uInt)n));
    free(buf);
}

int main(void)
{
    test_roundtrip(0);
    test_roundtrip(3);
    test_truncation(0);
    test_truncation(3);
    test_corruption();
    test_bounds();
    test_record_api();
    test_conversions();
    return 0;
}

/* Unit tests of the tokenizers on files written here by hand: BPE merge order and
 * unknown handling on a tiny tokenizer.json, unigram Viterbi on a tiny SentencePiece
 * ModelProto, and the errors for broken files (the reference comparisons are in
 * tests/tokenizer/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_tokenizer.h"

static int n_fail;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s: %s (line %d)\n", name, #cond, __LINE__); n_fail++; } } while (0)

/* ids of text as "1 2 3" (or "!error") */
static const char *enc(const mg_tokenizer *t, const char *text, int special)
{
    static char out[512];
    char err[256];
    int32_t *ids; size_t n;
    if (mg_tokenizer_encode(t, text, strlen(text), special, &ids, &n, err, sizeof err) < 0) {
        snprintf(out, sizeof out, "!%s", err);
        return out;
    }
    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), i ? " %d" : "%d", (int)ids[i]);
    free(ids);
    return out;
}

static int dec_is(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip, const char *want)
{
    char err[256];
    char *s = mg_tokenizer_decode(t, ids, n, skip, err, sizeof err);
    int ok = s && strcmp(s, want) == 0;
    if (!ok) fprintf(stderr, "decoded '%s', want '%s'\n", s ? s : err, want);
    free(s);
    return ok;
}

/* Loading json must fail with an error containing want. */
static int json_fails(const char *json, const char *want)
{
    char err[256] = "";
    mg_tokenizer *t = mg_tokenizer_load_mem(json, strlen(json), 1, err, sizeof err);
    if (t) { mg_tokenizer_free(t); fprintf(stderr, "loaded, want error '%s'\n", want); return 0; }
    if (!strstr(err, want)) { fprintf(stderr, "error '%s', want '%s'\n", err, want); return 0; }
    return 1;
}

static const char *TINY =
    "{\"added_tokens\": [{\"id\": 8, \"content\": \"<s>\", \"special\": true, \"normalized\": false},"
    "                    {\"id\": 9, \"content\": \"[X]\", \"special\": false, \"normalized\": false}],"
    " \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"_\"},"
    " \"pre_tokenizer\": null,"
    " \"decoder\": {\"type\": \"Replace\", \"pattern\": {\"String\": \"_\"}, \"content\": \" \"},"
    " \"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"fuse_unk\": true, \"byte_fallback\": false,"
    "   \"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": 2, \"ab\": 3, \"c\": 4, \"abc\": 5, \"_\": 6, \"bc\": 7, \"<s>\": 8},"
    "   \"merges\": [[\"a\", \"b\"], [\"ab\", \"c\"], \"b c\"]}}";

static void test_bpe(void)
{
    char err[256];
    mg_tokenizer *t = mg_tokenizer_load_mem(TINY, strlen(TINY), 1, err, sizeof err);
    CHECK("bpe_tiny_loads", t != NULL);
    if (!t) { fprintf(stderr, "%s\n", err); return; }
    CHECK("bpe_vocab_size_counts_added_tokens", mg_tokenizer_vocab_size(t) == 10);
    CHECK("bpe_merges_by_rank", !strcmp(enc(t, "abc", 1), "5"));
    /* a b b c: "ab" (rank 0) first, then "bc" (rank 2); "ab"+"bc" is no merge */
    CHECK("bpe_merges_lowest_rank_first", !strcmp(enc(t, "abbc", 1), "3 7"));
    CHECK("bpe_old_merge_format", !strcmp(enc(t, "bc", 1), "7"));
    CHECK("bpe_unknown_run_fused", !strcmp(enc(t, "xyz", 1), "0"));
    CHECK("bpe_unknown_between_known", !strcmp(enc(t, "axyb", 1), "1 0 2"));
    CHECK("bpe_normalizer_replaces_spaces", !strcmp(enc(t, "ab c", 1), "3 6 4"));
    CHECK("bpe_special_token_parsed", !strcmp(enc(t, "a<s>b", 1), "1 8 2"));
    CHECK("bpe_special_token_as_text", !strcmp(enc(t, "a<s>b", 0), "1 0 2"));
    CHECK("bpe_added_token_always_parsed", !strcmp(enc(t, "a[X]b", 0), "1 9 2"));
    CHECK("bpe_empty_text", !strcmp(enc(t, "", 1), ""));
    CHECK("bpe_invalid_utf8", enc(t, "a\xff", 1)[0] == '!');
    int32_t ids[] = {8, 3, 6, 4, 9};
    CHECK("bpe_decode", dec_is(t, ids, 5, 0, "<s>ab c[X]"));
    CHECK("bpe_decode_skip_special", dec_is(t, ids, 5, 1, "ab c[X]"));
    int32_t bad[] = {1, 10};
    CHECK("bpe_decode_rejects_unknown_id", !mg_tokenizer_decode(t, bad, 2, 0, err, sizeof err) && strstr(err, "10"));
    CHECK("bpe_piece_lookup", mg_tokenizer_id(t, "abc") == 5 && mg_tokenizer_id(t, "zz") == -1
                              && !strcmp(mg_tokenizer_piece(t, 7), "bc") && !mg_tokenizer_piece(t, 10));
    /* no tokenizer_config.json: bos/eos/pad by the usual names; here only <s> */
    CHECK("bpe_specials_by_name", mg_tokenizer_bos(t) == 8 && mg_tokenizer_eos(t) == -1 && mg_tokenizer_pad(t) == -1);
    mg_tokenizer_free(t);

    CHECK("json_syntax_error", json_fails("{\"model\": ", "JSON error"));
    CHECK("json_not_bpe", json_fails("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "not supported"));
    CHECK("json_merge_outside_vocab",
          json_fails("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\", \"q\"]]}}",
                     "not in the vocabulary"));
    CHECK("json_duplicate_id",
          json_fails("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}", "given twice"));
    CHECK("json_huge_id",
          json_fails("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2000000000}, \"merges\": []}}", "out of range"));
    CHECK("json_regex_refused",
          json_fails("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\s+\"}, \"behavior\": \"Isolated\"},"
                     " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "Regex"));
    CHECK("json_unknown_decoder",
          json_fails("{\"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                     "ByteLevel"));
    CHECK("json_added_token_clash",
          json_fails("{\"added_tokens\": [{\"id\": 0, \"content\": \"b\"}],"
                     " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "another piece"));
}

/* ---- a hand-written SentencePiece ModelProto ---------------------------------- */

typedef struct { unsigned char b[4096]; size_t n; } pbuf;
static void put_varint(pbuf *p, unsigned long long v)
{
    do { unsigned char c = v & 0x7f; v >>= 7; p->b[p->n++] = c | (v ? 0x80 : 0); } while (v);
}
static void put_bytes(pbuf *p, int field, const void *s, size_t n)
{
    put_varint(p, (unsigned)field << 3 | 2);
    put_varint(p, n);
    memcpy(p->b + p->n, s, n);
    p->n += n;
}
static void put_piece(pbuf *p, const char *piece, float score, int type)
{
    pbuf sp = {{0}, 0};
    put_bytes(&sp, 1, piece, strlen(piece));
    put_varint(&sp, 2 << 3 | 5);
    memcpy(sp.b + sp.n, &score, 4);
    sp.n += 4;
    put_varint(&sp, 3 << 3 | 0);
    put_varint(&sp, (unsigned)type);
    put_bytes(p, 1, sp.b, sp.n);
}

static mg_tokenizer *spm(const pbuf *p, char *err, size_t errlen)
{
    return mg_tokenizer_load_mem(p->b, p->n, 0, err, errlen);
}

static int spm_fails(const pbuf *p, const char *want)
{
    char err[256] = "";
    mg_tokenizer *t = spm(p, err, sizeof err);
    if (t) { mg_tokenizer_free(t); fprintf(stderr, "loaded, want error '%s'\n", want); return 0; }
    if (!strstr(err, want)) { fprintf(stderr, "error '%s', want '%s'\n", err, want); return 0; }
    return 1;
}

static void test_spm(void)
{
    char err[256];
    pbuf p = {{0}, 0};
    /* unigram, identity normalizer (no charsmap), default add_dummy_prefix etc. */
    put_piece(&p, "<unk>", 0, 2);
    put_piece(&p, "\xe2\x96\x81" "a", -1, 1);
    put_piece(&p, "a", -2, 1);
    put_piece(&p, "b", -3, 1);
    put_piece(&p, "\xe2\x96\x81", -4, 1);
    put_piece(&p, "</s>", 0, 3);
    pbuf ns = {{0}, 0};
    put_bytes(&ns, 1, "identity", 8);
    put_bytes(&p, 3, ns.b, ns.n);
    mg_tokenizer *t = spm(&p, err, sizeof err);
    CHECK("spm_tiny_loads", t != NULL);
    if (t) {
        /* "▁a▁b": ▁a ▁ b scores −8, ▁ a ▁ b −13 */
        CHECK("spm_unigram_viterbi", !strcmp(enc(t, "a b", 0), "1 4 3"));
        CHECK("spm_extra_spaces_removed", !strcmp(enc(t, "  a   b  ", 0), "1 4 3"));
        /* c is unknown: one unk per run of unknown characters */
        CHECK("spm_unknown_run", !strcmp(enc(t, "a cc", 0), "1 4 0"));
        CHECK("spm_control_text_not_parsed", !strcmp(enc(t, "a</s>", 0), "1 0"));
        CHECK("spm_control_text_parsed", !strcmp(enc(t, "a</s>", 1), "1 5"));
        int32_t ids[] = {1, 4, 3, 5, 4, 0};
        CHECK("spm_decode", dec_is(t, ids, 6, 1, "a b  \xe2\x81\x87 "));
        CHECK("spm_specials", mg_tokenizer_eos(t) == 5 && mg_tokenizer_bos(t) == -1 && mg_tokenizer_pad(t) == -1);
        mg_tokenizer_free(t);
    } else fprintf(stderr, "%s\n", err);

    pbuf q = {{0}, 0};
    CHECK("spm_empty_is_an_error", spm_fails(&q, "no pieces"));
    q.n = 0;
    put_piece(&q, "a", -1, 1);
    CHECK("spm_without_unk", spm_fails(&q, "unk is not defined"));
    q.n = 0;
    put_piece(&q, "<unk>", 0, 2);
    put_piece(&q, "<0x41>", 0, 6);
    CHECK("spm_byte_piece_without_byte_fallback", spm_fails(&q, "byte_fallback is false"));
    pbuf tsp = {{0}, 0};
    put_varint(&tsp, 35 << 3 | 0);
    put_varint(&tsp, 1);
    put_bytes(&q, 2, tsp.b, tsp.n);
    CHECK("spm_byte_fallback_needs_256_bytes", spm_fails(&q, "256 byte pieces"));
    q.n = 0;
    put_piece(&q, "<unk>", 0, 2);
    put_piece(&q, "<unk>", 0, 2);
    CHECK("spm_second_unk", spm_fails(&q, "unk is already defined"));
    q.n = 0;
    put_piece(&q, "<unk>", 0, 2);
    put_piece(&q, "a", 0, 9);
    CHECK("spm_bad_piece_type", spm_fails(&q, "type"));
    q.n = 0;
    put_piece(&q, "<unk>", 0, 2);
    put_piece(&q, "a", 0, 1);
    put_piece(&q, "a", 0, 1);
    CHECK("spm_duplicate_piece", spm_fails(&q, "already defined"));
    /* wire-format damage */
    q.n = 0;
    put_piece(&q, "<unk>", 0, 2);
    q.b[1] = 0x7f;                           /* length past the end */
    CHECK("spm_length_past_end", spm_fails(&q, "not a SentencePiece model"));
    q.n = 0;
    q.b[q.n++] = 0x08;
    for (int i = 0; i < 11; i++) q.b[q.n++] = 0xff;
    CHECK("spm_overlong_varint", spm_fails(&q, "not a SentencePiece model"));
    q.n = 0;
    q.b[q.n++] = 0x0b;                       /* field 1, wire type 3 (group) */
    CHECK("spm_group_wire_type", spm_fails(&q, "not a SentencePiece model"));
    q.n = 0;
    put_piece(&q, "<unk>", 0, 2);
    pbuf bad = {{0}, 0};
    unsigned char blob[8] = {200, 0, 0, 0, 1, 2, 3, 4};   /* trie size past the blob */
    put_bytes(&bad, 2, blob, sizeof blob);
    put_bytes(&q, 3, bad.b, bad.n);
    CHECK("spm_broken_charsmap", spm_fails(&q, "charsmap"));
}

int main(void)
{
    test_bpe();
    test_spm();
    return n_fail ? 1 : 0;
}

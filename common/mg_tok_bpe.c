/* mg_tok_bpe.c: Hugging Face tokenizer.json with a BPE model, as the `tokenizers`
 * library runs it: added tokens split out first (leftmost-longest), then the
 * normalizer, the pre-tokenizer, BPE merges by rank with byte fallback, and on the
 * way back the decoder chain. Gemma 3 uses Replace(" "→"▁") / Split(" ") /
 * BPE(byte_fallback) / Sequence[Replace("▁"→" "), ByteFallback, Fuse]; the other
 * component types implemented are the ones SentencePiece-converted tokenizers use
 * (Prepend, Strip, Sequence, Metaspace, WhitespaceSplit, Strip decoder). Regex
 * patterns and Unicode normal forms are refused with an error rather than guessed. */
#include "mg_tok_impl.h"
#include "mg_err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Added-token flags. */
enum { AT_SPECIAL = 1, AT_LSTRIP = 2, AT_RSTRIP = 4, AT_SINGLE_WORD = 8 };

enum { NORM_REPLACE = 1, NORM_PREPEND, NORM_STRIP };
enum { PRE_SPLIT = 1, PRE_METASPACE, PRE_WS_SPLIT };
enum { DEC_REPLACE = 1, DEC_BYTE_FALLBACK, DEC_FUSE, DEC_STRIP, DEC_METASPACE };
/* SplitDelimiterBehavior */
enum { SPLIT_REMOVED = 1, SPLIT_ISOLATED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS };
enum { PREPEND_ALWAYS = 1, PREPEND_FIRST, PREPEND_NEVER };

typedef struct {
    int type;
    char *a, *b;             /* pattern/content, prepend, replacement */
    size_t alen, blen;
    int behavior, invert, split, scheme, left, right;   /* as the type needs */
} step;

typedef struct { step *s; int n, cap; } steps;

typedef struct { uint64_t *key; int32_t *rank, *next_id; uint32_t mask; } merge_map;

typedef struct {
    steps norm, pre, dec;
    merge_map merges;
    mg_tok_matcher added_raw, added_norm;   /* normalized: false / true */
    int byte_fallback, fuse_unk, ignore_merges;
} bpe_model;

/* ---- small helpers ---------------------------------------------------------------- */

/* A token list: strings (with lengths) in one buffer. */
typedef struct { mg_tok_buf text; size_t *off, *len; size_t n, cap; uint8_t *first; } toklist;

static int tl_add(toklist *l, const char *s, size_t n, int first)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        size_t *o = realloc(l->off, cap * sizeof *o), *g;
        if (!o) return -1;
        l->off = o;
        if (!(g = realloc(l->len, cap * sizeof *g))) return -1;
        l->len = g;
        uint8_t *f = realloc(l->first, cap);
        if (!f) return -1;
        l->first = f;
        l->cap = cap;
    }
    l->off[l->n] = l->text.n;
    l->len[l->n] = n;
    l->first[l->n] = (uint8_t)first;
    l->n++;
    return mg_tok_buf_put(&l->text, s, n);
}

/* Append to the last token (which must exist). */
static int tl_append(toklist *l, const char *s, size_t n)
{
    l->len[l->n - 1] += n;
    return mg_tok_buf_put(&l->text, s, n);
}

static void tl_free(toklist *l)
{
    free(l->text.p); free(l->off); free(l->len); free(l->first);
    memset(l, 0, sizeof *l);
}

#define TL_STR(l, i) ((l)->text.p + (l)->off[i])

/* Unicode White_Space (what Rust's char::is_whitespace tests); returns the byte
 * length of the whitespace character at s, 0 when none. */
static size_t ws_len(const unsigned char *s, size_t n)
{
    if (!n) return 0;
    if (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D)) return 1;
    if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0)) return 2;
    if (n >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) return 3;         /* U+1680 */
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80
        && (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF)) return 3; /* U+2000–200A, 2028, 2029, 202F */
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) return 3;         /* U+205F */
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) return 3;         /* U+3000 */
    return 0;
}

/* Length of the whitespace run ending at s+n (walking back by characters). */
static size_t ws_tail(const unsigned char *s, size_t n)
{
    size_t end = n;
    while (end > 0) {
        size_t st = end - 1;
        while (st > 0 && (s[st] & 0xC0) == 0x80 && end - st < 4) st--;
        if (ws_len(s + st, end - st) != end - st) break;
        end = st;
    }
    return n - end;
}

static size_t ws_head(const unsigned char *s, size_t n)
{
    size_t i = 0, k;
    while (i < n && (k = ws_len(s + i, n - i))) i += k;
    return i;
}

/* ASCII word characters only: single_word added tokens are rare and none of the
 * supported checkpoints has one. */
static int word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

/* Replace every non-overlapping occurrence of pat in s by rep (appended to out). */
static int replace_all(mg_tok_buf *out, const char *s, size_t n, const char *pat, size_t plen,
                       const char *rep, size_t rlen)
{
    size_t i = 0;
    while (i < n) {
        const char *hit = plen <= n - i ? memmem(s + i, n - i, pat, plen) : NULL;
        if (!hit) break;
        size_t h = (size_t)(hit - s);
        if (mg_tok_buf_put(out, s + i, h - i) < 0 || mg_tok_buf_put(out, rep, rlen) < 0) return -1;
        i = h + plen;
    }
    return mg_tok_buf_put(out, s + i, n - i);
}

/* ---- merges ------------------------------------------------------------------------ */

static uint32_t hash64(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33;
    return (uint32_t)k;
}

static int merge_get(const merge_map *m, int32_t a, int32_t b, int32_t *rank, int32_t *next_id)
{
    if (!m->key) return 0;
    uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (uint32_t i = hash64(k) & m->mask;; i = (i + 1) & m->mask) {
        if (m->key[i] == UINT64_MAX) return 0;
        if (m->key[i] == k) { *rank = m->rank[i]; *next_id = m->next_id[i]; return 1; }
    }
}

/* ---- loading ----------------------------------------------------------------------- */

static int str_of(json_t *v, const char **s, size_t *n)
{
    if (!json_is_string(v)) return -1;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

static step *steps_new(steps *ss)
{
    if (ss->n == ss->cap) {
        int cap = ss->cap ? ss->cap * 2 : 4;
        step *s = realloc(ss->s, (size_t)cap * sizeof *s);
        if (!s) return NULL;
        ss->s = s; ss->cap = cap;
    }
    step *s = &ss->s[ss->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static void steps_free(steps *ss)
{
    for (int i = 0; i < ss->n; i++) { free(ss->s[i].a); free(ss->s[i].b); }
    free(ss->s);
}

/* pattern: {"String": "…"}; {"Regex": …} is refused. */
static int get_pattern(json_t *o, char **s, size_t *n, const char *what, char *err, size_t errlen)
{
    json_t *p = json_object_get(o, "pattern");
    const char *v; size_t vn;
    if (json_is_object(p) && json_object_get(p, "Regex")) {
        mg_seterr(err, errlen, "%s with a Regex pattern is not supported", what);
        return -1;
    }
    if (!json_is_object(p) || str_of(json_object_get(p, "String"), &v, &vn) < 0 || vn == 0) {
        mg_seterr(err, errlen, "%s: pattern is not a non-empty {\"String\": …}", what);
        return -1;
    }
    if (!(*s = dup_n(v, vn))) return mg_fail(err, errlen, "out of memory");
    *n = vn;
    return 0;
}

static int get_string(json_t *o, const char *key, char **s, size_t *n, const char *what,
                      char *err, size_t errlen)
{
    const char *v; size_t vn;
    if (str_of(json_object_get(o, key), &v, &vn) < 0) {
        mg_seterr(err, errlen, "%s: \"%s\" is not a string", what, key);
        return -1;
    }
    if (!(*s = dup_n(v, vn))) return mg_fail(err, errlen, "out of memory");
    *n = vn;
    return 0;
}

static const char *type_of(json_t *o)
{
    json_t *t = json_object_get(o, "type");
    return json_is_string(t) ? json_string_value(t) : "";
}

static int parse_scheme(json_t *o, int *scheme)
{
    json_t *p = json_object_get(o, "prepend_scheme");
    if (json_is_string(p)) {
        const char *s = json_string_value(p);
        *scheme = !strcmp(s, "always") ? PREPEND_ALWAYS : !strcmp(s, "first") ? PREPEND_FIRST
                : !strcmp(s, "never") ? PREPEND_NEVER : 0;
        return *scheme ? 0 : -1;
    }
    /* older files: add_prefix_space (default true) */
    json_t *a = json_object_get(o, "add_prefix_space");
    *scheme = a && json_is_false(a) ? PREPEND_NEVER : PREPEND_ALWAYS;
    return 0;
}

static int replacement_of(json_t *o, step *s, const char *what, char *err, size_t errlen)
{
    if (get_string(o, "replacement", &s->a, &s->alen, what, err, errlen) < 0) return -1;
    if (s->alen == 0 || mg_tok_utf8_len((const unsigned char *)s->a, s->alen) != s->alen) {
        mg_seterr(err, errlen, "%s: replacement is not one character", what);
        return -1;
    }
    if (parse_scheme(o, &s->scheme) < 0) {
        mg_seterr(err, errlen, "%s: unknown prepend_scheme", what);
        return -1;
    }
    return 0;
}

static int load_normalizer(json_t *o, steps *ss, int depth, char *err, size_t errlen)
{
    if (json_is_null(o) || !o) return 0;
    if (!json_is_object(o) || depth > 8) return mg_fail(err, errlen, "normalizer is not an object");
    const char *ty = type_of(o);
    if (!strcmp(ty, "Sequence")) {
        json_t *arr = json_object_get(o, "normalizers"), *e;
        size_t i;
        if (!json_is_array(arr)) return mg_fail(err, errlen, "Sequence normalizer without a normalizers array");
        json_array_foreach(arr, i, e)
            if (load_normalizer(e, ss, depth + 1, err, errlen) < 0) return -1;
        return 0;
    }
    step *s = steps_new(ss);
    if (!s) return mg_fail(err, errlen, "out of memory");
    if (!strcmp(ty, "Replace")) {
        s->type = NORM_REPLACE;
        if (get_pattern(o, &s->a, &s->alen, "Replace normalizer", err, errlen) < 0) return -1;
        return get_string(o, "content", &s->b, &s->blen, "Replace normalizer", err, errlen);
    }
    if (!strcmp(ty, "Prepend")) {
        s->type = NORM_PREPEND;
        return get_string(o, "prepend", &s->a, &s->alen, "Prepend normalizer", err, errlen);
    }
    if (!strcmp(ty, "Strip")) {
        s->type = NORM_STRIP;
        s->left = json_is_true(json_object_get(o, "strip_left"));
        s->right = json_is_true(json_object_get(o, "strip_right"));
        return 0;
    }
    mg_seterr(err, errlen, "normalizer type \"%.40s\" is not supported", ty);
    return -1;
}

static int parse_behavior(json_t *o, int *b)
{
    const char *s = json_is_string(json_object_get(o, "behavior")) ? json_string_value(json_object_get(o, "behavior")) : "";
    *b = !strcmp(s, "Removed") ? SPLIT_REMOVED : !strcmp(s, "Isolated") ? SPLIT_ISOLATED
       : !strcmp(s, "MergedWithPrevious") ? SPLIT_MERGED_PREV : !strcmp(s, "MergedWithNext") ? SPLIT_MERGED_NEXT
       : !strcmp(s, "Contiguous") ? SPLIT_CONTIGUOUS : 0;
    return *b ? 0 : -1;
}

static int load_pretok(json_t *o, steps *ss, int depth, char *err, size_t errlen)
{
    if (json_is_null(o) || !o) return 0;
    if (!json_is_object(o) || depth > 8) return mg_fail(err, errlen, "pre_tokenizer is not an object");
    const char *ty = type_of(o);
    if (!strcmp(ty, "Sequence")) {
        json_t *arr = json_object_get(o, "pretokenizers"), *e;
        size_t i;
        if (!json_is_array(arr)) return mg_fail(err, errlen, "Sequence pre_tokenizer without a pretokenizers array");
        json_array_foreach(arr, i, e)
            if (load_pretok(e, ss, depth + 1, err, errlen) < 0) return -1;
        return 0;
    }
    step *s = steps_new(ss);
    if (!s) return mg_fail(err, errlen, "out of memory");
    if (!strcmp(ty, "Split")) {
        s->type = PRE_SPLIT;
        if (get_pattern(o, &s->a, &s->alen, "Split pre_tokenizer", err, errlen) < 0) return -1;
        if (parse_behavior(o, &s->behavior) < 0) return mg_fail(err, errlen, "Split pre_tokenizer: unknown behavior");
        s->invert = json_is_true(json_object_get(o, "invert"));
        return 0;
    }
    if (!strcmp(ty, "Metaspace")) {
        s->type = PRE_METASPACE;
        json_t *sp = json_object_get(o, "split");
        s->split = !sp || json_is_true(sp);
        return replacement_of(o, s, "Metaspace pre_tokenizer", err, errlen);
    }
    if (!strcmp(ty, "WhitespaceSplit")) { s->type = PRE_WS_SPLIT; return 0; }
    mg_seterr(err, errlen, "pre_tokenizer type \"%.40s\" is not supported", ty);
    return -1;
}

static int load_decoder(json_t *o, steps *ss, int depth, char *err, size_t errlen)
{
    if (json_is_null(o) || !o) return 0;
    if (!json_is_object(o) || depth > 8) return mg_fail(err, errlen, "decoder is not an object");
    const char *ty = type_of(o);
    if (!strcmp(ty, "Sequence")) {
        json_t *arr = json_object_get(o, "decoders"), *e;
        size_t i;
        if (!json_is_array(arr)) return mg_fail(err, errlen, "Sequence decoder without a decoders array");
        json_array_foreach(arr, i, e)
            if (load_decoder(e, ss, depth + 1, err, errlen) < 0) return -1;
        return 0;
    }
    step *s = steps_new(ss);
    if (!s) return mg_fail(err, errlen, "out of memory");
    if (!strcmp(ty, "Replace")) {
        s->type = DEC_REPLACE;
        if (get_pattern(o, &s->a, &s->alen, "Replace decoder", err, errlen) < 0) return -1;
        return get_string(o, "content", &s->b, &s->blen, "Replace decoder", err, errlen);
    }
    if (!strcmp(ty, "ByteFallback")) { s->type = DEC_BYTE_FALLBACK; return 0; }
    if (!strcmp(ty, "Fuse")) { s->type = DEC_FUSE; return 0; }
    if (!strcmp(ty, "Strip")) {
        s->type = DEC_STRIP;
        json_t *st = json_object_get(o, "start"), *sp = json_object_get(o, "stop");
        if (get_string(o, "content", &s->a, &s->alen, "Strip decoder", err, errlen) < 0) return -1;
        if (s->alen == 0 || mg_tok_utf8_len((const unsigned char *)s->a, s->alen) != s->alen
            || !json_is_integer(st) || !json_is_integer(sp)
            || json_integer_value(st) < 0 || json_integer_value(sp) < 0)
            return mg_fail(err, errlen, "Strip decoder: content must be one character, start/stop counts");
        s->left = json_integer_value(st) > 1 << 20 ? 1 << 20 : (int)json_integer_value(st);
        s->right = json_integer_value(sp) > 1 << 20 ? 1 << 20 : (int)json_integer_value(sp);
        return 0;
    }
    if (!strcmp(ty, "Metaspace")) {
        s->type = DEC_METASPACE;
        return replacement_of(o, s, "Metaspace decoder", err, errlen);
    }
    mg_seterr(err, errlen, "decoder type \"%.40s\" is not supported", ty);
    return -1;
}

/* tokenizer_config.json: "bos_token": "<bos>" or {"content": "<bos>", …}. */
static int32_t config_token(const mg_tokenizer *t, json_t *cfg, const char *key)
{
    json_t *v = json_object_get(cfg, key);
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v)) return -1;
    return mg_tok_vocab_find(&t->v, json_string_value(v), json_string_length(v));
}

static void bpe_free(void *p)
{
    bpe_model *m = p;
    if (!m) return;
    steps_free(&m->norm); steps_free(&m->pre); steps_free(&m->dec);
    free(m->merges.key); free(m->merges.rank); free(m->merges.next_id);
    mg_tok_matcher_free(&m->added_raw); mg_tok_matcher_free(&m->added_norm);
    free(m);
}

static int load_merges(mg_tokenizer *t, bpe_model *m, json_t *arr, char *err, size_t errlen)
{
    size_t n = json_array_size(arr);
    if (n > (size_t)INT32_MAX / 4) return mg_fail(err, errlen, "too many merges");
    uint32_t cap = 16;
    while (cap < n * 2) cap *= 2;
    merge_map *mm = &m->merges;
    mm->key = malloc((size_t)cap * sizeof *mm->key);
    mm->rank = malloc((size_t)cap * sizeof *mm->rank);
    mm->next_id = malloc((size_t)cap * sizeof *mm->next_id);
    if (!mm->key || !mm->rank || !mm->next_id) return mg_fail(err, errlen, "out of memory");
    memset(mm->key, 0xff, (size_t)cap * sizeof *mm->key);
    mm->mask = cap - 1;
    mg_tok_buf cat = {0};
    for (size_t r = 0; r < n; r++) {
        json_t *e = json_array_get(arr, r);
        const char *a, *b; size_t an, bn;
        if (json_is_array(e) && json_array_size(e) == 2
            && str_of(json_array_get(e, 0), &a, &an) == 0 && str_of(json_array_get(e, 1), &b, &bn) == 0) {
            /* tokenizers ≥ 0.20: ["left", "right"] */
        } else if (json_is_string(e)) {
            /* older: "left right", split at the first space */
            a = json_string_value(e);
            const char *sp = memchr(a, ' ', json_string_length(e));
            if (!sp) { free(cat.p); mg_seterr(err, errlen, "merge %zu has no space", r); return -1; }
            an = (size_t)(sp - a); b = sp + 1; bn = json_string_length(e) - an - 1;
        } else {
            free(cat.p);
            mg_seterr(err, errlen, "merge %zu is not a pair of strings", r);
            return -1;
        }
        int32_t ia = mg_tok_vocab_find(&t->v, a, an), ib = mg_tok_vocab_find(&t->v, b, bn);
        cat.n = 0;
        if (mg_tok_buf_put(&cat, a, an) < 0 || mg_tok_buf_put(&cat, b, bn) < 0) {
            free(cat.p);
            return mg_fail(err, errlen, "out of memory");
        }
        int32_t ic = mg_tok_vocab_find(&t->v, cat.p, cat.n);
        if (ia < 0 || ib < 0 || ic < 0) {
            /* as the tokenizers library: a merge must only name vocabulary pieces */
            free(cat.p);
            mg_seterr(err, errlen, "merge %zu (\"%.30s\" + \"%.30s\") names a piece not in the vocabulary", r, a, b);
            return -1;
        }
        uint64_t k = (uint64_t)(uint32_t)ia << 32 | (uint32_t)ib;
        for (uint32_t i = hash64(k) & mm->mask;; i = (i + 1) & mm->mask) {
            if (mm->key[i] == UINT64_MAX) { mm->key[i] = k; mm->rank[i] = (int32_t)r; mm->next_id[i] = ic; break; }
            if (mm->key[i] == k) break;            /* a repeated pair keeps its first rank */
        }
    }
    free(cat.p);
    return 0;
}

static const mg_tok_ops bpe_ops;
static int normalize(const bpe_model *m, const char *s, size_t n, mg_tok_buf *out);

int mg_tok_bpe_load(mg_tokenizer *t, const char *data, size_t size, const char *config_path,
                    char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(data, size, JSON_ALLOW_NUL, &je), *cfg = NULL;
    bpe_model *m = NULL;
    if (!root) {
        mg_seterr(err, errlen, "JSON error at line %d column %d: %s", je.line, je.column, je.text);
        return -1;
    }
    if (!json_is_object(root)) { mg_seterr(err, errlen, "not a JSON object"); goto fail; }
    json_t *model = json_object_get(root, "model");
    if (!json_is_object(model)) { mg_seterr(err, errlen, "no \"model\" object"); goto fail; }
    const char *mty = type_of(model);
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    if (strcmp(mty, "BPE") != 0 && !(mty[0] == 0 && json_is_array(merges))) {
        mg_seterr(err, errlen, "model type \"%.40s\" is not supported (BPE only)", mty);
        goto fail;
    }
    if (!json_is_object(vocab) || !json_is_array(merges)) {
        mg_seterr(err, errlen, "BPE model without a vocab object and a merges array");
        goto fail;
    }
    json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_array(added) && !json_is_null(added)) {
        mg_seterr(err, errlen, "added_tokens is not an array");
        goto fail;
    }
    /* size the id space; bounded by the number of entries so that a corrupt id
     * cannot ask for a huge table */
    size_t n_entries = json_object_size(vocab) + json_array_size(added);
    json_int_t max_id = -1;
    const char *key; size_t klen; json_t *val;
    json_object_keylen_foreach(vocab, key, klen, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0) {
            mg_seterr(err, errlen, "vocab entry \"%.40s\" has no id", key);
            goto fail;
        }
        if (json_integer_value(val) > max_id) max_id = json_integer_value(val);
    }
    size_t i;
    json_t *e;
    json_array_foreach(added, i, e) {
        json_t *id = json_object_get(e, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || !json_is_string(json_object_get(e, "content"))) {
            mg_seterr(err, errlen, "added token %zu has no id or content", i);
            goto fail;
        }
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
    }
    if (max_id < 0) { mg_seterr(err, errlen, "empty vocabulary"); goto fail; }
    if (max_id >= (json_int_t)(8 * n_entries + (1 << 20)) || max_id >= (1 << 26)) {
        mg_seterr(err, errlen, "token id %lld out of range for %zu entries", (long long)max_id, n_entries);
        goto fail;
    }
    if (mg_tok_vocab_init(&t->v, (int32_t)max_id + 1) < 0) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    json_object_keylen_foreach(vocab, key, klen, val) {
        int32_t id = (int32_t)json_integer_value(val);
        int ty = mg_tok_byte_piece(key, klen) >= 0 ? MG_PIECE_BYTE : MG_PIECE_NORMAL;
        if (mg_tok_vocab_set(&t->v, id, key, klen, ty) < 0) {
            mg_seterr(err, errlen, "vocab id %ld given twice", (long)id);
            goto fail;
        }
    }
    if (!(m = calloc(1, sizeof *m))) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    t->model = m;
    t->ops = &bpe_ops;
    if (load_normalizer(json_object_get(root, "normalizer"), &m->norm, 0, err, errlen) < 0
        || load_pretok(json_object_get(root, "pre_tokenizer"), &m->pre, 0, err, errlen) < 0
        || load_decoder(json_object_get(root, "decoder"), &m->dec, 0, err, errlen) < 0)
        goto fail;
    json_array_foreach(added, i, e) {
        int32_t id = (int32_t)json_integer_value(json_object_get(e, "id"));
        const char *c = json_string_value(json_object_get(e, "content"));
        size_t cn = json_string_length(json_object_get(e, "content"));
        unsigned fl = (json_is_true(json_object_get(e, "special")) ? AT_SPECIAL : 0)
                    | (json_is_true(json_object_get(e, "lstrip")) ? AT_LSTRIP : 0)
                    | (json_is_true(json_object_get(e, "rstrip")) ? AT_RSTRIP : 0)
                    | (json_is_true(json_object_get(e, "single_word")) ? AT_SINGLE_WORD : 0);
        if (cn == 0) { mg_seterr(err, errlen, "added token %zu is empty", i); goto fail; }
        if (!t->v.assigned[id]) {
            if (mg_tok_vocab_set(&t->v, id, c, cn, MG_PIECE_NORMAL) < 0) { mg_seterr(err, errlen, "out of memory"); goto fail; }
        } else if (t->v.len[id] != cn || memcmp(mg_tok_piece_at(&t->v, id), c, cn) != 0) {
            mg_seterr(err, errlen, "added token %zu: id %ld is another piece in the vocab", i, (long)id);
            goto fail;
        }
        /* special added tokens are what skip_special drops (CONTROL); the others
         * decode as text (USER_DEFINED) */
        t->v.type[id] = (fl & AT_SPECIAL) ? MG_PIECE_CONTROL : MG_PIECE_USER_DEFINED;
        /* normalized defaults to true for non-special tokens, as AddedToken */
        json_t *nz = json_object_get(e, "normalized");
        int normalized = nz ? json_is_true(nz) : !(fl & AT_SPECIAL);
        int rc;
        if (normalized) {
            /* found in normalized text, so matched in its normalized form (as
             * AddedVocabulary builds its normalized trie) */
            mg_tok_buf nc = {0};
            rc = normalize(m, c, cn, &nc);
            if (rc == 0 && nc.n) rc = mg_tok_matcher_add(&m->added_norm, nc.p, nc.n, id, fl);
            free(nc.p);
        } else {
            rc = mg_tok_matcher_add(&m->added_raw, c, cn, id, fl);
        }
        if (rc < 0) {
            mg_seterr(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (mg_tok_vocab_index(&t->v) < 0 || mg_tok_matcher_build(&m->added_raw) < 0
        || mg_tok_matcher_build(&m->added_norm) < 0) {
        mg_seterr(err, errlen, "out of memory");
        goto fail;
    }
    mg_tok_find_bytes(t);

    json_t *dropout = json_object_get(model, "dropout");
    if (json_is_number(dropout) && json_number_value(dropout) > 0) {
        mg_seterr(err, errlen, "BPE dropout is not supported (outputs must be deterministic)");
        goto fail;
    }
    const char *sfx[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(model, sfx[k]);
        if (json_is_string(v) && json_string_length(v) > 0) {
            mg_seterr(err, errlen, "BPE %s is not supported", sfx[k]);
            goto fail;
        }
    }
    m->byte_fallback = json_is_true(json_object_get(model, "byte_fallback"));
    m->fuse_unk = json_is_true(json_object_get(model, "fuse_unk"));
    m->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    json_t *unk = json_object_get(model, "unk_token");
    if (json_is_string(unk)) {
        t->unk = mg_tok_vocab_find(&t->v, json_string_value(unk), json_string_length(unk));
        if (t->unk < 0) { mg_seterr(err, errlen, "unk_token is not in the vocabulary"); goto fail; }
        if (t->v.type[t->unk] == MG_PIECE_NORMAL) t->v.type[t->unk] = MG_PIECE_UNKNOWN;
    }
    if (load_merges(t, m, merges, err, errlen) < 0) goto fail;

    if (config_path) {
        cfg = json_load_file(config_path, 0, &je);
        if (!cfg) {
            mg_seterr(err, errlen, "%s: JSON error at line %d: %s", config_path, je.line, je.text);
            goto fail;
        }
        t->bos = config_token(t, cfg, "bos_token");
        t->eos = config_token(t, cfg, "eos_token");
        t->pad = config_token(t, cfg, "pad_token");
    } else {
        /* without a tokenizer_config.json: the usual names of the SentencePiece
         * conventions (Gemma: <bos>/<eos>/<pad>; Llama-style: <s>/</s>) */
        t->bos = mg_tok_vocab_find(&t->v, "<bos>", 5);
        if (t->bos < 0) t->bos = mg_tok_vocab_find(&t->v, "<s>", 3);
        t->eos = mg_tok_vocab_find(&t->v, "<eos>", 5);
        if (t->eos < 0) t->eos = mg_tok_vocab_find(&t->v, "</s>", 4);
        t->pad = mg_tok_vocab_find(&t->v, "<pad>", 5);
    }
    json_decref(cfg);
    json_decref(root);
    return 0;
fail:
    json_decref(cfg);
    json_decref(root);
    return -1;
}

/* ---- encoding ---------------------------------------------------------------------- */

/* Apply the normalizer steps to s[0..n), result in out (cleared first). */
static int normalize(const bpe_model *m, const char *s, size_t n, mg_tok_buf *out)
{
    mg_tok_buf tmp = {0};
    out->n = 0;
    if (mg_tok_buf_put(out, s, n) < 0) return -1;
    for (int k = 0; k < m->norm.n; k++) {
        const step *st = &m->norm.s[k];
        tmp.n = 0;
        int rc = 0;
        if (st->type == NORM_REPLACE) {
            rc = replace_all(&tmp, out->p, out->n, st->a, st->alen, st->b, st->blen);
        } else if (st->type == NORM_PREPEND) {
            /* as tokenizers' Prepend: nothing is prepended to an empty string */
            if (out->n) rc = mg_tok_buf_put(&tmp, st->a, st->alen) | mg_tok_buf_put(&tmp, out->p, out->n);
        } else {
            size_t a = st->left ? ws_head((const unsigned char *)out->p, out->n) : 0;
            size_t b = st->right ? ws_tail((const unsigned char *)out->p + a, out->n - a) : 0;
            rc = mg_tok_buf_put(&tmp, out->p + a, out->n - a - b);
        }
        if (rc < 0) { free(tmp.p); return -1; }
        mg_tok_buf swap = *out; *out = tmp; tmp = swap;
    }
    free(tmp.p);
    return 0;
}

/* Split one string by matches of a fixed pattern (a match is is_match=1, gaps 0),
 * then fold by behavior as tokenizers' NormalizedString::split; non-empty pieces go
 * to out. For whitespace splitting pat is NULL. */
static int split_piece(toklist *out, const char *s, size_t n, int first, const char *pat, size_t plen,
                       int behavior, int invert)
{
    /* collect segments */
    typedef struct { size_t a, b; int match; } seg;
    seg *sg = NULL; size_t ns = 0, cap = 0;
    size_t i = 0, last = 0;
    while (i < n) {
        size_t ml = 0;
        if (pat) {
            const char *hit = plen <= n - i ? memmem(s + i, n - i, pat, plen) : NULL;
            if (!hit) break;
            i = (size_t)(hit - s);
            ml = plen;
        } else {
            size_t k = ws_len((const unsigned char *)s + i, n - i);
            if (!k) { i += mg_tok_utf8_len((const unsigned char *)s + i, n - i); continue; }
            while (i + k < n) {
                size_t k2 = ws_len((const unsigned char *)s + i + k, n - i - k);
                if (!k2) break;
                k += k2;
            }
            ml = k;
        }
        if (ns + 2 > cap) {
            cap = cap ? cap * 2 : 16;
            seg *g = realloc(sg, cap * sizeof *g);
            if (!g) { free(sg); return -1; }
            sg = g;
        }
        if (i > last) sg[ns++] = (seg){last, i, 0};
        sg[ns++] = (seg){i, i + ml, 1};
        i += ml;
        last = i;
    }
    if (last < n) {
        seg *g = realloc(sg, (ns + 1) * sizeof *g);
        if (!g) { free(sg); return -1; }
        sg = g;
        sg[ns++] = (seg){last, n, 0};
    }
    if (invert) for (size_t k = 0; k < ns; k++) sg[k].match = !sg[k].match;
    /* fold: out segments (a, b, removed) */
    seg *o = malloc((ns + 1) * sizeof *o);
    size_t no = 0;
    if (!o) { free(sg); return -1; }
    int prev = 0;
    switch (behavior) {
    case SPLIT_REMOVED:
        for (size_t k = 0; k < ns; k++) o[no++] = (seg){sg[k].a, sg[k].b, sg[k].match};
        break;
    case SPLIT_ISOLATED:
        for (size_t k = 0; k < ns; k++) o[no++] = (seg){sg[k].a, sg[k].b, 0};
        break;
    case SPLIT_MERGED_PREV:
        for (size_t k = 0; k < ns; k++) {
            if (sg[k].match && !prev && no) o[no - 1].b = sg[k].b;
            else o[no++] = (seg){sg[k].a, sg[k].b, 0};
            prev = sg[k].match;
        }
        break;
    case SPLIT_MERGED_NEXT:
        for (size_t k = ns; k-- > 0;) {
            if (sg[k].match && !prev && no) o[no - 1].a = sg[k].a;
            else o[no++] = (seg){sg[k].a, sg[k].b, 0};
            prev = sg[k].match;
        }
        for (size_t k = 0; k < no / 2; k++) { seg x = o[k]; o[k] = o[no - 1 - k]; o[no - 1 - k] = x; }
        break;
    default: /* Contiguous */
        for (size_t k = 0; k < ns; k++) {
            if (sg[k].match == prev && no) o[no - 1].b = sg[k].b;
            else o[no++] = (seg){sg[k].a, sg[k].b, 0};
            prev = sg[k].match;
        }
        break;
    }
    int rc = 0;
    for (size_t k = 0; k < no && rc == 0; k++)
        if (!o[k].match && o[k].b > o[k].a) rc = tl_add(out, s + o[k].a, o[k].b - o[k].a, first && o[k].a == 0);
    free(sg); free(o);
    return rc;
}

/* Run the pre-tokenizer steps over one normalized section. */
static int pretokenize(const bpe_model *m, const char *s, size_t n, int at_start, toklist *out)
{
    toklist cur = {0}, nxt = {0};
    mg_tok_buf tmp = {0};
    int rc = -1;
    if (tl_add(&cur, s, n, at_start) < 0) goto done;
    for (int k = 0; k < m->pre.n; k++) {
        const step *st = &m->pre.s[k];
        memset(&nxt, 0, sizeof nxt);
        for (size_t i = 0; i < cur.n; i++) {
            const char *p = TL_STR(&cur, i);
            size_t pn = cur.len[i];
            int r;
            if (st->type == PRE_SPLIT) {
                r = split_piece(&nxt, p, pn, cur.first[i], st->a, st->alen, st->behavior, st->invert);
            } else if (st->type == PRE_WS_SPLIT) {
                r = split_piece(&nxt, p, pn, cur.first[i], NULL, 0, SPLIT_REMOVED, 0);
            } else {
                /* Metaspace: spaces become the replacement, which is prepended as
                 * the scheme says, then split before each replacement */
                tmp.n = 0;
                r = 0;
                int pre = st->scheme == PREPEND_ALWAYS || (st->scheme == PREPEND_FIRST && cur.first[i]);
                if (pre && !(pn >= st->alen && memcmp(p, st->a, st->alen) == 0)) {
                    /* starts_with(replacement) is checked after replacing spaces */
                    if (!(pn && p[0] == ' ')) r = mg_tok_buf_put(&tmp, st->a, st->alen);
                }
                if (r == 0) r = replace_all(&tmp, p, pn, " ", 1, st->a, st->alen);
                if (r == 0) r = st->split ? split_piece(&nxt, tmp.p, tmp.n, cur.first[i], st->a, st->alen, SPLIT_MERGED_NEXT, 0)
                                          : (tmp.n ? tl_add(&nxt, tmp.p, tmp.n, cur.first[i]) : 0);
            }
            if (r < 0) goto done;
        }
        tl_free(&cur);
        cur = nxt;
        memset(&nxt, 0, sizeof nxt);
    }
    for (size_t i = 0; i < cur.n; i++)
        if (tl_add(out, TL_STR(&cur, i), cur.len[i], 0) < 0) goto done;
    rc = 0;
done:
    tl_free(&cur); tl_free(&nxt); free(tmp.p);
    return rc;
}

typedef struct { int32_t id, prev, next; uint32_t len; } sym;
typedef struct { int32_t rank, pos, next_id; } mrg;

static int mrg_less(mrg a, mrg b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

typedef struct { mrg *h; size_t n, cap; } heap;

static int heap_push(heap *q, mrg x)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        mrg *h = realloc(q->h, cap * sizeof *h);
        if (!h) return -1;
        q->h = h; q->cap = cap;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!mrg_less(x, q->h[p])) break;
        q->h[i] = q->h[p];
        i = p;
    }
    q->h[i] = x;
    return 0;
}

static mrg heap_pop(heap *q)
{
    mrg top = q->h[0], x = q->h[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && mrg_less(q->h[c + 1], q->h[c])) c++;
        if (!mrg_less(q->h[c], x)) break;
        q->h[i] = q->h[c];
        i = c;
    }
    if (q->n) q->h[i] = x;
    return top;
}

/* BPE of one pre-token, as tokenizers' BPE::merge_word + Word::merge_all: one symbol
 * per character (unknown characters as their <0xNN> bytes, else unk, fused when
 * fuse_unk), then repeatedly the lowest-ranked adjacent pair, leftmost first. */
static int bpe_word(const mg_tokenizer *t, const bpe_model *m, const char *w, size_t n, mg_tok_ids *out)
{
    if (m->ignore_merges) {
        int32_t id = mg_tok_vocab_find(&t->v, w, n);
        if (id >= 0) return mg_tok_ids_put(out, id);
    }
    sym *sy = malloc((n + 1) * sizeof *sy);
    heap q = {0};
    int rc = -1;
    if (!sy) return -1;
    size_t ns = 0;
    int unk_open = 0;
    for (size_t i = 0; i < n;) {
        size_t k = mg_tok_utf8_len((const unsigned char *)w + i, n - i);
        if (!k) k = 1;                          /* cannot happen: input was validated */
        int32_t id = mg_tok_vocab_find(&t->v, w + i, k);
        if (id >= 0) {
            sy[ns++] = (sym){id, 0, 0, (uint32_t)k};
            unk_open = 0;
        } else {
            int all = m->byte_fallback;
            for (size_t b = 0; all && b < k; b++) all = t->byte_id[(unsigned char)w[i + b]] >= 0;
            if (all) {
                for (size_t b = 0; b < k; b++) sy[ns++] = (sym){t->byte_id[(unsigned char)w[i + b]], 0, 0, 1};
                unk_open = 0;
            } else if (t->unk >= 0) {
                if (unk_open && m->fuse_unk) sy[ns - 1].len += (uint32_t)k;
                else sy[ns++] = (sym){t->unk, 0, 0, (uint32_t)k};
                unk_open = 1;
            }
        }
        i += k;
    }
    for (size_t i = 0; i < ns; i++) { sy[i].prev = (int32_t)i - 1; sy[i].next = i + 1 < ns ? (int32_t)i + 1 : -1; }
    int32_t rank, nid;
    for (size_t i = 0; i + 1 < ns; i++)
        if (merge_get(&m->merges, sy[i].id, sy[i + 1].id, &rank, &nid)
            && heap_push(&q, (mrg){rank, (int32_t)i, nid}) < 0) goto done;
    while (q.n) {
        mrg top = heap_pop(&q);
        sym *cur = &sy[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        sym *right = &sy[cur->next];
        /* an entry is stale when the pair at pos no longer merges into next_id */
        if (!merge_get(&m->merges, cur->id, right->id, &rank, &nid) || nid != top.next_id) continue;
        cur->id = top.next_id;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (right->next >= 0) sy[right->next].prev = top.pos;
        if (cur->prev >= 0 && merge_get(&m->merges, sy[cur->prev].id, cur->id, &rank, &nid)
            && heap_push(&q, (mrg){rank, cur->prev, nid}) < 0) goto done;
        if (cur->next >= 0 && merge_get(&m->merges, cur->id, sy[cur->next].id, &rank, &nid)
            && heap_push(&q, (mrg){rank, top.pos, nid}) < 0) goto done;
    }
    for (size_t i = 0; i < ns; i++)
        if (sy[i].len && mg_tok_ids_put(out, sy[i].id) < 0) goto done;
    rc = 0;
done:
    free(sy); free(q.h);
    return rc;
}

/* Pre-tokenize and BPE one piece of normalized text. */
static int encode_normalized(const mg_tokenizer *t, const bpe_model *m, const char *s, size_t n,
                             int at_start, mg_tok_ids *out)
{
    toklist pieces = {0};
    int rc = pretokenize(m, s, n, at_start, &pieces);
    for (size_t p = 0; rc == 0 && p < pieces.n; p++)
        rc = bpe_word(t, m, TL_STR(&pieces, p), pieces.len[p], out);
    tl_free(&pieces);
    return rc;
}

static int encode_section(const mg_tokenizer *t, const bpe_model *m, const char *s, size_t n,
                          int at_start, int parse_special, mg_tok_ids *out);

/* AddedVocabulary::find_matches of tokenizers: the leftmost-longest matches of all
 * added tokens of one pass, without overlaps, over s[0..n). A match of a special
 * token without parse_special, or of a single_word token inside a word, stays plain
 * text; lstrip/rstrip widen the token over the whitespace beside it (lstrip not
 * before the previous token's end, rstrip with no such check, so that a later match
 * inside the swallowed whitespace is still emitted, as the library does). Plain
 * text between tokens goes on to the next stage: the normalizer pass for the raw
 * added tokens (pass 0), the pre-tokenizer and BPE for the normalized ones (1). */
static int split_added(const mg_tokenizer *t, const bpe_model *m, int pass, const char *s, size_t n,
                       int at_start, int parse_special, mg_tok_ids *out)
{
    const mg_tok_matcher *mt = pass == 0 ? &m->added_raw : &m->added_norm;
    size_t start_offset = 0, i = 0;
#define PLAIN(a, b) (pass == 0 ? encode_section(t, m, s + (a), (b) - (a), at_start && (a) == 0, parse_special, out) \
                               : encode_normalized(t, m, s + (a), (b) - (a), at_start && (a) == 0, out))
    while (i < n) {
        long k = mg_tok_matcher_longest(mt, s + i, n - i, 0);
        if (k < 0) { i++; continue; }
        const mg_tok_match *a = &mt->e[k];
        size_t start = i, stop = i + a->len;
        i = stop;
        if ((a->flags & AT_SPECIAL) && !parse_special) continue;
        if ((a->flags & AT_SINGLE_WORD)
            && ((start > 0 && word_byte((unsigned char)s[start - 1])) || (stop < n && word_byte((unsigned char)s[stop]))))
            continue;
        if (a->flags & AT_LSTRIP) {
            size_t ns = start - ws_tail((const unsigned char *)s, start);
            start = ns > start_offset ? ns : start_offset;
        }
        if (a->flags & AT_RSTRIP) stop += ws_head((const unsigned char *)s + stop, n - stop);
        if (start_offset < start && PLAIN(start_offset, start) < 0) return -1;
        if (mg_tok_ids_put(out, a->id) < 0) return -1;
        start_offset = stop;
    }
    if (start_offset < n && PLAIN(start_offset, n) < 0) return -1;
#undef PLAIN
    return 0;
}

/* One piece of raw text between raw added tokens: normalize, then the normalized
 * added tokens, then pre-tokenizer and BPE. */
static int encode_section(const mg_tokenizer *t, const bpe_model *m, const char *s, size_t n,
                          int at_start, int parse_special, mg_tok_ids *out)
{
    mg_tok_buf norm = {0};
    int rc = normalize(m, s, n, &norm);
    if (rc == 0 && norm.n) rc = split_added(t, m, 1, norm.p, norm.n, at_start, parse_special, out);
    free(norm.p);
    return rc;
}

static int bpe_encode(const mg_tokenizer *t, const char *s, size_t n, int parse_special,
                      mg_tok_ids *out, char *err, size_t errlen)
{
    if (split_added(t, t->model, 0, s, n, 1, parse_special, out) < 0)
        return mg_fail(err, errlen, "out of memory");
    return 0;
}

/* ---- decoding ---------------------------------------------------------------------- */

/* The ByteFallback decoder's test: six bytes "<0x" + two hex digits (either case,
 * as u8::from_str_radix) + ">". */
static int hex_byte_piece(const char *s, size_t len)
{
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static int bpe_decode(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                      mg_tok_buf *out, char *err, size_t errlen)
{
    const bpe_model *m = t->model;
    toklist cur = {0}, nxt = {0};
    mg_tok_buf tmp = {0};
    for (size_t i = 0; i < n; i++) {
        if (skip_special && t->v.type[ids[i]] == MG_PIECE_CONTROL) continue;
        if (tl_add(&cur, mg_tok_piece_at(&t->v, ids[i]), t->v.len[ids[i]], 0) < 0) goto oom;
    }
    for (int k = 0; k < m->dec.n; k++) {
        const step *st = &m->dec.s[k];
        memset(&nxt, 0, sizeof nxt);
        if (st->type == DEC_FUSE) {
            if (tl_add(&nxt, cur.text.p ? cur.text.p : "", 0, 0) < 0) goto oom;
            for (size_t i = 0; i < cur.n; i++)
                if (tl_append(&nxt, TL_STR(&cur, i), cur.len[i]) < 0) goto oom;
        } else if (st->type == DEC_BYTE_FALLBACK) {
            /* runs of <0xNN> become their bytes: the run's text if valid UTF-8,
             * else one U+FFFD per byte piece (tokenizers' ByteFallback) */
            for (size_t i = 0; i < cur.n;) {
                if (hex_byte_piece(TL_STR(&cur, i), cur.len[i]) < 0) {
                    if (tl_add(&nxt, TL_STR(&cur, i), cur.len[i], 0) < 0) goto oom;
                    i++;
                    continue;
                }
                tmp.n = 0;
                size_t j = i;
                mg_tok_buf raw = {0};
                for (; j < cur.n; j++) {
                    int b = hex_byte_piece(TL_STR(&cur, j), cur.len[j]);
                    if (b < 0) break;
                    unsigned char c = (unsigned char)b;
                    if (mg_tok_buf_put(&raw, &c, 1) < 0) { free(raw.p); goto oom; }
                }
                size_t v = 0, k;
                while (v < raw.n && (k = mg_tok_utf8_len((const unsigned char *)raw.p + v, raw.n - v))) v += k;
                int r = 0;
                if (v == raw.n) r = tl_add(&nxt, raw.p, raw.n, 0);
                else    /* not UTF-8: one U+FFFD token per byte piece */
                    for (k = 0; r == 0 && k < raw.n; k++) r = tl_add(&nxt, "\xEF\xBF\xBD", 3, 0);
                free(raw.p);
                if (r < 0) goto oom;
                i = j;
            }
        } else {
            for (size_t i = 0; i < cur.n; i++) {
                const char *p = TL_STR(&cur, i);
                size_t pn = cur.len[i];
                tmp.n = 0;
                int r = 0;
                if (st->type == DEC_REPLACE) {
                    r = replace_all(&tmp, p, pn, st->a, st->alen, st->b, st->blen);
                } else if (st->type == DEC_STRIP) {
                    size_t a = 0, b = pn;
                    for (int c = 0; c < st->left && b - a >= st->alen && memcmp(p + a, st->a, st->alen) == 0; c++) a += st->alen;
                    for (int c = 0; c < st->right && b - a >= st->alen && memcmp(p + b - st->alen, st->a, st->alen) == 0; c++) b -= st->alen;
                    r = mg_tok_buf_put(&tmp, p + a, b - a);
                } else {
                    /* Metaspace: replacement → space, except in the first token,
                     * where every replacement is dropped unless the scheme is
                     * never (decoders/metaspace.rs decode_chain) */
                    int drop = i == 0 && st->scheme != PREPEND_NEVER;
                    r = replace_all(&tmp, p, pn, st->a, st->alen, " ", drop ? 0 : 1);
                }
                if (r < 0 || tl_add(&nxt, tmp.p ? tmp.p : "", tmp.n, 0) < 0) goto oom;
            }
        }
        tl_free(&cur);
        cur = nxt;
        memset(&nxt, 0, sizeof nxt);
    }
    /* without a decoder the tokens are joined with spaces (Tokenizer::decode) */
    for (size_t i = 0; i < cur.n; i++)
        if ((m->dec.n == 0 && i > 0 && mg_tok_buf_put(out, " ", 1) < 0)
            || mg_tok_buf_put(out, TL_STR(&cur, i), cur.len[i]) < 0) goto oom;
    tl_free(&cur); free(tmp.p);
    return 0;
oom:
    tl_free(&cur); tl_free(&nxt); free(tmp.p);
    return mg_fail(err, errlen, "out of memory");
}

static const mg_tok_ops bpe_ops = {bpe_encode, bpe_decode, bpe_free};

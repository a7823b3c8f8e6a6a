/* mg_tokenizer.c: loading by file name, the shared vocabulary table, UTF-8 checks and
 * the public entry points; the models are in mg_tok_bpe.c and mg_tok_spm.c. */
#include "mg_tokenizer.h"
#include "mg_tok_impl.h"
#include "mg_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A tokenizer file larger than this is not one (the Gemma 3 tokenizer.json is 33 MB). */
#define MG_TOK_MAX_FILE ((size_t)1 << 30)
/* Ids are int32 and offsets into the piece text uint32. */
#define MG_TOK_MAX_TEXT ((size_t)UINT32_MAX)

int mg_tok_buf_put(mg_tok_buf *b, const void *s, size_t n)
{
    if (n > SIZE_MAX / 2 - b->n - 1) return -1;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p; b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;                 /* always NUL-terminated */
    return 0;
}

int mg_tok_ids_put(mg_tok_ids *v, int32_t id)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *v->p) return -1;
        int32_t *p = realloc(v->p, cap * sizeof *p);
        if (!p) return -1;
        v->p = p; v->cap = cap;
    }
    v->p[v->n++] = id;
    return 0;
}

/* FNV-1a: short keys, one pass, good enough spread for open addressing. */
static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int mg_tok_vocab_init(mg_tok_vocab *v, int32_t n)
{
    memset(v, 0, sizeof *v);
    if (n <= 0) return -1;
    v->n = n;
    v->off = calloc((size_t)n, sizeof *v->off);
    v->len = calloc((size_t)n, sizeof *v->len);
    v->type = calloc((size_t)n, 1);
    v->assigned = calloc((size_t)n, 1);
    if (!v->off || !v->len || !v->type || !v->assigned) return -1;
    return mg_tok_buf_put(&v->text, "", 0);
}

int mg_tok_vocab_set(mg_tok_vocab *v, int32_t id, const char *s, size_t len, int type)
{
    if (id < 0 || id >= v->n || v->assigned[id]) return -1;
    if (len >= MG_TOK_MAX_TEXT - v->text.n - 1) return -1;
    v->off[id] = (uint32_t)v->text.n;
    v->len[id] = (uint32_t)len;
    v->type[id] = (uint8_t)type;
    v->assigned[id] = 1;
    if (mg_tok_buf_put(&v->text, s, len) < 0) return -1;
    return mg_tok_buf_put(&v->text, "", 1) < 0 ? -1 : 0;   /* keep the NUL as a separator */
}

int mg_tok_vocab_index(mg_tok_vocab *v)
{
    uint32_t cap = 16;
    while (cap < (uint32_t)v->n * 2u) cap *= 2;
    free(v->slots);
    v->slots = malloc((size_t)cap * sizeof *v->slots);
    if (!v->slots) return -1;
    memset(v->slots, 0xff, (size_t)cap * sizeof *v->slots);
    v->mask = cap - 1;
    for (int32_t id = 0; id < v->n; id++) {
        if (!v->assigned[id]) continue;
        const char *s = mg_tok_piece_at(v, id);
        uint32_t i = hash_bytes(s, v->len[id]) & v->mask;
        for (;; i = (i + 1) & v->mask) {
            int32_t o = v->slots[i];
            if (o < 0) { v->slots[i] = id; break; }
            if (v->len[o] == v->len[id] && memcmp(mg_tok_piece_at(v, o), s, v->len[id]) == 0) break;
        }
    }
    return 0;
}

int32_t mg_tok_vocab_find(const mg_tok_vocab *v, const char *s, size_t len)
{
    if (!v->slots) return -1;
    for (uint32_t i = hash_bytes(s, len) & v->mask;; i = (i + 1) & v->mask) {
        int32_t o = v->slots[i];
        if (o < 0) return -1;
        if (v->len[o] == len && memcmp(mg_tok_piece_at(v, o), s, len) == 0) return o;
    }
}

void mg_tok_vocab_free(mg_tok_vocab *v)
{
    free(v->off); free(v->len); free(v->type); free(v->assigned); free(v->slots);
    free(v->text.p);
    memset(v, 0, sizeof *v);
}

int mg_tok_byte_piece(const char *s, size_t len)
{
    /* exactly "<0x" two upper-case hex digits ">", as both formats spell them */
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

void mg_tok_find_bytes(mg_tokenizer *t)
{
    char name[8];
    for (int b = 0; b < 256; b++) {
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_id[b] = mg_tok_vocab_find(&t->v, name, 6);
    }
}

size_t mg_tok_utf8_len(const unsigned char *s, size_t n)
{
    if (n == 0) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k; unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) k = 2;
    else if (c >= 0xE0 && c <= 0xEF) { k = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else return 0;
    if (n < k) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    return k;
}

int mg_tok_put_bytes_lossy(mg_tok_buf *out, const unsigned char *s, size_t n, int whole_run)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    size_t i = 0;
    if (whole_run) {
        for (i = 0; i < n;) {
            size_t k = mg_tok_utf8_len(s + i, n - i);
            if (!k) break;
            i += k;
        }
        if (i == n) return mg_tok_buf_put(out, s, n);
        for (i = 0; i < n; i++)
            if (mg_tok_buf_put(out, fffd, 3) < 0) return -1;
        return 0;
    }
    while (i < n) {
        size_t k = mg_tok_utf8_len(s + i, n - i);
        if (k) { if (mg_tok_buf_put(out, s + i, k) < 0) return -1; i += k; }
        else { if (mg_tok_buf_put(out, fffd, 3) < 0) return -1; i++; }
    }
    return 0;
}

int mg_tok_matcher_add(mg_tok_matcher *m, const char *s, size_t len, int32_t id, unsigned flags)
{
    if (len == 0 || len > UINT32_MAX) return -1;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        mg_tok_match *e = realloc(m->e, cap * sizeof *e);
        if (!e) return -1;
        m->e = e; m->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    m->e[m->n++] = (mg_tok_match){c, (uint32_t)len, id, flags};
    return 0;
}

int mg_tok_matcher_build(mg_tok_matcher *m)
{
    uint32_t cap = 16;
    while (cap < m->n * 2) cap *= 2;
    free(m->slots); free(m->lens);
    m->slots = malloc((size_t)cap * sizeof *m->slots);
    m->lens = malloc((m->n + 1) * sizeof *m->lens);
    if (!m->slots || !m->lens) return -1;
    memset(m->slots, 0xff, (size_t)cap * sizeof *m->slots);
    m->mask = cap - 1;
    m->n_lens = 0;
    memset(m->first, 0, sizeof m->first);
    for (size_t k = 0; k < m->n; k++) {
        const mg_tok_match *e = &m->e[k];
        m->first[(unsigned char)e->s[0]] = 1;
        uint32_t i = hash_bytes(e->s, e->len) & m->mask;
        for (;; i = (i + 1) & m->mask) {
            int32_t o = m->slots[i];
            if (o < 0) { m->slots[i] = (int32_t)k; break; }
            if (m->e[o].len == e->len && memcmp(m->e[o].s, e->s, e->len) == 0) break; /* first wins */
        }
        size_t j = 0;
        while (j < m->n_lens && m->lens[j] > e->len) j++;
        if (j == m->n_lens || m->lens[j] != e->len) {
            memmove(m->lens + j + 1, m->lens + j, (m->n_lens - j) * sizeof *m->lens);
            m->lens[j] = e->len;
            m->n_lens++;
        }
    }
    return 0;
}

long mg_tok_matcher_longest(const mg_tok_matcher *m, const char *s, size_t n, unsigned skip_flags)
{
    if (!m->n || !n || !m->first[(unsigned char)s[0]]) return -1;
    for (size_t j = 0; j < m->n_lens; j++) {
        uint32_t L = m->lens[j];
        if (L > n) continue;
        for (uint32_t i = hash_bytes(s, L) & m->mask;; i = (i + 1) & m->mask) {
            int32_t o = m->slots[i];
            if (o < 0) break;
            if (m->e[o].len == L && memcmp(m->e[o].s, s, L) == 0) {
                if (!(m->e[o].flags & skip_flags)) return o;
                break;
            }
        }
    }
    return -1;
}

void mg_tok_matcher_free(mg_tok_matcher *m)
{
    for (size_t k = 0; k < m->n; k++) free(m->e[k].s);
    free(m->e); free(m->slots); free(m->lens);
    memset(m, 0, sizeof *m);
}

/* Read a whole file (bounded) into a malloc'ed buffer with a NUL after it. */
static char *read_file(const char *path, size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { mg_seterr(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    mg_tok_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.n + got > MG_TOK_MAX_FILE) {
            mg_seterr(err, errlen, "%s: larger than %zu bytes", path, MG_TOK_MAX_FILE);
            goto fail;
        }
        if (mg_tok_buf_put(&b, chunk, got) < 0) { mg_seterr(err, errlen, "%s: out of memory", path); goto fail; }
    }
    if (ferror(f)) { mg_seterr(err, errlen, "%s: read error", path); goto fail; }
    fclose(f);
    if (!b.p && mg_tok_buf_put(&b, "", 0) < 0) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    *size = b.n;
    return b.p;
fail:
    fclose(f);
    free(b.p);
    return NULL;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static mg_tokenizer *tok_new(void)
{
    mg_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->bos = t->eos = t->pad = t->unk = -1;
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    return t;
}

static mg_tokenizer *load_bytes(const char *data, size_t size, int is_json, const char *config,
                                char *err, size_t errlen)
{
    mg_tokenizer *t = tok_new();
    if (!t) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    int rc = is_json ? mg_tok_bpe_load(t, data, size, config, err, errlen)
                     : mg_tok_spm_load(t, (const unsigned char *)data, size, err, errlen);
    if (rc < 0) { mg_tokenizer_free(t); return NULL; }
    return t;
}

mg_tokenizer *mg_tokenizer_load_mem(const void *data, size_t size, int is_json,
                                    char *err, size_t errlen)
{
    /* the JSON reader wants a NUL-terminated copy */
    char *copy = malloc(size + 1);
    if (!copy) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (size) memcpy(copy, data, size);
    copy[size] = 0;
    mg_tokenizer *t = load_bytes(copy, size, is_json, NULL, err, errlen);
    free(copy);
    return t;
}

/* Load one file; config is tokenizer_config.json beside a tokenizer.json, or NULL. */
static mg_tokenizer *load_file(const char *file, char *err, size_t errlen)
{
    char *config = NULL, *data = NULL;
    mg_tokenizer *t = NULL;
    size_t flen = strlen(file);
    int is_json = flen >= 5 && strcmp(file + flen - 5, ".json") == 0;
    if (is_json) {
        /* tokenizer_config.json beside the file names bos/eos/pad */
        const char *slash = strrchr(file, '/');
        size_t dl = slash ? (size_t)(slash - file + 1) : 0;
        if (!(config = malloc(dl + sizeof "tokenizer_config.json"))) { mg_seterr(err, errlen, "out of memory"); goto done; }
        memcpy(config, file, dl);
        strcpy(config + dl, "tokenizer_config.json");
        if (!is_file(config)) { free(config); config = NULL; }
    }
    size_t size;
    if (!(data = read_file(file, &size, err, errlen))) goto done;
    char e2[256] = "";
    t = load_bytes(data, size, is_json, config, e2, sizeof e2);
    if (!t) mg_seterr(err, errlen, "%s: %s", file, e2);
done:
    free(config); free(data);
    return t;
}

mg_tokenizer *mg_tokenizer_load(const char *path, char *err, size_t errlen)
{
    if (!is_dir(path)) return load_file(path, err, errlen);
    /* a checkpoint directory: tokenizer.json first; when it cannot be read (e.g. a
     * Unigram model, which only the SentencePiece file describes here), the
     * SentencePiece model beside it */
    static const char *const names[] = {"tokenizer.json", "tokenizer.model", "spiece.model"};
    size_t plen = strlen(path);
    mg_tokenizer *t = NULL;
    int tried = 0;
    char first_err[512] = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !t; i++) {
        char *f = malloc(plen + strlen(names[i]) + 2);
        if (!f) { mg_seterr(err, errlen, "out of memory"); return NULL; }
        sprintf(f, "%s/%s", path, names[i]);
        if (is_file(f)) {
            t = load_file(f, tried ? NULL : first_err, sizeof first_err);
            tried = 1;
        }
        free(f);
    }
    if (!t) {
        if (tried) mg_seterr(err, errlen, "%s", first_err);
        else mg_seterr(err, errlen, "%s: no tokenizer.json, tokenizer.model or spiece.model", path);
    }
    return t;
}

void mg_tokenizer_free(mg_tokenizer *t)
{
    if (!t) return;
    if (t->ops && t->ops->free) t->ops->free(t->model);
    mg_tok_vocab_free(&t->v);
    free(t);
}

int mg_tokenizer_encode(const mg_tokenizer *t, const char *text, size_t len, int parse_special,
                        int32_t **ids, size_t *n, char *err, size_t errlen)
{
    *ids = NULL; *n = 0;
    for (size_t i = 0; i < len;) {
        size_t k = mg_tok_utf8_len((const unsigned char *)text + i, len - i);
        if (!k) { mg_seterr(err, errlen, "invalid UTF-8 at byte %zu", i); return -1; }
        i += k;
    }
    mg_tok_ids out = {0};
    if (t->ops->encode(t, text, len, parse_special, &out, err, errlen) < 0) {
        free(out.p);
        return -1;
    }
    *ids = out.p; *n = out.n;
    return 0;
}

char *mg_tokenizer_decode(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                          char *err, size_t errlen)
{
    size_t len;
    return mg_tokenizer_decode_n(t, ids, n, skip_special, &len, err, errlen);
}

char *mg_tokenizer_decode_n(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                            size_t *len, char *err, size_t errlen)
{
    *len = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->v.n || !t->v.assigned[ids[i]]) {
            mg_seterr(err, errlen, "token id %ld is not in the vocabulary", (long)ids[i]);
            return NULL;
        }
    mg_tok_buf out = {0};
    if (t->ops->decode(t, ids, n, skip_special, &out, err, errlen) < 0) {
        free(out.p);
        return NULL;
    }
    if (mg_tok_buf_put(&out, "", 0) < 0) {
        mg_seterr(err, errlen, "out of memory");
        free(out.p);
        return NULL;
    }
    *len = out.n;
    return out.p;
}

int32_t mg_tokenizer_id(const mg_tokenizer *t, const char *piece)
{
    return mg_tok_vocab_find(&t->v, piece, strlen(piece));
}

const char *mg_tokenizer_piece(const mg_tokenizer *t, int32_t id)
{
    return id >= 0 && id < t->v.n && t->v.assigned[id] ? mg_tok_piece_at(&t->v, id) : NULL;
}

int32_t mg_tokenizer_vocab_size(const mg_tokenizer *t) { return t->v.n; }
int32_t mg_tokenizer_bos(const mg_tokenizer *t) { return t->bos; }
int32_t mg_tokenizer_eos(const mg_tokenizer *t) { return t->eos; }
int32_t mg_tokenizer_pad(const mg_tokenizer *t) { return t->pad; }

/* mg_tok_spm.c: SentencePiece .model files (a serialized sentencepiece.ModelProto,
 * sentencepiece_model.proto) encoded and decoded as sentencepiece 0.1.97 does:
 *   normalizer.cc      precompiled_charsmap (a Darts-clone double-array trie over
 *                      UTF-8 bytes + NUL-terminated replacement strings), longest
 *                      rule first; remove_extra_whitespaces, add_dummy_prefix,
 *                      escape_whitespaces (" " → U+2581), user-defined pieces verbatim;
 *   unigram_model.cc   EncodeOptimized: Viterbi over piece scores, an unknown
 *                      character costs min_score − 10, user-defined pieces score
 *                      length·max_score − 0.1;
 *   bpe_model.cc       merge the adjacent pair whose joined piece has the highest
 *                      score (leftmost on ties), unused pieces split back;
 *   sentencepiece_processor.cc  unknown pieces to <0xNN> bytes (byte_fallback) or
 *                      runs of them fused into one unk; Decode with the leading-space
 *                      rule and byte pieces reassembled (invalid bytes → U+FFFD).
 * The protobuf wire format is read by hand: varints and length-delimited fields,
 * every length checked against the bytes left, unknown fields skipped. */
#include "mg_tok_impl.h"
#include "mg_err.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#define SPACE_SYMBOL "\xe2\x96\x81"    /* U+2581 LOWER ONE EIGHTH BLOCK */
enum { SPM_UNIGRAM = 1, SPM_BPE = 2 };
/* normalizer.h kMaxTrieResultsSize: only the first 32 prefix matches count */
#define CHARSMAP_MAX_RESULTS 32

typedef struct {
    uint32_t *unit; size_t n_units;          /* NULL: identity */
    char *norm; size_t norm_len;             /* replacement strings, NUL-separated */
} charsmap;

typedef struct {
    uint64_t *key; int32_t *child; uint32_t mask;   /* (node << 8 | byte) → node */
    int32_t *value; size_t n_nodes, cap_nodes;      /* piece id at node, -1 none */
} trie;

typedef struct {
    int type;                                /* SPM_UNIGRAM / SPM_BPE */
    int byte_fallback, ws_suffix;
    int add_dummy_prefix, remove_extra_ws, escape_ws;
    float *score;
    float min_score, max_score;
    charsmap cm;
    mg_tok_matcher user;                     /* USER_DEFINED pieces */
    mg_tok_matcher special;                  /* CONTROL and UNKNOWN pieces */
    trie tr;
    char *unk_surface; size_t unk_surface_len;
} spm_model;

/* ---- protobuf wire format ---------------------------------------------------------- */

typedef struct { const unsigned char *p, *end; } pb;

static int pb_varint(pb *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 70; s += 7) {
        if (r->p >= r->end) return -1;
        unsigned char b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) { *v = x; return 0; }
    }
    return -1;                               /* more than 10 bytes */
}

/* Next field: number and wire type. 0 at the end, -1 on error. */
static int pb_next(pb *r, uint32_t *field, int *wt)
{
    if (r->p == r->end) return 0;
    uint64_t k;
    if (pb_varint(r, &k) < 0 || (k >> 3) == 0 || (k >> 3) > 0x1fffffff) return -1;
    *field = (uint32_t)(k >> 3);
    *wt = (int)(k & 7);
    return 1;
}

static int pb_bytes(pb *r, pb *sub)
{
    uint64_t n;
    if (pb_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p)) return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

static int pb_fixed32(pb *r, uint32_t *v)
{
    if (r->end - r->p < 4) return -1;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return 0;
}

static int pb_skip(pb *r, int wt)
{
    uint64_t v; pb sub;
    switch (wt) {
    case 0: return pb_varint(r, &v);
    case 1: if (r->end - r->p < 8) return -1; r->p += 8; return 0;
    case 2: return pb_bytes(r, &sub);
    case 5: if (r->end - r->p < 4) return -1; r->p += 4; return 0;
    default: return -1;                      /* groups (3, 4) are not used by this schema */
    }
}

/* A varint field into an int/bool; other wire types are an error. */
static int pb_int(pb *r, int wt, int64_t *v)
{
    uint64_t x;
    if (wt != 0 || pb_varint(r, &x) < 0) return -1;
    *v = (int64_t)x;
    return 0;
}

/* ---- Darts-clone double array (darts.h: DoubleArrayUnit) ----------------------------- */

static inline int du_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static inline uint32_t du_value(uint32_t u) { return u & 0x7fffffffu; }
static inline uint32_t du_label(uint32_t u) { return u & (0x80000000u | 0xffu); }
static inline uint32_t du_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

/* Longest rule matching a prefix of s (among the first CHARSMAP_MAX_RESULTS, as
 * DoubleArray::commonPrefixSearch with a fixed result array): its length, and the
 * offset of its replacement in *value. 0 when no rule matches. */
static size_t charsmap_prefix(const charsmap *cm, const unsigned char *s, size_t n, uint32_t *value)
{
    size_t longest = 0, found = 0;
    if (!cm->unit) return 0;
    size_t pos = 0;
    uint32_t u = cm->unit[0];
    pos ^= du_offset(u);
    for (size_t i = 0; i < n; i++) {
        pos ^= s[i];
        if (pos >= cm->n_units) return longest;
        u = cm->unit[pos];
        if (du_label(u) != s[i]) return longest;
        pos ^= du_offset(u);
        if (pos >= cm->n_units) return longest;
        if (du_has_leaf(u)) {
            if (found < CHARSMAP_MAX_RESULTS) {
                longest = i + 1;
                *value = du_value(cm->unit[pos]);
            }
            found++;
        }
    }
    return longest;
}

static int charsmap_load(charsmap *cm, const unsigned char *blob, size_t n, char *err, size_t errlen)
{
    if (n == 0) return 0;
    /* <trie size: uint32 LE><double array units><normalized strings> */
    uint32_t tsize;
    if (n <= 4) return mg_fail(err, errlen, "precompiled_charsmap is broken");
    tsize = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24;
    if (tsize > n - 4 || tsize < 4)
        return mg_fail(err, errlen, "precompiled_charsmap: trie size exceeds the blob");
    cm->n_units = tsize / 4;
    cm->unit = malloc(tsize);
    cm->norm_len = n - 4 - tsize;
    cm->norm = malloc(cm->norm_len + 1);
    if (!cm->unit || !cm->norm) return mg_fail(err, errlen, "out of memory");
    /* (a size that is not a multiple of 4 drops the tail, as DoubleArray::set_array) */
    for (size_t i = 0; i < cm->n_units; i++) {
        const unsigned char *q = blob + 4 + 4 * i;
        cm->unit[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    }
    memcpy(cm->norm, blob + 4 + tsize, cm->norm_len);
    cm->norm[cm->norm_len] = 0;              /* every replacement ends in a NUL */
    return 0;
}

/* ---- piece trie (unigram lattice) --------------------------------------------------- */

static uint32_t hash64(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33;
    return (uint32_t)k;
}

static int32_t trie_child(const trie *tr, int32_t node, unsigned char c)
{
    uint64_t k = (uint64_t)node << 8 | c;
    for (uint32_t i = hash64(k) & tr->mask;; i = (i + 1) & tr->mask) {
        if (tr->key[i] == UINT64_MAX) return -1;
        if (tr->key[i] == k) return tr->child[i];
    }
}

static int trie_build(trie *tr, const mg_tok_vocab *v)
{
    size_t total = 1;
    for (int32_t id = 0; id < v->n; id++) total += v->len[id];
    uint32_t cap = 16;
    while (cap < total * 2) cap *= 2;
    tr->key = malloc((size_t)cap * sizeof *tr->key);
    tr->child = malloc((size_t)cap * sizeof *tr->child);
    tr->value = malloc(total * sizeof *tr->value);
    if (!tr->key || !tr->child || !tr->value) return -1;
    memset(tr->key, 0xff, (size_t)cap * sizeof *tr->key);
    tr->mask = cap - 1;
    tr->n_nodes = 1;
    tr->value[0] = -1;
    for (int32_t id = 0; id < v->n; id++) {
        int ty = v->type[id];
        if (ty != MG_PIECE_NORMAL && ty != MG_PIECE_USER_DEFINED && ty != MG_PIECE_UNUSED) continue;
        const unsigned char *s = (const unsigned char *)mg_tok_piece_at(v, id);
        int32_t node = 0;
        for (uint32_t j = 0; j < v->len[id]; j++) {
            int32_t c = trie_child(tr, node, s[j]);
            if (c < 0) {
                c = (int32_t)tr->n_nodes++;
                tr->value[c] = -1;
                uint64_t k = (uint64_t)node << 8 | s[j];
                uint32_t i = hash64(k) & tr->mask;
                while (tr->key[i] != UINT64_MAX) i = (i + 1) & tr->mask;
                tr->key[i] = k;
                tr->child[i] = c;
            }
            node = c;
        }
        if (tr->value[node] < 0) tr->value[node] = id;
    }
    return 0;
}

/* ---- loading ----------------------------------------------------------------------- */

static void spm_free(void *p)
{
    spm_model *m = p;
    if (!m) return;
    free(m->score); free(m->cm.unit); free(m->cm.norm);
    mg_tok_matcher_free(&m->user); mg_tok_matcher_free(&m->special);
    free(m->tr.key); free(m->tr.child); free(m->tr.value);
    free(m->unk_surface);
    free(m);
}

typedef struct {
    int64_t model_type, byte_fallback, ws_suffix;
    pb unk_surface, bos_piece, eos_piece, pad_piece;
    int has_unk_surface, has_bos, has_eos, has_pad;
} trainer_spec;

static int read_trainer(pb r, trainer_spec *ts)
{
    uint32_t f; int wt, k;
    while ((k = pb_next(&r, &f, &wt)) > 0) {
        int rc;
        switch (f) {
        case 3: rc = pb_int(&r, wt, &ts->model_type); break;
        case 24: rc = pb_int(&r, wt, &ts->ws_suffix); break;
        case 35: rc = pb_int(&r, wt, &ts->byte_fallback); break;
        case 44: rc = wt == 2 ? pb_bytes(&r, &ts->unk_surface) : -1; ts->has_unk_surface = 1; break;
        case 46: rc = wt == 2 ? pb_bytes(&r, &ts->bos_piece) : -1; ts->has_bos = 1; break;
        case 47: rc = wt == 2 ? pb_bytes(&r, &ts->eos_piece) : -1; ts->has_eos = 1; break;
        case 48: rc = wt == 2 ? pb_bytes(&r, &ts->pad_piece) : -1; ts->has_pad = 1; break;
        default: rc = pb_skip(&r, wt);
        }
        if (rc < 0) return -1;
    }
    return k;
}

typedef struct {
    int64_t add_dummy_prefix, remove_extra_ws, escape_ws;
    pb charsmap;
} normalizer_spec;

static int read_normalizer(pb r, normalizer_spec *ns)
{
    uint32_t f; int wt, k;
    while ((k = pb_next(&r, &f, &wt)) > 0) {
        int rc;
        switch (f) {
        case 2: rc = wt == 2 ? pb_bytes(&r, &ns->charsmap) : -1; break;
        case 3: rc = pb_int(&r, wt, &ns->add_dummy_prefix); break;
        case 4: rc = pb_int(&r, wt, &ns->remove_extra_ws); break;
        case 5: rc = pb_int(&r, wt, &ns->escape_ws); break;
        default: rc = pb_skip(&r, wt);
        }
        if (rc < 0) return -1;
    }
    return k;
}

/* One ModelProto.SentencePiece: piece (1), score (2, float), type (3). */
static int read_piece(pb r, pb *piece, float *score, int64_t *type)
{
    uint32_t f; int wt, k;
    *type = MG_PIECE_NORMAL; *score = 0;
    piece->p = piece->end = NULL;
    while ((k = pb_next(&r, &f, &wt)) > 0) {
        int rc;
        if (f == 1) rc = wt == 2 ? pb_bytes(&r, piece) : -1;
        else if (f == 2) {
            uint32_t u;
            rc = wt == 5 ? pb_fixed32(&r, &u) : -1;
            memcpy(score, &u, sizeof *score);
        } else if (f == 3) rc = pb_int(&r, wt, type);
        else rc = pb_skip(&r, wt);
        if (rc < 0) return -1;
    }
    return k;
}

static int32_t find_control(const mg_tokenizer *t, const pb *name, const char *dflt)
{
    const char *s = name->p ? (const char *)name->p : dflt;
    size_t n = name->p ? (size_t)(name->end - name->p) : strlen(dflt);
    if (n == 0) { s = dflt; n = strlen(dflt); }     /* RETURN_PIECE: empty → default */
    int32_t id = mg_tok_vocab_find(&t->v, s, n);
    return id >= 0 && t->v.type[id] == MG_PIECE_CONTROL ? id : -1;
}

static const mg_tok_ops spm_ops;

int mg_tok_spm_load(mg_tokenizer *t, const unsigned char *data, size_t size, char *err, size_t errlen)
{
    pb r = {data, data + size}, sub;
    uint32_t f; int wt, k;
    size_t n_pieces = 0;
    trainer_spec ts = {.model_type = SPM_UNIGRAM};
    normalizer_spec ns = {.add_dummy_prefix = 1, .remove_extra_ws = 1, .escape_ws = 1};
    int has_trainer = 0;
    /* first pass: count the pieces, read the specs */
    while ((k = pb_next(&r, &f, &wt)) > 0) {
        if (f == 1 || f == 2 || f == 3 || f == 5) {
            if (wt != 2 || pb_bytes(&r, &sub) < 0) return mg_fail(err, errlen, "not a SentencePiece model (bad field)");
            if (f == 1) n_pieces++;
            else if (f == 2) {
                if (read_trainer(sub, &ts) < 0) return mg_fail(err, errlen, "not a SentencePiece model (bad trainer_spec)");
                has_trainer = 1;
            } else if (f == 3) {
                if (read_normalizer(sub, &ns) < 0) return mg_fail(err, errlen, "not a SentencePiece model (bad normalizer_spec)");
            } else {
                normalizer_spec dn = {0};
                if (read_normalizer(sub, &dn) < 0) return mg_fail(err, errlen, "not a SentencePiece model (bad denormalizer_spec)");
                if (dn.charsmap.p && dn.charsmap.end > dn.charsmap.p)
                    return mg_fail(err, errlen, "denormalizer_spec rules are not supported");
            }
        } else if (pb_skip(&r, wt) < 0) {
            return mg_fail(err, errlen, "not a SentencePiece model (bad field)");
        }
    }
    if (k < 0) return mg_fail(err, errlen, "not a SentencePiece model (bad field)");
    if (n_pieces == 0) return mg_fail(err, errlen, "not a SentencePiece model (no pieces)");
    if (n_pieces > INT32_MAX / 2) return mg_fail(err, errlen, "too many pieces");
    (void)has_trainer;
    if (ts.model_type != SPM_UNIGRAM && ts.model_type != SPM_BPE) {
        mg_seterr(err, errlen, "SentencePiece model_type %lld is not supported (UNIGRAM or BPE only)",
                  (long long)ts.model_type);
        return -1;
    }
    spm_model *m = calloc(1, sizeof *m);
    if (!m) return mg_fail(err, errlen, "out of memory");
    t->model = m;
    t->ops = &spm_ops;
    m->type = (int)ts.model_type;
    m->byte_fallback = ts.byte_fallback != 0;
    m->ws_suffix = ts.ws_suffix != 0;
    m->add_dummy_prefix = ns.add_dummy_prefix != 0;
    m->remove_extra_ws = ns.remove_extra_ws != 0;
    m->escape_ws = ns.escape_ws != 0;
    if (ns.charsmap.p && charsmap_load(&m->cm, ns.charsmap.p, (size_t)(ns.charsmap.end - ns.charsmap.p), err, errlen) < 0)
        return -1;
    const char *us = ts.has_unk_surface ? (const char *)ts.unk_surface.p : " \xE2\x81\x87 ";
    size_t usn = ts.has_unk_surface ? (size_t)(ts.unk_surface.end - ts.unk_surface.p) : strlen(us);
    if (!(m->unk_surface = malloc(usn + 1))) return mg_fail(err, errlen, "out of memory");
    memcpy(m->unk_surface, us, usn);
    m->unk_surface_len = usn;

    /* second pass: the pieces, checked as ModelInterface::InitializePieces */
    if (mg_tok_vocab_init(&t->v, (int32_t)n_pieces) < 0 || !(m->score = calloc(n_pieces, sizeof *m->score)))
        return mg_fail(err, errlen, "out of memory");
    r = (pb){data, data + size};
    int32_t id = 0;
    int bytes_seen[256] = {0};
    m->min_score = FLT_MAX;
    m->max_score = FLT_MIN;                  /* sic: as unigram_model.cc */
    while ((k = pb_next(&r, &f, &wt)) > 0) {
        if (f != 1) { pb_skip(&r, wt); continue; }
        pb_bytes(&r, &sub);
        pb piece; float score; int64_t type;
        if (read_piece(sub, &piece, &score, &type) < 0) { mg_seterr(err, errlen, "piece %ld is broken", (long)id); return -1; }
        size_t pn = piece.p ? (size_t)(piece.end - piece.p) : 0;
        if (pn == 0) { mg_seterr(err, errlen, "piece %ld is empty", (long)id); return -1; }
        if (type < MG_PIECE_NORMAL || type > MG_PIECE_BYTE) { mg_seterr(err, errlen, "piece %ld has type %lld", (long)id, (long long)type); return -1; }
        if (mg_tok_vocab_set(&t->v, id, (const char *)piece.p, pn, (int)type) < 0) return mg_fail(err, errlen, "out of memory");
        m->score[id] = score;
        if (type == MG_PIECE_NORMAL) {
            if (score < m->min_score) m->min_score = score;
            if (score > m->max_score) m->max_score = score;
        }
        if (type == MG_PIECE_UNKNOWN) {
            if (t->unk >= 0) return mg_fail(err, errlen, "unk is already defined");
            t->unk = id;
        }
        if (type == MG_PIECE_BYTE) {
            int b = mg_tok_byte_piece((const char *)piece.p, pn);
            if (!m->byte_fallback) { mg_seterr(err, errlen, "byte piece %ld found although byte_fallback is false", (long)id); return -1; }
            if (b < 0) { mg_seterr(err, errlen, "byte piece %ld is invalid", (long)id); return -1; }
            bytes_seen[b] = 1;
        }
        unsigned fl = 0;
        if ((type == MG_PIECE_USER_DEFINED && mg_tok_matcher_add(&m->user, (const char *)piece.p, pn, id, fl) < 0)
            || ((type == MG_PIECE_CONTROL || type == MG_PIECE_UNKNOWN)
                && mg_tok_matcher_add(&m->special, (const char *)piece.p, pn, id, fl) < 0))
            return mg_fail(err, errlen, "out of memory");
        id++;
    }
    if (t->unk < 0) return mg_fail(err, errlen, "unk is not defined");
    if (m->byte_fallback)
        for (int b = 0; b < 256; b++)
            if (!bytes_seen[b]) return mg_fail(err, errlen, "byte_fallback without the 256 byte pieces");
    if (mg_tok_vocab_index(&t->v) < 0 || mg_tok_matcher_build(&m->user) < 0 || mg_tok_matcher_build(&m->special) < 0)
        return mg_fail(err, errlen, "out of memory");
    /* one id per piece string (sentencepiece refuses duplicates within its maps) */
    for (int32_t i = 0; i < t->v.n; i++)
        if (mg_tok_vocab_find(&t->v, mg_tok_piece_at(&t->v, i), t->v.len[i]) != i) {
            mg_seterr(err, errlen, "piece %ld is already defined", (long)i);
            return -1;
        }
    mg_tok_find_bytes(t);
    if (m->type == SPM_UNIGRAM && trie_build(&m->tr, &t->v) < 0) return mg_fail(err, errlen, "out of memory");
    t->bos = find_control(t, ts.has_bos ? &ts.bos_piece : &(pb){0}, "<s>");
    t->eos = find_control(t, ts.has_eos ? &ts.eos_piece : &(pb){0}, "</s>");
    t->pad = find_control(t, ts.has_pad ? &ts.pad_piece : &(pb){0}, "<pad>");
    return 0;
}

/* ---- encoding ---------------------------------------------------------------------- */

/* Normalizer::NormalizePrefix: a user-defined piece verbatim, else the longest
 * charsmap rule, else one character. Returns bytes consumed; the text is out[0..on). */
static size_t normalize_prefix(const spm_model *m, const char *s, size_t n, const char **out, size_t *on)
{
    long u = mg_tok_matcher_longest(&m->user, s, n, 0);
    if (u >= 0) { *out = s; *on = m->user.e[u].len; return *on; }
    uint32_t val = 0;
    size_t len = charsmap_prefix(&m->cm, (const unsigned char *)s, n, &val);
    if (len) {
        if (val < m->cm.norm_len) {
            *out = m->cm.norm + val;
            *on = strlen(*out);              /* NUL-terminated within the blob (+1 NUL added) */
            return len;
        }
        /* a rule pointing outside the blob is treated as absent */
    }
    size_t k = mg_tok_utf8_len((const unsigned char *)s, n);
    if (!k) k = 1;                           /* input is validated UTF-8 */
    *out = s; *on = k;
    return k;
}

/* Normalizer::Normalize (the norm_to_orig map is not needed for ids). */
static int spm_normalize(const spm_model *m, const char *s, size_t n, mg_tok_buf *out)
{
    const char *ws = m->escape_ws ? SPACE_SYMBOL : " ";
    size_t wsn = m->escape_ws ? 3 : 1;
    const char *p; size_t pn;
    out->n = 0;
    if (n == 0) return 0;
    if (m->remove_extra_ws)
        while (n) {
            size_t c = normalize_prefix(m, s, n, &p, &pn);
            if (!(pn == 1 && p[0] == ' ')) break;
            s += c; n -= c;
        }
    if (n == 0) return 0;
    if (!m->ws_suffix && m->add_dummy_prefix && mg_tok_buf_put(out, ws, wsn) < 0) return -1;
    int prev_space = m->remove_extra_ws;
    while (n) {
        size_t c = normalize_prefix(m, s, n, &p, &pn);
        while (prev_space && pn && p[0] == ' ') { p++; pn--; }
        if (pn) {
            for (size_t i = 0; i < pn; i++) {
                int r = m->escape_ws && p[i] == ' ' ? mg_tok_buf_put(out, SPACE_SYMBOL, 3) : mg_tok_buf_put(out, p + i, 1);
                if (r < 0) return -1;
            }
            prev_space = p[pn - 1] == ' ';
        }
        s += c; n -= c;
        if (!m->remove_extra_ws) prev_space = 0;
    }
    if (m->remove_extra_ws)
        while (out->n >= wsn && memcmp(out->p + out->n - wsn, ws, wsn) == 0) out->n -= wsn;
    if (m->ws_suffix && m->add_dummy_prefix && mg_tok_buf_put(out, ws, wsn) < 0) return -1;
    return 0;
}

typedef struct { size_t start, len; int32_t id; } seg;
typedef struct { seg *s; size_t n, cap; } segs;

static int segs_put(segs *v, size_t start, size_t len, int32_t id)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        seg *s = realloc(v->s, cap * sizeof *s);
        if (!s) return -1;
        v->s = s; v->cap = cap;
    }
    v->s[v->n++] = (seg){start, len, id};
    return 0;
}

static size_t one_char_len(const char *s, size_t n)
{
    /* string_util::OneCharLen by the lead byte, clipped to what is left */
    static const unsigned char tbl[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    size_t k = tbl[(unsigned char)s[0] >> 4];
    return k < n ? k : n;
}

/* unigram_model.cc Model::EncodeOptimized. Scores follow its C++ types: candidate
 * path scores of pieces are computed in double (the user-defined bonus is a double
 * expression) and stored in float; the unknown path is float throughout. */
static int unigram_encode(const mg_tokenizer *t, const spm_model *m, const char *s, size_t n, segs *out)
{
    typedef struct { int32_t id; float score; long start; } best;
    best *b = malloc((n + 1) * sizeof *b);
    if (!b) return -1;
    for (size_t i = 0; i <= n; i++) b[i] = (best){-1, 0, -1};
    const float unk_score = (float)(m->min_score - 10.0);
    for (size_t st = 0; st < n;) {
        const float here = b[st].score;
        int has_single = 0;
        size_t mblen = one_char_len(s + st, n - st);
        int32_t node = 0;
        for (size_t kp = st; kp < n;) {
            node = trie_child(&m->tr, node, (unsigned char)s[kp]);
            kp++;
            if (node < 0) break;
            int32_t id = m->tr.value[node];
            if (id < 0 || t->v.type[id] == MG_PIECE_UNUSED) continue;
            size_t length = kp - st;
            double score = t->v.type[id] == MG_PIECE_USER_DEFINED
                ? (double)((float)length * m->max_score) - 0.1 : (double)m->score[id];
            double cand = score + here;
            if (b[kp].start == -1 || cand > b[kp].score) {
                b[kp].score = (float)cand;
                b[kp].start = (long)st;
                b[kp].id = id;
            }
            if (length == mblen) has_single = 1;
        }
        if (!has_single) {
            float cand = unk_score + here;
            if (b[st + mblen].start == -1 || cand > b[st + mblen].score) {
                b[st + mblen].score = cand;
                b[st + mblen].start = (long)st;
                b[st + mblen].id = t->unk;
            }
        }
        st += mblen;
    }
    /* backtrack, then reverse */
    size_t first = out->n;
    for (size_t e = n; e > 0;) {
        size_t st = (size_t)b[e].start;
        if (segs_put(out, st, e - st, b[e].id) < 0) { free(b); return -1; }
        e = st;
    }
    for (size_t i = first, j = out->n; i + 1 < j; i++, j--) {
        seg x = out->s[i]; out->s[i] = out->s[j - 1]; out->s[j - 1] = x;
    }
    free(b);
    return 0;
}

/* pieces_ of ModelInterface: NORMAL, USER_DEFINED and UNUSED pieces */
static int32_t find_normal(const mg_tokenizer *t, const char *s, size_t n)
{
    int32_t id = mg_tok_vocab_find(&t->v, s, n);
    if (id < 0) return -1;
    int ty = t->v.type[id];
    return ty == MG_PIECE_NORMAL || ty == MG_PIECE_USER_DEFINED || ty == MG_PIECE_UNUSED ? id : -1;
}

typedef struct { size_t start, len; int32_t prev, next; int freeze; } bsym;
typedef struct { float score; int32_t left, right; size_t size; } bpair;

/* the agenda's order: higher score first, then the leftmost */
static int bpair_before(const bpair *a, const bpair *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct { bpair *h; size_t n, cap; } bheap;

static int bheap_push(bheap *q, bpair x)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        bpair *h = realloc(q->h, cap * sizeof *h);
        if (!h) return -1;
        q->h = h; q->cap = cap;
    }
    size_t i = q->n++;
    while (i > 0 && bpair_before(&x, &q->h[(i - 1) / 2])) { q->h[i] = q->h[(i - 1) / 2]; i = (i - 1) / 2; }
    q->h[i] = x;
    return 0;
}

static bpair bheap_pop(bheap *q)
{
    bpair top = q->h[0], x = q->h[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && bpair_before(&q->h[c + 1], &q->h[c])) c++;
        if (!bpair_before(&q->h[c], &x)) break;
        q->h[i] = q->h[c];
        i = c;
    }
    if (q->n) q->h[i] = x;
    return top;
}

typedef struct { int32_t id; uint32_t left_len; } revm;

typedef struct {
    const mg_tokenizer *t; const char *s; bsym *sy; bheap *q;
    revm *rev; size_t n_rev;                 /* unused merged piece → its last pair */
} bpe_ctx;

static int bpe_maybe_add(bpe_ctx *c, int32_t l, int32_t r)
{
    if (l < 0 || r < 0 || c->sy[l].freeze || c->sy[r].freeze) return 0;
    size_t len = c->sy[l].len + c->sy[r].len;
    int32_t id = find_normal(c->t, c->s + c->sy[l].start, len);
    if (id < 0) return 0;
    const spm_model *m = c->t->model;
    if (bheap_push(c->q, (bpair){m->score[id], l, r, len}) < 0) return -1;
    if (c->t->v.type[id] == MG_PIECE_UNUSED) {
        /* rev_merge[piece] = (left, right): the latest pair wins */
        size_t i = 0;
        while (i < c->n_rev && c->rev[i].id != id) i++;
        if (i == c->n_rev) {
            revm *g = realloc(c->rev, (c->n_rev + 1) * sizeof *g);
            if (!g) return -1;
            c->rev = g;
            c->n_rev++;
        }
        c->rev[i] = (revm){id, (uint32_t)c->sy[l].len};
    }
    return 0;
}

/* ModelInterface::PieceToId: any piece, else unk */
static int32_t piece_to_id(const mg_tokenizer *t, const char *s, size_t n)
{
    int32_t id = mg_tok_vocab_find(&t->v, s, n);
    return id >= 0 ? id : t->unk;
}

static int bpe_resegment(bpe_ctx *c, size_t start, size_t len, segs *out, int depth)
{
    int32_t id = piece_to_id(c->t, c->s + start, len);
    if (c->t->v.type[id] == MG_PIECE_UNUSED && depth < 64) {
        for (size_t i = 0; i < c->n_rev; i++)
            if (c->rev[i].id == id && c->rev[i].left_len < len) {
                uint32_t ll = c->rev[i].left_len;
                return bpe_resegment(c, start, ll, out, depth + 1) < 0 ? -1
                     : bpe_resegment(c, start + ll, len - ll, out, depth + 1);
            }
    }
    return segs_put(out, start, len, id);
}

/* bpe_model.cc Model::SampleEncode with alpha 0 */
static int bpe_encode_spm(const mg_tokenizer *t, const spm_model *m, const char *s, size_t n, segs *out)
{
    bsym *sy = malloc((n + 1) * sizeof *sy);
    bheap q = {0};
    bpe_ctx c = {t, s, sy, &q, NULL, 0};
    int rc = -1;
    if (!sy) return -1;
    size_t ns = 0;
    for (size_t i = 0; i < n;) {
        long u = mg_tok_matcher_longest(&m->user, s + i, n - i, 0);
        size_t k = u >= 0 ? m->user.e[u].len : one_char_len(s + i, n - i);
        sy[ns] = (bsym){i, k, (int32_t)ns - 1, i + k < n ? (int32_t)ns + 1 : -1, u >= 0};
        ns++;
        i += k;
    }
    for (size_t i = 1; i < ns; i++)
        if (bpe_maybe_add(&c, (int32_t)i - 1, (int32_t)i) < 0) goto done;
    while (q.n) {
        bpair top = bheap_pop(&q);
        bsym *L = &sy[top.left], *R = &sy[top.right];
        if (L->len == 0 || R->len == 0 || L->len + R->len != top.size) continue;
        L->len += R->len;
        L->next = R->next;
        if (R->next >= 0) sy[R->next].prev = top.left;
        R->len = 0;
        if (bpe_maybe_add(&c, L->prev, top.left) < 0 || bpe_maybe_add(&c, top.left, L->next) < 0) goto done;
    }
    for (int32_t i = ns ? 0 : -1; i != -1; i = sy[i].next)
        if (bpe_resegment(&c, sy[i].start, sy[i].len, out, 0) < 0) goto done;
    rc = 0;
done:
    free(sy); free(q.h); free(c.rev);
    return rc;
}

/* One sentence: normalize, segment, then PopulateSentencePieceText's handling of
 * unknown pieces (bytes with byte_fallback, else runs fused into one unk). */
static int spm_encode_sentence(const mg_tokenizer *t, const char *s, size_t n, mg_tok_ids *out)
{
    const spm_model *m = t->model;
    mg_tok_buf norm = {0};
    segs sg = {0};
    int rc = -1;
    if (spm_normalize(m, s, n, &norm) < 0) goto done;
    if (norm.n && (m->type == SPM_UNIGRAM ? unigram_encode(t, m, norm.p, norm.n, &sg)
                                          : bpe_encode_spm(t, m, norm.p, norm.n, &sg)) < 0) goto done;
    int prev_unk = 0;
    for (size_t i = 0; i < sg.n; i++) {
        int is_unk = t->v.type[sg.s[i].id] == MG_PIECE_UNKNOWN;
        if (is_unk && m->byte_fallback) {
            for (size_t j = 0; j < sg.s[i].len; j++)
                if (mg_tok_ids_put(out, t->byte_id[(unsigned char)norm.p[sg.s[i].start + j]]) < 0) goto done;
        } else if (!(is_unk && prev_unk)) {
            if (mg_tok_ids_put(out, sg.s[i].id) < 0) goto done;
        }
        prev_unk = is_unk;
    }
    rc = 0;
done:
    free(norm.p); free(sg.s);
    return rc;
}

static int spm_encode(const mg_tokenizer *t, const char *s, size_t n, int parse_special,
                      mg_tok_ids *out, char *err, size_t errlen)
{
    const spm_model *m = t->model;
    size_t start = 0;
    /* with parse_special, control and unknown piece strings split the text; each
     * part is then a sentence of its own (as the Hugging Face slow tokenizers) */
    for (size_t i = 0; parse_special && i < n;) {
        long k = mg_tok_matcher_longest(&m->special, s + i, n - i, 0);
        if (k < 0) { i++; continue; }
        if (i > start && spm_encode_sentence(t, s + start, i - start, out) < 0) return mg_fail(err, errlen, "out of memory");
        if (mg_tok_ids_put(out, m->special.e[k].id) < 0) return mg_fail(err, errlen, "out of memory");
        i += m->special.e[k].len;
        start = i;
    }
    if ((n > start || start == 0) && spm_encode_sentence(t, s + start, n - start, out) < 0)
        return mg_fail(err, errlen, "out of memory");
    return 0;
}

/* ---- decoding ---------------------------------------------------------------------- */

/* SentencePieceProcessor::Decode. Control pieces are invisible with skip_special
 * (sentencepiece's behaviour) and written as their piece text without it. */
static int spm_decode(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                      mg_tok_buf *out, char *err, size_t errlen)
{
    const spm_model *m = t->model;
    mg_tok_buf bytes = {0};
    int is_bos_ws = 1, bos_ws_seen = 0;
    size_t text_start = out->n;
    int strip_bos = m->add_dummy_prefix || m->remove_extra_ws;
    for (size_t i = 0; i <= n; i++) {
        int32_t id = i < n ? ids[i] : -1;
        if (id >= 0 && t->v.type[id] == MG_PIECE_BYTE) {
            unsigned char b = (unsigned char)mg_tok_byte_piece(mg_tok_piece_at(&t->v, id), t->v.len[id]);
            if (mg_tok_buf_put(&bytes, &b, 1) < 0) goto oom;
            continue;
        }
        if (bytes.n) {
            if (mg_tok_put_bytes_lossy(out, (const unsigned char *)bytes.p, bytes.n, 0) < 0) goto oom;
            bytes.n = 0;
        }
        if (id < 0) break;
        if (bos_ws_seen || out->n > text_start) is_bos_ws = 0;
        const char *p = mg_tok_piece_at(&t->v, id);
        size_t pn = t->v.len[id];
        int ty = t->v.type[id];
        bos_ws_seen = 0;
        if (ty == MG_PIECE_CONTROL) {
            if (!skip_special && mg_tok_buf_put(out, p, pn) < 0) goto oom;
            continue;
        }
        if (ty == MG_PIECE_UNKNOWN) {
            if (mg_tok_buf_put(out, m->unk_surface, m->unk_surface_len) < 0) goto oom;
            continue;
        }
        if (is_bos_ws && strip_bos && pn >= 3 && memcmp(p, SPACE_SYMBOL, 3) == 0) {
            p += 3; pn -= 3;
            bos_ws_seen = !m->remove_extra_ws;
        }
        /* U+2581 → " " */
        for (size_t j = 0; j < pn;) {
            if (pn - j >= 3 && memcmp(p + j, SPACE_SYMBOL, 3) == 0) {
                if (mg_tok_buf_put(out, " ", 1) < 0) goto oom;
                j += 3;
            } else {
                if (mg_tok_buf_put(out, p + j, 1) < 0) goto oom;
                j++;
            }
        }
    }
    free(bytes.p);
    return 0;
oom:
    free(bytes.p);
    return mg_fail(err, errlen, "out of memory");
}

static const mg_tok_ops spm_ops = {spm_encode, spm_decode, spm_free};

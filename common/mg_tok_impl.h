/* mg_tok_impl.h: what the tokenizer front end (mg_tokenizer.c) shares with the two
 * model readers (mg_tok_bpe.c, mg_tok_spm.c). Not a public header. */
#ifndef MG_TOK_IMPL_H
#define MG_TOK_IMPL_H

#include "mg_tokenizer.h"

#include <stddef.h>
#include <stdint.h>

/* Piece types, numbered as SentencePiece's ModelProto.SentencePiece.Type. */
enum { MG_PIECE_NORMAL = 1, MG_PIECE_UNKNOWN = 2, MG_PIECE_CONTROL = 3, MG_PIECE_USER_DEFINED = 4,
       MG_PIECE_UNUSED = 5, MG_PIECE_BYTE = 6 };

/* Growable byte and id buffers. */
typedef struct { char *p; size_t n, cap; } mg_tok_buf;
typedef struct { int32_t *p; size_t n, cap; } mg_tok_ids;
int mg_tok_buf_put(mg_tok_buf *b, const void *s, size_t n);
int mg_tok_ids_put(mg_tok_ids *v, int32_t id);

/* The vocabulary: id → piece bytes, and a hash from piece bytes → id. */
typedef struct {
    int32_t n;               /* ids 0..n-1; unassigned ids have len 0 and off 0 */
    uint32_t *off, *len;     /* into text */
    mg_tok_buf text;         /* every piece, each followed by a NUL */
    uint8_t *type;           /* MG_TOK_* */
    uint8_t *assigned;
    int32_t *slots;          /* open addressing, -1 empty */
    uint32_t mask;
} mg_tok_vocab;

/* Model-specific operations. encode gets valid UTF-8. */
typedef struct mg_tok_ops {
    int (*encode)(const mg_tokenizer *t, const char *s, size_t len, int parse_special,
                  mg_tok_ids *out, char *err, size_t errlen);
    int (*decode)(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                  mg_tok_buf *out, char *err, size_t errlen);
    void (*free)(void *model);
} mg_tok_ops;

struct mg_tokenizer {
    mg_tok_vocab v;
    int32_t bos, eos, pad, unk;
    int32_t byte_id[256];    /* <0xNN> pieces, -1 when absent */
    const mg_tok_ops *ops;
    void *model;
};

/* Set the vocabulary size and allocate the per-id arrays (ids unassigned). */
int mg_tok_vocab_init(mg_tok_vocab *v, int32_t n);
/* Assign piece s[0..len) to id (which must be < v->n and not yet assigned). */
int mg_tok_vocab_set(mg_tok_vocab *v, int32_t id, const char *s, size_t len, int type);
/* Build the hash once every id is set; a piece given twice keeps its first id. */
int mg_tok_vocab_index(mg_tok_vocab *v);
int32_t mg_tok_vocab_find(const mg_tok_vocab *v, const char *s, size_t len);
static inline const char *mg_tok_piece_at(const mg_tok_vocab *v, int32_t id)
{
    return v->text.p + v->off[id];
}
void mg_tok_vocab_free(mg_tok_vocab *v);

/* Fill t->byte_id[] from the vocabulary's <0xNN> pieces. */
void mg_tok_find_bytes(mg_tokenizer *t);
/* Byte value of a <0xNN> piece, -1 when s is not one. */
int mg_tok_byte_piece(const char *s, size_t len);

/* Length of the UTF-8 character at s (1..4), 0 when s[0..n) does not start with a
 * valid one (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). */
size_t mg_tok_utf8_len(const unsigned char *s, size_t n);
/* Append the bytes of a run of byte-fallback pieces to out. whole_run 1 (Hugging Face
 * ByteFallback decoder): a run that is not valid UTF-8 becomes one U+FFFD per byte;
 * whole_run 0 (sentencepiece ProcessBytePieces): only each invalid byte does. */
int mg_tok_put_bytes_lossy(mg_tok_buf *out, const unsigned char *s, size_t n, int whole_run);

/* A set of strings matched longest-first at a position (added tokens, user-defined
 * pieces). Entries are copied. */
typedef struct {
    char *s; uint32_t len; int32_t id; unsigned flags;
} mg_tok_match;
typedef struct {
    mg_tok_match *e; size_t n, cap;
    int32_t *slots; uint32_t mask;   /* hash of e[].s → index */
    uint32_t *lens; size_t n_lens;   /* distinct lengths, longest first */
    uint8_t first[256];              /* 1 when some entry starts with that byte */
} mg_tok_matcher;
int mg_tok_matcher_add(mg_tok_matcher *m, const char *s, size_t len, int32_t id, unsigned flags);
int mg_tok_matcher_build(mg_tok_matcher *m);
/* Index of the longest entry that s[0..n) starts with and whose flags have no bit of
 * skip_flags, -1 when none. */
long mg_tok_matcher_longest(const mg_tok_matcher *m, const char *s, size_t n, unsigned skip_flags);
void mg_tok_matcher_free(mg_tok_matcher *m);

/* Readers: fill t (vocabulary, specials, ops, model) from a file's bytes. */
int mg_tok_bpe_load(mg_tokenizer *t, const char *data, size_t size, const char *config_path,
                    char *err, size_t errlen);
int mg_tok_spm_load(mg_tokenizer *t, const unsigned char *data, size_t size,
                    char *err, size_t errlen);

#endif

/* mg_decoder.h: the decoder role: autoregressive text decoders (Gemma 3 /
 * MedGemma's language model) loaded from Hugging Face checkpoint directories,
 * with a key/value cache sized at load time.
 *
 * A decoder consumes rows of input embeddings (token embeddings from
 * mg_decoder_embed, or other rows of the same width such as projected image
 * tokens), appends them to its cache at the next positions and returns logits.
 * Rows may be marked as bidirectional blocks (span ids) for image soft tokens.
 * The library never prints: failures return NULL/<0 with one line in err.
 */
#ifndef MG_DECODER_H
#define MG_DECODER_H

#include <stddef.h>
#include <stdint.h>
#include "mg_ckpt.h"
#include "mg_family.h"
#include "mg_nn.h"

#define MG_DECODER_MAX_EOS 8

typedef struct {
    const char *family;              /* "gemma3-text" */
    const char *model_type;          /* config.json model_type */
    int hidden;                      /* width of input rows */
    int64_t vocab;                   /* rows of the output embedding */
    int64_t max_ctx;                 /* cache length chosen at load */
    int32_t bos, pad;                /* -1 when not configured */
    int32_t eos[MG_DECODER_MAX_EOS];
    int n_eos;
    /* multimodal checkpoints; -1 / 0 when text-only */
    int32_t image_token, boi_token, eoi_token;
    int mm_tokens;                   /* soft tokens per image */
    const char *backend;             /* the prompt path's matrix products (mg_mm_describe) */
} mg_decoder_info;

typedef struct mg_decoder mg_decoder;

/** Load the decoder of the checkpoint directory dir with a cache of max_ctx
 *  positions (0: the model's max_position_embeddings, capped at 8192). Weights
 *  stay memory-mapped in file dtype. precision (mg_precision, mg_matmul.h)
 *  chooses the back end of the batched prompt rows; one row at a time always
 *  runs the matrix-vector kernel (mg_nn_gemv). NULL and err on failure
 *  (missing or misshapen tensors, an unsupported config, bf16 asked of a CPU
 *  without it). */
MG_MUST_CHECK mg_decoder *mg_decoder_load(const char *dir, int64_t max_ctx, int precision, char *err,
                                          size_t errlen);
void mg_decoder_free(mg_decoder *d);

const mg_decoder_info *mg_decoder_get_info(const mg_decoder *d);

/** Input rows for token ids: x[n, hidden], scaled as the family does. 0, or -1
 *  with err for an id outside the embedding. */
MG_MUST_CHECK int mg_decoder_embed(const mg_decoder *d, const int32_t *ids, int64_t n, float *x,
                     char *err, size_t errlen);

/** Positions held in the cache. */
int64_t mg_decoder_length(const mg_decoder *d);
/** Forget cache positions from n on (n <= length); 0 or -1. A family that
 *  keeps only a sliding window of some layers' keys can go back to n = 0 or
 *  to any n at or after the length at its last append; -1 otherwise. */
MG_MUST_CHECK int mg_decoder_truncate(mg_decoder *d, int64_t n);

/** Run the n rows x[n, hidden] at positions length … length+n−1 and keep them
 *  in the cache. span: NULL, or [n] block ids (0 = causal row; rows sharing a
 *  non-zero id see each other both ways; a block must be passed whole in one
 *  call). logits: NULL, or out[·, n_vocab] for the last row (all_rows 0) or
 *  for every row (all_rows 1); n_vocab <= vocab restricts the output to the
 *  tokenizer's ids. 0, or -1 with err (context full, memory). */
MG_MUST_CHECK int mg_decoder_forward(mg_decoder *d, const mg_nn_ctx *ctx, const float *x, int64_t n,
                       const int32_t *span, float *logits, int64_t n_vocab, int all_rows,
                       char *err, size_t errlen);

/* ---- what a decoder family provides (its mg_family.ops; common/models/) ---- */
typedef struct mg_decoder_ops {
    /* Fills info except family/model_type; the checkpoint stays open while the
     * state lives (weights point into it). Errors through the checkpoint. */
    void *(*load)(mg_ckpt *ck, int64_t max_ctx, int precision, mg_decoder_info *info, char *err,
                  size_t errlen);
    void (*free)(void *state);
    int (*embed)(const void *state, const int32_t *ids, int64_t n, float *x,
                 char *err, size_t errlen);
    int (*forward)(void *state, const mg_nn_ctx *ctx, const float *x, int64_t n,
                   const int32_t *span, float *logits, int64_t n_vocab, int all_rows,
                   char *err, size_t errlen);
    int64_t (*length)(const void *state);
    int (*truncate)(void *state, int64_t n);
} mg_decoder_ops;

#endif

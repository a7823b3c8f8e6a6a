/* mg_textenc.h: the text-encoder role — prompts to embeddings — for every family
 * registered as MG_ROLE_TEXT_ENCODER (today siglip-text: the text tower of a
 * SigLIP / MedSigLIP SiglipModel checkpoint, model_type "siglip").
 *
 * mg_textenc_load() reads a Hugging Face checkpoint directory (mg_ckpt.h) and the
 * tokenizer it ships (mg_tokenizer.h); the family turns text into the fixed-length
 * id rows its tower was trained on (SigLIP: lower-cased, punctuation removed,
 * </s> appended, padded to max_position_embeddings) and ids into one pooled
 * embedding per text. The library never prints.
 */
#ifndef MG_TEXTENC_H
#define MG_TEXTENC_H

#include <stdint.h>
#include "mg_ckpt.h"
#include "mg_err.h"
#include "mg_family.h"
#include "mg_nn.h"
#include "mg_tokenizer.h"

/* What a text-encoder family provides (its mg_family.ops). The state is the
 * family's own; the checkpoint stays open as long as the state lives. */
typedef struct mg_text_encoder_ops {
    void *(*load)(mg_ckpt *ck, char *err, size_t errlen);
    void (*free)(void *state);
    int (*dim)(const void *state);            /* width of an embedding */
    int (*seq_len)(const void *state);        /* ids per text (fixed) */
    /* text[len] → ids[seq_len] as the family's processor makes them. 0 or -1. */
    int (*tokenize)(const void *state, const mg_tokenizer *tok, const char *text, size_t len,
                    int32_t *ids, char *err, size_t errlen);
    /* ids [batch, seq_len] → out [batch, dim]. 0 or -1. */
    int (*forward)(void *state, const mg_nn_ctx *ctx, const int32_t *ids, int batch, float *out,
                   char *err, size_t errlen);
    /* The checkpoint's contrastive logit scale (log) and bias; 0, or -1 when it has none. */
    int (*logit)(const void *state, double *log_scale, double *bias);
} mg_text_encoder_ops;

typedef struct mg_textenc mg_textenc;

/** Load the text side of a checkpoint directory: the family claiming its
 *  model_type for MG_ROLE_TEXT_ENCODER, and its tokenizer (tokenizer.json,
 *  tokenizer.model or spiece.model in dir). NULL and a one-line reason in err. */
MG_MUST_CHECK mg_textenc *mg_textenc_load(const char *dir, char *err, size_t errlen);
void mg_textenc_free(mg_textenc *te);

const mg_family *mg_textenc_family(const mg_textenc *te);
const mg_tokenizer *mg_textenc_tokenizer(const mg_textenc *te);
/** Width of an embedding, and ids per text. */
int mg_textenc_dim(const mg_textenc *te);
int mg_textenc_seq_len(const mg_textenc *te);

/** UTF-8 text[len] to ids[mg_textenc_seq_len] as the model's processor does.
 *  0, or -1 with err (invalid UTF-8). */
MG_MUST_CHECK int mg_textenc_tokenize(const mg_textenc *te, const char *text, size_t len,
                                      int32_t *ids, char *err, size_t errlen);
/** Embed batch id rows [batch, seq_len] into out [batch, dim] (not normalised).
 *  0, or -1 with err. */
MG_MUST_CHECK int mg_textenc_forward(mg_textenc *te, const mg_nn_ctx *ctx, const int32_t *ids,
                                     int batch, float *out, char *err, size_t errlen);
/** logit_scale (a log: the scale is its exp) and logit_bias of the checkpoint.
 *  0, or -1 when the family has none. */
int mg_textenc_logit(const mg_textenc *te, double *log_scale, double *bias);

#endif

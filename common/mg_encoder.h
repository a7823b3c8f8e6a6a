/* mg_encoder.h: the encoder role — images [C,H,W] or volumes [C,D,H,W] to
 * embeddings or tokens — for every family registered as MG_ROLE_ENCODER.
 *
 * mg_encoder_load() reads a Hugging Face checkpoint directory (mg_ckpt.h); its
 * config.json model_type picks the family (common/models/registry.c):
 *   siglip, siglip_vision_model   siglip-vision: SigLIP tower (+ attention-pooling head)
 *   gemma3                        gemma3-vision: SigLIP tower of Gemma 3 + multimodal projector
 *   dinov2, dinov2_with_registers dinov2: DINOv2 (CLS, registers, layer scale, SwiGLU)
 *   vit                           vit: ViT (CLS, pre-LN)
 * Missing config keys take the current transformers defaults. Weight matrices
 * stay memory-mapped in their file dtype. The library never prints.
 */
#ifndef MG_ENCODER_H
#define MG_ENCODER_H

#include <stdint.h>
#include "mg_ckpt.h"
#include "mg_err.h"
#include "mg_family.h"
#include "mg_nn.h"

/* What a forward pass returns per input. */
typedef enum {
    MG_OUT_DEFAULT = 0,     /* the family's natural output (see mg_encoder_default_output) */
    MG_OUT_POOLED,          /* [D]: SigLIP head, or CLS after the final norm */
    MG_OUT_MEAN,            /* [D]: mean of the patch tokens after the final norm */
    MG_OUT_TOKENS,          /* [N, D]: patch tokens after the final norm (no CLS/registers) */
    MG_OUT_PROJECTED        /* [mm_tokens, text width]: Gemma 3 projector output */
} mg_output;

/** "pooled", "mean", "tokens", "projected" <-> kind; 0 for an unknown name. */
mg_output mg_output_from_name(const char *name);
const char *mg_output_name(mg_output kind);

/* What an encoder family provides (its mg_family.ops). The state is the
 * family's own; the checkpoint stays open as long as the state lives. */
typedef struct mg_encoder_ops {
    int input_ndim;                                        /* 3 [C,H,W] or 4 [C,D,H,W] */
    void *(*load)(mg_ckpt *ck, char *err, size_t errlen);
    void (*free)(void *state);
    mg_output (*default_output)(const void *state);
    /* The configured input shape (input_ndim dims) for messages. */
    void (*input_shape)(const void *state, int64_t *shape);
    /* kind is never MG_OUT_DEFAULT here. Returns the output ndim (1 or 2). */
    int (*output_shape)(const void *state, mg_output kind, int ndim, const int64_t *in_shape,
                        int64_t out_shape[2], char *err, size_t errlen);
    int (*forward)(void *state, const mg_nn_ctx *ctx, mg_output kind, const float *in, int batch,
                   int ndim, const int64_t *in_shape, float *out, char *err, size_t errlen);
    /* Optional (NULL: fp32 only): choose the matmul back end for prec (an
     * mg_precision, mg_matmul.h) once loaded, preparing weights on ctx's workers;
     * and name the back end in use. */
    int (*set_precision)(void *state, const mg_nn_ctx *ctx, int prec, char *err, size_t errlen);
    const char *(*backend)(const void *state);
} mg_encoder_ops;

typedef struct mg_encoder mg_encoder;

/** Load a checkpoint directory. ctx->precision (mg_matmul.h: f32, bf16,
 *  auto) picks the matmul back end, whose weights are prepared on ctx's
 *  workers; ctx NULL: fp32. NULL and a one-line reason in err on failure
 *  (also: bf16 asked for on a CPU without it). */
MG_MUST_CHECK mg_encoder *mg_encoder_load(const char *dir, const mg_nn_ctx *ctx, char *err,
                                          size_t errlen);
void mg_encoder_free(mg_encoder *e);

/** config.json's model_type, and the family. */
const char *mg_encoder_type(const mg_encoder *e);
const mg_family *mg_encoder_family(const mg_encoder *e);
/** 3 for images [C,H,W], 4 for volumes [C,D,H,W]. */
int mg_encoder_input_ndim(const mg_encoder *e);
/** The configured input shape (mg_encoder_input_ndim dims). */
void mg_encoder_input_shape(const mg_encoder *e, int64_t *shape);
/** The family's natural output kind. */
mg_output mg_encoder_default_output(const mg_encoder *e);
/** The matmul back end in use, e.g. "bf16 (oneDNN 2.6 matmul, avx512_core_amx)". */
const char *mg_encoder_backend(const mg_encoder *e);

/** Check that inputs of shape in_shape[ndim] fit the encoder and give the
 *  output shape per input for kind (ndim 1 or 2 in out_shape[]). Returns the
 *  output ndim, or -1 with err. */
MG_MUST_CHECK int mg_encoder_output_shape(const mg_encoder *e, mg_output kind, int ndim,
                                          const int64_t *in_shape, int64_t out_shape[2],
                                          char *err, size_t errlen);

/** Encode batch inputs [batch, in_shape…] (f32) into out [batch, output shape].
 *  0, or -1 with err. */
MG_MUST_CHECK int mg_encoder_forward(mg_encoder *e, const mg_nn_ctx *ctx, mg_output kind,
                                     const float *in, int batch, int ndim, const int64_t *in_shape,
                                     float *out, char *err, size_t errlen);

#endif

/* mg_model.h: image encoders loaded from Hugging Face checkpoint directories.
 *
 * A directory holds config.json and model.safetensors (or shards listed in
 * model.safetensors.index.json). config.json's model_type selects the family:
 *   siglip, siglip_vision_model   SigLIP vision tower (+ attention-pooling head)
 *   gemma3                        SigLIP tower of Gemma 3 + multimodal projector
 *   dinov2, dinov2_with_registers DINOv2 (CLS, registers, layer scale, SwiGLU)
 *   vit                           ViT (CLS, pre-LN)
 * Missing config keys take the current transformers defaults. Weight matrices
 * stay memory-mapped in their file dtype. The library never prints.
 */
#ifndef MG_MODEL_H
#define MG_MODEL_H

#include <stdint.h>
#include "mg_nn.h"

/* What a forward pass returns per image. */
typedef enum {
    MG_OUT_DEFAULT = 0,     /* the family's natural output (see mg_model_default_output) */
    MG_OUT_POOLED,          /* [D]: SigLIP head, or CLS after the final norm */
    MG_OUT_MEAN,            /* [D]: mean of the patch tokens after the final norm */
    MG_OUT_TOKENS,          /* [N, D]: patch tokens after the final norm (no CLS/registers) */
    MG_OUT_PROJECTED        /* [mm_tokens, text width]: Gemma 3 projector output */
} mg_output;

typedef struct mg_model mg_model;

/** Load a checkpoint directory. NULL and a one-line reason in err on failure. */
mg_model *mg_model_load(const char *dir, char *err, size_t errlen);
void mg_model_free(mg_model *m);

/** Choose the matmul back end (mg_matmul.h) for the loaded model: prec is
 *  MG_PREC_F32, MG_PREC_BF16 or MG_PREC_AUTO (bf16 when the CPU has it and the
 *  weight matrices are stored BF16). The bf16 back end converts and packs
 *  every weight matrix once here, on ctx's workers. Without a call the model
 *  runs fp32.
 *  0, or -1 with err (bf16 asked for on a CPU without it, memory). */
int mg_model_set_precision(mg_model *m, const mg_nn_ctx *ctx, int prec, char *err, size_t errlen);
/** The back end in use, e.g. "bf16 (oneDNN 2.6 matmul, avx512_core_amx)". */
const char *mg_model_backend(const mg_model *m);

/** config.json's model_type. */
const char *mg_model_type(const mg_model *m);
/** Expected input channels and the configured square image size. */
int mg_model_channels(const mg_model *m);
int mg_model_image_size(const mg_model *m);
/** The family's natural output kind. */
mg_output mg_model_default_output(const mg_model *m);
/** "pooled", "mean", "tokens", "projected" <-> kind; 0 for an unknown name. */
mg_output mg_output_from_name(const char *name);
const char *mg_output_name(mg_output kind);

/** Check that [c, h, w] images fit the model and give the output shape for kind
 *  (ndim 1 or 2 in shape[]). Returns ndim, or -1 with err. */
int mg_model_output_shape(const mg_model *m, mg_output kind, int c, int h, int w,
                          int64_t shape[2], char *err, size_t errlen);

/** Encode batch images [batch, c, h, w] (f32) into out [batch, output shape].
 *  0, or -1 with err. */
int mg_model_encode(mg_model *m, const mg_nn_ctx *ctx, mg_output kind, const float *images,
                    int batch, int c, int h, int w, float *out, char *err, size_t errlen);

#endif

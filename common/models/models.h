/* models.h: what the ViT-style encoder families share (internal to
 * common/models/): the trunk — patch embedding, CLS/register tokens, position
 * embedding, pre-LN layers (vit_block.h), final norm — its checks and outputs,
 * and the pieces of checkpoint layout several families read. A family's state
 * struct starts with its mg_trunk, so the trunk's ops apply to it. */
#ifndef MG_MODELS_H
#define MG_MODELS_H

#include "../mg_ckpt.h"
#include "../mg_encoder.h"
#include "../mg_family.h"
#include "../mg_nn.h"
#include "vit_block.h"

enum { MG_POS_EXACT = 0, MG_POS_BICUBIC, MG_POS_BICUBIC_AA };

typedef struct {
    char type[64];                    /* model_type, for messages */
    int dim, heads, layers, ffn, act, channels, image_size, patch;
    float eps;
    int n_cls, n_reg;                 /* tokens before the patches */
    mg_nn_weight patch_w;             /* Conv2d [D, C, P, P] read as [D, C·P·P] */
    float *patch_b;
    float *pos;                       /* [n_pos, D]; includes the CLS row when n_cls */
    int pos_grid;                     /* patches per side of pos */
    int pos_mode;                     /* MG_POS_* for other input sizes */
    float *cls, *reg;                 /* [D], [n_reg, D] */
    mg_vit_block *layer;
    float *post_w, *post_b;           /* final LayerNorm */
    mg_mm *mm;                        /* matmul back end, chosen at load (NULL: fp32) */
} mg_trunk;

/** A zeroed family state of size bytes (starting with an mg_trunk) with the
 *  model_type copied in. NULL with err. */
void *mg_trunk_alloc(mg_ckpt *ck, size_t size);
/** The trunk's t->layers layer records. 0 or -1 with the error set. */
int mg_trunk_alloc_layers(mg_ckpt *ck, mg_trunk *t);

/** Images [c, h, w] (in_shape[ndim]) fit the trunk? 0 or -1 with err. */
int mg_trunk_check(const mg_trunk *t, int ndim, const int64_t *in_shape, char *err, size_t errlen);
/** Output shapes of the trunk's own kinds: pooled (the CLS row; only with a
 *  CLS token), mean, tokens. Returns ndim or -1 with err. */
int mg_trunk_output_shape(const mg_trunk *t, mg_output kind, int h, int w, int64_t out_shape[2],
                          char *err, size_t errlen);
/** The error for a pooled output the model does not have ("use mean,
 *  tokens" + also). Returns -1. */
int mg_trunk_no_pooled(const mg_trunk *t, const char *also, char *err, size_t errlen);

/* Finishes one chunk of trunk output x [batch, n_tok, D] into out for kind. */
typedef int (*mg_trunk_head)(const void *state, const mg_nn_ctx *ctx, mg_output kind,
                             const float *x, int batch, int64_t n_tok, int gh, int gw, float *out);
/** The trunk's own kinds (pooled = CLS row, mean, tokens). 0 or -1. */
int mg_trunk_reduce(const void *state, const mg_nn_ctx *ctx, mg_output kind, const float *x,
                    int batch, int64_t n_tok, int gh, int gw, float *out);
/** Encode batch images [batch, c, h, w] in chunks bounded by tokens: the trunk,
 *  then head (mg_trunk_reduce or a family's) on each chunk. per_out floats of
 *  output per image. 0 or -1 with err. */
int mg_trunk_encode(const mg_trunk *t, const mg_nn_ctx *ctx, mg_output kind, const float *images,
                    int batch, int h, int w, int64_t per_out, mg_trunk_head head, const void *state,
                    float *out, char *err, size_t errlen);

/** A family's load op: a zeroed state of size bytes with the model_type copied
 *  in, filled by parts(ck, state); freed again when parts fails. */
void *mg_trunk_load_state(mg_ckpt *ck, size_t size, int (*parts)(mg_ckpt *ck, void *state));
/** A family's forward op: output_shape (the family's op, which checks the
 *  input) gives the output size, then mg_trunk_encode with head. */
int mg_trunk_run(const void *state,
                 int (*output_shape)(const void *state, mg_output kind, int ndim,
                                     const int64_t *in_shape, int64_t out_shape[2], char *err,
                                     size_t errlen),
                 mg_trunk_head head, const mg_nn_ctx *ctx, mg_output kind, const float *in,
                 int batch, int ndim, const int64_t *in_shape, float *out, char *err, size_t errlen);

/* Encoder ops for a state that is a bare mg_trunk (or starts with one). */
void mg_trunk_ops_free(void *state);
void mg_trunk_ops_input_shape(const void *state, int64_t *shape);
mg_output mg_trunk_ops_pooled(const void *state);
int mg_trunk_ops_output_shape(const void *state, mg_output kind, int ndim, const int64_t *in_shape,
                              int64_t out_shape[2], char *err, size_t errlen);
/** The trunk's matmul back end (mg_matmul.h): prec resolved (auto: bf16 when
 *  the CPU has it and the trunk's matrices are stored BF16), the patch
 *  embedding and layer matrices packed on ctx's workers; a family's own
 *  matrices (pooling head, projector) are packed on first use. */
int mg_trunk_ops_set_precision(void *state, const mg_nn_ctx *ctx, int prec, char *err, size_t errlen);
const char *mg_trunk_ops_backend(const void *state);

/* Defines a trunk family: its load op (a state_t, which starts with mg_trunk,
 * filled by parts), its forward op (mg_trunk_run with shape_fn and head_fn),
 * its ops table and `const mg_family mg_family_<id>` claiming the model_type
 * strings given last. */
#define MG_TRUNK_FAMILY(id, fam_name, state_t, parts, default_fn, shape_fn, head_fn, ...) \
    static void *id##_load(mg_ckpt *ck, char *err, size_t errlen) \
    { \
        (void)err; (void)errlen;        /* errors go through the checkpoint */ \
        return mg_trunk_load_state(ck, sizeof(state_t), parts); \
    } \
    static int id##_forward(void *state, const mg_nn_ctx *ctx, mg_output kind, const float *in, \
                            int batch, int ndim, const int64_t *in_shape, float *out, char *err, \
                            size_t errlen) \
    { \
        return mg_trunk_run(state, shape_fn, head_fn, ctx, kind, in, batch, ndim, in_shape, out, \
                            err, errlen); \
    } \
    static const mg_encoder_ops id##_ops = { \
        .input_ndim = 3, .load = id##_load, .free = mg_trunk_ops_free, \
        .default_output = default_fn, .input_shape = mg_trunk_ops_input_shape, \
        .output_shape = shape_fn, .forward = id##_forward, \
        .set_precision = mg_trunk_ops_set_precision, .backend = mg_trunk_ops_backend, \
    }; \
    static const char *const id##_types[] = { __VA_ARGS__, NULL }; \
    const mg_family mg_family_##id = { fam_name, MG_ROLE_ENCODER, id##_types, &id##_ops }

/* HF ViT/DINOv2 layout pieces: embeddings (cls_token, position_embeddings,
 * patch_embeddings.projection), encoder.layer.{i}.attention.*, per-layer
 * vectors, and the task-model prefix ("" or e.g. "vit."). */
int mg_trunk_load_cls_embeddings(mg_ckpt *ck, mg_trunk *t);
int mg_trunk_load_hf_attention(mg_ckpt *ck, const mg_trunk *t, int i, int qkv_bias, mg_vit_block *l);
const float *mg_trunk_load_layer_vec(mg_ckpt *ck, const mg_trunk *t, int i, const char *sub);
void mg_trunk_pick_prefix(mg_ckpt *ck, const char *alt);
/* transformers' defaults of the config keys every trunk family reads. */
typedef struct {
    int dim, layers, heads;
    int ffn;                          /* intermediate_size; -1: the family derives it */
    int patch;
    double eps;
    const char *act;
} mg_trunk_defaults;
/** hidden_size, num_hidden_layers, num_attention_heads, intermediate_size
 *  (unless def->ffn < 0), num_channels, image_size, patch_size, layer_norm_eps,
 *  hidden_act from o into t (eps as read into *eps). 0 or -1 with the error set. */
int mg_trunk_read_config(mg_ckpt *ck, const mg_cfg *o, const mg_trunk_defaults *def, mg_trunk *t,
                         double *eps);
/** The size checks every family makes on its config (ffn_ok: the family's
 *  check of the MLP width); what is "" or e.g. "vision ". 0 or -1 with the error set. */
int mg_trunk_check_config(mg_ckpt *ck, const mg_trunk *t, int ffn_ok, const char *what);

/* The SigLIP vision tower without its head (siglip.c), which Gemma 3's vision
 * side reuses: config v (SiglipVisionConfig), tensors under the current prefix.
 * *use_head gets vision_use_head. 0 or -1 with the error set. */
int mg_siglip_tower_load(mg_ckpt *ck, const mg_cfg *v, mg_trunk *t, int *use_head);
/* The n SigLIP encoder layers encoder.layers.{i}.* (width D, MLP F) under the
 * current prefix, shared by the vision and text towers. 0 or -1 with the error set. */
int mg_siglip_layers_load(mg_ckpt *ck, int64_t D, int64_t F, int n, mg_vit_block *layer);


#endif

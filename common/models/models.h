/* models.h: what the model families share (internal to common/). Each family
 * file fills a struct mg_model from config.json and the checkpoint; the
 * ViT-style trunk (patch embedding, position embedding, pre-LN layers, final
 * norm) is common to all of them. */
#ifndef MG_MODELS_H
#define MG_MODELS_H

#include <jansson.h>
#include "../mg_model.h"
#include "../mg_nn.h"
#include "../mg_safetensors.h"

enum { MG_FAM_SIGLIP = 1, MG_FAM_GEMMA3, MG_FAM_DINOV2, MG_FAM_VIT };
enum { MG_POS_EXACT = 0, MG_POS_BICUBIC, MG_POS_BICUBIC_AA };

typedef struct {
    int dim, heads, layers, ffn, act, channels, image_size, patch;
    float eps;
    int n_cls, n_reg;                 /* tokens before the patches */
    mg_nn_weight patch_w;             /* Conv2d [D, C, P, P] read as [D, C·P·P] */
    float *patch_b;
    float *pos;                       /* [n_pos, D]; includes the CLS row when n_cls */
    int pos_grid;                     /* patches per side of pos */
    int pos_mode;                     /* MG_POS_* for other input sizes */
    float *cls, *reg;                 /* [D], [n_reg, D] */
    mg_nn_layer *layer;
    float *post_w, *post_b;           /* final LayerNorm */
} mg_trunk;

struct mg_model {
    char type[64];
    int family;
    mg_st *st;
    mg_trunk t;
    /* SigLIP attention-pooling head */
    int has_head;
    float *probe;
    mg_nn_weight head_q, head_k, head_v, head_o, head_fc1, head_fc2;
    float *head_q_b, *head_k_b, *head_v_b, *head_o_b, *head_ln_w, *head_ln_b,
          *head_fc1_b, *head_fc2_b;
    /* Gemma 3 multimodal projector */
    mg_nn_weight proj;                /* [vision D, text D] */
    float *soft_norm;
    int mm_tokens, text_dim;
    /* loader state and owned f32 copies of small tensors */
    void **owned;
    int n_owned, m_owned;
};

/* Loader: tensor lookup with shape checks, and errors naming the tensor and
 * the model_type that needed it. */
typedef struct {
    mg_model *m;
    char prefix[128];
    char name[512];
    char *err;
    size_t errlen;
} mg_loader;

void mg_load_error(mg_loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Look up prefix+suffix with exactly the given shape (ndim dims); marks it used. */
const mg_st_tensor *mg_load_tensor(mg_loader *L, const char *suffix, int ndim, const int64_t *dims);
/** A [rows, cols] matrix (or a 4-D conv weight when ndim4 dims are given) in file dtype. */
int mg_load_matrix(mg_loader *L, const char *suffix, int64_t rows, int64_t cols, mg_nn_weight *w);
/** An owned f32 copy of a tensor of the given shape. NULL on error. */
float *mg_load_f32(mg_loader *L, const char *suffix, int ndim, const int64_t *dims);
/** Vector [n] as f32. */
float *mg_load_vec(mg_loader *L, const char *suffix, int64_t n);
/** A Linear layer: weight [out, in], optional bias [out]. */
int mg_load_linear(mg_loader *L, const char *base, int64_t out, int64_t in, int bias,
                   mg_nn_weight *w, float **b);
/** 1 if prefix+suffix exists. */
int mg_load_has(mg_loader *L, const char *suffix);
/** Error on any unused tensor whose name starts with prefix, except names
 *  starting with one of the ignore prefixes (after prefix; NULL-terminated). */
int mg_load_check_unused(mg_loader *L, const char *prefix, const char *const *ignore);

/* config.json helpers: missing key -> default; wrong type -> -1 with error. */
int mg_cfg_int(mg_loader *L, json_t *o, const char *key, int def, int *out);
int mg_cfg_num(mg_loader *L, json_t *o, const char *key, double def, double *out);
int mg_cfg_bool(mg_loader *L, json_t *o, const char *key, int def, int *out);
int mg_cfg_act(mg_loader *L, json_t *o, const char *key, const char *def, int *act);

/* Trunk forward: images [batch, C, h, w] -> x [batch, n_tok, D] after the final
 * norm (malloc'ed; caller frees). n_tok = n_cls + n_reg + (h/P)(w/P). */
int mg_trunk_check(const mg_model *m, int c, int h, int w, char *err, size_t errlen);
float *mg_trunk_forward(const mg_model *m, const mg_nn_ctx *ctx, const float *images,
                        int batch, int h, int w, int64_t *n_tok, char *err, size_t errlen);

/* HF ViT/DINOv2 layout pieces: embeddings (cls_token, position_embeddings,
 * patch_embeddings.projection), encoder.layer.{i}.attention.*, per-layer vectors,
 * and the task-model prefix ("" or e.g. "vit."). */
int mg_trunk_load_cls_embeddings(mg_loader *L);
int mg_trunk_load_hf_attention(mg_loader *L, int i, int qkv_bias, mg_nn_layer *l);
const float *mg_trunk_load_layer_vec(mg_loader *L, int i, const char *sub);
void mg_trunk_pick_prefix(mg_loader *L, const char *alt);

/* Families. */
int mg_siglip_load(mg_loader *L, json_t *vcfg, int with_head);
int mg_siglip_head(const mg_model *m, const mg_nn_ctx *ctx, const float *x, int batch,
                   int64_t n, float *out);
int mg_gemma3_load(mg_loader *L, json_t *cfg);
int mg_gemma3_project(const mg_model *m, const mg_nn_ctx *ctx, const float *x, int batch,
                      int grid_h, int grid_w, float *out);
int mg_dinov2_load(mg_loader *L, json_t *cfg, int registers);
int mg_vit_load(mg_loader *L, json_t *cfg);


/* Encoder families with N-d inputs (the encoder role, mg_encoder.h): each file
 * exports one ops table; mg_encoder.c picks it by model_type. The state that
 * load() returns may keep pointers into L's checkpoint and owned tensors. */
typedef struct mg_encoder_ops {
    int input_ndim;                                        /* 3 or 4 */
    void *(*load)(mg_loader *L, json_t *cfg);
    void (*free)(void *state);
    mg_output (*default_output)(const void *state);
    int (*output_shape)(const void *state, mg_output kind, int ndim, const int64_t *in_shape,
                        int64_t out_shape[2], char *err, size_t errlen);
    int (*forward)(void *state, const mg_nn_ctx *ctx, mg_output kind, const float *in, int batch,
                   int ndim, const int64_t *in_shape, float *out, char *err, size_t errlen);
} mg_encoder_ops;

extern const mg_encoder_ops mg_vit3d_ops;        /* monai_vit, m3d_clip (vit3d.c) */
extern const mg_encoder_ops mg_i3d_resnet_ops;   /* merlin_i3d (i3d_resnet.c) */

/** An int or a list of n ints (a list of one is repeated, as MONAI's
 *  ensure_tuple_rep); missing -> def. 0 or -1 with error. */
int mg_cfg_ints(mg_loader *L, json_t *o, const char *key, int n, const int *def, int *out);

#endif

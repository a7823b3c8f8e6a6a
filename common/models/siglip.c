/* siglip.c: the siglip-vision family, the SigLIP vision tower (transformers
 * modeling_siglip.py layout): Conv2d patch embedding without CLS, learned
 * position embedding, pre-LN layers with tanh GELU by default, post_layernorm,
 * and the multihead attention-pooling head (a learned probe attending over the
 * tokens, then a residual MLP). */
#include "models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    mg_trunk t;                       /* first: the trunk ops apply */
    int has_head;
    float *probe;
    mg_nn_weight q, k, v, o, fc1, fc2;
    float *q_b, *k_b, *v_b, *o_b, *ln_w, *ln_b, *fc1_b, *fc2_b;
} siglip;

int mg_siglip_layers_load(mg_ckpt *ck, int64_t D, int64_t F, int n, mg_vit_block *layer)
{
    char nm[256];
    for (int i = 0; i < n; i++) {
        mg_vit_block *l = &layer[i];
#define LIN(field, bfield, sub, o, in) \
        (snprintf(nm, sizeof nm, "encoder.layers.%d.%s", i, sub), \
         mg_ckpt_linear(ck, nm, o, in, 1, &l->field, (float **)&l->bfield))
#define VEC(field, sub) \
        (snprintf(nm, sizeof nm, "encoder.layers.%d.%s", i, sub), \
         (l->field = mg_ckpt_vec(ck, nm, D)) != NULL)
        if (LIN(q, q_b, "self_attn.q_proj", D, D) < 0 || LIN(k, k_b, "self_attn.k_proj", D, D) < 0 ||
            LIN(v, v_b, "self_attn.v_proj", D, D) < 0 || LIN(o, o_b, "self_attn.out_proj", D, D) < 0 ||
            LIN(fc1, fc1_b, "mlp.fc1", F, D) < 0 || LIN(fc2, fc2_b, "mlp.fc2", D, F) < 0 ||
            !VEC(ln1_w, "layer_norm1.weight") || !VEC(ln1_b, "layer_norm1.bias") ||
            !VEC(ln2_w, "layer_norm2.weight") || !VEC(ln2_b, "layer_norm2.bias")) return -1;
#undef LIN
#undef VEC
    }
    return 0;
}

int mg_siglip_tower_load(mg_ckpt *ck, const mg_cfg *v, mg_trunk *t, int *use_head)
{
    double eps;
    /* SiglipVisionConfig defaults (transformers). */
    static const mg_trunk_defaults def = { 768, 12, 12, 3072, 16, 1e-6, "gelu_pytorch_tanh" };
    if (mg_trunk_read_config(ck, v, &def, t, &eps) < 0 ||
        mg_cfg_bool(ck, v, "vision_use_head", 1, use_head) < 0) return -1;
    if (mg_trunk_check_config(ck, t, t->ffn != 0, "vision ") < 0) return -1;
    t->eps = (float)eps;
    t->pos_grid = t->image_size / t->patch;
    t->pos_mode = MG_POS_EXACT;
    int64_t D = t->dim, F = t->ffn, np = (int64_t)t->pos_grid * t->pos_grid;
    int64_t cd[4] = { D, t->channels, t->patch, t->patch }, pd[2] = { np, D };
    if (mg_ckpt_flat_matrix(ck, "embeddings.patch_embedding.weight", 4, cd, &t->patch_w) < 0 ||
        !(t->patch_b = mg_ckpt_vec(ck, "embeddings.patch_embedding.bias", D)) ||
        !(t->pos = mg_ckpt_f32(ck, "embeddings.position_embedding.weight", 2, pd)) ||
        mg_trunk_alloc_layers(ck, t) < 0) return -1;
    if (mg_siglip_layers_load(ck, D, F, t->layers, t->layer) < 0) return -1;
    if (!(t->post_w = mg_ckpt_vec(ck, "post_layernorm.weight", D)) ||
        !(t->post_b = mg_ckpt_vec(ck, "post_layernorm.bias", D))) return -1;
    return 0;
}

static int head_load(mg_ckpt *ck, siglip *s)
{
    int64_t D = s->t.dim, F = s->t.ffn;
    int64_t probe[3] = { 1, 1, D }, ind[2] = { 3 * D, D };
    const mg_st_tensor *in;
    if (!(s->probe = mg_ckpt_f32(ck, "head.probe", 3, probe)) ||
        !(in = mg_ckpt_tensor(ck, "head.attention.in_proj_weight", 2, ind))) return -1;
    /* nn.MultiheadAttention packs the q, k, v projections as rows of one matrix. */
    size_t es = mg_dtype_size(in->dtype);
    s->q = (mg_nn_weight){ in->dtype, in->data, D, D };
    s->k = (mg_nn_weight){ in->dtype, (const char *)in->data + (size_t)(D * D) * es, D, D };
    s->v = (mg_nn_weight){ in->dtype, (const char *)in->data + (size_t)(2 * D * D) * es, D, D };
    float *inb = mg_ckpt_vec(ck, "head.attention.in_proj_bias", 3 * D);
    if (!inb) return -1;
    s->q_b = inb;
    s->k_b = inb + D;
    s->v_b = inb + 2 * D;
    if (mg_ckpt_linear(ck, "head.attention.out_proj", D, D, 1, &s->o, &s->o_b) < 0 ||
        !(s->ln_w = mg_ckpt_vec(ck, "head.layernorm.weight", D)) ||
        !(s->ln_b = mg_ckpt_vec(ck, "head.layernorm.bias", D)) ||
        mg_ckpt_linear(ck, "head.mlp.fc1", F, D, 1, &s->fc1, &s->fc1_b) < 0 ||
        mg_ckpt_linear(ck, "head.mlp.fc2", D, F, 1, &s->fc2, &s->fc2_b) < 0) return -1;
    s->has_head = 1;
    return 0;
}

static int load_parts(mg_ckpt *ck, void *state)
{
    siglip *s = state;
    const mg_cfg *cfg = mg_ckpt_config(ck);
    /* the full SigLIP model keeps the tower's settings in vision_config */
    const mg_cfg *v = strcmp(mg_ckpt_model_type(ck), "siglip") == 0
                    ? mg_cfg_sub(cfg, "vision_config") : cfg;
    int use_head;
    mg_ckpt_set_prefix(ck, "vision_model.");
    if (mg_siglip_tower_load(ck, v, &s->t, &use_head) < 0 || (use_head && head_load(ck, s) < 0))
        return -1;
    return mg_ckpt_check_unused(ck, "vision_model.", NULL);
}

static mg_output default_output(const void *state)
{
    return ((const siglip *)state)->has_head ? MG_OUT_POOLED : MG_OUT_MEAN;
}

static int output_shape(const void *state, mg_output kind, int ndim, const int64_t *in_shape,
                        int64_t out_shape[2], char *err, size_t errlen)
{
    const siglip *s = state;
    if (mg_trunk_check(&s->t, ndim, in_shape, err, errlen) < 0) return -1;
    if (kind == MG_OUT_POOLED) {
        if (!s->has_head) return mg_trunk_no_pooled(&s->t, "", err, errlen);
        out_shape[0] = s->t.dim;
        return 1;
    }
    return mg_trunk_output_shape(&s->t, kind, (int)in_shape[1], (int)in_shape[2], out_shape,
                                 err, errlen);
}

/* pooler_output = a + MLP(LN(a)), a = out_proj(MHA(probe, X, X)), per image. */
static int attention_pool(const siglip *s, const mg_nn_ctx *ctx, const float *x, int batch,
                          int64_t n, float *out)
{
    const mg_trunk *t = &s->t;
    int64_t D = t->dim, F = t->ffn, T = (int64_t)batch * n;
    int hd = (int)(D / t->heads), rc = -1;
    float *q = malloc((size_t)(batch * D) * sizeof(float));
    float *kv = malloc((size_t)(2 * T * D) * sizeof(float));
    float *a = malloc((size_t)(batch * D) * sizeof(float));
    float *h = malloc((size_t)(batch * D) * sizeof(float));
    float *f = malloc((size_t)(batch * F) * sizeof(float));
    if (!q || !kv || !a || !h || !f) goto fail;
    if (mg_mm_linear(t->mm, ctx, s->probe, 1, &s->q, s->q_b, 0, q, D) < 0) goto fail;
    for (int b = 1; b < batch; b++) memcpy(q + b * D, q, (size_t)D * sizeof(float));
    if (mg_mm_linear(t->mm, ctx, x, T, &s->k, s->k_b, 0, kv, D) < 0 ||
        mg_mm_linear(t->mm, ctx, x, T, &s->v, s->v_b, 0, kv + T * D, D) < 0) goto fail;
    if (mg_mm_attention(t->mm, ctx, q, D, kv, kv + T * D, D, h, D, batch, 1, n, t->heads, hd,
                        (float)(1.0 / sqrt((double)hd))) < 0) goto fail;
    if (mg_mm_linear(t->mm, ctx, h, batch, &s->o, s->o_b, 0, a, D) < 0) goto fail;
    mg_nn_layer_norm(ctx, a, h, batch, D, s->ln_w, s->ln_b, t->eps);
    if (mg_mm_linear(t->mm, ctx, h, batch, &s->fc1, s->fc1_b, t->act, f, F) < 0 ||
        mg_mm_linear(t->mm, ctx, f, batch, &s->fc2, s->fc2_b, 0, h, D) < 0) goto fail;
    for (int64_t i = 0; i < batch * D; i++) out[i] = a[i] + h[i];
    rc = 0;
fail:
    free(q); free(kv); free(a); free(h); free(f);
    return rc;
}

static int head(const void *state, const mg_nn_ctx *ctx, mg_output kind, const float *x,
                int batch, int64_t n_tok, int gh, int gw, float *out)
{
    if (kind == MG_OUT_POOLED) return attention_pool(state, ctx, x, batch, n_tok, out);
    return mg_trunk_reduce(state, ctx, kind, x, batch, n_tok, gh, gw, out);
}

MG_TRUNK_FAMILY(siglip_vision, "siglip-vision", siglip, load_parts, default_output, output_shape,
                head, "siglip", "siglip_vision_model");

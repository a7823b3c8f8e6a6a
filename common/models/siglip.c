/* siglip.c: SigLIP vision tower (transformers modeling_siglip.py layout):
 * Conv2d patch embedding without CLS, learned position embedding, pre-LN layers
 * with tanh GELU by default, post_layernorm, and the multihead attention-pooling
 * head (a learned probe attending over the tokens, then a residual MLP). */
#include "models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mg_siglip_load(mg_loader *L, json_t *v, int with_head)
{
    mg_model *m = L->m;
    mg_trunk *t = &m->t;
    double eps;
    int use_head;
    /* SiglipVisionConfig defaults (transformers). */
    if (mg_cfg_int(L, v, "hidden_size", 768, &t->dim) < 0 ||
        mg_cfg_int(L, v, "intermediate_size", 3072, &t->ffn) < 0 ||
        mg_cfg_int(L, v, "num_hidden_layers", 12, &t->layers) < 0 ||
        mg_cfg_int(L, v, "num_attention_heads", 12, &t->heads) < 0 ||
        mg_cfg_int(L, v, "num_channels", 3, &t->channels) < 0 ||
        mg_cfg_int(L, v, "image_size", 224, &t->image_size) < 0 ||
        mg_cfg_int(L, v, "patch_size", 16, &t->patch) < 0 ||
        mg_cfg_num(L, v, "layer_norm_eps", 1e-6, &eps) < 0 ||
        mg_cfg_act(L, v, "hidden_act", "gelu_pytorch_tanh", &t->act) < 0 ||
        mg_cfg_bool(L, v, "vision_use_head", 1, &use_head) < 0) return -1;
    if (!t->dim || !t->heads || t->dim % t->heads || !t->patch || t->image_size < t->patch ||
        !t->channels || !t->layers || !t->ffn) {
        mg_load_error(L, "config.json: inconsistent vision sizes (hidden_size %d, heads %d, "
                      "patch %d, image %d)", t->dim, t->heads, t->patch, t->image_size);
        return -1;
    }
    t->eps = (float)eps;
    t->pos_grid = t->image_size / t->patch;
    t->pos_mode = MG_POS_EXACT;
    int64_t D = t->dim, F = t->ffn, np = (int64_t)t->pos_grid * t->pos_grid;
    int64_t cd[4] = { D, t->channels, t->patch, t->patch };
    const mg_st_tensor *pw = mg_load_tensor(L, "embeddings.patch_embedding.weight", 4, cd);
    if (!pw) return -1;
    t->patch_w = (mg_nn_weight){ pw->dtype, pw->data, D, (int64_t)t->channels * t->patch * t->patch };
    int64_t pd[2] = { np, D };
    if (!(t->patch_b = mg_load_vec(L, "embeddings.patch_embedding.bias", D)) ||
        !(t->pos = mg_load_f32(L, "embeddings.position_embedding.weight", 2, pd))) return -1;
    t->layer = calloc((size_t)t->layers, sizeof *t->layer);
    if (!t->layer) { mg_load_error(L, "out of memory"); return -1; }
    char nm[256];
    for (int i = 0; i < t->layers; i++) {
        mg_nn_layer *l = &t->layer[i];
#define LIN(field, bfield, sub, o, in) \
        (snprintf(nm, sizeof nm, "encoder.layers.%d.%s", i, sub), \
         mg_load_linear(L, nm, o, in, 1, &l->field, (float **)&l->bfield))
#define VEC(field, sub) \
        (snprintf(nm, sizeof nm, "encoder.layers.%d.%s", i, sub), \
         (l->field = mg_load_vec(L, nm, D)) != NULL)
        if (LIN(q, q_b, "self_attn.q_proj", D, D) < 0 || LIN(k, k_b, "self_attn.k_proj", D, D) < 0 ||
            LIN(v, v_b, "self_attn.v_proj", D, D) < 0 || LIN(o, o_b, "self_attn.out_proj", D, D) < 0 ||
            LIN(fc1, fc1_b, "mlp.fc1", F, D) < 0 || LIN(fc2, fc2_b, "mlp.fc2", D, F) < 0 ||
            !VEC(ln1_w, "layer_norm1.weight") || !VEC(ln1_b, "layer_norm1.bias") ||
            !VEC(ln2_w, "layer_norm2.weight") || !VEC(ln2_b, "layer_norm2.bias")) return -1;
#undef LIN
#undef VEC
    }
    if (!(t->post_w = mg_load_vec(L, "post_layernorm.weight", D)) ||
        !(t->post_b = mg_load_vec(L, "post_layernorm.bias", D))) return -1;
    if (with_head && use_head) {
        int64_t probe[3] = { 1, 1, D };
        const mg_st_tensor *in;
        int64_t ind[2] = { 3 * D, D };
        if (!(m->probe = mg_load_f32(L, "head.probe", 3, probe)) ||
            !(in = mg_load_tensor(L, "head.attention.in_proj_weight", 2, ind))) return -1;
        /* nn.MultiheadAttention packs the q, k, v projections as rows of one matrix. */
        size_t es = mg_st_dtype_size(in->dtype);
        m->head_q = (mg_nn_weight){ in->dtype, in->data, D, D };
        m->head_k = (mg_nn_weight){ in->dtype, (const char *)in->data + (size_t)(D * D) * es, D, D };
        m->head_v = (mg_nn_weight){ in->dtype, (const char *)in->data + (size_t)(2 * D * D) * es, D, D };
        float *inb = mg_load_vec(L, "head.attention.in_proj_bias", 3 * D);
        if (!inb) return -1;
        m->head_q_b = inb;
        m->head_k_b = inb + D;
        m->head_v_b = inb + 2 * D;
        if (mg_load_linear(L, "head.attention.out_proj", D, D, 1, &m->head_o, &m->head_o_b) < 0 ||
            !(m->head_ln_w = mg_load_vec(L, "head.layernorm.weight", D)) ||
            !(m->head_ln_b = mg_load_vec(L, "head.layernorm.bias", D)) ||
            mg_load_linear(L, "head.mlp.fc1", F, D, 1, &m->head_fc1, &m->head_fc1_b) < 0 ||
            mg_load_linear(L, "head.mlp.fc2", D, F, 1, &m->head_fc2, &m->head_fc2_b) < 0) return -1;
        m->has_head = 1;
    }
    return 0;
}

/* pooler_output = a + MLP(LN(a)), a = out_proj(MHA(probe, X, X)), per image. */
int mg_siglip_head(const mg_model *m, const mg_nn_ctx *ctx, const float *x, int batch,
                   int64_t n, float *out)
{
    int64_t D = m->t.dim, F = m->t.ffn, T = (int64_t)batch * n;
    int hd = (int)(D / m->t.heads), rc = -1;
    float *q = malloc((size_t)(batch * D) * sizeof(float));
    float *kv = malloc((size_t)(2 * T * D) * sizeof(float));
    float *a = malloc((size_t)(batch * D) * sizeof(float));
    float *h = malloc((size_t)(batch * D) * sizeof(float));
    float *f = malloc((size_t)(batch * F) * sizeof(float));
    if (!q || !kv || !a || !h || !f) goto fail;
    if (mg_mm_linear(m->mm, ctx, m->probe, 1, &m->head_q, m->head_q_b, 0, q, D) < 0) goto fail;
    for (int b = 1; b < batch; b++) memcpy(q + b * D, q, (size_t)D * sizeof(float));
    if (mg_mm_linear(m->mm, ctx, x, T, &m->head_k, m->head_k_b, 0, kv, D) < 0 ||
        mg_mm_linear(m->mm, ctx, x, T, &m->head_v, m->head_v_b, 0, kv + T * D, D) < 0) goto fail;
    if (mg_mm_attention(m->mm, ctx, q, D, kv, kv + T * D, D, h, D, batch, 1, n, m->t.heads, hd,
                        (float)(1.0 / sqrt((double)hd))) < 0) goto fail;
    if (mg_mm_linear(m->mm, ctx, h, batch, &m->head_o, m->head_o_b, 0, a, D) < 0) goto fail;
    mg_nn_layer_norm(ctx, a, h, batch, D, m->head_ln_w, m->head_ln_b, m->t.eps);
    if (mg_mm_linear(m->mm, ctx, h, batch, &m->head_fc1, m->head_fc1_b, m->t.act, f, F) < 0 ||
        mg_mm_linear(m->mm, ctx, f, batch, &m->head_fc2, m->head_fc2_b, 0, h, D) < 0) goto fail;
    for (int64_t i = 0; i < batch * D; i++) out[i] = a[i] + h[i];
    rc = 0;
fail:
    free(q); free(kv); free(a); free(h); free(f);
    return rc;
}

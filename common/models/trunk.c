/* trunk.c: the ViT-style trunk shared by SigLIP, DINOv2 and ViT:
 * patch embedding (a stride-P convolution, computed as im2col + GEMM), CLS and
 * register tokens, position embeddings, pre-LN encoder layers, final LayerNorm. */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mg_trunk_check(const mg_model *m, int c, int h, int w, char *err, size_t errlen)
{
    const mg_trunk *t = &m->t;
    if (c != t->channels) {
        snprintf(err, errlen, "%s: image has %d channels, the model expects %d", m->type, c, t->channels);
        return -1;
    }
    if (h < t->patch || w < t->patch || h % t->patch || w % t->patch) {
        snprintf(err, errlen, "%s: image is %dx%d; height and width must be multiples of the "
                 "patch size %d", m->type, h, w, t->patch);
        return -1;
    }
    if (t->pos_mode == MG_POS_EXACT && (h / t->patch != t->pos_grid || w / t->patch != t->pos_grid)) {
        snprintf(err, errlen, "%s: image is %dx%d; this model takes %dx%d", m->type, h, w,
                 t->pos_grid * t->patch, t->pos_grid * t->patch);
        return -1;
    }
    return 0;
}

float *mg_trunk_forward(const mg_model *m, const mg_nn_ctx *ctx, const float *images,
                        int batch, int h, int w, int64_t *n_tok_out, char *err, size_t errlen)
{
    const mg_trunk *t = &m->t;
    int gh = h / t->patch, gw = w / t->patch, P = t->patch, C = t->channels;
    int64_t D = t->dim, np = (int64_t)gh * gw, skip = t->n_cls + t->n_reg, n_tok = skip + np;
    float *x = malloc((size_t)(batch * n_tok * D) * sizeof(float));
    float *cols = malloc((size_t)(np * C * P * P) * sizeof(float));
    float *pos_i = NULL;
    const float *pos = t->pos + (int64_t)t->n_cls * D;     /* the patch rows */
    if (!x || !cols) goto oom;
    if (gh != t->pos_grid || gw != t->pos_grid) {
        pos_i = malloc((size_t)(np * D) * sizeof(float));
        if (!pos_i || mg_nn_resize_bicubic_grid(pos, t->pos_grid, t->pos_grid, (int)D, pos_i, gh, gw,
                                                t->pos_mode == MG_POS_BICUBIC_AA) < 0) goto oom;
        pos = pos_i;
    }
    for (int b = 0; b < batch; b++) {
        float *xb = x + (int64_t)b * n_tok * D;
        mg_nn_im2col_patches(images + (int64_t)b * C * h * w, C, h, w, P, cols);
        if (mg_mm_linear(m->mm, ctx, cols, np, &t->patch_w, t->patch_b, 0, xb + skip * D, D) < 0)
            goto oom;
        for (int64_t i = 0; i < np * D; i++) xb[skip * D + i] += pos[i];
        if (t->n_cls)
            for (int64_t d = 0; d < D; d++) xb[d] = t->cls[d] + t->pos[d];
        /* registers go between CLS and the patches, after the position embedding */
        if (t->n_reg) memcpy(xb + t->n_cls * D, t->reg, (size_t)(t->n_reg * D) * sizeof(float));
    }
    free(cols);
    cols = NULL;
    free(pos_i);
    pos_i = NULL;
    mg_nn_layer_shape s = { (int)D, t->heads, t->ffn, t->act, t->eps };
    float *work = malloc(mg_nn_encoder_layer_work(&s, batch, n_tok) * sizeof(float));
    if (!work) goto oom;
    for (int l = 0; l < t->layers; l++)
        if (mg_nn_encoder_layer(ctx, m->mm, &t->layer[l], &s, x, batch, n_tok, work) < 0) {
            free(work);
            goto oom;
        }
    free(work);
    mg_nn_layer_norm(ctx, x, x, batch * n_tok, D, t->post_w, t->post_b, t->eps);
    *n_tok_out = n_tok;
    return x;
oom:
    snprintf(err, errlen, "%s: out of memory", m->type);
    free(x);
    free(cols);
    free(pos_i);
    return NULL;
}

int mg_trunk_load_cls_embeddings(mg_loader *L)
{
    mg_trunk *t = &L->m->t;
    int64_t D = t->dim;
    t->pos_grid = t->image_size / t->patch;
    int64_t np = (int64_t)t->pos_grid * t->pos_grid;
    int64_t cd[4] = { D, t->channels, t->patch, t->patch }, cls[3] = { 1, 1, D },
            pos[3] = { 1, np + 1, D };
    const mg_st_tensor *pw = mg_load_tensor(L, "embeddings.patch_embeddings.projection.weight", 4, cd);
    if (!pw) return -1;
    t->patch_w = (mg_nn_weight){ pw->dtype, pw->data, D, (int64_t)t->channels * t->patch * t->patch };
    if (!(t->patch_b = mg_load_vec(L, "embeddings.patch_embeddings.projection.bias", D)) ||
        !(t->cls = mg_load_f32(L, "embeddings.cls_token", 3, cls)) ||
        !(t->pos = mg_load_f32(L, "embeddings.position_embeddings", 3, pos))) return -1;
    t->n_cls = 1;
    return 0;
}

int mg_trunk_load_hf_attention(mg_loader *L, int i, int qkv_bias, mg_nn_layer *l)
{
    int64_t D = L->m->t.dim;
    char nm[256];
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.attention.query", i);
    if (mg_load_linear(L, nm, D, D, qkv_bias, &l->q, (float **)&l->q_b) < 0) return -1;
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.attention.key", i);
    if (mg_load_linear(L, nm, D, D, qkv_bias, &l->k, (float **)&l->k_b) < 0) return -1;
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.attention.value", i);
    if (mg_load_linear(L, nm, D, D, qkv_bias, &l->v, (float **)&l->v_b) < 0) return -1;
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.output.dense", i);
    return mg_load_linear(L, nm, D, D, 1, &l->o, (float **)&l->o_b);
}

const float *mg_trunk_load_layer_vec(mg_loader *L, int i, const char *sub)
{
    char nm[256];
    snprintf(nm, sizeof nm, "encoder.layer.%d.%s", i, sub);
    return mg_load_vec(L, nm, L->m->t.dim);
}

/* Pick "" or the task model's prefix (e.g. "dinov2.") by where the CLS token is. */
void mg_trunk_pick_prefix(mg_loader *L, const char *alt)
{
    L->prefix[0] = 0;
    if (!mg_load_has(L, "embeddings.cls_token")) snprintf(L->prefix, sizeof L->prefix, "%s", alt);
}

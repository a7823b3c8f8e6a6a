/* vit_block.c: the pre-LN encoder layer of ViT, SigLIP and DINOv2
 * (transformers ViTLayer / SiglipEncoderLayer / Dinov2Layer), on the mg_nn kernels. */
#include "vit_block.h"

#include <math.h>

size_t mg_vit_block_work(const mg_vit_block_shape *s, int batch, int64_t n)
{
    size_t T = (size_t)batch * (size_t)n, D = (size_t)s->dim, F = (size_t)s->ffn;
    size_t fw = s->act == MG_ACT_SWIGLU ? 2 * F : F;
    /* h, q, k, v, a: T·D each; f: T·fw; g (SwiGLU): T·F */
    return 5 * T * D + T * fw + (s->act == MG_ACT_SWIGLU ? T * F : 0);
}

int mg_vit_block_forward(const mg_nn_ctx *ctx, mg_mm *mm, const mg_vit_block *l, const mg_vit_block_shape *s,
                         float *x, int batch, int64_t n, float *work)
{
    int64_t T = (int64_t)batch * n, D = s->dim;
    int64_t fw = s->act == MG_ACT_SWIGLU ? 2 * (int64_t)s->ffn : s->ffn;
    float *h = work, *q = h + T * D, *k = q + T * D, *v = k + T * D, *a = v + T * D;
    float *f = a + T * D, *g = s->act == MG_ACT_SWIGLU ? f + T * fw : NULL;
    int hd = (int)(D / s->heads);

    mg_nn_layer_norm(ctx, x, h, T, D, l->ln1_w, l->ln1_b, s->eps);
    if (mg_mm_linear(mm, ctx, h, T, &l->q, l->q_b, 0, q, D) < 0 ||
        mg_mm_linear(mm, ctx, h, T, &l->k, l->k_b, 0, k, D) < 0 ||
        mg_mm_linear(mm, ctx, h, T, &l->v, l->v_b, 0, v, D) < 0) return -1;
    if (mg_mm_attention(mm, ctx, q, D, k, v, D, a, D, batch, n, n, s->heads, hd,
                        (float)(1.0 / sqrt((double)hd))) < 0) return -1;
    if (mg_mm_linear(mm, ctx, a, T, &l->o, l->o_b, 0, h, D) < 0) return -1;
    for (int64_t i = 0; i < T; i++)
        for (int64_t c = 0; c < D; c++)
            x[i * D + c] += l->ls1 ? l->ls1[c] * h[i * D + c] : h[i * D + c];

    mg_nn_layer_norm(ctx, x, h, T, D, l->ln2_w, l->ln2_b, s->eps);
    /* the GELU is fused into the fc1 product where the back end can */
    if (mg_mm_linear(mm, ctx, h, T, &l->fc1, l->fc1_b, g ? 0 : s->act, f, fw) < 0) return -1;
    if (g) mg_nn_swiglu(ctx, f, g, T, s->ffn);
    if (mg_mm_linear(mm, ctx, g ? g : f, T, &l->fc2, l->fc2_b, 0, h, D) < 0) return -1;
    for (int64_t i = 0; i < T; i++)
        for (int64_t c = 0; c < D; c++)
            x[i * D + c] += l->ls2 ? l->ls2[c] * h[i * D + c] : h[i * D + c];
    return 0;
}

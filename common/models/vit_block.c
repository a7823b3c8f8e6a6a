/* vit_block.c: the pre-LN encoder layer of ViT, SigLIP and DINOv2
 * (transformers ViTLayer / SiglipEncoderLayer / Dinov2Layer), on the mg_nn kernels. */
#include "vit_block.h"

#include <math.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* ---- the matmul back end ---- */
int mg_vit_blocks_set_precision(mg_mm **mm, const mg_nn_ctx *ctx, const mg_nn_weight *patch_w,
                                const mg_vit_block *layer, int layers, int prec,
                                char *err, size_t errlen)
{
    int n = 0, all_bf16 = 1, rc = -1;
    mg_mm_matrix *ms = malloc((size_t)(1 + 6 * layers) * sizeof *ms);
    if (!ms) { mg_seterr(err, errlen, "out of memory"); return -1; }
    ms[n++] = (mg_mm_matrix){ patch_w, 0 };
    for (int i = 0; i < layers; i++) {
        const mg_vit_block *l = &layer[i];
        const mg_nn_weight *w[] = { &l->q, &l->k, &l->v, &l->o, &l->fc1, &l->fc2 };
        for (int k = 0; k < 6; k++) ms[n++] = (mg_mm_matrix){ w[k], 0 };
    }
    for (int i = 0; i < n; i++) all_bf16 &= ms[i].w->dtype == MG_BF16;
    int p = mg_precision_resolve(prec, all_bf16, err, errlen);
    if (p < 0) goto done;
    mg_mm_free(*mm);
    if (!(*mm = mg_mm_create(p, err, errlen))) goto done;
    if (mg_mm_prepare(*mm, ctx, ms, n, err, errlen) < 0) goto done;
    /* The bf16 back end never reads a matrix as stored again once packed. The
     * checkpoint is a read-only file mapping (mg_ckpt), so dropping its pages
     * from this process loses nothing (they stay in the page cache and would
     * fault back in if touched), and the packed copy does not double the
     * resident size. */
    for (int i = 0; p == MG_PREC_BF16 && i < n; i++) {
        const mg_nn_weight *w = ms[i].w;
        size_t bytes = (size_t)(w->rows * w->cols) * mg_dtype_size(w->dtype);
        uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)w->data + ps - 1) & ~(ps - 1),
                  b = ((uintptr_t)w->data + bytes) & ~(ps - 1);
        if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);    /* a hint: errors are harmless */
    }
    rc = 0;
done:
    free(ms);
    return rc;
}

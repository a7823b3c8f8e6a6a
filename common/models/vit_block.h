/* vit_block.h: the pre-LN transformer encoder layer of the ViT-style families
 * (ViT / SigLIP / DINOv2 form), built from the mg_nn kernels:
 *   x += ls1 · O(attn(LN1(x)));  x += ls2 · MLP(LN2(x)).
 * Internal to common/models/. */
#ifndef MG_VIT_BLOCK_H
#define MG_VIT_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include "../mg_err.h"
#include "../mg_nn.h"
#include "../mg_matmul.h"

typedef struct {
    const float *ln1_w, *ln1_b, *ln2_w, *ln2_b;
    mg_nn_weight q, k, v, o;
    const float *q_b, *k_b, *v_b, *o_b;
    mg_nn_weight fc1, fc2;           /* SwiGLU: fc1 is [2f, D] */
    const float *fc1_b, *fc2_b;
    const float *ls1, *ls2;          /* layer scale [D] or NULL */
} mg_vit_block;

typedef struct {
    int dim, heads, ffn;             /* ffn: hidden width of the MLP (f for SwiGLU) */
    int act;                         /* MG_ACT_* */
    float eps;
} mg_vit_block_shape;

/** Floats of workspace mg_vit_block_forward needs for batch·n tokens. */
size_t mg_vit_block_work(const mg_vit_block_shape *s, int batch, int64_t n);
/** Apply one layer to x [batch·n, dim] in place, using work (see above) so that
 *  consecutive layers reuse the same memory. The projections run on the
 *  model's matmul back end mm (mg_matmul.h: fp32 OpenBLAS or bf16 oneDNN; NULL
 *  is fp32); attention scores and softmax stay fp32. 0 or -1 (memory). */
MG_MUST_CHECK int mg_vit_block_forward(const mg_nn_ctx *ctx, mg_mm *mm, const mg_vit_block *l,
                                       const mg_vit_block_shape *s, float *x, int batch,
                                       int64_t n, float *work);

#endif

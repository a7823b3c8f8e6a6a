/* gemma3_vision.c: the gemma3-vision family, the vision side of Gemma 3
 * (transformers modeling_gemma3.py): the SigLIP tower without its head, then
 * Gemma3MultiModalProjector: average pooling of the patch grid to
 * mm_tokens_per_image tokens, Gemma RMSNorm (mm_soft_emb_norm, (1 + w), the
 * vision layer_norm_eps), and a matmul with mm_input_projection_weight stored
 * [vision width, text width]. (The text decoder of the same checkpoints is a
 * family of its own.) */
#include "models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    mg_trunk t;                       /* first: the trunk ops apply */
    mg_nn_weight proj;                /* [vision D, text D] */
    float *soft_norm;
    int mm_tokens, text_dim;
} gemma3_vision;

static int load_parts(mg_ckpt *ck, void *state)
{
    gemma3_vision *g = state;
    const mg_cfg *cfg = mg_ckpt_config(ck);
    /* Original checkpoints use vision_tower./multi_modal_projector.; newer saves put
     * both under model. (transformers' checkpoint conversion mapping). */
    const char *vp = "vision_tower.vision_model.", *pp = "multi_modal_projector.";
    mg_ckpt_set_prefix(ck, vp);
    if (!mg_ckpt_has(ck, "post_layernorm.weight")) {
        vp = "model.vision_tower.vision_model.";
        pp = "model.multi_modal_projector.";
    }
    mg_ckpt_set_prefix(ck, vp);
    int use_head;
    if (mg_siglip_tower_load(ck, mg_cfg_sub(cfg, "vision_config"), &g->t, &use_head) < 0) return -1;
    static const char *const ignore[] = { "head.", NULL };
    if (mg_ckpt_check_unused(ck, vp, ignore) < 0) return -1;
    if (mg_cfg_int(ck, cfg, "mm_tokens_per_image", 256, &g->mm_tokens) < 0 ||
        mg_cfg_int(ck, mg_cfg_sub(cfg, "text_config"), "hidden_size", 2560, &g->text_dim) < 0)
        return -1;
    int side = (int)lround(sqrt((double)g->mm_tokens));
    if (side < 1 || side * side != g->mm_tokens || g->t.pos_grid % side) {
        mg_ckpt_error(ck, "config.json: mm_tokens_per_image %d does not pool the %dx%d patch grid",
                      g->mm_tokens, g->t.pos_grid, g->t.pos_grid);
        return -1;
    }
    mg_ckpt_set_prefix(ck, pp);
    if (mg_ckpt_matrix(ck, "mm_input_projection_weight", g->t.dim, g->text_dim, &g->proj) < 0 ||
        !(g->soft_norm = mg_ckpt_vec(ck, "mm_soft_emb_norm.weight", g->t.dim))) return -1;
    return mg_ckpt_check_unused(ck, pp, NULL);
}

static mg_output default_output(const void *state)
{
    (void)state;
    return MG_OUT_PROJECTED;
}

static int output_shape(const void *state, mg_output kind, int ndim, const int64_t *in_shape,
                        int64_t out_shape[2], char *err, size_t errlen)
{
    const gemma3_vision *g = state;
    if (mg_trunk_check(&g->t, ndim, in_shape, err, errlen) < 0) return -1;
    if (kind == MG_OUT_POOLED) return mg_trunk_no_pooled(&g->t, " or projected", err, errlen);
    if (kind == MG_OUT_PROJECTED) {
        out_shape[0] = g->mm_tokens;
        out_shape[1] = g->text_dim;
        return 2;
    }
    return mg_trunk_output_shape(&g->t, kind, (int)in_shape[1], (int)in_shape[2], out_shape,
                                 err, errlen);
}

static int project(const gemma3_vision *g, const mg_nn_ctx *ctx, const float *x, int batch,
                   int grid_h, int grid_w, float *out)
{
    int side = (int)lround(sqrt((double)g->mm_tokens)), k = grid_h / side;
    int64_t D = g->t.dim, n = (int64_t)grid_h * grid_w, T = (int64_t)batch * g->mm_tokens;
    float *pool = calloc((size_t)(T * D), sizeof(float));
    if (!pool) return -1;
    /* AvgPool2d(k, k) over the [D, grid, grid] map: token R·side + C averages patch
     * rows kR … kR+k−1 and columns kC … kC+k−1. */
    float inv = 1.0f / (float)(k * k);
    for (int b = 0; b < batch; b++)
        for (int r = 0; r < grid_h; r++)
            for (int c = 0; c < grid_w; c++) {
                const float *src = x + ((int64_t)b * n + (int64_t)r * grid_w + c) * D;
                float *dst = pool + ((int64_t)b * g->mm_tokens + (r / k) * side + c / k) * D;
                for (int64_t d = 0; d < D; d++) dst[d] += src[d];
            }
    for (int64_t i = 0; i < T * D; i++) pool[i] *= inv;
    mg_nn_rms_norm_gemma(ctx, pool, pool, T, D, g->soft_norm, g->t.eps);
    int rc = mg_mm_in_out(g->t.mm, ctx, pool, T, &g->proj, out);
    free(pool);
    return rc;
}

static int head(const void *state, const mg_nn_ctx *ctx, mg_output kind, const float *x,
                int batch, int64_t n_tok, int gh, int gw, float *out)
{
    if (kind == MG_OUT_PROJECTED) return project(state, ctx, x, batch, gh, gw, out);
    return mg_trunk_reduce(state, ctx, kind, x, batch, n_tok, gh, gw, out);
}

MG_TRUNK_FAMILY(gemma3_vision, "gemma3-vision", gemma3_vision, load_parts, default_output,
                output_shape, head, "gemma3");

/* gemma3_projector.c: the vision side of Gemma 3 (transformers modeling_gemma3.py):
 * the SigLIP tower without its head, then Gemma3MultiModalProjector: average
 * pooling of the patch grid to mm_tokens_per_image tokens, Gemma RMSNorm
 * (mm_soft_emb_norm, (1 + w), the vision layer_norm_eps), and a matmul with
 * mm_input_projection_weight stored [vision width, text width]. */
#include "models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mg_gemma3_load(mg_loader *L, json_t *cfg)
{
    mg_model *m = L->m;
    json_t *v = json_object_get(cfg, "vision_config"), *tc = json_object_get(cfg, "text_config");
    /* Original checkpoints use vision_tower./multi_modal_projector.; newer saves put
     * both under model. (transformers' checkpoint conversion mapping). */
    const char *vp = "vision_tower.vision_model.", *pp = "multi_modal_projector.";
    snprintf(L->prefix, sizeof L->prefix, "%s", vp);
    if (!mg_load_has(L, "post_layernorm.weight")) {
        vp = "model.vision_tower.vision_model.";
        pp = "model.multi_modal_projector.";
    }
    snprintf(L->prefix, sizeof L->prefix, "%s", vp);
    if (mg_siglip_load(L, v, 0) < 0) return -1;
    static const char *const ignore[] = { "head.", NULL };
    if (mg_load_check_unused(L, vp, ignore) < 0) return -1;
    if (mg_cfg_int(L, cfg, "mm_tokens_per_image", 256, &m->mm_tokens) < 0 ||
        mg_cfg_int(L, tc, "hidden_size", 2560, &m->text_dim) < 0) return -1;
    int side = (int)lround(sqrt((double)m->mm_tokens));
    if (side < 1 || side * side != m->mm_tokens || m->t.pos_grid % side) {
        mg_load_error(L, "config.json: mm_tokens_per_image %d does not pool the %dx%d patch grid",
                      m->mm_tokens, m->t.pos_grid, m->t.pos_grid);
        return -1;
    }
    snprintf(L->prefix, sizeof L->prefix, "%s", pp);
    if (mg_load_matrix(L, "mm_input_projection_weight", m->t.dim, m->text_dim, &m->proj) < 0 ||
        !(m->soft_norm = mg_load_vec(L, "mm_soft_emb_norm.weight", m->t.dim))) return -1;
    return mg_load_check_unused(L, pp, NULL);
}

int mg_gemma3_project(const mg_model *m, const mg_nn_ctx *ctx, const float *x, int batch,
                      int grid_h, int grid_w, float *out)
{
    int side = (int)lround(sqrt((double)m->mm_tokens)), k = grid_h / side;
    int64_t D = m->t.dim, n = (int64_t)grid_h * grid_w, T = (int64_t)batch * m->mm_tokens;
    float *pool = calloc((size_t)(T * D), sizeof(float));
    if (!pool) return -1;
    /* AvgPool2d(k, k) over the [D, grid, grid] map: token R·side + C averages patch
     * rows kR … kR+k−1 and columns kC … kC+k−1. */
    float inv = 1.0f / (float)(k * k);
    for (int b = 0; b < batch; b++)
        for (int r = 0; r < grid_h; r++)
            for (int c = 0; c < grid_w; c++) {
                const float *src = x + ((int64_t)b * n + (int64_t)r * grid_w + c) * D;
                float *dst = pool + ((int64_t)b * m->mm_tokens + (r / k) * side + c / k) * D;
                for (int64_t d = 0; d < D; d++) dst[d] += src[d];
            }
    for (int64_t i = 0; i < T * D; i++) pool[i] *= inv;
    mg_nn_rms_norm_gemma(ctx, pool, pool, T, D, m->soft_norm, m->t.eps);
    int rc = mg_mm_in_out(m->mm, ctx, pool, T, &m->proj, out);
    free(pool);
    return rc;
}

/* vit.c: the vit family (transformers modeling_vit.py): CLS token, learned
 * position embedding, pre-LN layers (layernorm_before / layernorm_after) with
 * exact GELU by default, final LayerNorm; pooled output is the CLS row after the
 * final norm (the optional tanh pooler.dense is not applied). The state is a
 * bare mg_trunk. */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>

static int load_parts(mg_ckpt *ck, void *state)
{
    mg_trunk *t = state;
    const mg_cfg *cfg = mg_ckpt_config(ck);
    double eps;
    int qkv_bias;
    /* ViTConfig defaults (transformers). */
    static const mg_trunk_defaults def = { 768, 12, 12, 3072, 16, 1e-12, "gelu" };
    if (mg_trunk_read_config(ck, cfg, &def, t, &eps) < 0 ||
        mg_cfg_bool(ck, cfg, "qkv_bias", 1, &qkv_bias) < 0) return -1;
    if (mg_trunk_check_config(ck, t, t->ffn != 0, "") < 0) return -1;
    t->eps = (float)eps;
    t->pos_mode = MG_POS_EXACT;
    mg_trunk_pick_prefix(ck, "vit.");
    int64_t D = t->dim, F = t->ffn;
    if (mg_trunk_load_cls_embeddings(ck, t) < 0 || mg_trunk_alloc_layers(ck, t) < 0) return -1;
    char nm[256];
    for (int i = 0; i < t->layers; i++) {
        mg_vit_block *l = &t->layer[i];
        if (mg_trunk_load_hf_attention(ck, t, i, qkv_bias, l) < 0 ||
            !(l->ln1_w = mg_trunk_load_layer_vec(ck, t, i, "layernorm_before.weight")) ||
            !(l->ln1_b = mg_trunk_load_layer_vec(ck, t, i, "layernorm_before.bias")) ||
            !(l->ln2_w = mg_trunk_load_layer_vec(ck, t, i, "layernorm_after.weight")) ||
            !(l->ln2_b = mg_trunk_load_layer_vec(ck, t, i, "layernorm_after.bias"))) return -1;
        snprintf(nm, sizeof nm, "encoder.layer.%d.intermediate.dense", i);
        if (mg_ckpt_linear(ck, nm, F, D, 1, &l->fc1, (float **)&l->fc1_b) < 0) return -1;
        snprintf(nm, sizeof nm, "encoder.layer.%d.output.dense", i);
        if (mg_ckpt_linear(ck, nm, D, F, 1, &l->fc2, (float **)&l->fc2_b) < 0) return -1;
    }
    if (!(t->post_w = mg_ckpt_vec(ck, "layernorm.weight", D)) ||
        !(t->post_b = mg_ckpt_vec(ck, "layernorm.bias", D))) return -1;
    static const char *const ignore[] = { "pooler.", "embeddings.mask_token", NULL };
    return mg_ckpt_check_unused(ck, mg_ckpt_prefix(ck), ignore);
}

MG_TRUNK_FAMILY(vit, "vit", mg_trunk, load_parts, mg_trunk_ops_pooled, mg_trunk_ops_output_shape,
                mg_trunk_reduce, "vit");

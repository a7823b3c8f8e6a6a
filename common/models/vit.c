/* vit.c: the vit family (transformers modeling_vit.py): CLS token, learned
 * position embedding, pre-LN layers (layernorm_before / layernorm_after) with
 * exact GELU by default, final LayerNorm; pooled output is the CLS row after the
 * final norm (the optional tanh pooler.dense is not applied). The state is a
 * bare mg_trunk. */
#include "models.h"
#include "../mg_family.h"

#include <stdio.h>
#include <stdlib.h>

static int load_parts(mg_ckpt *ck, void *state)
{
    mg_trunk *t = state;
    const mg_cfg *cfg = mg_ckpt_config(ck);
    double eps;
    int qkv_bias;
    /* ViTConfig defaults (transformers). */
    if (mg_cfg_int(ck, cfg, "hidden_size", 768, &t->dim) < 0 ||
        mg_cfg_int(ck, cfg, "num_hidden_layers", 12, &t->layers) < 0 ||
        mg_cfg_int(ck, cfg, "num_attention_heads", 12, &t->heads) < 0 ||
        mg_cfg_int(ck, cfg, "intermediate_size", 3072, &t->ffn) < 0 ||
        mg_cfg_int(ck, cfg, "num_channels", 3, &t->channels) < 0 ||
        mg_cfg_int(ck, cfg, "image_size", 224, &t->image_size) < 0 ||
        mg_cfg_int(ck, cfg, "patch_size", 16, &t->patch) < 0 ||
        mg_cfg_num(ck, cfg, "layer_norm_eps", 1e-12, &eps) < 0 ||
        mg_cfg_act(ck, cfg, "hidden_act", "gelu", &t->act) < 0 ||
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

static void *load(mg_ckpt *ck, char *err, size_t errlen)
{
    (void)err; (void)errlen;        /* errors go through the checkpoint */
    return mg_trunk_load_state(ck, sizeof(mg_trunk), load_parts);
}

static const mg_encoder_ops ops = {
    .input_ndim = 3,
    .load = load,
    .free = mg_trunk_ops_free,
    .default_output = mg_trunk_ops_pooled,
    .input_shape = mg_trunk_ops_input_shape,
    .output_shape = mg_trunk_ops_output_shape,
    .forward = mg_trunk_ops_forward,
};

static const char *const types[] = { "vit", NULL };
const mg_family mg_family_vit = { "vit", MG_ROLE_ENCODER, types, &ops };

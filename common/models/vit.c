/* vit.c: ViT (transformers modeling_vit.py): CLS token, learned position
 * embedding, pre-LN layers (layernorm_before / layernorm_after) with exact GELU
 * by default, final LayerNorm; pooled output is the CLS row after the final
 * norm (the optional tanh pooler.dense is not applied). */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>

int mg_vit_load(mg_loader *L, json_t *cfg)
{
    mg_trunk *t = &L->m->t;
    double eps;
    int qkv_bias;
    /* ViTConfig defaults (transformers). */
    if (mg_cfg_int(L, cfg, "hidden_size", 768, &t->dim) < 0 ||
        mg_cfg_int(L, cfg, "num_hidden_layers", 12, &t->layers) < 0 ||
        mg_cfg_int(L, cfg, "num_attention_heads", 12, &t->heads) < 0 ||
        mg_cfg_int(L, cfg, "intermediate_size", 3072, &t->ffn) < 0 ||
        mg_cfg_int(L, cfg, "num_channels", 3, &t->channels) < 0 ||
        mg_cfg_int(L, cfg, "image_size", 224, &t->image_size) < 0 ||
        mg_cfg_int(L, cfg, "patch_size", 16, &t->patch) < 0 ||
        mg_cfg_num(L, cfg, "layer_norm_eps", 1e-12, &eps) < 0 ||
        mg_cfg_act(L, cfg, "hidden_act", "gelu", &t->act) < 0 ||
        mg_cfg_bool(L, cfg, "qkv_bias", 1, &qkv_bias) < 0) return -1;
    if (!t->dim || !t->heads || t->dim % t->heads || !t->patch || t->image_size < t->patch ||
        !t->channels || !t->layers || !t->ffn) {
        mg_load_error(L, "config.json: inconsistent sizes (hidden_size %d, heads %d, patch %d, "
                      "image %d)", t->dim, t->heads, t->patch, t->image_size);
        return -1;
    }
    t->eps = (float)eps;
    t->pos_mode = MG_POS_EXACT;
    mg_trunk_pick_prefix(L, "vit.");
    int64_t D = t->dim, F = t->ffn;
    if (mg_trunk_load_cls_embeddings(L) < 0) return -1;
    t->layer = calloc((size_t)t->layers, sizeof *t->layer);
    if (!t->layer) { mg_load_error(L, "out of memory"); return -1; }
    char nm[256];
    for (int i = 0; i < t->layers; i++) {
        mg_nn_layer *l = &t->layer[i];
        if (mg_trunk_load_hf_attention(L, i, qkv_bias, l) < 0 ||
            !(l->ln1_w = mg_trunk_load_layer_vec(L, i, "layernorm_before.weight")) ||
            !(l->ln1_b = mg_trunk_load_layer_vec(L, i, "layernorm_before.bias")) ||
            !(l->ln2_w = mg_trunk_load_layer_vec(L, i, "layernorm_after.weight")) ||
            !(l->ln2_b = mg_trunk_load_layer_vec(L, i, "layernorm_after.bias"))) return -1;
        snprintf(nm, sizeof nm, "encoder.layer.%d.intermediate.dense", i);
        if (mg_load_linear(L, nm, F, D, 1, &l->fc1, (float **)&l->fc1_b) < 0) return -1;
        snprintf(nm, sizeof nm, "encoder.layer.%d.output.dense", i);
        if (mg_load_linear(L, nm, D, F, 1, &l->fc2, (float **)&l->fc2_b) < 0) return -1;
    }
    if (!(t->post_w = mg_load_vec(L, "layernorm.weight", D)) ||
        !(t->post_b = mg_load_vec(L, "layernorm.bias", D))) return -1;
    static const char *const ignore[] = { "pooler.", "embeddings.mask_token", NULL };
    return mg_load_check_unused(L, L->prefix, ignore);
}

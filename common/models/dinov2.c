/* dinov2.c: DINOv2 (transformers modeling_dinov2.py / modeling_dinov2_with_registers.py):
 * CLS token, optional register tokens inserted after the position embedding,
 * layer scale on both residual branches, exact-GELU or SwiGLU MLP, final
 * LayerNorm; pooled output is the CLS row. Other input sizes interpolate the
 * patch position embeddings bicubically (antialiased in the registers variant,
 * as transformers does). */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>

int mg_dinov2_load(mg_loader *L, json_t *cfg, int registers)
{
    mg_trunk *t = &L->m->t;
    double eps, ratio;
    int qkv_bias, swiglu;
    /* Dinov2Config defaults (transformers). */
    if (mg_cfg_int(L, cfg, "hidden_size", 768, &t->dim) < 0 ||
        mg_cfg_int(L, cfg, "num_hidden_layers", 12, &t->layers) < 0 ||
        mg_cfg_int(L, cfg, "num_attention_heads", 12, &t->heads) < 0 ||
        mg_cfg_num(L, cfg, "mlp_ratio", 4.0, &ratio) < 0 ||
        mg_cfg_int(L, cfg, "num_channels", 3, &t->channels) < 0 ||
        mg_cfg_int(L, cfg, "image_size", 224, &t->image_size) < 0 ||
        mg_cfg_int(L, cfg, "patch_size", 14, &t->patch) < 0 ||
        mg_cfg_num(L, cfg, "layer_norm_eps", 1e-12, &eps) < 0 ||
        mg_cfg_act(L, cfg, "hidden_act", "gelu", &t->act) < 0 ||
        mg_cfg_bool(L, cfg, "qkv_bias", 1, &qkv_bias) < 0 ||
        mg_cfg_bool(L, cfg, "use_swiglu_ffn", 0, &swiglu) < 0 ||
        mg_cfg_int(L, cfg, "num_register_tokens", registers ? 4 : 0, &t->n_reg) < 0) return -1;
    if (!t->dim || !t->heads || t->dim % t->heads || !t->patch || t->image_size < t->patch ||
        !t->channels || !t->layers || ratio <= 0) {
        mg_load_error(L, "config.json: inconsistent sizes (hidden_size %d, heads %d, patch %d, "
                      "image %d)", t->dim, t->heads, t->patch, t->image_size);
        return -1;
    }
    if (!registers) t->n_reg = 0;
    t->eps = (float)eps;
    t->ffn = (int)(t->dim * ratio);
    if (swiglu) {
        /* Dinov2SwiGLUFFN: hidden = int(int(D·ratio)·2/3) rounded up to a multiple of 8 */
        t->ffn = ((int)(t->ffn * 2 / 3.0) + 7) / 8 * 8;
        t->act = MG_ACT_SWIGLU;
    }
    t->pos_mode = registers ? MG_POS_BICUBIC_AA : MG_POS_BICUBIC;
    mg_trunk_pick_prefix(L, registers ? "dinov2_with_registers." : "dinov2.");
    int64_t D = t->dim, F = t->ffn;
    if (mg_trunk_load_cls_embeddings(L) < 0) return -1;
    if (t->n_reg) {
        int64_t rd[3] = { 1, t->n_reg, D };
        if (!(t->reg = mg_load_f32(L, "embeddings.register_tokens", 3, rd))) return -1;
    }
    int64_t md[2] = { 1, D };
    if (mg_load_has(L, "embeddings.mask_token") && !mg_load_f32(L, "embeddings.mask_token", 2, md))
        return -1;
    t->layer = calloc((size_t)t->layers, sizeof *t->layer);
    if (!t->layer) { mg_load_error(L, "out of memory"); return -1; }
    char nm[256];
    for (int i = 0; i < t->layers; i++) {
        mg_nn_layer *l = &t->layer[i];
        if (mg_trunk_load_hf_attention(L, i, qkv_bias, l) < 0 ||
            !(l->ln1_w = mg_trunk_load_layer_vec(L, i, "norm1.weight")) ||
            !(l->ln1_b = mg_trunk_load_layer_vec(L, i, "norm1.bias")) ||
            !(l->ln2_w = mg_trunk_load_layer_vec(L, i, "norm2.weight")) ||
            !(l->ln2_b = mg_trunk_load_layer_vec(L, i, "norm2.bias")) ||
            !(l->ls1 = mg_trunk_load_layer_vec(L, i, "layer_scale1.lambda1")) ||
            !(l->ls2 = mg_trunk_load_layer_vec(L, i, "layer_scale2.lambda1"))) return -1;
        if (swiglu) {
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.weights_in", i);
            if (mg_load_linear(L, nm, 2 * F, D, 1, &l->fc1, (float **)&l->fc1_b) < 0) return -1;
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.weights_out", i);
        } else {
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.fc1", i);
            if (mg_load_linear(L, nm, F, D, 1, &l->fc1, (float **)&l->fc1_b) < 0) return -1;
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.fc2", i);
        }
        if (mg_load_linear(L, nm, D, F, 1, &l->fc2, (float **)&l->fc2_b) < 0) return -1;
    }
    if (!(t->post_w = mg_load_vec(L, "layernorm.weight", D)) ||
        !(t->post_b = mg_load_vec(L, "layernorm.bias", D))) return -1;
    return mg_load_check_unused(L, L->prefix, NULL);
}

/* dinov2.c: the dinov2 family (transformers modeling_dinov2.py /
 * modeling_dinov2_with_registers.py): CLS token, optional register tokens
 * inserted after the position embedding, layer scale on both residual branches,
 * exact-GELU or SwiGLU MLP, final LayerNorm; pooled output is the CLS row.
 * Other input sizes interpolate the patch position embeddings bicubically
 * (antialiased in the registers variant, as transformers does). The state is a
 * bare mg_trunk. */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_parts(mg_ckpt *ck, void *state)
{
    mg_trunk *t = state;
    const mg_cfg *cfg = mg_ckpt_config(ck);
    int registers = strcmp(mg_ckpt_model_type(ck), "dinov2_with_registers") == 0;
    double eps, ratio;
    int qkv_bias, swiglu;
    /* Dinov2Config defaults (transformers); the MLP width comes from mlp_ratio. */
    static const mg_trunk_defaults def = { 768, 12, 12, -1, 14, 1e-12, "gelu" };
    if (mg_trunk_read_config(ck, cfg, &def, t, &eps) < 0 ||
        mg_cfg_num(ck, cfg, "mlp_ratio", 4.0, &ratio) < 0 ||
        mg_cfg_bool(ck, cfg, "qkv_bias", 1, &qkv_bias) < 0 ||
        mg_cfg_bool(ck, cfg, "use_swiglu_ffn", 0, &swiglu) < 0 ||
        mg_cfg_int(ck, cfg, "num_register_tokens", registers ? 4 : 0, &t->n_reg) < 0) return -1;
    if (mg_trunk_check_config(ck, t, ratio > 0, "") < 0) return -1;
    if (!registers) t->n_reg = 0;
    t->eps = (float)eps;
    t->ffn = (int)(t->dim * ratio);
    if (swiglu) {
        /* Dinov2SwiGLUFFN: hidden = int(int(D·ratio)·2/3) rounded up to a multiple of 8 */
        t->ffn = ((int)(t->ffn * 2 / 3.0) + 7) / 8 * 8;
        t->act = MG_ACT_SWIGLU;
    }
    t->pos_mode = registers ? MG_POS_BICUBIC_AA : MG_POS_BICUBIC;
    mg_trunk_pick_prefix(ck, registers ? "dinov2_with_registers." : "dinov2.");
    int64_t D = t->dim, F = t->ffn;
    if (mg_trunk_load_cls_embeddings(ck, t) < 0) return -1;
    if (t->n_reg) {
        int64_t rd[3] = { 1, t->n_reg, D };
        if (!(t->reg = mg_ckpt_f32(ck, "embeddings.register_tokens", 3, rd))) return -1;
    }
    int64_t md[2] = { 1, D };
    if (mg_ckpt_has(ck, "embeddings.mask_token") && !mg_ckpt_f32(ck, "embeddings.mask_token", 2, md))
        return -1;
    if (mg_trunk_alloc_layers(ck, t) < 0) return -1;
    char nm[256];
    for (int i = 0; i < t->layers; i++) {
        mg_vit_block *l = &t->layer[i];
        if (mg_trunk_load_hf_attention(ck, t, i, qkv_bias, l) < 0 ||
            !(l->ln1_w = mg_trunk_load_layer_vec(ck, t, i, "norm1.weight")) ||
            !(l->ln1_b = mg_trunk_load_layer_vec(ck, t, i, "norm1.bias")) ||
            !(l->ln2_w = mg_trunk_load_layer_vec(ck, t, i, "norm2.weight")) ||
            !(l->ln2_b = mg_trunk_load_layer_vec(ck, t, i, "norm2.bias")) ||
            !(l->ls1 = mg_trunk_load_layer_vec(ck, t, i, "layer_scale1.lambda1")) ||
            !(l->ls2 = mg_trunk_load_layer_vec(ck, t, i, "layer_scale2.lambda1"))) return -1;
        if (swiglu) {
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.weights_in", i);
            if (mg_ckpt_linear(ck, nm, 2 * F, D, 1, &l->fc1, (float **)&l->fc1_b) < 0) return -1;
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.weights_out", i);
        } else {
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.fc1", i);
            if (mg_ckpt_linear(ck, nm, F, D, 1, &l->fc1, (float **)&l->fc1_b) < 0) return -1;
            snprintf(nm, sizeof nm, "encoder.layer.%d.mlp.fc2", i);
        }
        if (mg_ckpt_linear(ck, nm, D, F, 1, &l->fc2, (float **)&l->fc2_b) < 0) return -1;
    }
    if (!(t->post_w = mg_ckpt_vec(ck, "layernorm.weight", D)) ||
        !(t->post_b = mg_ckpt_vec(ck, "layernorm.bias", D))) return -1;
    return mg_ckpt_check_unused(ck, mg_ckpt_prefix(ck), NULL);
}

MG_TRUNK_FAMILY(dinov2, "dinov2", mg_trunk, load_parts, mg_trunk_ops_pooled,
                mg_trunk_ops_output_shape, mg_trunk_reduce, "dinov2", "dinov2_with_registers");

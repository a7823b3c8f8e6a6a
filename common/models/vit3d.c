/* vit3d.c: the 3D Vision Transformer of MONAI (monai.networks.nets.ViT) and
 * the vision side of M3D-CLIP (LaMed/src/model/CLIP.py), which is that ViT
 * under "vision_encoder." with a linear projection "mm_vision_proj" beside it.
 *
 * PatchEmbeddingBlock: proj_type "conv" is a Conv3d with kernel = stride =
 * patch (weight [D, C, pd, ph, pw], tokens in (d, h, w) order after
 * flatten(2)); "perceptron" flattens patches with einops
 * "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)" (channel fastest) and
 * applies a Linear (patch_embeddings.1). Learned position embeddings are
 * added to the patch tokens; the CLS token (classification=True) is
 * prepended after that, without a position. TransformerBlock: pre-LN,
 * x += out_proj(SA(norm1(x))), x += linear2(GELU(linear1(norm2(x)))); the
 * fused qkv Linear (bias=qkv_bias, False by default) packs q, k, v as
 * "(qkv l d)". LayerNorm eps 1e-5 (torch default); final `norm`.
 * Current MONAI also saves cross_attn.* / norm_cross_attn.* for blocks built
 * without cross-attention: present and unused.
 * M3D-CLIP encode_image = F.normalize(mm_vision_proj(ViT(x)), dim=-1); its
 * CLS row is the image embedding ("projected" here). */
#include "models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char type[64];
    int m3d;
    int C, img[3], patch[3], grid[3];
    int dim, heads, ffn, layers;
    float eps;
    int perceptron, has_cls, interp;
    mg_nn_weight patch_w;
    float *patch_b, *pos, *cls, *norm_w, *norm_b;
    mg_vit_block *layer;
    mg_nn_weight proj;
    float *proj_b;
    mg_mm *mm;                      /* matmul back end of the blocks (NULL: fp32) */
} vit3d;

static void vit3d_free(void *p)
{
    vit3d *v = p;
    if (!v) return;
    mg_mm_free(v->mm);
    free(v->layer);
    free(v);
}

static void *vit3d_load(mg_ckpt *ck, char *err, size_t errlen)
{
    (void)err; (void)errlen;        /* errors go through the checkpoint */
    const mg_cfg *cfg = mg_ckpt_config(ck);
    vit3d *v = calloc(1, sizeof *v);
    char **ign = NULL;
    if (!v) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    snprintf(v->type, sizeof v->type, "%s", mg_ckpt_model_type(ck));
    v->m3d = strcmp(v->type, "m3d_clip") == 0;
    /* Defaults: MONAI ViT's constructor; M3DCLIPConfig for m3d_clip. */
    static const int img_def[3] = { 32, 256, 256 }, patch_def[3] = { 4, 16, 16 },
                     img_monai[3] = { 96, 96, 96 }, patch_monai[3] = { 16, 16, 16 };
    double eps;
    int qkv_bias;
    const char *proj = NULL, *interp = NULL;
    /* MONAI < 1.3 and M3D call proj_type pos_embed */
    if (mg_cfg_str(ck, cfg, "pos_embed", v->m3d ? "perceptron" : "conv", &proj) < 0 ||
        mg_cfg_str(ck, cfg, "proj_type", proj, &proj) < 0 ||
        mg_cfg_str(ck, cfg, "pos_embed_interpolation", "none", &interp) < 0) goto fail;
    if (mg_cfg_int(ck, cfg, "in_channels", v->m3d ? 1 : 1, &v->C) < 0 ||
        mg_cfg_ints(ck, cfg, "img_size", 3, v->m3d ? img_def : img_monai, v->img) < 0 ||
        mg_cfg_ints(ck, cfg, "patch_size", 3, v->m3d ? patch_def : patch_monai, v->patch) < 0 ||
        mg_cfg_int(ck, cfg, "hidden_size", 768, &v->dim) < 0 ||
        mg_cfg_int(ck, cfg, "mlp_dim", 3072, &v->ffn) < 0 ||
        mg_cfg_int(ck, cfg, "num_layers", 12, &v->layers) < 0 ||
        mg_cfg_int(ck, cfg, "num_heads", 12, &v->heads) < 0 ||
        mg_cfg_bool(ck, cfg, "classification", v->m3d, &v->has_cls) < 0 ||
        mg_cfg_bool(ck, cfg, "qkv_bias", 0, &qkv_bias) < 0 ||
        mg_cfg_num(ck, cfg, "layer_norm_eps", 1e-5, &eps) < 0) goto fail;
    int sd;
    if (mg_cfg_int(ck, cfg, "spatial_dims", 3, &sd) < 0) goto fail;
    if (sd != 3) { mg_ckpt_error(ck, "config.json: spatial_dims %d; this family is 3D", sd); goto fail; }
    if (v->m3d) v->has_cls = 1;     /* M3D-CLIP builds its ViT with classification=True */
    if (strcmp(proj, "conv") == 0) v->perceptron = 0;
    else if (strcmp(proj, "perceptron") == 0) v->perceptron = 1;
    else { mg_ckpt_error(ck, "config.json: unsupported proj_type '%s' (conv, perceptron)", proj); goto fail; }
    if (strcmp(interp, "trilinear") == 0) v->interp = 1;
    else if (strcmp(interp, "none") != 0) {
        mg_ckpt_error(ck, "config.json: unsupported pos_embed_interpolation '%s' (none, trilinear)", interp);
        goto fail;
    }
    if (!v->dim || !v->heads || v->dim % v->heads || !v->C || !v->layers || !v->ffn) {
        mg_ckpt_error(ck, "config.json: inconsistent sizes (hidden_size %d, num_heads %d)", v->dim, v->heads);
        goto fail;
    }
    for (int a = 0; a < 3; a++) {
        if (v->img[a] < v->patch[a] || (v->perceptron && v->img[a] % v->patch[a])) {
            mg_ckpt_error(ck, "config.json: img_size %dx%dx%d does not fit patch_size %dx%dx%d",
                          v->img[0], v->img[1], v->img[2], v->patch[0], v->patch[1], v->patch[2]);
            goto fail;
        }
        v->grid[a] = v->img[a] / v->patch[a];
    }
    v->eps = (float)eps;
    const char *pfx = v->m3d ? "vision_encoder." : "";
    mg_ckpt_set_prefix(ck, pfx);
    int64_t D = v->dim, F = v->ffn, C = v->C, np = (int64_t)v->grid[0] * v->grid[1] * v->grid[2];
    int64_t K = C * v->patch[0] * v->patch[1] * v->patch[2];
    if (v->perceptron) {
        if (mg_ckpt_linear(ck, "patch_embedding.patch_embeddings.1", D, K, 1, &v->patch_w, &v->patch_b) < 0)
            goto fail;
    } else {
        int64_t cd[5] = { D, C, v->patch[0], v->patch[1], v->patch[2] };
        const mg_st_tensor *pw = mg_ckpt_tensor(ck, "patch_embedding.patch_embeddings.weight", 5, cd);
        if (!pw) goto fail;
        v->patch_w = (mg_nn_weight){ pw->dtype, pw->data, D, K };
        if (!(v->patch_b = mg_ckpt_vec(ck, "patch_embedding.patch_embeddings.bias", D))) goto fail;
    }
    int64_t pd[3] = { 1, np, D }, cd[3] = { 1, 1, D };
    if (!(v->pos = mg_ckpt_f32(ck, "patch_embedding.position_embeddings", 3, pd))) goto fail;
    if (v->has_cls && !(v->cls = mg_ckpt_f32(ck, "cls_token", 3, cd))) goto fail;
    v->layer = calloc((size_t)v->layers, sizeof *v->layer);
    ign = calloc((size_t)(2 * v->layers + 3), sizeof *ign);
    if (!v->layer || !ign) { mg_ckpt_error(ck, "out of memory"); goto fail; }
    char nm[256];
    for (int i = 0; i < v->layers; i++) {
        mg_vit_block *l = &v->layer[i];
        const mg_st_tensor *qkv;
        int64_t qd[2] = { 3 * D, D };
        snprintf(nm, sizeof nm, "blocks.%d.attn.qkv.weight", i);
        if (!(qkv = mg_ckpt_tensor(ck, nm, 2, qd))) goto fail;
        /* "(qkv l d)": rows [0, D) are q, [D, 2D) k, [2D, 3D) v. */
        size_t es = mg_dtype_size(qkv->dtype);
        l->q = (mg_nn_weight){ qkv->dtype, qkv->data, D, D };
        l->k = (mg_nn_weight){ qkv->dtype, (const char *)qkv->data + (size_t)(D * D) * es, D, D };
        l->v = (mg_nn_weight){ qkv->dtype, (const char *)qkv->data + (size_t)(2 * D * D) * es, D, D };
        if (qkv_bias) {
            snprintf(nm, sizeof nm, "blocks.%d.attn.qkv.bias", i);
            float *b = mg_ckpt_vec(ck, nm, 3 * D);
            if (!b) goto fail;
            l->q_b = b;
            l->k_b = b + D;
            l->v_b = b + 2 * D;
        }
#define LIN(field, bfield, sub, o, in) \
        (snprintf(nm, sizeof nm, "blocks.%d.%s", i, sub), \
         mg_ckpt_linear(ck, nm, o, in, 1, &l->field, (float **)&l->bfield))
#define VEC(field, sub) \
        (snprintf(nm, sizeof nm, "blocks.%d.%s", i, sub), (l->field = mg_ckpt_vec(ck, nm, D)) != NULL)
        if (LIN(o, o_b, "attn.out_proj", D, D) < 0 || LIN(fc1, fc1_b, "mlp.linear1", F, D) < 0 ||
            LIN(fc2, fc2_b, "mlp.linear2", D, F) < 0 ||
            !VEC(ln1_w, "norm1.weight") || !VEC(ln1_b, "norm1.bias") ||
            !VEC(ln2_w, "norm2.weight") || !VEC(ln2_b, "norm2.bias")) goto fail;
#undef LIN
#undef VEC
        char a[64], b[64];
        snprintf(a, sizeof a, "blocks.%d.cross_attn.", i);
        snprintf(b, sizeof b, "blocks.%d.norm_cross_attn.", i);
        if (!(ign[2 * i] = strdup(a)) || !(ign[2 * i + 1] = strdup(b))) {
            mg_ckpt_error(ck, "out of memory");
            goto fail;
        }
    }
    ign[2 * v->layers] = "classification_head.";
    if (!(v->norm_w = mg_ckpt_vec(ck, "norm.weight", D)) || !(v->norm_b = mg_ckpt_vec(ck, "norm.bias", D)) ||
        mg_ckpt_check_unused(ck, pfx, (const char *const *)ign) < 0) goto fail;
    if (v->m3d) {
        mg_ckpt_set_prefix(ck, "");
        if (mg_ckpt_linear(ck, "mm_vision_proj", D, D, 1, &v->proj, &v->proj_b) < 0 ||
            mg_ckpt_check_unused(ck, "mm_vision_proj.", NULL) < 0) goto fail;
    }
    for (int i = 0; i < 2 * v->layers; i++) free(ign[i]);
    free(ign);
    return v;
fail:
    if (ign) for (int i = 0; i < 2 * v->layers; i++) free(ign[i]);
    free(ign);
    vit3d_free(v);
    return NULL;
}

static mg_output vit3d_default_output(const void *p)
{
    const vit3d *v = p;
    return v->m3d ? MG_OUT_PROJECTED : v->has_cls ? MG_OUT_POOLED : MG_OUT_MEAN;
}

/* The patch grid of a [C, D, H, W] input, or -1 with err. */
static int vit3d_grid(const vit3d *v, int ndim, const int64_t *s, int g[3], char *err, size_t errlen)
{
    if (ndim != 4) {
        mg_seterr(err, errlen, "%s: input must be a volume [C,D,H,W] (got %d dimensions)", v->type, ndim);
        return -1;
    }
    if (s[0] != v->C) {
        mg_seterr(err, errlen, "%s: volume has %lld channels, the model expects %d", v->type,
                  (long long)s[0], v->C);
        return -1;
    }
    int exact = 1;
    for (int a = 0; a < 3; a++) {
        if (s[a + 1] < v->patch[a] || s[a + 1] % v->patch[a]) {
            mg_seterr(err, errlen, "%s: volume is %lldx%lldx%lld (DxHxW); each side must be a multiple "
                      "of the patch %dx%dx%d", v->type, (long long)s[1], (long long)s[2],
                      (long long)s[3], v->patch[0], v->patch[1], v->patch[2]);
            return -1;
        }
        g[a] = (int)(s[a + 1] / v->patch[a]);
        exact &= g[a] == v->grid[a];
    }
    if (!exact && !v->interp) {
        mg_seterr(err, errlen, "%s: volume is %lldx%lldx%lld (DxHxW); this model takes %dx%dx%d "
                  "(pos_embed_interpolation \"trilinear\" in config.json allows others)", v->type,
                  (long long)s[1], (long long)s[2], (long long)s[3], v->img[0], v->img[1], v->img[2]);
        return -1;
    }
    return 0;
}

static int vit3d_output_shape(const void *p, mg_output kind, int ndim, const int64_t *in_shape,
                              int64_t out_shape[2], char *err, size_t errlen)
{
    const vit3d *v = p;
    int g[3];
    if (kind == MG_OUT_DEFAULT) kind = vit3d_default_output(v);
    if (vit3d_grid(v, ndim, in_shape, g, err, errlen) < 0) return -1;
    switch (kind) {
    case MG_OUT_POOLED:
        if (!v->has_cls) {
            mg_seterr(err, errlen, "%s: no CLS token (classification false); use mean or tokens", v->type);
            return -1;
        }
        /* fall through */
    case MG_OUT_MEAN:
        out_shape[0] = v->dim;
        return 1;
    case MG_OUT_PROJECTED:
        if (!v->m3d) {
            mg_seterr(err, errlen, "%s: projected output needs an m3d_clip checkpoint", v->type);
            return -1;
        }
        out_shape[0] = v->dim;
        return 1;
    case MG_OUT_TOKENS:
        out_shape[0] = (int64_t)g[0] * g[1] * g[2];
        out_shape[1] = v->dim;
        return 2;
    default:
        mg_seterr(err, errlen, "unknown output kind");
        return -1;
    }
}

/* Activation memory grows with batch × tokens, so volumes go through in
 * chunks of at most this many tokens (at least one volume). */
#define MG_VIT3D_MAX_TOKENS 8192

static int vit3d_chunk(const vit3d *v, const mg_nn_ctx *ctx, mg_output kind, const float *in,
                       int batch, const int64_t *s, const int g[3], float *out)
{
    int64_t D = v->dim, np = (int64_t)g[0] * g[1] * g[2], skip = v->has_cls, n_tok = skip + np;
    int64_t K = (int64_t)v->C * v->patch[0] * v->patch[1] * v->patch[2];
    int64_t per_in = s[0] * s[1] * s[2] * s[3];
    int rc = -1;
    float *x = malloc((size_t)(batch * n_tok * D) * sizeof(float));
    float *cols = malloc((size_t)(np * K) * sizeof(float));
    float *pos_i = NULL, *work = NULL;
    const float *pos = v->pos;
    if (!x || !cols) goto out;
    if (g[0] != v->grid[0] || g[1] != v->grid[1] || g[2] != v->grid[2]) {
        pos_i = malloc((size_t)(np * D) * sizeof(float));
        if (!pos_i || mg_nn_resize_trilinear_grid(v->pos, v->grid[0], v->grid[1], v->grid[2], (int)D,
                                                  pos_i, g[0], g[1], g[2]) < 0) goto out;
        pos = pos_i;
    }
    for (int b = 0; b < batch; b++) {
        float *xb = x + (int64_t)b * n_tok * D;
        mg_nn_im2col_patches3d(in + b * per_in, s[0], s[1], s[2], s[3], v->patch[0], v->patch[1],
                               v->patch[2], v->perceptron, cols);
        if (mg_nn_linear(ctx, cols, np, &v->patch_w, v->patch_b, xb + skip * D, D) < 0) goto out;
        for (int64_t i = 0; i < np * D; i++) xb[skip * D + i] += pos[i];
        if (skip) memcpy(xb, v->cls, (size_t)D * sizeof(float));
    }
    free(cols);
    cols = NULL;
    mg_vit_block_shape ls = { (int)D, v->heads, v->ffn, MG_ACT_GELU_ERF, v->eps };
    if (!(work = malloc(mg_vit_block_work(&ls, batch, n_tok) * sizeof(float)))) goto out;
    for (int l = 0; l < v->layers; l++)
        if (mg_vit_block_forward(ctx, v->mm, &v->layer[l], &ls, x, batch, n_tok, work) < 0) goto out;
    mg_nn_layer_norm(ctx, x, x, batch * n_tok, D, v->norm_w, v->norm_b, v->eps);
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (int64_t)b * n_tok * D;
        switch (kind) {
        case MG_OUT_POOLED:
            memcpy(out + b * D, xb, (size_t)D * sizeof(float));
            break;
        case MG_OUT_PROJECTED: {
            float *o = out + b * D;
            if (mg_nn_linear(ctx, xb, 1, &v->proj, v->proj_b, o, D) < 0) goto out;
            /* F.normalize: x / max(||x||, 1e-12) */
            double ss = 0;
            for (int64_t d = 0; d < D; d++) ss += (double)o[d] * o[d];
            double nrm = sqrt(ss) > 1e-12 ? sqrt(ss) : 1e-12;
            for (int64_t d = 0; d < D; d++) o[d] = (float)(o[d] / nrm);
            break;
        }
        case MG_OUT_MEAN:
            for (int64_t d = 0; d < D; d++) {
                double acc = 0;
                for (int64_t i = skip; i < n_tok; i++) acc += xb[i * D + d];
                out[b * D + d] = (float)(acc / (double)np);
            }
            break;
        default:
            memcpy(out + b * np * D, xb + skip * D, (size_t)(np * D) * sizeof(float));
        }
    }
    rc = 0;
out:
    free(x);
    free(cols);
    free(pos_i);
    free(work);
    return rc;
}

static int vit3d_forward(void *p, const mg_nn_ctx *ctx, mg_output kind, const float *in, int batch,
                         int ndim, const int64_t *s, float *out, char *err, size_t errlen)
{
    const vit3d *v = p;
    int64_t os[2];
    int g[3];
    if (kind == MG_OUT_DEFAULT) kind = vit3d_default_output(v);
    int nd = vit3d_output_shape(v, kind, ndim, s, os, err, errlen);
    if (nd < 0 || vit3d_grid(v, ndim, s, g, err, errlen) < 0) return -1;
    int64_t per_out = nd == 1 ? os[0] : os[0] * os[1], per_in = s[0] * s[1] * s[2] * s[3];
    int64_t n_tok = v->has_cls + (int64_t)g[0] * g[1] * g[2];
    int chunk = (int)(MG_VIT3D_MAX_TOKENS / n_tok);
    if (chunk < 1) chunk = 1;
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        int nb = batch - b0 < chunk ? batch - b0 : chunk;
        if (vit3d_chunk(v, ctx, kind, in + b0 * per_in, nb, s, g, out + b0 * per_out) < 0) {
            mg_seterr(err, errlen, "%s: out of memory", v->type);
            return -1;
        }
    }
    return 0;
}

static void vit3d_input_shape(const void *p, int64_t *shape)
{
    const vit3d *v = p;
    shape[0] = v->C;
    for (int a = 0; a < 3; a++) shape[a + 1] = v->img[a];
}

static int vit3d_set_precision(void *p, const mg_nn_ctx *ctx, int prec, char *err, size_t errlen)
{
    vit3d *v = p;
    return mg_vit_blocks_set_precision(&v->mm, ctx, &v->patch_w, v->layer, v->layers, prec, err, errlen);
}

static const char *vit3d_backend(const void *p)
{
    return mg_mm_describe(((const vit3d *)p)->mm);
}

static const mg_encoder_ops vit3d_ops = {
    .input_ndim = 4,
    .load = vit3d_load,
    .free = vit3d_free,
    .default_output = vit3d_default_output,
    .input_shape = vit3d_input_shape,
    .output_shape = vit3d_output_shape,
    .forward = vit3d_forward,
    .set_precision = vit3d_set_precision,
    .backend = vit3d_backend,
};
static const char *const vit3d_types[] = { "monai_vit", "m3d_clip", NULL };
const mg_family mg_family_vit3d = { "vit3d", MG_ROLE_ENCODER, vit3d_types, &vit3d_ops };

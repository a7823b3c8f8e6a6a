/* trunk.c: the ViT-style trunk shared by SigLIP, DINOv2 and ViT:
 * patch embedding (a stride-P convolution, computed as im2col + GEMM), CLS and
 * register tokens, position embeddings, pre-LN encoder layers, final LayerNorm;
 * its output kinds, and the encoder ops of families that are a bare trunk. */
#include "models.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>

void *mg_trunk_alloc(mg_ckpt *ck, size_t size)
{
    mg_trunk *t = calloc(1, size);
    if (!t) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    snprintf(t->type, sizeof t->type, "%s", mg_ckpt_model_type(ck));
    return t;
}

int mg_trunk_alloc_layers(mg_ckpt *ck, mg_trunk *t)
{
    t->layer = calloc((size_t)t->layers, sizeof *t->layer);
    if (!t->layer) { mg_ckpt_error(ck, "out of memory"); return -1; }
    return 0;
}

int mg_trunk_read_config(mg_ckpt *ck, const mg_cfg *o, const mg_trunk_defaults *def, mg_trunk *t,
                         double *eps)
{
    if (mg_cfg_int(ck, o, "hidden_size", def->dim, &t->dim) < 0 ||
        mg_cfg_int(ck, o, "num_hidden_layers", def->layers, &t->layers) < 0 ||
        mg_cfg_int(ck, o, "num_attention_heads", def->heads, &t->heads) < 0 ||
        (def->ffn >= 0 && mg_cfg_int(ck, o, "intermediate_size", def->ffn, &t->ffn) < 0) ||
        mg_cfg_int(ck, o, "num_channels", 3, &t->channels) < 0 ||
        mg_cfg_int(ck, o, "image_size", 224, &t->image_size) < 0 ||
        mg_cfg_int(ck, o, "patch_size", def->patch, &t->patch) < 0 ||
        mg_cfg_num(ck, o, "layer_norm_eps", def->eps, eps) < 0 ||
        mg_cfg_act(ck, o, "hidden_act", def->act, &t->act) < 0) return -1;
    return 0;
}

int mg_trunk_check_config(mg_ckpt *ck, const mg_trunk *t, int ffn_ok, const char *what)
{
    if (!t->dim || !t->heads || t->dim % t->heads || !t->patch || t->image_size < t->patch ||
        !t->channels || !t->layers || !ffn_ok) {
        mg_ckpt_error(ck, "config.json: inconsistent %ssizes (hidden_size %d, heads %d, patch %d, "
                      "image %d)", what, t->dim, t->heads, t->patch, t->image_size);
        return -1;
    }
    return 0;
}

int mg_trunk_check(const mg_trunk *t, int ndim, const int64_t *in_shape, char *err, size_t errlen)
{
    if (ndim != 3) {
        mg_seterr(err, errlen, "%s: input has %d dimensions; this model takes images [C,H,W]",
                  t->type, ndim);
        return -1;
    }
    int64_t c = in_shape[0], h = in_shape[1], w = in_shape[2];
    if (c != t->channels) {
        mg_seterr(err, errlen, "%s: image has %lld channels, the model expects %d", t->type,
                  (long long)c, t->channels);
        return -1;
    }
    if (h < t->patch || w < t->patch || h % t->patch || w % t->patch) {
        mg_seterr(err, errlen, "%s: image is %lldx%lld; height and width must be multiples of the "
                  "patch size %d", t->type, (long long)h, (long long)w, t->patch);
        return -1;
    }
    if (t->pos_mode == MG_POS_EXACT && (h / t->patch != t->pos_grid || w / t->patch != t->pos_grid)) {
        mg_seterr(err, errlen, "%s: image is %lldx%lld; this model takes %dx%d", t->type,
                  (long long)h, (long long)w, t->pos_grid * t->patch, t->pos_grid * t->patch);
        return -1;
    }
    return 0;
}

int mg_trunk_no_pooled(const mg_trunk *t, const char *also, char *err, size_t errlen)
{
    mg_seterr(err, errlen, "%s: this model has no pooled output (no pooling head); use mean, "
              "tokens%s", t->type, also);
    return -1;
}

int mg_trunk_output_shape(const mg_trunk *t, mg_output kind, int h, int w, int64_t out_shape[2],
                          char *err, size_t errlen)
{
    switch (kind) {
    case MG_OUT_POOLED:
        if (!t->n_cls) return mg_trunk_no_pooled(t, "", err, errlen);
        /* fall through */
    case MG_OUT_MEAN:
        out_shape[0] = t->dim;
        return 1;
    case MG_OUT_TOKENS:
        out_shape[0] = (int64_t)(h / t->patch) * (w / t->patch);
        out_shape[1] = t->dim;
        return 2;
    case MG_OUT_PROJECTED:
        mg_seterr(err, errlen, "%s: projected output needs a gemma3 checkpoint", t->type);
        return -1;
    default:
        mg_seterr(err, errlen, "unknown output kind");
        return -1;
    }
}

/* images [batch, C, h, w] -> x [batch, n_tok, D] after the final norm
 * (malloc'ed; caller frees). n_tok = n_cls + n_reg + (h/P)(w/P). */
static float *trunk_forward(const mg_trunk *t, const mg_nn_ctx *ctx, const float *images,
                        int batch, int h, int w, int64_t *n_tok_out, char *err, size_t errlen)
{
    int gh = h / t->patch, gw = w / t->patch, P = t->patch, C = t->channels;
    int64_t D = t->dim, np = (int64_t)gh * gw, skip = t->n_cls + t->n_reg, n_tok = skip + np;
    float *x = malloc((size_t)(batch * n_tok * D) * sizeof(float));
    float *cols = malloc((size_t)(np * C * P * P) * sizeof(float));
    float *pos_i = NULL;
    const float *pos = t->pos + (int64_t)t->n_cls * D;     /* the patch rows */
    if (!x || !cols) goto oom;
    if (gh != t->pos_grid || gw != t->pos_grid) {
        pos_i = malloc((size_t)(np * D) * sizeof(float));
        if (!pos_i || mg_nn_resize_bicubic_grid(pos, t->pos_grid, t->pos_grid, (int)D, pos_i, gh, gw,
                                                t->pos_mode == MG_POS_BICUBIC_AA) < 0) goto oom;
        pos = pos_i;
    }
    for (int b = 0; b < batch; b++) {
        float *xb = x + (int64_t)b * n_tok * D;
        mg_nn_im2col_patches(images + (int64_t)b * C * h * w, C, h, w, P, cols);
        if (mg_mm_linear(t->mm, ctx, cols, np, &t->patch_w, t->patch_b, 0, xb + skip * D, D) < 0)
            goto oom;
        for (int64_t i = 0; i < np * D; i++) xb[skip * D + i] += pos[i];
        if (t->n_cls)
            for (int64_t d = 0; d < D; d++) xb[d] = t->cls[d] + t->pos[d];
        /* registers go between CLS and the patches, after the position embedding */
        if (t->n_reg) memcpy(xb + t->n_cls * D, t->reg, (size_t)(t->n_reg * D) * sizeof(float));
    }
    free(cols);
    cols = NULL;
    free(pos_i);
    pos_i = NULL;
    mg_vit_block_shape s = { (int)D, t->heads, t->ffn, t->act, t->eps };
    float *work = malloc(mg_vit_block_work(&s, batch, n_tok) * sizeof(float));
    if (!work) goto oom;
    for (int l = 0; l < t->layers; l++)
        if (mg_vit_block_forward(ctx, t->mm, &t->layer[l], &s, x, batch, n_tok, work) < 0) {
            free(work);
            goto oom;
        }
    free(work);
    mg_nn_layer_norm(ctx, x, x, batch * n_tok, D, t->post_w, t->post_b, t->eps);
    *n_tok_out = n_tok;
    return x;
oom:
    mg_seterr(err, errlen, "%s: out of memory", t->type);
    free(x);
    free(cols);
    free(pos_i);
    return NULL;
}

int mg_trunk_reduce(const void *state, const mg_nn_ctx *ctx, mg_output kind, const float *x,
                    int batch, int64_t n_tok, int gh, int gw, float *out)
{
    (void)ctx; (void)gh; (void)gw;
    const mg_trunk *t = state;
    int64_t D = t->dim, skip = t->n_cls + t->n_reg, np = n_tok - skip;
    switch (kind) {
    case MG_OUT_POOLED:             /* the CLS row after the final norm */
        for (int b = 0; b < batch; b++)
            memcpy(out + b * D, x + (int64_t)b * n_tok * D, (size_t)D * sizeof(float));
        return 0;
    case MG_OUT_MEAN:
        for (int b = 0; b < batch; b++)
            for (int64_t d = 0; d < D; d++) {
                double s = 0;
                for (int64_t i = skip; i < n_tok; i++) s += x[((int64_t)b * n_tok + i) * D + d];
                out[b * D + d] = (float)(s / (double)np);
            }
        return 0;
    case MG_OUT_TOKENS:
        for (int b = 0; b < batch; b++)
            memcpy(out + (int64_t)b * np * D, x + ((int64_t)b * n_tok + skip) * D,
                   (size_t)(np * D) * sizeof(float));
        return 0;
    default:
        return -1;
    }
}

/* Activation memory grows with batch × tokens (about 6·D + F floats per token),
 * so a batch is run in chunks of at most this many tokens (at least one image):
 * 8192 tokens of So400m are ~0.5 GiB. */
#define MG_MAX_BATCH_TOKENS 8192

int mg_trunk_encode(const mg_trunk *t, const mg_nn_ctx *ctx, mg_output kind, const float *images,
                    int batch, int h, int w, int64_t per_out, mg_trunk_head head, const void *state,
                    float *out, char *err, size_t errlen)
{
    int64_t per_in = (int64_t)t->channels * h * w;
    int64_t n_tok = t->n_cls + t->n_reg + (int64_t)(h / t->patch) * (w / t->patch);
    int chunk = (int)(MG_MAX_BATCH_TOKENS / n_tok);
    if (chunk < 1) chunk = 1;
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        int nb = batch - b0 < chunk ? batch - b0 : chunk;
        int64_t nt;
        float *x = trunk_forward(t, ctx, images + b0 * per_in, nb, h, w, &nt, err, errlen);
        if (!x) return -1;
        int rc = head(state, ctx, kind, x, nb, nt, h / t->patch, w / t->patch, out + b0 * per_out);
        free(x);
        if (rc < 0) { mg_seterr(err, errlen, "%s: out of memory", t->type); return -1; }
    }
    return 0;
}

/* ---- the matmul back end ---- */
int mg_trunk_ops_set_precision(void *state, const mg_nn_ctx *ctx, int prec, char *err, size_t errlen)
{
    mg_trunk *t = state;
    int n = 0, all_bf16 = 1, rc = -1;
    mg_mm_matrix *ms = malloc((size_t)(1 + 6 * t->layers) * sizeof *ms);
    if (!ms) { mg_seterr(err, errlen, "out of memory"); return -1; }
    ms[n++] = (mg_mm_matrix){ &t->patch_w, 0 };
    for (int i = 0; i < t->layers; i++) {
        const mg_vit_block *l = &t->layer[i];
        const mg_nn_weight *w[] = { &l->q, &l->k, &l->v, &l->o, &l->fc1, &l->fc2 };
        for (int k = 0; k < 6; k++) ms[n++] = (mg_mm_matrix){ w[k], 0 };
    }
    for (int i = 0; i < n; i++) all_bf16 &= ms[i].w->dtype == MG_BF16;
    int p = mg_precision_resolve(prec, all_bf16, err, errlen);
    if (p < 0) goto done;
    mg_mm_free(t->mm);
    if (!(t->mm = mg_mm_create(p, err, errlen))) goto done;
    if (mg_mm_prepare(t->mm, ctx, ms, n, err, errlen) < 0) goto done;
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

const char *mg_trunk_ops_backend(const void *state)
{
    return mg_mm_describe(((const mg_trunk *)state)->mm);
}

/* ---- encoder ops of a bare trunk ---- */
void mg_trunk_ops_free(void *state)
{
    mg_trunk *t = state;
    if (!t) return;
    mg_mm_free(t->mm);
    free(t->layer);
    free(t);
}

void mg_trunk_ops_input_shape(const void *state, int64_t *shape)
{
    const mg_trunk *t = state;
    shape[0] = t->channels;
    shape[1] = shape[2] = t->image_size;
}

mg_output mg_trunk_ops_pooled(const void *state)
{
    (void)state;
    return MG_OUT_POOLED;
}

int mg_trunk_ops_output_shape(const void *state, mg_output kind, int ndim, const int64_t *in_shape,
                              int64_t out_shape[2], char *err, size_t errlen)
{
    const mg_trunk *t = state;
    if (mg_trunk_check(t, ndim, in_shape, err, errlen) < 0) return -1;
    return mg_trunk_output_shape(t, kind, (int)in_shape[1], (int)in_shape[2], out_shape, err, errlen);
}

void *mg_trunk_load_state(mg_ckpt *ck, size_t size, int (*parts)(mg_ckpt *ck, void *state))
{
    void *s = mg_trunk_alloc(ck, size);
    if (s && parts(ck, s) < 0) {
        mg_trunk_ops_free(s);
        return NULL;
    }
    return s;
}

int mg_trunk_run(const void *state,
                 int (*output_shape)(const void *state, mg_output kind, int ndim,
                                     const int64_t *in_shape, int64_t out_shape[2], char *err,
                                     size_t errlen),
                 mg_trunk_head head, const mg_nn_ctx *ctx, mg_output kind, const float *in,
                 int batch, int ndim, const int64_t *in_shape, float *out, char *err, size_t errlen)
{
    int64_t os[2];
    int nd = output_shape(state, kind, ndim, in_shape, os, err, errlen);
    if (nd < 0) return -1;
    return mg_trunk_encode(state, ctx, kind, in, batch, (int)in_shape[1], (int)in_shape[2],
                           nd == 1 ? os[0] : os[0] * os[1], head, state, out, err, errlen);
}

/* ---- HF ViT / DINOv2 checkpoint layout ---- */
int mg_trunk_load_cls_embeddings(mg_ckpt *ck, mg_trunk *t)
{
    int64_t D = t->dim;
    t->pos_grid = t->image_size / t->patch;
    int64_t np = (int64_t)t->pos_grid * t->pos_grid;
    int64_t cd[4] = { D, t->channels, t->patch, t->patch }, cls[3] = { 1, 1, D },
            pos[3] = { 1, np + 1, D };
    if (mg_ckpt_flat_matrix(ck, "embeddings.patch_embeddings.projection.weight", 4, cd, &t->patch_w) < 0 ||
        !(t->patch_b = mg_ckpt_vec(ck, "embeddings.patch_embeddings.projection.bias", D)) ||
        !(t->cls = mg_ckpt_f32(ck, "embeddings.cls_token", 3, cls)) ||
        !(t->pos = mg_ckpt_f32(ck, "embeddings.position_embeddings", 3, pos))) return -1;
    t->n_cls = 1;
    return 0;
}

int mg_trunk_load_hf_attention(mg_ckpt *ck, const mg_trunk *t, int i, int qkv_bias, mg_vit_block *l)
{
    int64_t D = t->dim;
    char nm[256];
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.attention.query", i);
    if (mg_ckpt_linear(ck, nm, D, D, qkv_bias, &l->q, (float **)&l->q_b) < 0) return -1;
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.attention.key", i);
    if (mg_ckpt_linear(ck, nm, D, D, qkv_bias, &l->k, (float **)&l->k_b) < 0) return -1;
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.attention.value", i);
    if (mg_ckpt_linear(ck, nm, D, D, qkv_bias, &l->v, (float **)&l->v_b) < 0) return -1;
    snprintf(nm, sizeof nm, "encoder.layer.%d.attention.output.dense", i);
    return mg_ckpt_linear(ck, nm, D, D, 1, &l->o, (float **)&l->o_b);
}

const float *mg_trunk_load_layer_vec(mg_ckpt *ck, const mg_trunk *t, int i, const char *sub)
{
    char nm[256];
    snprintf(nm, sizeof nm, "encoder.layer.%d.%s", i, sub);
    return mg_ckpt_vec(ck, nm, t->dim);
}

/* Pick "" or the task model's prefix (e.g. "dinov2.") by where the CLS token is. */
void mg_trunk_pick_prefix(mg_ckpt *ck, const char *alt)
{
    mg_ckpt_set_prefix(ck, "");
    if (!mg_ckpt_has(ck, "embeddings.cls_token")) mg_ckpt_set_prefix(ck, alt);
}

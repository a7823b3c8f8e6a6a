/* gemma3_text.c: the Gemma 3 text decoder (transformers modeling_gemma3.py,
 * Gemma3TextModel / Gemma3ForCausalLM / the language model of
 * Gemma3ForConditionalGeneration), for model_type "gemma3" (MedGemma: the
 * config's text_config; tensors language_model.model.* or, in newer saves,
 * model.language_model.*) and "gemma3_text" (tensors model.*).
 *
 * Per layer (pre- and post-norms around both blocks, Gemma RMSNorm (1 + w)):
 *   a  = o_proj(attn(input_layernorm(x)))           x ← x + post_attention_layernorm(a)
 *   m  = down(act(gate(n)) · up(n)), n = pre_feedforward_layernorm(x)
 *                                                   x ← x + post_feedforward_layernorm(m)
 * Attention: q/k RMSNorm over head_dim before RoPE; scale query_pre_attn_scalar^−½;
 * sliding layers (layer_types, or every sliding_window_pattern-th layer global)
 * see keys kp > p − sliding_window and rotate with rope_local_base_freq; global
 * layers use rope_theta with rope_scaling (linear). Input embedding scaled by
 * √hidden rounded to the weight dtype (Gemma3TextScaledWordEmbedding); the
 * output embedding is tied unless tie_word_embeddings is false. Activations
 * and the residual stream are fp32; weights are used as stored.
 *
 * The key/value cache: global layers hold every position; sliding layers hold
 * only the positions a new query can still see: a buffer of 1.5 windows (or
 * sliding_window − 1 + a prompt chunk's rows when longer) whose rows no query
 * can see any more are dropped by moving the last window − 1 keys to the front
 * when it fills. A 4,096-token context of the 4B model (29 of 34 layers
 * sliding, window 1,024) then caches 0.53 GB instead of 1.14 GB. */
#include "../mg_ckpt.h"
#include "../mg_decoder.h"
#include "../mg_dtype.h"
#include "../mg_err.h"
#include "../mg_family.h"
#include "../mg_matmul.h"
#include "../mg_nn.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { G3_CHUNK = 512 };     /* prompt rows per pass (extended to keep spans whole) */

typedef struct {
    mg_nn_weight q, k, v, o, gate, up, down;
    float *q_b, *k_b, *v_b, *o_b;
    float *in_norm, *post_attn_norm, *pre_ff_norm, *post_ff_norm, *q_norm, *k_norm;
    int sliding;
    float *kc, *vc;                  /* cache [positions held, kv_heads·hd] */
} g3_layer;

typedef struct {
    int D, F, L, H, KV, hd, act;
    float eps, scale, attn_cap, final_cap;
    int64_t window, vocab, max_ctx, len;
    int64_t ring;                    /* rows of a sliding layer's cache (max_ctx: all) */
    int64_t base;                    /* the position in a sliding layer's first row */
    mg_mm *mm;                       /* the prompt rows' matrix products */
    float *inv_local, *inv_global;
    mg_nn_weight embed, head;
    float embed_scale;
    float *final_norm;
    g3_layer *layer;
    int32_t *span;                   /* [max_ctx] span id by position */
    int64_t *pos;                    /* [G3 chunk capacity] */
    float *work;
    size_t work_rows;
} g3;

/* ---- loading ---- */

static float *vec(mg_ckpt *ck, const char *suffix, int64_t n) { return mg_ckpt_vec(ck, suffix, n); }

/* An integer key in [lo, hi] (mg_cfg_int, then the range). */
static int cfg_int(mg_ckpt *ck, const mg_cfg *o, const char *key, int def, int lo, int hi, int *out)
{
    if (mg_cfg_int(ck, o, key, def, out) < 0) return -1;
    if (*out < lo || *out > hi) {
        mg_ckpt_error(ck, "config.json: '%s' must be in [%d, %d]", key, lo, hi);
        return -1;
    }
    return 0;
}

/* A number that may be null (softcapping: null means off, as absent). */
static int cfg_num(mg_ckpt *ck, const mg_cfg *o, const char *key, double def, double *out)
{
    return mg_cfg_num(ck, o, key, def, out);
}

/* One rotary setting {"rope_type" (or "type"): "default"|"linear", "factor",
 * "rope_theta"} into *theta (when present) and *factor. */
static int rope_setting(mg_ckpt *ck, const mg_cfg *rs, const char *what, double *theta,
                        double *factor)
{
    const char *type = json_string_value(json_object_get(rs, "rope_type"));
    if (!type) type = json_string_value(json_object_get(rs, "type"));
    if (!json_is_object(rs) || !type) {
        mg_ckpt_error(ck, "config.json: %s needs a rope_type", what);
        return -1;
    }
    if (cfg_num(ck, rs, "rope_theta", *theta, theta) < 0) return -1;
    *factor = 1.0;
    if (strcmp(type, "default") == 0) return 0;
    if (strcmp(type, "linear") != 0) {
        mg_ckpt_error(ck, "config.json: unsupported %s type '%s' (linear, default)", what, type);
        return -1;
    }
    if (cfg_num(ck, rs, "factor", 1.0, factor) < 0) return -1;
    if (!(*factor > 0)) {
        mg_ckpt_error(ck, "config.json: %s factor must be positive", what);
        return -1;
    }
    return 0;
}

/* Rotary bases and the global layers' scaling: rope_theta, rope_local_base_freq
 * and rope_scaling (global layers only), or transformers' newer rope_parameters
 * {"full_attention": {…}, "sliding_attention": {…}}. */
static int rope_config(mg_ckpt *ck, const mg_cfg *tc, double *global, double *factor, double *local)
{
    double lf;
    if (cfg_num(ck, tc, "rope_theta", 1e6, global) < 0 ||
        cfg_num(ck, tc, "rope_local_base_freq", 1e4, local) < 0) return -1;
    *factor = 1.0;
    const mg_cfg *rp = mg_cfg_sub(tc, "rope_parameters");
    if (rp && !json_is_null(rp)) {
        const mg_cfg *f = mg_cfg_sub(rp, "full_attention"), *sl = mg_cfg_sub(rp, "sliding_attention");
        if (f && rope_setting(ck, f, "rope_parameters.full_attention", global, factor) < 0) return -1;
        if (sl && rope_setting(ck, sl, "rope_parameters.sliding_attention", local, &lf) < 0) return -1;
        if (sl && lf != 1.0) {
            mg_ckpt_error(ck, "config.json: scaled rotary embeddings on sliding layers are not supported");
            return -1;
        }
        return 0;
    }
    const mg_cfg *rs = mg_cfg_sub(tc, "rope_scaling");
    if (!rs || json_is_null(rs)) return 0;
    double unused = *global;
    return rope_setting(ck, rs, "rope_scaling", &unused, factor);
}

static int token_id(mg_ckpt *ck, const mg_cfg *o, const char *key, int def, int32_t *out)
{
    int v;
    if (mg_cfg_int(ck, o, key, def, &v) < 0) return -1;
    *out = v;
    return 0;
}

/* eos_token_id: an integer or a list, at the top level or in text_config. */
static int eos_ids(mg_ckpt *ck, const mg_cfg *cfg, const mg_cfg *tc, mg_decoder_info *info)
{
    json_t *e = json_object_get(cfg, "eos_token_id");
    if (!e || json_is_null(e)) e = json_object_get(tc, "eos_token_id");
    info->n_eos = 0;
    if (!e || json_is_null(e)) { info->eos[info->n_eos++] = 1; return 0; }    /* Gemma default */
    if (json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) <= INT32_MAX) {
        info->eos[info->n_eos++] = (int32_t)json_integer_value(e);
        return 0;
    }
    size_t i;
    json_t *v;
    if (!json_is_array(e)) goto bad;
    json_array_foreach(e, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            goto bad;
        if (info->n_eos < MG_DECODER_MAX_EOS) info->eos[info->n_eos++] = (int32_t)json_integer_value(v);
    }
    return 0;
bad:
    mg_ckpt_error(ck, "config.json: eos_token_id must be an id or a list of ids");
    return -1;
}

static void g3_free(void *p)
{
    g3 *m = p;
    if (!m) return;
    if (m->layer)
        for (int i = 0; i < m->L; i++) { free(m->layer[i].kc); free(m->layer[i].vc); }
    free(m->layer);
    free(m->span);
    free(m->pos);
    free(m->work);
    free(m->inv_local);
    free(m->inv_global);
    mg_mm_free(m->mm);
    free(m);
}

static int load_layer(mg_ckpt *ck, g3 *m, int i, int bias)
{
    g3_layer *l = &m->layer[i];
    char nm[128];
    int64_t D = m->D, F = m->F, qd = (int64_t)m->H * m->hd, kvd = (int64_t)m->KV * m->hd;
#define NM(s) (snprintf(nm, sizeof nm, "layers.%d.%s", i, s), nm)
    if (mg_ckpt_matrix(ck, NM("self_attn.q_proj.weight"), qd, D, &l->q) < 0 ||
        mg_ckpt_matrix(ck, NM("self_attn.k_proj.weight"), kvd, D, &l->k) < 0 ||
        mg_ckpt_matrix(ck, NM("self_attn.v_proj.weight"), kvd, D, &l->v) < 0 ||
        mg_ckpt_matrix(ck, NM("self_attn.o_proj.weight"), D, qd, &l->o) < 0 ||
        mg_ckpt_matrix(ck, NM("mlp.gate_proj.weight"), F, D, &l->gate) < 0 ||
        mg_ckpt_matrix(ck, NM("mlp.up_proj.weight"), F, D, &l->up) < 0 ||
        mg_ckpt_matrix(ck, NM("mlp.down_proj.weight"), D, F, &l->down) < 0) return -1;
    if (!(l->in_norm = vec(ck, NM("input_layernorm.weight"), D)) ||
        !(l->post_attn_norm = vec(ck, NM("post_attention_layernorm.weight"), D)) ||
        !(l->pre_ff_norm = vec(ck, NM("pre_feedforward_layernorm.weight"), D)) ||
        !(l->post_ff_norm = vec(ck, NM("post_feedforward_layernorm.weight"), D)) ||
        !(l->q_norm = vec(ck, NM("self_attn.q_norm.weight"), m->hd)) ||
        !(l->k_norm = vec(ck, NM("self_attn.k_norm.weight"), m->hd))) return -1;
    if (bias &&     /* attention_bias: q/k/v/o_proj carry biases */
        (!(l->q_b = vec(ck, NM("self_attn.q_proj.bias"), qd)) ||
         !(l->k_b = vec(ck, NM("self_attn.k_proj.bias"), kvd)) ||
         !(l->v_b = vec(ck, NM("self_attn.v_proj.bias"), kvd)) ||
         !(l->o_b = vec(ck, NM("self_attn.o_proj.bias"), D)))) return -1;
#undef NM
    /* The cache: address space only until positions are written. */
    size_t cb = (size_t)(l->sliding ? m->ring : m->max_ctx) * (size_t)kvd * sizeof(float);
    if (!(l->kc = malloc(cb)) || !(l->vc = malloc(cb))) {
        mg_ckpt_error(ck, "out of memory for a %lld-position cache", (long long)m->max_ctx);
        return -1;
    }
    return 0;
}

/* Round a float to the weight dtype (transformers multiplies by
 * embed_scale.to(weight.dtype)). */
static float round_to_dtype(float f, int dtype)
{
    if (dtype == MG_BF16) return mg_bf16_to_f32(mg_f32_to_bf16(f));
    if (dtype == MG_F16) return mg_f16_to_f32(mg_f32_to_f16(f));
    return f;
}

static void *g3_load(mg_ckpt *ck, int64_t max_ctx, int precision, mg_decoder_info *info, char *err,
                     size_t errlen)
{
    const mg_cfg *cfg = mg_ckpt_config(ck), *tc = cfg;
    const char *model_type = mg_ckpt_model_type(ck);
    int multimodal = strcmp(model_type, "gemma3") == 0;
    g3 *m = calloc(1, sizeof *m);
    if (!m) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    if (multimodal && !(tc = mg_cfg_sub(cfg, "text_config"))) {
        mg_ckpt_error(ck, "config.json: gemma3 needs a text_config object");
        goto fail;
    }
    /* Gemma3TextConfig defaults (transformers configuration_gemma3.py). */
    int D, F, L, H, KV, hd, maxpos, window, pattern, bias, vocab, mm;
    double eps, qpas, theta, local, factor, acap, fcap;
    const char *act;
    if (cfg_int(ck, tc, "hidden_size", 2304, 1, 1 << 16, &D) < 0 ||
        cfg_int(ck, tc, "intermediate_size", 9216, 1, 1 << 20, &F) < 0 ||
        cfg_int(ck, tc, "num_hidden_layers", 26, 1, 1024, &L) < 0 ||
        cfg_int(ck, tc, "num_attention_heads", 8, 1, 1024, &H) < 0 ||
        cfg_int(ck, tc, "num_key_value_heads", 4, 1, 1024, &KV) < 0 ||
        cfg_int(ck, tc, "head_dim", 256, 2, MG_NN_ROPE_MAX_HD, &hd) < 0 ||
        cfg_int(ck, tc, "vocab_size", 262208, 1, 1 << 24, &vocab) < 0 ||
        cfg_int(ck, tc, "max_position_embeddings", 131072, 1, 1 << 24, &maxpos) < 0 ||
        cfg_int(ck, tc, "sliding_window", 4096, 1, 1 << 24, &window) < 0 ||
        cfg_int(ck, tc, "sliding_window_pattern", 6, 1, 1 << 24, &pattern) < 0 ||
        mg_cfg_bool(ck, tc, "attention_bias", 0, &bias) < 0 ||
        cfg_num(ck, tc, "rms_norm_eps", 1e-6, &eps) < 0 ||
        cfg_num(ck, tc, "query_pre_attn_scalar", 256, &qpas) < 0 ||
        cfg_num(ck, tc, "attn_logit_softcapping", 0, &acap) < 0 ||
        cfg_num(ck, tc, "final_logit_softcapping", 0, &fcap) < 0 ||
        rope_config(ck, tc, &theta, &factor, &local) < 0) goto fail;
    if (H % KV || hd % 2 || !(qpas > 0) || !(theta > 0) || !(local > 0) || eps < 0 || acap < 0 ||
        fcap < 0) {
        mg_ckpt_error(ck, "config.json: unsupported attention settings (heads %d, kv heads %d, "
                      "head_dim %d)", H, KV, hd);
        goto fail;
    }
    /* hidden_activation (hidden_act in older saves), tanh GELU by default */
    const char *key = json_object_get(tc, "hidden_activation") ? "hidden_activation" : "hidden_act";
    if (mg_cfg_str(ck, tc, key, "gelu_pytorch_tanh", &act) < 0) goto fail;
    if (strcmp(act, "gelu_pytorch_tanh") == 0 || strcmp(act, "gelu_new") == 0 ||
        strcmp(act, "gelu_fast") == 0) m->act = MG_ACT_GELU_TANH;
    else if (strcmp(act, "gelu") == 0) m->act = MG_ACT_GELU_ERF;
    else { mg_ckpt_error(ck, "config.json: unsupported %s '%s'", key, act); goto fail; }
    m->D = D; m->F = F; m->L = L; m->H = H; m->KV = KV; m->hd = hd;
    m->vocab = vocab;
    m->eps = (float)eps;
    m->scale = (float)(1.0 / sqrt(qpas));
    m->attn_cap = (float)acap;
    /* Gemma3ForConditionalGeneration returns the logits uncapped. */
    m->final_cap = multimodal ? 0.0f : (float)fcap;
    m->window = window;
    if (max_ctx <= 0) max_ctx = maxpos < 8192 ? maxpos : 8192;
    if (max_ctx > maxpos) {
        mg_ckpt_error(ck, "context %lld exceeds max_position_embeddings %d", (long long)max_ctx, maxpos);
        goto fail;
    }
    m->max_ctx = max_ctx;
    /* A window and a half: the last window − 1 keys move to the front every
     * window/2 + 1 tokens; a longer prompt chunk widens it once (make_room). */
    m->ring = window + (window + 1) / 2 < max_ctx ? window + (window + 1) / 2 : max_ctx;

    m->layer = calloc((size_t)L, sizeof *m->layer);
    m->span = calloc((size_t)max_ctx, sizeof *m->span);
    m->inv_local = malloc((size_t)hd / 2 * sizeof(float));
    m->inv_global = malloc((size_t)hd / 2 * sizeof(float));
    if (!m->layer || !m->span || !m->inv_local || !m->inv_global) {
        mg_ckpt_error(ck, "out of memory");
        goto fail;
    }
    mg_nn_rope_inv_freq(hd, local, 1.0, m->inv_local);
    mg_nn_rope_inv_freq(hd, theta, factor, m->inv_global);

    /* layer_types, else every pattern-th layer global (transformers' fallback). */
    json_t *lt = json_object_get(tc, "layer_types");
    if (lt && !json_is_null(lt) && (!json_is_array(lt) || json_array_size(lt) != (size_t)L)) {
        mg_ckpt_error(ck, "config.json: layer_types must list %d layer types", L);
        goto fail;
    }
    for (int i = 0; i < L; i++) {
        if (lt && !json_is_null(lt)) {
            const char *s = json_string_value(json_array_get(lt, (size_t)i));
            if (s && strcmp(s, "sliding_attention") == 0) m->layer[i].sliding = 1;
            else if (!s || strcmp(s, "full_attention") != 0) {
                mg_ckpt_error(ck, "config.json: unsupported layer type '%s'", s ? s : "?");
                goto fail;
            }
        } else m->layer[i].sliding = (i + 1) % pattern != 0;
    }

    /* Tensor names: language_model.model.* (original Gemma 3 saves) or
     * model.language_model.* (transformers' newer layout) for gemma3;
     * model.* for Gemma3ForCausalLM. */
    const char *pfx = "model.";
    if (multimodal) {
        mg_ckpt_set_prefix(ck, "language_model.model.");
        pfx = mg_ckpt_has(ck, "embed_tokens.weight") ? "language_model.model." : "model.language_model.";
    }
    mg_ckpt_set_prefix(ck, pfx);
    int64_t ed[2] = { vocab, D };
    const mg_st_tensor *et = mg_ckpt_tensor(ck, "embed_tokens.weight", 2, ed);
    if (!et) goto fail;
    m->embed = (mg_nn_weight){ et->dtype, et->data, vocab, D };
    m->embed_scale = round_to_dtype(sqrtf((float)D), et->dtype);
    for (int i = 0; i < L; i++) if (load_layer(ck, m, i, bias) < 0) goto fail;
    if (!(m->final_norm = vec(ck, "norm.weight", D))) goto fail;
    int tie;
    const mg_cfg *tsrc = json_object_get(cfg, "tie_word_embeddings") ? cfg : tc;
    if (mg_cfg_bool(ck, tsrc, "tie_word_embeddings", 1, &tie) < 0) goto fail;
    m->head = m->embed;
    if (!tie) {
        /* lm_head sits beside the model: "lm_head." or "language_model.lm_head." */
        mg_ckpt_set_prefix(ck, strcmp(pfx, "language_model.model.") == 0 ? "language_model." : "");
        if (mg_ckpt_matrix(ck, "lm_head.weight", vocab, D, &m->head) < 0) goto fail;
    }
    /* Every tensor of the text model must have been used. */
    if (mg_ckpt_check_unused(ck, pfx, NULL) < 0) goto fail;
    int all_bf16 = 1;
    for (int i = 0; i < L; i++) {
        const g3_layer *l = &m->layer[i];
        const mg_nn_weight *w[7] = { &l->q, &l->k, &l->v, &l->o, &l->gate, &l->up, &l->down };
        for (int k = 0; k < 7; k++) all_bf16 &= w[k]->dtype == MG_BF16;
    }
    int prec = mg_precision_resolve(precision, all_bf16, err, errlen);
    if (prec < 0 || !(m->mm = mg_mm_create(prec, err, errlen))) {
        mg_ckpt_error(ck, "%s", err);
        goto fail;
    }
    info->backend = mg_mm_describe(m->mm);

    info->hidden = m->D;
    info->vocab = m->vocab;
    info->max_ctx = m->max_ctx;
    if (token_id(ck, cfg, "bos_token_id", 2, &info->bos) < 0 ||
        token_id(ck, cfg, "pad_token_id", 0, &info->pad) < 0 ||
        eos_ids(ck, cfg, tc, info) < 0) goto fail;
    info->image_token = info->boi_token = info->eoi_token = -1;
    info->mm_tokens = 0;
    if (multimodal) {
        const char *ik = json_object_get(cfg, "image_token_index") ? "image_token_index" : "image_token_id";
        if (token_id(ck, cfg, "boi_token_index", 255999, &info->boi_token) < 0 ||
            token_id(ck, cfg, "eoi_token_index", 256000, &info->eoi_token) < 0 ||
            token_id(ck, cfg, ik, 262144, &info->image_token) < 0 ||
            cfg_int(ck, cfg, "mm_tokens_per_image", 256, 1, 1 << 20, &mm) < 0) goto fail;
        info->mm_tokens = mm;
    }
    return m;
fail:
    g3_free(m);
    return NULL;
}

/* ---- forward ---- */

static int g3_embed(const void *p, const int32_t *ids, int64_t n, float *x, char *err, size_t errlen)
{
    const g3 *m = p;
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= m->vocab) {
            mg_seterr(err, errlen, "token id %d outside the embedding (%lld rows)", ids[i],
                      (long long)m->vocab);
            return -1;
        }
        float *r = x + i * m->D;
        if (mg_dtype_float_to_f32(m->embed.dtype, m->embed.data, (int64_t)ids[i] * m->D, m->D, r) < 0)
            return mg_fail(err, errlen, "embedding dtype");
        for (int c = 0; c < m->D; c++) r[c] *= m->embed_scale;
    }
    return 0;
}

/* y[n, w->rows] (row stride ldy) = x · Wᵀ + b: the vector kernel for one row
 * (decoding), the model's matmul back end (fp32 GEMM or bf16 oneDNN, weights
 * as stored) for a batch of prompt rows. */
static int lin(const g3 *m, const mg_nn_ctx *ctx, const float *x, int64_t n, const mg_nn_weight *w,
               const float *b, float *y, int64_t ldy)
{
    if (n == 1) return mg_nn_gemv(ctx, w, w->rows, x, b, y);
    return mg_mm_linear_stored(m->mm, ctx, x, n, w, b, y, ldy);
}

/* Room in the sliding layers' caches for c more rows at position len: when the
 * buffer is full, the keys the next queries can still see (the last window − 1
 * positions) move to its front; a chunk longer than the buffer planned for (an
 * image block that cannot be cut) widens it. 0, or -1 (memory). */
static int make_room(g3 *m, int64_t c)
{
    int64_t p0 = m->len;
    if (p0 + c - m->base <= m->ring) return 0;
    int64_t nb = p0 - m->window + 1 > m->base ? p0 - m->window + 1 : m->base;
    int64_t keep = p0 - nb, need = keep + c;      /* need <= max_ctx: p0 + c fits */
    size_t kvd = (size_t)m->KV * (size_t)m->hd;
    for (int i = 0; i < m->L; i++) {
        g3_layer *l = &m->layer[i];
        if (!l->sliding) continue;
        memmove(l->kc, l->kc + (size_t)(nb - m->base) * kvd, (size_t)keep * kvd * sizeof(float));
        memmove(l->vc, l->vc + (size_t)(nb - m->base) * kvd, (size_t)keep * kvd * sizeof(float));
    }
    m->base = nb;
    if (need <= m->ring) return 0;
    for (int i = 0; i < m->L; i++) {
        g3_layer *l = &m->layer[i];
        if (!l->sliding) continue;
        float *k = realloc(l->kc, (size_t)need * kvd * sizeof(float));
        if (k) l->kc = k;
        float *v = k ? realloc(l->vc, (size_t)need * kvd * sizeof(float)) : NULL;
        if (!v) return -1;
        l->vc = v;
    }
    m->ring = need;
    return 0;
}

static void add_rows(float *x, const float *h, int64_t n)
{
    for (int64_t i = 0; i < n; i++) x[i] += h[i];
}

/* One pass of n rows (a whole number of spans) at positions len … len+n−1. */
static int g3_pass(g3 *m, const mg_nn_ctx *ctx, const float *xin, int64_t n, float *logits,
                   int64_t n_vocab, int all_rows)
{
    int64_t D = m->D, F = m->F, qd = (int64_t)m->H * m->hd, kvd = (int64_t)m->KV * m->hd;
    int64_t p0 = m->len;
    float *x = m->work, *h = x + n * D, *q = h + n * D, *a = q + n * qd, *g = a + n * qd,
          *u = g + n * F;
    for (int64_t i = 0; i < n; i++) m->pos[i] = p0 + i;
    memcpy(x, xin, (size_t)(n * D) * sizeof(float));
    for (int li = 0; li < m->L; li++) {
        g3_layer *l = &m->layer[li];
        int64_t k0 = l->sliding ? m->base : 0;       /* the position in cache row 0 */
        float *kc = l->kc + (p0 - k0) * kvd, *vc = l->vc + (p0 - k0) * kvd;
        const float *inv = l->sliding ? m->inv_local : m->inv_global;
        mg_nn_rms_norm_gemma(ctx, x, h, n, D, l->in_norm, m->eps);
        if (lin(m, ctx, h, n, &l->q, l->q_b, q, qd) < 0 || lin(m, ctx, h, n, &l->k, l->k_b, kc, kvd) < 0 ||
            lin(m, ctx, h, n, &l->v, l->v_b, vc, kvd) < 0) return -1;
        mg_nn_rms_norm_gemma(ctx, q, q, n * m->H, m->hd, l->q_norm, m->eps);
        mg_nn_rms_norm_gemma(ctx, kc, kc, n * m->KV, m->hd, l->k_norm, m->eps);
        if (mg_nn_rope(ctx, q, n, qd, m->H, m->hd, m->pos, inv) < 0 ||
            mg_nn_rope(ctx, kc, n, kvd, m->KV, m->hd, m->pos, inv) < 0) return -1;
        mg_nn_mask mask = { l->sliding ? m->window : 0, m->span };
        if (mg_nn_attention_cached(ctx, q, qd, n, m->pos, l->kc, l->vc, kvd, k0, p0 + n, m->H,
                                   m->KV, m->hd, m->scale, m->attn_cap, &mask, a, qd) < 0) return -1;
        if (lin(m, ctx, a, n, &l->o, l->o_b, h, D) < 0) return -1;
        mg_nn_rms_norm_gemma(ctx, h, h, n, D, l->post_attn_norm, m->eps);
        add_rows(x, h, n * D);
        mg_nn_rms_norm_gemma(ctx, x, h, n, D, l->pre_ff_norm, m->eps);
        if (lin(m, ctx, h, n, &l->gate, NULL, g, F) < 0 || lin(m, ctx, h, n, &l->up, NULL, u, F) < 0)
            return -1;
        mg_nn_activate(ctx, g, n * F, m->act);
        for (int64_t i = 0; i < n * F; i++) g[i] *= u[i];
        if (lin(m, ctx, g, n, &l->down, NULL, h, D) < 0) return -1;
        mg_nn_rms_norm_gemma(ctx, h, h, n, D, l->post_ff_norm, m->eps);
        add_rows(x, h, n * D);
    }
    m->len = p0 + n;
    if (!logits) return 0;
    int64_t r0 = all_rows ? 0 : n - 1, nr = n - r0;
    mg_nn_rms_norm_gemma(ctx, x + r0 * D, h, nr, D, m->final_norm, m->eps);
    mg_nn_weight head = m->head;
    head.rows = n_vocab;
    if (lin(m, ctx, h, nr, &head, NULL, logits, n_vocab) < 0) return -1;
    if (m->final_cap > 0)
        for (int64_t i = 0; i < nr * n_vocab; i++)
            logits[i] = m->final_cap * tanhf(logits[i] / m->final_cap);
    return 0;
}

static int g3_forward(void *p, const mg_nn_ctx *ctx, const float *x, int64_t n, const int32_t *span,
                      float *logits, int64_t n_vocab, int all_rows, char *err, size_t errlen)
{
    g3 *m = p;
    if (n <= 0) return 0;
    if (n_vocab <= 0 || n_vocab > m->vocab) n_vocab = m->vocab;
    if (n > m->max_ctx - m->len) {
        mg_seterr(err, errlen, "context full: %lld + %lld positions exceed the cache of %lld",
                  (long long)m->len, (long long)n, (long long)m->max_ctx);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) m->span[m->len + i] = span ? span[i] : 0;
    for (int64_t i0 = 0; i0 < n;) {
        /* Chunks of prompt rows bound the activations; a span is never cut, since
         * its first rows must see its last ones. */
        int64_t c = n - i0 < G3_CHUNK ? n - i0 : G3_CHUNK;
        while (i0 + c < n && span && span[i0 + c] && span[i0 + c] == span[i0 + c - 1]) c++;
        if ((size_t)c > m->work_rows) {
            size_t per = 2 * (size_t)m->D + 2 * (size_t)m->H * m->hd + 2 * (size_t)m->F;
            free(m->work);
            free(m->pos);
            m->work = malloc((size_t)c * per * sizeof(float));
            m->pos = malloc((size_t)c * sizeof *m->pos);
            m->work_rows = m->work && m->pos ? (size_t)c : 0;
            if (!m->work_rows) { mg_seterr(err, errlen, "out of memory"); return -1; }
        }
        int last = i0 + c == n;
        float *lg = !logits ? NULL : all_rows ? logits + i0 * n_vocab : last ? logits : NULL;
        if (make_room(m, c) < 0 || g3_pass(m, ctx, x + i0 * m->D, c, lg, n_vocab, all_rows) < 0) {
            mg_seterr(err, errlen, "out of memory");
            return -1;
        }
        i0 += c;
    }
    return 0;
}

static int64_t g3_length(const void *p) { return ((const g3 *)p)->len; }

static int g3_truncate(void *p, int64_t n)
{
    g3 *m = p;
    if (n < 0 || n > m->len) return -1;
    /* sliding layers must still hold the keys a query at n sees */
    if (n == 0) m->base = 0;
    else if (m->base > 0 && m->base > n - m->window + 1) return -1;
    m->len = n;
    return 0;
}

static const mg_decoder_ops g3_ops = {
    g3_load, g3_free, g3_embed, g3_forward, g3_length, g3_truncate
};
static const char *const g3_types[] = { "gemma3", "gemma3_text", NULL };
const mg_family mg_family_gemma3_text = { "gemma3-text", MG_ROLE_DECODER, g3_types, &g3_ops };

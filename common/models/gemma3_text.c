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
 * and the residual stream are fp32; weights are used as stored. */
#include "../mg_decoder.h"
#include "../mg_err.h"
#include "../mg_nn.h"
#include "../mg_safetensors.h"

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
    float *kc, *vc;                  /* cache [max_ctx, kv_heads·hd] */
} g3_layer;

typedef struct {
    mg_st *st;
    int D, F, L, H, KV, hd, act;
    float eps, scale, attn_cap, final_cap;
    int64_t window, vocab, max_ctx, len;
    float *inv_local, *inv_global;
    mg_nn_weight embed, head;
    float embed_scale;
    float *final_norm;
    g3_layer *layer;
    int32_t *span;                   /* [max_ctx] span id by position */
    int64_t *pos;                    /* [G3 chunk capacity] */
    float *work;
    size_t work_rows;
    /* loader */
    void **owned;
    int n_owned, m_owned;
    char prefix[96];
    const char *type;
} g3;

/* ---- loading ---- */

static void *own(g3 *m, void *p)
{
    if (!p) return NULL;
    if (m->n_owned == m->m_owned) {
        int nm = m->m_owned ? 2 * m->m_owned : 64;
        void **n = realloc(m->owned, (size_t)nm * sizeof *n);
        if (!n) { free(p); return NULL; }
        m->owned = n;
        m->m_owned = nm;
    }
    m->owned[m->n_owned++] = p;
    return p;
}

static mg_st_tensor *tensor(g3 *m, const char *suffix, int ndim, const int64_t *dims,
                            char *err, size_t errlen)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s", m->prefix, suffix);
    mg_st_tensor *t = mg_st_find(m->st, name);
    if (!t) { mg_seterr(err, errlen, "%s: missing tensor '%s'", m->type, name); return NULL; }
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == dims[i];
    if (!ok) {
        char have[96] = "", want[96] = "";
        for (int i = 0; i < t->ndim && i < 4; i++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%lld", i ? "," : "",
                     (long long)t->shape[i]);
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "," : "",
                     (long long)dims[i]);
        mg_seterr(err, errlen, "%s: tensor '%s' has shape [%s], expected [%s]", m->type, name,
                  have, want);
        return NULL;
    }
    if (t->dtype != MG_ST_F32 && t->dtype != MG_ST_F16 && t->dtype != MG_ST_BF16) {
        mg_seterr(err, errlen, "%s: tensor '%s' has dtype %s; F32, F16 or BF16 needed", m->type,
                  name, mg_st_dtype_name(t->dtype));
        return NULL;
    }
    t->used = 1;
    return t;
}

static int matrix(g3 *m, const char *suffix, int64_t rows, int64_t cols, mg_nn_weight *w,
                  char *err, size_t errlen)
{
    int64_t d[2] = { rows, cols };
    mg_st_tensor *t = tensor(m, suffix, 2, d, err, errlen);
    if (!t) return -1;
    *w = (mg_nn_weight){ t->dtype, t->data, rows, cols };
    return 0;
}

static float *vec(g3 *m, const char *suffix, int64_t n, char *err, size_t errlen)
{
    mg_st_tensor *t = tensor(m, suffix, 1, &n, err, errlen);
    if (!t) return NULL;
    float *p = own(m, malloc((size_t)n * sizeof(float)));
    if (!p) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    mg_st_to_f32(t, 0, n, p);
    return p;
}

/* config.json getters: absent or null -> the transformers default. */
static int cfg_int(json_t *o, const char *key, int64_t def, int64_t lo, int64_t hi, int64_t *out,
                   char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) { *out = def; return 0; }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        mg_seterr(err, errlen, "config.json: '%s' must be an integer in [%lld, %lld]", key,
                  (long long)lo, (long long)hi);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

static int cfg_num(json_t *o, const char *key, double def, int nullable, double *out,
                   char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) { *out = nullable ? 0 : def; if (!v) *out = def; return 0; }
    if (!json_is_number(v)) {
        mg_seterr(err, errlen, "config.json: '%s' must be a number", key);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

/* One rotary setting {"rope_type" (or "type"): "default"|"linear", "factor",
 * "rope_theta"} into *theta (when present) and *factor. */
static int rope_setting(json_t *rs, const char *what, double *theta, double *factor,
                        char *err, size_t errlen)
{
    const char *type = json_string_value(json_object_get(rs, "rope_type"));
    if (!type) type = json_string_value(json_object_get(rs, "type"));
    if (!json_is_object(rs) || !type) {
        mg_seterr(err, errlen, "config.json: %s needs a rope_type", what);
        return -1;
    }
    if (cfg_num(rs, "rope_theta", *theta, 0, theta, err, errlen) < 0) return -1;
    *factor = 1.0;
    if (strcmp(type, "default") == 0) return 0;
    if (strcmp(type, "linear") != 0) {
        mg_seterr(err, errlen, "config.json: unsupported %s type '%s' (linear, default)", what, type);
        return -1;
    }
    if (cfg_num(rs, "factor", 1.0, 0, factor, err, errlen) < 0) return -1;
    if (!(*factor > 0)) {
        mg_seterr(err, errlen, "config.json: %s factor must be positive", what);
        return -1;
    }
    return 0;
}

/* Rotary bases and the global layers' scaling: rope_theta, rope_local_base_freq
 * and rope_scaling (global layers only), or transformers' newer rope_parameters
 * {"full_attention": {…}, "sliding_attention": {…}}. */
static int rope_config(json_t *tc, double *global, double *factor, double *local,
                       char *err, size_t errlen)
{
    double lf;
    if (cfg_num(tc, "rope_theta", 1e6, 0, global, err, errlen) < 0 ||
        cfg_num(tc, "rope_local_base_freq", 1e4, 0, local, err, errlen) < 0) return -1;
    *factor = 1.0;
    json_t *rp = json_object_get(tc, "rope_parameters");
    if (rp && !json_is_null(rp)) {
        json_t *f = json_object_get(rp, "full_attention"), *sl = json_object_get(rp, "sliding_attention");
        if (f && rope_setting(f, "rope_parameters.full_attention", global, factor, err, errlen) < 0)
            return -1;
        if (sl && rope_setting(sl, "rope_parameters.sliding_attention", local, &lf, err, errlen) < 0)
            return -1;
        if (sl && lf != 1.0) {
            mg_seterr(err, errlen, "config.json: scaled rotary embeddings on sliding layers are not supported");
            return -1;
        }
        return 0;
    }
    json_t *rs = json_object_get(tc, "rope_scaling");
    if (!rs || json_is_null(rs)) return 0;
    double unused = *global;
    return rope_setting(rs, "rope_scaling", &unused, factor, err, errlen);
}

static int token_id(json_t *o, const char *key, int32_t def, int32_t *out, char *err, size_t errlen)
{
    int64_t v;
    if (cfg_int(o, key, def, -1, INT32_MAX, &v, err, errlen) < 0) return -1;
    *out = (int32_t)v;
    return 0;
}

/* eos_token_id: an integer or a list, at the top level or in text_config. */
static int eos_ids(json_t *cfg, json_t *tc, mg_decoder_info *info, char *err, size_t errlen)
{
    json_t *e = json_object_get(cfg, "eos_token_id");
    if (!e || json_is_null(e)) e = json_object_get(tc, "eos_token_id");
    info->n_eos = 0;
    if (!e || json_is_null(e)) { info->eos[info->n_eos++] = 1; return 0; }    /* Gemma default */
    if (json_is_integer(e)) { info->eos[info->n_eos++] = (int32_t)json_integer_value(e); return 0; }
    size_t i;
    json_t *v;
    if (!json_is_array(e)) goto bad;
    json_array_foreach(e, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) goto bad;
        if (info->n_eos < MG_DECODER_MAX_EOS) info->eos[info->n_eos++] = (int32_t)json_integer_value(v);
    }
    return 0;
bad:
    mg_seterr(err, errlen, "config.json: eos_token_id must be an id or a list of ids");
    return -1;
}

static void g3_free(void *p)
{
    g3 *m = p;
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    if (m->layer)
        for (int i = 0; i < m->L; i++) { free(m->layer[i].kc); free(m->layer[i].vc); }
    free(m->layer);
    free(m->span);
    free(m->pos);
    free(m->work);
    free(m);
}

static int load_layer(g3 *m, int i, int bias, char *err, size_t errlen)
{
    g3_layer *l = &m->layer[i];
    char nm[128];
    int64_t D = m->D, F = m->F, qd = (int64_t)m->H * m->hd, kvd = (int64_t)m->KV * m->hd;
#define NM(s) (snprintf(nm, sizeof nm, "layers.%d.%s", i, s), nm)
    if (matrix(m, NM("self_attn.q_proj.weight"), qd, D, &l->q, err, errlen) < 0 ||
        matrix(m, NM("self_attn.k_proj.weight"), kvd, D, &l->k, err, errlen) < 0 ||
        matrix(m, NM("self_attn.v_proj.weight"), kvd, D, &l->v, err, errlen) < 0 ||
        matrix(m, NM("self_attn.o_proj.weight"), D, qd, &l->o, err, errlen) < 0 ||
        matrix(m, NM("mlp.gate_proj.weight"), F, D, &l->gate, err, errlen) < 0 ||
        matrix(m, NM("mlp.up_proj.weight"), F, D, &l->up, err, errlen) < 0 ||
        matrix(m, NM("mlp.down_proj.weight"), D, F, &l->down, err, errlen) < 0) return -1;
    if (!(l->in_norm = vec(m, NM("input_layernorm.weight"), D, err, errlen)) ||
        !(l->post_attn_norm = vec(m, NM("post_attention_layernorm.weight"), D, err, errlen)) ||
        !(l->pre_ff_norm = vec(m, NM("pre_feedforward_layernorm.weight"), D, err, errlen)) ||
        !(l->post_ff_norm = vec(m, NM("post_feedforward_layernorm.weight"), D, err, errlen)) ||
        !(l->q_norm = vec(m, NM("self_attn.q_norm.weight"), m->hd, err, errlen)) ||
        !(l->k_norm = vec(m, NM("self_attn.k_norm.weight"), m->hd, err, errlen))) return -1;
    if (bias &&     /* attention_bias: q/k/v/o_proj carry biases */
        (!(l->q_b = vec(m, NM("self_attn.q_proj.bias"), qd, err, errlen)) ||
         !(l->k_b = vec(m, NM("self_attn.k_proj.bias"), kvd, err, errlen)) ||
         !(l->v_b = vec(m, NM("self_attn.v_proj.bias"), kvd, err, errlen)) ||
         !(l->o_b = vec(m, NM("self_attn.o_proj.bias"), D, err, errlen)))) return -1;
#undef NM
    /* The cache: address space only until positions are written. */
    size_t cb = (size_t)m->max_ctx * (size_t)kvd * sizeof(float);
    if (!(l->kc = malloc(cb)) || !(l->vc = malloc(cb))) {
        mg_seterr(err, errlen, "out of memory for a %lld-position cache", (long long)m->max_ctx);
        return -1;
    }
    return 0;
}

/* Round a float to the weight dtype (transformers multiplies by
 * embed_scale.to(weight.dtype)). */
static float round_to_dtype(float f, int dtype)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if (dtype == MG_ST_BF16) {
        u = (u + 0x7fffu + ((u >> 16) & 1)) & 0xffff0000u;
        memcpy(&f, &u, 4);
    } else if (dtype == MG_ST_F16) {
        f = (float)(_Float16)f;
    }
    return f;
}

static void *g3_load(mg_st *st, void *cfgp, const char *model_type, int64_t max_ctx,
                     mg_decoder_info *info, char *err, size_t errlen)
{
    json_t *cfg = cfgp, *tc = cfg;
    int multimodal = strcmp(model_type, "gemma3") == 0;
    g3 *m = calloc(1, sizeof *m);
    if (!m) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    m->st = st;
    m->type = model_type;
    if (multimodal) {
        tc = json_object_get(cfg, "text_config");
        if (!json_is_object(tc)) {
            mg_seterr(err, errlen, "config.json: gemma3 needs a text_config object");
            goto fail;
        }
    }
    /* Gemma3TextConfig defaults (transformers configuration_gemma3.py). */
    int64_t D, F, L, H, KV, hd, maxpos, window, pattern, bias = 0;
    double eps, qpas, theta, local, factor, acap, fcap;
    if (cfg_int(tc, "hidden_size", 2304, 1, 1 << 16, &D, err, errlen) < 0 ||
        cfg_int(tc, "intermediate_size", 9216, 1, 1 << 18, &F, err, errlen) < 0 ||
        cfg_int(tc, "num_hidden_layers", 26, 1, 1024, &L, err, errlen) < 0 ||
        cfg_int(tc, "num_attention_heads", 8, 1, 1024, &H, err, errlen) < 0 ||
        cfg_int(tc, "num_key_value_heads", 4, 1, 1024, &KV, err, errlen) < 0 ||
        cfg_int(tc, "head_dim", 256, 2, MG_NN_ROPE_MAX_HD, &hd, err, errlen) < 0 ||
        cfg_int(tc, "vocab_size", 262208, 1, 1 << 24, &m->vocab, err, errlen) < 0 ||
        cfg_int(tc, "max_position_embeddings", 131072, 1, INT32_MAX, &maxpos, err, errlen) < 0 ||
        cfg_int(tc, "sliding_window", 4096, 1, INT32_MAX, &window, err, errlen) < 0 ||
        cfg_int(tc, "sliding_window_pattern", 6, 1, 1 << 20, &pattern, err, errlen) < 0 ||
        cfg_num(tc, "rms_norm_eps", 1e-6, 0, &eps, err, errlen) < 0 ||
        cfg_num(tc, "query_pre_attn_scalar", 256, 0, &qpas, err, errlen) < 0 ||
        cfg_num(tc, "attn_logit_softcapping", 0, 1, &acap, err, errlen) < 0 ||
        cfg_num(tc, "final_logit_softcapping", 0, 1, &fcap, err, errlen) < 0 ||
        rope_config(tc, &theta, &factor, &local, err, errlen) < 0) goto fail;
    json_t *jb = json_object_get(tc, "attention_bias");
    if (jb && !json_is_null(jb)) {
        if (!json_is_boolean(jb)) { mg_seterr(err, errlen, "config.json: 'attention_bias' must be true or false"); goto fail; }
        bias = json_is_true(jb);
    }
    if (H % KV || hd % 2 || !(qpas > 0) || !(theta > 0) || !(local > 0) || eps < 0 || acap < 0 || fcap < 0) {
        mg_seterr(err, errlen, "config.json: unsupported attention settings (heads %lld, kv heads %lld, "
                  "head_dim %lld)", (long long)H, (long long)KV, (long long)hd);
        goto fail;
    }
    const char *act = json_string_value(json_object_get(tc, "hidden_activation"));
    if (!act) act = json_string_value(json_object_get(tc, "hidden_act"));
    if (!act) act = "gelu_pytorch_tanh";
    if (strcmp(act, "gelu_pytorch_tanh") == 0 || strcmp(act, "gelu_new") == 0 ||
        strcmp(act, "gelu_fast") == 0) m->act = MG_ACT_GELU_TANH;
    else if (strcmp(act, "gelu") == 0) m->act = MG_ACT_GELU_ERF;
    else { mg_seterr(err, errlen, "config.json: unsupported hidden_activation '%s'", act); goto fail; }
    m->D = (int)D; m->F = (int)F; m->L = (int)L; m->H = (int)H; m->KV = (int)KV; m->hd = (int)hd;
    m->eps = (float)eps;
    m->scale = (float)(1.0 / sqrt(qpas));
    m->attn_cap = (float)acap;
    /* Gemma3ForConditionalGeneration returns the logits uncapped. */
    m->final_cap = multimodal ? 0.0f : (float)fcap;
    m->window = window;
    if (max_ctx <= 0) max_ctx = maxpos < 8192 ? maxpos : 8192;
    if (max_ctx > maxpos) {
        mg_seterr(err, errlen, "context %lld exceeds max_position_embeddings %lld",
                  (long long)max_ctx, (long long)maxpos);
        goto fail;
    }
    m->max_ctx = max_ctx;

    m->layer = calloc((size_t)L, sizeof *m->layer);
    m->span = calloc((size_t)max_ctx, sizeof *m->span);
    m->inv_local = own(m, malloc((size_t)hd / 2 * sizeof(float)));
    m->inv_global = own(m, malloc((size_t)hd / 2 * sizeof(float)));
    if (!m->layer || !m->span || !m->inv_local || !m->inv_global) {
        mg_seterr(err, errlen, "out of memory");
        goto fail;
    }
    mg_nn_rope_inv_freq((int)hd, local, 1.0, m->inv_local);
    mg_nn_rope_inv_freq((int)hd, theta, factor, m->inv_global);

    /* layer_types, else every pattern-th layer global (transformers' fallback). */
    json_t *lt = json_object_get(tc, "layer_types");
    if (lt && !json_is_null(lt) && (!json_is_array(lt) || json_array_size(lt) != (size_t)L)) {
        mg_seterr(err, errlen, "config.json: layer_types must list %lld layer types", (long long)L);
        goto fail;
    }
    for (int i = 0; i < L; i++) {
        if (lt && !json_is_null(lt)) {
            const char *s = json_string_value(json_array_get(lt, (size_t)i));
            if (s && strcmp(s, "sliding_attention") == 0) m->layer[i].sliding = 1;
            else if (!s || strcmp(s, "full_attention") != 0) {
                mg_seterr(err, errlen, "config.json: unsupported layer type '%s'", s ? s : "?");
                goto fail;
            }
        } else m->layer[i].sliding = (i + 1) % pattern != 0;
    }

    /* Tensor names: language_model.model.* (original Gemma 3 saves) or
     * model.language_model.* (transformers' newer layout) for gemma3;
     * model.* for Gemma3ForCausalLM. */
    const char *pfx[3] = { "model.", NULL, NULL };
    if (multimodal) { pfx[0] = "language_model.model."; pfx[1] = "model.language_model."; }
    for (int k = 0; pfx[k]; k++) {
        char nm[160];
        snprintf(nm, sizeof nm, "%sembed_tokens.weight", pfx[k]);
        snprintf(m->prefix, sizeof m->prefix, "%s", pfx[k]);
        if (mg_st_find(st, nm)) break;
    }
    int64_t ed[2] = { m->vocab, D };
    mg_st_tensor *et = tensor(m, "embed_tokens.weight", 2, ed, err, errlen);
    if (!et) goto fail;
    m->embed = (mg_nn_weight){ et->dtype, et->data, m->vocab, D };
    m->embed_scale = round_to_dtype(sqrtf((float)D), et->dtype);
    for (int i = 0; i < L; i++) if (load_layer(m, i, (int)bias, err, errlen) < 0) goto fail;
    if (!(m->final_norm = vec(m, "norm.weight", D, err, errlen))) goto fail;
    int tie = 1;
    json_t *jt = json_object_get(cfg, "tie_word_embeddings");
    if (!jt || json_is_null(jt)) jt = json_object_get(tc, "tie_word_embeddings");
    if (jt && json_is_boolean(jt)) tie = json_is_true(jt);
    m->head = m->embed;
    char saved[96];
    snprintf(saved, sizeof saved, "%s", m->prefix);
    if (!tie) {
        /* lm_head sits beside the model: "lm_head." or "language_model.lm_head." */
        const char *hp = strcmp(saved, "language_model.model.") == 0 ? "language_model." : "";
        snprintf(m->prefix, sizeof m->prefix, "%s", hp);
        if (matrix(m, "lm_head.weight", m->vocab, D, &m->head, err, errlen) < 0) goto fail;
    }
    /* Every tensor of the text model must have been used. */
    for (int i = 0; i < mg_st_count(st); i++) {
        const mg_st_tensor *t = mg_st_at(st, i);
        if (t->used || strncmp(t->name, saved, strlen(saved)) != 0) continue;
        mg_seterr(err, errlen, "%s: unexpected tensor '%s' in the checkpoint", model_type, t->name);
        goto fail;
    }

    info->hidden = m->D;
    info->vocab = m->vocab;
    info->max_ctx = m->max_ctx;
    if (token_id(cfg, "bos_token_id", 2, &info->bos, err, errlen) < 0 ||
        token_id(cfg, "pad_token_id", 0, &info->pad, err, errlen) < 0 ||
        eos_ids(cfg, tc, info, err, errlen) < 0) goto fail;
    info->image_token = info->boi_token = info->eoi_token = -1;
    info->mm_tokens = 0;
    if (multimodal) {
        int64_t mm;
        json_t *img = json_object_get(cfg, "image_token_index");
        if (!img) img = json_object_get(cfg, "image_token_id");
        if (token_id(cfg, "boi_token_index", 255999, &info->boi_token, err, errlen) < 0 ||
            token_id(cfg, "eoi_token_index", 256000, &info->eoi_token, err, errlen) < 0 ||
            cfg_int(cfg, "mm_tokens_per_image", 256, 1, 1 << 20, &mm, err, errlen) < 0) goto fail;
        info->image_token = img && json_is_integer(img) ? (int32_t)json_integer_value(img) : 262144;
        info->mm_tokens = (int)mm;
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
    mg_st_tensor t = {0};
    t.dtype = m->embed.dtype;
    t.data = m->embed.data;
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= m->vocab) {
            mg_seterr(err, errlen, "token id %d outside the embedding (%lld rows)", ids[i],
                      (long long)m->vocab);
            return -1;
        }
        float *r = x + i * m->D;
        mg_st_to_f32(&t, (int64_t)ids[i] * m->D, m->D, r);
        for (int c = 0; c < m->D; c++) r[c] *= m->embed_scale;
    }
    return 0;
}

/* y[n, w->rows] (row stride ldy) = x · Wᵀ + b: the vector kernel for one row
 * (decoding), the GEMM path for a batch of prompt rows. */
static int lin(const mg_nn_ctx *ctx, const float *x, int64_t n, const mg_nn_weight *w,
               const float *b, float *y, int64_t ldy)
{
    if (n == 1) return mg_nn_gemv(ctx, w, w->rows, x, b, y);
    return mg_nn_linear(ctx, x, n, w, b, y, ldy);
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
        float *kc = l->kc + p0 * kvd, *vc = l->vc + p0 * kvd;
        const float *inv = l->sliding ? m->inv_local : m->inv_global;
        mg_nn_rms_norm_gemma(ctx, x, h, n, D, l->in_norm, m->eps);
        if (lin(ctx, h, n, &l->q, l->q_b, q, qd) < 0 || lin(ctx, h, n, &l->k, l->k_b, kc, kvd) < 0 ||
            lin(ctx, h, n, &l->v, l->v_b, vc, kvd) < 0) return -1;
        mg_nn_rms_norm_gemma(ctx, q, q, n * m->H, m->hd, l->q_norm, m->eps);
        mg_nn_rms_norm_gemma(ctx, kc, kc, n * m->KV, m->hd, l->k_norm, m->eps);
        if (mg_nn_rope(ctx, q, n, qd, m->H, m->hd, m->pos, inv) < 0 ||
            mg_nn_rope(ctx, kc, n, kvd, m->KV, m->hd, m->pos, inv) < 0) return -1;
        mg_nn_mask mask = { l->sliding ? m->window : 0, m->span };
        if (mg_nn_attention_cached(ctx, q, qd, n, m->pos, l->kc, l->vc, kvd, p0 + n, m->H, m->KV,
                                   m->hd, m->scale, m->attn_cap, &mask, a, qd) < 0) return -1;
        if (lin(ctx, a, n, &l->o, l->o_b, h, D) < 0) return -1;
        mg_nn_rms_norm_gemma(ctx, h, h, n, D, l->post_attn_norm, m->eps);
        add_rows(x, h, n * D);
        mg_nn_rms_norm_gemma(ctx, x, h, n, D, l->pre_ff_norm, m->eps);
        if (lin(ctx, h, n, &l->gate, NULL, g, F) < 0 || lin(ctx, h, n, &l->up, NULL, u, F) < 0)
            return -1;
        mg_nn_activate(ctx, g, n * F, m->act);
        for (int64_t i = 0; i < n * F; i++) g[i] *= u[i];
        if (lin(ctx, g, n, &l->down, NULL, h, D) < 0) return -1;
        mg_nn_rms_norm_gemma(ctx, h, h, n, D, l->post_ff_norm, m->eps);
        add_rows(x, h, n * D);
    }
    m->len = p0 + n;
    if (!logits) return 0;
    int64_t r0 = all_rows ? 0 : n - 1, nr = n - r0;
    mg_nn_rms_norm_gemma(ctx, x + r0 * D, h, nr, D, m->final_norm, m->eps);
    mg_nn_weight head = m->head;
    head.rows = n_vocab;
    if (lin(ctx, h, nr, &head, NULL, logits, n_vocab) < 0) return -1;
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
    mg_nn_begin(ctx);
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
        if (g3_pass(m, ctx, x + i0 * m->D, c, lg, n_vocab, all_rows) < 0) {
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
    m->len = n;
    return 0;
}

const mg_decoder_ops mg_gemma3_text_ops = {
    g3_load, g3_free, g3_embed, g3_forward, g3_length, g3_truncate
};

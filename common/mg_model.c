/* mg_model.c: config.json parsing, checkpoint lookup, and dispatch to the
 * model families in common/models/. */
#include "mg_model.h"
#include "mg_err.h"
#include "models/models.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mg_load_error(mg_loader *L, const char *fmt, ...)
{
    if (!L->err || !L->errlen) return;
    int n = snprintf(L->err, L->errlen, "%s: ", L->m->type[0] ? L->m->type : "config.json");
    if (n < 0 || (size_t)n >= L->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void *own(mg_model *m, void *p)
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

static const char *full_name(mg_loader *L, const char *suffix)
{
    snprintf(L->name, sizeof L->name, "%s%s", L->prefix, suffix);
    return L->name;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *dims)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

int mg_load_has(mg_loader *L, const char *suffix)
{
    return mg_st_find(L->m->st, full_name(L, suffix)) != NULL;
}

const mg_st_tensor *mg_load_tensor(mg_loader *L, const char *suffix, int ndim, const int64_t *dims)
{
    const char *name = full_name(L, suffix);
    mg_st_tensor *t = mg_st_find(L->m->st, name);
    if (!t) { mg_load_error(L, "missing tensor '%s'", name); return NULL; }
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == dims[i];
    if (!ok) {
        char have[128], want[128];
        shape_str(have, sizeof have, t->ndim, t->shape);
        shape_str(want, sizeof want, ndim, dims);
        mg_load_error(L, "tensor '%s' has shape %s, expected %s", name, have, want);
        return NULL;
    }
    if (t->dtype != MG_ST_F32 && t->dtype != MG_ST_F16 && t->dtype != MG_ST_BF16) {
        mg_load_error(L, "tensor '%s' has dtype %s; F32, F16 or BF16 needed", name,
                      mg_st_dtype_name(t->dtype));
        return NULL;
    }
    t->used = 1;
    return t;
}

int mg_load_matrix(mg_loader *L, const char *suffix, int64_t rows, int64_t cols, mg_nn_weight *w)
{
    int64_t d[2] = { rows, cols };
    const mg_st_tensor *t = mg_load_tensor(L, suffix, 2, d);
    if (!t) return -1;
    w->dtype = t->dtype;
    w->data = t->data;
    w->rows = rows;
    w->cols = cols;
    return 0;
}

float *mg_load_f32(mg_loader *L, const char *suffix, int ndim, const int64_t *dims)
{
    const mg_st_tensor *t = mg_load_tensor(L, suffix, ndim, dims);
    if (!t) return NULL;
    float *p = own(L->m, malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float)));
    if (!p) { mg_load_error(L, "out of memory"); return NULL; }
    mg_st_to_f32(t, 0, t->numel, p);
    return p;
}

float *mg_load_vec(mg_loader *L, const char *suffix, int64_t n)
{
    return mg_load_f32(L, suffix, 1, &n);
}

int mg_load_linear(mg_loader *L, const char *base, int64_t out, int64_t in, int bias,
                   mg_nn_weight *w, float **b)
{
    char nm[400];
    snprintf(nm, sizeof nm, "%s.weight", base);
    if (mg_load_matrix(L, nm, out, in, w) < 0) return -1;
    *b = NULL;
    if (!bias) return 0;
    snprintf(nm, sizeof nm, "%s.bias", base);
    return (*b = mg_load_vec(L, nm, out)) ? 0 : -1;
}

int mg_load_check_unused(mg_loader *L, const char *prefix, const char *const *ignore)
{
    size_t pl = strlen(prefix);
    for (int i = 0; i < mg_st_count(L->m->st); i++) {
        const mg_st_tensor *t = mg_st_at(L->m->st, i);
        if (t->used || strncmp(t->name, prefix, pl) != 0) continue;
        int skip = 0;
        for (int k = 0; ignore && ignore[k] && !skip; k++)
            skip = strncmp(t->name + pl, ignore[k], strlen(ignore[k])) == 0;
        if (!skip) {
            mg_load_error(L, "unexpected tensor '%s' in the checkpoint", t->name);
            return -1;
        }
    }
    return 0;
}

/* ---- config.json ---- */
int mg_cfg_int(mg_loader *L, json_t *o, const char *key, int def, int *out)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v || json_is_null(v)) { *out = def; return 0; }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1 << 24) {
        mg_load_error(L, "config.json: '%s' must be a non-negative integer", key);
        return -1;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

int mg_cfg_num(mg_loader *L, json_t *o, const char *key, double def, double *out)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v || json_is_null(v)) { *out = def; return 0; }
    if (!json_is_number(v)) {
        mg_load_error(L, "config.json: '%s' must be a number", key);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

int mg_cfg_bool(mg_loader *L, json_t *o, const char *key, int def, int *out)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v || json_is_null(v)) { *out = def; return 0; }
    if (!json_is_boolean(v)) {
        mg_load_error(L, "config.json: '%s' must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int mg_cfg_ints(mg_loader *L, json_t *o, const char *key, int n, const int *def, int *out)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v || json_is_null(v)) { memcpy(out, def, (size_t)n * sizeof *out); return 0; }
    size_t len = json_is_array(v) ? json_array_size(v) : 1;
    if (len != 1 && len != (size_t)n) goto bad;
    for (int i = 0; i < n; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, len == 1 ? 0 : (size_t)i) : v;
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 1 << 24) goto bad;
        out[i] = (int)json_integer_value(e);
    }
    return 0;
bad:
    mg_load_error(L, "config.json: '%s' must be a positive integer or a list of %d", key, n);
    return -1;
}

int mg_cfg_act(mg_loader *L, json_t *o, const char *key, const char *def, int *act)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    const char *s = v && !json_is_null(v) ? json_string_value(v) : def;
    if (!s) { mg_load_error(L, "config.json: '%s' must be a string", key); return -1; }
    /* transformers ACT2FN names */
    if (strcmp(s, "gelu") == 0) *act = MG_ACT_GELU_ERF;
    else if (strcmp(s, "gelu_pytorch_tanh") == 0 || strcmp(s, "gelu_new") == 0 ||
             strcmp(s, "gelu_fast") == 0) *act = MG_ACT_GELU_TANH;
    else if (strcmp(s, "quick_gelu") == 0) *act = MG_ACT_QUICK_GELU;
    else {
        mg_load_error(L, "config.json: unsupported %s '%s'", key, s);
        return -1;
    }
    return 0;
}

/* ---- the model ---- */
mg_model *mg_model_load(const char *dir, char *err, size_t errlen)
{
    mg_model *m = calloc(1, sizeof *m);
    json_t *cfg = NULL;
    char path[4096];
    if (!m) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    mg_loader L = { .m = m, .err = err, .errlen = errlen };
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t je;
    cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!cfg) { mg_seterr(err, errlen, "config.json: %s", je.text); goto fail; }
    const char *type = json_string_value(json_object_get(cfg, "model_type"));
    if (!json_is_object(cfg) || !type) {
        mg_seterr(err, errlen, "config.json: no model_type string");
        goto fail;
    }
    snprintf(m->type, sizeof m->type, "%s", type);
    int fam = strcmp(type, "siglip") == 0 || strcmp(type, "siglip_vision_model") == 0 ? MG_FAM_SIGLIP
            : strcmp(type, "gemma3") == 0 ? MG_FAM_GEMMA3
            : strcmp(type, "dinov2") == 0 || strcmp(type, "dinov2_with_registers") == 0 ? MG_FAM_DINOV2
            : strcmp(type, "vit") == 0 ? MG_FAM_VIT : 0;
    if (!fam) {
        mg_seterr(err, errlen, "config.json: unsupported model_type '%s' (supported: siglip, "
               "siglip_vision_model, gemma3, dinov2, dinov2_with_registers, vit)", type);
        goto fail;
    }
    m->family = fam;
    m->st = mg_st_open_dir(dir, err, errlen);
    if (!m->st) goto fail;
    int rc;
    switch (fam) {
    case MG_FAM_SIGLIP: {
        json_t *v = strcmp(type, "siglip") == 0 ? json_object_get(cfg, "vision_config") : cfg;
        snprintf(L.prefix, sizeof L.prefix, "vision_model.");
        rc = mg_siglip_load(&L, v, 1);
        if (rc == 0) rc = mg_load_check_unused(&L, "vision_model.", NULL);
        break;
    }
    case MG_FAM_GEMMA3: rc = mg_gemma3_load(&L, cfg); break;
    case MG_FAM_DINOV2: rc = mg_dinov2_load(&L, cfg, strcmp(type, "dinov2_with_registers") == 0); break;
    default: rc = mg_vit_load(&L, cfg); break;
    }
    if (rc < 0) goto fail;
    json_decref(cfg);
    return m;
fail:
    json_decref(cfg);
    mg_model_free(m);
    return NULL;
}

void mg_model_free(mg_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->t.layer);
    mg_st_close(m->st);
    free(m);
}

const char *mg_model_type(const mg_model *m) { return m->type; }
int mg_model_channels(const mg_model *m) { return m->t.channels; }
int mg_model_image_size(const mg_model *m) { return m->t.image_size; }

mg_output mg_model_default_output(const mg_model *m)
{
    if (m->family == MG_FAM_GEMMA3) return MG_OUT_PROJECTED;
    if (m->family == MG_FAM_SIGLIP && !m->has_head) return MG_OUT_MEAN;
    return MG_OUT_POOLED;
}

static const char *const out_names[] = { "default", "pooled", "mean", "tokens", "projected" };

mg_output mg_output_from_name(const char *s)
{
    for (int i = 1; i < 5; i++) if (strcmp(s, out_names[i]) == 0) return (mg_output)i;
    return MG_OUT_DEFAULT;
}

const char *mg_output_name(mg_output k) { return k >= 0 && k < 5 ? out_names[k] : "?"; }

int mg_model_output_shape(const mg_model *m, mg_output kind, int c, int h, int w,
                          int64_t shape[2], char *err, size_t errlen)
{
    if (kind == MG_OUT_DEFAULT) kind = mg_model_default_output(m);
    if (mg_trunk_check(m, c, h, w, err, errlen) < 0) return -1;
    int64_t np = (int64_t)(h / m->t.patch) * (w / m->t.patch);
    switch (kind) {
    case MG_OUT_POOLED:
        if (m->family == MG_FAM_GEMMA3 || (m->family == MG_FAM_SIGLIP && !m->has_head)) {
            mg_seterr(err, errlen, "%s: this model has no pooled output (no pooling head); "
                   "use mean, tokens%s", m->type, m->family == MG_FAM_GEMMA3 ? " or projected" : "");
            return -1;
        }
        /* fall through */
    case MG_OUT_MEAN:
        shape[0] = m->t.dim;
        return 1;
    case MG_OUT_TOKENS:
        shape[0] = np;
        shape[1] = m->t.dim;
        return 2;
    case MG_OUT_PROJECTED:
        if (m->family != MG_FAM_GEMMA3) {
            mg_seterr(err, errlen, "%s: projected output needs a gemma3 checkpoint", m->type);
            return -1;
        }
        shape[0] = m->mm_tokens;
        shape[1] = m->text_dim;
        return 2;
    default:
        mg_seterr(err, errlen, "unknown output kind");
        return -1;
    }
}

/* Activation memory grows with batch × tokens (about 6·D + F floats per token),
 * so a batch is run in chunks of at most this many tokens (at least one image):
 * 8192 tokens of So400m are ~0.5 GiB. */
#define MG_MAX_BATCH_TOKENS 8192

static int encode_chunk(mg_model *m, const mg_nn_ctx *ctx, mg_output kind, const float *images,
                        int batch, int h, int w, float *out, char *err, size_t errlen)
{
    int64_t n_tok;
    float *x = mg_trunk_forward(m, ctx, images, batch, h, w, &n_tok, err, errlen);
    if (!x) return -1;
    int rc = 0;
    int64_t D = m->t.dim, skip = m->t.n_cls + m->t.n_reg, np = n_tok - skip;
    switch (kind) {
    case MG_OUT_POOLED:
        if (m->family == MG_FAM_SIGLIP) rc = mg_siglip_head(m, ctx, x, batch, n_tok, out);
        else
            for (int b = 0; b < batch; b++)
                memcpy(out + b * D, x + (int64_t)b * n_tok * D, (size_t)D * sizeof(float));
        break;
    case MG_OUT_MEAN:
        for (int b = 0; b < batch; b++)
            for (int64_t d = 0; d < D; d++) {
                double s = 0;
                for (int64_t i = skip; i < n_tok; i++) s += x[((int64_t)b * n_tok + i) * D + d];
                out[b * D + d] = (float)(s / (double)np);
            }
        break;
    case MG_OUT_TOKENS:
        for (int b = 0; b < batch; b++)
            memcpy(out + (int64_t)b * np * D, x + ((int64_t)b * n_tok + skip) * D,
                   (size_t)(np * D) * sizeof(float));
        break;
    case MG_OUT_PROJECTED:
        rc = mg_gemma3_project(m, ctx, x, batch, h / m->t.patch, w / m->t.patch, out);
        break;
    default:
        rc = -1;
    }
    free(x);
    if (rc < 0) mg_seterr(err, errlen, "%s: out of memory", m->type);
    return rc;
}

int mg_model_encode(mg_model *m, const mg_nn_ctx *ctx, mg_output kind, const float *images,
                    int batch, int c, int h, int w, float *out, char *err, size_t errlen)
{
    int64_t shape[2];
    if (kind == MG_OUT_DEFAULT) kind = mg_model_default_output(m);
    int nd = mg_model_output_shape(m, kind, c, h, w, shape, err, errlen);
    if (nd < 0) return -1;
    int64_t per_out = nd == 1 ? shape[0] : shape[0] * shape[1], per_in = (int64_t)c * h * w;
    int64_t n_tok = m->t.n_cls + m->t.n_reg + (int64_t)(h / m->t.patch) * (w / m->t.patch);
    int chunk = (int)(MG_MAX_BATCH_TOKENS / n_tok);
    if (chunk < 1) chunk = 1;
    mg_nn_begin(ctx);
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        int nb = batch - b0 < chunk ? batch - b0 : chunk;
        if (encode_chunk(m, ctx, kind, images + b0 * per_in, nb, h, w, out + b0 * per_out,
                         err, errlen) < 0) return -1;
    }
    return 0;
}

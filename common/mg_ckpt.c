/* mg_ckpt.c: config.json access, tensor lookup with shape checks, owned f32
 * copies and unused-tensor detection for the model families. */
#include "mg_ckpt.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mg_ckpt {
    char dir[4096];
    char type[64];
    json_t *cfg;
    mg_st *st;
    char prefix[128];
    char name[512];            /* the last full tensor name built */
    char *err;
    size_t errlen;
    void **owned;
    int n_owned, m_owned;
};

void mg_ckpt_error(mg_ckpt *ck, const char *fmt, ...)
{
    if (!ck->err || !ck->errlen) return;
    int n = snprintf(ck->err, ck->errlen, "%s: ", ck->type[0] ? ck->type : "config.json");
    if (n < 0 || (size_t)n >= ck->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ck->err + n, ck->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

mg_ckpt *mg_ckpt_open(const char *dir, char *err, size_t errlen)
{
    mg_ckpt *ck = calloc(1, sizeof *ck);
    if (!ck) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    ck->err = err;
    ck->errlen = errlen;
    snprintf(ck->dir, sizeof ck->dir, "%s", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t je;
    ck->cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!ck->cfg) { mg_seterr(err, errlen, "config.json: %s", je.text); goto fail; }
    const char *type = json_string_value(json_object_get(ck->cfg, "model_type"));
    if (!json_is_object(ck->cfg) || !type) {
        mg_seterr(err, errlen, "config.json: no model_type string");
        goto fail;
    }
    snprintf(ck->type, sizeof ck->type, "%s", type);
    return ck;
fail:
    mg_ckpt_close(ck);
    return NULL;
}

int mg_ckpt_open_tensors(mg_ckpt *ck, const char *file)
{
    if (file) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", ck->dir, file);
        ck->st = mg_st_open_file(path, ck->err, ck->errlen);
    } else {
        ck->st = mg_st_open_dir(ck->dir, ck->err, ck->errlen);
    }
    return ck->st ? 0 : -1;
}

void mg_ckpt_close(mg_ckpt *ck)
{
    if (!ck) return;
    for (int i = 0; i < ck->n_owned; i++) free(ck->owned[i]);
    free(ck->owned);
    mg_st_close(ck->st);
    json_decref(ck->cfg);
    free(ck);
}

void mg_ckpt_set_err(mg_ckpt *ck, char *err, size_t errlen)
{
    ck->err = err;
    ck->errlen = errlen;
}

const char *mg_ckpt_dir(const mg_ckpt *ck) { return ck->dir; }
const char *mg_ckpt_model_type(const mg_ckpt *ck) { return ck->type; }

/* ---- config.json ---- */
const mg_cfg *mg_ckpt_config(const mg_ckpt *ck) { return ck->cfg; }

const mg_cfg *mg_cfg_sub(const mg_cfg *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_object(v) ? v : NULL;
}

/* The value of key, or NULL when absent or null (the default applies). */
static json_t *cfg_get(const mg_cfg *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return v && !json_is_null(v) ? v : NULL;
}

int mg_cfg_int(mg_ckpt *ck, const mg_cfg *o, const char *key, int def, int *out)
{
    json_t *v = cfg_get(o, key);
    if (!v) { *out = def; return 0; }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1 << 24) {
        mg_ckpt_error(ck, "config.json: '%s' must be a non-negative integer", key);
        return -1;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

int mg_cfg_ints(mg_ckpt *ck, const mg_cfg *o, const char *key, int n, const int *def, int *out)
{
    json_t *v = cfg_get(o, key);
    if (!v) { memcpy(out, def, (size_t)n * sizeof *out); return 0; }
    size_t len = json_is_array(v) ? json_array_size(v) : 1;
    if (len != 1 && len != (size_t)n) goto bad;
    for (int i = 0; i < n; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, len == 1 ? 0 : (size_t)i) : v;
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 1 << 24) goto bad;
        out[i] = (int)json_integer_value(e);
    }
    return 0;
bad:
    mg_ckpt_error(ck, "config.json: '%s' must be a positive integer or a list of %d", key, n);
    return -1;
}

int mg_cfg_num(mg_ckpt *ck, const mg_cfg *o, const char *key, double def, double *out)
{
    json_t *v = cfg_get(o, key);
    if (!v) { *out = def; return 0; }
    if (!json_is_number(v)) {
        mg_ckpt_error(ck, "config.json: '%s' must be a number", key);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

int mg_cfg_bool(mg_ckpt *ck, const mg_cfg *o, const char *key, int def, int *out)
{
    json_t *v = cfg_get(o, key);
    if (!v) { *out = def; return 0; }
    if (!json_is_boolean(v)) {
        mg_ckpt_error(ck, "config.json: '%s' must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int mg_cfg_str(mg_ckpt *ck, const mg_cfg *o, const char *key, const char *def, const char **out)
{
    json_t *v = cfg_get(o, key);
    const char *s = v ? json_string_value(v) : def;
    if (v && !s) {
        mg_ckpt_error(ck, "config.json: '%s' must be a string", key);
        return -1;
    }
    *out = s;
    return 0;
}

int mg_cfg_act(mg_ckpt *ck, const mg_cfg *o, const char *key, const char *def, int *act)
{
    const char *s;
    if (mg_cfg_str(ck, o, key, def, &s) < 0) return -1;
    if (!s) { mg_ckpt_error(ck, "config.json: '%s' must be a string", key); return -1; }
    /* transformers ACT2FN names */
    if (strcmp(s, "gelu") == 0) *act = MG_ACT_GELU_ERF;
    else if (strcmp(s, "gelu_pytorch_tanh") == 0 || strcmp(s, "gelu_new") == 0 ||
             strcmp(s, "gelu_fast") == 0) *act = MG_ACT_GELU_TANH;
    else if (strcmp(s, "quick_gelu") == 0) *act = MG_ACT_QUICK_GELU;
    else {
        mg_ckpt_error(ck, "config.json: unsupported %s '%s'", key, s);
        return -1;
    }
    return 0;
}

/* ---- tensors ---- */
void mg_ckpt_set_prefix(mg_ckpt *ck, const char *prefix)
{
    snprintf(ck->prefix, sizeof ck->prefix, "%s", prefix);
}

const char *mg_ckpt_prefix(const mg_ckpt *ck) { return ck->prefix; }

static void *own(mg_ckpt *ck, void *p)
{
    if (!p) return NULL;
    if (ck->n_owned == ck->m_owned) {
        int nm = ck->m_owned ? 2 * ck->m_owned : 64;
        void **n = realloc(ck->owned, (size_t)nm * sizeof *n);
        if (!n) { free(p); return NULL; }
        ck->owned = n;
        ck->m_owned = nm;
    }
    ck->owned[ck->n_owned++] = p;
    return p;
}

static const char *full_name(mg_ckpt *ck, const char *suffix)
{
    snprintf(ck->name, sizeof ck->name, "%s%s", ck->prefix, suffix);
    return ck->name;
}

static void shape_str(char *buf, size_t n, int ndim, const int64_t *dims)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

int mg_ckpt_has(mg_ckpt *ck, const char *suffix)
{
    return ck->st && mg_st_find(ck->st, full_name(ck, suffix)) != NULL;
}

void mg_ckpt_skip(mg_ckpt *ck, const char *suffix)
{
    mg_st_tensor *t = ck->st ? mg_st_find(ck->st, full_name(ck, suffix)) : NULL;
    if (t) t->used = 1;
}

const mg_st_tensor *mg_ckpt_tensor(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims)
{
    const char *name = full_name(ck, suffix);
    mg_st_tensor *t = ck->st ? mg_st_find(ck->st, name) : NULL;
    if (!t) { mg_ckpt_error(ck, "missing tensor '%s'", name); return NULL; }
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == dims[i];
    if (!ok) {
        char have[128], want[128];
        shape_str(have, sizeof have, t->ndim, t->shape);
        shape_str(want, sizeof want, ndim, dims);
        mg_ckpt_error(ck, "tensor '%s' has shape %s, expected %s", name, have, want);
        return NULL;
    }
    if (t->dtype != MG_F32 && t->dtype != MG_F16 && t->dtype != MG_BF16) {
        mg_ckpt_error(ck, "tensor '%s' has dtype %s; F32, F16 or BF16 needed", name,
                      mg_st_dtype_name(t->dtype));
        return NULL;
    }
    t->used = 1;
    return t;
}

int mg_ckpt_flat_matrix(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims,
                        mg_nn_weight *w)
{
    const mg_st_tensor *t = mg_ckpt_tensor(ck, suffix, ndim, dims);
    if (!t) return -1;
    int64_t cols = 1;
    for (int i = 1; i < ndim; i++) cols *= dims[i];
    *w = (mg_nn_weight){ t->dtype, t->data, dims[0], cols };
    return 0;
}

int mg_ckpt_matrix(mg_ckpt *ck, const char *suffix, int64_t rows, int64_t cols, mg_nn_weight *w)
{
    int64_t d[2] = { rows, cols };
    return mg_ckpt_flat_matrix(ck, suffix, 2, d, w);
}

float *mg_ckpt_f32(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims)
{
    const mg_st_tensor *t = mg_ckpt_tensor(ck, suffix, ndim, dims);
    if (!t) return NULL;
    float *p = own(ck, malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float)));
    if (!p) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    if (mg_st_to_f32(t, 0, t->numel, p) < 0) {      /* not reached: the dtype was checked */
        mg_ckpt_error(ck, "tensor '%s': not a float dtype", t->name);
        return NULL;
    }
    return p;
}

double *mg_ckpt_f64(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims)
{
    const char *name = full_name(ck, suffix);
    mg_st_tensor *t = ck->st ? mg_st_find(ck->st, name) : NULL;
    if (!t) { mg_ckpt_error(ck, "missing tensor '%s'", name); return NULL; }
    int ok = t->ndim == ndim && t->dtype == MG_F64;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == dims[i];
    if (!ok) {
        char want[128];
        shape_str(want, sizeof want, ndim, dims);
        mg_ckpt_error(ck, "tensor '%s' is not F64 of shape %s", name, want);
        return NULL;
    }
    double *p = own(ck, malloc((size_t)(t->numel ? t->numel : 1) * sizeof *p));
    if (!p) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    memcpy(p, t->data, (size_t)t->numel * sizeof *p);
    t->used = 1;
    return p;
}

float *mg_ckpt_vec(mg_ckpt *ck, const char *suffix, int64_t n)
{
    return mg_ckpt_f32(ck, suffix, 1, &n);
}

int mg_ckpt_linear(mg_ckpt *ck, const char *base, int64_t out, int64_t in, int bias,
                   mg_nn_weight *w, float **b)
{
    char nm[400];
    snprintf(nm, sizeof nm, "%s.weight", base);
    if (mg_ckpt_matrix(ck, nm, out, in, w) < 0) return -1;
    *b = NULL;
    if (!bias) return 0;
    snprintf(nm, sizeof nm, "%s.bias", base);
    return (*b = mg_ckpt_vec(ck, nm, out)) ? 0 : -1;
}

int mg_ckpt_check_unused(mg_ckpt *ck, const char *prefix, const char *const *ignore)
{
    size_t pl = strlen(prefix);
    for (int i = 0; ck->st && i < mg_st_count(ck->st); i++) {
        const mg_st_tensor *t = mg_st_at(ck->st, i);
        if (t->used || strncmp(t->name, prefix, pl) != 0) continue;
        int skip = 0;
        for (int k = 0; ignore && ignore[k] && !skip; k++)
            skip = strncmp(t->name + pl, ignore[k], strlen(ignore[k])) == 0;
        if (!skip) {
            mg_ckpt_error(ck, "unexpected tensor '%s' in the checkpoint", t->name);
            return -1;
        }
    }
    return 0;
}

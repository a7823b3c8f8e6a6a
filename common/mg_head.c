/* mg_head.c: load, save and apply linear heads (mg_head.h). */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_err.h"
#include "mg_fit.h"
#include "mg_head.h"
#include "mg_output.h"
#include "mg_safetensors.h"
#include "mg_safetensors_write.h"

static void free_strv(char **v, int n)
{
    if (!v) return;
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void mg_head_free(mg_head *h)
{
    if (!h) return;
    free(h->input_name);
    free_strv(h->outputs, h->nout);
    free_strv(h->classes, h->nclasses);
    free(h->mean); free(h->scale); free(h->weight); free(h->bias);
    free(h->config_json);
    free(h);
}

/* Array of strings → malloc'ed vector; -1 if not an array of n strings. */
static int strv(json_t *a, char ***out, int *n)
{
    if (!json_is_array(a) || json_array_size(a) > MG_HEAD_MAX_OUT) return -1;
    int m = (int)json_array_size(a);
    char **v = calloc((size_t)(m ? m : 1), sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < m; i++) {
        const char *s = json_string_value(json_array_get(a, (size_t)i));
        if (!s || !(v[i] = strdup(s))) { free_strv(v, m); return -1; }
    }
    *out = v; *n = m;
    return 0;
}

/* An F64 tensor of the expected shape copied into a new array. */
static double *f64_tensor(mg_st *st, const char *name, int ndim, const int64_t *shape, char *err, size_t errlen)
{
    mg_st_tensor *t = mg_st_find(st, name);
    if (!t) { mg_seterr(err, errlen, "head.safetensors: no tensor %s", name); return NULL; }
    int ok = t->ndim == ndim && t->dtype == MG_F64;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        mg_seterr(err, errlen, "head.safetensors: tensor %s is not F64 of the shape config.json gives", name);
        return NULL;
    }
    double *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
    if (!v) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    memcpy(v, t->data, (size_t)t->numel * sizeof *v);
    t->used = 1;
    return v;
}

mg_head *mg_head_load(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    json_error_t je;
    mg_st *st = NULL;
    mg_head *h = calloc(1, sizeof *h);
    json_t *cfg = NULL;
    if (!h) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!(cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je))) {
        mg_seterr(err, errlen, "config.json: %s", je.text);
        goto fail;
    }
    const char *mt = json_string_value(json_object_get(cfg, "model_type"));
    if (!mt || strcmp(mt, MG_HEAD_MODEL_TYPE)) {
        mg_seterr(err, errlen, "config.json: model_type '%s' is not %s", mt ? mt : "", MG_HEAD_MODEL_TYPE);
        goto fail;
    }
    const char *task = json_string_value(json_object_get(cfg, "task"));
    if (!task || !(h->task = mg_fit_task_from_name(task))) {
        mg_seterr(err, errlen, "config.json: unknown task '%s'", task ? task : "");
        goto fail;
    }
    const char *in = json_string_value(json_object_get(cfg, "input_name"));
    json_t *dim = json_object_get(cfg, "input_dim"), *shp = json_object_get(cfg, "input_shape");
    if (!in || !json_is_integer(dim) || !json_is_array(shp) || json_array_size(shp) < 1 || json_array_size(shp) > 8) {
        mg_seterr(err, errlen, "config.json: input_name, input_dim and input_shape are required");
        goto fail;
    }
    json_int_t dv = json_integer_value(dim);
    if (dv < 1 || dv > MG_HEAD_MAX_DIM) { mg_seterr(err, errlen, "config.json: input_dim %lld out of range", (long long)dv); goto fail; }
    h->d = (int)dv;
    h->ndim = (int)json_array_size(shp);
    int64_t prod = 1;
    for (int i = 0; i < h->ndim; i++) {
        json_t *e = json_array_get(shp, (size_t)i);
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > MG_HEAD_MAX_DIM) {
            mg_seterr(err, errlen, "config.json: bad input_shape");
            goto fail;
        }
        h->shape[i] = json_integer_value(e);
        prod *= h->shape[i];
        if (prod > MG_HEAD_MAX_DIM) break;
    }
    if (prod != h->d) { mg_seterr(err, errlen, "config.json: input_shape does not multiply to input_dim"); goto fail; }
    if (!(h->input_name = strdup(in))) goto nomem;
    if (strv(json_object_get(cfg, "outputs"), &h->outputs, &h->nout) < 0 || h->nout < 1) {
        mg_seterr(err, errlen, "config.json: outputs must be a non-empty list of column names");
        goto fail;
    }
    json_t *cl = json_object_get(cfg, "classes");
    if (cl && !json_is_null(cl) && strv(cl, &h->classes, &h->nclasses) < 0) {
        mg_seterr(err, errlen, "config.json: classes must be a list of names");
        goto fail;
    }
    h->k = h->nout;
    if ((h->task == MG_FIT_BINARY && (h->nout != 1 || h->nclasses != 2)) ||
        (h->task == MG_FIT_MULTICLASS && (h->nout < 3 || h->nclasses != h->nout))) {
        mg_seterr(err, errlen, "config.json: outputs and classes do not fit a %s task", task);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/head.safetensors", dir);
    if (!(st = mg_st_open_file(path, err, errlen))) goto fail;
    int64_t sd[1] = { h->d }, sw[2] = { h->k, h->d }, sb[1] = { h->k };
    if (!(h->mean = f64_tensor(st, "norm.mean", 1, sd, err, errlen)) ||
        !(h->scale = f64_tensor(st, "norm.scale", 1, sd, err, errlen)) ||
        !(h->weight = f64_tensor(st, "linear.weight", 2, sw, err, errlen)) ||
        !(h->bias = f64_tensor(st, "linear.bias", 1, sb, err, errlen)))
        goto fail;
    for (int i = 0; i < mg_st_count(st); i++)
        if (!mg_st_at(st, i)->used) {
            mg_seterr(err, errlen, "head.safetensors: unexpected tensor %s", mg_st_at(st, i)->name);
            goto fail;
        }
    for (int c = 0; c < h->d; c++)
        if (!(h->scale[c] > 0) || !isfinite(h->mean[c])) { mg_seterr(err, errlen, "head.safetensors: bad norm.scale or norm.mean"); goto fail; }
    if (!(h->config_json = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) goto nomem;
    mg_st_close(st);
    json_decref(cfg);
    return h;
nomem:
    mg_seterr(err, errlen, "out of memory");
fail:
    mg_st_close(st);
    json_decref(cfg);
    mg_head_free(h);
    return NULL;
}

/* Remove a directory holding only plain files (a head written earlier). */
static int remove_head_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    char p[PATH_MAX];
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) < 0) rc = -1;
    }
    closedir(d);
    return rmdir(dir) < 0 ? -1 : rc;
}

int mg_head_save(const mg_head *h, const char *config_json, const char *dir, char *err, size_t errlen)
{
    char tmp[PATH_MAX], path[PATH_MAX + 32], old[PATH_MAX];
    struct stat sb;
    int have_old = 0;
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    if (snprintf(tmp, sizeof tmp, "%.*s.tmpXXXXXX", (int)dl, dir) >= (int)sizeof tmp) return mg_fail(err, errlen, "path too long");
    if (stat(dir, &sb) == 0) {
        /* replace only something that looks like a head directory */
        snprintf(path, sizeof path, "%.*s/config.json", (int)dl, dir);
        if (!S_ISDIR(sb.st_mode) || access(path, F_OK) < 0) {
            mg_seterr(err, errlen, "exists and is not a head directory");
            return -1;
        }
        have_old = 1;
    }
    if (!mkdtemp(tmp)) { mg_seterr(err, errlen, "cannot create a directory next to it: %s", strerror(errno)); return -1; }
    mg_stw *w = mg_stw_new();
    if (!w) { rmdir(tmp); return mg_fail(err, errlen, "out of memory"); }
    int64_t sd[1] = { h->d }, sw[2] = { h->k, h->d }, sk[1] = { h->k };
    int ok = mg_stw_add(w, "norm.mean", MG_F64, 1, sd, h->mean, err, errlen) == 0 &&
             mg_stw_add(w, "norm.scale", MG_F64, 1, sd, h->scale, err, errlen) == 0 &&
             mg_stw_add(w, "linear.weight", MG_F64, 2, sw, h->weight, err, errlen) == 0 &&
             mg_stw_add(w, "linear.bias", MG_F64, 1, sk, h->bias, err, errlen) == 0 &&
             mg_stw_set_meta(w, "format", "mgpipe", err, errlen) == 0;
    snprintf(path, sizeof path, "%s/head.safetensors", tmp);
    ok = ok && mg_stw_write(w, path, err, errlen) == 0;
    mg_stw_free(w);
    if (ok) {
        snprintf(path, sizeof path, "%s/config.json", tmp);
        mg_ofile *f = mg_ofile_open(path, NULL, err, errlen);
        size_t n = strlen(config_json);
        ok = f && fwrite(config_json, 1, n, mg_ofile_fp(f)) == n && fputc('\n', mg_ofile_fp(f)) != EOF;
        if (f && (mg_ofile_close(f, ok, err, errlen) < 0 || !ok)) {
            if (!ok) mg_seterr(err, errlen, "config.json: write failed: %s", strerror(errno));
            ok = 0;
        }
    }
    if (ok && have_old) {
        /* move the old head aside, put the new one in place, then delete the old */
        snprintf(old, sizeof old, "%.*s.oldXXXXXX", (int)dl, dir);
        if (!mkdtemp(old) || rmdir(old) < 0 || rename(dir, old) < 0) {
            mg_seterr(err, errlen, "cannot replace the existing head: %s", strerror(errno));
            ok = 0;
        }
    }
    if (ok && rename(tmp, dir) < 0) {
        mg_seterr(err, errlen, "rename failed: %s", strerror(errno));
        if (have_old) rename(old, dir);
        ok = 0;
    }
    if (!ok) { remove_head_dir(tmp); return -1; }
    if (have_old) remove_head_dir(old);
    return 0;
}

void mg_head_predict(const mg_head *h, const float *x, int64_t n, double *out)
{
    int d = h->d, k = h->k;
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + (size_t)i * (size_t)d;
        double *o = out + (size_t)i * (size_t)h->nout;
        for (int j = 0; j < k; j++) {
            const double *w = h->weight + (size_t)j * (size_t)d;
            double s = 0;
            /* the solver's arithmetic: (x − mean) · (w / scale) */
            for (int c = 0; c < d; c++) s += (r[c] - h->mean[c]) * (w[c] / h->scale[c]);
            o[j] = h->bias[j] + s;
        }
        if (h->task == MG_FIT_BINARY || h->task == MG_FIT_MULTILABEL) {
            for (int j = 0; j < k; j++) {
                double z = o[j];
                o[j] = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
            }
        } else if (h->task == MG_FIT_MULTICLASS) {
            double mx = o[0], sum = 0;
            for (int j = 1; j < k; j++) if (o[j] > mx) mx = o[j];
            for (int j = 0; j < k; j++) { o[j] = exp(o[j] - mx); sum += o[j]; }
            for (int j = 0; j < k; j++) o[j] /= sum;
        }
    }
}

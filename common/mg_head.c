/* mg_head.c: the head role — config.json fields every head has, the family
 * lookup (common/models/head.c), saving, and prediction through the family. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_ckpt.h"
#include "mg_err.h"
#include "mg_family.h"
#include "mg_fit.h"
#include "mg_head.h"
#include "mg_output.h"
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
    mg_ckpt_close(h->ck);                 /* owns the parameter arrays */
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

/* mg_seterr returning -1. */
static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The config.json fields every head has: task, input, outputs, classes. */
static int read_common(const json_t *cfg, mg_head *h, char *err, size_t errlen)
{
    const char *task = json_string_value(json_object_get(cfg, "task"));
    if (!task || !(h->task = mg_fit_task_from_name(task)))
        return bad(err, errlen, "config.json: unknown task '%s'", task ? task : "");
    const char *in = json_string_value(json_object_get(cfg, "input_name"));
    json_t *dim = json_object_get(cfg, "input_dim"), *shp = json_object_get(cfg, "input_shape");
    if (!in || !json_is_integer(dim) || !json_is_array(shp) || json_array_size(shp) < 1 || json_array_size(shp) > 8)
        return bad(err, errlen, "config.json: input_name, input_dim and input_shape are required");
    json_int_t dv = json_integer_value(dim);
    if (dv < 1 || dv > MG_HEAD_MAX_DIM)
        return bad(err, errlen, "config.json: input_dim %lld out of range", (long long)dv);
    h->d = (int)dv;
    h->ndim = (int)json_array_size(shp);
    int64_t prod = 1;
    for (int i = 0; i < h->ndim; i++) {
        json_t *e = json_array_get(shp, (size_t)i);
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > MG_HEAD_MAX_DIM)
            return bad(err, errlen, "config.json: bad input_shape");
        h->shape[i] = json_integer_value(e);
        prod *= h->shape[i];
        if (prod > MG_HEAD_MAX_DIM) break;
    }
    if (prod != h->d) return bad(err, errlen, "config.json: input_shape does not multiply to input_dim");
    if (!(h->input_name = strdup(in))) return mg_fail(err, errlen, "out of memory");
    if (strv(json_object_get(cfg, "outputs"), &h->outputs, &h->nout) < 0 || h->nout < 1)
        return bad(err, errlen, "config.json: outputs must be a non-empty list of column names");
    json_t *cl = json_object_get(cfg, "classes");
    if (cl && !json_is_null(cl) && strv(cl, &h->classes, &h->nclasses) < 0)
        return bad(err, errlen, "config.json: classes must be a list of names");
    h->k = h->nout;
    if ((h->task == MG_FIT_BINARY && (h->nout != 1 || h->nclasses != 2)) ||
        (h->task == MG_FIT_MULTICLASS && (h->nout < 3 || h->nclasses != h->nout)))
        return bad(err, errlen, "config.json: outputs and classes do not fit a %s task", task);
    return 0;
}

mg_head *mg_head_load(const char *dir, char *err, size_t errlen)
{
    mg_head *h = calloc(1, sizeof *h);
    if (!h) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (!(h->ck = mg_ckpt_open(dir, err, errlen))) goto fail;
    const char *type = mg_ckpt_model_type(h->ck);
    const mg_family *fam = mg_family_require(type, MG_ROLE_HEAD, err, errlen);
    if (!fam) goto fail;
    h->ops = fam->ops;
    if (read_common(mg_ckpt_config(h->ck), h, err, errlen) < 0) goto fail;
    mg_ckpt_set_prefix(h->ck, "");
    if (mg_ckpt_open_tensors(h->ck, "head.safetensors") < 0 || h->ops->load(h->ck, h) < 0 ||
        mg_ckpt_check_unused(h->ck, "", NULL) < 0)
        goto fail;
    for (int c = 0; c < h->d; c++)
        if (!(h->scale[c] > 0) || !isfinite(h->mean[c])) {
            mg_seterr(err, errlen, "head.safetensors: bad norm.scale or norm.mean");
            goto fail;
        }
    mg_ckpt_set_err(h->ck, NULL, 0);      /* err is the caller's, for this call only */
    return h;
fail:
    mg_head_free(h);
    return NULL;
}

int mg_head_predict(const mg_head *h, const float *x, int64_t n, double *out)
{
    return h->ops->predict(h, x, n, out);
}

void mg_head_activate(const mg_head *h, double *o)
{
    int k = h->k;
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
    int in = h->hidden ? h->hidden : h->d;
    int64_t sd[1] = { h->d }, sw[2] = { h->k, in }, sk[1] = { h->k };
    int64_t shw[2] = { h->hidden, h->d }, shb[1] = { h->hidden };
    const char *wn = h->hidden ? "output.weight" : "linear.weight", *bn = h->hidden ? "output.bias" : "linear.bias";
    int ok = mg_stw_add(w, "norm.mean", MG_F64, 1, sd, h->mean, err, errlen) == 0 &&
             mg_stw_add(w, "norm.scale", MG_F64, 1, sd, h->scale, err, errlen) == 0 &&
             (!h->hidden || (mg_stw_add(w, "hidden.weight", MG_F64, 2, shw, h->hidden_weight, err, errlen) == 0 &&
                             mg_stw_add(w, "hidden.bias", MG_F64, 1, shb, h->hidden_bias, err, errlen) == 0)) &&
             mg_stw_add(w, wn, MG_F64, 2, sw, h->weight, err, errlen) == 0 &&
             mg_stw_add(w, bn, MG_F64, 1, sk, h->bias, err, errlen) == 0 &&
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


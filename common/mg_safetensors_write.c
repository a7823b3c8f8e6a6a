/* mg_safetensors_write.c: safetensors writer (format in mg_safetensors_write.h). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_output.h"
#include "mg_safetensors_write.h"

typedef struct {
    char *name;
    int dtype, ndim;
    int64_t shape[MG_ST_MAX_DIMS];
    void *data;
    size_t nbytes;
} stw_tensor;

struct mg_stw {
    stw_tensor *t;
    int n, m;
    json_t *meta;          /* object of strings */
};

mg_stw *mg_stw_new(void)
{
    mg_stw *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (!(w->meta = json_object())) { free(w); return NULL; }
    return w;
}

void mg_stw_free(mg_stw *w)
{
    if (!w) return;
    for (int i = 0; i < w->n; i++) { free(w->t[i].name); free(w->t[i].data); }
    free(w->t);
    json_decref(w->meta);
    free(w);
}

int mg_stw_add(mg_stw *w, const char *name, int dtype, int ndim, const int64_t *shape,
               const void *data, char *err, size_t errlen)
{
    size_t es = mg_dtype_size(dtype);
    if (!name || !*name || !strcmp(name, "__metadata__")) return mg_fail(err, errlen, "bad tensor name");
    if (!es) { mg_seterr(err, errlen, "%s: unknown dtype %d", name, dtype); return -1; }
    if (ndim < 0 || ndim > MG_ST_MAX_DIMS) { mg_seterr(err, errlen, "%s: %d dimensions", name, ndim); return -1; }
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name)) { mg_seterr(err, errlen, "duplicate tensor %s", name); return -1; }
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] > 0 && numel > SIZE_MAX / es / (size_t)shape[i])) {
            mg_seterr(err, errlen, "%s: bad shape", name);
            return -1;
        }
        numel *= (size_t)shape[i];
    }
    if (w->n == w->m) {
        int m = w->m ? 2 * w->m : 8;
        stw_tensor *t = realloc(w->t, (size_t)m * sizeof *t);
        if (!t) return mg_fail(err, errlen, "out of memory");
        w->t = t; w->m = m;
    }
    stw_tensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->nbytes = numel * es;
    t->name = strdup(name);
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    if (!t->name || !t->data) { free(t->name); free(t->data); return mg_fail(err, errlen, "out of memory"); }
    if (t->nbytes) memcpy(t->data, data, t->nbytes);
    t->dtype = dtype; t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    w->n++;
    return 0;
}

int mg_stw_set_meta(mg_stw *w, const char *key, const char *value, char *err, size_t errlen)
{
    if (json_object_set_new(w->meta, key, json_string(value)) < 0)
        return mg_fail(err, errlen, "bad metadata string");
    return 0;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static char *header_json(const mg_stw *w, size_t *len)
{
    json_t *h = json_object();
    if (!h) return NULL;
    size_t off = 0;
    int ok = 1;
    if (json_object_size(w->meta)) ok &= json_object_set(h, "__metadata__", w->meta) == 0;
    for (int i = 0; i < w->n && ok; i++) {
        const stw_tensor *t = &w->t[i];
        json_t *e = json_object(), *sh = json_array(), *of = json_array();
        ok &= e && sh && of;
        for (int k = 0; k < t->ndim && ok; k++) ok &= json_array_append_new(sh, json_integer(t->shape[k])) == 0;
        ok &= ok && json_array_append_new(of, json_integer((json_int_t)off)) == 0;
        ok &= ok && json_array_append_new(of, json_integer((json_int_t)(off + t->nbytes))) == 0;
        ok &= ok && json_object_set_new(e, "dtype", json_string(mg_st_dtype_name(t->dtype))) == 0;
        if (ok) { ok &= json_object_set_new(e, "shape", sh) == 0; sh = NULL; }
        if (ok) { ok &= json_object_set_new(e, "data_offsets", of) == 0; of = NULL; }
        if (ok) { ok &= json_object_set_new(h, t->name, e) == 0; e = NULL; }
        json_decref(e); json_decref(sh); json_decref(of);
        off += t->nbytes;
    }
    char *s = ok ? json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(h);
    if (!s) return NULL;
    size_t n = strlen(s), padded = (n + 7) & ~(size_t)7;
    char *p = realloc(s, padded + 1);
    if (!p) { free(s); return NULL; }
    memset(p + n, ' ', padded - n);
    p[padded] = 0;
    *len = padded;
    return p;
}

int mg_stw_write(const mg_stw *w, const char *path, char *err, size_t errlen)
{
    size_t hlen;
    char *h = header_json(w, &hlen);
    if (!h) return mg_fail(err, errlen, "out of memory");
    /* through the atomic-output path: a failure or a signal leaves nothing */
    mg_ofile *o = mg_ofile_open(path, NULL, err, errlen);
    if (!o) { free(h); return -1; }
    FILE *f = mg_ofile_fp(o);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h, 1, hlen, f) == hlen;
    for (int i = 0; i < w->n && ok; i++)
        ok = fwrite(w->t[i].data, 1, w->t[i].nbytes, f) == w->t[i].nbytes;
    free(h);
    if (mg_ofile_close(o, ok, err, errlen) < 0 || !ok) {
        if (!ok) mg_seterr(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

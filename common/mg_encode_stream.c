/* mg_encode_stream.c: batching, encoding and writing of records for the
 * encoder commands (see mg_encode_stream.h). */
#include "mg_encode_stream.h"
#include "mg_err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    mg_encoder *e;
    const mg_encode_opts *o;
    mg_writer *w;
    char *err;
    size_t errlen;
    mg_record **recs;           /* the batch (records own their tensors) */
    int n;
    int ndim;                   /* encoder input shape of the batch */
    int64_t shape[4];
    int ondim;                  /* encoder output shape per input */
    int64_t oshape[2], per;
    float *in, *out;
    size_t in_cap, out_cap;
    int64_t recno, n_written;
    mg_record *orec;
    /* slice mode: the volume being collected */
    int grp;                    /* a group is open */
    mg_record *gmeta;           /* metadata of its first slice */
    int64_t g_n, g_expected, g_recno;
    float *g_out;
    size_t g_cap;
} enc_job;

static int grow(float **p, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    float *q = realloc(*p, need);
    if (!q) return -1;
    *p = q;
    *cap = need;
    return 0;
}

static void l2_rows(float *v, int64_t rows, int64_t len)
{
    for (int64_t r = 0; r < rows; r++, v += len) {
        double s = 0;
        for (int64_t i = 0; i < len; i++) s += (double)v[i] * v[i];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (int64_t i = 0; i < len; i++) v[i] *= inv;
    }
}

/* Write one output record: meta's metadata, the tensor out [ndim: shape]. */
static int write_out(enc_job *j, const mg_record *meta, int ndim, const int64_t *shape, float *out)
{
    if (j->o->l2) l2_rows(out, ndim == 1 ? 1 : shape[0], shape[ndim - 1]);
    mg_record_clear(j->orec);
    if (mg_record_copy_meta(j->orec, meta) < 0 ||
        !mg_record_add_tensor_ref(j->orec, ndim == 1 ? "embedding" : "tokens", MG_F32, ndim, shape, out)) {
        mg_seterr(j->err, j->errlen, "out of memory");
        return -1;
    }
    if (j->grp) {
        mg_record_del_meta(j->orec, "slice");
        if (mg_record_set_metaf(j->orec, "n_slices", "%lld", (long long)j->g_n) < 0) {
            mg_seterr(j->err, j->errlen, "out of memory");
            return -1;
        }
    }
    if (mg_writer_write(j->w, j->orec) < 0) {
        mg_seterr(j->err, j->errlen, "%s", mg_writer_error(j->w));
        return -2;
    }
    mg_progress_step(j->o->progress, (uint64_t)++j->n_written);
    return 0;
}

static int flush_batch(enc_job *j)
{
    if (j->n == 0) return 0;
    if (grow(&j->out, &j->out_cap, (size_t)(j->per * j->n) * sizeof(float)) < 0) {
        mg_seterr(j->err, j->errlen, "out of memory");
        return -1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (mg_encoder_forward(j->e, &j->o->ctx, j->o->kind, j->in, j->n, j->ndim, j->shape, j->out,
                           j->err, j->errlen) < 0) return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (j->o->forward_s)
        *j->o->forward_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int rc = 0;
    if (j->o->slices) {
        size_t need = (size_t)((j->g_n + j->n) * j->per) * sizeof(float);
        if (grow(&j->g_out, &j->g_cap, need) < 0) {
            mg_seterr(j->err, j->errlen, "out of memory");
            return -1;
        }
        memcpy(j->g_out + j->g_n * j->per, j->out, (size_t)(j->n * j->per) * sizeof(float));
        j->g_n += j->n;
    } else {
        for (int i = 0; i < j->n && rc == 0; i++)
            rc = write_out(j, j->recs[i], j->ondim, j->oshape, j->out + j->per * i);
    }
    j->n = 0;
    return rc;
}

/* Close the open volume of slice mode: pool its slices and write it. */
static int end_group(enc_job *j)
{
    if (!j->grp) return 0;
    int rc = flush_batch(j);
    if (rc < 0) return rc;
    const char *id = mg_record_get_meta(j->gmeta, "id");
    if (j->g_expected > 0 && j->g_n != j->g_expected) {
        mg_seterr(j->err, j->errlen, "record %lld%s%s: %lld of its n_slices=%lld slice records in a row",
                  (long long)j->g_recno, id ? " id " : "", id ? id : "", (long long)j->g_n,
                  (long long)j->g_expected);
        return -1;
    }
    int64_t os[2];
    int nd = mg_slices_output_shape(j->o->slices, j->g_n, j->ondim, j->oshape, os);
    float *pooled = malloc((size_t)(nd == 1 ? os[0] : os[0] * os[1]) * sizeof(float));
    if (!pooled) { mg_seterr(j->err, j->errlen, "out of memory"); return -1; }
    mg_slices_pool(j->o->slices, j->g_out, j->g_n, j->per, pooled);
    rc = write_out(j, j->gmeta, nd, os, pooled);
    free(pooled);
    j->grp = 0;
    return rc;
}

static int bad_record(enc_job *j, const mg_record *r, const char *fmt, const char *what)
{
    const char *id = mg_record_get_meta(r, "id");
    char msg[400];
    snprintf(msg, sizeof msg, fmt, what);
    mg_seterr(j->err, j->errlen, "record %lld%s%s: %s", (long long)j->recno, id ? " id " : "",
              id ? id : "", msg);
    return -1;
}

/* Validate the record in slot n and add it to the batch (flushing first when
 * the shape or, in slice mode, the volume changes). */
static int add_record(enc_job *j)
{
    mg_record *r = j->recs[j->n];
    const char *id = mg_record_get_meta(r, "id");
    mg_tensor *t = mg_record_find_tensor(r, j->o->tensor);
    int want = mg_encoder_input_ndim(j->e);
    if (!t) {
        const char *hint = "";
        if (want == 4 && mg_record_find_tensor(r, "image"))
            hint = " (an image record; this model takes volumes)";
        else if (want == 3 && mg_record_find_tensor(r, "volume"))
            hint = j->o->slices ? " (a volume record; slice-wise encoding takes the slice records of "
                                  "mg-preprocess --slices or --preset medgemma-ct)"
                                : " (a volume record; this model takes images)";
        char msg[300];
        snprintf(msg, sizeof msg, "no tensor '%s'%s", j->o->tensor, hint);
        return bad_record(j, r, "%s", msg);
    }
    int64_t s[4];
    int nd = t->ndim;
    if (t->dtype != MG_F32 || nd < 3 || nd > 4 || (want == 3 && nd != 3)) {
        char msg[200];
        snprintf(msg, sizeof msg, "tensor '%s' must be %s f32 (got %dd %s)", j->o->tensor,
                 want == 3 ? "[C,H,W]" : "[D,H,W] or [C,D,H,W]", t->ndim,
                 mg_dtype_name(t->dtype) ? mg_dtype_name(t->dtype) : "?");
        return bad_record(j, r, "%s", msg);
    }
    /* A single-channel volume record is [D,H,W]. */
    if (want == 4 && nd == 3) {
        s[0] = 1;
        memcpy(s + 1, t->shape, 3 * sizeof *s);
        nd = 4;
    } else {
        memcpy(s, t->shape, (size_t)nd * sizeof *s);
    }
    int64_t numel = 1;
    for (int i = 0; i < nd; i++) numel *= s[i];
    int same = j->ndim == nd && memcmp(j->shape, s, (size_t)nd * sizeof *s) == 0;
    if (j->o->slices && j->grp) {
        const char *gid = mg_record_get_meta(j->gmeta, "id");
        int same_vol = (gid && id && strcmp(gid, id) == 0) || (!gid && !id);
        if (same_vol && !same)
            return bad_record(j, r, "%s", "slices of one volume differ in shape");
        if (!same_vol) {
            /* the batch holds only slices of the open group: keep this record aside */
            int n0 = j->n;
            mg_record *keep = j->recs[n0];
            int rc = end_group(j);
            if (rc < 0) return rc;
            j->recs[n0] = j->recs[0];
            j->recs[0] = keep;
            r = keep;
        }
    }
    if (j->n > 0 && !same) {
        int n = j->n, rc = flush_batch(j);
        if (rc < 0) return rc;
        j->recs[n] = j->recs[0];
        j->recs[0] = r;
    }
    if (j->o->slices && !j->grp) {
        mg_record_clear(j->gmeta);
        if (mg_record_copy_meta(j->gmeta, r) < 0) { mg_seterr(j->err, j->errlen, "out of memory"); return -1; }
        const char *ns = mg_record_get_meta(r, "n_slices");
        j->g_expected = ns ? strtoll(ns, NULL, 10) : 0;
        j->g_n = 0;
        j->g_recno = j->recno;
        j->grp = 1;
    }
    if (j->n == 0) {
        char e2[400];
        int ond = mg_encoder_output_shape(j->e, j->o->kind, nd, s, j->oshape, e2, sizeof e2);
        if (ond < 0) return bad_record(j, r, "%s", e2);
        j->ondim = ond;
        j->per = ond == 1 ? j->oshape[0] : j->oshape[0] * j->oshape[1];
        j->ndim = nd;
        memcpy(j->shape, s, (size_t)nd * sizeof *s);
        if (grow(&j->in, &j->in_cap, (size_t)(j->o->batch * numel) * sizeof(float)) < 0) {
            mg_seterr(j->err, j->errlen, "out of memory");
            return -1;
        }
    }
    float *dst = j->in + j->n * numel;
    memcpy(dst, t->data, (size_t)numel * sizeof(float));
    for (int64_t i = 0; i < numel; i++)
        if (!isfinite(dst[i])) return bad_record(j, r, "%s", "NaN or infinite values in the input");
    j->n++;
    return j->n == j->o->batch ? flush_batch(j) : 0;
}

int mg_encode_stream(mg_reader *r, mg_writer *w, mg_encoder *e, const mg_encode_opts *o,
                     char *err, size_t errlen)
{
    enc_job j = { .e = e, .o = o, .w = w, .err = err, .errlen = errlen };
    int rc = 0;
    j.recs = calloc((size_t)o->batch, sizeof *j.recs);
    if (!j.recs || !(j.orec = mg_record_init()) || !(j.gmeta = mg_record_init())) rc = -1;
    for (int i = 0; rc == 0 && i < o->batch; i++)
        if (!(j.recs[i] = mg_record_init())) rc = -1;
    if (rc < 0) mg_seterr(err, errlen, "out of memory");
    while (rc == 0) {
        int k = mg_reader_next(r, j.recs[j.n]);
        if (k < 0) { mg_seterr(err, errlen, "%s", mg_reader_error(r)); rc = -1; break; }
        if (k == 0) break;
        j.recno++;
        rc = add_record(&j);
    }
    if (rc == 0) rc = o->slices ? end_group(&j) : flush_batch(&j);
    if (j.recs)
        for (int i = 0; i < o->batch; i++) mg_record_destroy(j.recs[i]);
    free(j.recs);
    mg_record_destroy(j.orec);
    mg_record_destroy(j.gmeta);
    free(j.in);
    free(j.out);
    free(j.g_out);
    return rc;
}

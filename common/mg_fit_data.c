/* mg_fit_data.c: reading the inputs and labels of mg-fit (mg_fit_data.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_fit.h"
#include "mg_fit_data.h"
#include "mg_dataset.h"
#include "mg_metrics_tsv.h"
#include "mg_tensor.h"

void mg_fit_inputs_free(mg_fit_inputs *in)
{
    for (int64_t i = 0; i < in->n; i++) free(in->ids[i]);
    free(in->ids); free(in->x);
    mg_prov_free(&in->prov);
    memset(in, 0, sizeof *in);
}

int mg_fit_read_inputs(const char *path, const char *name, mg_fit_inputs *in, char *err, size_t errlen)
{
    memset(in, 0, sizeof *in);
    mg_reader *r = mg_reader_open(path, err, errlen);
    if (!r) return -1;
    mg_record *rec = mg_record_init();
    int64_t cap = 0;
    int rc = -1, st;
    if (!rec || mg_prov_merge(&in->prov, mg_reader_prov(r)) < 0) { mg_seterr(err, errlen, "out of memory"); goto done; }
    while ((st = mg_reader_next(r, rec)) == 1) {
        int64_t k = in->n;
        const char *id = mg_record_get_meta(rec, "id");
        if (!id) { mg_seterr(err, errlen, "record %lld: no id", (long long)k + 1); goto done; }
        const mg_tensor *t = mg_record_find_tensor(rec, name);
        if (!t) { mg_seterr(err, errlen, "record %lld (id %s): no tensor '%s'", (long long)k + 1, id, name); goto done; }
        int64_t numel = mg_tensor_numel(t);
        if (k == 0) {
            if (numel < 1 || numel > (1 << 26)) {
                mg_seterr(err, errlen, "record 1 (id %s): tensor '%s' has %lld elements", id, name, (long long)numel);
                goto done;
            }
            in->ndim = t->ndim;
            memcpy(in->shape, t->shape, sizeof in->shape);
            in->d = (int)numel;
        } else {
            int same = t->ndim == in->ndim;
            for (int a = 0; same && a < t->ndim; a++) same = t->shape[a] == in->shape[a];
            if (!same) {
                mg_seterr(err, errlen, "record %lld (id %s): tensor '%s' changes shape", (long long)k + 1, id, name);
                goto done;
            }
        }
        if (!mg_dtype_size(t->dtype)) { mg_seterr(err, errlen, "record %lld: bad dtype", (long long)k + 1); goto done; }
        if (k == cap) {
            int64_t nc = cap ? 2 * cap : 1024;
            float *nx = realloc(in->x, (size_t)nc * (size_t)in->d * sizeof *nx);
            if (!nx) { mg_seterr(err, errlen, "out of memory"); goto done; }
            in->x = nx;
            char **ni = realloc(in->ids, (size_t)nc * sizeof *ni);
            if (!ni) { mg_seterr(err, errlen, "out of memory"); goto done; }
            in->ids = ni;
            cap = nc;
        }
        float *dst = in->x + (size_t)k * (size_t)in->d;
        mg_convert_to_f32(dst, t->data, t->dtype, (size_t)in->d);
        for (int c = 0; c < in->d; c++)
            if (!isfinite(dst[c])) {
                mg_seterr(err, errlen, "record %lld (id %s): tensor '%s' holds a value that is not finite",
                          (long long)k + 1, id, name);
                goto done;
            }
        if (!(in->ids[k] = strdup(id))) { mg_seterr(err, errlen, "out of memory"); goto done; }
        in->n++;
    }
    if (st < 0) { mg_seterr(err, errlen, "%s", mg_reader_error(r)); goto done; }
    if (in->n == 0) { mg_seterr(err, errlen, "no records"); goto done; }
    rc = 0;
done:
    mg_record_destroy(rec);
    if (mg_reader_close(r) < 0 && rc == 0) { mg_seterr(err, errlen, "read error"); rc = -1; }
    if (rc < 0) mg_fit_inputs_free(in);
    return rc;
}

void mg_fit_labels_free(mg_fit_labels *lab)
{
    for (int i = 0; i < lab->nout; i++) free(lab->outputs ? lab->outputs[i] : NULL);
    for (int i = 0; i < lab->nclasses; i++) free(lab->classes[i]);
    for (int i = 0; i < lab->nlabel; i++) free(lab->label_cols ? lab->label_cols[i] : NULL);
    free(lab->outputs); free(lab->classes); free(lab->label_cols);
    free(lab->row); free(lab->cls); free(lab->y);
    free(lab->first_stream_only); free(lab->first_labels_only);
    memset(lab, 0, sizeof *lab);
}

/* Class values sorted numerically when all are numbers, else bytewise. */
static int cmp_class(const void *a, const void *b, void *numeric)
{
    const char *s = *(const char *const *)a, *t = *(const char *const *)b;
    if (*(const int *)numeric) {
        double x, y;
        mg_parse_number(s, &x); mg_parse_number(t, &y);
        if (x != y) return x < y ? -1 : 1;
    }
    return strcmp(s, t);
}

int mg_fit_join_labels(const mg_fit_inputs *in, const char *stream_path, const char *path, const char *id_col,
                       const char *label_cols, int task, mg_fit_labels *lab, char *err, size_t errlen)
{
    mg_table lt, st;
    mg_join jn;
    int rc = -1;
    int *lc = NULL;
    const char **distinct = NULL;
    char *lbuf = NULL;
    const char *err_path = NULL;
    memset(lab, 0, sizeof *lab);
    memset(&jn, 0, sizeof jn);
    memset(&st, 0, sizeof st);
    if (mg_table_read(&lt, path, id_col, NULL, err, errlen) < 0) { mg_table_free(&lt); return -1; }
    int idc = lt.id;
    /* label columns */
    lc = malloc((size_t)lt.t.ncol * sizeof *lc);
    if (!lc) goto nomem;
    int nl = 0;
    if (label_cols) {
        if (!(lbuf = strdup(label_cols))) goto nomem;
        for (char *s = strtok(lbuf, ","); s; s = strtok(NULL, ",")) {
            int c = mg_tsv_col(&lt.t, s);
            if (c < 0) { mg_seterr(err, errlen, "no label column '%s'", s); goto done; }
            if (c == idc) { mg_seterr(err, errlen, "the id column cannot be a label column"); goto done; }
            for (int k = 0; k < nl; k++) if (lc[k] == c) { mg_seterr(err, errlen, "label column '%s' named twice", s); goto done; }
            if (nl < lt.t.ncol) lc[nl++] = c;
        }
    } else {
        for (int c = 0; c < lt.t.ncol; c++) if (c != idc) lc[nl++] = c;
    }
    if (nl == 0) { mg_seterr(err, errlen, "no label column"); goto done; }
    /* join: the stream's ids as a one-column table, the cases in stream order */
    if (mg_table_from_ids(&st, (const char *const *)in->ids, (size_t)in->n, stream_path, err, errlen) < 0) {
        rc = -2;
        goto done;
    }
    int jr = mg_join_ids(&st, &lt, NULL, &jn, &err_path, err, errlen);
    if (jr == -2) { rc = err_path == stream_path ? -2 : -1; goto done; }
    if (jr < 0) goto nomem;
    lab->stream_only = jn.a_only; lab->labels_only = jn.b_only;
    if ((jn.first_a_only && !(lab->first_stream_only = strdup(jn.first_a_only))) ||
        (jn.first_b_only && !(lab->first_labels_only = strdup(jn.first_b_only)))) goto nomem;
    int64_t n = (int64_t)jn.n;
    if (n == 0) { mg_seterr(err, errlen, "no id in common with the input stream"); goto done; }
    lab->row = malloc((size_t)n * sizeof *lab->row);
    if (!lab->row) goto nomem;
    for (int64_t i = 0; i < n; i++) lab->row[i] = (int64_t)jn.a_row[i];
    lab->n = n;
    lab->nlabel = nl;
    if (!(lab->label_cols = calloc((size_t)nl, sizeof *lab->label_cols))) goto nomem;
    for (int k = 0; k < nl; k++) if (!(lab->label_cols[k] = strdup(lt.t.colname[lc[k]]))) goto nomem;
#define CELL(i, k) mg_tsv_cell(&lt.t, jn.b_row[i], lc[k])
#define ROWID(i) in->ids[lab->row[i]]
    /* what the values are */
    int numbers = 1, zero_one = 1, fraction = 0;
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < nl; j++) {
            const char *v = CELL(i, j);
            double x;
            if (!*v) { mg_seterr(err, errlen, "id %s: empty label in column %s", ROWID(i), lt.t.colname[lc[j]]); goto done; }
            if (mg_parse_number(v, &x) < 0) { numbers = 0; zero_one = 0; }
            else { if (x != 0 && x != 1) zero_one = 0; if (x != floor(x)) fraction = 1; }
        }
    if (!task) {
        if (nl > 1) task = zero_one ? MG_FIT_MULTILABEL : numbers ? MG_FIT_REGRESSION : 0;
        else if (numbers && fraction) task = MG_FIT_REGRESSION;
        else task = -1;                   /* binary or multiclass: by the count of classes */
        if (!task) {
            mg_seterr(err, errlen, "several label columns must hold 0/1 (multilabel) or numbers (regression)");
            goto done;
        }
    }
    if ((task == MG_FIT_BINARY || task == MG_FIT_MULTICLASS || task == -1) && nl != 1) {
        mg_seterr(err, errlen, "a %s task takes one label column, not %d",
                  task == MG_FIT_MULTICLASS ? "multiclass" : "binary", nl);
        goto done;
    }
    if (task == MG_FIT_MULTILABEL || task == MG_FIT_REGRESSION) {
        lab->y = malloc((size_t)n * (size_t)nl * sizeof *lab->y);
        if (!lab->y) goto nomem;
        for (int j = 0; j < nl; j++)
            for (int64_t i = 0; i < n; i++) {
                const char *v = CELL(i, j);
                double x;
                if (mg_parse_number(v, &x) < 0 || (task == MG_FIT_MULTILABEL && x != 0 && x != 1)) {
                    mg_seterr(err, errlen, "id %s: label '%s' in column %s is not %s", ROWID(i), v,
                              lt.t.colname[lc[j]], task == MG_FIT_MULTILABEL ? "0 or 1" : "a number");
                    goto done;
                }
                lab->y[(size_t)j * n + i] = x;
            }
        lab->nout = nl;
        if (!(lab->outputs = calloc((size_t)nl, sizeof *lab->outputs))) goto nomem;
        for (int j = 0; j < nl; j++) if (!(lab->outputs[j] = strdup(lt.t.colname[lc[j]]))) goto nomem;
        if (task == MG_FIT_MULTILABEL)
            for (int j = 0; j < nl; j++) {
                int64_t pos = 0;
                for (int64_t i = 0; i < n; i++) pos += lab->y[(size_t)j * n + i] != 0;
                if (pos == 0 || pos == n) {
                    mg_seterr(err, errlen, "label column %s has one class only", lt.t.colname[lc[j]]);
                    goto done;
                }
            }
    } else {
        /* classes: distinct values, sorted */
        distinct = malloc((size_t)n * sizeof *distinct);
        lab->cls = malloc((size_t)n * sizeof *lab->cls);
        if (!distinct || !lab->cls) goto nomem;
        for (int64_t i = 0; i < n; i++) distinct[i] = CELL(i, 0);
        qsort_r(distinct, (size_t)n, sizeof *distinct, cmp_class, &numbers);
        int K = 0;
        for (int64_t i = 0; i < n; i++)
            if (i == 0 || cmp_class(&distinct[i - 1], &distinct[i], &numbers) != 0) distinct[K++] = distinct[i];
        if (K < 2) { mg_seterr(err, errlen, "column %s has one class only ('%s')", lt.t.colname[lc[0]], distinct[0]); goto done; }
        if (task == -1) task = K == 2 ? MG_FIT_BINARY : MG_FIT_MULTICLASS;
        if (task == MG_FIT_BINARY && K != 2) {
            mg_seterr(err, errlen, "column %s has %d classes, a binary task needs 2", lt.t.colname[lc[0]], K);
            goto done;
        }
        if (K > 100000) { mg_seterr(err, errlen, "column %s has %d classes", lt.t.colname[lc[0]], K); goto done; }
        for (int64_t i = 0; i < n; i++) {
            const char *v = CELL(i, 0);
            int lo = 0, hi = K - 1;
            while (lo < hi) {                 /* binary search in the sorted classes */
                int mid = (lo + hi) / 2;
                if (cmp_class(&distinct[mid], &v, &numbers) < 0) lo = mid + 1; else hi = mid;
            }
            lab->cls[i] = lo;
        }
        lab->nclasses = K;
        if (!(lab->classes = calloc((size_t)K, sizeof *lab->classes))) goto nomem;
        for (int c = 0; c < K; c++) if (!(lab->classes[c] = strdup(distinct[c]))) goto nomem;
        lab->nout = task == MG_FIT_BINARY ? 1 : K;
        if (!(lab->outputs = calloc((size_t)lab->nout, sizeof *lab->outputs))) goto nomem;
        for (int c = 0; c < lab->nout; c++)
            if (!(lab->outputs[c] = strdup(task == MG_FIT_BINARY ? lt.t.colname[lc[0]] : distinct[c]))) goto nomem;
    }
#undef CELL
#undef ROWID
    lab->task = task;
    rc = 0;
    goto done;
nomem:
    mg_seterr(err, errlen, "out of memory");
done:
    free(lc); free(distinct); free(lbuf);
    mg_join_free(&jn);
    mg_table_free(&st);
    mg_table_free(&lt);
    if (rc < 0) mg_fit_labels_free(lab);
    return rc;
}

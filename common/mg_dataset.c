/* mg_dataset.c: tables keyed by id, their join, and score/label data sets
 * (see mg_dataset.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mg_dataset.h"
#include "mg_err.h"

int mg_table_read(mg_table *tb, const char *path, const char *id_col, mg_pool *pool,
                  char *err, size_t errlen)
{
    memset(tb, 0, sizeof *tb);
    tb->path = path;
    if (mg_tsv_read_mt(path, pool, &tb->t, err, errlen) < 0) return -1;
    tb->id = mg_tsv_col(&tb->t, id_col);
    if (tb->id < 0) { mg_seterr_at(err, errlen, path, 0, "no id column '%s'", id_col); return -1; }
    return 0;
}

int mg_table_from_ids(mg_table *tb, const char *const *ids, size_t n, const char *path,
                      char *err, size_t errlen)
{
    memset(tb, 0, sizeof *tb);
    tb->path = path;
    size_t len = 3;                         /* "id\n" */
    for (size_t i = 0; i < n; i++) {
        /* the table parser skips empty and '#' lines and splits on tabs */
        if (!ids[i][0] || ids[i][0] == '#' || strpbrk(ids[i], "\t\r\n")) {
            mg_seterr(err, errlen, "record %zu: id '%s' cannot be a table cell "
                      "(empty, '#' first, or a tab or line break)", i + 1, ids[i]);
            return -1;
        }
        len += strlen(ids[i]) + 1;
    }
    char *buf = malloc(len), *p = buf;
    if (!buf) { mg_seterr(err, errlen, "out of memory"); return -1; }
    memcpy(p, "id\n", 3);
    p += 3;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(ids[i]);
        memcpy(p, ids[i], l);
        p[l] = '\n';
        p += l + 1;
    }
    int rc = mg_tsv_parse_mem(buf, len, &tb->t, err, errlen);
    free(buf);
    return rc < 0 ? -1 : 0;                 /* id is column 0 */
}

void mg_table_free(mg_table *tb)
{
    mg_tsv_free(&tb->t);
    memset(tb, 0, sizeof *tb);
}

void mg_join_free(mg_join *j)
{
    free(j->a_row); free(j->b_row); free(j->match);
    memset(j, 0, sizeof *j);
}

int mg_join_ids(const mg_table *a, const mg_table *b, mg_pool *pool, mg_join *j,
                const char **err_path, char *err, size_t errlen)
{
    memset(j, 0, sizeof *j);
    *err_path = NULL;
    size_t nrow = a->t.nrow;
    j->a_row = malloc((nrow ? nrow : 1) * sizeof *j->a_row);
    j->b_row = malloc((nrow ? nrow : 1) * sizeof *j->b_row);
    if (!j->a_row || !j->b_row) goto nomem;
    if (!b) {
        /* no join, but duplicated ids still matter */
        int ur = mg_tsv_unique_mt(&a->t, a->id, pool, err, errlen);
        if (ur == -2) { *err_path = a->path; return -2; }
        if (ur < 0) goto nomem;
        for (size_t r = 0; r < nrow; r++) j->a_row[r] = j->b_row[r] = r;
        j->n = nrow;
        return 0;
    }
    j->match = malloc((nrow ? nrow : 1) * sizeof *j->match);
    if (!j->match) goto nomem;
    char side = 0;
    int jr = mg_tsv_join(&a->t, a->id, &b->t, b->id, pool, j->match, &j->a_only, &j->b_only,
                         &j->first_a_only, &j->first_b_only, &side, err, errlen);
    if (jr == -2) { *err_path = side == 'a' ? a->path : b->path; return -2; }
    if (jr < 0) goto nomem;
    for (size_t r = 0; r < nrow; r++)
        if (j->match[r] >= 0) { j->a_row[j->n] = r; j->b_row[j->n] = (size_t)j->match[r]; j->n++; }
    return 0;
nomem:
    mg_seterr(err, errlen, "out of memory");
    return -1;
}

int mg_join_write_missing(const mg_join *j, const mg_table *a, const mg_table *b,
                          const char *a_side, const char *b_side, FILE *f)
{
    uint8_t *used = calloc(b && b->t.nrow ? b->t.nrow : 1, 1);
    if (!used) return -1;
    fprintf(f, "side\tid\n");
    for (size_t r = 0; j->match && r < a->t.nrow; r++) {
        if (j->match[r] < 0) fprintf(f, "%s\t%s\n", a_side, mg_table_id(a, r));
        else used[j->match[r]] = 1;
    }
    for (size_t r = 0; b && j->match && r < b->t.nrow; r++)
        if (!used[r]) fprintf(f, "%s\t%s\n", b_side, mg_table_id(b, r));
    free(used);
    return ferror(f) ? -1 : 0;
}

/* ---- scores and labels ---- */

int mg_parse_label01(const char *v, uint8_t *out)
{
    if ((v[0] == '0' || v[0] == '1') && !v[1]) { *out = v[0] == '1'; return 0; }
    double x;
    if (mg_parse_number(v, &x) < 0 || (x != 0 && x != 1)) return -1;
    *out = x == 1;
    return 0;
}

static const char *const task_names[] = { "binary", "multiclass", "multilabel", "continuous" };

const char *mg_task_name(int task)
{
    return task >= 0 && task <= MG_TASK_CONTINUOUS ? task_names[task] : "unknown";
}

int mg_task_parse(const char *s)
{
    for (int t = 0; t <= MG_TASK_CONTINUOUS; t++) if (!strcmp(s, task_names[t])) return t;
    return -1;
}

void mg_dataset_free(mg_dataset *d)
{
    mg_table_free(&d->pred); mg_table_free(&d->truth);
    mg_join_free(&d->join);
    free(d->score_names); free(d->score_col); free(d->label_col);
    free(d->s); free(d->y); free(d->cls); free(d->yc);
    memset(d, 0, sizeof *d);
}

int mg_names_split(char *s, char ***out)
{
    int n = 1;
    for (char *p = s; *p; p++) n += *p == ',';
    char **v = malloc((size_t)n * sizeof *v);
    if (!v) return -1;
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) v[k++] = tok;
    *out = v;
    return k;
}

/* Columns of t named in list (comma-separated), else every column but the id
 * and the nskip columns in skip, into a malloc'ed *cols. The count; -1 with
 * err ("no <what> column …"); -2 (memory). */
static int pick_columns(const mg_table *t, const char *list, const int *skip, int nskip,
                        const char *what, int **cols, char *err, size_t errlen)
{
    char *buf = NULL, **names = NULL;
    int n = 0, rc = -2;
    if (list) {
        if (!(buf = strdup(list)) || (n = mg_names_split(buf, &names)) < 0) goto done;
    } else {
        if (!(names = malloc((size_t)t->t.ncol * sizeof *names))) goto done;
        for (int c = 0; c < t->t.ncol; c++) {
            int skipped = c == t->id;
            for (int j = 0; j < nskip; j++) skipped |= skip[j] == c;
            if (!skipped) names[n++] = t->t.colname[c];
        }
    }
    rc = -1;
    if (n == 0) { mg_seterr(err, errlen, "no %s column", what); goto done; }
    if (!(*cols = malloc((size_t)n * sizeof **cols))) { rc = -2; goto done; }
    for (int j = 0; j < n; j++)
        if (((*cols)[j] = mg_tsv_col(&t->t, names[j])) < 0) {
            mg_seterr(err, errlen, "no %s column '%s'", what, names[j]);
            goto done;
        }
    rc = n;
done:
    if (rc == -2) mg_seterr(err, errlen, "out of memory");
    free(buf); free(names);
    return rc;
}

/* Label columns (default: all of TRUTH but id), then score columns (default:
 * all of PRED but id and, without TRUTH, the label columns). */
static int resolve_columns(mg_dataset *d, const mg_dataset_opts *o, char *err, size_t errlen,
                           const char **err_path)
{
    if (!o->label_cols && !d->has_truth) {
        mg_seterr(err, errlen, "no TRUTH table: name the truth columns with --label-col");
        return -2;
    }
    int n = pick_columns(d->lt, o->label_cols, NULL, 0, "label", &d->label_col, err, errlen);
    *err_path = n == -2 ? NULL : d->lt->path;
    if (n < 0) return -1;
    d->nlabel = n;
    n = pick_columns(&d->pred, o->score_cols, d->label_col, d->has_truth ? 0 : d->nlabel, "score",
                     &d->score_col, err, errlen);
    *err_path = n == -2 ? NULL : d->pred.path;
    if (n < 0) return -1;
    d->k = n;
    if (!(d->score_names = malloc((size_t)n * sizeof *d->score_names))) {
        *err_path = NULL;
        mg_seterr(err, errlen, "out of memory");
        return -1;
    }
    for (int j = 0; j < n; j++) d->score_names[j] = d->pred.t.colname[d->score_col[j]];
    return 0;
}

/* One label column holding numbers that are not all 0/1: a numeric outcome. */
static int labels_continuous(const mg_dataset *d)
{
    if (d->nlabel != 1) return 0;
    int other = 0;
    for (size_t i = 0; i < d->n; i++) {
        const char *v = mg_tsv_cell(&d->lt->t, d->join.b_row[i], d->label_col[0]);
        double x;
        uint8_t b;
        if (mg_parse_number(v, &x) < 0) return 0;
        other |= mg_parse_label01(v, &b) < 0;
    }
    return other;
}

/* The task from the column counts, as documented in mg-score(1): several label
 * columns: multilabel; one label and one score column: binary; one label and
 * several score columns: multiclass (labels name the score columns). */
static int infer_task(mg_dataset *d, const mg_dataset_opts *o, char *err, size_t errlen)
{
    int ns = d->k, nl = d->nlabel;
    d->task = o->task;
    if (d->task < 0 && o->allow_continuous && ns == 1 && labels_continuous(d)) d->task = MG_TASK_CONTINUOUS;
    if (d->task < 0)
        d->task = nl > 1 ? MG_TASK_MULTILABEL : ns == 1 ? MG_TASK_BINARY : MG_TASK_MULTICLASS;
    if (((d->task == MG_TASK_BINARY || d->task == MG_TASK_CONTINUOUS) && (ns != 1 || nl != 1)) ||
        (d->task == MG_TASK_MULTICLASS && (nl != 1 || ns < 2)) ||
        (d->task == MG_TASK_MULTILABEL && nl != ns)) {
        mg_seterr(err, errlen, "%d score and %d label columns do not fit a %s task", ns, nl,
                  mg_task_name(d->task));
        return -1;
    }
    return 0;
}

/* Scores of column c of t at rows[i] into out, checked to be numbers (and in
 * [0,1] when check01). */
static int read_scores(const mg_table *t, int c, const size_t *rows, size_t n, double *out,
                       int check01, mg_pool *pool, char *err, size_t errlen)
{
    size_t bad = mg_tsv_numbers(&t->t, c, rows, n, out, pool);
    if (bad < n) {
        mg_seterr(err, errlen, "id %s: score '%s' in column %s is not a number",
                  mg_table_id(t, rows[bad]), mg_tsv_cell(&t->t, rows[bad], c), t->t.colname[c]);
        return -1;
    }
    if (check01)
        for (size_t i = 0; i < n; i++)
            if (out[i] < 0 || out[i] > 1) {
                mg_seterr(err, errlen, "id %s: score %s in column %s is outside [0,1] "
                          "(--raw-scores for scores that are not probabilities)",
                          mg_table_id(t, rows[i]), mg_tsv_cell(&t->t, rows[i], c), t->t.colname[c]);
                return -1;
            }
    return 0;
}

/* Multiclass truth: each label names a score column. */
static int read_classes(mg_dataset *d, const mg_dataset_opts *o, char *err, size_t errlen,
                        const char **err_path)
{
    size_t n = d->n;
    const mg_tsv *lt = &d->lt->t;
    if (!(d->cls = malloc((n ? n : 1) * sizeof *d->cls))) {
        *err_path = NULL;
        mg_seterr(err, errlen, "out of memory");
        return -1;
    }
    *err_path = d->lt->path;
    for (size_t i = 0; i < n; i++) {
        const char *v = mg_tsv_cell(lt, d->join.b_row[i], d->label_col[0]);
        int c = -1;
        for (int j = 0; j < d->k && c < 0; j++) if (!strcmp(v, d->score_names[j])) c = j;
        if (c < 0) {
            mg_seterr(err, errlen, "id %s: label '%s' names no score column",
                      mg_table_id(d->lt, d->join.b_row[i]), v);
            return -1;
        }
        d->cls[i] = c;
    }
    if (!o->probabilities) return 0;
    *err_path = d->pred.path;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (int j = 0; j < d->k; j++) sum += d->s[(size_t)j * n + i];
        /* numpy.allclose(1, sum), as sklearn's multiclass roc_auc_score */
        if (!(fabs(1 - sum) <= 1e-8 + 1e-5 * fabs(sum))) {
            mg_seterr(err, errlen, "id %s: multiclass scores sum to %.17g, not 1 "
                      "(--raw-scores to skip probability checks)",
                      mg_table_id(&d->pred, d->join.a_row[i]), sum);
            return -1;
        }
    }
    return 0;
}

/* Multilabel: when every label column is named like a score column, labels go
 * to that column's place; otherwise by position. */
static int label_destination(const mg_dataset *d, int j)
{
    const mg_tsv *lt = &d->lt->t;
    if (d->task != MG_TASK_MULTILABEL) return j;
    for (int a = 0; a < d->nlabel; a++) {
        int found = 0;
        for (int b = 0; b < d->k; b++) found |= !strcmp(lt->colname[d->label_col[a]], d->score_names[b]);
        if (!found) return j;
    }
    for (int b = 0; b < d->k; b++)
        if (!strcmp(lt->colname[d->label_col[j]], d->score_names[b])) return b;
    return j;
}

/* Binary and multilabel truth: 0/1, or equal to pos_label. */
static int read_binary_labels(mg_dataset *d, const mg_dataset_opts *o, char *err, size_t errlen,
                              const char **err_path)
{
    size_t n = d->n;
    const mg_tsv *lt = &d->lt->t;
    if (!(d->y = malloc((size_t)d->nlabel * (n ? n : 1)))) {
        *err_path = NULL;
        mg_seterr(err, errlen, "out of memory");
        return -1;
    }
    *err_path = d->lt->path;
    for (int j = 0; j < d->nlabel; j++) {
        int lc = d->label_col[j];
        uint8_t *y = d->y + (size_t)label_destination(d, j) * n;
        for (size_t i = 0; i < n; i++) {
            const char *v = mg_tsv_cell(lt, d->join.b_row[i], lc);
            if (o->pos_label) y[i] = !strcmp(v, o->pos_label);
            else if (mg_parse_label01(v, &y[i]) < 0) {
                mg_seterr(err, errlen, "id %s: label '%s' in column %s is not 0 or 1 (--pos-label)",
                          mg_table_id(d->lt, d->join.b_row[i]), v, lt->colname[lc]);
                return -1;
            }
        }
    }
    return 0;
}

static int read_continuous_labels(mg_dataset *d, char *err, size_t errlen, const char **err_path)
{
    size_t n = d->n;
    if (!(d->yc = malloc((n ? n : 1) * sizeof *d->yc))) {
        *err_path = NULL;
        mg_seterr(err, errlen, "out of memory");
        return -1;
    }
    *err_path = d->lt->path;
    size_t bad = mg_tsv_numbers(&d->lt->t, d->label_col[0], d->join.b_row, n, d->yc, NULL);
    if (bad < n) {
        mg_seterr(err, errlen, "id %s: label '%s' is not a number",
                  mg_table_id(d->lt, d->join.b_row[bad]),
                  mg_tsv_cell(&d->lt->t, d->join.b_row[bad], d->label_col[0]));
        return -1;
    }
    return 0;
}

int mg_dataset_load(mg_dataset *d, const char *pred_path, const char *truth_path,
                    const mg_dataset_opts *o, char *err, size_t errlen, const char **err_path)
{
    memset(d, 0, sizeof *d);
    mg_pool *pool = o->pool;
    int r;
    *err_path = NULL;                   /* table errors carry their path */
    if (mg_table_read(&d->pred, pred_path, o->id_col, pool, err, errlen) < 0) return -1;
    d->has_truth = truth_path != NULL;
    if (d->has_truth) {
        if (mg_table_read(&d->truth, truth_path, o->id_col, pool, err, errlen) < 0) return -1;
    }
    d->lt = d->has_truth ? &d->truth : &d->pred;
    if ((r = resolve_columns(d, o, err, errlen, err_path)) < 0) return r;
    /* the task needs the join only for a continuous outcome; its column checks come first */
    if (!o->allow_continuous && infer_task(d, o, err, errlen) < 0) { *err_path = pred_path; return -1; }
    if ((r = mg_join_ids(&d->pred, d->has_truth ? &d->truth : NULL, pool, &d->join,
                         err_path, err, errlen)) < 0)
        return -1;
    d->n = d->join.n;
    if (d->n == 0) {
        *err_path = truth_path;
        mg_seterr(err, errlen, "no id in common with %s", pred_path);
        return -1;
    }
    if (o->allow_continuous && infer_task(d, o, err, errlen) < 0) { *err_path = pred_path; return -1; }
    size_t n = d->n;
    if (!(d->s = malloc((size_t)d->k * n * sizeof *d->s))) {
        *err_path = NULL;
        mg_seterr(err, errlen, "out of memory");
        return -1;
    }
    *err_path = pred_path;
    for (int j = 0; j < d->k; j++)
        if (read_scores(&d->pred, d->score_col[j], d->join.a_row, n, d->s + (size_t)j * n,
                        o->probabilities && d->task != MG_TASK_CONTINUOUS, pool, err, errlen) < 0)
            return -1;
    if (d->task == MG_TASK_MULTICLASS) return read_classes(d, o, err, errlen, err_path);
    if (d->task == MG_TASK_CONTINUOUS) return read_continuous_labels(d, err, errlen, err_path);
    return read_binary_labels(d, o, err, errlen, err_path);
}

int mg_dataset_scores_of(const mg_dataset *d, const char *path, const mg_dataset_opts *o,
                         double *out, char *err, size_t errlen, const char **err_path)
{
    mg_table t2;
    mg_join j;
    memset(&j, 0, sizeof j);
    size_t *rows = malloc((d->n ? d->n : 1) * sizeof *rows);
    mg_pool *pool = o->pool;
    int rc = -1;
    *err_path = NULL;                   /* table errors carry their path */
    if (mg_table_read(&t2, path, o->id_col, pool, err, errlen) < 0) goto done;
    *err_path = path;
    if (!rows) { *err_path = NULL; mg_seterr(err, errlen, "out of memory"); goto done; }
    int jr = mg_join_ids(&d->pred, &t2, pool, &j, err_path, err, errlen);
    *err_path = jr == -1 ? NULL : path;
    if (jr < 0) goto done;
    for (size_t i = 0; i < d->n; i++) {
        ssize_t r = j.match[d->join.a_row[i]];
        if (r < 0) {
            mg_seterr(err, errlen, "id %s has no prediction in the compared table",
                      mg_table_id(&d->pred, d->join.a_row[i]));
            goto done;
        }
        rows[i] = (size_t)r;
    }
    for (int c = 0; c < d->k; c++) {
        int col = mg_tsv_col(&t2.t, d->score_names[c]);
        if (col < 0) { mg_seterr(err, errlen, "no score column '%s'", d->score_names[c]); goto done; }
        if (read_scores(&t2, col, rows, d->n, out + (size_t)c * d->n, o->probabilities, pool,
                        err, errlen) < 0)
            goto done;
    }
    rc = 0;
done:
    mg_join_free(&j);
    mg_table_free(&t2);
    free(rows);
    return rc;
}

const mg_table *mg_dataset_column(const mg_dataset *d, const char *name, int *col,
                                  const size_t **rows)
{
    if ((*col = mg_tsv_col(&d->lt->t, name)) >= 0) { *rows = d->join.b_row; return d->lt; }
    if (d->has_truth && (*col = mg_tsv_col(&d->pred.t, name)) >= 0) { *rows = d->join.a_row; return &d->pred; }
    return NULL;
}

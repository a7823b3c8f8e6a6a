/* mg_dataset.h: tables keyed by id and the cases two of them have in common.
 *
 * A table is read by mg_tsv (tab-separated text, JSON Lines, or an mgt stream
 * of prediction or embedding records; see mg_metrics_tsv.h) and keyed by one id
 * column. Two tables are joined on their ids: the cases are the ids present
 * on both sides, in the order of the first table; the ids found on one side
 * only are counted and can be listed. On top of that, a data set of scores and
 * labels: score and label columns chosen by name (or all but the id), the task
 * inferred from them, and the values parsed and checked.
 *
 * Users: mg-score (predictions joined to truth), mg-fit (an embedding stream
 * joined to a labels table). Nothing here prints; errors are strings in err
 * with the file they are about in *err_path (NULL for out of memory). */
#ifndef MG_DATASET_H
#define MG_DATASET_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mg_metrics_clf.h"
#include "mg_metrics_tsv.h"

/* Tasks: MG_TASK_BINARY, MG_TASK_MULTICLASS, MG_TASK_MULTILABEL (mg_metrics_clf.h),
 * and a numeric outcome. */
enum { MG_TASK_CONTINUOUS = MG_TASK_MULTILABEL + 1 };

typedef struct {
    mg_tsv t;
    const char *path;   /* as given (not copied) */
    int id;             /* id column */
} mg_table;

/** Read path ("-" = stdin) keyed by column id_col, parsing on up to threads
 *  threads. 0, or -1 with err (unreadable, malformed, no such id column).
 *  Free with mg_table_free() in every case. */
int mg_table_read(mg_table *tb, const char *path, const char *id_col, mg_pool *pool,
                  char *err, size_t errlen);
/** A one-column table (column "id") of n ids held in memory, e.g. the "id"
 *  metadata of an embedding stream's records, to join with a labels table;
 *  path names the source in messages. An id that is empty, starts with '#'
 *  or holds a tab, CR or LF cannot be a table cell: -1 with err. */
int mg_table_from_ids(mg_table *tb, const char *const *ids, size_t n, const char *path,
                      char *err, size_t errlen);
void mg_table_free(mg_table *tb);
static inline const char *mg_table_id(const mg_table *tb, size_t row)
{ return mg_tsv_cell(&tb->t, row, tb->id); }

typedef struct {
    size_t n;                  /* ids on both sides */
    size_t *a_row, *b_row;     /* n rows each, in the row order of a */
    ssize_t *match;            /* a.nrow: row of b, or -1 (NULL for a self join) */
    size_t a_only, b_only;     /* ids on one side only */
    const char *first_a_only, *first_b_only;   /* the first of each, or NULL */
} mg_join;

/** Join a and b on their ids (lookups on up to threads threads; the result
 *  does not depend on the number). b may be NULL: every row of a is a case,
 *  after checking that its ids are unique. Returns 0; -2 for a duplicated id
 *  (named in err, the table's path in *err_path); -1 (memory). A join with no
 *  case is not an error here. Free with mg_join_free(). */
int mg_join_ids(const mg_table *a, const mg_table *b, mg_pool *pool, mg_join *j,
                const char **err_path, char *err, size_t errlen);
void mg_join_free(mg_join *j);
/** Write "side<TAB>id" lines (with that header) of every id present on one side
 *  only: a's first, then b's, each in file order; a_side and b_side name the
 *  sides. 0, or -1 (memory or write error). */
int mg_join_write_missing(const mg_join *j, const mg_table *a, const mg_table *b,
                          const char *a_side, const char *b_side, FILE *f);

/* ---- scores and labels ---- */

typedef struct {
    const char *id_col;       /* "id" */
    const char *score_cols;   /* comma-separated, or NULL: all of PRED but id and label columns */
    const char *label_cols;   /* comma-separated, or NULL: all of TRUTH but id */
    const char *pos_label;    /* truth value of the positive class, or NULL: labels are 0/1 */
    int task;                 /* MG_TASK_*, or -1: inferred */
    int probabilities;        /* check scores in [0,1] and multiclass rows summing to 1 */
    int allow_continuous;     /* infer MG_TASK_CONTINUOUS for one numeric label column not all 0/1 */
    mg_pool *pool;                /* NULL: run on the caller */
} mg_dataset_opts;

typedef struct {
    mg_table pred, truth;
    int has_truth;
    const mg_table *lt;       /* the table holding the labels (truth, else pred) */
    mg_join join;             /* pred rows (a_row) and label rows (b_row) of each case */
    size_t n;                 /* cases */
    int task;
    int k;                    /* score columns */
    char **score_names;       /* k, pointing into pred's header */
    int *score_col;           /* k, columns of pred */
    int nlabel;
    int *label_col;           /* nlabel, columns of lt */
    double *s;                /* k*n scores, column-major */
    uint8_t *y;               /* binary: n; multilabel: k*n (in score column order) */
    int *cls;                 /* multiclass: n indices into score_names */
    double *yc;               /* continuous: n */
} mg_dataset;

/** Read PRED (and TRUTH, may be NULL: then the labels are columns of PRED named
 *  by label_cols), join by id, resolve columns, infer the task and read the
 *  values. Returns 0; -1 with err and *err_path; -2 for a usage error (no
 *  TRUTH and no label_cols). A join with no case is an error; ids on one side
 *  only are not (see d->join). Free with mg_dataset_free() in every case. */
int mg_dataset_load(mg_dataset *d, const char *pred_path, const char *truth_path,
                    const mg_dataset_opts *o, char *err, size_t errlen, const char **err_path);
void mg_dataset_free(mg_dataset *d);

/** Scores of another prediction table with the same score columns, for the
 *  cases of d (k*n into out, column-major). Every case needs a row there.
 *  0, or -1 with err and *err_path. */
int mg_dataset_scores_of(const mg_dataset *d, const char *path, const mg_dataset_opts *o,
                         double *out, char *err, size_t errlen, const char **err_path);

/** Column name of the labels table, else of the predictions: the table and
 *  the rows of the cases in it (n). NULL when neither has the column. */
const mg_table *mg_dataset_column(const mg_dataset *d, const char *name, int *col,
                                  const size_t **rows);

/** Split comma-separated names in place (s is modified; empty names are
 *  skipped) into a malloc'ed array *out of pointers into s. The count, or -1
 *  (memory). */
int mg_names_split(char *s, char ***out);
/** "0"/"1" (or a number equal to 0 or 1) as 0/1; -1 otherwise. */
int mg_parse_label01(const char *v, uint8_t *out);
/** "binary", "multiclass", "multilabel", "continuous"; and back (-1: none). */
const char *mg_task_name(int task);
int mg_task_parse(const char *s);

#endif

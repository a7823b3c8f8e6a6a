/* mg_metrics_tsv.h: the tab-separated tables mg-score reads (predictions,
 * truth, annotations): a header line of column names, then one row per case.
 * Lines starting with '#' and empty lines are skipped; a trailing CR is
 * dropped. The whole file is read into memory and split in place.
 *
 * An mgt stream (man mgt(5)) of prediction records is read as the table
 * id, scores, metadata: each record needs metadata "id"; a tensor "pred"
 * (a scalar or a [C] vector, any dtype; optional, when the scores are
 * metadata values) gives score columns named by the
 * first record's "classes" metadata (comma-separated), else "pred" or
 * "pred0".."predC-1"; the first record's other metadata keys become columns
 * too (so a "label" key can serve as truth). */
#ifndef MG_METRICS_TSV_H
#define MG_METRICS_TSV_H

#include "mg_err.h"

#include <stddef.h>
#include <sys/types.h>
#include "mg_pool.h"

typedef struct {
    char *buf;          /* file contents, fields NUL-terminated in place */
    size_t len;
    int ncol;
    char **colname;     /* ncol, pointing into buf */
    size_t nrow;
    char **cell;        /* nrow*ncol, row-major, pointing into buf */
} mg_tsv;

/** Read path ("-" = stdin). 0, or -1 with a reason in err (also for a file
 *  without a header or rows, or a row whose field count differs). Free with
 *  mg_tsv_free() in every case. */
MG_MUST_CHECK int mg_tsv_read(const char *path, mg_tsv *t, char *err, size_t errlen);
/** The same, the body split on the workers of pool (same result for any
 *  number). */
MG_MUST_CHECK int mg_tsv_read_mt(const char *path, mg_pool *pool, mg_tsv *t, char *err, size_t errlen);
#define MG_TSV_MAX_THREADS 64
/** The same on bytes in memory (copied). */
MG_MUST_CHECK int mg_tsv_parse_mem(const void *data, size_t len, mg_tsv *t, char *err, size_t errlen);
void mg_tsv_free(mg_tsv *t);
/** Column index of name, or -1. */
int mg_tsv_col(const mg_tsv *t, const char *name);
static inline const char *mg_tsv_cell(const mg_tsv *t, size_t r, int c)
{ return t->cell[r * (size_t)t->ncol + (size_t)c]; }

/** Parse a whole field as a finite double in the C locale: decimal notation
 *  [+-]digits[.digits][(e|E)[+-]digits], no spaces, hex, inf or nan. The
 *  result is the correctly rounded double, the same as strtod's (a zero is
 *  returned as +0): exact fast paths for up to 19 significant digits, strtod
 *  for the rest. 0, or -1. */
int mg_parse_number(const char *s, double *out);
/** mg_parse_number on cells (rows ? rows[i] : i, c) of t into out[i], i < n,
 *  on the workers of pool. Returns n, or the first i that is not a number. */
size_t mg_tsv_numbers(const mg_tsv *t, int c, const size_t *rows, size_t n, double *out, mg_pool *pool);

/** 0 when column col has no repeated value; -2 with the repeated one named
 *  in err; -1 (memory). */
MG_MUST_CHECK int mg_tsv_unique(const mg_tsv *t, int col, char *err, size_t errlen);
/** The same on the workers of pool (same result for any number). */
MG_MUST_CHECK int mg_tsv_unique_mt(const mg_tsv *t, int col, mg_pool *pool, char *err, size_t errlen);

/** Join two tables on id columns (lookups on the workers of pool). match[r]
 *  = row of b with the id of row r of a, or -1. *a_only / *b_only count ids present on one side only; the first
 *  such id is pointed to by first_a_only / first_b_only (may be NULL). Returns
 *  0, -1 (memory), or -2 for a duplicated id, named in err, with the table
 *  holding it ('a' or 'b') in *dup_side. */
MG_MUST_CHECK int mg_tsv_join(const mg_tsv *a, int ida, const mg_tsv *b, int idb, mg_pool *pool,
                ssize_t *match, size_t *a_only, size_t *b_only,
                const char **first_a_only, const char **first_b_only,
                char *dup_side, char *err, size_t errlen);

/** Rows of a table grouped by the value of column col (several rows may share
 *  an id: references, gold answers, annotations): sorted by (id, row). Free
 *  with free(); NULL when out of memory. */
typedef struct { const char *id; size_t row; } mg_idgroup;
MG_MUST_CHECK mg_idgroup *mg_tsv_group_ids(const mg_tsv *t, int col);
/** First index of id in the n groups, and the number of its rows in *cnt
 *  (0 when absent). */
size_t mg_idgroup_find(const mg_idgroup *g, size_t n, const char *id, size_t *cnt);

#endif

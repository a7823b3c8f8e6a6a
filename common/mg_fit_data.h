/* mg_fit_data.h: the training set of mg-fit — fixed-shape tensors read from
 * an mgt stream (one per record, any dtype, flattened to float) joined by id
 * to a labels table, and the labels interpreted as a task. */
#ifndef MG_FIT_DATA_H
#define MG_FIT_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "mg_stream.h"

typedef struct {
    char **ids;           /* n record ids */
    float *x;             /* n × d */
    int64_t n;
    int d;
    int ndim;
    int64_t shape[MG_MAX_DIMS];
    mg_prov prov;         /* the stream's provenance */
} mg_fit_inputs;

/** Read every record of the stream at path ("-" stdin): metadata "id" and
 *  the tensor called name, of one shape for all records. 0, or -1 with err
 *  (truncated stream, missing id or tensor, shape change, duplicate id). */
int mg_fit_read_inputs(const char *path, const char *name, mg_fit_inputs *in, char *err, size_t errlen);
void mg_fit_inputs_free(mg_fit_inputs *in);

typedef struct {
    int task;             /* MG_FIT_* */
    int nout;             /* output columns: 1 (binary), K, L, T */
    char **outputs;       /* nout column names of the predictions */
    char **classes;       /* binary: 2, multiclass: K (sorted); NULL otherwise */
    int nclasses;
    char **label_cols;    /* label column names used */
    int nlabel;
    int64_t n;            /* rows with both an input and a label, in stream order */
    int64_t *row;         /* stream row of each */
    int *cls;             /* binary/multiclass class index */
    double *y;            /* multilabel/regression: nout columns of n */
    size_t stream_only, labels_only;     /* ids on one side only */
    char *first_stream_only, *first_labels_only;
} mg_fit_labels;

/** Join the labels table (TSV with an id column) to the inputs and read the
 *  label columns (label_cols comma-separated, NULL: every column but the id)
 *  as task (0: inferred — one column with two values: binary; one column of
 *  numbers with a fraction: regression; one column otherwise: multiclass;
 *  several columns of 0/1: multilabel; several columns of numbers:
 *  regression). Class names sort numerically when all are numbers, else
 *  bytewise (np.unique's order). Returns 0, or -1 with err about the labels
 *  file, or -2 with err about the stream (stream_path). The join is
 *  mg_dataset's (mg_join_ids). No id in common is an error. */
int mg_fit_join_labels(const mg_fit_inputs *in, const char *stream_path, const char *path, const char *id_col,
                       const char *label_cols, int task, mg_fit_labels *lab, char *err, size_t errlen);
void mg_fit_labels_free(mg_fit_labels *lab);

#endif

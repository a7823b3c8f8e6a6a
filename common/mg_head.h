/* mg_head.h: linear heads written by mg-fit and applied by mg-decode classify.
 *
 * A head is a checkpoint directory in the Hugging Face layout:
 *   config.json       model_type "mgpipe_linear_head", task, input tensor
 *                     name/dimension/shape, output column names, the fit's
 *                     settings (C per output, grid, folds, CV scores …)
 *   head.safetensors  F64 tensors: "norm.mean" [D], "norm.scale" [D],
 *                     "linear.weight" [K, D], "linear.bias" [K]
 * Decision values z = linear.weight · ((x − norm.mean) / norm.scale) + bias;
 * outputs: sigmoid(z) (binary: the positive class; multilabel: each column),
 * softmax(z) (multiclass), z (regression).
 */
#ifndef MG_HEAD_H
#define MG_HEAD_H

#include <stddef.h>
#include <stdint.h>

#define MG_HEAD_MODEL_TYPE "mgpipe_linear_head"
#define MG_HEAD_MAX_DIM (1 << 26)      /* input elements */
#define MG_HEAD_MAX_OUT 100000         /* output columns */

typedef struct {
    int task;                /* MG_FIT_* */
    char *input_name;        /* tensor name in the stream ("embedding", "prs") */
    int ndim;                /* input tensor shape */
    int64_t shape[8];
    int d;                   /* flattened input dimension */
    int k;                   /* rows of weight (binary: 1) */
    int nout;                /* output columns (binary: 1) */
    char **outputs;          /* nout column names */
    char **classes;          /* multiclass: K class names; binary: 2 (negative, positive); else NULL */
    int nclasses;
    double *mean, *scale;    /* d */
    double *weight, *bias;   /* k × d, k */
    char *config_json;       /* the config.json text as read or written (extra keys kept) */
} mg_head;

void mg_head_free(mg_head *h);

/** Load a head directory (config.json + head.safetensors). NULL with err when
 *  the files are missing or inconsistent (shapes, model_type, task). */
mg_head *mg_head_load(const char *dir, char *err, size_t errlen);

/** Write dir atomically: files go into a temporary directory next to it that
 *  is renamed into place (an existing head directory at dir is replaced;
 *  anything else there is an error). config is the JSON text to write as
 *  config.json (built by the caller from mg_head_config_base()). 0 or -1. */
int mg_head_save(const mg_head *h, const char *config_json, const char *dir, char *err, size_t errlen);

/** Outputs for n rows of h->d floats: out[i·nout + j]. Rows are independent. */
void mg_head_predict(const mg_head *h, const float *x, int64_t n, double *out);

#endif

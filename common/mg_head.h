/* mg_head.h: heads written by mg-fit and applied by mg-decode classify.
 *
 * A head is a checkpoint directory in the Hugging Face layout, read through
 * the model registry like every other family (role MG_ROLE_HEAD; the families
 * are in common/models/head.c):
 *   config.json       model_type, task, input tensor name/dimension/shape,
 *                     output column names, the fit's settings
 *   head.safetensors  F64 tensors, inputs standardised first by
 *                     "norm.mean" [D] and "norm.scale" [D]:
 *     mgpipe_linear_head  "linear.weight" [K, D], "linear.bias" [K];
 *                         z = linear(xs)
 *     mgpipe_mlp_head     "hidden.weight" [H, D], "hidden.bias" [H],
 *                         "output.weight" [K, H], "output.bias" [K];
 *                         z = output(act(hidden(xs))), act = hidden_act
 *                         ("relu": max(0, ·))
 * with xs = (x − norm.mean) / norm.scale and linear(v) = weight·v + bias as
 * torch.nn.Linear. Outputs: sigmoid(z) (binary: the positive class;
 * multilabel: each column), softmax(z) (multiclass), z (regression).
 */
#ifndef MG_HEAD_H
#define MG_HEAD_H

#include <stddef.h>
#include <stdint.h>
#include "mg_err.h"

#define MG_HEAD_MODEL_TYPE "mgpipe_linear_head"
#define MG_HEAD_MLP_MODEL_TYPE "mgpipe_mlp_head"
#define MG_HEAD_MAX_DIM (1 << 26)      /* input elements */
#define MG_HEAD_MAX_OUT 100000         /* output columns */
#define MG_HEAD_MAX_HIDDEN (1 << 16)   /* MLP hidden units */

struct mg_ckpt;
typedef struct mg_head mg_head;

/** A head family's ops (mg_family.ops for MG_ROLE_HEAD). */
typedef struct {
    /* Fill h's parameters from the checkpoint's tensors; the fields read from
     * config.json by mg_head_load are set. 0 or -1 with the checkpoint's
     * error set. */
    int (*load)(struct mg_ckpt *ck, mg_head *h);
    /* Outputs for n rows of h->d floats: out[i·nout + j]. 0 or -1 (memory). */
    int (*predict)(const mg_head *h, const float *x, int64_t n, double *out);
} mg_head_ops;

struct mg_head {
    int task;                /* MG_FIT_* */
    char *input_name;        /* tensor name in the stream ("embedding", "prs") */
    int ndim;                /* input tensor shape */
    int64_t shape[8];
    int d;                   /* flattened input dimension */
    int k;                   /* rows of the output layer (binary: 1) */
    int nout;                /* output columns (binary: 1) */
    char **outputs;          /* nout column names */
    char **classes;          /* multiclass: K class names; binary: 2 (negative, positive); else NULL */
    int nclasses;
    double *mean, *scale;    /* d */
    double *weight, *bias;   /* output layer: k × (hidden or d), k */
    int hidden;              /* MLP hidden units; 0 for a linear head */
    double *hidden_weight, *hidden_bias;   /* MLP: hidden × d, hidden */
    const mg_head_ops *ops;  /* loaded heads: the family's */
    struct mg_ckpt *ck;      /* loaded heads: owns the parameter arrays */
};

/** Free a head returned by mg_head_load. */
void mg_head_free(mg_head *h);

/** Load a head directory (config.json + head.safetensors) through the model
 *  registry. NULL with err when the files are missing or inconsistent
 *  (shapes, model_type, task). */
mg_head *mg_head_load(const char *dir, char *err, size_t errlen);

/** Write dir atomically: files go into a temporary directory next to it that
 *  is renamed into place (an existing head directory at dir is replaced;
 *  anything else there is an error). config_json is the config.json text
 *  (its model_type must match h->hidden). The parameters are written under
 *  the tensor names above. 0 or -1. */
int mg_head_save(const mg_head *h, const char *config_json, const char *dir, char *err, size_t errlen);

/** Outputs for n rows of h->d floats: out[i·nout + j]. Rows are
 *  independent. 0 or -1 (out of memory). */
MG_MUST_CHECK int mg_head_predict(const mg_head *h, const float *x, int64_t n, double *out);

/** The output activation in place on the k decision values z of one row
 *  (sigmoid, softmax or none by h->task). */
void mg_head_activate(const mg_head *h, double *z);

#endif

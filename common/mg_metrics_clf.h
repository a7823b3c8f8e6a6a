/* mg_metrics_clf.h: a classification problem (binary, multiclass or
 * multilabel) and the fixed list of scalar metrics mg-score reports for it,
 * computable under case weights so that bootstrap replicates are cheap. */
#ifndef MG_METRICS_CLF_H
#define MG_METRICS_CLF_H

#include <stddef.h>
#include <stdint.h>

enum { MG_TASK_BINARY = 0, MG_TASK_MULTICLASS, MG_TASK_MULTILABEL };
enum { MG_OVR = 0, MG_OVO = 1 };

#define MG_CLF_MAX_METRICS 32

typedef struct {
    int task;
    size_t n;            /* cases */
    int k;               /* score columns (1 for binary) */
    const double *s;     /* k*n scores, column-major (caller owns) */
    uint8_t *y;          /* k*n truth 0/1 (multiclass: one-hot of cls) */
    int *cls;            /* multiclass: class index of each case, else NULL */
    uint32_t *asc;       /* k*n ascending order of each column */
    uint32_t *asc_all;   /* k*n order of all scores (micro AUC/AP), multi only */
    double *ss;          /* k*n scores of each column in ascending order */
    uint8_t *sy;         /* their truths */
    double *ss_all;      /* multi: all k*n scores in ascending order */
    uint8_t *sy_all;
    uint8_t *pred;       /* k*n predicted labels (binary/multilabel) */
    int *amax;           /* multiclass: predicted class of each case */
    int32_t *ece_bin;    /* calibration bin of each case (-1: none) */
    double *ece_conf;    /* its confidence */
    uint8_t *ece_hit;    /* its correctness (or truth, positive mode) */
    /* options */
    double threshold;    /* binary/multilabel prediction: score >= threshold */
    int zero_division;   /* MG_ZD_* */
    int average;         /* P/R/F1 average for binary tasks (MG_AVG_*) */
    int multi_class;     /* MG_OVR or MG_OVO (multiclass AUC) */
    int ece_bins;
    int ece_positive;    /* binary ECE of the positive-class probability
                            (acc = fraction positive) instead of top-label */
    int probabilities;   /* scores are probabilities: Brier and ECE */
    /* the metric list */
    int nmetrics;
    const char *names[MG_CLF_MAX_METRICS];
} mg_clf;

/** Set up c for scores s (k*n) and truth: y (binary: n bytes; multilabel: k*n)
 *  or cls (multiclass, n class indices in [0,k)); the truth is copied. Options
 *  must be set in *c beforehand (task, n, k, s, threshold ...). 0, or -1. */
int mg_clf_init(mg_clf *c, const uint8_t *y, const int *cls);
void mg_clf_free(mg_clf *c);

/** The scalar metrics (c->names order) under weights w (NULL = 1). Scratch
 *  buffers are allocated inside, so concurrent calls are safe. 0, or -1. */
int mg_clf_compute(const mg_clf *c, const double *w, double *out);

/** Whether a weighted replicate keeps every class present in the full data
 *  (bootstrap replicates that lose one are skipped, as single-class ones). */
int mg_clf_replicate_ok(const mg_clf *c, const double *w);

/** Per-column results on the full data: support (true count), AUC, AP,
 *  precision, recall, F1. Arrays of k. */
int mg_clf_per_class(const mg_clf *c, double *support, double *auc, double *ap,
                     double *precision, double *recall, double *f1);

/** Confusion matrix, rows = true, columns = predicted. Binary: 2x2 in the
 *  order (0, 1); multiclass: k x k in column order; multilabel: k 2x2
 *  matrices [tn fp; fn tp] (sklearn multilabel_confusion_matrix). */
int mg_clf_confusion(const mg_clf *c, double *cm);

/** Predicted class/label of case i (multiclass argmax, first maximum). */
int mg_clf_argmax(const mg_clf *c, size_t i);

#endif

/* mg_metrics_plot.h: hand-written SVG plots for mg-score (no plotting
 * dependency): ROC curve with a pointwise bootstrap band, precision-recall
 * curve, calibration (reliability) diagram. */
#ifndef MG_METRICS_PLOT_H
#define MG_METRICS_PLOT_H

#include "mg_err.h"

#include <stddef.h>
#include <stdint.h>
#include "mg_pool.h"

typedef struct {
    const double *s;        /* scores, k columns of n (column-major) */
    const uint8_t *y;       /* truth 0/1, k columns (multiclass: one-hot) */
    const uint32_t *asc;    /* ascending order of each column */
    size_t n;
    int k;                  /* columns: 1 binary; >1 one curve per class */
    const char *const *names; /* k class names (k > 1) */
    int probabilities;      /* draw the calibration diagram */
    int bins;               /* calibration bins */
    int boot_b;             /* bootstrap replicates for the ROC band (0: none) */
    uint64_t seed;
    mg_pool *pool;          /* bootstrap workers (NULL: the caller) */
    double alpha;
} mg_plot_data;

/** Write DIR/roc.svg, DIR/pr.svg and (binary, probabilities)
 *  DIR/calibration.svg, creating DIR if needed. With k > 1 the ROC and PR
 *  plots hold one one-vs-rest curve per class, with a legend (no band).
 *  0, or -1 with a reason in err. */
MG_MUST_CHECK int mg_plot_write_all(const char *dir, const mg_plot_data *d, char *err, size_t errlen);

#endif

/* mg_metrics_risk.h: risk-score metrics beside the classification ones: odds
 * ratio per SD of the score from a logistic regression fitted by IRLS (Wald
 * interval), the top-decile odds ratio, Nagelkerke's R^2 and Harrell's C. */
#ifndef MG_METRICS_RISK_H
#define MG_METRICS_RISK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int sd_controls;    /* SD (and mean) of the score from controls only */
    int ddof;           /* 0 or 1 */
    double z;           /* normal quantile of the Wald interval [1.959964] */
} mg_risk_opts;

typedef struct {
    size_t n;
    const double *s;    /* score (caller owns) */
    const uint8_t *y;   /* case 0/1 (caller owns) */
    double *time;       /* survival time or NULL (owned copy) */
    double *X;          /* design [1, (z), covariates], column-major (owned) */
    int ncov;
    uint8_t *event;     /* event indicator or NULL (owned copy) */
    mg_risk_opts opt;
    /* full-data fit */
    double mean, sd, beta, beta_se, intercept, or_lo, or_hi;
    int iterations;
    int nmetrics;
    const char *names[10];
    char error[128];
} mg_risk;

/** Fit the full data and set the metric list. time/event may be NULL (no
 *  Harrell's C); cov: ncov covariate columns of n (column-major, copied),
 *  adjusted for in the regression (then also nagelkerke_r2_increment, the R^2
 *  of score + covariates minus that of the covariates alone). 0, or -1 with
 *  r->error set (empty when out of memory). */
int mg_risk_init(mg_risk *r, const double *s, const uint8_t *y, const double *time,
                 const uint8_t *event, const double *cov, int ncov, size_t n,
                 const mg_risk_opts *opt);
void mg_risk_free(mg_risk *r);
/** The metrics of r->names under case weights w (NULL = 1). 0, or -1. */
int mg_risk_compute(const mg_risk *r, const double *w, double *out);

/** Logistic regression of y on the p columns of X (column-major, n rows; the
 *  first column all ones for an intercept) by IRLS (Newton-Raphson), case
 *  weights w (NULL = 1), p <= 64. beta[p], se[p] from the inverse information
 *  matrix at the estimate, the log-likelihood. Returns the iterations (> 0),
 *  or -1 (separation, collinearity or no convergence). */
int mg_logistic(const double *X, int p, const uint8_t *y, const double *w, size_t n,
                double *beta, double *se, double *loglik);

/** Harrell's C as lifelines concordance_index(time, score, event) (score
 *  survival-like: higher means longer survival): (concordant + tied/2) /
 *  admissible pairs; NaN when no pair is admissible. O(n log n). */
double mg_harrell_c(const double *time, const double *score, const uint8_t *event,
                    const double *w, size_t n);

#endif

/* mg_metrics.h: classification metrics with the definitions of scikit-learn,
 * the DeLong variance of the AUC (fast algorithm of Sun & Xu 2014), and the
 * pieces shared by bootstrap confidence intervals (a documented PRNG, a stable
 * sort).
 *
 * Conventions:
 *  - Scores are column-major: column c of an n-row matrix is s[c*n .. c*n+n-1].
 *  - Binary truths are bytes 0/1. Every metric takes optional case weights w
 *    (NULL = all 1); integer weights give exactly the metric of the data with
 *    each case repeated w times, which is how bootstrap replicates are computed
 *    without copying (the replicate's counts are the weights).
 *  - Undefined values are NaN (AUC with one class present, as scikit-learn >= 1.3
 *    which returns NaN with a warning).
 *
 * The library never prints or exits; functions that allocate return <0 on
 * failure.
 */
#ifndef MG_METRICS_H
#define MG_METRICS_H

#include "mg_err.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------- random numbers ----------------
 * splitmix64 (Steele, Lea & Flood 2014) seeds xoshiro256** (Blackman & Vigna
 * 2018). Replicate b of a bootstrap with seed S uses mg_rng_seed(S + b), so a
 * replicate's draws do not depend on which thread computes it. */
typedef struct { uint64_t s[4]; } mg_rng;
uint64_t mg_splitmix64(uint64_t *state);
void mg_rng_seed(mg_rng *r, uint64_t seed);
uint64_t mg_rng_next(mg_rng *r);
/** Uniform integer in [0, n), n >= 1 (Lemire 2019, multiply-and-reject). */
uint64_t mg_rng_below(mg_rng *r, uint64_t n);

/* ---------------- sorting ---------------- */
/** Sort key[0..n) ascending in place, permuting order[] alongside (stable LSD
 *  radix sort, 11-bit digits; digits shared by all keys are skipped). 0 or -1. */
MG_MUST_CHECK int mg_sort_u64(uint64_t *key, uint32_t *order, size_t n);
/** order[0..n) = indices of x in ascending order, ties by index (stable LSD
 *  radix sort on the IEEE bits; x must not contain NaN). 0, or -1 (memory). */
MG_MUST_CHECK int mg_sort_order(const double *x, size_t n, uint32_t *order);

/* ---------------- normal distribution ---------------- */
/** Standard normal quantile Phi^-1(p), 0 < p < 1 (Acklam's rational
 *  approximation refined by one Halley step on erfc: relative error ~1e-15). */
double mg_norm_ppf(double p);
/** Two-sided p-value 2 Phi(-|z|) = erfc(|z|/sqrt 2). */
double mg_norm_p2(double z);

/* ---------------- binary ranking metrics ----------------
 * asc: ascending order of s (mg_sort_order). */
/** ROC AUC = Mann-Whitney U/(n1 n0) with ties counted 1/2 (sklearn
 *  roc_auc_score: trapezoid over distinct thresholds, which is the same). NaN
 *  if a class has zero weight. */
double mg_auc(const double *s, const uint8_t *y, const double *w,
              const uint32_t *asc, size_t n);
/** Average precision, sklearn average_precision_score: sum over distinct
 *  thresholds (descending) of (R_k - R_{k-1}) P_k, a step sum. 0 when there
 *  are no positives (sklearn sets recall to 1 and warns). */
double mg_average_precision(const double *s, const uint8_t *y, const double *w,
                            const uint32_t *asc, size_t n);

/* The same on data already in ascending score order (ss sorted scores, sy
 * their truths, sw their weights or NULL): sequential sweeps. */
double mg_auc_sorted(const double *ss, const uint8_t *sy, const double *sw, size_t n);
double mg_ap_sorted(const double *ss, const uint8_t *sy, const double *sw, size_t n);

/** ROC curve points at distinct thresholds, highest first, preceded by the
 *  point (0,0) at threshold +inf (sklearn roc_curve, drop_intermediate=False).
 *  Arrays of at least n+1 entries; returns the number of points. Cases with
 *  zero weight are ignored. */
size_t mg_roc_points(const double *s, const uint8_t *y, const double *w,
                     const uint32_t *asc, size_t n,
                     double *fpr, double *tpr, double *thr);
/** Precision-recall points at distinct thresholds, highest first (recall
 *  ascending); returns the count. */
size_t mg_pr_points(const double *s, const uint8_t *y, const uint32_t *asc,
                    size_t n, double *precision, double *recall, double *thr);

typedef struct {
    double threshold;      /* predict positive when score >= threshold */
    double j;              /* Youden's J = sensitivity + specificity - 1 */
    double sensitivity, specificity;
} mg_youden;
/** Threshold maximising tpr - fpr over the ROC points (first maximum from the
 *  highest threshold, as numpy argmax over sklearn roc_curve). */
int mg_youden_point(const double *s, const uint8_t *y, const uint32_t *asc,
                    size_t n, mg_youden *out);

/** mg_youden_point on sorted data. */
void mg_youden_sorted(const double *ss, const uint8_t *sy, size_t n, mg_youden *out);

/* ---------------- DeLong ----------------
 * Fast algorithm (Sun & Xu 2014, IEEE SPL 21:1389): midranks of the pooled,
 * positive and negative scores; V10_i = (Tz_i - Tx_i)/n0 for positives,
 * V01_j = 1 - (Tz_j - Ty_j)/n1 for negatives; S = S10/n1 + S01/n0 with
 * covariances over cases (ddof 1, as numpy.cov). k models on the same cases. */
/** auc[k], cov[k*k]. asc: the k ascending orders (k*n), or NULL to sort
 *  here. -1 (memory), -2 (fewer than 2 positives or negatives). */
int mg_delong(const double *s, int k, const uint8_t *y, size_t n,
              const uint32_t *asc, double *auc, double *cov);

/** One model on sorted data (the same algorithm; no index bookkeeping). */
int mg_delong_sorted(const double *ss, const uint8_t *sy, size_t n, double *auc, double *var);

/* ---------------- confusion-based metrics ---------------- */
enum { MG_ZD_WARN = 0, MG_ZD_ZERO, MG_ZD_ONE, MG_ZD_NAN };
enum { MG_AVG_BINARY = 0, MG_AVG_MICRO, MG_AVG_MACRO, MG_AVG_WEIGHTED };

typedef struct { double precision, recall, f1; } mg_prf;
/** Precision, recall and F1 over L labels from weighted tp, fp, fn counts,
 *  averaged as sklearn precision_recall_fscore_support with zero_division
 *  (0/1/"warn" as sklearn 1.2-1.6; NAN as sklearn >= 1.4: undefined labels are
 *  left out of the average). use[l] = 0 drops label l (NULL: all). *undefined
 *  is set when some division by zero occurred. */
mg_prf mg_prf_average(const double *tp, const double *fp, const double *fn,
                      const uint8_t *use, int L, int average, int zero_division,
                      int *undefined);
/** Per-label values (no averaging). */
mg_prf mg_prf_label(double tp, double fp, double fn, int zero_division);

/** Brier score: weighted mean of (p - y)^2 (sklearn brier_score_loss). */
double mg_brier(const double *p, const uint8_t *y, const double *w, size_t n);

/** Expected calibration error (Guo et al. 2017; gpleiss/temperature_scaling):
 *  M bins (lo, hi] with boundaries numpy.linspace(0, 1, M+1);
 *  ECE = sum_m |B_m|/n |acc_m - conf_m|. conf[i] in [0,1], correct[i] 0/1.
 *  A confidence of exactly 0 falls in no bin but counts in n, as there. */
double mg_ece(const double *conf, const uint8_t *correct, const double *w,
              size_t n, int bins);
/** The ECE bin (0..M-1, or -1) of each confidence, as mg_ece assigns them. */
void mg_ece_bins(const double *conf, size_t n, int bins, int32_t *bin);
/** mg_ece from precomputed bins (one pass; bootstrap replicates). */
double mg_ece_binned(const int32_t *bin, const double *conf, const uint8_t *correct,
                     const double *w, size_t n, int bins);
/** Reliability diagram data for M uniform bins: per bin mean confidence, mean
 *  accuracy and weight (count); a confidence of 0 goes to the first bin. */
void mg_calibration_bins(const double *conf, const uint8_t *correct, size_t n,
                         int bins, double *mean_conf, double *mean_acc,
                         double *count);

/** Percentile by linear interpolation (Hyndman-Fan type 7, numpy default) of
 *  x[0..n) which is sorted in place; NaN when n == 0. */
double mg_percentile_sorted(double *x, size_t n, double q);

#endif

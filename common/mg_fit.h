/* mg_fit.h: linear heads on fixed-length inputs (embeddings, flattened PRS
 * images): L2-regularised logistic regression (binary, multinomial,
 * one-vs-rest) and ridge regression, exact optima of scikit-learn's objectives,
 * with the L2 strength chosen by stratified k-fold cross-validation.
 *
 * Objective (scikit-learn's LogisticRegression with solver newton-cg and
 * Ridge, on standardised inputs xs = (x − mean)/scale):
 *     ½‖W‖² + C · Σ_i s_i · loss(y_i, b + W·xs_i)
 * with the intercept b not penalised; s_i the sample weight (class-balanced
 * weights n/(K·n_k) as class_weight="balanced"). Losses: logistic (binary or
 * per column), multinomial cross-entropy (softmax over K full weight
 * vectors), and ½(y − z)² for ridge, where C = 1/alpha.
 *
 * Solver: Newton's method, each step by conjugate gradients on
 * Hessian-vector products — preconditioned with the eigen-decomposed Gram
 * matrix of [xs, 1] (accumulated in float by cblas_ssyrk) for the binary,
 * one-vs-rest and ridge losses, all outputs in lockstep; with the Hessian's
 * diagonal for the multinomial loss. Gradients and objectives in double, so
 * preconditioners change only the path, not the optimum.
 * Sums over rows are taken in fixed blocks in a fixed order, so results do not
 * depend on the number of threads. Library code: no printing, no exits.
 */
#ifndef MG_FIT_H
#define MG_FIT_H

#include <stddef.h>
#include <stdint.h>
#include "mg_pool.h"
#include "mg_progress.h"

enum { MG_FIT_BINARY = 1, MG_FIT_MULTICLASS, MG_FIT_MULTILABEL, MG_FIT_REGRESSION };
enum { MG_CV_ACCURACY = 1, MG_CV_LOG_LOSS, MG_CV_R2 };
enum { MG_LOSS_LOGISTIC = 1, MG_LOSS_SQUARED };

/** Task name ("binary" …) and back (0 if unknown). */
const char *mg_fit_task_name(int task);
int mg_fit_task_from_name(const char *s);

/** Raw inputs (n rows of d floats, row-major) with their standardisation;
 *  rows, when not NULL, selects nrows of them (a cross-validation fold). */
typedef struct {
    const float *x;
    int64_t n;
    int d;
    const double *mean, *scale;
    const int64_t *rows;
    int64_t nrows;
} mg_fit_x;

/** Column means and scales as scikit-learn's StandardScaler: mean, population
 *  standard deviation, and 1 for a constant column (variance within rounding
 *  of 0, as sklearn's _is_constant_feature). 0 or -1 (memory). */
int mg_fit_standardize(const float *x, int64_t n, int d, mg_pool *pool, double *mean, double *scale);

typedef struct {
    double tol;        /* stop when max|∇|/C <= tol·max(1, Σs) … see mg_fit.c */
    int max_iter;      /* Newton iterations */
    mg_pool *pool;     /* parallel loops (NULL: on the caller) */
} mg_solve_opts;

typedef struct {
    int iterations;    /* Newton iterations taken */
    int cg_iterations; /* Newton-CG: inner iterations */
    int converged;
    double objective;
    double grad_max;   /* max |gradient| / C at the end */
} mg_solve_info;

/** The Gram matrix [xs,1]ᵀ[xs,1] of the rows of X, eigen-decomposed: the
 *  preconditioner of mg_fit_glm, shared by its calls on the same rows. NULL
 *  with err (memory). */
typedef struct mg_fit_gram mg_fit_gram;
mg_fit_gram *mg_fit_gram_new(const mg_fit_x *X, mg_pool *pool, char *err, size_t errlen);
void mg_fit_gram_free(mg_fit_gram *g);

/** L independent outputs on the rows of X, each logistic (Y in {0,1}) or
 *  squared loss with its own C (Cv[l]). Y and SW (NULL: weights 1) hold L
 *  columns of X->n values indexed by the full row index. theta: L rows of d
 *  weights then the intercept — the starting point on entry, the optimum on
 *  return. gram: mg_fit_gram_new() of the same rows, or NULL. info: L
 *  entries. 0, or -1 with err (memory). */
int mg_fit_glm(const mg_fit_x *X, int L, const double *Y, const double *SW, int loss, const double *Cv,
               double *theta, mg_fit_gram *gram, const mg_solve_opts *o, mg_solve_info *info,
               char *err, size_t errlen);

/** Multinomial logistic regression: cls[i] in [0,K); theta is K rows of
 *  d weights then the intercept (intercepts returned centred to sum 0). */
int mg_fit_softmax(const mg_fit_x *X, const int *cls, int K, const double *sw, double C,
                   double *theta, const mg_solve_opts *o, mg_solve_info *info, char *err, size_t errlen);

/** Decision values Z[i·k + j] = theta_j · [xs_i, 1] for the rows of X. */
void mg_fit_margins(const mg_fit_x *X, const double *theta, int k, double *Z, mg_pool *pool);

/* ---- training with cross-validation ---- */

typedef struct {
    int task;
    int nout;              /* outputs: 1 (binary), K classes, L labels, T targets */
    const int *cls;        /* binary/multiclass: class index per row (binary: 0/1) */
    const double *y;       /* multilabel (0/1) and regression: nout columns of n, column-major */
} mg_fit_targets;

typedef struct {
    const double *grid;    /* C values (logistic) or alpha values (ridge) */
    int ngrid;             /* 1: no cross-validation */
    int folds;             /* k */
    uint64_t seed;
    int balanced;          /* class_weight="balanced" */
    int cv_score;          /* MG_CV_* */
    int standardize;       /* 0: mean 0, scale 1 */
    mg_solve_opts solve;
    mg_progress *progress; /* stepped per fit: folds × grid, then the final one */
} mg_fit_params;

/** Defaults: grid none, 5 folds, seed 1, accuracy, standardise, tol 1e-10,
 *  100 iterations, no pool. */
mg_fit_params mg_fit_default_params(void);

/** The 8 values of np.logspace(-4, 4, 8) (LogisticRegressionCV(Cs=8)). */
void mg_fit_default_grid(double grid[8]);

typedef struct {
    int task, nout, d;
    int64_t n;
    double *mean, *scale;  /* d */
    double *theta;         /* nout (1 for binary) rows of d + 1 (weights, intercept) */
    int nrows_theta;
    double *chosen;        /* per fitted problem: C (or alpha); nprob of them */
    int nprob;             /* 1, or nout for one-vs-rest and ridge targets */
    int *fold;             /* fold of each row (NULL without CV) */
    double *cv_mean;       /* nprob × ngrid mean CV score over folds */
    double *cv_fold;       /* nprob × ngrid × folds */
    int ngrid, folds;
    mg_solve_info *info;   /* nprob: the final fits */
} mg_fit_result;

/** Fit on the n rows of x (d columns). 0, or -1 with err; for data errors
 *  (e.g. a class absent from a fold) err names the problem. */
int mg_fit_train(const float *x, int64_t n, int d, const mg_fit_targets *t,
                 const mg_fit_params *p, mg_fit_result *res, char *err, size_t errlen);
void mg_fit_result_free(mg_fit_result *r);

/** The seeded generator of folds, validation splits, initial weights and
 *  batch orders: xoshiro256** (Blackman & Vigna), its four state words the
 *  first four outputs of splitmix64 started at seed. */
typedef struct { uint64_t s[4]; } mg_fit_rng;
void mg_fit_rng_seed(mg_fit_rng *r, uint64_t seed);
uint64_t mg_fit_rng_next(mg_fit_rng *r);
/** Uniform in [0, n): outputs v >= 2^64 − 1 − ((2^64 − 1) mod n) are
 *  rejected, then v mod n. */
uint64_t mg_fit_rng_below(mg_fit_rng *r, uint64_t n);
/** (next >> 11) · 2^−53, uniform in [0, 1). */
double mg_fit_rng_unit(mg_fit_rng *r);
/** Fisher–Yates: for i = m−1 down to 1, swap v[i] and v[below(i + 1)]. */
void mg_fit_rng_shuffle(mg_fit_rng *r, int64_t *v, int64_t m);

/** Stratified fold assignment: rows of each stratum (strata[i], values in
 *  [0, nstrata)) shuffled with xoshiro256** seeded by splitmix64(seed), then
 *  dealt to folds round-robin, the deal continuing from one stratum to the
 *  next (strata in order) so fold sizes differ by at most one. strata NULL:
 *  one stratum. -1 (memory). */
int mg_fit_folds(const int *strata, int nstrata, int64_t n, int folds, uint64_t seed, int *fold);

/* ---- a one-hidden-layer MLP ---- */

/* Model: z = W2 · relu(W1 · xs + b1) + b2 on standardised inputs xs (as
 * mg_fit_standardize over all rows), as torch.nn.Linear → ReLU → Linear.
 * Loss of a mini-batch B: (1/|B|) Σ_{i∈B} Σ_j loss_ij — binary cross-entropy
 * with logits (binary, each multilabel column), cross-entropy of softmax(z)
 * (multiclass), ½(z − y)² (regression) — minimised by Adam exactly as
 * torch.optim.Adam (Kingma & Ba 2015, Algorithm 1, with torch's arithmetic:
 * θ −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)), weight decay
 * coupled as torch's (g += wd · θ) on W1 and W2 only.
 * Seeds (each a mg_fit_rng): seed → validation split, seed + 1 → initial
 * weights, seed + 2 → batch orders.
 *  - split: rows of each stratum (class; one stratum for multilabel and
 *    regression) in row order, shuffled; the first round(val · m_s) of each
 *    go to validation.
 *  - init: W1 (row-major), b1, W2, b2 drawn in that order, each value
 *    bound · (2u − 1), u = mg_fit_rng_unit, bound = 1/√fan_in (d for W1, b1;
 *    H for W2, b2) — torch.nn.Linear's default range.
 *  - epochs: the training rows in row order, shuffled, cut into batches of
 *    `batch` rows (the last one shorter).
 * Early stopping: after each epoch the mean validation loss; the parameters
 * of the epoch with the lowest one are kept; training stops after patience
 * epochs without a lower one. Without validation rows (val 0): every epoch,
 * the last parameters kept. Row sums in fixed blocks in a fixed order:
 * results do not depend on the number of threads. */
typedef struct {
    int hidden;            /* H [256] */
    int batch;             /* rows per step [128] */
    int max_epochs;        /* [200] */
    int patience;          /* [10] */
    double lr, beta1, beta2, eps, weight_decay;   /* [1e-3, 0.9, 0.999, 1e-8, 1e-4] */
    double val;            /* validation fraction [0.1] */
    uint64_t seed;
    int standardize;
    mg_pool *pool;
    mg_progress *progress; /* stepped per epoch */
} mg_mlp_params;
mg_mlp_params mg_mlp_default_params(void);

typedef struct {
    int task, k, d, hidden;        /* k outputs (binary: 1) */
    int64_t n;
    double *mean, *scale;          /* d */
    double *w1, *b1, *w2, *b2;     /* H × d, H, k × H, k */
    int *validation;               /* per row: 1 validation, 0 training */
    int64_t n_val;
    int epochs, best_epoch;        /* epochs run; epoch kept (1-based) */
    double *train_loss, *val_loss; /* per epoch: mean over the epoch's steps, over validation rows */
} mg_mlp_result;

/** Train on the n rows of x (d columns). 0, or -1 with err. */
int mg_mlp_train(const float *x, int64_t n, int d, const mg_fit_targets *t, const mg_mlp_params *p,
                 mg_mlp_result *res, char *err, size_t errlen);
void mg_mlp_result_free(mg_mlp_result *r);

#endif

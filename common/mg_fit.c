/* mg_fit.c: folds, class weights, cross-validation over a grid of L2
 * strengths and the final fit (mg_fit.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_fit.h"
#include "mg_nn.h"

static const char *const task_names[] = { NULL, "binary", "multiclass", "multilabel", "regression" };

const char *mg_fit_task_name(int task)
{
    return task >= MG_FIT_BINARY && task <= MG_FIT_REGRESSION ? task_names[task] : NULL;
}

int mg_fit_task_from_name(const char *s)
{
    for (int t = MG_FIT_BINARY; t <= MG_FIT_REGRESSION; t++)
        if (!strcmp(s, task_names[t])) return t;
    return 0;
}

mg_fit_params mg_fit_default_params(void)
{
    mg_fit_params p = { .grid = NULL, .ngrid = 0, .folds = 5, .seed = 1, .balanced = 0,
                        .cv_score = MG_CV_ACCURACY, .standardize = 1,
                        .solve = { .tol = 1e-10, .max_iter = 100, .pool = NULL } };
    return p;
}

void mg_fit_default_grid(double grid[8])
{
    /* np.logspace(-4, 4, 8): 10 ** (start + i·step), the last point exactly 4 */
    double step = 8.0 / 7.0;
    for (int i = 0; i < 8; i++) grid[i] = pow(10.0, i == 7 ? 4.0 : -4.0 + i * step);
}

/* ---- seeded shuffles: splitmix64 seeds xoshiro256** (Blackman & Vigna) ---- */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mg_fit_rng_seed(mg_fit_rng *r, uint64_t seed)
{
    for (int k = 0; k < 4; k++) r->s[k] = splitmix64(&seed);
}

uint64_t mg_fit_rng_next(mg_fit_rng *r)
{
    uint64_t *s = r->s, v = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return v;
}

uint64_t mg_fit_rng_below(mg_fit_rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;       /* rejection: no modulo bias */
    do v = mg_fit_rng_next(r); while (v >= lim);
    return v % n;
}

double mg_fit_rng_unit(mg_fit_rng *r)
{
    return (double)(mg_fit_rng_next(r) >> 11) * 0x1p-53;
}

void mg_fit_rng_shuffle(mg_fit_rng *r, int64_t *v, int64_t m)
{
    for (int64_t i = m - 1; i > 0; i--) {
        int64_t j = (int64_t)mg_fit_rng_below(r, (uint64_t)i + 1);
        int64_t t = v[i]; v[i] = v[j]; v[j] = t;
    }
}

int mg_fit_folds(const int *strata, int nstrata, int64_t n, int folds, uint64_t seed, int *fold)
{
    if (!strata) nstrata = 1;
    int64_t *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
    int64_t *start = calloc((size_t)nstrata + 1, sizeof *start);
    if (!idx || !start) { free(idx); free(start); return -1; }
    /* rows grouped by stratum, in row order */
    for (int64_t i = 0; i < n; i++) start[(strata ? strata[i] : 0) + 1]++;
    for (int s = 0; s < nstrata; s++) start[s + 1] += start[s];
    int64_t *pos = malloc((size_t)(nstrata ? nstrata : 1) * sizeof *pos);
    if (!pos) { free(idx); free(start); return -1; }
    for (int s = 0; s < nstrata; s++) pos[s] = start[s];
    for (int64_t i = 0; i < n; i++) idx[pos[strata ? strata[i] : 0]++] = i;
    mg_fit_rng st;
    mg_fit_rng_seed(&st, seed);
    int64_t deal = 0;
    for (int s = 0; s < nstrata; s++) {
        int64_t a = start[s], m = start[s + 1] - a;
        mg_fit_rng_shuffle(&st, idx + a, m);
        for (int64_t i = 0; i < m; i++) fold[idx[a + i]] = (int)(deal++ % folds);
    }
    free(idx); free(start); free(pos);
    return 0;
}

/* Score of output l (of L) with decision values Z (rows of X × L), larger
 * is better: accuracy or mean log-likelihood (sklearn's neg_log_loss,
 * probabilities clipped to [eps, 1−eps]) for logistic outputs, R² for ridge. */
static double score_glm(const mg_fit_x *X, int L, int l, const double *Y, int loss, int metric, const double *Z)
{
    int64_t nr = X->nrows, n = X->n;
    double s = 0;
    if (loss == MG_LOSS_SQUARED) {
        double mean = 0, ss = 0, sr = 0;
        for (int64_t i = 0; i < nr; i++) mean += Y[(size_t)l * n + X->rows[i]];
        mean /= (double)nr;
        for (int64_t i = 0; i < nr; i++) {
            double y = Y[(size_t)l * n + X->rows[i]], e = y - Z[(size_t)i * L + l], c = y - mean;
            sr += e * e; ss += c * c;
        }
        return ss > 0 ? 1 - sr / ss : (sr == 0 ? 1.0 : 0.0);
    }
    const double eps = DBL_EPSILON;
    for (int64_t i = 0; i < nr; i++) {
        int yi = Y[(size_t)l * n + X->rows[i]] != 0;
        double z = Z[(size_t)i * L + l];
        if (metric == MG_CV_ACCURACY) s += (z > 0) == yi;     /* sklearn predicts 1 when z > 0 */
        else {
            double p = z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
            p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
            s += log(yi ? p : 1 - p);
        }
    }
    return s / (double)nr;
}

/* The same for a multinomial model (K columns of Z): accuracy of the first
 * largest decision value (np.argmax) or the mean log-likelihood. */
static double score_softmax(const mg_fit_x *X, int K, const int *cls, int metric, const double *Z)
{
    int64_t nr = X->nrows;
    double s = 0;
    const double eps = DBL_EPSILON;
    for (int64_t i = 0; i < nr; i++) {
        const double *z = Z + (size_t)i * K;
        int y = cls[X->rows[i]], best = 0;
        double mx = z[0];
        for (int c = 1; c < K; c++) if (z[c] > mx) { mx = z[c]; best = c; }
        if (metric == MG_CV_ACCURACY) s += best == y;
        else {
            double sum = 0;
            for (int c = 0; c < K; c++) sum += exp(z[c] - mx);
            double p = exp(z[y] - mx) / sum;
            p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
            s += log(p);
        }
    }
    return s / (double)nr;
}

/* Label vectors of rows *a and *b compared column by column, then rows. */
typedef struct { const double *y; int64_t n; int L; } pattern_ctx;
static int pattern_cmp(const void *a, const void *b, void *arg)
{
    const pattern_ctx *c = arg;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    for (int l = 0; l < c->L; l++) {
        double u = c->y[(size_t)l * c->n + i], v = c->y[(size_t)l * c->n + j];
        if (u != v) return u < v ? -1 : 1;
    }
    return 0;
}

/* class_weight="balanced": n / (K · count_k), over all rows (as
 * LogisticRegressionCV, which computes them once on the whole training set). */
static double *balanced(const int *c, int K, int64_t n)
{
    double *sw = malloc((size_t)n * sizeof *sw);
    int64_t *cnt = calloc((size_t)K, sizeof *cnt);
    if (!sw || !cnt) { free(sw); free(cnt); return NULL; }
    for (int64_t i = 0; i < n; i++) cnt[c[i]]++;
    for (int64_t i = 0; i < n; i++) sw[i] = (double)n / ((double)K * (double)cnt[c[i]]);
    free(cnt);
    return sw;
}

void mg_fit_result_free(mg_fit_result *r)
{
    free(r->mean); free(r->scale); free(r->theta); free(r->chosen); free(r->fold);
    free(r->cv_mean); free(r->cv_fold); free(r->info);
    memset(r, 0, sizeof *r);
}

int mg_fit_train(const float *x, int64_t n, int d, const mg_fit_targets *t,
                 const mg_fit_params *p, mg_fit_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    /* BLAS calls run inside the pool's tasks, one thread each: OpenBLAS's own
     * threads would oversubscribe the cores, and its reductions would make the
     * head depend on OPENBLAS_NUM_THREADS */
    int blas_prev = mg_nn_blas_enter(1);
    int rc = -1, nout = t->nout, cv = p->ngrid > 1;
    int nprob = (t->task == MG_FIT_MULTILABEL || t->task == MG_FIT_REGRESSION) ? nout : 1;
    int nth = t->task == MG_FIT_BINARY ? 1 : nout;            /* theta rows in all */
    int *strata = NULL, *c01 = NULL;
    int64_t *rows = NULL;
    double *th = NULL, *sw = NULL, *Y = NULL, *Cv = NULL, *Zt = NULL;
    res->task = t->task; res->nout = nout; res->d = d; res->n = n;
    res->nprob = nprob; res->nrows_theta = nth; res->ngrid = cv ? p->ngrid : 1; res->folds = cv ? p->folds : 0;
    res->mean = malloc((size_t)d * sizeof *res->mean);
    res->scale = malloc((size_t)d * sizeof *res->scale);
    res->theta = calloc((size_t)nth * (size_t)(d + 1), sizeof *res->theta);
    res->chosen = malloc((size_t)nprob * sizeof *res->chosen);
    res->info = calloc((size_t)nprob, sizeof *res->info);
    rows = malloc((size_t)(n ? n : 1) * sizeof *rows);
    th = malloc((size_t)nth * (size_t)(d + 1) * sizeof *th);
    c01 = malloc((size_t)(n ? n : 1) * sizeof *c01);
    if (!res->mean || !res->scale || !res->theta || !res->chosen || !res->info || !rows || !th || !c01)
        goto nomem;
    if (p->ngrid < 1) { mg_seterr(err, errlen, "empty grid"); goto done; }
    if (p->standardize) {
        if (mg_fit_standardize(x, n, d, p->solve.pool, res->mean, res->scale) < 0) goto nomem;
    } else {
        for (int c = 0; c < d; c++) { res->mean[c] = 0; res->scale[c] = 1; }
    }
    if (cv) {
        res->fold = malloc((size_t)(n ? n : 1) * sizeof *res->fold);
        res->cv_mean = malloc((size_t)nprob * (size_t)p->ngrid * sizeof *res->cv_mean);
        res->cv_fold = malloc((size_t)nprob * (size_t)p->ngrid * (size_t)p->folds * sizeof *res->cv_fold);
        if (!res->fold || !res->cv_mean || !res->cv_fold) goto nomem;
        /* strata: the class; for several label columns the pattern of labels */
        int nstrata = 0;
        if (t->task == MG_FIT_BINARY || t->task == MG_FIT_MULTICLASS) {
            strata = malloc((size_t)(n ? n : 1) * sizeof *strata);
            if (!strata) goto nomem;
            memcpy(strata, t->cls, (size_t)n * sizeof *strata);
            nstrata = t->task == MG_FIT_BINARY ? 2 : nout;
        } else if (t->task == MG_FIT_MULTILABEL) {
            /* patterns numbered in the order of their sorted label vectors,
             * so the numbering does not depend on the row order */
            strata = malloc((size_t)(n ? n : 1) * sizeof *strata);
            int64_t *ord = malloc((size_t)(n ? n : 1) * sizeof *ord);
            if (!strata || !ord) { free(ord); goto nomem; }
            for (int64_t i = 0; i < n; i++) ord[i] = i;
            pattern_ctx pc = { t->y, n, nout };
            qsort_r(ord, (size_t)n, sizeof *ord, pattern_cmp, &pc);
            for (int64_t i = 0; i < n; i++) {
                if (i > 0 && pattern_cmp(&ord[i - 1], &ord[i], &pc) != 0) nstrata++;
                strata[ord[i]] = nstrata;
            }
            nstrata++;
            free(ord);
        }
        if (mg_fit_folds(strata, nstrata, n, p->folds, p->seed, res->fold) < 0) goto nomem;
        /* every class (every label value of every column) in every fold */
        for (int f = 0; f < p->folds; f++) {
            if (t->task == MG_FIT_BINARY || t->task == MG_FIT_MULTICLASS) {
                int K = t->task == MG_FIT_BINARY ? 2 : nout;
                for (int c = 0; c < K; c++) {
                    int64_t cnt = 0, tot = 0;
                    for (int64_t i = 0; i < n; i++) if (t->cls[i] == c) { tot++; cnt += res->fold[i] == f; }
                    if (!cnt) {
                        mg_seterr(err, errlen, "class %d has no examples in fold %d (%lld example(s) for %d folds)",
                                  c, f + 1, (long long)tot, p->folds);
                        res->nprob = -(c + 1);       /* the class, for the caller's message */
                        goto done;
                    }
                }
            } else if (t->task == MG_FIT_MULTILABEL) {
                for (int l = 0; l < nout; l++)
                    for (int v = 0; v < 2; v++) {
                        int64_t cnt = 0, tot = 0;
                        for (int64_t i = 0; i < n; i++)
                            if ((t->y[(size_t)l * n + i] != 0) == v) { tot++; cnt += res->fold[i] == f; }
                        if (!cnt) {
                            mg_seterr(err, errlen, "label column %d: value %d has no examples in fold %d "
                                      "(%lld example(s) for %d folds)", l + 1, v, f + 1, (long long)tot, p->folds);
                            res->nprob = -(l + 1);
                            goto done;
                        }
                    }
            }
        }
    }
    int m = d + 1;
    int softmax = t->task == MG_FIT_MULTICLASS;
    int loss = t->task == MG_FIT_REGRESSION ? MG_LOSS_SQUARED : MG_LOSS_LOGISTIC;
    int L = softmax ? 1 : nth;                  /* outputs solved together */
    /* targets and weights: L columns of n */
    if (!softmax) {
        if (t->task == MG_FIT_BINARY) {
            if (!(Y = malloc((size_t)(n ? n : 1) * sizeof *Y))) goto nomem;
            for (int64_t i = 0; i < n; i++) Y[i] = t->cls[i];
        }
        if (p->balanced) {
            if (!(sw = malloc((size_t)L * (size_t)(n ? n : 1) * sizeof *sw))) goto nomem;
            for (int l = 0; l < L; l++) {
                const double *yl = (Y ? Y : t->y) + (size_t)l * n;
                for (int64_t i = 0; i < n; i++) c01[i] = yl[i] != 0;
                double *b = balanced(c01, 2, n);
                if (!b) goto nomem;
                memcpy(sw + (size_t)l * n, b, (size_t)n * sizeof *b);
                free(b);
            }
        }
    } else if (p->balanced && !(sw = balanced(t->cls, nout, n))) goto nomem;
    const double *Yl = Y ? Y : t->y;
    Cv = malloc((size_t)L * sizeof *Cv);
    if (!Cv) goto nomem;
    /* ridge takes alpha: C = 1/alpha */
#define CVAL(v) (loss == MG_LOSS_SQUARED && !softmax ? 1.0 / (v) : (v))
    if (cv) {
        Zt = malloc((size_t)(n ? n : 1) * (size_t)(softmax ? nout : L) * sizeof *Zt);
        if (!Zt) goto nomem;
        for (int f = 0; f < p->folds; f++) {
            int64_t ntr = 0, nte = 0;
            for (int64_t i = 0; i < n; i++) if (res->fold[i] != f) rows[ntr++] = i;
            for (int64_t i = 0; i < n; i++) if (res->fold[i] == f) rows[ntr + nte++] = i;
            mg_fit_x Xtr = { x, n, d, res->mean, res->scale, rows, ntr };
            mg_fit_x Xte = { x, n, d, res->mean, res->scale, rows + ntr, nte };
            mg_fit_gram *gram = NULL;
            if (!softmax && !(gram = mg_fit_gram_new(&Xtr, p->solve.pool, err, errlen))) goto done;
            memset(th, 0, (size_t)nth * (size_t)m * sizeof *th);
            for (int gi = 0; gi < p->ngrid; gi++) {
                /* warm start along the grid, as sklearn's regularisation path */
                int r;
                if (softmax) r = mg_fit_softmax(&Xtr, t->cls, nout, sw, p->grid[gi], th, &p->solve, res->info, err, errlen);
                else {
                    for (int l = 0; l < L; l++) Cv[l] = CVAL(p->grid[gi]);
                    r = mg_fit_glm(&Xtr, L, Yl, sw, loss, Cv, th, gram, &p->solve, res->info, err, errlen);
                }
                if (r < 0) { mg_fit_gram_free(gram); goto done; }
                mg_fit_margins(&Xte, th, softmax ? nout : L, Zt, p->solve.pool);
                for (int pi = 0; pi < nprob; pi++)
                    res->cv_fold[((size_t)pi * p->ngrid + gi) * p->folds + f] = softmax
                        ? score_softmax(&Xte, nout, t->cls, p->cv_score, Zt)
                        : score_glm(&Xte, L, pi, Yl, loss, loss == MG_LOSS_SQUARED ? MG_CV_R2 : p->cv_score, Zt);
                mg_progress_step(p->progress, (uint64_t)(f * p->ngrid + gi + 1));
            }
            mg_fit_gram_free(gram);
        }
        /* sklearn: scores.sum(axis=0).argmax() — folds summed in order, the
         * first maximum; each one-vs-rest column and ridge target its own */
        for (int pi = 0; pi < nprob; pi++) {
            int best = 0;
            double bs = 0;
            for (int gi = 0; gi < p->ngrid; gi++) {
                double s = 0;
                for (int f = 0; f < p->folds; f++) s += res->cv_fold[((size_t)pi * p->ngrid + gi) * p->folds + f];
                res->cv_mean[(size_t)pi * p->ngrid + gi] = s / p->folds;
                if (gi == 0 || s > bs) { bs = s; best = gi; }
            }
            res->chosen[pi] = p->grid[best];
        }
    } else {
        for (int pi = 0; pi < nprob; pi++) res->chosen[pi] = p->grid[0];
    }
    /* the final fit on all rows */
    mg_fit_x Xall = { x, n, d, res->mean, res->scale, NULL, n };
    memset(res->theta, 0, (size_t)nth * (size_t)m * sizeof *res->theta);
    if (softmax) {
        if (mg_fit_softmax(&Xall, t->cls, nout, sw, res->chosen[0], res->theta, &p->solve, res->info, err, errlen) < 0)
            goto done;
    } else {
        for (int l = 0; l < L; l++) Cv[l] = CVAL(res->chosen[l]);
        if (mg_fit_glm(&Xall, L, Yl, sw, loss, Cv, res->theta, NULL, &p->solve, res->info, err, errlen) < 0) goto done;
    }
#undef CVAL
    mg_progress_step(p->progress, (uint64_t)(cv ? p->folds * p->ngrid + 1 : 1));
    rc = 0;
    goto done;
nomem:
    mg_seterr(err, errlen, "out of memory");
done:
    mg_nn_blas_leave(blas_prev, 1);
    free(strata); free(rows); free(th); free(sw); free(c01); free(Y); free(Cv); free(Zt);
    if (rc < 0) {
        int np = res->nprob;
        mg_fit_result_free(res);
        res->nprob = np;
    }
    return rc;
}

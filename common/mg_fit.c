/* mg_fit.c: folds, class weights, cross-validation over a grid of L2
 * strengths and the final fit (mg_fit.h). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_fit.h"

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
                        .solve = { .tol = 1e-10, .max_iter = 100, .threads = 1 } };
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
static uint64_t xoshiro(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}
/* Uniform in [0, n) by rejection (no modulo bias). */
static uint64_t below(uint64_t s[4], uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
    do v = xoshiro(s); while (v >= lim);
    return v % n;
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
    uint64_t sm = seed, st[4];
    for (int k = 0; k < 4; k++) st[k] = splitmix64(&sm);
    int64_t deal = 0;
    for (int s = 0; s < nstrata; s++) {
        int64_t a = start[s], m = start[s + 1] - a;
        for (int64_t i = m - 1; i > 0; i--) {        /* Fisher–Yates */
            int64_t j = (int64_t)below(st, (uint64_t)i + 1);
            int64_t t = idx[a + i]; idx[a + i] = idx[a + j]; idx[a + j] = t;
        }
        for (int64_t i = 0; i < m; i++) fold[idx[a + i]] = (int)(deal++ % folds);
    }
    free(idx); free(start); free(pos);
    return 0;
}

/* ---- one fitting problem: binary/one column (glm) or multinomial ---- */
typedef struct {
    int kind;              /* MG_LOSS_LOGISTIC, MG_LOSS_SQUARED, or 0: softmax */
    const double *y;       /* glm target (n) */
    const int *cls;        /* softmax classes */
    int K;
    double *sw;            /* n or NULL */
    int k;                 /* rows of theta */
} problem;

static int solve(const problem *pb, const mg_fit_x *X, double C, double *theta, const mg_solve_opts *o,
                 mg_solve_info *info, char *err, size_t errlen)
{
    if (pb->kind) return mg_fit_glm(X, pb->y, pb->sw, pb->kind, C, theta, o, info, err, errlen);
    return mg_fit_softmax(X, pb->cls, pb->K, pb->sw, C, theta, o, info, err, errlen);
}

/* Score of theta on the rows of X (larger is better): accuracy or mean
 * log-likelihood (sklearn's neg_log_loss, probabilities clipped to
 * [eps, 1−eps]) for classifiers, R² for ridge. */
static double score(const problem *pb, const mg_fit_x *X, const double *theta, int metric, int threads,
                    double *Z)
{
    int64_t nr = X->nrows;
    int k = pb->k;
    mg_fit_margins(X, theta, k, Z, threads);
    double s = 0;
    if (pb->kind == MG_LOSS_SQUARED) {
        double mean = 0, ss = 0, sr = 0;
        for (int64_t i = 0; i < nr; i++) mean += pb->y[X->rows[i]];
        mean /= (double)nr;
        for (int64_t i = 0; i < nr; i++) {
            double y = pb->y[X->rows[i]], e = y - Z[i], c = y - mean;
            sr += e * e; ss += c * c;
        }
        return ss > 0 ? 1 - sr / ss : (sr == 0 ? 1.0 : 0.0);
    }
    const double eps = DBL_EPSILON;
    for (int64_t i = 0; i < nr; i++) {
        int64_t g = X->rows[i];
        const double *z = Z + (size_t)i * k;
        if (pb->kind) {          /* binary: positive when the decision value > 0 */
            int yi = pb->y[g] != 0;
            if (metric == MG_CV_ACCURACY) s += (z[0] > 0) == yi;
            else {
                double p = z[0] >= 0 ? 1 / (1 + exp(-z[0])) : exp(z[0]) / (1 + exp(z[0]));
                p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
                s += log(yi ? p : 1 - p);
            }
        } else {
            int best = 0;
            double mx = z[0];
            for (int c = 1; c < k; c++) if (z[c] > mx) { mx = z[c]; best = c; }
            if (metric == MG_CV_ACCURACY) s += best == pb->cls[g];
            else {
                double sum = 0;
                for (int c = 0; c < k; c++) sum += exp(z[c] - mx);
                double p = exp(z[pb->cls[g]] - mx) / sum;
                p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
                s += log(p);
            }
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
    int rc = -1, nout = t->nout, cv = p->ngrid > 1;
    int nprob = (t->task == MG_FIT_MULTILABEL || t->task == MG_FIT_REGRESSION) ? nout : 1;
    int krow = t->task == MG_FIT_MULTICLASS ? nout : 1;      /* theta rows per problem */
    int nth = t->task == MG_FIT_BINARY ? 1 : nout;            /* theta rows in all */
    int *strata = NULL, *c01 = NULL;
    int64_t *rows = NULL;
    double *Z = NULL, *th = NULL, *sw = NULL;
    res->task = t->task; res->nout = nout; res->d = d; res->n = n;
    res->nprob = nprob; res->nrows_theta = nth; res->ngrid = cv ? p->ngrid : 1; res->folds = cv ? p->folds : 0;
    res->mean = malloc((size_t)d * sizeof *res->mean);
    res->scale = malloc((size_t)d * sizeof *res->scale);
    res->theta = calloc((size_t)nth * (size_t)(d + 1), sizeof *res->theta);
    res->chosen = malloc((size_t)nprob * sizeof *res->chosen);
    res->info = calloc((size_t)nprob, sizeof *res->info);
    rows = malloc((size_t)(n ? n : 1) * sizeof *rows);
    Z = malloc((size_t)(n ? n : 1) * (size_t)krow * sizeof *Z);
    th = malloc((size_t)krow * (size_t)(d + 1) * sizeof *th);
    c01 = malloc((size_t)(n ? n : 1) * sizeof *c01);
    if (!res->mean || !res->scale || !res->theta || !res->chosen || !res->info || !rows || !Z || !th || !c01)
        goto nomem;
    if (p->ngrid < 1) { mg_seterr(err, errlen, "empty grid"); goto done; }
    if (p->standardize) {
        if (mg_fit_standardize(x, n, d, p->solve.threads, res->mean, res->scale) < 0) goto nomem;
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
    for (int pi = 0; pi < nprob; pi++) {
        problem pb = { 0 };
        pb.k = krow;
        free(sw); sw = NULL;
        if (t->task == MG_FIT_MULTICLASS) {
            pb.kind = 0; pb.cls = t->cls; pb.K = nout;
            if (p->balanced && !(sw = balanced(t->cls, nout, n))) goto nomem;
        } else if (t->task == MG_FIT_REGRESSION) {
            pb.kind = MG_LOSS_SQUARED; pb.y = t->y + (size_t)pi * n;
        } else {
            pb.kind = MG_LOSS_LOGISTIC;
            if (t->task == MG_FIT_BINARY) {
                double *yy = malloc((size_t)(n ? n : 1) * sizeof *yy);
                if (!yy) goto nomem;
                for (int64_t i = 0; i < n; i++) { yy[i] = t->cls[i]; c01[i] = t->cls[i]; }
                pb.y = yy;
            } else {
                pb.y = t->y + (size_t)pi * n;
                for (int64_t i = 0; i < n; i++) c01[i] = pb.y[i] != 0;
            }
            if (p->balanced && !(sw = balanced(c01, 2, n))) goto nomem;
        }
        pb.sw = sw;
        /* C from the grid value: ridge takes alpha, C = 1/alpha */
#define CVAL(v) (pb.kind == MG_LOSS_SQUARED ? 1.0 / (v) : (v))
        int best = 0;
        if (cv) {
            double *sum = calloc((size_t)p->ngrid, sizeof *sum);
            if (!sum) goto nomem_pb;
            for (int f = 0; f < p->folds; f++) {
                int64_t ntr = 0, nte = 0;
                for (int64_t i = 0; i < n; i++) if (res->fold[i] != f) rows[ntr++] = i;
                for (int64_t i = 0; i < n; i++) if (res->fold[i] == f) rows[ntr + nte++] = i;
                mg_fit_x Xtr = { x, n, d, res->mean, res->scale, rows, ntr };
                mg_fit_x Xte = { x, n, d, res->mean, res->scale, rows + ntr, nte };
                memset(th, 0, (size_t)krow * (size_t)(d + 1) * sizeof *th);
                for (int gi = 0; gi < p->ngrid; gi++) {
                    mg_solve_info info;
                    /* warm start along the grid, as sklearn's regularisation path */
                    if (solve(&pb, &Xtr, CVAL(p->grid[gi]), th, &p->solve, &info, err, errlen) < 0) {
                        free(sum);
                        goto fail_pb;
                    }
                    int metric = pb.kind == MG_LOSS_SQUARED ? MG_CV_R2 : p->cv_score;
                    double sc = score(&pb, &Xte, th, metric, p->solve.threads, Z);
                    res->cv_fold[((size_t)pi * p->ngrid + gi) * p->folds + f] = sc;
                }
            }
            /* sklearn: scores.sum(axis=0).argmax() — folds summed in order,
             * the first maximum */
            for (int gi = 0; gi < p->ngrid; gi++) {
                double s = 0;
                for (int f = 0; f < p->folds; f++) s += res->cv_fold[((size_t)pi * p->ngrid + gi) * p->folds + f];
                sum[gi] = s;
                res->cv_mean[(size_t)pi * p->ngrid + gi] = s / p->folds;
                if (s > sum[best]) best = gi;
            }
            free(sum);
        }
        res->chosen[pi] = p->grid[best];
        memset(th, 0, (size_t)krow * (size_t)(d + 1) * sizeof *th);
        mg_fit_x Xall = { x, n, d, res->mean, res->scale, NULL, n };
        if (solve(&pb, &Xall, CVAL(p->grid[best]), th, &p->solve, &res->info[pi], err, errlen) < 0) goto fail_pb;
#undef CVAL
        memcpy(res->theta + (size_t)pi * (size_t)(d + 1), th, (size_t)krow * (size_t)(d + 1) * sizeof *th);
        if (t->task == MG_FIT_BINARY) free((double *)pb.y);
        continue;
    nomem_pb:
        mg_seterr(err, errlen, "out of memory");
    fail_pb:
        if (t->task == MG_FIT_BINARY) free((double *)pb.y);
        goto done;
    }
    rc = 0;
    goto done;
nomem:
    mg_seterr(err, errlen, "out of memory");
done:
    free(strata); free(rows); free(Z); free(th); free(sw); free(c01);
    if (rc < 0) {
        int np = res->nprob;
        mg_fit_result_free(res);
        res->nprob = np;
    }
    return rc;
}

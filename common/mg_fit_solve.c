/* mg_fit_solve.c: Newton solvers for the L2-regularised linear models of
 * mg_fit.h. Objective, gradient and decision values in double; the Hessian
 * steps are found by conjugate gradients preconditioned with the Gram matrix
 * (accumulated in float by cblas_ssyrk, eigen-decomposed in double), which
 * changes only the path, not the fixed point: iteration stops on the
 * double-precision gradient. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_fit.h"
#include "mg_pool.h"


/* Rows per reduction block. Fixed (not derived from the thread count) so that
 * partial sums, added in block order, give the same bits for any -@. */
#define BLK 2048
/* Rows per BLAS call inside a block (centred rows in double: SUB × d). */
#define SUB 128
/* Rows per float Hessian partition at least, and partitions at most. */
#define HPART_MIN 8192
#define HPART_MAX 16
/* Rows per cblas_ssyrk call. */
#define HSUB 256

static inline int64_t nrow_of(const mg_fit_x *X) { return X->rows ? X->nrows : X->n; }
static inline const float *row_of(const mg_fit_x *X, int64_t i)
{
    return X->x + (size_t)(X->rows ? X->rows[i] : i) * (size_t)X->d;
}
static inline int64_t gidx(const mg_fit_x *X, int64_t i) { return X->rows ? X->rows[i] : i; }

/* Parallel loops run on the caller's pool (NULL: on the caller); every
 * result depends on the task index only, never on the worker. */
static int run(mg_pool *pool, int ntasks, void (*fn)(void *, int, int), void *arg)
{
    return mg_pool_for(pool, ntasks, fn, arg);
}

/* ---------------- standardisation ---------------- */

typedef struct {
    const float *x;
    int64_t n;
    int d;
    const double *mean;    /* NULL: first pass (sums) */
    double *part;          /* nblk × d */
} std_job;

static void std_task(void *arg, int b, int w)
{
    (void)w;
    std_job *j = arg;
    double *acc = j->part + (size_t)b * (size_t)j->d;
    memset(acc, 0, (size_t)j->d * sizeof *acc);
    int64_t i0 = (int64_t)b * BLK, i1 = i0 + BLK < j->n ? i0 + BLK : j->n;
    for (int64_t i = i0; i < i1; i++) {
        const float *r = j->x + (size_t)i * (size_t)j->d;
        if (!j->mean) for (int k = 0; k < j->d; k++) acc[k] += r[k];
        else for (int k = 0; k < j->d; k++) { double c = r[k] - j->mean[k]; acc[k] += c * c; }
    }
}

int mg_fit_standardize(const float *x, int64_t n, int d, mg_pool *pool, double *mean, double *scale)
{
    int nblk = (int)((n + BLK - 1) / BLK);
    if (nblk < 1) nblk = 1;
    double *part = malloc((size_t)nblk * (size_t)d * sizeof *part);
    if (!part) return -1;
    std_job j = { x, n, d, NULL, part };
    for (int pass = 0; pass < 2; pass++) {
        j.mean = pass ? mean : NULL;
        run(pool, nblk, std_task, &j);
        double *out = pass ? scale : mean;
        for (int k = 0; k < d; k++) {
            double s = 0;
            for (int b = 0; b < nblk; b++) s += part[(size_t)b * (size_t)d + k];
            out[k] = s / (double)n;
        }
    }
    /* scale: population sd; 1 for a constant column as StandardScaler
     * (sklearn.utils.extmath._is_constant_feature's bound) */
    for (int k = 0; k < d; k++) {
        double var = scale[k], m = mean[k], e = DBL_EPSILON;
        double bound = (double)n * e * var + ((double)n * m * e) * ((double)n * m * e);
        scale[k] = var <= bound ? 1.0 : sqrt(var);
    }
    free(part);
    return 0;
}

/* ---------------- passes over the rows ---------------- */

typedef struct {
    const mg_fit_x *X;
    int64_t nr;
    int k;                 /* outputs */
    const double *v;       /* margins: k × d weights divided by scale */
    const double *b;       /* margins: k intercepts */
    double *Z;             /* margins out: nr × k */
    const double *R;       /* gradient pass: nr × k residual weights */
    int square;            /* gradient pass on squared standardised inputs */
    double *part;          /* gradient pass: nblk × k × (d + 1) */
    double *xc;            /* per worker scratch: SUB × d */
    const double *Hw;      /* Hessian-vector pass: nr × k curvature weights … */
    double *Rw;            /* … and the residual weights Hw ⊙ Z written */
} pass_job;

/* Centred rows x − mean of rows [i0, i1) into xc (row-major, d columns). */
static void centre_rows(const mg_fit_x *X, int64_t i0, int64_t i1, double *xc)
{
    int d = X->d;
    for (int64_t i = i0; i < i1; i++) {
        const float *r = row_of(X, i);
        double *o = xc + (size_t)(i - i0) * (size_t)d;
        for (int c = 0; c < d; c++) o[c] = r[c] - X->mean[c];
    }
}

/* Z[nb, k] = b + xc[nb, d] · v[k, d]ᵀ for the block of rows at i0
 * (single-threaded BLAS, fixed shapes). */
static double *margins_block(const pass_job *j, int64_t i0, int nb, const double *xc)
{
    int d = j->X->d, k = j->k;
    double *Z = j->Z + (size_t)i0 * (size_t)k;
    for (int r = 0; r < nb; r++) memcpy(Z + (size_t)r * k, j->b, (size_t)k * sizeof *Z);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, 1.0, xc, d, j->v, d, 1.0, Z, k);
    return Z;
}

/* acc[k, 0:d] += R[nb, k]ᵀ · xc[nb, d]; acc[k, d] += the column sums of R. */
static void accumulate_block(double *acc, const double *R, const double *xc, int nb, int k, int d)
{
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, d, nb, 1.0, R, k, xc, d, 1.0, acc, d + 1);
    for (int r = 0; r < nb; r++)
        for (int o = 0; o < k; o++) acc[(size_t)o * (d + 1) + d] += R[(size_t)r * k + o];
}

static void margin_task(void *arg, int blk, int w)
{
    pass_job *j = arg;
    const mg_fit_x *X = j->X;
    int d = X->d;
    double *xc = j->xc + (size_t)w * SUB * (size_t)d;
    int64_t b0 = (int64_t)blk * BLK, b1 = b0 + BLK < j->nr ? b0 + BLK : j->nr;
    for (int64_t i0 = b0; i0 < b1; i0 += SUB) {
        int nb = (int)(b1 - i0 < SUB ? b1 - i0 : SUB);
        centre_rows(X, i0, i0 + nb, xc);
        margins_block(j, i0, nb, xc);
    }
}

static void grad_task(void *arg, int blk, int w)
{
    pass_job *j = arg;
    const mg_fit_x *X = j->X;
    int d = X->d, k = j->k;
    double *xc = j->xc + (size_t)w * SUB * (size_t)d;
    double *acc = j->part + (size_t)blk * (size_t)k * (size_t)(d + 1);
    memset(acc, 0, (size_t)k * (size_t)(d + 1) * sizeof *acc);
    int64_t b0 = (int64_t)blk * BLK, b1 = b0 + BLK < j->nr ? b0 + BLK : j->nr;
    for (int64_t i0 = b0; i0 < b1; i0 += SUB) {
        int nb = (int)(b1 - i0 < SUB ? b1 - i0 : SUB);
        centre_rows(X, i0, i0 + nb, xc);
        if (j->square)
            for (int r = 0; r < nb; r++)
                for (int c = 0; c < d; c++) {
                    double t = xc[(size_t)r * d + c] / X->scale[c];
                    xc[(size_t)r * d + c] = t * t;
                }
        accumulate_block(acc, j->R + (size_t)i0 * (size_t)k, xc, nb, k, d);
    }
}

/* Hessian-vector product in one pass: per block dZ = b + xc·vᵀ (as
 * margin_task), R = Hw ⊙ dZ, then acc += Rᵀ·xc (as grad_task) while the
 * centred rows are still in cache — the same operations on the same blocks as
 * the two passes, so the same bits, reading X once instead of twice. */
static void hessvec_task(void *arg, int blk, int w)
{
    pass_job *j = arg;
    const mg_fit_x *X = j->X;
    int d = X->d, k = j->k;
    double *xc = j->xc + (size_t)w * SUB * (size_t)d;
    double *acc = j->part + (size_t)blk * (size_t)k * (size_t)(d + 1);
    memset(acc, 0, (size_t)k * (size_t)(d + 1) * sizeof *acc);
    int64_t b0 = (int64_t)blk * BLK, b1 = b0 + BLK < j->nr ? b0 + BLK : j->nr;
    for (int64_t i0 = b0; i0 < b1; i0 += SUB) {
        int nb = (int)(b1 - i0 < SUB ? b1 - i0 : SUB);
        centre_rows(X, i0, i0 + nb, xc);
        const double *Z = margins_block(j, i0, nb, xc), *Hw = j->Hw + (size_t)i0 * (size_t)k;
        double *R = j->Rw + (size_t)i0 * (size_t)k;
        for (size_t e = 0; e < (size_t)nb * k; e++) R[e] = Hw[e] * Z[e];
        accumulate_block(acc, R, xc, nb, k, d);
    }
}

typedef struct {
    mg_pool *pool;
    int threads;           /* workers of pool */
    int64_t nr;
    int nblk;
    double *xc;            /* threads × SUB × d */
    double *part;          /* nblk × k × (d + 1) */
    double *v, *b;         /* k × d, k */
    int k;
} passes;

static int passes_init(passes *p, const mg_fit_x *X, int k, mg_pool *pool)
{
    memset(p, 0, sizeof *p);
    p->pool = pool;
    p->threads = mg_pool_threads(pool);
    p->nr = nrow_of(X);
    p->nblk = (int)((p->nr + BLK - 1) / BLK);
    if (p->nblk < 1) p->nblk = 1;
    p->k = k;
    p->xc = malloc((size_t)p->threads * SUB * (size_t)X->d * sizeof *p->xc);
    p->part = malloc((size_t)p->nblk * (size_t)k * (size_t)(X->d + 1) * sizeof *p->part);
    p->v = malloc((size_t)k * (size_t)X->d * sizeof *p->v);
    p->b = malloc((size_t)k * sizeof *p->b);
    return p->xc && p->part && p->v && p->b ? 0 : -1;
}

static void passes_free(passes *p)
{
    free(p->xc); free(p->part); free(p->v); free(p->b);
}

/* Z = [Xs, 1] · thetaᵀ for the k outputs. */
/* v = weights / scale, b = intercepts of the k rows of theta. */
static void set_vb(passes *p, const mg_fit_x *X, const double *theta)
{
    int d = X->d;
    for (int o = 0; o < p->k; o++) {
        for (int c = 0; c < d; c++) p->v[(size_t)o * d + c] = theta[(size_t)o * (d + 1) + c] / X->scale[c];
        p->b[o] = theta[(size_t)o * (d + 1) + d];
    }
}

static void margins(passes *p, const mg_fit_x *X, const double *theta, double *Z)
{
    set_vb(p, X, theta);
    pass_job j = { .X = X, .nr = p->nr, .k = p->k, .v = p->v, .b = p->b, .Z = Z, .xc = p->xc };
    run(p->pool, p->nblk, margin_task, &j);
}

/* G = the block partial sums added in block order (scaled unless square). */
static void sum_parts(passes *p, const mg_fit_x *X, int square, double *G)
{
    int d = X->d, k = p->k;
    size_t m = (size_t)k * (size_t)(d + 1);
    for (size_t e = 0; e < m; e++) {
        double s = 0;
        for (int b = 0; b < p->nblk; b++) s += p->part[(size_t)b * m + e];
        G[e] = s;
    }
    if (!square)
        for (int o = 0; o < k; o++)
            for (int c = 0; c < d; c++) G[(size_t)o * (d + 1) + c] /= X->scale[c];
}

/* G (k × (d+1)) = [Xs, 1]ᵀ R (square: [Xs², 1]ᵀ R), block sums in block order. */
static void gradpass(passes *p, const mg_fit_x *X, const double *R, int square, double *G)
{
    pass_job j = { .X = X, .nr = p->nr, .k = p->k, .R = R, .square = square, .part = p->part, .xc = p->xc };
    run(p->pool, p->nblk, grad_task, &j);
    sum_parts(p, X, square, G);
}

/* Q = [Xs, 1]ᵀ (Hw ⊙ ([Xs, 1]·thetaᵀ)): margins into dZ, R = Hw ⊙ dZ and
 * gradpass, fused. */
static void hessvec(passes *p, const mg_fit_x *X, const double *theta, const double *Hw, double *dZ, double *R,
                    double *Q)
{
    set_vb(p, X, theta);
    pass_job j = { .X = X, .nr = p->nr, .k = p->k, .v = p->v, .b = p->b, .Z = dZ, .Rw = R, .Hw = Hw,
                   .part = p->part, .xc = p->xc };
    run(p->pool, p->nblk, hessvec_task, &j);
    sum_parts(p, X, 0, Q);
}

void mg_fit_margins(const mg_fit_x *X, const double *theta, int k, double *Z, mg_pool *pool)
{
    passes p;
    if (passes_init(&p, X, k, pool) == 0) margins(&p, X, theta, Z);
    else {
        /* no scratch memory: one row at a time, same arithmetic */
        for (int64_t i = 0; i < nrow_of(X); i++) {
            const float *r = row_of(X, i);
            for (int o = 0; o < k; o++) {
                const double *t = theta + (size_t)o * (X->d + 1);
                double s = 0;
                for (int c = 0; c < X->d; c++) s += (r[c] - X->mean[c]) * (t[c] / X->scale[c]);
                Z[(size_t)i * k + o] = t[X->d] + s;
            }
        }
    }
    passes_free(&p);
}

/* ---------------- float Hessian [Xs,1]ᵀ diag(h) [Xs,1] ---------------- */

typedef struct {
    const mg_fit_x *X;
    int64_t nr, psize;
    const double *h;       /* nr */
    float *hp;             /* nparts × (d+1)² */
    float *y;              /* threads × HSUB × (d+1) */
} hess_job;

static void hess_task(void *arg, int part, int w)
{
    hess_job *j = arg;
    const mg_fit_x *X = j->X;
    int d = X->d, m = d + 1;
    float *H = j->hp + (size_t)part * (size_t)m * (size_t)m;
    float *Y = j->y + (size_t)w * HSUB * (size_t)m;
    memset(H, 0, (size_t)m * (size_t)m * sizeof *H);
    int64_t i0 = (int64_t)part * j->psize, i1 = i0 + j->psize < j->nr ? i0 + j->psize : j->nr;
    for (int64_t s = i0; s < i1; s += HSUB) {
        int nb = (int)(i1 - s < HSUB ? i1 - s : HSUB);
        for (int r = 0; r < nb; r++) {
            const float *x = row_of(X, s + r);
            double q = sqrt(j->h[s + r]);
            float *yr = Y + (size_t)r * m;
            for (int c = 0; c < d; c++) yr[c] = (float)(q * ((x[c] - X->mean[c]) / X->scale[c]));
            yr[d] = (float)q;
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, m, nb, 1.0f, Y, m, 1.0f, H, m);
    }
}

/* H (row-major, upper triangle filled) = Σ h_i [xs_i,1][xs_i,1]ᵀ + diag(1..1, 0).
 * Partitions of rows fixed by the row count alone, summed in order. */
static int hessian(const mg_fit_x *X, mg_pool *pool, const double *h, double *H)
{
    int d = X->d, m = d + 1;
    int64_t nr = nrow_of(X);
    int np = (int)((nr + HPART_MIN - 1) / HPART_MIN);
    if (np > HPART_MAX) np = HPART_MAX;
    if (np < 1) np = 1;
    int64_t psize = (nr + np - 1) / np;
    int threads = mg_pool_threads(pool);
    hess_job j = { X, nr, psize, h, NULL, NULL };
    j.hp = malloc((size_t)np * (size_t)m * (size_t)m * sizeof *j.hp);
    j.y = malloc((size_t)threads * HSUB * (size_t)m * sizeof *j.y);
    if (!j.hp || !j.y) { free(j.hp); free(j.y); return -1; }
    run(pool, np, hess_task, &j);
    for (int a = 0; a < m; a++)
        for (int b = a; b < m; b++) {
            double s = 0;
            for (int p = 0; p < np; p++) s += j.hp[(size_t)p * m * m + (size_t)a * m + b];
            H[(size_t)a * m + b] = s + (a == b && a < d ? 1.0 : 0.0);
        }
    free(j.hp); free(j.y);
    return 0;
}

/* ---------------- losses ---------------- */

/* log(1 + e^z), without overflow or loss of precision for z ≪ 0. */
static inline double softplus(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}
static inline double sigmoid(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

static double penalty(const double *theta, int k, int d)
{
    double s = 0;
    for (int o = 0; o < k; o++)
        for (int c = 0; c < d; c++) { double w = theta[(size_t)o * (d + 1) + c]; s += w * w; }
    return 0.5 * s;
}

static double sum_weights(const mg_fit_x *X, const double *sw)
{
    int64_t nr = nrow_of(X);
    if (!sw) return (double)nr;
    double s = 0;
    for (int64_t i = 0; i < nr; i++) s += sw[gidx(X, i)];
    return s;
}

/* The stopping bound on max|∇f|/C: tol·max(1, Σ s_i) — sklearn's newton-cg
 * stops at max|∇|/C <= tol on the unnormalised sum; a bound proportional to the
 * total weight keeps the criterion reachable in double for large n, and the
 * weights then differ from the optimum by about tol/var (Newton converges
 * quadratically, so the iteration that meets it is already far below). */
static double grad_bound(const mg_fit_x *X, const double *sw, double tol)
{
    double s = sum_weights(X, sw);
    return tol * (s > 1 ? s : 1);
}

/* ---------------- the Gram matrix as a preconditioner ---------------- */

void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);

struct mg_fit_gram {
    int m;
    double *V;      /* eigenvectors, column-major m × m */
    double *lam;    /* eigenvalues of G = [xs,1]ᵀ[xs,1] (clamped at 0) */
    double *t;      /* scratch m */
};

void mg_fit_gram_free(mg_fit_gram *g)
{
    if (!g) return;
    free(g->V); free(g->lam); free(g->t);
    free(g);
}

mg_fit_gram *mg_fit_gram_new(const mg_fit_x *X, mg_pool *pool, char *err, size_t errlen)
{
    int m = X->d + 1;
    int64_t nr = nrow_of(X);
    mg_fit_gram *g = calloc(1, sizeof *g);
    double *ones = malloc((size_t)(nr ? nr : 1) * sizeof *ones);
    if (!g || !ones) goto nomem;
    g->m = m;
    g->V = malloc((size_t)m * (size_t)m * sizeof *g->V);
    g->lam = malloc((size_t)m * sizeof *g->lam);
    g->t = malloc((size_t)m * sizeof *g->t);
    if (!g->V || !g->lam || !g->t) goto nomem;
    for (int64_t i = 0; i < nr; i++) ones[i] = 1;
    if (hessian(X, pool, ones, g->V) < 0) goto nomem;
    for (int a = 0; a < m - 1; a++) g->V[(size_t)a * m + a] -= 1;   /* G without the penalty */
    /* eigen-decomposition (row-major upper = column-major lower) */
    int info = 0, lwork = -1, liwork = -1, iw;
    double wq;
    dsyevd_("V", "L", &m, g->V, &m, g->lam, &wq, &lwork, &iw, &liwork, &info);
    lwork = (int)wq; liwork = iw;
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    if (!work || !iwork) { free(work); free(iwork); goto nomem; }
    dsyevd_("V", "L", &m, g->V, &m, g->lam, work, &lwork, iwork, &liwork, &info);
    free(work); free(iwork);
    if (info != 0) { mg_seterr(err, errlen, "eigen-decomposition of the Gram matrix failed"); goto fail; }
    for (int a = 0; a < m; a++) if (!(g->lam[a] > 0)) g->lam[a] = 0;
    free(ones);
    return g;
nomem:
    mg_seterr(err, errlen, "out of memory");
fail:
    free(ones);
    mg_fit_gram_free(g);
    return NULL;
}

/* z = (I + a·G)⁻¹ r = V diag(1/(1 + a·λ)) Vᵀ r. */
static void gram_apply(mg_fit_gram *g, double a, const double *r, double *z)
{
    int m = g->m;
    cblas_dgemv(CblasColMajor, CblasTrans, m, m, 1.0, g->V, m, r, 1, 0.0, g->t, 1);
    for (int j = 0; j < m; j++) g->t[j] /= 1 + a * g->lam[j];
    cblas_dgemv(CblasColMajor, CblasNoTrans, m, m, 1.0, g->V, m, g->t, 1, 0.0, z, 1);
}

/* Σ_i s_i loss(y_i, z_il + t·dz_il) for output l of L, in row order. */
static double glm_loss_l(const mg_fit_x *X, int L, int l, const double *Y, const double *SW, int loss,
                         const double *Z, const double *dZ, double t)
{
    int64_t nr = nrow_of(X), n = X->n;
    double s = 0;
    for (int64_t i = 0; i < nr; i++) {
        int64_t g = gidx(X, i);
        double zi = Z[(size_t)i * L + l] + (dZ ? t * dZ[(size_t)i * L + l] : 0), y = Y[(size_t)l * n + g], v;
        if (loss == MG_LOSS_LOGISTIC) v = softplus(zi) - y * zi;
        else { double e = y - zi; v = 0.5 * e * e; }
        s += (SW ? SW[(size_t)l * n + g] : 1.0) * v;
    }
    return s;
}

/* Newton-CG for L independent outputs on the same rows, in lockstep: every
 * pass over the rows serves all outputs at once (two BLAS products per block
 * of rows). Each Newton system H_l·step = −g_l is solved by conjugate
 * gradients preconditioned with (I + a_l·G)⁻¹, G the Gram matrix of
 * [xs, 1] and a_l the mean curvature weight of output l, which is the exact
 * Hessian for ridge and close to it for logistic regression. */
int mg_fit_glm(const mg_fit_x *X, int L, const double *Y, const double *SW, int loss, const double *Cv,
               double *theta, mg_fit_gram *gram, const mg_solve_opts *o, mg_solve_info *info,
               char *err, size_t errlen)
{
    int d = X->d, m = d + 1, rc = -1, own_gram = 0;
    int64_t nr = nrow_of(X), n = X->n;
    size_t nl = (size_t)nr * (size_t)L, ml = (size_t)m * (size_t)L;
    passes p;
    int pok = passes_init(&p, X, L, o->pool) == 0;
    double *Z = malloc(nl * sizeof *Z), *dZ = malloc(nl * sizeof *dZ), *R = malloc(nl * sizeof *R);
    double *Hw = malloc(nl * sizeof *Hw);
    double *G = malloc(ml * sizeof *G), *S = malloc(ml * sizeof *S), *Res = malloc(ml * sizeof *Res);
    double *Pv = malloc(ml * sizeof *Pv), *Q = malloc(ml * sizeof *Q), *Zv = malloc(ml * sizeof *Zv);
    double *f = malloc((size_t)L * 8 * sizeof *f);
    int *act = malloc((size_t)L * 2 * sizeof *act);
    if (!pok || !Z || !dZ || !R || !Hw || !G || !S || !Res || !Pv || !Q || !Zv || !f || !act) {
        mg_seterr(err, errlen, "out of memory");
        goto done;
    }
    double *bound = f + L, *g0n = f + 2 * L, *gn = f + 3 * L, *rz = f + 4 * L, *aw = f + 5 * L, *fnew = f + 6 * L;
    double *tstep = f + 7 * L;
    int *done = act + L;
    memset(info, 0, (size_t)L * sizeof *info);
    if (!gram) {
        if (!(gram = mg_fit_gram_new(X, o->pool, err, errlen))) goto done;
        own_gram = 1;
    }
    for (int l = 0; l < L; l++) {
        double sw = 0;
        for (int64_t i = 0; i < nr; i++) sw += SW ? SW[(size_t)l * n + gidx(X, i)] : 1.0;
        bound[l] = o->tol * (sw > 1 ? sw : 1);
    }
    margins(&p, X, theta, Z);
    for (int l = 0; l < L; l++) f[l] = penalty(theta + (size_t)l * m, 1, d) + Cv[l] * glm_loss_l(X, L, l, Y, SW, loss, Z, NULL, 0);
    for (int it = 0;; it++) {
        /* residuals, curvature weights, gradients */
        for (int64_t i = 0; i < nr; i++) {
            int64_t gi = gidx(X, i);
            for (int l = 0; l < L; l++) {
                double s = Cv[l] * (SW ? SW[(size_t)l * n + gi] : 1.0), z = Z[(size_t)i * L + l], y = Y[(size_t)l * n + gi];
                if (loss == MG_LOSS_LOGISTIC) {
                    double pr = sigmoid(z);
                    R[(size_t)i * L + l] = s * (pr - y);
                    Hw[(size_t)i * L + l] = s * pr * (1 - pr);
                } else {
                    R[(size_t)i * L + l] = s * (z - y);
                    Hw[(size_t)i * L + l] = s;
                }
            }
        }
        gradpass(&p, X, R, 0, G);
        int nact = 0;
        for (int l = 0; l < L; l++) {
            double gmax = 0, g2 = 0;
            for (int c = 0; c < m; c++) {
                double *gg = &G[(size_t)l * m + c];
                if (c < d) *gg += theta[(size_t)l * m + c];
                if (fabs(*gg) > gmax) gmax = fabs(*gg);
                g2 += *gg * *gg;
            }
            gn[l] = sqrt(g2);
            if (it == 0) g0n[l] = gn[l];
            info[l].grad_max = gmax / Cv[l];
            info[l].objective = f[l];
            if (gmax / Cv[l] <= bound[l]) info[l].converged = 1;
            if (it == 0) done[l] = 0;
            /* done[l] == 2: the line search found no decrease (rounding level) */
            act[l] = !info[l].converged && it < o->max_iter && done[l] != 2;
            nact += act[l];
        }
        if (!nact) break;
        /* preconditioned CG on H_l·step = −g_l, all active outputs together */
        for (int l = 0; l < L; l++) {
            double sh = 0;
            for (int64_t i = 0; i < nr; i++) sh += Hw[(size_t)i * L + l];
            aw[l] = sh / (double)(nr ? nr : 1);
            double *res = Res + (size_t)l * m, *zv = Zv + (size_t)l * m, *pv = Pv + (size_t)l * m;
            memset(S + (size_t)l * m, 0, (size_t)m * sizeof *S);
            if (done[l] != 2) done[l] = !act[l];
            if (done[l]) { memset(pv, 0, (size_t)m * sizeof *pv); continue; }
            for (int c = 0; c < m; c++) res[c] = -G[(size_t)l * m + c];
            gram_apply(gram, aw[l], res, zv);
            rz[l] = 0;
            for (int c = 0; c < m; c++) { pv[c] = zv[c]; rz[l] += res[c] * zv[c]; }
        }
        for (int k = 0; k < 200; k++) {
            int left = 0;
            for (int l = 0; l < L; l++) left += !done[l];
            if (!left) break;
            hessvec(&p, X, Pv, Hw, dZ, R, Q);
            for (int l = 0; l < L; l++) {
                if (done[l]) continue;
                double *res = Res + (size_t)l * m, *zv = Zv + (size_t)l * m, *pv = Pv + (size_t)l * m;
                double *q = Q + (size_t)l * m, *st = S + (size_t)l * m, pq = 0;
                for (int c = 0; c < m; c++) { if (c < d) q[c] += pv[c]; pq += pv[c] * q[c]; }
                info[l].cg_iterations++;
                double eta = it == 0 ? 0.5 : (sqrt(gn[l] / g0n[l]) < 0.5 ? sqrt(gn[l] / g0n[l]) : 0.5);
                if (!(pq > 0)) { done[l] = 1; memset(pv, 0, (size_t)m * sizeof *pv); continue; }
                double al = rz[l] / pq, rn = 0;
                for (int c = 0; c < m; c++) { st[c] += al * pv[c]; res[c] -= al * q[c]; rn += res[c] * res[c]; }
                if (sqrt(rn) <= eta * gn[l]) { done[l] = 1; memset(pv, 0, (size_t)m * sizeof *pv); continue; }
                gram_apply(gram, aw[l], res, zv);
                double rz2 = 0;
                for (int c = 0; c < m; c++) rz2 += res[c] * zv[c];
                for (int c = 0; c < m; c++) pv[c] = zv[c] + rz2 / rz[l] * pv[c];
                rz[l] = rz2;
            }
        }
        /* a step direction that is not a descent direction: the gradient */
        for (int l = 0; l < L; l++) {
            if (!act[l]) continue;
            double slope = 0;
            for (int c = 0; c < m; c++) slope += G[(size_t)l * m + c] * S[(size_t)l * m + c];
            if (!(slope < 0)) for (int c = 0; c < m; c++) S[(size_t)l * m + c] = -G[(size_t)l * m + c];
        }
        margins(&p, X, S, dZ);
        /* backtracking (Armijo) line search per output */
        for (int l = 0; l < L; l++) {
            if (done[l] != 2) done[l] = 0;
            if (!act[l]) continue;
            double slope = 0;
            for (int c = 0; c < m; c++) slope += G[(size_t)l * m + c] * S[(size_t)l * m + c];
            double t = 1;
            int accepted = 0;
            for (int ls = 0; ls < 40; ls++, t *= 0.5) {
                double pen = 0;
                for (int c = 0; c < d; c++) { double w = theta[(size_t)l * m + c] + t * S[(size_t)l * m + c]; pen += w * w; }
                fnew[l] = 0.5 * pen + Cv[l] * glm_loss_l(X, L, l, Y, SW, loss, Z, dZ, t);
                if (fnew[l] <= f[l] + 1e-4 * t * slope) { accepted = 1; break; }
            }
            info[l].iterations = it + 1;
            if (!accepted) {        /* at rounding level: stop this output */
                info[l].converged = info[l].grad_max <= sqrt(bound[l]);
                done[l] = 2;
                tstep[l] = 0;
                continue;
            }
            tstep[l] = t;
            f[l] = fnew[l];
            for (int c = 0; c < m; c++) theta[(size_t)l * m + c] += t * S[(size_t)l * m + c];
        }
        for (int64_t i = 0; i < nr; i++)
            for (int l = 0; l < L; l++)
                if (act[l] && done[l] != 2) Z[(size_t)i * L + l] += tstep[l] * dZ[(size_t)i * L + l];
    }
    rc = 0;
done:
    if (own_gram) mg_fit_gram_free(gram);
    passes_free(&p);
    free(Z); free(dZ); free(R); free(Hw); free(G); free(S); free(Res); free(Pv); free(Q); free(Zv); free(f); free(act);
    return rc;
}

/* ---------------- multinomial: Newton-CG ---------------- */

/* Row-wise softmax of Z (nr × K) into P; returns Σ s_i (lse_i − z_i,y_i). */
static double softmax_rows(const mg_fit_x *X, const double *Z, const double *dZ, double t, int K,
                           const int *cls, const double *sw, double *P)
{
    int64_t nr = nrow_of(X);
    double s = 0;
    for (int64_t i = 0; i < nr; i++) {
        int64_t g = gidx(X, i);
        double mx = -INFINITY, zz[256], *zr = K <= 256 ? zz : NULL;
        double sum = 0;
        for (int k = 0; k < K; k++) {
            double v = Z[(size_t)i * K + k] + (dZ ? t * dZ[(size_t)i * K + k] : 0);
            if (zr) zr[k] = v;
            if (v > mx) mx = v;
        }
        for (int k = 0; k < K; k++) {
            double v = zr ? zr[k] : Z[(size_t)i * K + k] + (dZ ? t * dZ[(size_t)i * K + k] : 0);
            double e = exp(v - mx);
            if (P) P[(size_t)i * K + k] = e;
            sum += e;
        }
        if (P) for (int k = 0; k < K; k++) P[(size_t)i * K + k] /= sum;
        double zy = zr ? zr[cls[g]] : Z[(size_t)i * K + cls[g]] + (dZ ? t * dZ[(size_t)i * K + cls[g]] : 0);
        s += (sw ? sw[g] : 1.0) * (mx + log(sum) - zy);
    }
    return s;
}

int mg_fit_softmax(const mg_fit_x *X, const int *cls, int K, const double *sw, double C,
                   double *theta, const mg_solve_opts *o, mg_solve_info *info, char *err, size_t errlen)
{
    int d = X->d, m = d + 1, rc = -1;
    size_t np = (size_t)K * (size_t)m;
    int64_t nr = nrow_of(X);
    passes p;
    memset(info, 0, sizeof *info);
    double *Z = malloc((size_t)nr * K * sizeof *Z), *dZ = malloc((size_t)nr * K * sizeof *dZ);
    double *P = malloc((size_t)nr * K * sizeof *P), *R = malloc((size_t)nr * K * sizeof *R);
    double *U = malloc((size_t)nr * K * sizeof *U);
    double *g = malloc(np * sizeof *g), *dir = malloc(np * sizeof *dir), *res = malloc(np * sizeof *res);
    double *pv = malloc(np * sizeof *pv), *q = malloc(np * sizeof *q), *zv = malloc(np * sizeof *zv);
    double *diag = malloc(np * sizeof *diag);
    int pok = passes_init(&p, X, K, o->pool) == 0;
    if (!Z || !dZ || !P || !R || !U || !g || !dir || !res || !pv || !q || !zv || !diag || !pok) {
        mg_seterr(err, errlen, "out of memory");
        goto done;
    }
    double bound = grad_bound(X, sw, o->tol);
    margins(&p, X, theta, Z);
    double f = penalty(theta, K, d) + C * softmax_rows(X, Z, NULL, 0, K, cls, sw, P);
    for (int it = 0;; it++) {
        for (int64_t i = 0; i < nr; i++) {
            int64_t gi = gidx(X, i);
            double s = C * (sw ? sw[gi] : 1.0);
            for (int k = 0; k < K; k++) R[(size_t)i * K + k] = s * (P[(size_t)i * K + k] - (cls[gi] == k));
        }
        gradpass(&p, X, R, 0, g);
        double gmax = 0, gnorm = 0;
        for (int k = 0; k < K; k++)
            for (int c = 0; c < m; c++) {
                double *gg = &g[(size_t)k * m + c];
                if (c < d) *gg += theta[(size_t)k * m + c];
                if (fabs(*gg) > gmax) gmax = fabs(*gg);
                gnorm += *gg * *gg;
            }
        gnorm = sqrt(gnorm);
        info->grad_max = gmax / C;
        info->objective = f;
        if (gmax / C <= bound) { info->converged = 1; break; }
        if (it >= o->max_iter) break;
        /* Jacobi preconditioner: diagonal of the Hessian */
        for (int64_t i = 0; i < nr; i++) {
            double s = C * (sw ? sw[gidx(X, i)] : 1.0);
            for (int k = 0; k < K; k++) { double pk = P[(size_t)i * K + k]; R[(size_t)i * K + k] = s * pk * (1 - pk); }
        }
        gradpass(&p, X, R, 1, diag);
        for (int k = 0; k < K; k++)
            for (int c = 0; c < d; c++) diag[(size_t)k * m + c] += 1;
        for (size_t e = 0; e < np; e++) if (!(diag[e] > 1e-12)) diag[e] = 1e-12;
        /* CG on H·dir = −g, to a residual of min(0.5, √‖g‖)·‖g‖ (as scipy's
         * and sklearn's newton-cg) */
        double eta = sqrt(gnorm / C) < 0.5 ? sqrt(gnorm / C) : 0.5;
        double ctol = eta * gnorm;
        memset(dir, 0, np * sizeof *dir);
        for (size_t e = 0; e < np; e++) { res[e] = -g[e]; zv[e] = res[e] / diag[e]; pv[e] = zv[e]; }
        double rz = 0;
        for (size_t e = 0; e < np; e++) rz += res[e] * zv[e];
        for (int cg = 0; cg < 10 * m * K && cg < 1000; cg++) {
            double rn = 0;
            for (size_t e = 0; e < np; e++) rn += res[e] * res[e];
            if (sqrt(rn) <= ctol) break;
            /* q = H pv */
            margins(&p, X, pv, U);
            for (int64_t i = 0; i < nr; i++) {
                double s = C * (sw ? sw[gidx(X, i)] : 1.0), dot = 0;
                const double *pr = P + (size_t)i * K, *ur = U + (size_t)i * K;
                for (int k = 0; k < K; k++) dot += pr[k] * ur[k];
                for (int k = 0; k < K; k++) R[(size_t)i * K + k] = s * pr[k] * (ur[k] - dot);
            }
            gradpass(&p, X, R, 0, q);
            for (int k = 0; k < K; k++)
                for (int c = 0; c < d; c++) q[(size_t)k * m + c] += pv[(size_t)k * m + c];
            double pq = 0;
            for (size_t e = 0; e < np; e++) pq += pv[e] * q[e];
            info->cg_iterations++;
            if (!(pq > 0)) break;          /* direction of zero curvature (intercept shift) */
            double a = rz / pq, rz2 = 0;
            for (size_t e = 0; e < np; e++) {
                dir[e] += a * pv[e];
                res[e] -= a * q[e];
                zv[e] = res[e] / diag[e];
                rz2 += res[e] * zv[e];
            }
            double beta = rz2 / rz;
            rz = rz2;
            for (size_t e = 0; e < np; e++) pv[e] = zv[e] + beta * pv[e];
        }
        double slope = 0;
        for (size_t e = 0; e < np; e++) slope += g[e] * dir[e];
        if (!(slope < 0)) for (size_t e = 0; e < np; e++) { dir[e] = -g[e]; slope -= g[e] * g[e]; }
        margins(&p, X, dir, dZ);
        double t = 1, fn = f;
        int accepted = 0;
        for (int ls = 0; ls < 40; ls++, t *= 0.5) {
            double pen = 0;
            for (int k = 0; k < K; k++)
                for (int c = 0; c < d; c++) {
                    double w = theta[(size_t)k * m + c] + t * dir[(size_t)k * m + c];
                    pen += w * w;
                }
            fn = 0.5 * pen + C * softmax_rows(X, Z, dZ, t, K, cls, sw, NULL);
            if (fn <= f + 1e-4 * t * slope) { accepted = 1; break; }
        }
        info->iterations = it + 1;
        if (!accepted) { info->converged = gmax / C <= sqrt(bound); break; }
        for (size_t e = 0; e < np; e++) theta[e] += t * dir[e];
        for (size_t e = 0; e < (size_t)nr * K; e++) Z[e] += t * dZ[e];
        f = fn;
        softmax_rows(X, Z, NULL, 0, K, cls, sw, P);
    }
    /* the intercepts are defined up to a common shift (unpenalised); centre them */
    double mb = 0;
    for (int k = 0; k < K; k++) mb += theta[(size_t)k * m + d];
    mb /= K;
    for (int k = 0; k < K; k++) theta[(size_t)k * m + d] -= mb;
    rc = 0;
done:
    passes_free(&p);
    free(Z); free(dZ); free(P); free(R); free(U); free(g); free(dir); free(res); free(pv); free(q); free(zv); free(diag);
    return rc;
}

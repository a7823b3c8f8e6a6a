/* mg_fit_mlp.c: a one-hidden-layer MLP trained by Adam with early stopping
 * (mg_fit.h). Arithmetic in double, so that a float64 PyTorch run on the same
 * batches reproduces the weights. A mini-batch is cut into blocks of SB rows,
 * one pool task each; the blocks' gradients are added in block order. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mg_err.h"
#include "mg_fit.h"
#include "mg_nn.h"
#include "mg_pool.h"

/* Rows per task. Fixed (not derived from the thread count) so that the sums
 * are the same bits for any -@. */
#define SB 32
/* Validation rows per pass (a multiple of SB), bounding the scratch memory. */
#define VCHUNK 2048

mg_mlp_params mg_mlp_default_params(void)
{
    mg_mlp_params p = { .hidden = 256, .batch = 128, .max_epochs = 200, .patience = 10, .lr = 1e-3,
                        .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-4, .val = 0.1,
                        .seed = 1, .standardize = 1, .pool = NULL, .progress = NULL };
    return p;
}

void mg_mlp_result_free(mg_mlp_result *r)
{
    free(r->mean); free(r->scale); free(r->w1); free(r->b1); free(r->w2); free(r->b2);
    free(r->validation); free(r->train_loss); free(r->val_loss);
    memset(r, 0, sizeof *r);
}

typedef struct {
    const float *x;
    const mg_fit_targets *t;
    int64_t n;
    int d, H, k;
    const double *mean, *scale;
    const double *w1, *b1, *w2, *b2;
    const int64_t *rows;    /* the rows of this pass */
    int64_t nrows;
    double inv;             /* 1/|batch| (gradient pass) */
    int grad;               /* 0: losses only */
    /* per task scratch and results */
    double *xs, *z1, *z, *da;           /* tasks × SB × (d, H, k, H) */
    double *g1, *gb1, *g2, *gb2;        /* tasks × (H×d, H, k×H, k) */
    double *loss;                       /* tasks */
} mlp_job;

/* Loss of one row with decision values z (k of them), and its gradient
 * dl/dz into g (when not NULL). */
static double row_loss(const mg_fit_targets *t, int64_t n, int64_t row, int k, const double *z, double *g)
{
    double l = 0;
    if (t->task == MG_FIT_MULTICLASS) {
        double mx = z[0], s = 0;
        for (int j = 1; j < k; j++) if (z[j] > mx) mx = z[j];
        for (int j = 0; j < k; j++) s += exp(z[j] - mx);
        int y = t->cls[row];
        l = mx + log(s) - z[y];
        if (g) for (int j = 0; j < k; j++) g[j] = exp(z[j] - mx) / s - (j == y);
        return l;
    }
    for (int j = 0; j < k; j++) {
        double y = t->task == MG_FIT_BINARY ? t->cls[row] : t->y[(size_t)j * n + row], zj = z[j];
        if (t->task == MG_FIT_REGRESSION) {
            double e = zj - y;
            l += 0.5 * e * e;
            if (g) g[j] = e;
        } else {
            /* log(1 + e^z) − y·z, without overflow */
            l += (zj > 0 ? zj + log1p(exp(-zj)) : log1p(exp(zj))) - y * zj;
            if (g) g[j] = (zj >= 0 ? 1 / (1 + exp(-zj)) : exp(zj) / (1 + exp(zj))) - y;
        }
    }
    return l;
}

static void mlp_task(void *arg, int task, int worker)
{
    (void)worker;
    mlp_job *j = arg;
    int d = j->d, H = j->H, k = j->k;
    int64_t r0 = (int64_t)task * SB;
    int nb = (int)(j->nrows - r0 < SB ? j->nrows - r0 : SB);
    double *xs = j->xs + (size_t)task * SB * d, *z1 = j->z1 + (size_t)task * SB * H;
    double *z = j->z + (size_t)task * SB * k, *da = j->da + (size_t)task * SB * H;
    for (int r = 0; r < nb; r++) {
        const float *xr = j->x + (size_t)j->rows[r0 + r] * (size_t)d;
        for (int c = 0; c < d; c++) xs[(size_t)r * d + c] = (xr[c] - j->mean[c]) / j->scale[c];
        for (int u = 0; u < H; u++) z1[(size_t)r * H + u] = j->b1[u];
        for (int o = 0; o < k; o++) z[(size_t)r * k + o] = j->b2[o];
    }
    /* z1 = xs · W1ᵀ + b1, a = relu(z1) (in place), z = a · W2ᵀ + b2 */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, H, d, 1.0, xs, d, j->w1, d, 1.0, z1, H);
    for (size_t e = 0; e < (size_t)nb * H; e++) if (!(z1[e] > 0)) z1[e] = 0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, H, 1.0, z1, H, j->w2, H, 1.0, z, k);
    double l = 0;
    for (int r = 0; r < nb; r++) {
        double *zr = z + (size_t)r * k;
        l += row_loss(j->t, j->n, j->rows[r0 + r], k, zr, j->grad ? zr : NULL);
        if (j->grad) for (int o = 0; o < k; o++) zr[o] *= j->inv;     /* dL/dz */
    }
    j->loss[task] = l;
    if (!j->grad) return;
    double *g1 = j->g1 + (size_t)task * H * d, *gb1 = j->gb1 + (size_t)task * H;
    double *g2 = j->g2 + (size_t)task * k * H, *gb2 = j->gb2 + (size_t)task * k;
    /* output layer: g2 = dzᵀ · a, gb2 = Σ dz; hidden: da = dz · W2 masked by a > 0 */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, H, nb, 1.0, z, k, z1, H, 0.0, g2, H);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, H, k, 1.0, z, k, j->w2, H, 0.0, da, H);
    for (int o = 0; o < k; o++) {
        double s = 0;
        for (int r = 0; r < nb; r++) s += z[(size_t)r * k + o];
        gb2[o] = s;
    }
    for (size_t e = 0; e < (size_t)nb * H; e++) if (!(z1[e] > 0)) da[e] = 0;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, nb, 1.0, da, H, xs, d, 0.0, g1, d);
    for (int u = 0; u < H; u++) {
        double s = 0;
        for (int r = 0; r < nb; r++) s += da[(size_t)r * H + u];
        gb1[u] = s;
    }
}

/* Sum of the losses of the rows (and, when grad, the task gradients added in
 * task order into g: W1, b1, W2, b2 laid out as the parameters). */
static double mlp_pass(mlp_job *j, mg_pool *pool, const int64_t *rows, int64_t nrows, int grad, double *g)
{
    j->rows = rows; j->nrows = nrows; j->grad = grad;
    j->inv = 1.0 / (double)nrows;
    int ntask = (int)((nrows + SB - 1) / SB);
    mg_pool_for(pool, ntask, mlp_task, j);
    double l = 0;
    for (int t = 0; t < ntask; t++) l += j->loss[t];
    if (grad) {
        size_t n1 = (size_t)j->H * j->d, n2 = (size_t)j->k * j->H;
        double *g1 = g, *gb1 = g1 + n1, *g2 = gb1 + j->H, *gb2 = g2 + n2;
        memcpy(g1, j->g1, n1 * sizeof *g); memcpy(gb1, j->gb1, (size_t)j->H * sizeof *g);
        memcpy(g2, j->g2, n2 * sizeof *g); memcpy(gb2, j->gb2, (size_t)j->k * sizeof *g);
        for (int t = 1; t < ntask; t++) {
            for (size_t e = 0; e < n1; e++) g1[e] += j->g1[t * n1 + e];
            for (int e = 0; e < j->H; e++) gb1[e] += j->gb1[(size_t)t * j->H + e];
            for (size_t e = 0; e < n2; e++) g2[e] += j->g2[t * n2 + e];
            for (int e = 0; e < j->k; e++) gb2[e] += j->gb2[(size_t)t * j->k + e];
        }
    }
    return l;
}

int mg_mlp_train(const float *x, int64_t n, int d, const mg_fit_targets *t, const mg_mlp_params *p,
                 mg_mlp_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    int blas_prev = mg_nn_blas_enter(1);      /* one BLAS thread per pool task (see mg_fit.c) */
    int rc = -1, H = p->hidden, k = t->task == MG_FIT_BINARY ? 1 : t->nout;
    size_t n1 = (size_t)H * d, n2 = (size_t)k * H, np = n1 + H + n2 + k;
    int ntask = (p->batch + SB - 1) / SB, nvt = 0;
    int64_t *tr = NULL, *va = NULL, *perm = NULL, *idx = NULL, ntr = 0;
    double *theta = NULL, *best = NULL, *g = NULL, *m = NULL, *v = NULL;
    int *decay = NULL;
    mlp_job j = { 0 };
    res->task = t->task; res->k = k; res->d = d; res->hidden = H; res->n = n;
    res->mean = malloc((size_t)d * sizeof *res->mean);
    res->scale = malloc((size_t)d * sizeof *res->scale);
    res->validation = calloc((size_t)(n ? n : 1), sizeof *res->validation);
    res->train_loss = malloc((size_t)p->max_epochs * sizeof *res->train_loss);
    res->val_loss = malloc((size_t)p->max_epochs * sizeof *res->val_loss);
    tr = malloc((size_t)(n ? n : 1) * sizeof *tr);
    va = malloc((size_t)(n ? n : 1) * sizeof *va);
    perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
    idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
    theta = malloc(np * sizeof *theta); best = malloc(np * sizeof *best); g = malloc(np * sizeof *g);
    m = calloc(np, sizeof *m); v = calloc(np, sizeof *v); decay = calloc(np, sizeof *decay);
    if (!res->mean || !res->scale || !res->validation || !res->train_loss || !res->val_loss || !tr || !va ||
        !perm || !idx || !theta || !best || !g || !m || !v || !decay)
        goto nomem;
    if (p->standardize) {
        if (mg_fit_standardize(x, n, d, p->pool, res->mean, res->scale) < 0) goto nomem;
    } else {
        for (int c = 0; c < d; c++) { res->mean[c] = 0; res->scale[c] = 1; }
    }
    /* the validation split: per stratum, shuffled, the first round(val · m_s) */
    {
        int strat = t->task == MG_FIT_BINARY || t->task == MG_FIT_MULTICLASS;
        int ns = strat ? (t->task == MG_FIT_BINARY ? 2 : t->nout) : 1;
        mg_fit_rng r;
        mg_fit_rng_seed(&r, p->seed);
        for (int s = 0; s < ns; s++) {
            int64_t ms = 0;
            for (int64_t i = 0; i < n; i++) if (!strat || t->cls[i] == s) idx[ms++] = i;
            mg_fit_rng_shuffle(&r, idx, ms);
            int64_t nv = (int64_t)floor(p->val * (double)ms + 0.5);
            for (int64_t i = 0; i < nv; i++) res->validation[idx[i]] = 1;
        }
        for (int64_t i = 0; i < n; i++) {
            if (res->validation[i]) va[res->n_val++] = i;
            else tr[ntr++] = i;
        }
    }
    if (ntr < 1) { mg_seterr(err, errlen, "no training rows left after the validation split"); goto done; }
    if (p->val > 0 && res->n_val < 1) {
        mg_seterr(err, errlen, "no validation rows (%lld rows, validation fraction %g)", (long long)n, p->val);
        goto done;
    }
    /* initial weights, torch.nn.Linear's range */
    {
        mg_fit_rng r;
        mg_fit_rng_seed(&r, p->seed + 1);
        double bd = 1 / sqrt((double)d), bh = 1 / sqrt((double)H);
        for (size_t e = 0; e < np; e++) {
            double b = e < n1 + (size_t)H ? bd : bh;
            theta[e] = b * (2 * mg_fit_rng_unit(&r) - 1);
        }
        for (size_t e = 0; e < n1; e++) decay[e] = 1;
        for (size_t e = n1 + H; e < n1 + H + n2; e++) decay[e] = 1;
    }
    nvt = ntask > VCHUNK / SB ? ntask : VCHUNK / SB;
    j.x = x; j.t = t; j.n = n; j.d = d; j.H = H; j.k = k; j.mean = res->mean; j.scale = res->scale;
    j.w1 = theta; j.b1 = theta + n1; j.w2 = theta + n1 + H; j.b2 = theta + n1 + H + n2;
    j.xs = malloc((size_t)nvt * SB * d * sizeof *j.xs);
    j.z1 = malloc((size_t)nvt * SB * H * sizeof *j.z1);
    j.z = malloc((size_t)nvt * SB * k * sizeof *j.z);
    j.da = malloc((size_t)ntask * SB * H * sizeof *j.da);
    j.g1 = malloc((size_t)ntask * n1 * sizeof *j.g1);
    j.gb1 = malloc((size_t)ntask * H * sizeof *j.gb1);
    j.g2 = malloc((size_t)ntask * n2 * sizeof *j.g2);
    j.gb2 = malloc((size_t)ntask * k * sizeof *j.gb2);
    j.loss = malloc((size_t)nvt * sizeof *j.loss);
    if (!j.xs || !j.z1 || !j.z || !j.da || !j.g1 || !j.gb1 || !j.g2 || !j.gb2 || !j.loss) goto nomem;
    mg_fit_rng order;
    mg_fit_rng_seed(&order, p->seed + 2);
    double best_loss = INFINITY;
    int64_t t_step = 0;
    int since = 0;
    memcpy(best, theta, np * sizeof *best);
    for (int ep = 0; ep < p->max_epochs; ep++) {
        memcpy(perm, tr, (size_t)ntr * sizeof *perm);
        mg_fit_rng_shuffle(&order, perm, ntr);
        double tl = 0;
        int steps = 0;
        for (int64_t b0 = 0; b0 < ntr; b0 += p->batch, steps++) {
            int64_t nb = ntr - b0 < p->batch ? ntr - b0 : p->batch;
            tl += mlp_pass(&j, p->pool, perm + b0, nb, 1, g) / (double)nb;
            /* torch.optim.Adam (foreach=False): grad += wd·θ; m, v; bias corrections */
            t_step++;
            double step = p->lr / (1 - pow(p->beta1, (double)t_step)), bc2 = sqrt(1 - pow(p->beta2, (double)t_step));
            for (size_t e = 0; e < np; e++) {
                double ge = g[e] + (decay[e] ? p->weight_decay * theta[e] : 0);
                m[e] = m[e] * p->beta1 + (1 - p->beta1) * ge;
                v[e] = v[e] * p->beta2 + (1 - p->beta2) * ge * ge;
                theta[e] -= step * (m[e] / (sqrt(v[e]) / bc2 + p->eps));
            }
        }
        res->train_loss[ep] = tl / steps;
        mg_progress_step(p->progress, (uint64_t)ep + 1);
        res->epochs = ep + 1;
        if (res->n_val) {
            double vl = 0;
            for (int64_t c0 = 0; c0 < res->n_val; c0 += VCHUNK)
                vl += mlp_pass(&j, p->pool, va + c0, res->n_val - c0 < VCHUNK ? res->n_val - c0 : VCHUNK, 0, NULL);
            vl /= (double)res->n_val;
            res->val_loss[ep] = vl;
            if (vl < best_loss) {
                best_loss = vl; since = 0; res->best_epoch = ep + 1;
                memcpy(best, theta, np * sizeof *best);
            } else if (++since >= p->patience) break;
        } else {
            res->val_loss[ep] = NAN;
            res->best_epoch = ep + 1;
            memcpy(best, theta, np * sizeof *best);
        }
    }
    if (!(res->w1 = malloc(n1 * sizeof *res->w1)) || !(res->b1 = malloc((size_t)H * sizeof *res->b1)) ||
        !(res->w2 = malloc(n2 * sizeof *res->w2)) || !(res->b2 = malloc((size_t)k * sizeof *res->b2)))
        goto nomem;
    memcpy(res->w1, best, n1 * sizeof *best);
    memcpy(res->b1, best + n1, (size_t)H * sizeof *best);
    memcpy(res->w2, best + n1 + H, n2 * sizeof *best);
    memcpy(res->b2, best + n1 + H + n2, (size_t)k * sizeof *best);
    for (size_t e = 0; e < np; e++)
        if (!isfinite(best[e])) { mg_seterr(err, errlen, "training diverged (non-finite weights; a lower learning rate may help)"); goto done; }
    rc = 0;
    goto done;
nomem:
    mg_seterr(err, errlen, "out of memory");
done:
    mg_nn_blas_leave(blas_prev, 1);
    free(tr); free(va); free(perm); free(idx); free(theta); free(best); free(g); free(m); free(v); free(decay);
    free(j.xs); free(j.z1); free(j.z); free(j.da); free(j.g1); free(j.gb1); free(j.g2); free(j.gb2); free(j.loss);
    if (rc < 0) mg_mlp_result_free(res);
    return rc;
}

/* mg_metrics_risk.c: odds ratio per SD (IRLS logistic regression, Wald
 * interval), top-decile odds ratio, Nagelkerke R^2, Harrell's C. */
#include "mg_metrics_risk.h"
#include "mg_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W(i) (w ? w[i] : 1.0)

/* Solve H x = g for a symmetric positive definite p x p H (Cholesky, in a
 * copy); also the diagonal of H^-1 when hinv_diag is not NULL. 0, or -1 when
 * H is not positive definite. */
static int chol_solve(const double *H, int p, const double *g, double *x, double *hinv_diag)
{
    double L[64 * 64];
    if (p > 64) return -1;
    for (int i = 0; i < p; i++)
        for (int j = 0; j <= i; j++) {
            double v = H[i * p + j];
            for (int k = 0; k < j; k++) v -= L[i * p + k] * L[j * p + k];
            if (i == j) {
                if (!(v > 0)) return -1;
                L[i * p + i] = sqrt(v);
            } else L[i * p + j] = v / L[j * p + j];
        }
    /* L L' x = g */
    double t[64];
    for (int i = 0; i < p; i++) {
        double v = g[i];
        for (int k = 0; k < i; k++) v -= L[i * p + k] * t[k];
        t[i] = v / L[i * p + i];
    }
    for (int i = p - 1; i >= 0; i--) {
        double v = t[i];
        for (int k = i + 1; k < p; k++) v -= L[k * p + i] * x[k];
        x[i] = v / L[i * p + i];
    }
    if (hinv_diag)
        for (int c = 0; c < p; c++) {
            /* column c of H^-1: solve with the unit vector e_c */
            double e[64], u[64];
            for (int i = 0; i < p; i++) {
                double v = i == c ? 1.0 : 0.0;
                for (int k = 0; k < i; k++) v -= L[i * p + k] * e[k];
                e[i] = v / L[i * p + i];
            }
            for (int i = p - 1; i >= 0; i--) {
                double v = e[i];
                for (int k = i + 1; k < p; k++) v -= L[k * p + i] * u[k];
                u[i] = v / L[i * p + i];
            }
            hinv_diag[c] = u[c];
        }
    return 0;
}

int mg_logistic(const double *X, int p, const uint8_t *y, const double *w, size_t n,
                double *beta, double *se, double *loglik)
{
    double sw = 0, sy = 0;
    for (size_t i = 0; i < n; i++) { sw += W(i); sy += W(i) * y[i]; }
    if (p < 1 || p > 64 || sw <= 0 || sy <= 0 || sy >= sw) return -1;
    /* start at the null model: intercept logit(mean y), slopes 0 */
    for (int j = 0; j < p; j++) beta[j] = 0;
    beta[0] = log(sy / (sw - sy));
    double H[64 * 64], g[64], d[64], hd[64];
    for (int it = 1; it <= 100; it++) {
        memset(H, 0, sizeof(double) * (size_t)(p * p));
        memset(g, 0, sizeof(double) * (size_t)p);
        double ll = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = W(i);
            if (wi == 0) continue;
            double eta = 0;
            for (int j = 0; j < p; j++) eta += X[(size_t)j * n + i] * beta[j];
            double pr = 1 / (1 + exp(-eta));
            double r = wi * ((double)y[i] - pr), v = wi * pr * (1 - pr);
            /* log p = -log1p(exp(-eta)), log(1-p) = -log1p(exp(eta)) */
            ll -= wi * (y[i] ? log1p(exp(-eta)) : log1p(exp(eta)));
            for (int a = 0; a < p; a++) {
                double xa = X[(size_t)a * n + i];
                g[a] += r * xa;
                for (int b = 0; b <= a; b++) H[a * p + b] += v * xa * X[(size_t)b * n + i];
            }
        }
        for (int a = 0; a < p; a++) for (int b = a + 1; b < p; b++) H[a * p + b] = H[b * p + a];
        if (chol_solve(H, p, g, d, hd) < 0) return -1;
        double step = 0, size = 1;
        for (int j = 0; j < p; j++) { step += fabs(d[j]); size += fabs(beta[j]); }
        if (step < 1e-12 * size) {
            /* converged: the information and log-likelihood at beta */
            for (int j = 0; j < p; j++) se[j] = sqrt(hd[j]);
            *loglik = ll;
            return it;
        }
        for (int j = 0; j < p; j++) {
            beta[j] += d[j];
            if (!isfinite(beta[j]) || fabs(beta[j]) > 1e3) return -1;
        }
    }
    return -1;
}

/* ---- Harrell's C with a Fenwick tree over risk ranks ---- */

typedef struct { double t, s, w; uint8_t e; } subj;

static int cmp_time_desc(const void *a, const void *b)
{
    const subj *x = a, *y = b;
    return (x->t < y->t) - (x->t > y->t);
}

static void bit_add(double *bit, size_t m, size_t i, double v) { for (i++; i <= m; i += i & -i) bit[i] += v; }
static double bit_sum(const double *bit, size_t i) { double s = 0; for (; i > 0; i -= i & -i) s += bit[i]; return s; } /* ranks < i */

double mg_harrell_c(const double *time, const double *score, const uint8_t *event,
                    const double *w, size_t n)
{
    subj *v = malloc(n * sizeof *v);
    double *sv = malloc(n * sizeof *sv), *bit = calloc(n + 1, sizeof *bit);
    uint32_t *ord = malloc(n * sizeof *ord);
    size_t *rank = malloc(n * sizeof *rank);
    double res = NAN;
    if (!v || !sv || !bit || !ord || !rank) goto done;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (W(i) > 0) { v[m].t = time[i]; v[m].s = score[i]; v[m].w = W(i); v[m].e = event[i]; m++; }
    qsort(v, m, sizeof *v, cmp_time_desc);
    /* dense ranks of the score */
    for (size_t i = 0; i < m; i++) sv[i] = v[i].s;
    if (mg_sort_order(sv, m, ord) < 0) goto done;
    size_t r = 0;
    for (size_t i = 0; i < m; i++) {
        if (i > 0 && sv[ord[i]] != sv[ord[i - 1]]) r++;
        rank[ord[i]] = r;
    }
    size_t nr = r + 1;
    double conc = 0, tied = 0, adm = 0, inserted = 0;
    size_t i = 0;
    while (i < m) {
        size_t j = i;
        while (j < m && v[j].t == v[i].t) j++;
        /* censored at this time count as surviving longer than events at it */
        for (size_t q = i; q < j; q++)
            if (!v[q].e) { bit_add(bit, nr, rank[q], v[q].w); inserted += v[q].w; }
        for (size_t q = i; q < j; q++) {
            if (!v[q].e) continue;
            /* score is survival-like: the shorter time should have the lower score */
            double below = bit_sum(bit, rank[q]);
            double upto = bit_sum(bit, rank[q] + 1);
            double above = inserted - upto;
            conc += v[q].w * above;
            tied += v[q].w * (upto - below);
            adm += v[q].w * inserted;
        }
        for (size_t q = i; q < j; q++)
            if (v[q].e) { bit_add(bit, nr, rank[q], v[q].w); inserted += v[q].w; }
        i = j;
    }
    res = adm > 0 ? (conc + 0.5 * tied) / adm : NAN;
done:
    free(v); free(sv); free(bit); free(ord); free(rank);
    return res;
}

/* ---- weighted type-7 percentile over an ascending order ---- */
static double weighted_percentile(const double *s, const double *w, const uint32_t *asc,
                                  size_t n, double q)
{
    double N = 0;
    for (size_t i = 0; i < n; i++) N += W(i);
    if (N <= 0) return NAN;
    double h = (N - 1) * q, lo = floor(h), g = h - lo;
    double hi_pos = lo + 1 < N ? lo + 1 : N - 1;
    /* values at 0-based positions lo and hi_pos of the replicated sorted data */
    double a = NAN, b = NAN, cum = 0;
    for (size_t k = 0; k < n; k++) {
        double wk = W(asc[k]);
        if (wk == 0) continue;
        cum += wk;
        if (isnan(a) && cum > lo) a = s[asc[k]];
        if (cum > hi_pos) { b = s[asc[k]]; break; }
    }
    double d = b - a;
    return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

int mg_risk_init(mg_risk *r, const double *s, const uint8_t *y, const double *time,
                 const uint8_t *event, const double *cov, int ncov, size_t n,
                 const mg_risk_opts *opt)
{
    memset(r, 0, sizeof *r);
    r->n = n; r->s = s; r->y = y; r->opt = *opt;
    if (ncov > 60) { snprintf(r->error, sizeof r->error, "at most 60 covariates"); return -1; }
    r->ncov = ncov;
    r->X = malloc((size_t)(ncov + 2) * n * sizeof *r->X);
    if (!r->X) goto fail;
    for (size_t i = 0; i < n; i++) { r->X[i] = 1.0; r->X[n + i] = 0.0; }
    if (ncov) memcpy(r->X + 2 * n, cov, (size_t)ncov * n * sizeof *cov);
    if (!(r->opt.z > 0)) r->opt.z = mg_norm_ppf(0.975);
    if (time) {
        r->time = malloc(n * sizeof *r->time);
        r->event = malloc(n);
        if (!r->time || !r->event) goto fail;
        memcpy(r->time, time, n * sizeof *time);
        memcpy(r->event, event, n);
    }
    r->names[r->nmetrics++] = "or_per_sd";
    r->names[r->nmetrics++] = "top_decile_or";
    r->names[r->nmetrics++] = "nagelkerke_r2";
    if (ncov) r->names[r->nmetrics++] = "nagelkerke_r2_increment";
    if (time) r->names[r->nmetrics++] = "harrell_c";
    double out[8];
    if (mg_risk_compute(r, NULL, out) < 0) goto fail;
    if (isnan(out[0])) {
        snprintf(r->error, sizeof r->error, "logistic regression did not converge (separation or a constant score)");
        goto fail;
    }
    return 0;
fail:
    mg_risk_free(r);
    return -1;
}

void mg_risk_free(mg_risk *r)
{
    free(r->time); free(r->event); free(r->X);
    r->time = NULL; r->event = NULL; r->X = NULL;
}

int mg_risk_compute(const mg_risk *rc, const double *w, double *out)
{
    mg_risk *r = (mg_risk *)rc; /* the full-data call records the fit */
    size_t n = r->n;
    const double *s = r->s;
    const uint8_t *y = r->y;
    int o = 0;
    int q = r->ncov, p = q + 2;
    double *X = malloc((size_t)p * n * sizeof *X), *z;
    uint32_t *asc = malloc(n * sizeof *asc);
    if (!X || !asc) { free(X); free(asc); return -1; }
    memcpy(X, r->X, (size_t)p * n * sizeof *X);  /* [1, z, covariates]; z below */
    z = X + n;
    /* standardise: mean and SD over all subjects or the controls */
    double sw = 0, m = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->opt.sd_controls && y[i]) continue;
        sw += W(i); m += W(i) * s[i];
    }
    m /= sw;
    for (size_t i = 0; i < n; i++) {
        if (r->opt.sd_controls && y[i]) continue;
        ss += W(i) * (s[i] - m) * (s[i] - m);
    }
    double sd = sqrt(ss / (sw - r->opt.ddof));
    for (size_t i = 0; i < n; i++) z[i] = (s[i] - m) / sd;
    double b[64], sev[64], ll1 = NAN;
    int it = sd > 0 ? mg_logistic(X, p, y, w, n, b, sev, &ll1) : -1;
    double se = it > 0 ? sev[1] : NAN;
    out[o++] = it > 0 ? exp(b[1]) : NAN;
    if (!w) {
        r->mean = m; r->sd = sd; r->iterations = it;
        r->beta = it > 0 ? b[1] : NAN; r->beta_se = se; r->intercept = it > 0 ? b[0] : NAN;
        r->or_lo = exp(r->beta - r->opt.z * se);
        r->or_hi = exp(r->beta + r->opt.z * se);
    }
    /* top decile (score >= 90th percentile, numpy linear) against the rest */
    if (mg_sort_order(s, n, asc) < 0) { free(X); free(asc); return -1; }
    double q90 = weighted_percentile(s, w, asc, n, 0.9);
    double a = 0, bb = 0, c = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        int top = s[i] >= q90;
        if (top) { if (y[i]) a += W(i); else bb += W(i); }
        else { if (y[i]) c += W(i); else d += W(i); }
    }
    out[o++] = (bb * c) > 0 ? (a * d) / (bb * c) : (a * d) > 0 ? INFINITY : NAN;
    /* Nagelkerke: Cox-Snell R^2 over its maximum */
    double N = 0, n1 = 0;
    for (size_t i = 0; i < n; i++) { N += W(i); n1 += W(i) * y[i]; }
    double ll0 = n1 * log(n1 / N) + (N - n1) * log1p(-n1 / N);
    double cs = 1 - exp(2 * (ll0 - ll1) / N), mx = 1 - exp(2 * ll0 / N);
    out[o++] = it > 0 ? cs / mx : NAN;
    if (q) {
        /* increment over the covariates-only model (as PRSice's PRS.R2) */
        double bc[64], sc[64], llc;
        memmove(X + n, X + 2 * n, (size_t)q * n * sizeof *X);
        int itc = mg_logistic(X, q + 1, y, w, n, bc, sc, &llc);
        double csc = 1 - exp(2 * (ll0 - llc) / N);
        out[o++] = it > 0 && itc > 0 ? cs / mx - csc / mx : NAN;
    }
    if (r->time) {
        for (size_t i = 0; i < n; i++) X[i] = -s[i]; /* risk -> survival-like */
        out[o++] = mg_harrell_c(r->time, X, r->event, w, n);
    }
    free(X); free(asc);
    return 0;
}

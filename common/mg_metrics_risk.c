/* mg_metrics_risk.c: odds ratio per SD (IRLS logistic regression, Wald
 * interval), top-decile odds ratio, Nagelkerke R^2, Harrell's C. */
#include "mg_metrics_risk.h"
#include "mg_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W(i) (w ? w[i] : 1.0)

int mg_logistic_1d(const double *x, const uint8_t *y, const double *w, size_t n,
                   double b[2], double *se_slope, double *loglik)
{
    double sw = 0, sy = 0;
    for (size_t i = 0; i < n; i++) { sw += W(i); sy += W(i) * y[i]; }
    if (sw <= 0 || sy <= 0 || sy >= sw) return -1;
    double b0 = log(sy / (sw - sy)), b1 = 0;
    double h00 = 0, h01 = 0, h11 = 0;
    for (int it = 1; it <= 100; it++) {
        double g0 = 0, g1 = 0;
        h00 = h01 = h11 = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = W(i);
            if (wi == 0) continue;
            double eta = b0 + b1 * x[i];
            double p = 1 / (1 + exp(-eta));
            double r = wi * ((double)y[i] - p), v = wi * p * (1 - p);
            g0 += r; g1 += r * x[i];
            h00 += v; h01 += v * x[i]; h11 += v * x[i] * x[i];
        }
        double det = h00 * h11 - h01 * h01;
        if (!(det > 0)) return -1;
        double d0 = (h11 * g0 - h01 * g1) / det, d1 = (h00 * g1 - h01 * g0) / det;
        b0 += d0; b1 += d1;
        if (!isfinite(b1) || fabs(b1) > 1e3) return -1;
        if (fabs(d0) + fabs(d1) < 1e-12 * (1 + fabs(b0) + fabs(b1))) {
            /* information at the converged estimate */
            double ll = 0;
            h00 = h01 = h11 = 0;
            for (size_t i = 0; i < n; i++) {
                double wi = W(i);
                if (wi == 0) continue;
                double eta = b0 + b1 * x[i];
                double p = 1 / (1 + exp(-eta));
                double v = wi * p * (1 - p);
                h00 += v; h01 += v * x[i]; h11 += v * x[i] * x[i];
                /* log p = -log1p(exp(-eta)), log(1-p) = -log1p(exp(eta)) */
                ll -= wi * (y[i] ? log1p(exp(-eta)) : log1p(exp(eta)));
            }
            det = h00 * h11 - h01 * h01;
            b[0] = b0; b[1] = b1;
            *se_slope = sqrt(h00 / det);
            *loglik = ll;
            return it;
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
                 const uint8_t *event, size_t n, const mg_risk_opts *opt)
{
    memset(r, 0, sizeof *r);
    r->n = n; r->s = s; r->y = y; r->opt = *opt;
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
    if (time) r->names[r->nmetrics++] = "harrell_c";
    double out[8];
    if (mg_risk_compute(r, NULL, out) < 0) goto fail;
    if (isnan(out[0])) {
        snprintf(r->error, sizeof r->error, "logistic regression did not converge (separation or a constant score)");
        goto fail;
    }
    return 0;
fail:
    free(r->time); free(r->event);
    r->time = NULL; r->event = NULL;
    return -1;
}

void mg_risk_free(mg_risk *r)
{
    free(r->time); free(r->event);
    r->time = NULL; r->event = NULL;
}

int mg_risk_compute(const mg_risk *rc, const double *w, double *out)
{
    mg_risk *r = (mg_risk *)rc; /* the full-data call records the fit */
    size_t n = r->n;
    const double *s = r->s;
    const uint8_t *y = r->y;
    int o = 0;
    double *z = malloc(n * sizeof *z);
    uint32_t *asc = malloc(n * sizeof *asc);
    if (!z || !asc) { free(z); free(asc); return -1; }
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
    double b[2] = { NAN, NAN }, se = NAN, ll1 = NAN;
    int it = sd > 0 ? mg_logistic_1d(z, y, w, n, b, &se, &ll1) : -1;
    out[o++] = it > 0 ? exp(b[1]) : NAN;
    if (!w) {
        r->mean = m; r->sd = sd; r->beta = b[1]; r->beta_se = se; r->intercept = b[0];
        r->iterations = it;
        r->or_lo = exp(b[1] - r->opt.z * se);
        r->or_hi = exp(b[1] + r->opt.z * se);
    }
    /* top decile (score >= 90th percentile, numpy linear) against the rest */
    if (mg_sort_order(s, n, asc) < 0) { free(z); free(asc); return -1; }
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
    if (r->time) {
        for (size_t i = 0; i < n; i++) z[i] = -s[i]; /* risk -> survival-like */
        out[o++] = mg_harrell_c(r->time, z, r->event, w, n);
    }
    free(z); free(asc);
    return 0;
}

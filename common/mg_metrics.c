/* mg_metrics.c: binary and confusion-based classification metrics, DeLong,
 * PRNG, sorting, percentiles. Definitions follow scikit-learn's
 * sklearn/metrics/_ranking.py and _classification.py; see mg_metrics.h. */
#include "mg_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------- random numbers ---------------- */

uint64_t mg_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void mg_rng_seed(mg_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++) r->s[i] = mg_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t mg_rng_next(mg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t mg_rng_below(mg_rng *r, uint64_t n)
{
    __uint128_t m = (__uint128_t)mg_rng_next(r) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            m = (__uint128_t)mg_rng_next(r) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* ---------------- sorting ---------------- */

static inline uint64_t dkey(double x)
{
    uint64_t u;
    if (x == 0) x = 0; /* -0 and +0 sort together */
    memcpy(&u, &x, 8);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ULL);
}

int mg_sort_u64(uint64_t *key, uint32_t *order, size_t n)
{
    enum { BITS = 11, NB = 1 << BITS, PASSES = 6 };
    if (n == 0) return 0;
    uint64_t *key2 = malloc(n * sizeof *key2);
    uint32_t *ord2 = malloc(n * sizeof *ord2);
    size_t (*hist)[NB] = calloc(PASSES, sizeof *hist);
    if (!key2 || !ord2 || !hist) { free(key2); free(ord2); free(hist); return -1; }
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < PASSES; p++) hist[p][(key[i] >> (p * BITS)) & (NB - 1)]++;
    uint64_t *src = key, *dst = key2;
    uint32_t *osrc = order, *odst = ord2;
    for (int p = 0; p < PASSES; p++) {
        /* a digit shared by every key leaves the order unchanged: skip it */
        if (hist[p][(src[0] >> (p * BITS)) & (NB - 1)] == n) continue;
        size_t sum = 0;
        for (int b = 0; b < NB; b++) { size_t c = hist[p][b]; hist[p][b] = sum; sum += c; }
        for (size_t i = 0; i < n; i++) {
            size_t d = hist[p][(src[i] >> (p * BITS)) & (NB - 1)]++;
            dst[d] = src[i]; odst[d] = osrc[i];
        }
        uint64_t *tk = src; src = dst; dst = tk;
        uint32_t *to = osrc; osrc = odst; odst = to;
    }
    if (src != key) { memcpy(key, src, n * sizeof *key); memcpy(order, osrc, n * sizeof *order); }
    free(key2); free(ord2); free(hist);
    return 0;
}

int mg_sort_order(const double *x, size_t n, uint32_t *order)
{
    if (n == 0) return 0;
    uint64_t *key = malloc(n * sizeof *key);
    if (!key) return -1;
    for (size_t i = 0; i < n; i++) { key[i] = dkey(x[i]); order[i] = (uint32_t)i; }
    int rc = mg_sort_u64(key, order, n);
    free(key);
    return rc;
}

/* ---------------- normal distribution ---------------- */

double mg_norm_ppf(double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
        -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
        2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
        -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
        -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
        2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
        2.445134137142996e+00, 3.754408661907416e+00 };
    if (!(p > 0 && p < 1)) return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    double x, q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0]*q + c[1])*q + c[2])*q + c[3])*q + c[4])*q + c[5]) /
            ((((d[0]*q + d[1])*q + d[2])*q + d[3])*q + 1);
    } else if (p <= 1 - 0.02425) {
        q = p - 0.5; r = q * q;
        x = (((((a[0]*r + a[1])*r + a[2])*r + a[3])*r + a[4])*r + a[5]) * q /
            (((((b[0]*r + b[1])*r + b[2])*r + b[3])*r + b[4])*r + 1);
    } else {
        q = sqrt(-2 * log1p(-p));
        x = -(((((c[0]*q + c[1])*q + c[2])*q + c[3])*q + c[4])*q + c[5]) /
             ((((d[0]*q + d[1])*q + d[2])*q + d[3])*q + 1);
    }
    /* Halley refinement on Phi(x) = erfc(-x/sqrt2)/2 (two steps are cheap) */
    for (int it = 0; it < 2; it++) {
        double e = 0.5 * erfc(-x / M_SQRT2) - p;
        double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
        x = x - u / (1 + x * u / 2);
    }
    return x;
}

double mg_norm_p2(double z) { return erfc(fabs(z) / M_SQRT2); }

/* ---------------- binary ranking metrics ---------------- */

#define W(i) (w ? w[i] : 1.0)

double mg_auc(const double *s, const uint8_t *y, const double *w,
              const uint32_t *asc, size_t n)
{
    /* Ascending sweep over tie groups: a positive beats every negative below
     * its group and half of the negatives in it. Integer weights keep every
     * sum exact below 2^53. */
    double P = 0, N = 0, num = 0;
    size_t i = 0;
    while (i < n) {
        double v = s[asc[i]], gp = 0, gn = 0;
        size_t j = i;
        for (; j < n && s[asc[j]] == v; j++) {
            uint32_t k = asc[j];
            if (y[k]) gp += W(k); else gn += W(k);
        }
        num += gp * N + 0.5 * gp * gn;
        P += gp; N += gn;
        i = j;
    }
    if (P <= 0 || N <= 0) return NAN;
    return num / (P * N);
}

double mg_average_precision(const double *s, const uint8_t *y, const double *w,
                            const uint32_t *asc, size_t n)
{
    double P = 0;
    for (size_t i = 0; i < n; i++) if (y[i]) P += W(i);
    if (P <= 0) return 0.0;
    double tp = 0, fp = 0, ap = 0;
    size_t i = n;
    while (i > 0) {
        double v = s[asc[i - 1]], gp = 0, gn = 0;
        size_t j = i;
        for (; j > 0 && s[asc[j - 1]] == v; j--) {
            uint32_t k = asc[j - 1];
            if (y[k]) gp += W(k); else gn += W(k);
        }
        tp += gp; fp += gn;
        if (gp > 0) ap += (gp / P) * (tp / (tp + fp));
        i = j;
    }
    return ap;
}

#define SW(i) (sw ? sw[i] : 1.0)

double mg_auc_sorted(const double *ss, const uint8_t *sy, const double *sw, size_t n)
{
    double P = 0, N = 0, num = 0;
    size_t i = 0;
    while (i < n) {
        double v = ss[i], gp = 0, gn = 0;
        size_t j = i;
        for (; j < n && ss[j] == v; j++) { if (sy[j]) gp += SW(j); else gn += SW(j); }
        num += gp * N + 0.5 * gp * gn;
        P += gp; N += gn;
        i = j;
    }
    if (P <= 0 || N <= 0) return NAN;
    return num / (P * N);
}

double mg_ap_sorted(const double *ss, const uint8_t *sy, const double *sw, size_t n)
{
    double P = 0;
    for (size_t i = 0; i < n; i++) if (sy[i]) P += SW(i);
    if (P <= 0) return 0.0;
    double tp = 0, fp = 0, ap = 0;
    size_t i = n;
    while (i > 0) {
        double v = ss[i - 1], gp = 0, gn = 0;
        size_t j = i;
        for (; j > 0 && ss[j - 1] == v; j--) { if (sy[j - 1]) gp += SW(j - 1); else gn += SW(j - 1); }
        tp += gp; fp += gn;
        if (gp > 0) ap += (gp / P) * (tp / (tp + fp));
        i = j;
    }
    return ap;
}

void mg_youden_sorted(const double *ss, const uint8_t *sy, size_t n, mg_youden *out)
{
    double P = 0, N = 0;
    for (size_t i = 0; i < n; i++) { if (sy[i]) P++; else N++; }
    double tp = 0, fp = 0, bj = 0, bt = INFINITY, btpr = 0, bfpr = 0;
    size_t i = n;
    while (i > 0) {
        double v = ss[i - 1];
        size_t j = i;
        for (; j > 0 && ss[j - 1] == v; j--) { if (sy[j - 1]) tp++; else fp++; }
        double tpr = P > 0 ? tp / P : NAN, fpr = N > 0 ? fp / N : NAN;
        if (tpr - fpr > bj) { bj = tpr - fpr; bt = v; btpr = tpr; bfpr = fpr; }
        i = j;
    }
    out->threshold = bt; out->j = bj;
    out->sensitivity = btpr; out->specificity = 1 - bfpr;
}

size_t mg_roc_points(const double *s, const uint8_t *y, const double *w,
                     const uint32_t *asc, size_t n,
                     double *fpr, double *tpr, double *thr)
{
    double P = 0, N = 0;
    for (size_t i = 0; i < n; i++) { if (y[i]) P += W(i); else N += W(i); }
    size_t m = 0;
    fpr[m] = 0; tpr[m] = 0; thr[m] = INFINITY; m++;
    double tp = 0, fp = 0;
    size_t i = n;
    while (i > 0) {
        double v = s[asc[i - 1]], gw = 0;
        size_t j = i;
        for (; j > 0 && s[asc[j - 1]] == v; j--) {
            uint32_t k = asc[j - 1];
            if (y[k]) tp += W(k); else fp += W(k);
            gw += W(k);
        }
        if (gw > 0) {
            fpr[m] = N > 0 ? fp / N : NAN;
            tpr[m] = P > 0 ? tp / P : NAN;
            thr[m] = v;
            m++;
        }
        i = j;
    }
    return m;
}

size_t mg_pr_points(const double *s, const uint8_t *y, const uint32_t *asc,
                    size_t n, double *precision, double *recall, double *thr)
{
    double P = 0, tp = 0, fp = 0;
    for (size_t i = 0; i < n; i++) P += y[i];
    size_t m = 0, i = n;
    while (i > 0) {
        double v = s[asc[i - 1]];
        size_t j = i;
        for (; j > 0 && s[asc[j - 1]] == v; j--) {
            if (y[asc[j - 1]]) tp++; else fp++;
        }
        precision[m] = tp / (tp + fp);
        recall[m] = P > 0 ? tp / P : 1.0;
        thr[m] = v;
        m++;
        i = j;
    }
    return m;
}

int mg_youden_point(const double *s, const uint8_t *y, const uint32_t *asc,
                    size_t n, mg_youden *out)
{
    /* one descending sweep over the distinct thresholds, as the ROC points */
    double P = 0, N = 0;
    for (size_t i = 0; i < n; i++) { if (y[i]) P++; else N++; }
    double tp = 0, fp = 0, bj = 0, bt = INFINITY, btpr = 0, bfpr = 0;
    size_t i = n;
    while (i > 0) {
        double v = s[asc[i - 1]];
        size_t j = i;
        for (; j > 0 && s[asc[j - 1]] == v; j--) { if (y[asc[j - 1]]) tp++; else fp++; }
        double tpr = P > 0 ? tp / P : NAN, fpr = N > 0 ? fp / N : NAN;
        if (tpr - fpr > bj) { bj = tpr - fpr; bt = v; btpr = tpr; bfpr = fpr; }
        i = j;
    }
    out->threshold = bt;
    out->j = bj;
    out->sensitivity = btpr;
    out->specificity = 1 - bfpr;
    return 0;
}

/* ---------------- DeLong ---------------- */

static double cov_ddof1(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0, c = 0;
    for (size_t i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
    ma /= (double)n; mb /= (double)n;
    for (size_t i = 0; i < n; i++) c += (a[i] - ma) * (b[i] - mb);
    return c / (double)(n - 1);
}

int mg_delong(const double *s, int k, const uint8_t *y, size_t n,
              const uint32_t *asc_in, double *auc, double *cov)
{
    size_t m = 0; /* positives */
    for (size_t i = 0; i < n; i++) m += y[i] != 0;
    size_t nn = n - m;
    if (m < 2 || nn < 2) return -2;
    int rc = -1;
    uint32_t *asc = asc_in ? NULL : malloc(n * sizeof *asc);
    double *v10 = malloc((size_t)k * m * sizeof *v10);
    double *v01 = malloc((size_t)k * nn * sizeof *v01);
    size_t *slot = malloc(n * sizeof *slot); /* index among positives/negatives */
    if ((!asc_in && !asc) || !v10 || !v01 || !slot) goto done;
    {
        size_t cp = 0, cn = 0;
        for (size_t i = 0; i < n; i++) slot[i] = y[i] ? cp++ : cn++;
    }
    for (int r = 0; r < k; r++) {
        const double *x = s + (size_t)r * n;
        const uint32_t *o = asc_in ? asc_in + (size_t)r * n : asc;
        if (!asc_in && mg_sort_order(x, n, asc) < 0) goto done;
        double *a = v10 + (size_t)r * m, *b = v01 + (size_t)r * nn;
        double sum_tz = 0;
        size_t i = 0, cp = 0, cn = 0;
        while (i < n) {
            double v = x[o[i]];
            size_t j = i, gp = 0, gn = 0;
            for (; j < n && x[o[j]] == v; j++) { if (y[o[j]]) gp++; else gn++; }
            double tz = (double)(i + j + 1) / 2;            /* pooled midrank */
            double tx = (double)cp + (double)(gp + 1) / 2;  /* among positives */
            double ty = (double)cn + (double)(gn + 1) / 2;  /* among negatives */
            for (size_t t = i; t < j; t++) {
                uint32_t q = o[t];
                if (y[q]) { a[slot[q]] = (tz - tx) / (double)nn; sum_tz += tz; }
                else b[slot[q]] = 1.0 - (tz - ty) / (double)m;
            }
            cp += gp; cn += gn;
            i = j;
        }
        auc[r] = sum_tz / ((double)m * (double)nn) - ((double)m + 1) / (2.0 * (double)nn);
    }
    for (int r = 0; r < k; r++)
        for (int c = r; c < k; c++) {
            double v = cov_ddof1(v10 + (size_t)r * m, v10 + (size_t)c * m, m) / (double)m
                     + cov_ddof1(v01 + (size_t)r * nn, v01 + (size_t)c * nn, nn) / (double)nn;
            cov[r * k + c] = cov[c * k + r] = v;
        }
    rc = 0;
done:
    free(asc); free(v10); free(v01); free(slot);
    return rc;
}

int mg_delong_sorted(const double *ss, const uint8_t *sy, size_t n, double *auc, double *var)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) m += sy[i] != 0;
    size_t nn = n - m;
    if (m < 2 || nn < 2) return -2;
    double *v10 = malloc(m * sizeof *v10), *v01 = malloc(nn * sizeof *v01);
    if (!v10 || !v01) { free(v10); free(v01); return -1; }
    double sum_tz = 0;
    size_t i = 0, cp = 0, cn = 0;
    while (i < n) {
        double v = ss[i];
        size_t j = i, gp = 0, gn = 0;
        for (; j < n && ss[j] == v; j++) { if (sy[j]) gp++; else gn++; }
        double tz = (double)(i + j + 1) / 2;
        double a = (tz - ((double)cp + (double)(gp + 1) / 2)) / (double)nn;
        double b = 1.0 - (tz - ((double)cn + (double)(gn + 1) / 2)) / (double)m;
        for (size_t t = 0; t < gp; t++) v10[cp + t] = a;
        for (size_t t = 0; t < gn; t++) v01[cn + t] = b;
        sum_tz += tz * (double)gp;
        cp += gp; cn += gn;
        i = j;
    }
    *auc = sum_tz / ((double)m * (double)nn) - ((double)m + 1) / (2.0 * (double)nn);
    *var = cov_ddof1(v10, v10, m) / (double)m + cov_ddof1(v01, v01, nn) / (double)nn;
    free(v10); free(v01);
    return 0;
}

/* ---------------- confusion-based metrics ---------------- */

static double zd_value(int zd) { return zd == MG_ZD_ONE ? 1.0 : zd == MG_ZD_NAN ? NAN : 0.0; }

mg_prf mg_prf_label(double tp, double fp, double fn, int zd)
{
    mg_prf r;
    double ps = tp + fp, ts = tp + fn;
    r.precision = ps > 0 ? tp / ps : zd_value(zd);
    r.recall = ts > 0 ? tp / ts : zd_value(zd);
    if (zd == MG_ZD_NAN) {
        /* sklearn >= 1.4: F1 = 2tp/(2tp+fp+fn), zero_division when all are 0 */
        double d = 2 * tp + fp + fn;
        r.f1 = d > 0 ? 2 * tp / d : NAN;
    } else {
        /* sklearn 1.2: F from P and R, 0 when P + R = 0 (same values as >= 1.4
         * for zero_division 0 and 1) */
        double d = r.precision + r.recall;
        r.f1 = d != 0 ? 2 * r.precision * r.recall / d : 0.0;
    }
    return r;
}

static double nanmean_w(const double *x, const double *wt, int L, const uint8_t *use, int skipnan)
{
    double s = 0, sw = 0;
    for (int l = 0; l < L; l++) {
        if (use && !use[l]) continue;
        if (skipnan && isnan(x[l])) continue;
        double wl = wt ? wt[l] : 1.0;
        s += x[l] * wl; sw += wl;
    }
    return sw > 0 ? s / sw : NAN;
}

mg_prf mg_prf_average(const double *tp, const double *fp, const double *fn,
                      const uint8_t *use, int L, int average, int zd, int *undefined)
{
    mg_prf r = { NAN, NAN, NAN };
    int und = 0;
    if (average == MG_AVG_MICRO || average == MG_AVG_BINARY) {
        double a = 0, b = 0, c = 0;
        for (int l = 0; l < L; l++) {
            if (use && !use[l]) continue;
            a += tp[l]; b += fp[l]; c += fn[l];
        }
        if (a + b == 0 || a + c == 0) und = 1;
        r = mg_prf_label(a, b, c, zd);
    } else {
        double *buf = malloc(4 * (size_t)(L > 0 ? L : 1) * sizeof *buf);
        if (!buf) return r;
        double *P = buf, *R = buf + L, *F = buf + 2 * L, *sup = buf + 3 * L;
        double supsum = 0, predsum = 0;
        for (int l = 0; l < L; l++) {
            if (use && !use[l]) { P[l] = R[l] = F[l] = sup[l] = 0; continue; }
            mg_prf x = mg_prf_label(tp[l], fp[l], fn[l], zd);
            P[l] = x.precision; R[l] = x.recall; F[l] = x.f1;
            sup[l] = tp[l] + fn[l];
            supsum += sup[l]; predsum += tp[l] + fp[l];
            if (tp[l] + fp[l] == 0 || tp[l] + fn[l] == 0) und = 1;
        }
        const double *wt = NULL;
        if (average == MG_AVG_WEIGHTED) {
            if (supsum == 0) {
                /* sklearn: no true samples at all */
                double z = zd_value(zd);
                if (predsum == 0) { r.precision = r.recall = r.f1 = z; }
                else { r.precision = 0; r.recall = z; r.f1 = 0; }
                free(buf);
                if (undefined) *undefined = 1;
                return r;
            }
            wt = sup;
        }
        int skip = zd == MG_ZD_NAN;
        r.precision = nanmean_w(P, wt, L, use, skip);
        r.recall = nanmean_w(R, wt, L, use, skip);
        r.f1 = nanmean_w(F, wt, L, use, skip);
        free(buf);
    }
    if (undefined) *undefined = und;
    return r;
}

double mg_brier(const double *p, const uint8_t *y, const double *w, size_t n)
{
    double s = 0, sw = 0;
    for (size_t i = 0; i < n; i++) {
        double d = p[i] - (double)y[i];
        s += d * d * W(i); sw += W(i);
    }
    return sw > 0 ? s / sw : NAN;
}

/* Bin m of M uniform bins (lo, hi] with numpy.linspace boundaries; -1 for 0. */
static int ece_bin(double c, const double *bd, int M)
{
    if (!(c > 0)) return -1;
    int m = (int)ceil(c * M) - 1;
    if (m < 0) m = 0;
    if (m > M - 1) m = M - 1;
    while (m > 0 && c <= bd[m]) m--;
    while (m < M - 1 && c > bd[m + 1]) m++;
    if (!(c > bd[m] && c <= bd[m + 1])) return -1;
    return m;
}

static double *ece_bounds(int M)
{
    double *bd = malloc((size_t)(M + 1) * sizeof *bd);
    if (!bd) return NULL;
    double step = 1.0 / M;
    for (int i = 0; i < M; i++) bd[i] = (double)i * step;
    bd[M] = 1.0;
    return bd;
}

void mg_calibration_bins(const double *conf, const uint8_t *correct, size_t n,
                         int M, double *mean_conf, double *mean_acc, double *count)
{
    double *bd = ece_bounds(M);
    for (int m = 0; m < M; m++) mean_conf[m] = mean_acc[m] = count[m] = 0;
    if (!bd) return;
    for (size_t i = 0; i < n; i++) {
        int m = conf[i] == 0 ? 0 : ece_bin(conf[i], bd, M);
        if (m < 0) continue;
        count[m] += 1; mean_conf[m] += conf[i]; mean_acc[m] += correct[i];
    }
    for (int m = 0; m < M; m++)
        if (count[m] > 0) { mean_conf[m] /= count[m]; mean_acc[m] /= count[m]; }
        else mean_conf[m] = mean_acc[m] = NAN;
    free(bd);
}

void mg_ece_bins(const double *conf, size_t n, int M, int32_t *bin)
{
    double *bd = ece_bounds(M);
    for (size_t i = 0; i < n; i++) bin[i] = bd ? ece_bin(conf[i], bd, M) : -1;
    free(bd);
}

double mg_ece_binned(const int32_t *bin, const double *conf, const uint8_t *correct,
                     const double *w, size_t n, int M)
{
    double *acc = calloc((size_t)3 * M, sizeof *acc);
    if (!acc) return NAN;
    double *cs = acc + M, *cnt = acc + 2 * M, total = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = W(i);
        total += wi;
        int m = bin[i];
        if (m < 0) continue;
        cnt[m] += wi; cs[m] += conf[i] * wi; acc[m] += correct[i] * wi;
    }
    double e = 0;
    for (int m = 0; m < M; m++)
        if (cnt[m] > 0) e += fabs(cs[m] / cnt[m] - acc[m] / cnt[m]) * (cnt[m] / total);
    free(acc);
    return total > 0 ? e : NAN;
}

double mg_ece(const double *conf, const uint8_t *correct, const double *w,
              size_t n, int M)
{
    double *bd = ece_bounds(M);
    double *acc = calloc((size_t)3 * M, sizeof *acc);
    if (!bd || !acc) { free(bd); free(acc); return NAN; }
    double *cs = acc + M, *cnt = acc + 2 * M, total = 0;
    for (size_t i = 0; i < n; i++) {
        total += W(i);
        int m = ece_bin(conf[i], bd, M);
        if (m < 0) continue;
        cnt[m] += W(i); cs[m] += conf[i] * W(i); acc[m] += correct[i] * W(i);
    }
    double e = 0;
    for (int m = 0; m < M; m++)
        if (cnt[m] > 0) e += fabs(cs[m] / cnt[m] - acc[m] / cnt[m]) * (cnt[m] / total);
    free(bd); free(acc);
    return total > 0 ? e : NAN;
}

/* ---------------- percentiles ---------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double mg_percentile_sorted(double *x, size_t n, double q)
{
    if (n == 0) return NAN;
    qsort(x, n, sizeof *x, cmp_double);
    double vi = (double)(n - 1) * q;
    double lo = floor(vi);
    size_t i = (size_t)lo, j = i + 1 < n ? i + 1 : n - 1;
    double g = vi - lo, a = x[i], b = x[j], d = b - a;
    /* numpy _lerp: a + d*g, or b - d*(1-g) when g >= 0.5 */
    return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

/* mg_metrics_clf.c: the classification metric set of mg-score. Averaging
 * follows sklearn/metrics/_base.py _average_binary_score (macro: plain mean,
 * NaN propagates; weighted: by positive count, 0 when there are none; micro:
 * the flattened matrix) and _average_multiclass_ovo_score (Hand & Till). */
#include "mg_metrics_clf.h"
#include "mg_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W(i) (w ? w[i] : 1.0)

static void add_name(mg_clf *c, const char *name) { c->names[c->nmetrics++] = name; }

int mg_clf_init(mg_clf *c, const uint8_t *y, const int *cls)
{
    size_t n = c->n, k = (size_t)c->k;
    c->y = NULL; c->cls = NULL; c->asc = NULL; c->asc_all = NULL;
    c->ss = NULL; c->sy = NULL; c->ss_all = NULL; c->sy_all = NULL;
    c->pred = NULL; c->amax = NULL; c->ece_bin = NULL; c->ece_conf = NULL; c->ece_hit = NULL;
    c->nmetrics = 0;
    c->y = malloc(k * n);
    c->asc = malloc(k * n * sizeof *c->asc);
    if (!c->y || !c->asc) goto fail;
    if (c->task == MG_TASK_MULTICLASS) {
        c->cls = malloc(n * sizeof *c->cls);
        if (!c->cls) goto fail;
        memcpy(c->cls, cls, n * sizeof *cls);
        memset(c->y, 0, k * n);
        for (size_t i = 0; i < n; i++) c->y[(size_t)cls[i] * n + i] = 1;
    } else {
        memcpy(c->y, y, k * n);
    }
    c->ss = malloc(k * n * sizeof *c->ss);
    c->sy = malloc(k * n);
    if (!c->ss || !c->sy) goto fail;
    for (size_t j = 0; j < k; j++) {
        uint32_t *o = c->asc + j * n;
        if (mg_sort_order(c->s + j * n, n, o) < 0) goto fail;
        for (size_t i = 0; i < n; i++) {
            c->ss[j * n + i] = c->s[j * n + o[i]];
            c->sy[j * n + i] = c->y[j * n + o[i]];
        }
    }
    if (c->task != MG_TASK_BINARY) {
        if (k * n > UINT32_MAX) goto fail;
        c->asc_all = malloc(k * n * sizeof *c->asc_all);
        c->ss_all = malloc(k * n * sizeof *c->ss_all);
        c->sy_all = malloc(k * n);
        if (!c->asc_all || !c->ss_all || !c->sy_all || mg_sort_order(c->s, k * n, c->asc_all) < 0) goto fail;
        for (size_t i = 0; i < k * n; i++) { c->ss_all[i] = c->s[c->asc_all[i]]; c->sy_all[i] = c->y[c->asc_all[i]]; }
    }
    /* predictions and calibration bins do not depend on case weights */
    if (c->task == MG_TASK_MULTICLASS) {
        c->amax = malloc(n * sizeof *c->amax);
        if (!c->amax) goto fail;
        for (size_t i = 0; i < n; i++) c->amax[i] = mg_clf_argmax(c, i);
    } else {
        c->pred = malloc(k * n);
        if (!c->pred) goto fail;
        for (size_t i = 0; i < k * n; i++) c->pred[i] = c->s[i] >= c->threshold;
    }
    if (c->probabilities && c->task != MG_TASK_MULTILABEL) {
        c->ece_bin = malloc(n * sizeof *c->ece_bin);
        c->ece_conf = malloc(n * sizeof *c->ece_conf);
        c->ece_hit = malloc(n);
        if (!c->ece_bin || !c->ece_conf || !c->ece_hit) goto fail;
        for (size_t i = 0; i < n; i++) {
            if (c->task == MG_TASK_BINARY) {
                double p = c->s[i], q = 1 - p;
                int p1 = p > q;
                c->ece_conf[i] = c->ece_positive ? p : p1 ? p : q;
                c->ece_hit[i] = c->ece_positive ? c->y[i] : p1 == (int)c->y[i];
            } else {
                int a = c->amax[i];
                c->ece_conf[i] = c->s[(size_t)a * n + i];
                c->ece_hit[i] = a == c->cls[i];
            }
        }
        mg_ece_bins(c->ece_conf, n, c->ece_bins, c->ece_bin);
    }
    if (c->task == MG_TASK_BINARY) {
        add_name(c, "auc");
        add_name(c, "average_precision");
        add_name(c, "accuracy");
        add_name(c, "balanced_accuracy");
        add_name(c, "precision");
        add_name(c, "recall");
        add_name(c, "specificity");
        add_name(c, "f1");
        if (c->probabilities) { add_name(c, "brier"); add_name(c, "ece"); }
    } else {
        add_name(c, "auc_macro");
        if (!(c->task == MG_TASK_MULTICLASS && c->multi_class == MG_OVO)) add_name(c, "auc_micro");
        add_name(c, "auc_weighted");
        add_name(c, "average_precision_macro");
        add_name(c, "average_precision_micro");
        add_name(c, "average_precision_weighted");
        add_name(c, c->task == MG_TASK_MULTILABEL ? "subset_accuracy" : "accuracy");
        if (c->task == MG_TASK_MULTICLASS) add_name(c, "balanced_accuracy");
        add_name(c, "precision_macro");
        add_name(c, "recall_macro");
        add_name(c, "f1_macro");
        add_name(c, "precision_micro");
        add_name(c, "recall_micro");
        add_name(c, "f1_micro");
        add_name(c, "precision_weighted");
        add_name(c, "recall_weighted");
        add_name(c, "f1_weighted");
        if (c->task == MG_TASK_MULTILABEL) {
            add_name(c, "precision_samples");
            add_name(c, "recall_samples");
            add_name(c, "f1_samples");
        }
        if (c->task == MG_TASK_MULTICLASS && c->probabilities) add_name(c, "ece");
    }
    return 0;
fail:
    mg_clf_free(c);
    return -1;
}

void mg_clf_free(mg_clf *c)
{
    free(c->y); free(c->cls); free(c->asc); free(c->asc_all);
    free(c->ss); free(c->sy); free(c->ss_all); free(c->sy_all);
    free(c->pred); free(c->amax); free(c->ece_bin); free(c->ece_conf); free(c->ece_hit);
    c->pred = NULL; c->amax = NULL; c->ece_bin = NULL; c->ece_conf = NULL; c->ece_hit = NULL;
    c->y = NULL; c->cls = NULL; c->asc = NULL; c->asc_all = NULL;
    c->ss = NULL; c->sy = NULL; c->ss_all = NULL; c->sy_all = NULL;
}

/* Weights of column j's cases in its sorted order (NULL when w is NULL). */
static const double *gather(const mg_clf *c, int j, const double *w, double *buf)
{
    if (!w) return NULL;
    const uint32_t *o = c->asc + (size_t)j * c->n;
    for (size_t i = 0; i < c->n; i++) buf[i] = w[o[i]];
    return buf;
}

int mg_clf_argmax(const mg_clf *c, size_t i)
{
    int best = 0;
    double bv = c->s[i];
    for (int j = 1; j < c->k; j++) {
        double v = c->s[(size_t)j * c->n + i];
        if (v > bv) { bv = v; best = j; }
    }
    return best;
}

static inline int pred_label(const mg_clf *c, int j, size_t i)
{
    return c->pred[(size_t)j * c->n + i];
}

/* Per-column weighted tp/fp/fn (and presence of the label in truth or
 * prediction, as sklearn's unique_labels for multiclass). */
static void column_counts(const mg_clf *c, const double *w, double *tp, double *fp,
                          double *fn, double *tn, uint8_t *present)
{
    size_t n = c->n;
    int k = c->k;
    for (int j = 0; j < k; j++) { tp[j] = fp[j] = fn[j] = tn[j] = 0; present[j] = 0; }
    if (c->task == MG_TASK_MULTICLASS) {
        for (size_t i = 0; i < n; i++) {
            double wi = W(i);
            if (wi == 0) continue;
            int t = c->cls[i], p = c->amax[i];
            present[t] = present[p] = 1;
            if (t == p) tp[t] += wi;
            else { fn[t] += wi; fp[p] += wi; }
        }
        double tot = 0;
        for (size_t i = 0; i < n; i++) tot += W(i);
        for (int j = 0; j < k; j++) tn[j] = tot - tp[j] - fp[j] - fn[j];
    } else {
        for (int j = 0; j < k; j++) {
            const uint8_t *y = c->y + (size_t)j * n, *p = c->pred + (size_t)j * n;
            double cell[4] = { 0, 0, 0, 0 };   /* tn, fp, fn, tp */
            for (size_t i = 0; i < n; i++) cell[2 * y[i] + p[i]] += W(i);
            tn[j] = cell[0]; fp[j] = cell[1]; fn[j] = cell[2]; tp[j] = cell[3];
            present[j] = 1;
        }
    }
}

/* sklearn _average_binary_score over the k columns of a per-column metric. */
static void average_columns(const double *val, const double *pos, int k,
                            double *macro, double *weighted)
{
    double m = 0, sw = 0, ws = 0;
    for (int j = 0; j < k; j++) { m += val[j]; sw += pos[j]; ws += val[j] * pos[j]; }
    *macro = m / k;
    *weighted = sw == 0 ? 0.0 : ws / sw;
}

int mg_clf_compute(const mg_clf *c, const double *w, double *out)
{
    size_t n = c->n;
    int k = c->k, o = 0, rc = -1;
    double *tp = NULL, *wbuf = NULL;
    uint8_t *flag = NULL;
    tp = malloc((size_t)(k + 2) * 6 * sizeof *tp);
    flag = malloc((size_t)(k + 2) * 2);
    if (!tp || !flag) goto done;
    double *fp = tp + (k + 2), *fn = fp + (k + 2), *tn = fn + (k + 2);
    double *colv = tn + (k + 2), *pos = colv + (k + 2);
    uint8_t *present = flag, *ok = flag + (k + 2);
    double W = 0;
    for (size_t i = 0; i < n; i++) W += W(i);

    if (c->task == MG_TASK_BINARY) {
        const double *s = c->s;
        const uint8_t *y = c->y;
        wbuf = w ? malloc(n * sizeof *wbuf) : NULL;
        if (w && !wbuf) goto done;
        const double *ws = gather(c, 0, w, wbuf);
        out[o++] = mg_auc_sorted(c->ss, c->sy, ws, n);
        out[o++] = mg_ap_sorted(c->ss, c->sy, ws, n);
        column_counts(c, w, tp, fp, fn, tn, present);
        double TP = tp[0], FP = fp[0], FN = fn[0], TN = tn[0];
        out[o++] = W > 0 ? (TP + TN) / W : NAN;
        /* balanced accuracy: mean recall over classes present in the truth */
        {
            double r = 0; int m = 0;
            if (TP + FN > 0) { r += TP / (TP + FN); m++; }
            if (TN + FP > 0) { r += TN / (TN + FP); m++; }
            out[o++] = m ? r / m : NAN;
        }
        /* labels (neg, pos) as two columns for the averages */
        double t2[2] = { TN, TP }, f2[2] = { FN, FP }, n2[2] = { FP, FN };
        /* a label is in sklearn's label set when it occurs in truth or prediction */
        uint8_t use2[2];
        use2[0] = (TN + FP) > 0 || (TN + FN) > 0;
        use2[1] = (TP + FN) > 0 || (TP + FP) > 0;
        mg_prf r;
        if (c->average == MG_AVG_BINARY) r = mg_prf_label(TP, FP, FN, c->zero_division);
        else r = mg_prf_average(t2, f2, n2, use2, 2, c->average, c->zero_division, NULL);
        out[o++] = r.precision;
        out[o++] = r.recall;
        out[o++] = TN + FP > 0 ? TN / (TN + FP) : NAN;
        out[o++] = r.f1;
        if (c->probabilities) {
            out[o++] = mg_brier(s, y, w, n);
            out[o++] = mg_ece_binned(c->ece_bin, c->ece_conf, c->ece_hit, w, n, c->ece_bins);
        }
        rc = 0;
        goto done;
    }

    /* ---- multiclass / multilabel ---- */
    for (int j = 0; j < k; j++) {
        pos[j] = 0;
        const uint8_t *y = c->y + (size_t)j * n;
        for (size_t i = 0; i < n; i++) if (y[i]) pos[j] += W(i);
    }
    double macro, weighted;
    wbuf = malloc((size_t)k * n * sizeof *wbuf);
    if (!wbuf) goto done;
    if (c->task == MG_TASK_MULTICLASS && c->multi_class == MG_OVO) {
        double sum = 0, wsum = 0, psum = 0;
        int npairs = 0;
        /* scikit-learn (_average_multiclass_ovo_score) forms pairs of the
         * classes present in the truth only: a score column whose class has no
         * case is left out rather than making the average NaN. colv holds
         * each class's case count here. */
        for (int j = 0; j < k; j++) colv[j] = 0;
        for (size_t i = 0; i < n; i++) if (W(i) > 0 && c->cls[i] >= 0 && c->cls[i] < k) colv[c->cls[i]] += 1;
        for (int a = 0; a < k; a++)
            for (int b = a + 1; b < k; b++) {
                if (colv[a] == 0 || colv[b] == 0) continue;
                /* cases of classes a and b only, in each column's sorted order */
                double pw = 0, aa = NAN, ab = NAN;
                for (size_t i = 0; i < n; i++) {
                    int t = c->cls[i];
                    if (t == a || t == b) pw += W(i);
                }
                for (int side = 0; side < 2; side++) {
                    int col = side ? b : a;
                    const uint32_t *or = c->asc + (size_t)col * n;
                    for (size_t i = 0; i < n; i++) {
                        int t = c->cls[or[i]];
                        wbuf[i] = (t == a || t == b) ? W(or[i]) : 0.0;
                    }
                    double v = mg_auc_sorted(c->ss + (size_t)col * n, c->sy + (size_t)col * n, wbuf, n);
                    if (side) ab = v; else aa = v;
                }
                double ps = (aa + ab) / 2, prev = pw / W;
                sum += ps; wsum += ps * prev; psum += prev; npairs++;
            }
        out[o++] = npairs ? sum / npairs : NAN;
        out[o++] = npairs ? wsum / psum : NAN;
    } else {
        for (int j = 0; j < k; j++)
            colv[j] = mg_auc_sorted(c->ss + (size_t)j * n, c->sy + (size_t)j * n, gather(c, j, w, wbuf), n);
        average_columns(colv, pos, k, &macro, &weighted);
        out[o++] = macro;
        out[o++] = w ? NAN : mg_auc_sorted(c->ss_all, c->sy_all, NULL, (size_t)k * n);
        if (w) {
            for (size_t i = 0; i < (size_t)k * n; i++) wbuf[i] = w[c->asc_all[i] % n];
            out[o - 1] = mg_auc_sorted(c->ss_all, c->sy_all, wbuf, (size_t)k * n);
        }
        out[o++] = weighted;
    }
    for (int j = 0; j < k; j++)
        colv[j] = mg_ap_sorted(c->ss + (size_t)j * n, c->sy + (size_t)j * n, gather(c, j, w, wbuf), n);
    average_columns(colv, pos, k, &macro, &weighted);
    out[o++] = macro;
    if (w) for (size_t i = 0; i < (size_t)k * n; i++) wbuf[i] = w[c->asc_all[i] % n];
    out[o++] = mg_ap_sorted(c->ss_all, c->sy_all, w ? wbuf : NULL, (size_t)k * n);
    out[o++] = weighted;

    column_counts(c, w, tp, fp, fn, tn, present);
    /* accuracy: multiclass fraction correct, multilabel exact row match */
    {
        double good = 0;
        for (size_t i = 0; i < n; i++) {
            int all = 1;
            if (c->task == MG_TASK_MULTICLASS) all = c->amax[i] == c->cls[i];
            else
                for (int j = 0; j < k && all; j++)
                    all = pred_label(c, j, i) == c->y[(size_t)j * n + i];
            if (all) good += W(i);
        }
        out[o++] = W > 0 ? good / W : NAN;
    }
    if (c->task == MG_TASK_MULTICLASS) {
        double r = 0; int m = 0;
        for (int j = 0; j < k; j++)
            if (present[j] && tp[j] + fn[j] > 0) { r += tp[j] / (tp[j] + fn[j]); m++; }
        out[o++] = m ? r / m : NAN;
    }
    for (int j = 0; j < k; j++) ok[j] = present[j];
    mg_prf r = mg_prf_average(tp, fp, fn, ok, k, MG_AVG_MACRO, c->zero_division, NULL);
    out[o++] = r.precision; out[o++] = r.recall; out[o++] = r.f1;
    r = mg_prf_average(tp, fp, fn, ok, k, MG_AVG_MICRO, c->zero_division, NULL);
    out[o++] = r.precision; out[o++] = r.recall; out[o++] = r.f1;
    r = mg_prf_average(tp, fp, fn, ok, k, MG_AVG_WEIGHTED, c->zero_division, NULL);
    out[o++] = r.precision; out[o++] = r.recall; out[o++] = r.f1;
    if (c->task == MG_TASK_MULTILABEL) {
        /* sklearn average="samples": per case over its labels, then the mean */
        double sp = 0, sr = 0, sf = 0, wp = 0, wr = 0, wf = 0;
        for (size_t i = 0; i < n; i++) {
            double wi = W(i), a = 0, b = 0, e = 0;
            if (wi == 0) continue;
            for (int j = 0; j < k; j++) {
                int t = c->y[(size_t)j * n + i], p = pred_label(c, j, i);
                a += t && p; b += !t && p; e += t && !p;
            }
            mg_prf x = mg_prf_label(a, b, e, c->zero_division);
            if (!isnan(x.precision)) { sp += wi * x.precision; wp += wi; }
            if (!isnan(x.recall)) { sr += wi * x.recall; wr += wi; }
            if (!isnan(x.f1)) { sf += wi * x.f1; wf += wi; }
        }
        out[o++] = wp > 0 ? sp / wp : NAN;
        out[o++] = wr > 0 ? sr / wr : NAN;
        out[o++] = wf > 0 ? sf / wf : NAN;
    }
    if (c->task == MG_TASK_MULTICLASS && c->probabilities) {
        out[o++] = mg_ece_binned(c->ece_bin, c->ece_conf, c->ece_hit, w, n, c->ece_bins);
    }
    rc = 0;
done:
    free(tp); free(flag); free(wbuf);
    return rc;
}

int mg_clf_replicate_ok(const mg_clf *c, const double *w)
{
    size_t n = c->n;
    for (int j = 0; j < c->k; j++) {
        const uint8_t *y = c->y + (size_t)j * n;
        int full0 = 0, full1 = 0, r0 = 0, r1 = 0;
        for (size_t i = 0; i < n && !(r0 && r1); i++) {
            if (y[i]) { full1 = 1; r1 |= w[i] > 0; }
            else { full0 = 1; r0 |= w[i] > 0; }
        }
        if (r0) full0 = 1;
        if (r1) full1 = 1;
        if (!(r0 && r1))
            for (size_t i = 0; i < n; i++) { if (y[i]) full1 = 1; else full0 = 1; }
        if (c->task == MG_TASK_MULTICLASS) { if (full1 && !r1) return 0; }
        else if ((full0 && !r0) || (full1 && !r1)) return 0;
    }
    return 1;
}

int mg_clf_per_class(const mg_clf *c, double *support, double *auc, double *ap,
                     double *precision, double *recall, double *f1)
{
    size_t n = c->n;
    int k = c->k;
    double *tp = malloc((size_t)k * 4 * sizeof *tp);
    uint8_t *present = malloc((size_t)k);
    if (!tp || !present) { free(tp); free(present); return -1; }
    double *fp = tp + k, *fn = fp + k, *tn = fn + k;
    column_counts(c, NULL, tp, fp, fn, tn, present);
    for (int j = 0; j < k; j++) {
        support[j] = tp[j] + fn[j];
        auc[j] = mg_auc_sorted(c->ss + (size_t)j * n, c->sy + (size_t)j * n, NULL, n);
        ap[j] = mg_ap_sorted(c->ss + (size_t)j * n, c->sy + (size_t)j * n, NULL, n);
        mg_prf r = mg_prf_label(tp[j], fp[j], fn[j], c->zero_division);
        precision[j] = r.precision; recall[j] = r.recall; f1[j] = r.f1;
    }
    free(tp); free(present);
    return 0;
}

int mg_clf_confusion(const mg_clf *c, double *cm)
{
    size_t n = c->n;
    int k = c->k;
    if (c->task == MG_TASK_BINARY) {
        memset(cm, 0, 4 * sizeof *cm);
        for (size_t i = 0; i < n; i++) cm[c->y[i] * 2 + pred_label(c, 0, i)] += 1;
    } else if (c->task == MG_TASK_MULTICLASS) {
        memset(cm, 0, (size_t)k * k * sizeof *cm);
        for (size_t i = 0; i < n; i++) cm[(size_t)c->cls[i] * k + c->amax[i]] += 1;
    } else {
        memset(cm, 0, (size_t)k * 4 * sizeof *cm);
        for (int j = 0; j < k; j++)
            for (size_t i = 0; i < n; i++)
                cm[(size_t)j * 4 + c->y[(size_t)j * n + i] * 2 + pred_label(c, j, i)] += 1;
    }
    return 0;
}

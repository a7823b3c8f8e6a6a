/* mg_metrics_plot.c: SVG 1.1 written by hand: axes on [0,1]^2, grid, one or
 * two curves, an optional shaded band. */
#include "mg_metrics_plot.h"
#include "mg_metrics.h"
#include "mg_metrics_boot.h"
#include "mg_output.h"

#include "mg_err.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PW 480.0   /* canvas */
#define PL 64.0    /* plot area left, top, size */
#define PT 40.0
#define PS 376.0
#define GRID 101   /* FPR grid of the ROC band */

static const char *const PALETTE[10] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

static double px(double x) { return PL + x * PS; }

/* text content with &, <, > escaped */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if ((unsigned char)*s >= 0x20 || *s == '\t') fputc(*s, f);
    }
}

/* legend entry i at the lower right (ROC) or upper right (PR) */
static void legend(FILE *f, int i, int top, const char *name, const char *what, double v)
{
    double y = top ? PT + 16 + 16 * i : PT + PS - 12 - 16 * i;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
            PL + PS - 170, y - 4, PL + PS - 150, y - 4, PALETTE[i % 10]);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", PL + PS - 145, y);
    xml_text(f, name);
    fprintf(f, " (%s %.3f)</text>\n", what, v);
}
static double py(double y) { return PT + (1 - y) * PS; }

static void svg_begin(FILE *f, const char *title, const char *xlab, const char *ylab)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            PW, PW, PW, PW);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n", PL + PS / 2, title);
    for (int i = 0; i <= 5; i++) {
        double t = i / 5.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", px(t), py(0), px(t), py(1));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n", px(0), py(t), px(1), py(t));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>\n", px(t), py(0) + 16, t);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", px(0) - 6, py(t) + 4, t);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n", PL, PT, PS, PS);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", PL + PS / 2, PT + PS + 34, xlab);
    fprintf(f, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">%s</text>\n",
            PT + PS / 2, PT + PS / 2, ylab);
}

static void polyline(FILE *f, const double *x, const double *y, size_t m, const char *style)
{
    fprintf(f, "<polyline fill=\"none\" %s points=\"", style);
    for (size_t i = 0; i < m; i++)
        if (isfinite(x[i]) && isfinite(y[i])) fprintf(f, "%s%.2f,%.2f", i ? " " : "", px(x[i]), py(y[i]));
    fprintf(f, "\"/>\n");
}

/* The plots being written: all appear together, or none (see mg_output.h). */
typedef struct {
    mg_ofile_group *g;
    mg_ofile *cur;
    char path[4096];
} plot_files;

static FILE *open_plot(plot_files *pf, const char *dir, const char *name, char *err, size_t errlen)
{
    char e[256];
    snprintf(pf->path, sizeof pf->path, "%s/%s", dir, name);
    if (!(pf->cur = mg_ofile_open(pf->path, NULL, e, sizeof e))) {
        mg_seterr(err, errlen, "%s: %s", pf->path, e);
        return NULL;
    }
    return mg_ofile_fp(pf->cur);
}

static int svg_end(plot_files *pf, FILE *f, char *err, size_t errlen)
{
    char e[256];
    fprintf(f, "</svg>\n");
    mg_ofile *o = pf->cur;
    pf->cur = NULL;
    if (mg_ofile_group_add(pf->g, o, e, sizeof e) < 0) {
        mg_seterr(err, errlen, "%s: %s", pf->path, e);
        return -1;
    }
    return 0;
}

/* TPR at each FPR grid point of a (weighted) ROC step curve: the highest TPR
 * reached with FPR <= x. */
static void tpr_on_grid(const double *fpr, const double *tpr, size_t m, double *g)
{
    size_t k = 0;
    double best = 0;
    for (int i = 0; i < GRID; i++) {
        double x = i / (double)(GRID - 1);
        while (k < m && fpr[k] <= x + 1e-12) { if (tpr[k] > best) best = tpr[k]; k++; }
        g[i] = best;
    }
}

typedef struct { const mg_plot_data *d; } band_ctx;

static int band_stat(void *vc, const double *w, double *out)
{
    const mg_plot_data *d = ((band_ctx *)vc)->d;
    double P = 0, N = 0;
    for (size_t i = 0; i < d->n; i++) { if (d->y[i]) P += w[i]; else N += w[i]; }
    if (P == 0 || N == 0) return 1;
    double *buf = malloc(3 * (d->n + 1) * sizeof *buf);
    if (!buf) return -1;
    size_t m = mg_roc_points(d->s, d->y, w, d->asc, d->n, buf, buf + d->n + 1, buf + 2 * (d->n + 1));
    tpr_on_grid(buf, buf + d->n + 1, m, out);
    free(buf);
    return 0;
}

int mg_plot_write_all(const char *dir, const mg_plot_data *d, char *err, size_t errlen)
{
    char title[128];
    size_t n = d->n;
    int rc = -1;
    double *buf = malloc(3 * (n + 1) * sizeof *buf), *res = NULL;
    FILE *f = NULL;
    plot_files pf = { mg_ofile_group_new(), NULL, "" };
    if (!buf || !pf.g) { mg_seterr(err, errlen, "out of memory"); goto done; }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) { mg_seterr(err, errlen, "%s", strerror(errno)); goto done; }
    double *fpr = buf, *tpr = buf + n + 1, *thr = buf + 2 * (n + 1);

    if (d->k > 1) {
        /* one-vs-rest curves per class */
        int k = d->k;
        for (int plot = 0; plot < 2; plot++) {
            if (!(f = open_plot(&pf, dir, plot ? "pr.svg" : "roc.svg", err, errlen))) goto done;
            if (plot) svg_begin(f, "Precision-recall curves (one-vs-rest)", "recall (sensitivity)", "precision (positive predictive value)");
            else {
                svg_begin(f, "ROC curves (one-vs-rest)", "1 - specificity (false positive rate)", "sensitivity (true positive rate)");
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
                        px(0), py(0), px(1), py(1));
            }
            for (int j = 0; j < k; j++) {
                const double *s = d->s + (size_t)j * n;
                const uint8_t *y = d->y + (size_t)j * n;
                const uint32_t *asc = d->asc + (size_t)j * n;
                char style[96];
                snprintf(style, sizeof style, "stroke=\"%s\" stroke-width=\"2\"", PALETTE[j % 10]);
                if (plot) {
                    size_t m = mg_pr_points(s, y, asc, n, fpr, tpr, thr);
                    fprintf(f, "<polyline fill=\"none\" %s points=\"%.2f,%.2f", style, px(0), py(m ? fpr[0] : 1));
                    for (size_t i = 0; i < m; i++)
                        fprintf(f, " %.2f,%.2f %.2f,%.2f", px(i ? tpr[i - 1] : 0), py(fpr[i]), px(tpr[i]), py(fpr[i]));
                    fprintf(f, "\"/>\n");
                    legend(f, j, 0, d->names[j], "AP", mg_average_precision(s, y, NULL, asc, n));
                } else {
                    size_t m = mg_roc_points(s, y, NULL, asc, n, fpr, tpr, thr);
                    polyline(f, fpr, tpr, m, style);
                    legend(f, j, 0, d->names[j], "AUC", mg_auc(s, y, NULL, asc, n));
                }
            }
            if (svg_end(&pf, f, err, errlen) < 0) goto done;
        }
        rc = 0;
        goto done;
    }

    /* ROC */
    size_t m = mg_roc_points(d->s, d->y, NULL, d->asc, n, fpr, tpr, thr);
    double auc = mg_auc(d->s, d->y, NULL, d->asc, n);
    if (!(f = open_plot(&pf, dir, "roc.svg", err, errlen))) goto done;
    snprintf(title, sizeof title, "ROC curve (AUC %.3f)", auc);
    svg_begin(f, title, "1 - specificity (false positive rate)", "sensitivity (true positive rate)");
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
            px(0), py(0), px(1), py(1));
    if (d->boot_b > 0) {
        int nskip = 0;
        res = malloc((size_t)d->boot_b * GRID * sizeof *res);
        band_ctx bc = { d };
        if (!res || mg_bootstrap(n, d->boot_b, d->seed, d->pool, GRID, band_stat, &bc, res, &nskip, NULL) < 0) {
            mg_seterr(err, errlen, "out of memory");
            goto done;
        }
        double lo[GRID], hi[GRID];
        int used;
        for (int i = 0; i < GRID; i++) mg_boot_interval(res, d->boot_b, GRID, i, d->alpha, &lo[i], &hi[i], &used);
        fprintf(f, "<polygon fill=\"#1f77b4\" fill-opacity=\"0.2\" stroke=\"none\" points=\"");
        for (int i = 0; i < GRID; i++) fprintf(f, "%s%.2f,%.2f", i ? " " : "", px(i / (double)(GRID - 1)), py(hi[i]));
        for (int i = GRID - 1; i >= 0; i--) fprintf(f, " %.2f,%.2f", px(i / (double)(GRID - 1)), py(lo[i]));
        fprintf(f, "\"/>\n");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f77b4\">band: %.0f%% bootstrap, %d replicates</text>\n",
                px(1) - 6, py(0) - 8, 100 * (1 - d->alpha), d->boot_b);
    }
    polyline(f, fpr, tpr, m, "stroke=\"#1f77b4\" stroke-width=\"2\"");
    if (svg_end(&pf, f, err, errlen) < 0) goto done;

    /* precision-recall */
    m = mg_pr_points(d->s, d->y, d->asc, n, fpr, tpr, thr); /* fpr = precision, tpr = recall */
    double ap = mg_average_precision(d->s, d->y, NULL, d->asc, n), prev = 0;
    for (size_t i = 0; i < n; i++) prev += d->y[i];
    prev /= (double)n;
    if (!(f = open_plot(&pf, dir, "pr.svg", err, errlen))) goto done;
    snprintf(title, sizeof title, "Precision-recall curve (AP %.3f)", ap);
    svg_begin(f, title, "recall (sensitivity)", "precision (positive predictive value)");
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
            px(0), py(prev), px(1), py(prev));
    /* steps: precision holds until the next recall */
    fprintf(f, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"%.2f,%.2f", px(0), py(m ? fpr[0] : 1));
    for (size_t i = 0; i < m; i++) fprintf(f, " %.2f,%.2f %.2f,%.2f", px(i ? tpr[i - 1] : 0), py(fpr[i]), px(tpr[i]), py(fpr[i]));
    fprintf(f, "\"/>\n");
    if (svg_end(&pf, f, err, errlen) < 0) goto done;

    /* calibration */
    if (d->probabilities) {
        int M = d->bins;
        double *mc = malloc(3 * (size_t)M * sizeof *mc);
        if (!mc) { mg_seterr(err, errlen, "out of memory"); goto done; }
        mg_calibration_bins(d->s, d->y, n, M, mc, mc + M, mc + 2 * M);
        if (!(f = open_plot(&pf, dir, "calibration.svg", err, errlen))) { free(mc); goto done; }
        snprintf(title, sizeof title, "Calibration (%d equal-width bins)", M);
        svg_begin(f, title, "mean predicted probability", "observed fraction of positives");
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n",
                px(0), py(0), px(1), py(1));
        double *xs = calloc((size_t)M * 2, sizeof *xs);
        if (!xs) { free(mc); mg_seterr(err, errlen, "out of memory"); goto done; }
        size_t k = 0;
        for (int b = 0; b < M; b++)
            if (mc[2 * M + b] > 0) { xs[k] = mc[b]; xs[M + k] = mc[M + b]; k++; }
        polyline(f, xs, xs + M, k, "stroke=\"#2ca02c\" stroke-width=\"2\"");
        for (size_t i = 0; i < k; i++)
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"#2ca02c\"/>\n", px(xs[i]), py(xs[M + i]));
        free(xs); free(mc);
        if (svg_end(&pf, f, err, errlen) < 0) goto done;
    }
    rc = 0;
done:
    mg_ofile_abort(pf.cur);
    char e[256];
    if (mg_ofile_group_close(pf.g, rc == 0, e, sizeof e) < 0 && rc == 0) {
        mg_seterr(err, errlen, "%s: %s", dir, e);
        rc = -1;
    }
    free(buf); free(res);
    return rc;
}

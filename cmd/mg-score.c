/* mg-score: metrics of medical AI from predictions and truth, with confidence
 * intervals. Subcommands: classify, risk, report, vqa. The metric
 * definitions and their sources are in man/mg-score.1 and the library headers
 * (mg_metrics*.h). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mg_cli.h"
#include "mg_metrics.h"
#include "mg_metrics_boot.h"
#include "mg_metrics_clf.h"
#include "mg_metrics_plot.h"
#include "mg_metrics_risk.h"
#include "mg_metrics_text.h"
#include "mg_metrics_tsv.h"

static const char usage_main[] =
"Usage: mg-score COMMAND [options] ...\n"
"Metrics of medical AI from predictions and truth, with confidence intervals.\n"
"\n"
"Commands:\n"
"  classify PRED.tsv [TRUTH.tsv]   AUC, AP, accuracy, F1, Brier, ECE, DeLong, ...\n"
"  risk PRED.tsv [TRUTH.tsv]       classify metrics plus OR per SD, top-decile OR,\n"
"                                  Nagelkerke R2, Harrell's C\n"
"  report HYP.tsv REF.tsv          BLEU-1..4, ROUGE-L, CIDEr-D; --chexpert, --radgraph\n"
"  vqa PRED.tsv TRUTH.tsv          closed accuracy, open recall, token F1, exact match\n"
"\n"
"Run 'mg-score COMMAND --help' for the options of a command; man mg-score for\n"
"the definitions. Exit status: 0 success, 1 data error, 2 usage error.\n";

static const char usage_classify[] =
"Usage: mg-score classify [options] PRED.tsv [TRUTH.tsv]\n"
"       mg-score risk [options] PRED.tsv [TRUTH.tsv]\n"
"Scores (PRED) and truth (TRUTH, or columns of PRED) joined by id.\n"
"\n"
"Columns:\n"
"      --id-col NAME        id column of both tables [id]\n"
"      --score-col A[,B..]  score columns [all of PRED but id and label columns]\n"
"      --label-col A[,B..]  truth columns [all of TRUTH but id]\n"
"      --task T             binary, multiclass or multilabel [from the columns:\n"
"                           one label and one score column: binary; one label\n"
"                           and several score columns: multiclass, labels name\n"
"                           the score columns; several label columns: multilabel]\n"
"      --pos-label L        truth value of the positive class [labels are 0/1]\n"
"Metrics:\n"
"      --threshold T        predict positive when score >= T [0.5]\n"
"      --average A          binary, micro, macro or weighted: P/R/F1 of a binary\n"
"                           task [binary]\n"
"      --multi-class M      ovr or ovo multiclass AUC [ovr]\n"
"      --zero-division Z    warn, 0, 1 or nan, as scikit-learn [warn]\n"
"      --ece-bins M         equal-width calibration bins [15]\n"
"      --raw-scores         scores are not probabilities: no [0,1] check, no\n"
"                           Brier, ECE or calibration plot\n"
"      --compare PRED2.tsv  a second model on the same ids: DeLong test and\n"
"                           paired bootstrap differences\n"
"Risk (mg-score risk):\n"
"      --time-col NAME      follow-up time column (TRUTH): Harrell's C\n"
"      --event-col NAME     event indicator column (TRUTH) [the label column]\n"
"      --sd-controls        standardise the score by the SD of controls only\n"
"      --ddof D             0 or 1 for the SD [1]\n"
"Intervals and output:\n"
"      --bootstrap B        bootstrap replicates (percentile intervals) [0]\n"
"      --seed S             bootstrap seed [1]\n"
"      --alpha A            1 - confidence level [0.05]\n"
"      --json FILE          all results as JSON\n"
"      --plot DIR           ROC (with CI band), precision-recall and calibration\n"
"                           SVG plots\n"
"  -o, --output FILE        the table [stdout]\n"
"  -@, --threads N          bootstrap threads [1]; results do not depend on N\n"
"  -q, --quiet              no warnings\n"
"  -v, --verbose            timings on stderr\n"
"      --no-version         no version in the JSON\n"
"  -h, --help               this help\n"
"      --version            print the version\n";

enum {
    O_ID = MG_OPT_FIRST_OWN, O_SCORE, O_LABEL, O_TASK, O_POS, O_THR, O_AVG, O_MC,
    O_ZD, O_BINS, O_RAW, O_CMP, O_BOOT, O_SEED, O_ALPHA, O_JSON, O_PLOT,
    O_TIME, O_EVENT, O_SDCTRL, O_DDOF,
    O_TOKENIZE, O_CHEX, O_RADGRAPH, O_UNCERTAIN, O_HYPCOL, O_REFCOL, O_QCOL, O_TYPECOL,
    O_COMPAT
};

typedef struct {
    const char *id_col, *score_cols, *label_cols, *pos_label, *compare;
    const char *json, *plot, *time_col, *event_col;
    int task;             /* -1 auto */
    double threshold, alpha;
    int average, multi_class, zero_division, ece_bins, raw;
    long bootstrap;
    unsigned long long seed;
    int sd_controls, ddof;
} clf_opts;

/* ---------------- small helpers ---------------- */

static json_t *jnum(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static int split_list(char *s, char ***out)
{
    int n = 1;
    for (char *p = s; *p; p++) n += *p == ',';
    char **v = malloc((size_t)n * sizeof *v);
    if (!v) return -1;
    int k = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) v[k++] = tok;
    *out = v;
    return k;
}

static void print_value(FILE *f, double x)
{
    if (isnan(x)) fprintf(f, " %12s", "nan");
    else if (isinf(x)) fprintf(f, " %12s", x > 0 ? "inf" : "-inf");
    else fprintf(f, " %12.6f", x);
}

/* ---------------- data set ---------------- */

typedef struct {
    mg_tsv pred, truth, pred2;
    int has_truth;
    size_t n;             /* analysed cases */
    int k;                /* score columns */
    int task;
    char **score_names;   /* k (pointers into pred header) */
    double *s, *s2;       /* k*n */
    uint8_t *y;           /* binary: n; multilabel: k*n */
    int *cls;             /* multiclass */
    size_t *row;          /* pred row of each case */
    ssize_t *trow;        /* truth row of each case */
    const mg_tsv *lt;     /* table holding the labels */
    int *label_col;       /* label column indices in lt */
    int nlabel;
} dataset;

static void dataset_free(dataset *d)
{
    mg_tsv_free(&d->pred); mg_tsv_free(&d->truth); mg_tsv_free(&d->pred2);
    free(d->score_names); free(d->s); free(d->s2); free(d->y); free(d->cls);
    free(d->row); free(d->trow); free(d->label_col);
}

static int parse_label01(const char *v, uint8_t *out)
{
    double x;
    if (mg_parse_number(v, &x) < 0 || (x != 0 && x != 1)) return -1;
    *out = x == 1;
    return 0;
}

/* Read scores of column c for the analysed rows of table t (rows[i]). */
static int read_scores(const mg_cli *cli, const char *file, const mg_tsv *t, int c,
                       const size_t *rows, size_t n, double *out, int check01, int idc)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = mg_tsv_cell(t, rows[i], c);
        if (mg_parse_number(v, &out[i]) < 0) {
            mg_error(cli, file, "id %s: score '%s' in column %s is not a number",
                     mg_tsv_cell(t, rows[i], idc), v, t->colname[c]);
            return -1;
        }
        if (check01 && (out[i] < 0 || out[i] > 1)) {
            mg_error(cli, file, "id %s: score %s in column %s is outside [0,1] "
                     "(--raw-scores for scores that are not probabilities)",
                     mg_tsv_cell(t, rows[i], idc), v, t->colname[c]);
            return -1;
        }
    }
    return 0;
}

static int load_dataset(const mg_cli *cli, const clf_opts *o, const char *pred_path,
                        const char *truth_path, dataset *d)
{
    char err[512];
    char **scols = NULL, **lcols = NULL;
    char *sbuf = NULL, *lbuf = NULL;
    int ns = 0, nl = 0, rc = -1;
    ssize_t *match = NULL;
    memset(d, 0, sizeof *d);
    if (mg_tsv_read(pred_path, &d->pred, err, sizeof err) < 0) {
        mg_error(cli, pred_path, "%s", err);
        return -1;
    }
    int pid = mg_tsv_col(&d->pred, o->id_col);
    if (pid < 0) { mg_error(cli, pred_path, "no id column '%s'", o->id_col); return -1; }
    d->has_truth = truth_path != NULL;
    const char *lfile = pred_path;
    int tid = pid;
    if (d->has_truth) {
        if (mg_tsv_read(truth_path, &d->truth, err, sizeof err) < 0) {
            mg_error(cli, truth_path, "%s", err);
            return -1;
        }
        tid = mg_tsv_col(&d->truth, o->id_col);
        if (tid < 0) { mg_error(cli, truth_path, "no id column '%s'", o->id_col); return -1; }
        lfile = truth_path;
    }
    d->lt = d->has_truth ? &d->truth : &d->pred;
    /* label columns */
    if (o->label_cols) {
        lbuf = strdup(o->label_cols);
        if (!lbuf || (nl = split_list(lbuf, &lcols)) < 0) goto nomem;
    } else if (d->has_truth) {
        lcols = malloc((size_t)d->truth.ncol * sizeof *lcols);
        if (!lcols) goto nomem;
        for (int c = 0; c < d->truth.ncol; c++)
            if (c != tid) lcols[nl++] = d->truth.colname[c];
    } else {
        mg_error(cli, pred_path, "no TRUTH table: name the truth columns with --label-col");
        goto done;
    }
    if (nl == 0) { mg_error(cli, lfile, "no label column"); goto done; }
    d->nlabel = nl;
    d->label_col = malloc((size_t)nl * sizeof *d->label_col);
    if (!d->label_col) goto nomem;
    for (int j = 0; j < nl; j++) {
        d->label_col[j] = mg_tsv_col(d->lt, lcols[j]);
        if (d->label_col[j] < 0) { mg_error(cli, lfile, "no label column '%s'", lcols[j]); goto done; }
    }
    /* score columns */
    if (o->score_cols) {
        sbuf = strdup(o->score_cols);
        if (!sbuf || (ns = split_list(sbuf, &scols)) < 0) goto nomem;
    } else {
        scols = malloc((size_t)d->pred.ncol * sizeof *scols);
        if (!scols) goto nomem;
        for (int c = 0; c < d->pred.ncol; c++) {
            if (c == pid) continue;
            int is_label = 0;
            if (!d->has_truth)
                for (int j = 0; j < nl; j++) is_label |= d->label_col[j] == c;
            if (!is_label) scols[ns++] = d->pred.colname[c];
        }
    }
    if (ns == 0) { mg_error(cli, pred_path, "no score column"); goto done; }
    d->k = ns;
    d->score_names = malloc((size_t)ns * sizeof *d->score_names);
    if (!d->score_names) goto nomem;
    int *sc = malloc((size_t)ns * sizeof *sc);
    if (!sc) goto nomem;
    for (int j = 0; j < ns; j++) {
        sc[j] = mg_tsv_col(&d->pred, scols[j]);
        if (sc[j] < 0) { mg_error(cli, pred_path, "no score column '%s'", scols[j]); free(sc); goto done; }
        d->score_names[j] = d->pred.colname[sc[j]];
    }
    /* task */
    d->task = o->task;
    if (d->task < 0)
        d->task = nl > 1 ? MG_TASK_MULTILABEL : ns == 1 ? MG_TASK_BINARY : MG_TASK_MULTICLASS;
    if ((d->task == MG_TASK_BINARY && (ns != 1 || nl != 1)) ||
        (d->task == MG_TASK_MULTICLASS && (nl != 1 || ns < 2)) ||
        (d->task == MG_TASK_MULTILABEL && nl != ns)) {
        mg_error(cli, pred_path, "%d score and %d label columns do not fit a %s task", ns, nl,
                 d->task == MG_TASK_BINARY ? "binary" : d->task == MG_TASK_MULTICLASS ? "multiclass" : "multilabel");
        free(sc);
        goto done;
    }
    /* join */
    d->row = malloc(d->pred.nrow * sizeof *d->row);
    d->trow = malloc(d->pred.nrow * sizeof *d->trow);
    if (!d->row || !d->trow) { free(sc); goto nomem; }
    if (d->has_truth) {
        match = malloc(d->pred.nrow * sizeof *match);
        if (!match) { free(sc); goto nomem; }
        size_t a_only, b_only;
        const char *fa, *fb;
        char side = 0;
        int jr = mg_tsv_join(&d->pred, pid, &d->truth, tid, match, &a_only, &b_only, &fa, &fb,
                             &side, err, sizeof err);
        if (jr == -2) { mg_error(cli, side == 'a' ? pred_path : truth_path, "%s", err); free(sc); goto done; }
        if (jr < 0) { free(sc); goto nomem; }
        if (a_only) mg_warn(cli, pred_path, "%zu id(s) not in the truth table (first: %s); left out", a_only, fa);
        if (b_only) mg_warn(cli, truth_path, "%zu id(s) without a prediction (first: %s); left out", b_only, fb);
        for (size_t r = 0; r < d->pred.nrow; r++)
            if (match[r] >= 0) { d->row[d->n] = r; d->trow[d->n] = match[r]; d->n++; }
        if (d->n == 0) { mg_error(cli, truth_path, "no id in common with %s", pred_path); free(sc); goto done; }
    } else {
        /* duplicates still matter without a join */
        ssize_t *m2 = malloc(d->pred.nrow * sizeof *m2);
        if (!m2) { free(sc); goto nomem; }
        size_t a_only, b_only;
        char side = 0;
        int jr = mg_tsv_join(&d->pred, pid, &d->pred, pid, m2, &a_only, &b_only, NULL, NULL,
                             &side, err, sizeof err);
        free(m2);
        if (jr == -2) { mg_error(cli, pred_path, "%s", err); free(sc); goto done; }
        if (jr < 0) { free(sc); goto nomem; }
        for (size_t r = 0; r < d->pred.nrow; r++) { d->row[d->n] = r; d->trow[d->n] = (ssize_t)r; d->n++; }
    }
    size_t n = d->n;
    d->s = malloc((size_t)ns * n * sizeof *d->s);
    if (!d->s) { free(sc); goto nomem; }
    for (int j = 0; j < ns; j++)
        if (read_scores(cli, pred_path, &d->pred, sc[j], d->row, n, d->s + (size_t)j * n, !o->raw, pid) < 0) {
            free(sc);
            goto done;
        }
    free(sc);
    /* truth */
    int lid = d->has_truth ? tid : pid;
    if (d->task == MG_TASK_MULTICLASS) {
        d->cls = malloc(n * sizeof *d->cls);
        if (!d->cls) goto nomem;
        for (size_t i = 0; i < n; i++) {
            const char *v = mg_tsv_cell(d->lt, (size_t)d->trow[i], d->label_col[0]);
            int c = -1;
            for (int j = 0; j < ns && c < 0; j++) if (!strcmp(v, d->score_names[j])) c = j;
            if (c < 0) {
                mg_error(cli, lfile, "id %s: label '%s' names no score column",
                         mg_tsv_cell(d->lt, (size_t)d->trow[i], lid), v);
                goto done;
            }
            d->cls[i] = c;
        }
        if (!o->raw)
            for (size_t i = 0; i < n; i++) {
                double sum = 0;
                for (int j = 0; j < ns; j++) sum += d->s[(size_t)j * n + i];
                /* numpy.allclose(1, sum), as sklearn's multiclass roc_auc_score */
                if (!(fabs(1 - sum) <= 1e-8 + 1e-5 * fabs(sum))) {
                    mg_error(cli, pred_path, "id %s: multiclass scores sum to %.17g, not 1 "
                             "(--raw-scores to skip probability checks)",
                             mg_tsv_cell(&d->pred, d->row[i], pid), sum);
                    goto done;
                }
            }
    } else {
        d->y = malloc((size_t)nl * n);
        if (!d->y) goto nomem;
        for (int j = 0; j < nl; j++) {
            /* multilabel: label column matching a score column's name, else by position */
            int lc = d->label_col[j], dst = j;
            if (d->task == MG_TASK_MULTILABEL) {
                int named = 1;
                for (int a = 0; a < nl && named; a++) {
                    int f = 0;
                    for (int b = 0; b < ns; b++) f |= !strcmp(d->lt->colname[d->label_col[a]], d->score_names[b]);
                    named = f;
                }
                if (named)
                    for (int b = 0; b < ns; b++)
                        if (!strcmp(d->lt->colname[lc], d->score_names[b])) dst = b;
            }
            for (size_t i = 0; i < n; i++) {
                const char *v = mg_tsv_cell(d->lt, (size_t)d->trow[i], lc);
                uint8_t *yy = d->y + (size_t)dst * n + i;
                if (o->pos_label) *yy = !strcmp(v, o->pos_label);
                else if (parse_label01(v, yy) < 0) {
                    mg_error(cli, lfile, "id %s: label '%s' in column %s is not 0 or 1 (--pos-label)",
                             mg_tsv_cell(d->lt, (size_t)d->trow[i], lid), v, d->lt->colname[lc]);
                    goto done;
                }
            }
        }
    }
    rc = 0;
    goto done;
nomem:
    mg_error(cli, NULL, "out of memory");
done:
    free(scols); free(lcols); free(sbuf); free(lbuf); free(match);
    return rc;
}

/* Scores of a second prediction table for the cases of d, same columns. */
static int load_compare(const mg_cli *cli, const clf_opts *o, const char *path, dataset *d)
{
    char err[512];
    if (mg_tsv_read(path, &d->pred2, err, sizeof err) < 0) { mg_error(cli, path, "%s", err); return -1; }
    int id2 = mg_tsv_col(&d->pred2, o->id_col);
    if (id2 < 0) { mg_error(cli, path, "no id column '%s'", o->id_col); return -1; }
    int pid = mg_tsv_col(&d->pred, o->id_col);
    ssize_t *match = malloc(d->pred.nrow * sizeof *match);
    size_t *rows = malloc(d->n * sizeof *rows);
    d->s2 = malloc((size_t)d->k * d->n * sizeof *d->s2);
    int rc = -1;
    if (!match || !rows || !d->s2) { mg_error(cli, NULL, "out of memory"); goto done; }
    size_t a_only, b_only;
    char side = 0;
    int jr = mg_tsv_join(&d->pred, pid, &d->pred2, id2, match, &a_only, &b_only, NULL, NULL, &side, err, sizeof err);
    if (jr == -2) { mg_error(cli, path, "%s", err); goto done; }
    if (jr < 0) { mg_error(cli, NULL, "out of memory"); goto done; }
    for (size_t i = 0; i < d->n; i++) {
        ssize_t r = match[d->row[i]];
        if (r < 0) {
            mg_error(cli, path, "id %s has no prediction in the compared table",
                     mg_tsv_cell(&d->pred, d->row[i], pid));
            goto done;
        }
        rows[i] = (size_t)r;
    }
    for (int j = 0; j < d->k; j++) {
        int c = mg_tsv_col(&d->pred2, d->score_names[j]);
        if (c < 0) { mg_error(cli, path, "no score column '%s'", d->score_names[j]); goto done; }
        if (read_scores(cli, path, &d->pred2, c, rows, d->n, d->s2 + (size_t)j * d->n, !o->raw, id2) < 0)
            goto done;
    }
    rc = 0;
done:
    free(match); free(rows);
    return rc;
}

/* ---------------- bootstrap glue ---------------- */

typedef struct {
    const mg_clf *a, *b;   /* b: compared model (paired) or NULL */
    const mg_risk *risk;   /* extra risk metrics or NULL */
    int na, nr;
} boot_ctx;

static int boot_stat(void *vctx, const double *w, double *out)
{
    boot_ctx *c = vctx;
    if (!mg_clf_replicate_ok(c->a, w)) return 1;
    if (mg_clf_compute(c->a, w, out) < 0) return -1;
    int o = c->na;
    if (c->risk) {
        if (mg_risk_compute(c->risk, w, out + o) < 0) return -1;
        o += c->nr;
    }
    if (c->b && mg_clf_compute(c->b, w, out + o) < 0) return -1;
    return 0;
}

static int parse_task(const char *s)
{
    if (!strcmp(s, "binary")) return MG_TASK_BINARY;
    if (!strcmp(s, "multiclass")) return MG_TASK_MULTICLASS;
    if (!strcmp(s, "multilabel")) return MG_TASK_MULTILABEL;
    return -2;
}

static const char *task_name(int t)
{
    return t == MG_TASK_BINARY ? "binary" : t == MG_TASK_MULTICLASS ? "multiclass" : "multilabel";
}

static json_t *metric_obj(double v, double lo, double hi, int have_ci)
{
    json_t *m = json_object();
    json_object_set_new(m, "value", jnum(v));
    if (have_ci) {
        json_object_set_new(m, "ci_low", jnum(lo));
        json_object_set_new(m, "ci_high", jnum(hi));
    }
    return m;
}

static int write_json(const mg_cli *cli, const char *path, json_t *root)
{
    char err[256];
    mg_outfile *f = mg_outfile_open(path, err, sizeof err);
    if (!f) { mg_error(cli, path, "%s", err); return -1; }
    int ok = json_dumpf(root, mg_outfile_fp(f), JSON_INDENT(2)) == 0 &&
             fputc('\n', mg_outfile_fp(f)) != EOF;
    if (mg_outfile_close(f, ok, err, sizeof err) < 0 || !ok) {
        mg_error(cli, path, "write failed%s%s", err[0] ? ": " : "", err);
        return -1;
    }
    return 0;
}

/* The readable table: every entry of "metrics" (value and interval), then the
 * DeLong, Youden and comparison sections. */
static int write_table(const mg_cli *cli, json_t *root)
{
    char err[256];
    mg_outfile *f = mg_outfile_open(cli->output, err, sizeof err);
    if (!f) { mg_error(cli, cli->output, "%s", err); return -1; }
    FILE *fp = mg_outfile_fp(f);
    const char *key;
    json_t *v;
    fprintf(fp, "# mg-score %s: %s task, %lld cases\n",
            json_string_value(json_object_get(root, "command")),
            json_string_value(json_object_get(root, "task")) ? json_string_value(json_object_get(root, "task")) : "-",
            (long long)json_integer_value(json_object_get(root, "n")));
    json_t *bs = json_object_get(root, "bootstrap");
    if (bs)
        fprintf(fp, "# bootstrap: %lld replicates, seed %llu, %lld skipped; %g%% percentile intervals\n",
                (long long)json_integer_value(json_object_get(bs, "replicates")),
                (unsigned long long)json_integer_value(json_object_get(bs, "seed")),
                (long long)json_integer_value(json_object_get(bs, "skipped")),
                100 * (1 - json_real_value(json_object_get(bs, "alpha"))));
    fprintf(fp, "%-28s %12s %12s %12s\n", "metric", "value", "ci_low", "ci_high");
    json_object_foreach(json_object_get(root, "metrics"), key, v) {
        fprintf(fp, "%-28s", key);
        json_t *lo = json_object_get(v, "ci_low"), *hi = json_object_get(v, "ci_high");
        json_t *x = json_object_get(v, "value");
        print_value(fp, json_is_real(x) ? json_real_value(x) : NAN);
        if (lo) {
            print_value(fp, json_is_real(lo) ? json_real_value(lo) : NAN);
            print_value(fp, json_is_real(hi) ? json_real_value(hi) : NAN);
        }
        fputc('\n', fp);
    }
    json_t *dl = json_object_get(root, "delong");
    if (dl) {
        fprintf(fp, "%-28s", "auc_delong");
        print_value(fp, json_real_value(json_object_get(dl, "auc")));
        json_t *lo = json_object_get(dl, "ci_low"), *hi = json_object_get(dl, "ci_high");
        print_value(fp, json_is_real(lo) ? json_real_value(lo) : NAN);
        print_value(fp, json_is_real(hi) ? json_real_value(hi) : NAN);
        fprintf(fp, "   se %.6f\n", json_real_value(json_object_get(dl, "se")));
    }
    json_t *lg = json_object_get(root, "logistic");
    if (lg) {
        fprintf(fp, "%-28s", "or_per_sd_wald");
        print_value(fp, exp(json_real_value(json_object_get(lg, "beta"))));
        print_value(fp, json_real_value(json_object_get(lg, "or_per_sd_ci_low")));
        print_value(fp, json_real_value(json_object_get(lg, "or_per_sd_ci_high")));
        fputc('\n', fp);
    }
    json_t *yd = json_object_get(root, "youden");
    if (yd)
        fprintf(fp, "youden: threshold %.6g, sensitivity %.6f, specificity %.6f, J %.6f\n",
                json_real_value(json_object_get(yd, "threshold")),
                json_real_value(json_object_get(yd, "sensitivity")),
                json_real_value(json_object_get(yd, "specificity")),
                json_real_value(json_object_get(yd, "j")));
    json_t *pc = json_object_get(root, "per_class");
    if (pc && json_array_size(pc) > 0) {
        fprintf(fp, "\n%-20s %10s %10s %10s %10s %10s %10s\n", "label", "support", "auc", "ap",
                "precision", "recall", "f1");
        size_t i;
        json_array_foreach(pc, i, v) {
            fprintf(fp, "%-20s %10.0f", json_string_value(json_object_get(v, "label")),
                    json_number_value(json_object_get(v, "support")));
            const char *ks[] = { "auc", "average_precision", "precision", "recall", "f1" };
            for (int q = 0; q < 5; q++) {
                json_t *x = json_object_get(v, ks[q]);
                if (json_is_real(x)) fprintf(fp, " %10.6f", json_real_value(x));
                else fprintf(fp, " %10s", "nan");
            }
            fputc('\n', fp);
        }
    }
    json_t *cm = json_object_get(root, "confusion_matrix");
    if (cm && json_object_get(cm, "matrix")) {
        json_t *labels = json_object_get(cm, "labels"), *mat = json_object_get(cm, "matrix");
        fprintf(fp, "\nconfusion matrix (rows true, columns predicted)\n%-20s", "");
        size_t i, jx;
        json_array_foreach(labels, i, v) fprintf(fp, " %10.10s", json_string_value(v));
        fputc('\n', fp);
        json_array_foreach(mat, i, v) {
            fprintf(fp, "%-20.20s", json_string_value(json_array_get(labels, i)));
            json_t *e;
            json_array_foreach(v, jx, e) fprintf(fp, " %10.0f", json_number_value(e));
            fputc('\n', fp);
        }
    }
    json_t *cmp = json_object_get(root, "comparison");
    if (cmp) {
        json_t *d2 = json_object_get(cmp, "delong");
        if (d2)
            fprintf(fp, "\nDeLong test: AUC %.6f vs %.6f, difference %.6f, z %.4f, p %.4g\n",
                    json_real_value(json_object_get(d2, "auc_a")), json_real_value(json_object_get(d2, "auc_b")),
                    json_real_value(json_object_get(d2, "difference")), json_real_value(json_object_get(d2, "z")),
                    json_real_value(json_object_get(d2, "p")));
        json_t *bd = json_object_get(cmp, "bootstrap");
        if (bd) {
            fprintf(fp, "\npaired bootstrap, model A - model B\n%-28s %12s %12s %12s\n", "metric", "difference", "ci_low", "ci_high");
            json_object_foreach(bd, key, v) {
                fprintf(fp, "%-28s", key);
                const char *ks[] = { "difference", "ci_low", "ci_high" };
                for (int q = 0; q < 3; q++) {
                    json_t *x = json_object_get(v, ks[q]);
                    print_value(fp, json_is_real(x) ? json_real_value(x) : NAN);
                }
                fputc('\n', fp);
            }
        }
    }
    int ok = !ferror(fp);
    if (mg_outfile_close(f, ok, err, sizeof err) < 0 || !ok) {
        mg_error(cli, cli->output, "write failed%s%s", err[0] ? ": " : "", err);
        return -1;
    }
    return 0;
}

static int parse_choice(const char *arg, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) if (!strcmp(arg, names[i])) return i;
    return -1;
}

/* ---------------- classify / risk ---------------- */

static int main_classify(int argc, char **argv, int is_risk)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_classify;
    clf_opts o = { .id_col = "id", .task = -1, .threshold = 0.5, .alpha = 0.05,
                   .average = MG_AVG_BINARY, .multi_class = MG_OVR, .zero_division = MG_ZD_WARN,
                   .ece_bins = 15, .seed = 1, .ddof = 1 };
    static const struct option own[] = {
        { "id-col", required_argument, 0, O_ID }, { "score-col", required_argument, 0, O_SCORE },
        { "label-col", required_argument, 0, O_LABEL }, { "task", required_argument, 0, O_TASK },
        { "pos-label", required_argument, 0, O_POS }, { "threshold", required_argument, 0, O_THR },
        { "average", required_argument, 0, O_AVG }, { "multi-class", required_argument, 0, O_MC },
        { "zero-division", required_argument, 0, O_ZD }, { "ece-bins", required_argument, 0, O_BINS },
        { "raw-scores", no_argument, 0, O_RAW }, { "compare", required_argument, 0, O_CMP },
        { "bootstrap", required_argument, 0, O_BOOT }, { "seed", required_argument, 0, O_SEED },
        { "alpha", required_argument, 0, O_ALPHA }, { "json", required_argument, 0, O_JSON },
        { "plot", required_argument, 0, O_PLOT }, { "time-col", required_argument, 0, O_TIME },
        { "event-col", required_argument, 0, O_EVENT }, { "sd-controls", no_argument, 0, O_SDCTRL },
        { "ddof", required_argument, 0, O_DDOF }, { 0, 0, 0, 0 }
    };
    static const char *const avg_names[] = { "binary", "micro", "macro", "weighted" };
    static const char *const zd_names[] = { "warn", "0", "1", "nan" };
    static const char *const mc_names[] = { "ovr", "ovo" };
    struct option *lo = mg_cli_long_options(own);
    int c, st = 1;
    long lv;
    json_t *root = NULL;
    dataset d;
    memset(&d, 0, sizeof d);
    mg_clf A, B;
    memset(&A, 0, sizeof A); memset(&B, 0, sizeof B);
    mg_risk R;
    memset(&R, 0, sizeof R);
    double *res = NULL, *vals = NULL, *vals_b = NULL;
    opterr = 0;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT, lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: free(lo); mg_cli_free(&cli); return 0;
        case MG_CLI_USAGE: free(lo); mg_cli_free(&cli); return 2;
        default: break;
        }
        switch (c) {
        case O_ID: o.id_col = optarg; break;
        case O_SCORE: o.score_cols = optarg; break;
        case O_LABEL: o.label_cols = optarg; break;
        case O_TASK:
            if ((o.task = parse_task(optarg)) < -1) { mg_usage_error(&cli, "--task: binary, multiclass or multilabel"); goto usage; }
            break;
        case O_POS: o.pos_label = optarg; break;
        case O_THR:
            if (mg_parse_double(optarg, &o.threshold) < 0) { mg_usage_error(&cli, "--threshold: not a number"); goto usage; }
            break;
        case O_AVG:
            if ((o.average = parse_choice(optarg, avg_names, 4)) < 0) { mg_usage_error(&cli, "--average: binary, micro, macro or weighted"); goto usage; }
            break;
        case O_MC:
            if ((o.multi_class = parse_choice(optarg, mc_names, 2)) < 0) { mg_usage_error(&cli, "--multi-class: ovr or ovo"); goto usage; }
            break;
        case O_ZD:
            if ((o.zero_division = parse_choice(optarg, zd_names, 4)) < 0) { mg_usage_error(&cli, "--zero-division: warn, 0, 1 or nan"); goto usage; }
            break;
        case O_BINS:
            if (mg_parse_long(optarg, 1, 100000, &lv) < 0) { mg_usage_error(&cli, "--ece-bins: an integer in [1,100000]"); goto usage; }
            o.ece_bins = (int)lv;
            break;
        case O_RAW: o.raw = 1; break;
        case O_CMP: o.compare = optarg; break;
        case O_BOOT:
            if (mg_parse_long(optarg, 0, 100000000, &o.bootstrap) < 0) { mg_usage_error(&cli, "--bootstrap: a count >= 0"); goto usage; }
            break;
        case O_SEED: {
            char *e;
            errno = 0;
            o.seed = strtoull(optarg, &e, 10);
            if (*e || e == optarg || errno || optarg[0] == '-') { mg_usage_error(&cli, "--seed: an integer in [0, 2^64)"); goto usage; }
            break;
        }
        case O_ALPHA:
            if (mg_parse_double(optarg, &o.alpha) < 0 || !(o.alpha > 0 && o.alpha < 1)) { mg_usage_error(&cli, "--alpha: a number in (0,1)"); goto usage; }
            break;
        case O_JSON: o.json = optarg; break;
        case O_PLOT: o.plot = optarg; break;
        case O_TIME: o.time_col = optarg; break;
        case O_EVENT: o.event_col = optarg; break;
        case O_SDCTRL: o.sd_controls = 1; break;
        case O_DDOF:
            if (mg_parse_long(optarg, 0, 1, &lv) < 0) { mg_usage_error(&cli, "--ddof: 0 or 1"); goto usage; }
            o.ddof = (int)lv;
            break;
        default:
            mg_usage_error(&cli, "unknown option '%s'", argv[optind - 1]);
            goto usage;
        }
    }
    if (argc - optind < 1 || argc - optind > 2) { mg_usage_error(&cli, "expected PRED.tsv [TRUTH.tsv]"); goto usage; }
    if (cli.threads < 1) cli.threads = 1;
    const char *pred_path = argv[optind], *truth_path = argc - optind == 2 ? argv[optind + 1] : NULL;

    if (load_dataset(&cli, &o, pred_path, truth_path, &d) < 0) goto done;
    if (is_risk && d.task != MG_TASK_BINARY) { mg_error(&cli, pred_path, "risk needs one score and one 0/1 label column"); goto done; }
    if (o.compare && load_compare(&cli, &o, o.compare, &d) < 0) goto done;
    size_t n = d.n;
    A.task = d.task; A.n = n; A.k = d.k; A.s = d.s; A.threshold = o.threshold;
    A.zero_division = o.zero_division; A.average = d.task == MG_TASK_BINARY ? o.average : MG_AVG_MACRO;
    A.multi_class = o.multi_class; A.ece_bins = o.ece_bins; A.probabilities = !o.raw;
    if (mg_clf_init(&A, d.y, d.cls) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
    if (o.compare) {
        B = A;
        B.s = d.s2;
        if (mg_clf_init(&B, d.y, d.cls) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    if (is_risk) {
        mg_risk_opts ro = { .sd_controls = o.sd_controls, .ddof = o.ddof, .z = mg_norm_ppf(1 - o.alpha / 2) };
        double *time = NULL;
        uint8_t *event = NULL;
        if (o.time_col) {
            int tc = mg_tsv_col(d.lt, o.time_col);
            int ec = o.event_col ? mg_tsv_col(d.lt, o.event_col) : d.label_col[0];
            const char *lf = d.has_truth ? truth_path : pred_path;
            if (tc < 0) { mg_error(&cli, lf, "no time column '%s'", o.time_col); goto done; }
            if (ec < 0) { mg_error(&cli, lf, "no event column '%s'", o.event_col); goto done; }
            time = malloc(n * sizeof *time);
            event = malloc(n);
            if (!time || !event) { free(time); free(event); mg_error(&cli, NULL, "out of memory"); goto done; }
            for (size_t i = 0; i < n; i++) {
                const char *tv = mg_tsv_cell(d.lt, (size_t)d.trow[i], tc);
                const char *ev = mg_tsv_cell(d.lt, (size_t)d.trow[i], ec);
                if (mg_parse_number(tv, &time[i]) < 0 || parse_label01(ev, &event[i]) < 0) {
                    mg_error(&cli, lf, "id %s: time '%s' or event '%s' is not a number / 0 or 1",
                             mg_tsv_cell(d.lt, (size_t)d.trow[i], mg_tsv_col(d.lt, o.id_col)), tv, ev);
                    free(time); free(event);
                    goto done;
                }
            }
        }
        int rr = mg_risk_init(&R, d.s, d.y, time, event, n, &ro);
        free(time); free(event);
        if (rr < 0) { mg_error(&cli, pred_path, "risk model: %s", R.error[0] ? R.error : "out of memory"); goto done; }
    }

    /* ---- full-data metrics ---- */
    int na = A.nmetrics, nr = is_risk ? R.nmetrics : 0;
    vals = malloc((size_t)(na + nr) * sizeof *vals);
    vals_b = malloc((size_t)(na > 0 ? na : 1) * sizeof *vals_b);
    if (!vals || !vals_b || mg_clf_compute(&A, NULL, vals) < 0 ||
        (is_risk && mg_risk_compute(&R, NULL, vals + na) < 0) ||
        (o.compare && mg_clf_compute(&B, NULL, vals_b) < 0)) {
        mg_error(&cli, NULL, "out of memory");
        goto done;
    }
    /* sklearn-style warnings */
    for (int j = 0; j < d.k; j++) {
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) pos += A.y[(size_t)j * n + i];
        const char *nm = d.task == MG_TASK_BINARY ? "truth" : d.score_names[j];
        if (pos == 0 || pos == n) {
            if (d.task == MG_TASK_MULTICLASS && pos == 0)
                mg_warn(&cli, truth_path ? truth_path : pred_path, "class %s is absent from the truth: its one-vs-rest AUC is undefined (NaN)", nm);
            else if (d.task != MG_TASK_MULTICLASS)
                mg_warn(&cli, truth_path ? truth_path : pred_path, "only one class present in %s: AUC is undefined (NaN)%s", nm,
                        pos == 0 ? ", average precision 0" : "");
        }
    }

    /* ---- bootstrap ---- */
    int nout = na + nr + (o.compare ? na : 0), nskip = 0;
    if (o.bootstrap > 0) {
        res = malloc((size_t)o.bootstrap * (size_t)nout * sizeof *res);
        if (!res) { mg_error(&cli, NULL, "out of memory"); goto done; }
        boot_ctx bc = { .a = &A, .b = o.compare ? &B : NULL, .risk = is_risk ? &R : NULL, .na = na, .nr = nr };
        if (mg_bootstrap(n, (int)o.bootstrap, o.seed, cli.threads, nout, boot_stat, &bc, res, &nskip) < 0) {
            mg_error(&cli, NULL, "bootstrap failed (out of memory)");
            goto done;
        }
        if (nskip) mg_warn(&cli, NULL, "%d of %ld bootstrap replicates skipped (a class was missing)", nskip, o.bootstrap);
        if (nskip == o.bootstrap) mg_warn(&cli, NULL, "no usable bootstrap replicate: intervals are NaN");
        if (o.compare) {
            /* paired differences A - B, in place of the B columns */
            for (long b = 0; b < o.bootstrap; b++)
                for (int j = 0; j < na; j++) {
                    double *r = res + (size_t)b * nout;
                    r[na + nr + j] = r[j] - r[na + nr + j];
                }
        }
    }

    /* ---- results ---- */
    root = json_object();
    json_object_set_new(root, "program", json_string("mg-score"));
    if (!cli.no_version) json_object_set_new(root, "version", json_string(MG_VERSION));
    json_object_set_new(root, "command", json_string(is_risk ? "risk" : "classify"));
    json_object_set_new(root, "task", json_string(task_name(d.task)));
    json_object_set_new(root, "n", json_integer((json_int_t)n));
    {
        json_t *cols = json_array();
        for (int j = 0; j < d.k; j++) json_array_append_new(cols, json_string(d.score_names[j]));
        json_object_set_new(root, "score_columns", cols);
        json_t *opt = json_object();
        json_object_set_new(opt, "threshold", json_real(o.threshold));
        json_object_set_new(opt, "average", json_string(avg_names[A.average]));
        json_object_set_new(opt, "multi_class", json_string(mc_names[o.multi_class]));
        json_object_set_new(opt, "zero_division", json_string(zd_names[o.zero_division]));
        json_object_set_new(opt, "ece_bins", json_integer(o.ece_bins));
        json_object_set_new(opt, "probabilities", json_boolean(!o.raw));
        json_object_set_new(root, "options", opt);
    }
    if (o.bootstrap > 0) {
        json_t *bs = json_object();
        json_object_set_new(bs, "replicates", json_integer(o.bootstrap));
        json_object_set_new(bs, "seed", json_integer((json_int_t)o.seed));
        json_object_set_new(bs, "skipped", json_integer(nskip));
        json_object_set_new(bs, "alpha", json_real(o.alpha));
        json_object_set_new(bs, "prng", json_string("xoshiro256** seeded by splitmix64(seed + replicate)"));
        json_object_set_new(bs, "interval", json_string("percentile, linear interpolation (Hyndman-Fan type 7)"));
        json_object_set_new(root, "bootstrap", bs);
    }
    json_t *mets = json_object();
    for (int j = 0; j < na + nr; j++) {
        double l = NAN, h = NAN;
        int used = 0;
        if (o.bootstrap > 0) mg_boot_interval(res, (int)o.bootstrap, nout, j, o.alpha, &l, &h, &used);
        const char *nm = j < na ? A.names[j] : R.names[j - na];
        json_object_set_new(mets, nm, metric_obj(vals[j], l, h, o.bootstrap > 0));
    }
    json_object_set_new(root, "metrics", mets);
    double z = mg_norm_ppf(1 - o.alpha / 2);
    if (d.task == MG_TASK_BINARY) {
        double auc, var;
        int dr = mg_delong(d.s, 1, A.y, n, &auc, &var);
        if (dr == -1) { mg_error(&cli, NULL, "out of memory"); goto done; }
        if (dr == 0) {
            json_t *dl = json_object();
            double se = sqrt(var);
            json_object_set_new(dl, "auc", jnum(auc));
            json_object_set_new(dl, "variance", jnum(var));
            json_object_set_new(dl, "se", jnum(se));
            json_object_set_new(dl, "ci_low", jnum(fmax(0, auc - z * se)));
            json_object_set_new(dl, "ci_high", jnum(fmin(1, auc + z * se)));
            json_object_set_new(root, "delong", dl);
        } else mg_warn(&cli, NULL, "DeLong variance needs at least 2 positives and 2 negatives");
        mg_youden yd;
        if (mg_youden_point(d.s, A.y, A.asc, n, &yd) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        json_t *yj = json_object();
        json_object_set_new(yj, "threshold", jnum(yd.threshold));
        json_object_set_new(yj, "sensitivity", jnum(yd.sensitivity));
        json_object_set_new(yj, "specificity", jnum(yd.specificity));
        json_object_set_new(yj, "j", jnum(yd.j));
        json_object_set_new(root, "youden", yj);
    }
    {
        int k = d.k;
        double *pcb = malloc((size_t)k * 6 * sizeof *pcb);
        double *cm = malloc((size_t)(k > 2 ? k * k : 4) * (d.task == MG_TASK_MULTILABEL ? 4 : 1) * sizeof *cm);
        if (!pcb || !cm || mg_clf_per_class(&A, pcb, pcb + k, pcb + 2 * k, pcb + 3 * k, pcb + 4 * k, pcb + 5 * k) < 0) {
            free(pcb); free(cm);
            mg_error(&cli, NULL, "out of memory");
            goto done;
        }
        mg_clf_confusion(&A, cm);
        if (d.task != MG_TASK_BINARY) {
            json_t *pc = json_array();
            for (int j = 0; j < k; j++) {
                json_t *e = json_object();
                json_object_set_new(e, "label", json_string(d.score_names[j]));
                json_object_set_new(e, "support", json_real(pcb[j]));
                json_object_set_new(e, "auc", jnum(pcb[k + j]));
                json_object_set_new(e, "average_precision", jnum(pcb[2 * k + j]));
                json_object_set_new(e, "precision", jnum(pcb[3 * k + j]));
                json_object_set_new(e, "recall", jnum(pcb[4 * k + j]));
                json_object_set_new(e, "f1", jnum(pcb[5 * k + j]));
                json_array_append_new(pc, e);
            }
            json_object_set_new(root, "per_class", pc);
        }
        json_t *cmj = json_object(), *labels = json_array(), *mat = json_array();
        if (d.task == MG_TASK_MULTILABEL) {
            for (int j = 0; j < k; j++) {
                json_array_append_new(labels, json_string(d.score_names[j]));
                json_t *m2 = json_array();
                for (int r = 0; r < 2; r++) {
                    json_t *row = json_array();
                    for (int q = 0; q < 2; q++) json_array_append_new(row, json_real(cm[j * 4 + r * 2 + q]));
                    json_array_append_new(m2, row);
                }
                json_array_append_new(mat, m2);
            }
            json_object_set_new(cmj, "labels", labels);
            json_object_set_new(cmj, "per_label", mat);
        } else {
            int kk = d.task == MG_TASK_BINARY ? 2 : k;
            for (int j = 0; j < kk; j++)
                json_array_append_new(labels, json_string(d.task == MG_TASK_BINARY ? (j ? "1" : "0") : d.score_names[j]));
            for (int r = 0; r < kk; r++) {
                json_t *row = json_array();
                for (int q = 0; q < kk; q++) json_array_append_new(row, json_real(cm[r * kk + q]));
                json_array_append_new(mat, row);
            }
            json_object_set_new(cmj, "labels", labels);
            json_object_set_new(cmj, "matrix", mat);
        }
        json_object_set_new(root, "confusion_matrix", cmj);
        free(pcb); free(cm);
    }
    if (is_risk) {
        json_t *rj = json_object();
        json_object_set_new(rj, "or_per_sd_ci_low", jnum(R.or_lo));
        json_object_set_new(rj, "or_per_sd_ci_high", jnum(R.or_hi));
        json_object_set_new(rj, "beta", jnum(R.beta));
        json_object_set_new(rj, "beta_se", jnum(R.beta_se));
        json_object_set_new(rj, "intercept", jnum(R.intercept));
        json_object_set_new(rj, "score_mean", jnum(R.mean));
        json_object_set_new(rj, "score_sd", jnum(R.sd));
        json_object_set_new(rj, "iterations", json_integer(R.iterations));
        json_object_set_new(root, "logistic", rj);
    }
    if (o.compare) {
        json_t *cmp = json_object();
        if (d.task == MG_TASK_BINARY) {
            double *s2 = malloc(2 * n * sizeof *s2), auc2[2], cov[4];
            if (!s2) { mg_error(&cli, NULL, "out of memory"); goto done; }
            memcpy(s2, d.s, n * sizeof *s2);
            memcpy(s2 + n, d.s2, n * sizeof *s2);
            int dr = mg_delong(s2, 2, A.y, n, auc2, cov);
            free(s2);
            if (dr == -1) { mg_error(&cli, NULL, "out of memory"); goto done; }
            if (dr == 0) {
                double var = cov[0] + cov[3] - 2 * cov[1], diff = auc2[0] - auc2[1];
                double zz = diff / sqrt(var);
                json_t *dj = json_object();
                json_object_set_new(dj, "auc_a", jnum(auc2[0]));
                json_object_set_new(dj, "auc_b", jnum(auc2[1]));
                json_object_set_new(dj, "difference", jnum(diff));
                json_object_set_new(dj, "variance", jnum(var));
                json_object_set_new(dj, "covariance", jnum(cov[1]));
                json_object_set_new(dj, "z", jnum(zz));
                json_object_set_new(dj, "p", jnum(var > 0 ? mg_norm_p2(zz) : NAN));
                json_object_set_new(dj, "ci_low", jnum(diff - z * sqrt(var)));
                json_object_set_new(dj, "ci_high", jnum(diff + z * sqrt(var)));
                json_object_set_new(cmp, "delong", dj);
            }
        }
        json_t *mb = json_object();
        for (int j = 0; j < na; j++) json_object_set_new(mb, B.names[j], jnum(vals_b[j]));
        json_object_set_new(cmp, "metrics_b", mb);
        if (o.bootstrap > 0) {
            json_t *bd = json_object();
            for (int j = 0; j < na; j++) {
                double l, h;
                int used;
                mg_boot_interval(res, (int)o.bootstrap, nout, na + nr + j, o.alpha, &l, &h, &used);
                json_t *e = json_object();
                json_object_set_new(e, "difference", jnum(vals[j] - vals_b[j]));
                json_object_set_new(e, "ci_low", jnum(l));
                json_object_set_new(e, "ci_high", jnum(h));
                json_object_set_new(bd, A.names[j], e);
            }
            json_object_set_new(cmp, "bootstrap", bd);
        }
        json_object_set_new(root, "comparison", cmp);
    }
    if (o.plot) {
        char err[512];
        mg_plot_data pd = { .s = d.s, .y = A.y, .asc = A.asc, .n = n, .probabilities = !o.raw,
                            .bins = o.ece_bins, .boot_b = (int)o.bootstrap, .seed = o.seed,
                            .threads = cli.threads, .alpha = o.alpha };
        if (d.task != MG_TASK_BINARY) mg_warn(&cli, NULL, "--plot draws binary tasks only; no plots written");
        else if (mg_plot_write_all(o.plot, &pd, err, sizeof err) < 0) { mg_error(&cli, o.plot, "%s", err); goto done; }
    }
    if (o.json && write_json(&cli, o.json, root) < 0) goto done;
    if (write_table(&cli, root) < 0) goto done;
    st = 0;
    goto done;
usage:
    st = 2;
done:
    json_decref(root);
    free(res); free(vals); free(vals_b);
    mg_clf_free(&A); mg_clf_free(&B); mg_risk_free(&R);
    dataset_free(&d);
    free(lo);
    if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    mg_cli_free(&cli);
    return st;
}

#include "mg-score-text.inc"

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "classify")) return main_classify(argc - 1, argv + 1, 0);
    if (argc >= 2 && !strcmp(argv[1], "risk")) return main_classify(argc - 1, argv + 1, 1);
    if (argc >= 2 && !strcmp(argv[1], "report")) return main_report(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "vqa")) return main_vqa(argc - 1, argv + 1);
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_main;
    int st = 2;
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage_main, stdout);
        st = mg_close_stdout(&cli) < 0 ? 1 : 0;
    } else if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("mg-score %s\n", MG_VERSION);
        st = mg_close_stdout(&cli) < 0 ? 1 : 0;
    } else if (argc < 2) mg_usage_error(&cli, "missing command (classify, risk, report or vqa)");
    else mg_usage_error(&cli, "unknown command '%s'", argv[1]);
    mg_cli_free(&cli);
    return st;
}

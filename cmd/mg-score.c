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
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

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
"      --ece-mode M         top-label or positive (binary: calibration of the\n"
"                           positive-class probability) [top-label]\n"
"      --raw-scores         scores are not probabilities: no [0,1] check, no\n"
"                           Brier, ECE or calibration plot\n"
"      --missing FILE       list the ids found in only one table (side<TAB>id)\n"
"      --compare PRED2.tsv  a second model on the same ids: DeLong test and\n"
"                           paired bootstrap differences\n"
"Risk (mg-score risk; scores are taken as --raw-scores):\n"
"      --probabilities      risk scores are probabilities: checks, Brier, ECE\n"
"      --time-col NAME      follow-up time column (TRUTH): Harrell's C\n"
"      --event-col NAME     event indicator column (TRUTH) [the label column]\n"
"      --covariates A[,B..] adjust the regression for these columns (TRUTH,\n"
"                           else PRED)\n"
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
"  -@, --threads N          threads for reading, joining and the bootstrap [1];\n"
"                           results do not depend on N\n"
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
    O_COMPAT, O_ECEMODE, O_SACRE, O_MISSING, O_PROB, O_COVAR, O_PERCASE
};

typedef struct {
    const char *id_col, *score_cols, *label_cols, *pos_label, *compare;
    const char *json, *plot, *time_col, *event_col, *missing, *covariates;
    int task;             /* -1 auto */
    double threshold, alpha;
    int average, multi_class, zero_division, ece_bins, ece_positive, raw;
    long bootstrap;
    unsigned long long seed;
    int sd_controls, ddof;
} clf_opts;

/* ---------------- small helpers ---------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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
    size_t pred_only, truth_only;            /* ids on one side only */
    const char *first_pred_only, *first_truth_only;
} dataset;

static void dataset_free(dataset *d)
{
    mg_tsv_free(&d->pred); mg_tsv_free(&d->truth); mg_tsv_free(&d->pred2);
    free(d->score_names); free(d->s); free(d->s2); free(d->y); free(d->cls);
    free(d->row); free(d->trow); free(d->label_col);
}

static int parse_label01(const char *v, uint8_t *out)
{
    if ((v[0] == '0' || v[0] == '1') && !v[1]) { *out = v[0] == '1'; return 0; }
    double x;
    if (mg_parse_number(v, &x) < 0 || (x != 0 && x != 1)) return -1;
    *out = x == 1;
    return 0;
}

/* Read scores of column c for the analysed rows of table t (rows[i]). */
static int read_scores(const mg_cli *cli, const char *file, const mg_tsv *t, int c,
                       const size_t *rows, size_t n, double *out, int check01, int idc)
{
    size_t bad = mg_tsv_numbers(t, c, rows, n, out, cli->pool);
    if (bad < n) {
        mg_error(cli, file, "id %s: score '%s' in column %s is not a number",
                 mg_tsv_cell(t, rows[bad], idc), mg_tsv_cell(t, rows[bad], c), t->colname[c]);
        return -1;
    }
    if (check01)
        for (size_t i = 0; i < n; i++)
            if (out[i] < 0 || out[i] > 1) {
                mg_error(cli, file, "id %s: score %s in column %s is outside [0,1] "
                         "(--raw-scores for scores that are not probabilities)",
                         mg_tsv_cell(t, rows[i], idc), mg_tsv_cell(t, rows[i], c), t->colname[c]);
                return -1;
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
    if (mg_tsv_read_mt(pred_path, cli->pool, &d->pred, err, sizeof err) < 0) {
        mg_error(cli, NULL, "%s", err);
        return -1;
    }
    int pid = mg_tsv_col(&d->pred, o->id_col);
    if (pid < 0) { mg_error(cli, pred_path, "no id column '%s'", o->id_col); return -1; }
    d->has_truth = truth_path != NULL;
    const char *lfile = pred_path;
    int tid = pid;
    if (d->has_truth) {
        if (mg_tsv_read_mt(truth_path, cli->pool, &d->truth, err, sizeof err) < 0) {
            mg_error(cli, NULL, "%s", err);
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
        mg_usage_error(cli, "no TRUTH table: name the truth columns with --label-col");
        rc = -2;
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
        int jr = mg_tsv_join(&d->pred, pid, &d->truth, tid, cli->pool, match, &a_only, &b_only, &fa, &fb,
                             &side, err, sizeof err);
        if (jr == -2) { mg_error(cli, side == 'a' ? pred_path : truth_path, "%s", err); free(sc); goto done; }
        if (jr < 0) { free(sc); goto nomem; }
        for (size_t r = 0; r < d->pred.nrow; r++)
            if (match[r] >= 0) { d->row[d->n] = r; d->trow[d->n] = match[r]; d->n++; }
        if (d->n == 0) { mg_error(cli, truth_path, "no id in common with %s", pred_path); free(sc); goto done; }
        if (o->missing) {
            /* every id on one side only: predictions first, then truth, in file order */
            mg_ofile *mf = mg_ofile_open(o->missing, NULL, err, sizeof err);
            uint8_t *used = calloc(d->truth.nrow ? d->truth.nrow : 1, 1);
            if (!mf || !used) {
                free(used);
                mg_ofile_abort(mf);
                mg_error(cli, o->missing, "%s", mf ? "out of memory" : err);
                free(sc);
                goto done;
            }
            FILE *mfp = mg_ofile_fp(mf);
            fprintf(mfp, "side\tid\n");
            for (size_t r = 0; r < d->pred.nrow; r++) {
                if (match[r] < 0) fprintf(mfp, "predictions\t%s\n", mg_tsv_cell(&d->pred, r, pid));
                else used[match[r]] = 1;
            }
            for (size_t r = 0; r < d->truth.nrow; r++)
                if (!used[r]) fprintf(mfp, "truth\t%s\n", mg_tsv_cell(&d->truth, r, tid));
            free(used);
            if (mg_ofile_close(mf, !ferror(mfp), err, sizeof err) < 0) {
                mg_error(cli, o->missing, "write failed: %s", err);
                free(sc);
                goto done;
            }
        }
        d->pred_only = a_only; d->truth_only = b_only;
        d->first_pred_only = fa; d->first_truth_only = fb;
        if (a_only) mg_warn(cli, pred_path, "%zu id(s) not in the truth table (first: %s); left out", a_only, fa);
        if (b_only) mg_warn(cli, truth_path, "%zu id(s) without a prediction (first: %s); left out", b_only, fb);
    } else {
        /* duplicates still matter without a join */
        int jr = mg_tsv_unique_mt(&d->pred, pid, cli->pool, err, sizeof err);
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
    if (mg_tsv_read_mt(path, cli->pool, &d->pred2, err, sizeof err) < 0) { mg_error(cli, NULL, "%s", err); return -1; }
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
    int jr = mg_tsv_join(&d->pred, pid, &d->pred2, id2, cli->pool, match, &a_only, &b_only, NULL, NULL, &side, err, sizeof err);
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
    mg_ofile *f = mg_ofile_open(path, NULL, err, sizeof err);
    if (!f) { mg_error(cli, path, "%s", err); return -1; }
    int ok = json_dumpf(root, mg_ofile_fp(f), JSON_INDENT(2)) == 0 &&
             fputc('\n', mg_ofile_fp(f)) != EOF;
    if (mg_ofile_close(f, ok, err, sizeof err) < 0 || !ok) {
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
    mg_ofile *f = mg_ofile_open(cli->output, NULL, err, sizeof err);
    if (!f) { mg_error(cli, cli->output, "%s", err); return -1; }
    FILE *fp = mg_ofile_fp(f);
    const char *key;
    json_t *v;
    const char *task = json_string_value(json_object_get(root, "task"));
    fprintf(fp, "# mg-score %s: %s%s%lld cases\n", json_string_value(json_object_get(root, "command")),
            task ? task : "", task ? " task, " : "", (long long)json_integer_value(json_object_get(root, "n")));
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
    if (mg_ofile_close(f, ok, err, sizeof err) < 0 || !ok) {
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
        { "ddof", required_argument, 0, O_DDOF }, { "ece-mode", required_argument, 0, O_ECEMODE },
        { "missing", required_argument, 0, O_MISSING }, { "probabilities", no_argument, 0, O_PROB },
        { "covariates", required_argument, 0, O_COVAR }, { 0, 0, 0, 0 }
    };
    static const char *const avg_names[] = { "binary", "micro", "macro", "weighted" };
    static const char *const zd_names[] = { "warn", "0", "1", "nan" };
    static const char *const mc_names[] = { "ovr", "ovo" };
    static const char *const ece_names[] = { "top-label", "positive" };
    struct option *lo = mg_cli_long_options(own);
    int c, st = 1;
    long lv;
    json_t *root = NULL;
    o.raw = is_risk; /* risk scores (e.g. polygenic) are not probabilities */
    dataset d;
    memset(&d, 0, sizeof d);
    mg_clf A, B;
    memset(&A, 0, sizeof A); memset(&B, 0, sizeof B);
    mg_risk R;
    memset(&R, 0, sizeof R);
    double *res = NULL, *vals = NULL, *vals_b = NULL;
    opterr = 0;
    int li = 0;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT, lo, &li)) >= 0) {
        if (c == '?' || c == ':') {
            mg_usage_error(&cli, "unknown option or missing value: '%s'", argv[optind - 1]);
            goto usage;
        }
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
        case O_ECEMODE:
            if ((o.ece_positive = parse_choice(optarg, ece_names, 2)) < 0) { mg_usage_error(&cli, "--ece-mode: top-label or positive"); goto usage; }
            break;
        case O_RAW: o.raw = 1; break;
        case O_MISSING: o.missing = optarg; break;
        case O_PROB: o.raw = 0; break;
        case O_COVAR: o.covariates = optarg; break;
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

    double t0 = now_s();
    int lr = load_dataset(&cli, &o, pred_path, truth_path, &d);
    if (lr == -2) goto usage;
    if (lr < 0) goto done;
    if (is_risk && d.task != MG_TASK_BINARY) { mg_error(&cli, pred_path, "risk needs one score and one 0/1 label column"); goto done; }
    if (o.compare && load_compare(&cli, &o, o.compare, &d) < 0) goto done;
    size_t n = d.n;
    A.task = d.task; A.n = n; A.k = d.k; A.s = d.s; A.threshold = o.threshold;
    A.zero_division = o.zero_division; A.average = d.task == MG_TASK_BINARY ? o.average : MG_AVG_MACRO;
    A.multi_class = o.multi_class; A.ece_bins = o.ece_bins; A.probabilities = !o.raw;
    A.ece_positive = o.ece_positive;
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
        /* covariates: columns of the truth table, else of the predictions */
        double *cov = NULL;
        int ncov = 0;
        if (o.covariates) {
            char *cbuf = strdup(o.covariates), **cn = NULL;
            ncov = cbuf ? split_list(cbuf, &cn) : -1;
            cov = ncov > 0 ? malloc((size_t)ncov * n * sizeof *cov) : NULL;
            if (ncov <= 0 || !cov) {
                free(cbuf); free(cn); free(cov); free(time); free(event);
                mg_error(&cli, NULL, ncov == 0 ? "--covariates: no column named" : "out of memory");
                goto done;
            }
            for (int j = 0; j < ncov; j++) {
                const mg_tsv *tb = d.lt;
                const size_t *rows = NULL;
                int col = mg_tsv_col(d.lt, cn[j]);
                if (col < 0 && d.has_truth) { tb = &d.pred; col = mg_tsv_col(&d.pred, cn[j]); rows = d.row; }
                const char *tf = tb == &d.pred ? pred_path : truth_path;
                if (col < 0) {
                    mg_error(&cli, d.has_truth ? truth_path : pred_path, "no covariate column '%s'", cn[j]);
                    free(cbuf); free(cn); free(cov); free(time); free(event);
                    goto done;
                }
                for (size_t i = 0; i < n; i++) {
                    size_t row = rows ? rows[i] : (size_t)d.trow[i];
                    const char *v = mg_tsv_cell(tb, row, col);
                    if (mg_parse_number(v, &cov[(size_t)j * n + i]) < 0) {
                        mg_error(&cli, tf, "id %s: covariate '%s' in column %s is not a number",
                                 mg_tsv_cell(tb, row, mg_tsv_col(tb, o.id_col)), v, cn[j]);
                        free(cbuf); free(cn); free(cov); free(time); free(event);
                        goto done;
                    }
                }
            }
            free(cbuf); free(cn);
        }
        int rr = mg_risk_init(&R, d.s, d.y, time, event, cov, ncov, n, &ro);
        free(time); free(event); free(cov);
        if (rr < 0) { mg_error(&cli, pred_path, "risk model: %s", R.error[0] ? R.error : "out of memory"); goto done; }
    }

    mg_info(&cli, "read and joined %zu cases in %.3f s", n, now_s() - t0);
    t0 = now_s();
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
    for (int j = 0; j < na + nr; j++)
        if (isinf(vals[j]))
            mg_warn(&cli, NULL, "%s is infinite (an empty cell); null in the JSON, nan in the table",
                    j < na ? A.names[j] : R.names[j - na]);
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

    mg_info(&cli, "sorted and computed the metrics in %.3f s", now_s() - t0);
    t0 = now_s();
    /* ---- bootstrap ---- */
    int nout = na + nr + (o.compare ? na : 0), nskip = 0;
    if (o.bootstrap > 0) {
        res = malloc((size_t)o.bootstrap * (size_t)nout * sizeof *res);
        if (!res) { mg_error(&cli, NULL, "out of memory"); goto done; }
        boot_ctx bc = { .a = &A, .b = o.compare ? &B : NULL, .risk = is_risk ? &R : NULL, .na = na, .nr = nr };
        if (mg_bootstrap(n, (int)o.bootstrap, o.seed, cli.pool, nout, boot_stat, &bc, res, &nskip) < 0) {
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

    if (o.bootstrap > 0) mg_info(&cli, "%ld bootstrap replicates in %.3f s", o.bootstrap, now_s() - t0);
    t0 = now_s();
    /* ---- results ---- */
    root = json_object();
    json_object_set_new(root, "program", json_string("mg-score"));
    if (!cli.no_version) {
        json_object_set_new(root, "version", json_string(MG_VERSION));
        json_object_set_new(root, "command_line", json_string(cli.cmdline ? cli.cmdline : ""));
    }
    json_object_set_new(root, "command", json_string(is_risk ? "risk" : "classify"));
    json_object_set_new(root, "task", json_string(task_name(d.task)));
    json_object_set_new(root, "n", json_integer((json_int_t)n));
    {
        json_t *ids = json_object();
        json_object_set_new(ids, "predictions_only", json_integer((json_int_t)d.pred_only));
        json_object_set_new(ids, "first_predictions_only", d.first_pred_only ? json_string(d.first_pred_only) : json_null());
        json_object_set_new(ids, "truth_only", json_integer((json_int_t)d.truth_only));
        json_object_set_new(ids, "first_truth_only", d.first_truth_only ? json_string(d.first_truth_only) : json_null());
        json_object_set_new(root, "ids", ids);
    }
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
        json_object_set_new(opt, "ece_mode", json_string(ece_names[o.ece_positive]));
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
        int dr = mg_delong_sorted(A.ss, A.sy, n, &auc, &var);
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
        mg_youden_sorted(A.ss, A.sy, n, &yd);
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
        if (!pcb || !cm || (d.task != MG_TASK_BINARY && mg_clf_per_class(&A, pcb, pcb + k, pcb + 2 * k, pcb + 3 * k, pcb + 4 * k, pcb + 5 * k) < 0)) {
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
                /* one-vs-rest DeLong interval of this column's AUC */
                double da, dv;
                if (mg_delong_sorted(A.ss + (size_t)j * n, A.sy + (size_t)j * n, n, &da, &dv) == 0) {
                    json_object_set_new(e, "auc_ci_low", jnum(fmax(0, da - z * sqrt(dv))));
                    json_object_set_new(e, "auc_ci_high", jnum(fmin(1, da + z * sqrt(dv))));
                } else {
                    json_object_set_new(e, "auc_ci_low", json_null());
                    json_object_set_new(e, "auc_ci_high", json_null());
                }
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
        json_object_set_new(rj, "covariates", json_integer(R.ncov));
        json_object_set_new(root, "logistic", rj);
    }
    if (o.compare) {
        json_t *cmp = json_object();
        if (d.task == MG_TASK_BINARY) {
            double *s2 = malloc(2 * n * sizeof *s2), auc2[2], cov[4];
            if (!s2) { mg_error(&cli, NULL, "out of memory"); goto done; }
            memcpy(s2, d.s, n * sizeof *s2);
            memcpy(s2 + n, d.s2, n * sizeof *s2);
            int dr = mg_delong(s2, 2, A.y, n, NULL, auc2, cov);
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
    mg_info(&cli, "DeLong, Youden, per-class and comparison in %.3f s", now_s() - t0);
    if (o.plot) {
        char err[512];
        mg_plot_data pd = { .s = d.s, .y = A.y, .asc = A.asc, .n = n, .k = d.k,
                            .names = (const char *const *)d.score_names, .probabilities = !o.raw,
                            .bins = o.ece_bins, .boot_b = (int)o.bootstrap, .seed = o.seed,
                            .pool = cli.pool, .alpha = o.alpha };
        if (mg_plot_write_all(o.plot, &pd, err, sizeof err) < 0) { mg_error(&cli, o.plot, "%s", err); goto done; }
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

/* ---------------- report / vqa ---------------- */

static const char usage_report[] =
"Usage: mg-score report [options] HYP.tsv REF.tsv\n"
"Generated reports (HYP) against references (REF; several rows with one id are\n"
"several references), joined by id.\n"
"\n"
"      --id-col NAME        id column [id]\n"
"      --text-col NAME      text column of both tables [text]\n"
"      --tokenize M         none, simple or ptb (see mg-score(1)) [none]\n"
"      --sacrebleu          also sacrebleu's corpus BLEU (13a tokens, exp\n"
"                           smoothing, 0-100) on the raw text\n"
"      --chexpert           HYP and REF are label tables (id + one column per\n"
"                           finding, CheXpert codes 1, 0, -1, blank): F1 over\n"
"                           all label columns and the 5 competition labels\n"
"      --uncertain M        CheXpert uncertain label: positive or negative\n"
"                           [positive]\n"
"      --label-codes C      chexpert (1 pos, 0 neg, -1 uncertain, blank) or\n"
"                           chexbert (1 pos, 2 neg, 3 uncertain, 0 blank)\n"
"                           [chexpert]\n"
"      --radgraph           HYP and REF are annotation tables (columns id, kind,\n"
"                           tokens, label, relation, tokens2, label2): entity\n"
"                           and relation F1 per report, averaged\n"
"      --per-case FILE      per-report ROUGE-L and CIDEr-D (or RadGraph F1s)\n"
"      --bootstrap B  --seed S  --alpha A  --json FILE  -o FILE  -@ N  -q\n"
"      --no-version  -h, --help  --version   as for mg-score classify\n";

static const char usage_vqa[] =
"Usage: mg-score vqa [options] PRED.tsv TRUTH.tsv\n"
"Answers (PRED) against gold answers (TRUTH; several rows with one id are\n"
"alternative answers), joined by id.\n"
"\n"
"      --id-col NAME        id column [id]\n"
"      --answer-col NAME    answer column of both tables [answer]\n"
"      --type-col NAME      question type column of TRUTH, closed or open\n"
"                           [answer_type; without it: closed when the gold\n"
"                           answer is yes or no]\n"
"      --compat M           closed-question rule: exact (normalised answers\n"
"                           equal, or a yes/no gold equal to the first word of\n"
"                           the answer) or llava-med (substring rule of\n"
"                           LLaVA-Med run_eval.py) [exact]\n"
"      --per-case FILE      per-question values\n"
"      --bootstrap B  --seed S  --alpha A  --json FILE  -o FILE  -@ N  -q\n"
"      --no-version  -h, --help  --version   as for mg-score classify\n";

typedef struct {
    const char *id_col, *text_col, *type_col, *json, *per_case;
    int tokenize, chexpert, radgraph, uncertain_pos, chexbert_codes, compat, sacrebleu;
    long bootstrap;
    unsigned long long seed;
    double alpha;
} text_opts;

/* Per-item values (n x K, NaN = not applicable) averaged under weights. */
typedef struct {
    const double *v; size_t n; int K;
    const mg_report *rep, *rep13a;   /* report metrics; sacrebleu */
    const uint8_t *lh, *lg; int L; const uint8_t *use5;
} mean_ctx;

static int mean_stat(void *vc, const double *w, double *out)
{
    const mean_ctx *c = vc;
    int o = 0;
    if (c->rep) {
        if (mg_report_compute(c->rep, w, out) < 0) return -1;
        o = MG_REPORT_NMETRICS;
    }
    if (c->rep13a) out[o++] = mg_report_sacrebleu(c->rep13a, w);
    if (c->lh) {
        mg_labels_f1(c->lh, c->lg, c->n, c->L, NULL, w, out + o);
        o += 3;
        if (c->use5) { mg_labels_f1(c->lh, c->lg, c->n, c->L, c->use5, w, out + o); o += 3; }
    }
    for (int k = 0; k < c->K; k++) {
        double s = 0, sw = 0;
        for (size_t i = 0; i < c->n; i++) {
            double x = c->v[i * (size_t)c->K + (size_t)k], wi = w ? w[i] : 1.0;
            if (isnan(x) || wi == 0) continue;
            s += wi * x; sw += wi;
        }
        out[o++] = sw > 0 ? s / sw : NAN;
    }
    return 0;
}

static int run_text_output(mg_cli *cli, const text_opts *o, const char *command, size_t n,
                           const char *const *names, int nm, const double *vals,
                           mean_ctx *mc, json_t *extra)
{
    double *res = NULL;
    int nskip = 0, st = -1;
    json_t *root = json_object();
    if (o->bootstrap > 0) {
        res = malloc((size_t)o->bootstrap * (size_t)nm * sizeof *res);
        if (!res || mg_bootstrap(n, (int)o->bootstrap, o->seed, cli->pool, nm, mean_stat, mc, res, &nskip) < 0) {
            mg_error(cli, NULL, "bootstrap failed (out of memory)");
            goto done;
        }
    }
    json_object_set_new(root, "program", json_string("mg-score"));
    if (!cli->no_version) {
        json_object_set_new(root, "version", json_string(MG_VERSION));
        json_object_set_new(root, "command_line", json_string(cli->cmdline ? cli->cmdline : ""));
    }
    json_object_set_new(root, "command", json_string(command));
    json_object_set_new(root, "n", json_integer((json_int_t)n));
    if (extra) json_object_update(root, extra);
    if (o->bootstrap > 0) {
        json_t *bs = json_object();
        json_object_set_new(bs, "replicates", json_integer(o->bootstrap));
        json_object_set_new(bs, "seed", json_integer((json_int_t)o->seed));
        json_object_set_new(bs, "skipped", json_integer(nskip));
        json_object_set_new(bs, "alpha", json_real(o->alpha));
        json_object_set_new(bs, "prng", json_string("xoshiro256** seeded by splitmix64(seed + replicate)"));
        json_object_set_new(bs, "interval", json_string("percentile, linear interpolation (Hyndman-Fan type 7)"));
        json_object_set_new(root, "bootstrap", bs);
    }
    json_t *mets = json_object();
    for (int j = 0; j < nm; j++) {
        double l = NAN, h = NAN;
        int used;
        if (o->bootstrap > 0) mg_boot_interval(res, (int)o->bootstrap, nm, j, o->alpha, &l, &h, &used);
        json_object_set_new(mets, names[j], metric_obj(vals[j], l, h, o->bootstrap > 0));
    }
    json_object_set_new(root, "metrics", mets);
    if (o->json && write_json(cli, o->json, root) < 0) goto done;
    if (write_table(cli, root) < 0) goto done;
    st = 0;
done:
    json_decref(root);
    free(res);
    return st;
}

/* TSV of per-case values: id, then K columns (NaN as "nan"). */
static int write_per_case(mg_cli *cli, const char *path, const char *const *cols, int K,
                          const char *const *ids, const double *v, size_t n)
{
    char err[256];
    mg_ofile *f = mg_ofile_open(path, NULL, err, sizeof err);
    if (!f) { mg_error(cli, path, "%s", err); return -1; }
    FILE *fp = mg_ofile_fp(f);
    fprintf(fp, "id");
    for (int k = 0; k < K; k++) fprintf(fp, "\t%s", cols[k]);
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++) {
        fputs(ids[i], fp);
        for (int k = 0; k < K; k++) {
            double x = v[i * (size_t)K + (size_t)k];
            if (isnan(x)) fputs("\tnan", fp); else fprintf(fp, "\t%.17g", x);
        }
        fputc('\n', fp);
    }
    int ok = !ferror(fp);
    if (mg_ofile_close(f, ok, err, sizeof err) < 0 || !ok) {
        mg_error(cli, path, "write failed%s%s", err[0] ? ": " : "", err);
        return -1;
    }
    return 0;
}

/* Shared option parsing of report and vqa. Returns -1 to continue, else the
 * exit status. */
static int parse_text_opts(mg_cli *cli, int argc, char **argv, text_opts *o, int is_vqa)
{
    static const struct option own[] = {
        { "id-col", required_argument, 0, O_ID }, { "text-col", required_argument, 0, O_HYPCOL },
        { "answer-col", required_argument, 0, O_HYPCOL }, { "type-col", required_argument, 0, O_TYPECOL },
        { "tokenize", required_argument, 0, O_TOKENIZE }, { "chexpert", no_argument, 0, O_CHEX },
        { "radgraph", no_argument, 0, O_RADGRAPH }, { "uncertain", required_argument, 0, O_UNCERTAIN },
        { "label-codes", required_argument, 0, O_REFCOL }, { "compat", required_argument, 0, O_COMPAT },
        { "bootstrap", required_argument, 0, O_BOOT }, { "seed", required_argument, 0, O_SEED },
        { "alpha", required_argument, 0, O_ALPHA }, { "json", required_argument, 0, O_JSON },
        { "sacrebleu", no_argument, 0, O_SACRE }, { "per-case", required_argument, 0, O_PERCASE },
        { 0, 0, 0, 0 }
    };
    static const char *const tok_names[] = { "none", "simple", "ptb" };
    static const char *const unc_names[] = { "negative", "positive" };
    static const char *const code_names[] = { "chexpert", "chexbert" };
    static const char *const compat_names[] = { "exact", "llava-med" };
    struct option *lo = mg_cli_long_options(own);
    int c, st = -1;
    long lv;
    opterr = 0;
    int li = 0;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT, lo, &li)) >= 0) {
        if (c == '?' || c == ':') {
            mg_usage_error(cli, "unknown option or missing value: '%s'", argv[optind - 1]);
            st = 2;
            goto out;
        }
        switch (mg_cli_common(cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: st = 0; goto out;
        case MG_CLI_USAGE: st = 2; goto out;
        default: break;
        }
        int bad = 0;
        switch (c) {
        case O_ID: o->id_col = optarg; break;
        case O_HYPCOL: o->text_col = optarg; break;
        case O_TYPECOL: o->type_col = optarg; break;
        case O_TOKENIZE: bad = (o->tokenize = parse_choice(optarg, tok_names, 3)) < 0; break;
        case O_CHEX: o->chexpert = 1; break;
        case O_SACRE: o->sacrebleu = 1; break;
        case O_PERCASE: o->per_case = optarg; break;
        case O_RADGRAPH: o->radgraph = 1; break;
        case O_UNCERTAIN: bad = (o->uncertain_pos = parse_choice(optarg, unc_names, 2)) < 0; break;
        case O_REFCOL: bad = (o->chexbert_codes = parse_choice(optarg, code_names, 2)) < 0; break;
        case O_COMPAT: bad = (o->compat = parse_choice(optarg, compat_names, 2)) < 0; break;
        case O_BOOT: bad = mg_parse_long(optarg, 0, 100000000, &o->bootstrap) < 0; break;
        case O_SEED: {
            char *e;
            errno = 0;
            o->seed = strtoull(optarg, &e, 10);
            bad = *e || e == optarg || errno || optarg[0] == '-';
            break;
        }
        case O_ALPHA: bad = mg_parse_double(optarg, &o->alpha) < 0 || !(o->alpha > 0 && o->alpha < 1); break;
        case O_JSON: o->json = optarg; break;
        default: bad = 2;
        }
        if (bad) {
            if (bad == 2) mg_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
            else mg_usage_error(cli, "invalid value '%s' for --%s", optarg, lo[li].name);
            st = 2;
            goto out;
        }
        (void)lv;
    }
    if (argc - optind != 2) {
        mg_usage_error(cli, is_vqa ? "expected PRED.tsv TRUTH.tsv" : "expected HYP.tsv REF.tsv");
        st = 2;
    }
out:
    free(lo);
    return st;
}

static int main_report(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_report;
    text_opts o = { .id_col = "id", .text_col = "text", .uncertain_pos = 1, .seed = 1, .alpha = 0.05 };
    int st = parse_text_opts(&cli, argc, argv, &o, 0);
    if (st >= 0) { mg_cli_free(&cli); return st; }
    st = 1;
    const char *hp = argv[optind], *rp = argv[optind + 1];
    char err[512];
    mg_tsv H, R;
    memset(&H, 0, sizeof H); memset(&R, 0, sizeof R);
    mg_idgroup *grp = NULL;
    size_t *hrow = NULL, *refstart = NULL, *nref = NULL, n = 0;
    char **htok = NULL, **rtok = NULL;
    size_t nrt = 0;
    mg_report *rep = NULL, *rep13 = NULL;
    uint8_t *lh = NULL, *lg = NULL, *use5 = NULL;
    double *per = NULL;
    mg_radgraph_sets *rh = NULL, *rr = NULL;
    size_t nrep = 0;
    const char **rids = NULL;
    if (mg_tsv_read(hp, &H, err, sizeof err) < 0) { mg_error(&cli, NULL, "%s", err); goto done; }
    if (mg_tsv_read(rp, &R, err, sizeof err) < 0) { mg_error(&cli, NULL, "%s", err); goto done; }
    int hid = mg_tsv_col(&H, o.id_col), rid = mg_tsv_col(&R, o.id_col);
    if (hid < 0) { mg_error(&cli, hp, "no id column '%s'", o.id_col); goto done; }
    if (rid < 0) { mg_error(&cli, rp, "no id column '%s'", o.id_col); goto done; }

    if (o.radgraph) {
        static const char *const cn[7] = { "id", "kind", "tokens", "label", "relation", "tokens2", "label2" };
        int hc[7], rc7[7];
        for (int k = 0; k < 7; k++) {
            hc[k] = k ? mg_tsv_col(&H, cn[k]) : hid;
            rc7[k] = k ? mg_tsv_col(&R, cn[k]) : rid;
            if (hc[k] < 0) { mg_error(&cli, hp, "no column '%s' (RadGraph annotation table)", cn[k]); goto done; }
            if (rc7[k] < 0) { mg_error(&cli, rp, "no column '%s' (RadGraph annotation table)", cn[k]); goto done; }
        }
        mg_idgroup *gh = mg_tsv_group_ids(&H, hid), *gr = mg_tsv_group_ids(&R, rid);
        rids = malloc((H.nrow + R.nrow) * sizeof *rids);
        if (!gh || !gr || !rids) { free(gh); free(gr); mg_error(&cli, NULL, "out of memory"); goto done; }
        /* reports: the union of ids, in sorted order */
        size_t a = 0, b = 0;
        while (a < H.nrow || b < R.nrow) {
            const char *x = a < H.nrow ? gh[a].id : NULL, *y = b < R.nrow ? gr[b].id : NULL;
            const char *id = !y || (x && strcmp(x, y) <= 0) ? x : y;
            rids[nrep++] = id;
            while (a < H.nrow && !strcmp(gh[a].id, id)) a++;
            while (b < R.nrow && !strcmp(gr[b].id, id)) b++;
        }
        rh = calloc(nrep, sizeof *rh); rr = calloc(nrep, sizeof *rr);
        per = malloc(nrep * 3 * sizeof *per);
        if (!rh || !rr || !per) { free(gh); free(gr); mg_error(&cli, NULL, "out of memory"); goto done; }
        for (size_t i = 0; i < nrep; i++) {
            size_t ch, cr, sh = mg_idgroup_find(gh, H.nrow, rids[i], &ch), sr = mg_idgroup_find(gr, R.nrow, rids[i], &cr);
            const char *bad = NULL;
            if (mg_radgraph_build(&H, gh + sh, ch, hc, &rh[i], &bad) < 0) {
                if (bad) mg_error(&cli, hp, "id %s: kind '%s' is not entity or relation", rids[i], bad);
                else mg_error(&cli, NULL, "out of memory");
                free(gh); free(gr); goto done;
            }
            if (mg_radgraph_build(&R, gr + sr, cr, rc7, &rr[i], &bad) < 0) {
                if (bad) mg_error(&cli, rp, "id %s: kind '%s' is not entity or relation", rids[i], bad);
                else mg_error(&cli, NULL, "out of memory");
                free(gh); free(gr); goto done;
            }
            mg_radgraph_f1(&rh[i], &rr[i], per + i * 3);
        }
        free(gh); free(gr);
        static const char *const names[3] = { "radgraph_entity_f1", "radgraph_entity_relation_f1", "radgraph_relation_f1" };
        double vals[3];
        mean_ctx mc = { .v = per, .n = nrep, .K = 3 };
        mean_stat(&mc, NULL, vals);
        if (o.per_case && write_per_case(&cli, o.per_case, names, 3, rids, per, nrep) < 0) goto done;
        if (run_text_output(&cli, &o, "report", nrep, names, 3, vals, &mc, NULL) < 0) goto done;
        st = 0;
        goto done;
    }

    /* join: every hypothesis id needs references (text) or a label row */
    grp = mg_tsv_group_ids(&R, rid);
    hrow = malloc(H.nrow * sizeof *hrow);
    refstart = malloc(H.nrow * sizeof *refstart);
    nref = malloc(H.nrow * sizeof *nref);
    if (!grp || !hrow || !refstart || !nref) { mg_error(&cli, NULL, "out of memory"); goto done; }
    {
        int jr = mg_tsv_unique(&H, hid, err, sizeof err);
        if (jr == -2) { mg_error(&cli, hp, "%s", err); goto done; }
        if (jr < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    size_t missing = 0, used_refs = 0;
    const char *first_missing = NULL;
    for (size_t r = 0; r < H.nrow; r++) {
        size_t cnt, s0 = mg_idgroup_find(grp, R.nrow, mg_tsv_cell(&H, r, hid), &cnt);
        if (!cnt) { if (!missing++) first_missing = mg_tsv_cell(&H, r, hid); continue; }
        if (o.chexpert && cnt > 1) { mg_error(&cli, rp, "duplicated id '%s'", grp[s0].id); goto done; }
        hrow[n] = r; refstart[n] = s0; nref[n] = cnt; n++;
        used_refs += cnt;
    }
    if (n == 0) { mg_error(&cli, rp, "no id in common with %s", hp); goto done; }
    if (missing) mg_warn(&cli, hp, "%zu id(s) without a reference (first: %s); left out", missing, first_missing);
    if (used_refs < R.nrow) mg_warn(&cli, rp, "%zu reference row(s) without a hypothesis; left out", R.nrow - used_refs);

    if (o.chexpert) {
        /* label columns: every column of HYP but id, all present in REF */
        int L = 0, *hc = malloc((size_t)H.ncol * sizeof *hc), *rc2 = malloc((size_t)H.ncol * sizeof *rc2);
        if (!hc || !rc2) { free(hc); free(rc2); mg_error(&cli, NULL, "out of memory"); goto done; }
        for (int c = 0; c < H.ncol; c++) {
            if (c == hid) continue;
            int q = mg_tsv_col(&R, H.colname[c]);
            if (q < 0) { mg_error(&cli, rp, "no label column '%s'", H.colname[c]); free(hc); free(rc2); goto done; }
            hc[L] = c; rc2[L] = q; L++;
        }
        static const char *const five[] = { "Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion" };
        lh = malloc(n * (size_t)L); lg = malloc(n * (size_t)L); use5 = calloc((size_t)L, 1);
        if (!lh || !lg || !use5) { free(hc); free(rc2); mg_error(&cli, NULL, "out of memory"); goto done; }
        int n5 = 0;
        for (int l = 0; l < L; l++)
            for (int f = 0; f < 5; f++) if (!strcmp(H.colname[hc[l]], five[f])) { use5[l] = 1; n5++; }
        for (size_t i = 0; i < n; i++)
            for (int l = 0; l < L; l++) {
                const char *a = mg_tsv_cell(&H, hrow[i], hc[l]), *b = mg_tsv_cell(&R, grp[refstart[i]].row, rc2[l]);
                if (mg_chexpert_label(a, o.chexbert_codes, o.uncertain_pos, &lh[i * (size_t)L + (size_t)l]) < 0) {
                    mg_error(&cli, hp, "id %s: '%s' in column %s is not a %s label code",
                             mg_tsv_cell(&H, hrow[i], hid), a, H.colname[hc[l]], o.chexbert_codes ? "CheXbert" : "CheXpert");
                    free(hc); free(rc2); goto done;
                }
                if (mg_chexpert_label(b, o.chexbert_codes, o.uncertain_pos, &lg[i * (size_t)L + (size_t)l]) < 0) {
                    mg_error(&cli, rp, "id %s: '%s' in column %s is not a %s label code",
                             mg_tsv_cell(&H, hrow[i], hid), b, H.colname[hc[l]], o.chexbert_codes ? "CheXbert" : "CheXpert");
                    free(hc); free(rc2); goto done;
                }
            }
        free(hc); free(rc2);
        static const char *const names[6] = { "f1_micro", "f1_macro", "f1_weighted", "f1_5_micro", "f1_5_macro", "f1_5_weighted" };
        mean_ctx mc = { .n = n, .K = 0, .lh = lh, .lg = lg, .L = L, .use5 = n5 == 5 ? use5 : NULL };
        double vals[6];
        mean_stat(&mc, NULL, vals);
        json_t *extra = json_object();
        json_object_set_new(extra, "labels", json_integer(L));
        json_object_set_new(extra, "uncertain", json_string(o.uncertain_pos ? "positive" : "negative"));
        int rr2 = run_text_output(&cli, &o, "report", n, names, n5 == 5 ? 6 : 3, vals, &mc, extra);
        json_decref(extra);
        if (rr2 < 0) goto done;
        st = 0;
        goto done;
    }

    int htc = mg_tsv_col(&H, o.text_col), rtc = mg_tsv_col(&R, o.text_col);
    if (htc < 0) { mg_error(&cli, hp, "no text column '%s'", o.text_col); goto done; }
    if (rtc < 0) { mg_error(&cli, rp, "no text column '%s'", o.text_col); goto done; }
    htok = calloc(n, sizeof *htok);
    rtok = calloc(used_refs ? used_refs : 1, sizeof *rtok);
    size_t *rs2 = malloc(n * sizeof *rs2);
    if (!htok || !rtok || !rs2) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
    for (size_t i = 0; i < n; i++) {
        if (!(htok[i] = mg_text_tokenize(mg_tsv_cell(&H, hrow[i], htc), o.tokenize))) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
        rs2[i] = nrt;
        for (size_t j = 0; j < nref[i]; j++) {
            if (!(rtok[nrt] = mg_text_tokenize(mg_tsv_cell(&R, grp[refstart[i] + j].row, rtc), o.tokenize))) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
            nrt++;
        }
    }
    rep = mg_report_init(n, (const char *const *)htok, (const char *const *)rtok, rs2, nref);
    if (rep && o.sacrebleu) {
        /* sacrebleu tokenises the raw text itself */
        for (size_t i = 0; i < n; i++) {
            free(htok[i]);
            htok[i] = mg_text_tokenize(mg_tsv_cell(&H, hrow[i], htc), MG_TOK_13A);
            if (!htok[i]) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
            for (size_t j = 0; j < nref[i]; j++) {
                free(rtok[rs2[i] + j]);
                rtok[rs2[i] + j] = mg_text_tokenize(mg_tsv_cell(&R, grp[refstart[i] + j].row, rtc), MG_TOK_13A);
                if (!rtok[rs2[i] + j]) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
            }
        }
        rep13 = mg_report_init(n, (const char *const *)htok, (const char *const *)rtok, rs2, nref);
        if (!rep13) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    free(rs2);
    if (!rep) { mg_error(&cli, NULL, "out of memory"); goto done; }
    {
        double vals[MG_REPORT_NMETRICS + 1];
        const char *names[MG_REPORT_NMETRICS + 1];
        mean_ctx mc = { .n = n, .K = 0, .rep = rep, .rep13a = rep13 };
        if (mg_report_compute(rep, NULL, vals) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        int nm = MG_REPORT_NMETRICS;
        for (int j = 0; j < nm; j++) names[j] = mg_report_names[j];
        if (rep13) { names[nm] = "sacrebleu"; vals[nm++] = mg_report_sacrebleu(rep13, NULL); }
        static const char *const tk[] = { "none", "simple", "ptb" };
        json_t *extra = json_object();
        json_object_set_new(extra, "tokenize", json_string(tk[o.tokenize]));
        json_object_set_new(extra, "references", json_integer((json_int_t)nrt));
        if (rep13) {
            /* sacrebleu's signature fields (version: the formula, not the package) */
            size_t mn = nref[0], mx = nref[0];
            for (size_t i = 1; i < n; i++) { if (nref[i] < mn) mn = nref[i]; if (nref[i] > mx) mx = nref[i]; }
            char sig[128];
            if (mn == mx) snprintf(sig, sizeof sig, "nrefs:%zu|case:mixed|eff:no|tok:13a|smooth:exp", mn);
            else snprintf(sig, sizeof sig, "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp");
            json_object_set_new(extra, "sacrebleu_signature", json_string(sig));
        }
        if (o.per_case) {
            double *pc = malloc(2 * n * sizeof *pc), *cd = malloc(n * sizeof *cd);
            const char **ids = malloc(n * sizeof *ids);
            if (!pc || !cd || !ids || mg_report_segments(rep, pc, cd) < 0) {
                free(pc); free(cd); free(ids); json_decref(extra);
                mg_error(&cli, NULL, "out of memory");
                goto done;
            }
            /* interleave: rouge_l, cider_d per report */
            for (size_t i = n; i-- > 0;) { double r0 = pc[i]; pc[2 * i] = r0; }
            for (size_t i = 0; i < n; i++) { pc[2 * i + 1] = cd[i]; ids[i] = mg_tsv_cell(&H, hrow[i], hid); }
            static const char *const cols[2] = { "rouge_l", "cider_d" };
            int wr = write_per_case(&cli, o.per_case, cols, 2, ids, pc, n);
            free(pc); free(cd); free(ids);
            if (wr < 0) { json_decref(extra); goto done; }
        }
        int rr2 = run_text_output(&cli, &o, "report", n, names, nm, vals, &mc, extra);
        json_decref(extra);
        if (rr2 < 0) goto done;
    }
    st = 0;
done:
    if (htok) for (size_t i = 0; i < n; i++) free(htok[i]);
    if (rtok) for (size_t i = 0; i < nrt; i++) free(rtok[i]);
    if (rh) for (size_t i = 0; i < nrep; i++) mg_radgraph_free(&rh[i]);
    if (rr) for (size_t i = 0; i < nrep; i++) mg_radgraph_free(&rr[i]);
    free(rh); free(rr); free(rids);
    free(htok); free(rtok); free(grp); free(hrow); free(refstart); free(nref);
    free(lh); free(lg); free(use5); free(per);
    mg_report_free(rep); mg_report_free(rep13);
    mg_tsv_free(&H); mg_tsv_free(&R);
    if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    mg_cli_free(&cli);
    return st;
}

static int main_vqa(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_vqa;
    text_opts o = { .id_col = "id", .text_col = "answer", .type_col = NULL, .seed = 1, .alpha = 0.05 };
    int st = parse_text_opts(&cli, argc, argv, &o, 1);
    if (st >= 0) { mg_cli_free(&cli); return st; }
    st = 1;
    const char *pp = argv[optind], *tp = argv[optind + 1];
    char err[512];
    mg_tsv P, G;
    memset(&P, 0, sizeof P); memset(&G, 0, sizeof G);
    mg_idgroup *grp = NULL;
    double *per = NULL;
    const char **qids = NULL;
    size_t n = 0, nclosed = 0, nopen = 0, excluded = 0;
    if (mg_tsv_read(pp, &P, err, sizeof err) < 0) { mg_error(&cli, NULL, "%s", err); goto done; }
    if (mg_tsv_read(tp, &G, err, sizeof err) < 0) { mg_error(&cli, NULL, "%s", err); goto done; }
    int pid = mg_tsv_col(&P, o.id_col), gid = mg_tsv_col(&G, o.id_col);
    int pac = mg_tsv_col(&P, o.text_col), gac = mg_tsv_col(&G, o.text_col);
    int gtc = mg_tsv_col(&G, o.type_col ? o.type_col : "answer_type");
    if (pid < 0) { mg_error(&cli, pp, "no id column '%s'", o.id_col); goto done; }
    if (gid < 0) { mg_error(&cli, tp, "no id column '%s'", o.id_col); goto done; }
    if (pac < 0) { mg_error(&cli, pp, "no answer column '%s'", o.text_col); goto done; }
    if (gac < 0) { mg_error(&cli, tp, "no answer column '%s'", o.text_col); goto done; }
    if (o.type_col && gtc < 0) { mg_error(&cli, tp, "no type column '%s'", o.type_col); goto done; }
    {
        int jr = mg_tsv_unique(&P, pid, err, sizeof err);
        if (jr == -2) { mg_error(&cli, pp, "%s", err); goto done; }
        if (jr < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    grp = mg_tsv_group_ids(&G, gid);
    /* per question: closed hit, open recall, token F1, exact match, F1 closed, F1 open */
    enum { K = 6 };
    per = malloc((P.nrow ? P.nrow : 1) * K * sizeof *per);
    qids = malloc((P.nrow ? P.nrow : 1) * sizeof *qids);
    if (!grp || !per || !qids) { mg_error(&cli, NULL, "out of memory"); goto done; }
    size_t missing = 0;
    const char *first_missing = NULL;
    for (size_t r = 0; r < P.nrow; r++) {
        const char *id = mg_tsv_cell(&P, r, pid);
        size_t cnt, s0 = mg_idgroup_find(grp, G.nrow, id, &cnt);
        if (!cnt) { if (!missing++) first_missing = id; continue; }
        double *v = per + n * K;
        const char *pred = mg_tsv_cell(&P, r, pac);
        int closed = -1;
        if (gtc >= 0) {
            const char *t = mg_tsv_cell(&G, grp[s0].row, gtc);
            if (!strcasecmp(t, "closed") || !strcasecmp(t, "yes/no")) closed = 1;
            else if (!strcasecmp(t, "open") || !strcasecmp(t, "other")) closed = 0;
            else { mg_error(&cli, tp, "id %s: question type '%s' is not closed or open", id, t); goto done; }
        }
        const char **golds = malloc(cnt * sizeof *golds);
        double sc[4];
        if (!golds) { mg_error(&cli, NULL, "out of memory"); goto done; }
        for (size_t j = 0; j < cnt; j++) golds[j] = mg_tsv_cell(&G, grp[s0 + j].row, gac);
        int vr = mg_vqa_score(pred, golds, cnt, closed, o.compat == 1, sc, &closed);
        free(golds);
        if (vr < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        double hit = sc[0], rec = sc[1], f1 = sc[2], em = sc[3];
        v[0] = closed ? hit : NAN;
        v[1] = closed ? NAN : rec;
        v[2] = f1; v[3] = em;
        v[4] = closed ? f1 : NAN;
        v[5] = closed ? NAN : f1;
        if (closed) { nclosed++; if (isnan(hit)) excluded++; } else nopen++;
        qids[n] = id;
        n++;
    }
    if (n == 0) { mg_error(&cli, tp, "no id in common with %s", pp); goto done; }
    if (missing) mg_warn(&cli, pp, "%zu id(s) without a gold answer (first: %s); left out", missing, first_missing);
    if (excluded) mg_warn(&cli, pp, "llava-med rule: %zu closed question(s) left out of the accuracy", excluded);
    {
        static const char *const names[K] = { "closed_accuracy", "open_recall", "token_f1", "exact_match",
                                              "token_f1_closed", "token_f1_open" };
        double vals[K];
        mean_ctx mc = { .v = per, .n = n, .K = K };
        mean_stat(&mc, NULL, vals);
        static const char *const pcn[K] = { "closed_hit", "open_recall", "token_f1", "exact_match",
                                            "token_f1_closed", "token_f1_open" };
        if (o.per_case && write_per_case(&cli, o.per_case, pcn, K, qids, per, n) < 0) goto done;
        json_t *extra = json_object();
        json_object_set_new(extra, "closed", json_integer((json_int_t)nclosed));
        json_object_set_new(extra, "open", json_integer((json_int_t)nopen));
        json_object_set_new(extra, "closed_rule", json_string(o.compat ? "llava-med" : "exact"));
        json_object_set_new(extra, "closed_left_out", json_integer((json_int_t)excluded));
        int rr2 = run_text_output(&cli, &o, "vqa", n, names, K, vals, &mc, extra);
        json_decref(extra);
        if (rr2 < 0) goto done;
    }
    st = 0;
done:
    free(grp); free(per); free(qids);
    mg_tsv_free(&P); mg_tsv_free(&G);
    if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    mg_cli_free(&cli);
    return st;
}

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

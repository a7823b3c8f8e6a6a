/* mg-score classify and risk: scores against binary, multiclass or multilabel
 * truth; risk adds the polygenic-score measures (mg_metrics_risk.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_dataset.h"
#include "mg_metrics.h"
#include "mg_metrics_boot.h"
#include "mg_metrics_clf.h"
#include "mg_metrics_plot.h"
#include "mg_metrics_risk.h"
#include "score.h"

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

static const char *const avg_names[] = { "binary", "micro", "macro", "weighted" };
static const char *const zd_names[] = { "warn", "0", "1", "nan" };
static const char *const mc_names[] = { "ovr", "ovo" };
static const char *const ece_names[] = { "top-label", "positive" };

/* Everything one run reads and computes. */
typedef struct {
    int is_risk;
    const char *pred_path, *truth_path;
    mg_dataset d;
    double *s2;                 /* --compare scores, k*n */
    mg_clf A, B;                /* the model; the compared one */
    mg_risk R;
    int na, nr, nout, nskip;    /* metrics of A, of R; bootstrap columns; skipped replicates */
    double *vals, *vals_b;      /* full-data metrics of A (then R); of B */
    double *res;                /* bootstrap results, replicates x nout */
} clf_run;

static void clf_run_free(clf_run *r)
{
    mg_dataset_free(&r->d);
    free(r->s2); free(r->vals); free(r->vals_b); free(r->res);
    mg_clf_free(&r->A); mg_clf_free(&r->B); mg_risk_free(&r->R);
}

/* ---------------- options ---------------- */

/* One option of classify/risk into o; 0, or -1 after a usage message. */
static int set_clf_option(mg_cli *cli, int c, const char *arg, const char *name, void *opts)
{
    clf_opts *o = opts;
    long lv;
    (void)name;
    switch (c) {
    case O_ID: o->id_col = arg; return 0;
    case O_SCORE: o->score_cols = arg; return 0;
    case O_LABEL: o->label_cols = arg; return 0;
    case O_TASK:
        o->task = mg_task_parse(arg);
        if (o->task < 0 || o->task > MG_TASK_MULTILABEL) { mg_usage_error(cli, "--task: binary, multiclass or multilabel"); return -1; }
        return 0;
    case O_POS: o->pos_label = arg; return 0;
    case O_THR:
        if (mg_parse_double(arg, &o->threshold) < 0) { mg_usage_error(cli, "--threshold: not a number"); return -1; }
        return 0;
    case O_AVG:
        if ((o->average = parse_choice(arg, avg_names, 4)) < 0) { mg_usage_error(cli, "--average: binary, micro, macro or weighted"); return -1; }
        return 0;
    case O_MC:
        if ((o->multi_class = parse_choice(arg, mc_names, 2)) < 0) { mg_usage_error(cli, "--multi-class: ovr or ovo"); return -1; }
        return 0;
    case O_ZD:
        if ((o->zero_division = parse_choice(arg, zd_names, 4)) < 0) { mg_usage_error(cli, "--zero-division: warn, 0, 1 or nan"); return -1; }
        return 0;
    case O_BINS:
        if (mg_parse_long(arg, 1, 100000, &lv) < 0) { mg_usage_error(cli, "--ece-bins: an integer in [1,100000]"); return -1; }
        o->ece_bins = (int)lv;
        return 0;
    case O_ECEMODE:
        if ((o->ece_positive = parse_choice(arg, ece_names, 2)) < 0) { mg_usage_error(cli, "--ece-mode: top-label or positive"); return -1; }
        return 0;
    case O_RAW: o->raw = 1; return 0;
    case O_MISSING: o->missing = arg; return 0;
    case O_PROB: o->raw = 0; return 0;
    case O_COVAR: o->covariates = arg; return 0;
    case O_CMP: o->compare = arg; return 0;
    case O_BOOT:
        if (mg_parse_long(arg, 0, 100000000, &o->bootstrap) < 0) { mg_usage_error(cli, "--bootstrap: a count >= 0"); return -1; }
        return 0;
    case O_SEED:
        if (parse_seed(arg, &o->seed) < 0) { mg_usage_error(cli, "--seed: an integer in [0, 2^64)"); return -1; }
        return 0;
    case O_ALPHA:
        if (mg_parse_double(arg, &o->alpha) < 0 || !(o->alpha > 0 && o->alpha < 1)) { mg_usage_error(cli, "--alpha: a number in (0,1)"); return -1; }
        return 0;
    case O_JSON: o->json = arg; return 0;
    case O_PLOT: o->plot = arg; return 0;
    case O_TIME: o->time_col = arg; return 0;
    case O_EVENT: o->event_col = arg; return 0;
    case O_SDCTRL: o->sd_controls = 1; return 0;
    case O_DDOF:
        if (mg_parse_long(arg, 0, 1, &lv) < 0) { mg_usage_error(cli, "--ddof: 0 or 1"); return -1; }
        o->ddof = (int)lv;
        return 0;
    default:
        mg_usage_error(cli, "unknown option");
        return -1;
    }
}

/* Options and the one or two file arguments. -1 to go on, else the exit status. */
static int parse_clf_opts(mg_cli *cli, int argc, char **argv, clf_opts *o)
{
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
    int st = score_getopt(cli, argc, argv, own, set_clf_option, o);
    if (st < 0 && (argc - optind < 1 || argc - optind > 2)) {
        mg_usage_error(cli, "expected PRED.tsv [TRUTH.tsv]");
        st = 2;
    }
    return st;
}

/* ---------------- data ---------------- */

/* --missing: every id on one side only, predictions first, then truth. */
static int write_missing(const mg_cli *cli, const char *path, const mg_dataset *d)
{
    char err[512];
    mg_ofile *mf = mg_ofile_open(path, NULL, err, sizeof err);
    if (!mf) { mg_error(cli, path, "%s", err); return -1; }
    int ok = mg_join_write_missing(&d->join, &d->pred, &d->truth, "predictions", "truth", mg_ofile_fp(mf)) == 0;
    if (mg_ofile_close(mf, ok, err, sizeof err) < 0 || !ok) {
        mg_error(cli, strcmp(path, "-") ? path : "(stdout)", "%s", err[0] ? err : "write failed");
        return -1;
    }
    return 0;
}

/* Predictions joined to truth, ids on one side only reported, and the
 * compared model's scores. 0, -1 (reported), -2 (usage, reported). */
static int load_data(const mg_cli *cli, const clf_opts *o, clf_run *r)
{
    char err[512];
    const char *ep = NULL;
    mg_dataset_opts dopt = { .id_col = o->id_col, .score_cols = o->score_cols, .label_cols = o->label_cols,
                             .pos_label = o->pos_label, .task = o->task, .probabilities = !o->raw,
                             .pool = cli->pool };
    int lr = mg_dataset_load(&r->d, r->pred_path, r->truth_path, &dopt, err, sizeof err, &ep);
    if (lr == -2) { mg_usage_error(cli, "%s", err); return -2; }
    if (lr < 0) { mg_error(cli, ep, "%s", err); return -1; }
    const mg_dataset *d = &r->d;
    if (d->has_truth && o->missing && write_missing(cli, o->missing, d) < 0) return -1;
    if (d->join.a_only)
        mg_warn(cli, r->pred_path, "%zu id(s) not in the truth table (first: %s); left out", d->join.a_only, d->join.first_a_only);
    if (d->join.b_only)
        mg_warn(cli, r->truth_path, "%zu id(s) without a prediction (first: %s); left out", d->join.b_only, d->join.first_b_only);
    if (r->is_risk && d->task != MG_TASK_BINARY) {
        mg_error(cli, r->pred_path, "risk needs one score and one 0/1 label column");
        return -1;
    }
    if (o->compare) {
        if (!(r->s2 = malloc((size_t)d->k * d->n * sizeof *r->s2))) { mg_error(cli, NULL, "out of memory"); return -1; }
        if (mg_dataset_scores_of(d, o->compare, &dopt, r->s2, err, sizeof err, &ep) < 0) {
            mg_error(cli, ep, "%s", err);
            return -1;
        }
    }
    return 0;
}

/* Follow-up time and event of each case (truth table) for Harrell's C. */
static int read_survival(const mg_cli *cli, const clf_opts *o, const mg_dataset *d,
                         double **time, uint8_t **event)
{
    const mg_tsv *lt = &d->lt->t;
    int tc = mg_tsv_col(lt, o->time_col);
    int ec = o->event_col ? mg_tsv_col(lt, o->event_col) : d->label_col[0];
    if (tc < 0) { mg_error(cli, d->lt->path, "no time column '%s'", o->time_col); return -1; }
    if (ec < 0) { mg_error(cli, d->lt->path, "no event column '%s'", o->event_col); return -1; }
    *time = malloc(d->n * sizeof **time);
    *event = malloc(d->n);
    if (!*time || !*event) { mg_error(cli, NULL, "out of memory"); return -1; }
    for (size_t i = 0; i < d->n; i++) {
        size_t row = d->join.b_row[i];
        const char *tv = mg_tsv_cell(lt, row, tc), *ev = mg_tsv_cell(lt, row, ec);
        if (mg_parse_number(tv, &(*time)[i]) < 0 || mg_parse_label01(ev, &(*event)[i]) < 0) {
            mg_error(cli, d->lt->path, "id %s: time '%s' or event '%s' is not a number / 0 or 1",
                     mg_table_id(d->lt, row), tv, ev);
            return -1;
        }
    }
    return 0;
}

/* Covariate columns (truth table, else predictions) into ncov*n values. */
static int read_covariates(const mg_cli *cli, const char *list, const mg_dataset *d,
                           double **cov, int *ncov)
{
    char *buf = strdup(list), **names = NULL;
    int rc = -1, nc = buf ? mg_names_split(buf, &names) : -1;
    *ncov = nc;
    *cov = nc > 0 ? malloc((size_t)nc * d->n * sizeof **cov) : NULL;
    if (nc <= 0 || !*cov) {
        mg_error(cli, NULL, nc == 0 ? "--covariates: no column named" : "out of memory");
        goto done;
    }
    for (int j = 0; j < nc; j++) {
        int col;
        const size_t *rows;
        const mg_table *tb = mg_dataset_column(d, names[j], &col, &rows);
        if (!tb) { mg_error(cli, d->lt->path, "no covariate column '%s'", names[j]); goto done; }
        for (size_t i = 0; i < d->n; i++) {
            const char *v = mg_tsv_cell(&tb->t, rows[i], col);
            if (mg_parse_number(v, &(*cov)[(size_t)j * d->n + i]) < 0) {
                mg_error(cli, tb->path, "id %s: covariate '%s' in column %s is not a number",
                         mg_table_id(tb, rows[i]), v, names[j]);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(buf); free(names);
    return rc;
}

/* ---------------- metrics ---------------- */

static int init_models(const mg_cli *cli, const clf_opts *o, clf_run *r)
{
    mg_dataset *d = &r->d;
    mg_clf *A = &r->A;
    A->task = d->task; A->n = d->n; A->k = d->k; A->s = d->s; A->threshold = o->threshold;
    A->zero_division = o->zero_division; A->average = d->task == MG_TASK_BINARY ? o->average : MG_AVG_MACRO;
    A->multi_class = o->multi_class; A->ece_bins = o->ece_bins; A->probabilities = !o->raw;
    A->ece_positive = o->ece_positive;
    if (mg_clf_init(A, d->y, d->cls) < 0) { mg_error(cli, NULL, "out of memory"); return -1; }
    if (o->compare) {
        r->B = *A;
        r->B.s = r->s2;
        if (mg_clf_init(&r->B, d->y, d->cls) < 0) { mg_error(cli, NULL, "out of memory"); return -1; }
    }
    if (!r->is_risk) return 0;
    mg_risk_opts ro = { .sd_controls = o->sd_controls, .ddof = o->ddof, .z = mg_norm_ppf(1 - o->alpha / 2) };
    double *time = NULL, *cov = NULL;
    uint8_t *event = NULL;
    int ncov = 0, rc = -1;
    if (o->time_col && read_survival(cli, o, d, &time, &event) < 0) goto done;
    if (o->covariates && read_covariates(cli, o->covariates, d, &cov, &ncov) < 0) goto done;
    if (mg_risk_init(&r->R, d->s, d->y, time, event, cov, ncov, d->n, &ro) < 0) {
        mg_error(cli, r->pred_path, "risk model: %s", r->R.error[0] ? r->R.error : "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(time); free(event); free(cov);
    return rc;
}

/* Metrics on all cases, with scikit-learn's warnings. */
static int compute_full(const mg_cli *cli, const clf_opts *o, clf_run *r)
{
    const mg_dataset *d = &r->d;
    size_t n = d->n;
    r->na = r->A.nmetrics;
    r->nr = r->is_risk ? r->R.nmetrics : 0;
    r->vals = malloc((size_t)(r->na + r->nr) * sizeof *r->vals);
    r->vals_b = malloc((size_t)(r->na > 0 ? r->na : 1) * sizeof *r->vals_b);
    if (!r->vals || !r->vals_b || mg_clf_compute(&r->A, NULL, r->vals) < 0 ||
        (r->is_risk && mg_risk_compute(&r->R, NULL, r->vals + r->na) < 0) ||
        (o->compare && mg_clf_compute(&r->B, NULL, r->vals_b) < 0)) {
        mg_error(cli, NULL, "out of memory");
        return -1;
    }
    for (int j = 0; j < r->na + r->nr; j++)
        if (isinf(r->vals[j]))
            mg_warn(cli, NULL, "%s is infinite (an empty cell); null in the JSON, nan in the table",
                    j < r->na ? r->A.names[j] : r->R.names[j - r->na]);
    for (int j = 0; j < d->k; j++) {
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) pos += r->A.y[(size_t)j * n + i];
        const char *nm = d->task == MG_TASK_BINARY ? "truth" : d->score_names[j];
        if (pos != 0 && pos != n) continue;
        if (d->task == MG_TASK_MULTICLASS && pos == 0 && o->multi_class == MG_OVO)
            mg_warn(cli, d->lt->path, "class %s is absent from the truth: left out of the one-vs-one pairs", nm);
        else if (d->task == MG_TASK_MULTICLASS && pos == 0)
            mg_warn(cli, d->lt->path, "class %s is absent from the truth: its one-vs-rest AUC is undefined (NaN)", nm);
        else if (d->task != MG_TASK_MULTICLASS)
            mg_warn(cli, d->lt->path, "only one class present in %s: AUC is undefined (NaN)%s", nm,
                    pos == 0 ? ", average precision 0" : "");
    }
    return 0;
}

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

/* Bootstrap replicates of every metric (A, R, and B as the paired
 * difference A - B). */
static int run_bootstrap(mg_cli *cli, const clf_opts *o, clf_run *r)
{
    int na = r->na, nr = r->nr;
    r->nout = na + nr + (o->compare ? na : 0);
    if (o->bootstrap <= 0) return 0;
    r->res = malloc((size_t)o->bootstrap * (size_t)r->nout * sizeof *r->res);
    if (!r->res) { mg_error(cli, NULL, "out of memory"); return -1; }
    boot_ctx bc = { .a = &r->A, .b = o->compare ? &r->B : NULL, .risk = r->is_risk ? &r->R : NULL, .na = na, .nr = nr };
    mg_cli_progress_begin(cli, "bootstrap replicates", (uint64_t)o->bootstrap);
    int rc = mg_bootstrap(r->d.n, (int)o->bootstrap, o->seed, cli->pool, r->nout, boot_stat, &bc, r->res,
                          &r->nskip, cli->progress);
    mg_cli_progress_end(cli);
    if (rc < 0) {
        mg_error(cli, NULL, "bootstrap failed (out of memory)");
        return -1;
    }
    if (r->nskip) mg_warn(cli, NULL, "%d of %ld bootstrap replicates skipped (a class was missing)", r->nskip, o->bootstrap);
    if (r->nskip == o->bootstrap) mg_warn(cli, NULL, "no usable bootstrap replicate: intervals are NaN");
    if (o->compare)
        for (long b = 0; b < o->bootstrap; b++) {
            double *x = r->res + (size_t)b * r->nout;
            for (int j = 0; j < na; j++) x[na + nr + j] = x[j] - x[na + nr + j];
        }
    return 0;
}

/* ---------------- results ---------------- */

static void json_set_ids_options(json_t *root, const clf_opts *o, const clf_run *r)
{
    const mg_join *j = &r->d.join;
    json_t *ids = json_object();
    json_object_set_new(ids, "predictions_only", json_integer((json_int_t)j->a_only));
    json_object_set_new(ids, "first_predictions_only", j->first_a_only ? json_string(j->first_a_only) : json_null());
    json_object_set_new(ids, "truth_only", json_integer((json_int_t)j->b_only));
    json_object_set_new(ids, "first_truth_only", j->first_b_only ? json_string(j->first_b_only) : json_null());
    json_object_set_new(root, "ids", ids);
    json_t *cols = json_array();
    for (int c = 0; c < r->d.k; c++) json_array_append_new(cols, json_string(r->d.score_names[c]));
    json_object_set_new(root, "score_columns", cols);
    json_t *opt = json_object();
    json_object_set_new(opt, "threshold", json_real(o->threshold));
    json_object_set_new(opt, "average", json_string(avg_names[r->A.average]));
    json_object_set_new(opt, "multi_class", json_string(mc_names[o->multi_class]));
    json_object_set_new(opt, "zero_division", json_string(zd_names[o->zero_division]));
    json_object_set_new(opt, "ece_bins", json_integer(o->ece_bins));
    json_object_set_new(opt, "ece_mode", json_string(ece_names[o->ece_positive]));
    json_object_set_new(opt, "probabilities", json_boolean(!o->raw));
    json_object_set_new(root, "options", opt);
}

static void json_set_metrics(json_t *root, const clf_opts *o, const clf_run *r)
{
    json_t *mets = json_object();
    for (int j = 0; j < r->na + r->nr; j++) {
        double l = NAN, h = NAN;
        int used = 0;
        if (o->bootstrap > 0) mg_boot_interval(r->res, (int)o->bootstrap, r->nout, j, o->alpha, &l, &h, &used);
        const char *nm = j < r->na ? r->A.names[j] : r->R.names[j - r->na];
        json_object_set_new(mets, nm, metric_obj(r->vals[j], l, h, o->bootstrap > 0));
    }
    json_object_set_new(root, "metrics", mets);
}

/* Binary task: DeLong interval of the AUC and Youden's optimal threshold. */
static int json_set_delong_youden(const mg_cli *cli, json_t *root, const clf_run *r, double z)
{
    double auc, var;
    int dr = mg_delong_sorted(r->A.ss, r->A.sy, r->d.n, &auc, &var);
    if (dr == -1) { mg_error(cli, NULL, "out of memory"); return -1; }
    if (dr == 0) {
        json_t *dl = json_object();
        double se = sqrt(var);
        json_object_set_new(dl, "auc", jnum(auc));
        json_object_set_new(dl, "variance", jnum(var));
        json_object_set_new(dl, "se", jnum(se));
        json_object_set_new(dl, "ci_low", jnum(fmax(0, auc - z * se)));
        json_object_set_new(dl, "ci_high", jnum(fmin(1, auc + z * se)));
        json_object_set_new(root, "delong", dl);
    } else mg_warn(cli, NULL, "DeLong variance needs at least 2 positives and 2 negatives");
    mg_youden yd;
    mg_youden_sorted(r->A.ss, r->A.sy, r->d.n, &yd);
    json_t *yj = json_object();
    json_object_set_new(yj, "threshold", jnum(yd.threshold));
    json_object_set_new(yj, "sensitivity", jnum(yd.sensitivity));
    json_object_set_new(yj, "specificity", jnum(yd.specificity));
    json_object_set_new(yj, "j", jnum(yd.j));
    json_object_set_new(root, "youden", yj);
    return 0;
}

/* Multiclass and multilabel: per-class support, AUC (with its one-vs-rest
 * DeLong interval), AP, precision, recall and F1. */
static int json_set_per_class(const mg_cli *cli, json_t *root, const clf_run *r, double z)
{
    int k = r->d.k;
    size_t n = r->d.n;
    double *pcb = malloc((size_t)k * 6 * sizeof *pcb);
    if (!pcb || mg_clf_per_class(&r->A, pcb, pcb + k, pcb + 2 * k, pcb + 3 * k, pcb + 4 * k, pcb + 5 * k) < 0) {
        free(pcb);
        mg_error(cli, NULL, "out of memory");
        return -1;
    }
    json_t *pc = json_array();
    for (int j = 0; j < k; j++) {
        json_t *e = json_object();
        json_object_set_new(e, "label", json_string(r->d.score_names[j]));
        json_object_set_new(e, "support", json_real(pcb[j]));
        json_object_set_new(e, "auc", jnum(pcb[k + j]));
        double da, dv;
        int ok = mg_delong_sorted(r->A.ss + (size_t)j * n, r->A.sy + (size_t)j * n, n, &da, &dv) == 0;
        json_object_set_new(e, "auc_ci_low", ok ? jnum(fmax(0, da - z * sqrt(dv))) : json_null());
        json_object_set_new(e, "auc_ci_high", ok ? jnum(fmin(1, da + z * sqrt(dv))) : json_null());
        json_object_set_new(e, "average_precision", jnum(pcb[2 * k + j]));
        json_object_set_new(e, "precision", jnum(pcb[3 * k + j]));
        json_object_set_new(e, "recall", jnum(pcb[4 * k + j]));
        json_object_set_new(e, "f1", jnum(pcb[5 * k + j]));
        json_array_append_new(pc, e);
    }
    json_object_set_new(root, "per_class", pc);
    free(pcb);
    return 0;
}

/* A kk x kk matrix of counts as rows of numbers. */
static json_t *json_matrix(const double *m, int kk)
{
    json_t *mat = json_array();
    for (int i = 0; i < kk; i++) {
        json_t *row = json_array();
        for (int j = 0; j < kk; j++) json_array_append_new(row, json_real(m[i * kk + j]));
        json_array_append_new(mat, row);
    }
    return mat;
}

/* Confusion matrix: one 2x2 per label (multilabel), else one of the classes. */
static int json_set_confusion(const mg_cli *cli, json_t *root, const clf_run *r)
{
    int k = r->d.k, task = r->d.task;
    double *cm = malloc((size_t)(k > 2 ? k * k : 4) * (task == MG_TASK_MULTILABEL ? 4 : 1) * sizeof *cm);
    if (!cm) { mg_error(cli, NULL, "out of memory"); return -1; }
    mg_clf_confusion(&r->A, cm);
    json_t *cmj = json_object(), *labels = json_array(), *mat = json_array();
    if (task == MG_TASK_MULTILABEL) {
        for (int j = 0; j < k; j++) {
            json_array_append_new(labels, json_string(r->d.score_names[j]));
            json_array_append_new(mat, json_matrix(cm + j * 4, 2));
        }
        json_object_set_new(cmj, "labels", labels);
        json_object_set_new(cmj, "per_label", mat);
    } else {
        int kk = task == MG_TASK_BINARY ? 2 : k;
        for (int j = 0; j < kk; j++)
            json_array_append_new(labels, json_string(task == MG_TASK_BINARY ? (j ? "1" : "0") : r->d.score_names[j]));
        json_decref(mat);
        json_object_set_new(cmj, "labels", labels);
        json_object_set_new(cmj, "matrix", json_matrix(cm, kk));
    }
    json_object_set_new(root, "confusion_matrix", cmj);
    free(cm);
    return 0;
}

static void json_set_logistic(json_t *root, const mg_risk *R)
{
    json_t *rj = json_object();
    json_object_set_new(rj, "or_per_sd_ci_low", jnum(R->or_lo));
    json_object_set_new(rj, "or_per_sd_ci_high", jnum(R->or_hi));
    json_object_set_new(rj, "beta", jnum(R->beta));
    json_object_set_new(rj, "beta_se", jnum(R->beta_se));
    json_object_set_new(rj, "intercept", jnum(R->intercept));
    json_object_set_new(rj, "score_mean", jnum(R->mean));
    json_object_set_new(rj, "score_sd", jnum(R->sd));
    json_object_set_new(rj, "iterations", json_integer(R->iterations));
    json_object_set_new(rj, "covariates", json_integer(R->ncov));
    json_object_set_new(root, "logistic", rj);
}

/* DeLong test of two correlated AUCs (binary task); -1 on memory. */
static int json_delong_paired(const mg_cli *cli, json_t *cmp, const clf_run *r, double z)
{
    size_t n = r->d.n;
    double *s2 = malloc(2 * n * sizeof *s2), auc2[2], cov[4];
    if (!s2) { mg_error(cli, NULL, "out of memory"); return -1; }
    memcpy(s2, r->d.s, n * sizeof *s2);
    memcpy(s2 + n, r->s2, n * sizeof *s2);
    int dr = mg_delong(s2, 2, r->A.y, n, NULL, auc2, cov);
    free(s2);
    if (dr == -1) { mg_error(cli, NULL, "out of memory"); return -1; }
    if (dr != 0) return 0;
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
    return 0;
}

/* --compare: DeLong test, model B's metrics, paired bootstrap differences. */
static int json_set_comparison(const mg_cli *cli, json_t *root, const clf_opts *o, const clf_run *r, double z)
{
    int na = r->na;
    json_t *cmp = json_object();
    json_object_set_new(root, "comparison", cmp);
    if (r->d.task == MG_TASK_BINARY && json_delong_paired(cli, cmp, r, z) < 0) return -1;
    json_t *mb = json_object();
    for (int j = 0; j < na; j++) json_object_set_new(mb, r->B.names[j], jnum(r->vals_b[j]));
    json_object_set_new(cmp, "metrics_b", mb);
    if (o->bootstrap <= 0) return 0;
    json_t *bd = json_object();
    for (int j = 0; j < na; j++) {
        double l, h;
        int used;
        mg_boot_interval(r->res, (int)o->bootstrap, r->nout, na + r->nr + j, o->alpha, &l, &h, &used);
        json_t *e = json_object();
        json_object_set_new(e, "difference", jnum(r->vals[j] - r->vals_b[j]));
        json_object_set_new(e, "ci_low", jnum(l));
        json_object_set_new(e, "ci_high", jnum(h));
        json_object_set_new(bd, r->A.names[j], e);
    }
    json_object_set_new(cmp, "bootstrap", bd);
    return 0;
}

/* The whole result as JSON (NULL after an error, reported). */
static json_t *build_results(const mg_cli *cli, const clf_opts *o, const clf_run *r)
{
    json_t *root = json_object();
    json_set_program(root, cli, r->is_risk ? "risk" : "classify");
    json_object_set_new(root, "task", json_string(mg_task_name(r->d.task)));
    json_object_set_new(root, "n", json_integer((json_int_t)r->d.n));
    json_set_ids_options(root, o, r);
    if (o->bootstrap > 0) json_set_bootstrap(root, o->bootstrap, o->seed, r->nskip, o->alpha);
    json_set_metrics(root, o, r);
    double z = mg_norm_ppf(1 - o->alpha / 2);
    if ((r->d.task == MG_TASK_BINARY ? json_set_delong_youden(cli, root, r, z)
                                     : json_set_per_class(cli, root, r, z)) < 0 ||
        json_set_confusion(cli, root, r) < 0)
        goto fail;
    if (r->is_risk) json_set_logistic(root, &r->R);
    if (o->compare && json_set_comparison(cli, root, o, r, z) < 0) goto fail;
    return root;
fail:
    json_decref(root);
    return NULL;
}

static int write_plots(const mg_cli *cli, const clf_opts *o, const clf_run *r)
{
    char err[512];
    mg_plot_data pd = { .s = r->d.s, .y = r->A.y, .asc = r->A.asc, .n = r->d.n, .k = r->d.k,
                        .names = (const char *const *)r->d.score_names, .probabilities = !o->raw,
                        .bins = o->ece_bins, .boot_b = (int)o->bootstrap, .seed = o->seed,
                        .pool = cli->pool, .alpha = o->alpha };
    if (mg_plot_write_all(o->plot, &pd, err, sizeof err) < 0) { mg_error(cli, o->plot, "%s", err); return -1; }
    return 0;
}

/* ---------------- classify / risk ---------------- */

static int main_classify(int argc, char **argv, int is_risk)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_classify;
    clf_opts o = { .id_col = "id", .task = -1, .threshold = 0.5, .alpha = 0.05,
                   .average = MG_AVG_BINARY, .multi_class = MG_OVR, .zero_division = MG_ZD_WARN,
                   .ece_bins = 15, .seed = 1, .ddof = 1 };
    o.raw = is_risk; /* risk scores (e.g. polygenic) are not probabilities */
    int st = parse_clf_opts(&cli, argc, argv, &o);
    if (st >= 0) { mg_cli_free(&cli); return st; }
    clf_run r;
    memset(&r, 0, sizeof r);
    r.is_risk = is_risk;
    r.pred_path = argv[optind];
    r.truth_path = argc - optind == 2 ? argv[optind + 1] : NULL;
    json_t *root = NULL;
    st = 1;

    double t0 = now_s();
    int lr = load_data(&cli, &o, &r);
    if (lr == -2) st = 2;
    if (lr < 0 || init_models(&cli, &o, &r) < 0) goto done;
    mg_info(&cli, "read and joined %zu cases in %.3f s", r.d.n, now_s() - t0);
    t0 = now_s();
    if (compute_full(&cli, &o, &r) < 0) goto done;
    mg_info(&cli, "sorted and computed the metrics in %.3f s", now_s() - t0);
    t0 = now_s();
    if (run_bootstrap(&cli, &o, &r) < 0) goto done;
    if (o.bootstrap > 0) mg_info(&cli, "%ld bootstrap replicates in %.3f s", o.bootstrap, now_s() - t0);
    t0 = now_s();
    if (!(root = build_results(&cli, &o, &r))) goto done;
    mg_info(&cli, "DeLong, Youden, per-class and comparison in %.3f s", now_s() - t0);
    if (o.plot && write_plots(&cli, &o, &r) < 0) goto done;
    if (o.json && write_json(&cli, o.json, root) < 0) goto done;
    if (write_table(&cli, root) < 0) goto done;
    st = 0;
done:
    json_decref(root);
    clf_run_free(&r);
    if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    mg_cli_free(&cli);
    return st;
}

int mg_score_classify(int argc, char **argv) { return main_classify(argc, argv, 0); }
int mg_score_risk(int argc, char **argv) { return main_classify(argc, argv, 1); }

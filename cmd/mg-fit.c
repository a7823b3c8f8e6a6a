/* mg-fit: train a linear head (logistic or ridge regression) on embeddings
 * or other fixed-shape tensors of an mgt stream, labels joined by id; the
 * L2 strength chosen by cross-validation. Writes a head directory
 * (config.json + head.safetensors) that mg-decode classify applies. The
 * objective and solvers are in common/mg_fit.h. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_cli.h"
#include "mg_fit.h"
#include "mg_fit_data.h"
#include "mg_head.h"
#include "mg_output.h"

static const char usage[] =
"Usage: mg-fit [options] --labels LABELS.tsv -o HEAD_DIR [INPUT.mgt]\n"
"Train a linear head on the records of INPUT (stdin when absent or \"-\"):\n"
"logistic regression (binary, multinomial, one-vs-rest multilabel) or ridge\n"
"regression, the exact optimum of scikit-learn's objective on standardised\n"
"inputs, the L2 strength chosen by stratified k-fold cross-validation.\n"
"\n"
"Data:\n"
"      --labels FILE        labels table (TSV): an id column and label columns\n"
"      --input NAME         tensor of each record to train on (flattened)\n"
"                           [embedding]\n"
"      --id-col NAME        id column of the labels [id]\n"
"      --label-col A[,B..]  label columns [every column but the id]\n"
"      --task T             binary, multiclass, multilabel or regression\n"
"                           [from the labels]\n"
"Model:\n"
"      --C C                inverse L2 strength, scikit-learn's C (no\n"
"                           cross-validation)\n"
"      --alpha A            ridge: scikit-learn's Ridge alpha (C = 1/alpha)\n"
"      --grid V1,V2,..      values of C (ridge: alpha) to cross-validate\n"
"                           [8 values 1e-4 .. 1e4, as numpy.logspace(-4,4,8)]\n"
"      --cv K               folds [5]\n"
"      --cv-score S         accuracy or log-loss (classification; ridge: R2)\n"
"                           [accuracy, as LogisticRegressionCV]\n"
"      --seed S             seed of the fold assignment [1]\n"
"      --class-weight W     none or balanced [none]\n"
"      --no-standardize     fit on the raw inputs (mean 0, scale 1)\n"
"      --tol T              gradient tolerance [1e-10]\n"
"      --max-iter N         Newton iterations per fit [100]\n"
"Output:\n"
"  -o, --output DIR         head directory (written whole or not at all)\n"
"      --json FILE          fit report as JSON (CV score per grid value)\n"
"      --folds-out FILE     fold of each training id (TSV id, fold)\n"
"  -@, --threads N          threads [1]; results do not depend on N\n"
"  -q, --quiet              no warnings, no report on stderr\n"
"  -v, --verbose            progress on stderr\n"
"      --no-version         no version in config.json\n"
"  -h, --help               this help\n"
"      --version            print the version\n";

enum { O_LABELS = MG_OPT_FIRST_OWN, O_INPUT, O_IDCOL, O_LABELCOL, O_TASK, O_C, O_ALPHA, O_GRID,
       O_CV, O_CVSCORE, O_SEED, O_CW, O_NOSTD, O_TOL, O_MAXIT, O_JSON, O_FOLDS };

static json_t *jreal(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *jstrv(char **v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The fit report: per fitted problem the chosen value, CV means and folds. */
static json_t *report_json(const mg_fit_result *r, const mg_fit_labels *lab, const mg_fit_params *p, int ridge)
{
    json_t *o = json_object(), *probs = json_array();
    json_object_set_new(o, "task", json_string(mg_fit_task_name(r->task)));
    json_object_set_new(o, "n_samples", json_integer(r->n));
    json_object_set_new(o, "n_features", json_integer(r->d));
    json_object_set_new(o, "parameter", json_string(ridge ? "alpha" : "C"));
    json_t *g = json_array();
    for (int i = 0; i < p->ngrid; i++) json_array_append_new(g, jreal(p->grid[i]));
    json_object_set_new(o, "grid", g);
    json_object_set_new(o, "folds", r->folds ? json_integer(r->folds) : json_null());
    json_object_set_new(o, "cv_score", r->folds ? json_string(ridge ? "r2" : p->cv_score == MG_CV_LOG_LOSS ? "neg_log_loss" : "accuracy") : json_null());
    for (int pi = 0; pi < r->nprob; pi++) {
        json_t *e = json_object();
        json_object_set_new(e, "output", json_string(r->nprob == 1 && r->task != MG_FIT_BINARY ? "all" : lab->outputs[pi]));
        json_object_set_new(e, ridge ? "alpha" : "C", jreal(r->chosen[pi]));
        json_object_set_new(e, "iterations", json_integer(r->info[pi].iterations));
        json_object_set_new(e, "cg_iterations", json_integer(r->info[pi].cg_iterations));
        json_object_set_new(e, "converged", json_boolean(r->info[pi].converged));
        json_object_set_new(e, "objective", jreal(r->info[pi].objective));
        json_object_set_new(e, "gradient_max", jreal(r->info[pi].grad_max));
        if (r->folds) {
            json_t *m = json_array(), *f = json_array();
            for (int gi = 0; gi < r->ngrid; gi++) {
                json_array_append_new(m, jreal(r->cv_mean[(size_t)pi * r->ngrid + gi]));
                json_t *ff = json_array();
                for (int k = 0; k < r->folds; k++)
                    json_array_append_new(ff, jreal(r->cv_fold[((size_t)pi * r->ngrid + gi) * r->folds + k]));
                json_array_append_new(f, ff);
            }
            json_object_set_new(e, "cv_mean", m);
            json_object_set_new(e, "cv_folds", f);
        }
        json_array_append_new(probs, e);
    }
    json_object_set_new(o, "fits", probs);
    return o;
}

int main(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-fit", argc, argv);
    cli.usage = usage;
    static const struct option own[] = {
        {"labels", required_argument, 0, O_LABELS}, {"input", required_argument, 0, O_INPUT},
        {"id-col", required_argument, 0, O_IDCOL}, {"label-col", required_argument, 0, O_LABELCOL},
        {"task", required_argument, 0, O_TASK}, {"C", required_argument, 0, O_C},
        {"alpha", required_argument, 0, O_ALPHA}, {"grid", required_argument, 0, O_GRID},
        {"cv", required_argument, 0, O_CV}, {"cv-score", required_argument, 0, O_CVSCORE},
        {"seed", required_argument, 0, O_SEED}, {"class-weight", required_argument, 0, O_CW},
        {"no-standardize", no_argument, 0, O_NOSTD}, {"tol", required_argument, 0, O_TOL},
        {"max-iter", required_argument, 0, O_MAXIT}, {"json", required_argument, 0, O_JSON},
        {"folds-out", required_argument, 0, O_FOLDS}, {0, 0, 0, 0}
    };
    struct option *lo = mg_cli_long_options(own);
    const char *labels = NULL, *input = "embedding", *id_col = "id", *label_cols = NULL;
    const char *json_path = NULL, *folds_path = NULL, *grid_s = NULL;
    int task = 0, have_c = 0, have_alpha = 0, c, status = 2;
    double fixed = 0, grid[4096];
    long v;
    mg_fit_params p = mg_fit_default_params();
    cli.output = NULL;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT, lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: free(lo); mg_cli_free(&cli); return 0;
        case MG_CLI_USAGE: goto usage_fail;
        default: break;
        }
        switch (c) {
        case O_LABELS: labels = optarg; break;
        case O_INPUT: input = optarg; break;
        case O_IDCOL: id_col = optarg; break;
        case O_LABELCOL: label_cols = optarg; break;
        case O_TASK:
            if (!(task = mg_fit_task_from_name(optarg))) { mg_usage_error(&cli, "--task: binary, multiclass, multilabel or regression"); goto usage_fail; }
            break;
        case O_C: case O_ALPHA:
            if (mg_parse_double(optarg, &fixed) < 0 || !(fixed > 0)) { mg_usage_error(&cli, "--%s: a positive number", c == O_C ? "C" : "alpha"); goto usage_fail; }
            if (c == O_C) have_c = 1; else have_alpha = 1;
            break;
        case O_GRID: grid_s = optarg; break;
        case O_CV:
            if (mg_parse_long(optarg, 2, 1000, &v) < 0) { mg_usage_error(&cli, "--cv: folds from 2 to 1000"); goto usage_fail; }
            p.folds = (int)v;
            break;
        case O_CVSCORE:
            if (!strcmp(optarg, "accuracy")) p.cv_score = MG_CV_ACCURACY;
            else if (!strcmp(optarg, "log-loss")) p.cv_score = MG_CV_LOG_LOSS;
            else { mg_usage_error(&cli, "--cv-score: accuracy or log-loss"); goto usage_fail; }
            break;
        case O_SEED:
            if (mg_parse_long(optarg, 0, 0x7fffffffffffffffL, &v) < 0) { mg_usage_error(&cli, "--seed: a non-negative integer"); goto usage_fail; }
            p.seed = (uint64_t)v;
            break;
        case O_CW:
            if (!strcmp(optarg, "balanced")) p.balanced = 1;
            else if (!strcmp(optarg, "none")) p.balanced = 0;
            else { mg_usage_error(&cli, "--class-weight: none or balanced"); goto usage_fail; }
            break;
        case O_NOSTD: p.standardize = 0; break;
        case O_TOL:
            if (mg_parse_double(optarg, &p.solve.tol) < 0 || !(p.solve.tol > 0)) { mg_usage_error(&cli, "--tol: a positive number"); goto usage_fail; }
            break;
        case O_MAXIT:
            if (mg_parse_long(optarg, 1, 100000, &v) < 0) { mg_usage_error(&cli, "--max-iter: 1 to 100000"); goto usage_fail; }
            p.solve.max_iter = (int)v;
            break;
        case O_JSON: json_path = optarg; break;
        case O_FOLDS: folds_path = optarg; break;
        default: mg_usage_error(&cli, "unknown option"); goto usage_fail;
        }
    }
    free(lo); lo = NULL;
    if (!labels) { mg_usage_error(&cli, "--labels is required"); mg_cli_free(&cli); return 2; }
    if (!cli.output || !strcmp(cli.output, "-")) { mg_usage_error(&cli, "-o HEAD_DIR is required"); mg_cli_free(&cli); return 2; }
    if (argc - optind > 1) { mg_usage_error(&cli, "one input stream at most"); mg_cli_free(&cli); return 2; }
    if ((have_c || have_alpha) + (grid_s != NULL) > 1 || (have_c && have_alpha)) {
        mg_usage_error(&cli, "--C, --alpha and --grid exclude each other");
        mg_cli_free(&cli);
        return 2;
    }
    int ngrid = 0;
    if (have_c || have_alpha) grid[ngrid++] = fixed;
    else if (grid_s) {
        char *s = strdup(grid_s), *save = NULL;
        for (char *t = s ? strtok_r(s, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
            double x;
            if (ngrid == 4096 || mg_parse_double(t, &x) < 0 || !(x > 0)) {
                mg_usage_error(&cli, "--grid: positive numbers separated by commas");
                free(s); mg_cli_free(&cli);
                return 2;
            }
            grid[ngrid++] = x;
        }
        free(s);
        if (!ngrid) { mg_usage_error(&cli, "--grid: no values"); mg_cli_free(&cli); return 2; }
    } else {
        mg_fit_default_grid(grid);
        ngrid = 8;
    }
    p.grid = grid; p.ngrid = ngrid;
    p.solve.pool = cli.pool;
    const char *in_path = optind < argc ? argv[optind] : "-";

    char err[1024];
    mg_fit_inputs in;
    mg_fit_labels lab;
    mg_fit_result res;
    memset(&lab, 0, sizeof lab);
    memset(&res, 0, sizeof res);
    json_t *cfg = NULL, *rep = NULL;
    char *cfg_s = NULL;
    status = 1;
    if (mg_fit_read_inputs(in_path, input, &in, err, sizeof err) < 0) {
        mg_error(&cli, in_path, "%s", err);
        mg_cli_free(&cli);
        return 1;
    }
    int jr = mg_fit_join_labels(&in, in_path, labels, id_col, label_cols, task, &lab, err, sizeof err);
    if (jr < 0) { mg_error(&cli, jr == -2 ? in_path : labels, "%s", err); goto done; }
    if (lab.stream_only)
        mg_warn(&cli, in_path, "%zu id(s) without a label (first: %s); left out", lab.stream_only, lab.first_stream_only);
    if (lab.labels_only)
        mg_warn(&cli, labels, "%zu id(s) without a record (first: %s); left out", lab.labels_only, lab.first_labels_only);
    int ridge = lab.task == MG_FIT_REGRESSION;
    if (have_c && ridge) { mg_usage_error(&cli, "regression takes --alpha, not --C"); status = 2; goto done; }
    if (have_alpha && !ridge) { mg_usage_error(&cli, "classification takes --C, not --alpha"); status = 2; goto done; }
    if (p.balanced && ridge) { mg_usage_error(&cli, "--class-weight applies to classification only"); status = 2; goto done; }
    /* training rows in stream order, compacted in place */
    for (int64_t i = 0; i < lab.n; i++)
        if (lab.row[i] != i)
            memcpy(in.x + (size_t)i * in.d, in.x + (size_t)lab.row[i] * in.d, (size_t)in.d * sizeof *in.x);
    mg_fit_targets t = { lab.task, lab.nout, lab.cls, lab.y };
    if (p.ngrid > 1 && lab.n < p.folds) { mg_error(&cli, labels, "%lld rows for %d folds", (long long)lab.n, p.folds); goto done; }
    mg_info(&cli, "%lld rows, %d inputs, task %s, %d grid value(s)", (long long)lab.n, in.d, mg_fit_task_name(lab.task), p.ngrid);
    mg_cli_progress_begin(&cli, "fits", p.ngrid > 1 ? (uint64_t)p.folds * (uint64_t)p.ngrid + 1 : 1);
    p.progress = cli.progress;
    int fit_rc = mg_fit_train(in.x, lab.n, in.d, &t, &p, &res, err, sizeof err);
    mg_cli_progress_end(&cli);
    if (fit_rc < 0) {
        /* data errors name a class (or label column) */
        if (res.nprob < 0 && (lab.task == MG_FIT_BINARY || lab.task == MG_FIT_MULTICLASS)) {
            int cl = -res.nprob - 1;
            const char *msg = strstr(err, "has no examples");
            mg_error(&cli, labels, "class '%s' %s", lab.classes[cl], msg ? msg : err);
        } else if (res.nprob < 0) {
            int cl = -res.nprob - 1;
            const char *msg = strchr(err, ':');
            mg_error(&cli, labels, "label column %s%s", lab.outputs[cl], msg ? msg : err);
        } else mg_error(&cli, in_path, "%s", err);
        goto done;
    }
    for (int pi = 0; pi < res.nprob; pi++)
        if (!res.info[pi].converged)
            mg_warn(&cli, NULL, "%s: no convergence in %d iterations (max |gradient|/C %.3g); --max-iter",
                    res.nprob > 1 ? lab.outputs[pi] : "fit", res.info[pi].iterations, res.info[pi].grad_max);
    /* the head */
    mg_head h = { 0 };
    h.task = lab.task; h.d = in.d; h.k = res.nrows_theta; h.nout = lab.nout;
    h.mean = res.mean; h.scale = res.scale;
    h.weight = malloc((size_t)h.k * (size_t)h.d * sizeof *h.weight);
    h.bias = malloc((size_t)h.k * sizeof *h.bias);
    if (!h.weight || !h.bias) { free(h.weight); free(h.bias); mg_error(&cli, NULL, "out of memory"); goto done; }
    for (int k = 0; k < h.k; k++) {
        memcpy(h.weight + (size_t)k * h.d, res.theta + (size_t)k * (h.d + 1), (size_t)h.d * sizeof *h.weight);
        h.bias[k] = res.theta[(size_t)k * (h.d + 1) + h.d];
    }
    rep = report_json(&res, &lab, &p, ridge);
    cfg = json_object();
    json_object_set_new(cfg, "model_type", json_string(MG_HEAD_MODEL_TYPE));
    json_object_set_new(cfg, "task", json_string(mg_fit_task_name(lab.task)));
    json_object_set_new(cfg, "input_name", json_string(input));
    json_object_set_new(cfg, "input_dim", json_integer(in.d));
    json_t *shp = json_array();
    for (int a = 0; a < in.ndim; a++) json_array_append_new(shp, json_integer(in.shape[a]));
    if (in.ndim == 0) json_array_append_new(shp, json_integer(1));
    json_object_set_new(cfg, "input_shape", shp);
    json_object_set_new(cfg, "outputs", jstrv(lab.outputs, lab.nout));
    json_object_set_new(cfg, "classes", lab.classes ? jstrv(lab.classes, lab.nclasses) : json_null());
    json_object_set_new(cfg, "label_columns", jstrv(lab.label_cols, lab.nlabel));
    json_object_set_new(cfg, "output_kind", json_string(ridge ? "value" : lab.task == MG_FIT_MULTICLASS ? "softmax" : "sigmoid"));
    json_object_set_new(cfg, "normalization", json_string(p.standardize ? "standard" : "none"));
    json_object_set_new(cfg, "objective", json_string(ridge ? "0.5*|w|^2 + (1/alpha)*sum(0.5*(y-z)^2)" :
                        lab.task == MG_FIT_MULTICLASS ? "0.5*|W|^2 + C*sum(sw*cross_entropy(softmax(z)))"
                                                       : "0.5*|w|^2 + C*sum(sw*log_loss(sigmoid(z)))"));
    json_object_set_new(cfg, "class_weight", p.balanced ? json_string("balanced") : json_null());
    json_object_set_new(cfg, "solver", json_string(ridge ? "newton (closed form)" : lab.task == MG_FIT_MULTICLASS ? "newton-cg" : "newton"));
    json_object_set_new(cfg, "tol", json_real(p.solve.tol));
    json_object_set_new(cfg, "seed", json_integer((json_int_t)p.seed));
    json_object_set(cfg, "fit", rep);
    if (!cli.no_version) json_object_set_new(cfg, "mgpipe_version", json_string(MG_VERSION));
    cfg_s = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (!cfg_s) { free(h.weight); free(h.bias); mg_error(&cli, NULL, "out of memory"); goto done; }
    /* side files first, so that a failure leaves no head */
    if (folds_path) {
        mg_ofile *f = mg_ofile_open(folds_path, NULL, err, sizeof err);
        if (!f) { free(h.weight); free(h.bias); mg_error(&cli, folds_path, "%s", err); goto done; }
        FILE *fp = mg_ofile_fp(f);
        fprintf(fp, "id\tfold\n");
        for (int64_t i = 0; i < lab.n; i++) fprintf(fp, "%s\t%d\n", in.ids[lab.row[i]], res.fold ? res.fold[i] : 0);
        if (mg_ofile_close(f, !ferror(fp), err, sizeof err) < 0) {
            free(h.weight); free(h.bias); mg_error(&cli, folds_path, "%s", err); goto done;
        }
    }
    if (json_path) {
        mg_ofile *f = mg_ofile_open(json_path, NULL, err, sizeof err);
        if (!f) { free(h.weight); free(h.bias); mg_error(&cli, json_path, "%s", err); goto done; }
        FILE *fp = mg_ofile_fp(f);
        int ok = json_dumpf(rep, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) == 0 && fputc('\n', fp) != EOF;
        if (mg_ofile_close(f, ok, err, sizeof err) < 0) {
            free(h.weight); free(h.bias); mg_error(&cli, json_path, "%s", err); goto done;
        }
    }
    int sr = mg_head_save(&h, cfg_s, cli.output, err, sizeof err);
    free(h.weight); free(h.bias);
    if (sr < 0) { mg_error(&cli, cli.output, "%s", err); goto done; }
    if (!cli.quiet) {
        for (int pi = 0; pi < res.nprob; pi++) {
            fprintf(stderr, "mg-fit: %s: %s %.6g", res.nprob > 1 ? lab.outputs[pi] : mg_fit_task_name(lab.task),
                    ridge ? "alpha" : "C", res.chosen[pi]);
            if (res.folds) {
                fprintf(stderr, "; %d-fold CV %s:", res.folds, ridge ? "R2" : p.cv_score == MG_CV_LOG_LOSS ? "-log-loss" : "accuracy");
                for (int gi = 0; gi < res.ngrid; gi++) fprintf(stderr, " %.4g", res.cv_mean[(size_t)pi * res.ngrid + gi]);
            }
            fprintf(stderr, "; %d Newton iterations\n", res.info[pi].iterations);
        }
    }
    status = 0;
done:
    free(cfg_s);
    json_decref(cfg); json_decref(rep);
    mg_fit_result_free(&res);
    mg_fit_labels_free(&lab);
    mg_fit_inputs_free(&in);
    mg_cli_free(&cli);
    return status;
usage_fail:
    free(lo);
    mg_cli_free(&cli);
    return 2;
}

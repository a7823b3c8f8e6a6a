/* mg-fit: train a linear head (logistic or ridge regression) on embeddings
 * or other fixed-shape tensors of an mgt stream, labels joined by id; the
 * L2 strength chosen by cross-validation; or with --mlp a one-hidden-layer
 * MLP (mg_mlp_train). Writes a head directory
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
"      --seed S             seed of the folds (--mlp: of the validation split,\n"
"                           initial weights and batch order) [1]\n"
"      --class-weight W     none or balanced [none]\n"
"      --no-standardize     fit on the raw inputs (mean 0, scale 1)\n"
"      --tol T              gradient tolerance [1e-10]\n"
"      --max-iter N         Newton iterations per fit [100]\n"
"MLP (instead of the linear head):\n"
"      --mlp H              one hidden layer of H ReLU units, trained by Adam\n"
"                           on mini-batches with early stopping\n"
"      --mlp-batch B        rows per step [128]\n"
"      --mlp-epochs N       epochs at most [200]\n"
"      --mlp-patience P     stop after P epochs without a lower validation\n"
"                           loss [10]\n"
"      --mlp-lr R           Adam learning rate [0.001] (betas 0.9, 0.999,\n"
"                           eps 1e-8)\n"
"      --mlp-weight-decay W L2 added to the weights' gradients, as\n"
"                           torch.optim.Adam's weight_decay [0.0001]\n"
"      --mlp-val F          fraction held out for early stopping, stratified\n"
"                           by class [0.1]; 0: no early stopping\n"
"Output:\n"
"  -o, --output DIR         head directory (written whole or not at all)\n"
"      --json FILE          fit report as JSON (CV score per grid value)\n"
"      --folds-out FILE     fold of each training id (TSV id, fold; --mlp:\n"
"                           id, split: train or validation)\n"
"  -@, --threads N          threads [1]; results do not depend on N\n"
"  -q, --quiet              no warnings, no report on stderr\n"
"  -v, --verbose            progress on stderr\n"
"      --no-version         no version in config.json\n"
"  -h, --help               this help\n"
"      --version            print the version\n";

enum { O_LABELS = MG_OPT_FIRST_OWN, O_INPUT, O_IDCOL, O_LABELCOL, O_TASK, O_C, O_ALPHA, O_GRID,
       O_CV, O_CVSCORE, O_SEED, O_CW, O_NOSTD, O_TOL, O_MAXIT, O_JSON, O_FOLDS, O_MLP, O_MLP_BATCH,
       O_MLP_EPOCHS, O_MLP_PATIENCE, O_MLP_LR, O_MLP_WD, O_MLP_VAL };

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

/* config.json keys every head has: model_type, task, input name, dimension
 * and shape, output columns, classes, label columns, output kind,
 * normalisation. */
static json_t *config_base(const char *model_type, const mg_fit_inputs *in, const mg_fit_labels *lab,
                           const char *input, int standardize)
{
    json_t *cfg = json_object();
    json_object_set_new(cfg, "model_type", json_string(model_type));
    json_object_set_new(cfg, "task", json_string(mg_fit_task_name(lab->task)));
    json_object_set_new(cfg, "input_name", json_string(input));
    json_object_set_new(cfg, "input_dim", json_integer(in->d));
    json_t *shp = json_array();
    for (int a = 0; a < in->ndim; a++) json_array_append_new(shp, json_integer(in->shape[a]));
    if (in->ndim == 0) json_array_append_new(shp, json_integer(1));
    json_object_set_new(cfg, "input_shape", shp);
    json_object_set_new(cfg, "outputs", jstrv(lab->outputs, lab->nout));
    json_object_set_new(cfg, "classes", lab->classes ? jstrv(lab->classes, lab->nclasses) : json_null());
    json_object_set_new(cfg, "label_columns", jstrv(lab->label_cols, lab->nlabel));
    json_object_set_new(cfg, "output_kind", json_string(lab->task == MG_FIT_REGRESSION ? "value"
                        : lab->task == MG_FIT_MULTICLASS ? "softmax" : "sigmoid"));
    json_object_set_new(cfg, "normalization", json_string(standardize ? "standard" : "none"));
    return cfg;
}

/* --folds-out (fold of each row, or with split the validation split) and
 * --json (the report), each written whole or not at all. 0 or -1 (reported). */
static int write_side_files(mg_cli *cli, const mg_fit_inputs *in, const mg_fit_labels *lab, const int *fold,
                            int split, json_t *rep, const char *folds_path, const char *json_path)
{
    char err[1024];
    if (folds_path) {
        mg_ofile *f = mg_ofile_open(folds_path, NULL, err, sizeof err);
        if (!f) { mg_error(cli, folds_path, "%s", err); return -1; }
        FILE *fp = mg_ofile_fp(f);
        fprintf(fp, split ? "id\tsplit\n" : "id\tfold\n");
        for (int64_t i = 0; i < lab->n; i++) {
            if (split) fprintf(fp, "%s\t%s\n", in->ids[lab->row[i]], fold[i] ? "validation" : "train");
            else fprintf(fp, "%s\t%d\n", in->ids[lab->row[i]], fold ? fold[i] : 0);
        }
        if (mg_ofile_close(f, !ferror(fp), err, sizeof err) < 0) { mg_error(cli, folds_path, "%s", err); return -1; }
    }
    if (json_path) {
        mg_ofile *f = mg_ofile_open(json_path, NULL, err, sizeof err);
        if (!f) { mg_error(cli, json_path, "%s", err); return -1; }
        FILE *fp = mg_ofile_fp(f);
        int ok = json_dumpf(rep, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) == 0 && fputc('\n', fp) != EOF;
        if (mg_ofile_close(f, ok, err, sizeof err) < 0) { mg_error(cli, json_path, "%s", err); return -1; }
    }
    return 0;
}

/* --mlp: train, write the side files and the head. 0 or -1 (reported). */
static int fit_mlp(mg_cli *cli, const mg_fit_inputs *in, const mg_fit_labels *lab, const mg_fit_targets *t,
                   const mg_mlp_params *mp, const char *input, const char *in_path, const char *json_path,
                   const char *folds_path)
{
    char err[1024];
    mg_mlp_result r;
    json_t *cfg = NULL, *rep = NULL;
    char *cfg_s = NULL;
    int rc = -1;
    mg_info(cli, "%lld rows, %d inputs, task %s, MLP with %d hidden units", (long long)lab->n, in->d,
            mg_fit_task_name(lab->task), mp->hidden);
    int trc = mg_mlp_train(in->x, lab->n, in->d, t, mp, &r, err, sizeof err);
    mg_cli_progress_end(cli);
    if (trc < 0) {
        mg_error(cli, in_path, "%s", err);
        return -1;
    }
    rep = json_object();
    json_object_set_new(rep, "task", json_string(mg_fit_task_name(lab->task)));
    json_object_set_new(rep, "n_samples", json_integer(lab->n));
    json_object_set_new(rep, "n_features", json_integer(in->d));
    json_object_set_new(rep, "n_validation", json_integer(r.n_val));
    json_object_set_new(rep, "epochs", json_integer(r.epochs));
    json_object_set_new(rep, "best_epoch", json_integer(r.best_epoch));
    json_t *tl = json_array(), *vl = json_array();
    for (int e = 0; e < r.epochs; e++) {
        json_array_append_new(tl, jreal(r.train_loss[e]));
        json_array_append_new(vl, jreal(r.val_loss[e]));
    }
    json_object_set_new(rep, "train_loss", tl);
    json_object_set_new(rep, "validation_loss", vl);
    cfg = config_base(MG_HEAD_MLP_MODEL_TYPE, in, lab, input, mp->standardize);
    json_object_set_new(cfg, "hidden_size", json_integer(mp->hidden));
    json_object_set_new(cfg, "hidden_act", json_string("relu"));
    json_t *opt = json_object();
    json_object_set_new(opt, "name", json_string("adam"));
    json_object_set_new(opt, "lr", json_real(mp->lr));
    json_t *betas = json_array();
    json_array_append_new(betas, json_real(mp->beta1));
    json_array_append_new(betas, json_real(mp->beta2));
    json_object_set_new(opt, "betas", betas);
    json_object_set_new(opt, "eps", json_real(mp->eps));
    json_object_set_new(opt, "weight_decay", json_real(mp->weight_decay));
    json_object_set_new(cfg, "optimizer", opt);
    json_object_set_new(cfg, "batch_size", json_integer(mp->batch));
    json_object_set_new(cfg, "max_epochs", json_integer(mp->max_epochs));
    json_object_set_new(cfg, "patience", json_integer(mp->patience));
    json_object_set_new(cfg, "validation_fraction", json_real(mp->val));
    json_object_set_new(cfg, "seed", json_integer((json_int_t)mp->seed));
    json_object_set(cfg, "fit", rep);
    if (!cli->no_version) json_object_set_new(cfg, "mgpipe_version", json_string(MG_VERSION));
    if (!(cfg_s = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)))) {
        mg_error(cli, NULL, "out of memory");
        goto done;
    }
    if (write_side_files(cli, in, lab, r.validation, 1, rep, folds_path, json_path) < 0) goto done;
    mg_head h = { .task = lab->task, .d = in->d, .k = r.k, .nout = lab->nout, .mean = r.mean, .scale = r.scale,
                  .weight = r.w2, .bias = r.b2, .hidden = r.hidden, .hidden_weight = r.w1, .hidden_bias = r.b1 };
    if (mg_head_save(&h, cfg_s, cli->output, err, sizeof err) < 0) { mg_error(cli, cli->output, "%s", err); goto done; }
    if (!cli->quiet)
        fprintf(stderr, "mg-fit: MLP %d hidden units: %d epoch(s), kept epoch %d (validation loss %.6g)\n",
                r.hidden, r.epochs, r.best_epoch, r.n_val ? r.val_loss[r.best_epoch - 1] : NAN);
    rc = 0;
done:
    free(cfg_s);
    json_decref(cfg); json_decref(rep);
    mg_mlp_result_free(&r);
    return rc;
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
        {"folds-out", required_argument, 0, O_FOLDS}, {"mlp", required_argument, 0, O_MLP},
        {"mlp-batch", required_argument, 0, O_MLP_BATCH}, {"mlp-epochs", required_argument, 0, O_MLP_EPOCHS},
        {"mlp-patience", required_argument, 0, O_MLP_PATIENCE}, {"mlp-lr", required_argument, 0, O_MLP_LR},
        {"mlp-weight-decay", required_argument, 0, O_MLP_WD}, {"mlp-val", required_argument, 0, O_MLP_VAL},
        {0, 0, 0, 0}
    };
    struct option *lo = mg_cli_long_options(own);
    const char *labels = NULL, *input = "embedding", *id_col = "id", *label_cols = NULL;
    const char *json_path = NULL, *folds_path = NULL, *grid_s = NULL;
    int task = 0, have_c = 0, have_alpha = 0, c, status = 2;
    double fixed = 0, grid[4096];
    long v;
    mg_fit_params p = mg_fit_default_params();
    mg_mlp_params mp = mg_mlp_default_params();
    int mlp = 0, mlp_opts = 0, linear_opts = 0;
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
            linear_opts = 1;
            break;
        case O_GRID: grid_s = optarg; linear_opts = 1; break;
        case O_CV:
            if (mg_parse_long(optarg, 2, 1000, &v) < 0) { mg_usage_error(&cli, "--cv: folds from 2 to 1000"); goto usage_fail; }
            p.folds = (int)v;
            linear_opts = 1;
            break;
        case O_CVSCORE:
            if (!strcmp(optarg, "accuracy")) p.cv_score = MG_CV_ACCURACY;
            else if (!strcmp(optarg, "log-loss")) p.cv_score = MG_CV_LOG_LOSS;
            else { mg_usage_error(&cli, "--cv-score: accuracy or log-loss"); goto usage_fail; }
            break;
        case O_SEED:
            if (mg_parse_long(optarg, 0, 0x7fffffffffffffffL, &v) < 0) { mg_usage_error(&cli, "--seed: a non-negative integer"); goto usage_fail; }
            p.seed = mp.seed = (uint64_t)v;
            break;
        case O_CW:
            if (!strcmp(optarg, "balanced")) p.balanced = 1;
            else if (!strcmp(optarg, "none")) p.balanced = 0;
            else { mg_usage_error(&cli, "--class-weight: none or balanced"); goto usage_fail; }
            linear_opts = 1;
            break;
        case O_NOSTD: p.standardize = mp.standardize = 0; break;
        case O_TOL:
            if (mg_parse_double(optarg, &p.solve.tol) < 0 || !(p.solve.tol > 0)) { mg_usage_error(&cli, "--tol: a positive number"); goto usage_fail; }
            break;
        case O_MAXIT:
            if (mg_parse_long(optarg, 1, 100000, &v) < 0) { mg_usage_error(&cli, "--max-iter: 1 to 100000"); goto usage_fail; }
            p.solve.max_iter = (int)v;
            break;
        case O_JSON: json_path = optarg; break;
        case O_FOLDS: folds_path = optarg; break;
        case O_MLP: case O_MLP_BATCH: case O_MLP_EPOCHS: case O_MLP_PATIENCE:
            if (mg_parse_long(optarg, 1, c == O_MLP ? MG_HEAD_MAX_HIDDEN : 1000000, &v) < 0) {
                mg_usage_error(&cli, "--%s: a positive integer", c == O_MLP ? "mlp" : c == O_MLP_BATCH ? "mlp-batch"
                               : c == O_MLP_EPOCHS ? "mlp-epochs" : "mlp-patience");
                goto usage_fail;
            }
            if (c == O_MLP) { mp.hidden = (int)v; mlp = 1; }
            else if (c == O_MLP_BATCH) mp.batch = (int)v;
            else if (c == O_MLP_EPOCHS) mp.max_epochs = (int)v;
            else mp.patience = (int)v;
            mlp_opts |= c != O_MLP;
            break;
        case O_MLP_LR: case O_MLP_WD: case O_MLP_VAL: {
            double *dst = c == O_MLP_LR ? &mp.lr : c == O_MLP_WD ? &mp.weight_decay : &mp.val;
            int okv = mg_parse_double(optarg, dst) == 0 && (c == O_MLP_LR ? *dst > 0 : *dst >= 0) &&
                      (c != O_MLP_VAL || *dst < 1) && isfinite(*dst);
            if (!okv) {
                mg_usage_error(&cli, "%s", c == O_MLP_LR ? "--mlp-lr: a positive number" : c == O_MLP_WD
                               ? "--mlp-weight-decay: a number >= 0" : "--mlp-val: a fraction in [0, 1)");
                goto usage_fail;
            }
            mlp_opts = 1;
            break;
        }
        default: mg_usage_error(&cli, "unknown option"); goto usage_fail;
        }
    }
    free(lo); lo = NULL;
    if (mlp_opts && !mlp) { mg_usage_error(&cli, "--mlp-* options need --mlp H"); mg_cli_free(&cli); return 2; }
    if (mlp && linear_opts) {
        mg_usage_error(&cli, "--mlp excludes --C, --alpha, --grid, --cv and --class-weight");
        mg_cli_free(&cli);
        return 2;
    }
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
    if (mlp) {
        mp.pool = cli.pool;
        mg_cli_progress_begin(&cli, "epochs", (uint64_t)mp.max_epochs);
        mp.progress = cli.progress;
        status = fit_mlp(&cli, &in, &lab, &t, &mp, input, in_path, json_path, folds_path) < 0 ? 1 : 0;
        goto done;
    }
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
    cfg = config_base(MG_HEAD_MODEL_TYPE, &in, &lab, input, p.standardize);
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
    if (write_side_files(&cli, &in, &lab, res.fold, 0, rep, folds_path, json_path) < 0) {
        free(h.weight); free(h.bias);
        goto done;
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

/* The shared part of mg-score report and vqa: options, per-case tables,
 * bootstrap means and output. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mg_metrics.h"
#include "mg_metrics_boot.h"
#include "mg_dataset.h"
#include "mg_metrics_tsv.h"
#include "score.h"


int mean_stat(void *vc, const double *w, double *out)
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

int run_text_output(mg_cli *cli, const text_opts *o, const char *command, size_t n,
                           const char *const *names, int nm, const double *vals,
                           mean_ctx *mc, json_t *extra)
{
    double *res = NULL;
    int nskip = 0, st = -1;
    json_t *root = json_object();
    if (o->bootstrap > 0) {
        res = malloc((size_t)o->bootstrap * (size_t)nm * sizeof *res);
        mg_cli_progress_begin(cli, "bootstrap replicates", (uint64_t)o->bootstrap);
        int brc = res ? mg_bootstrap(n, (int)o->bootstrap, o->seed, cli->pool, nm, mean_stat, mc, res, &nskip,
                                     cli->progress) : -1;
        mg_cli_progress_end(cli);
        if (brc < 0) {
            mg_error(cli, NULL, "bootstrap failed (out of memory)");
            goto done;
        }
    }
    json_set_program(root, cli, command);
    json_object_set_new(root, "n", json_integer((json_int_t)n));
    if (extra) json_object_update(root, extra);
    if (o->bootstrap > 0) json_set_bootstrap(root, o->bootstrap, o->seed, nskip, o->alpha);
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
int write_per_case(mg_cli *cli, const char *path, const char *const *cols, int K,
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
        mg_error(cli, strcmp(path, "-") ? path : "(stdout)", "%s", err[0] ? err : "write failed");
        return -1;
    }
    return 0;
}

/* One option of report or vqa into o; 0, or -1 after a usage message. */
static int set_text_option(mg_cli *cli, int c, const char *arg, const char *name, void *opts)
{
    static const char *const tok_names[] = { "none", "simple", "ptb" };
    static const char *const unc_names[] = { "negative", "positive" };
    static const char *const code_names[] = { "chexpert", "chexbert" };
    static const char *const compat_names[] = { "exact", "llava-med" };
    text_opts *o = opts;
    int bad = 0;
    switch (c) {
    case O_ID: o->id_col = arg; break;
    case O_HYPCOL: o->text_col = arg; break;
    case O_TYPECOL: o->type_col = arg; break;
    case O_TOKENIZE: bad = (o->tokenize = parse_choice(arg, tok_names, 3)) < 0; break;
    case O_CHEX: o->chexpert = 1; break;
    case O_SACRE: o->sacrebleu = 1; break;
    case O_PERCASE: o->per_case = arg; break;
    case O_RADGRAPH: o->radgraph = 1; break;
    case O_UNCERTAIN: bad = (o->uncertain_pos = parse_choice(arg, unc_names, 2)) < 0; break;
    case O_REFCOL: bad = (o->chexbert_codes = parse_choice(arg, code_names, 2)) < 0; break;
    case O_COMPAT: bad = (o->compat = parse_choice(arg, compat_names, 2)) < 0; break;
    case O_BOOT: bad = mg_parse_long(arg, 0, 100000000, &o->bootstrap) < 0; break;
    case O_SEED: bad = parse_seed(arg, &o->seed) < 0; break;
    case O_ALPHA: bad = mg_parse_double(arg, &o->alpha) < 0 || !(o->alpha > 0 && o->alpha < 1); break;
    case O_JSON: o->json = arg; break;
    default: mg_usage_error(cli, "unknown option"); return -1;
    }
    if (bad) mg_usage_error(cli, "invalid value '%s' for --%s", arg, name);
    return bad ? -1 : 0;
}

/* Options of report and vqa and their two operands. -1 to go on, else the
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
    int st = score_getopt(cli, argc, argv, own, set_text_option, o);
    if (st < 0 && argc - optind != 2) {
        mg_usage_error(cli, is_vqa ? "expected PRED.tsv TRUTH.tsv" : "expected HYP.tsv REF.tsv");
        st = 2;
    }
    return st;
}

int text_begin(mg_cli *cli, int argc, char **argv, text_opts *o, int is_vqa, mg_table *a, mg_table *b)
{
    char err[512];
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    int st = parse_text_opts(cli, argc, argv, o, is_vqa);
    if (st >= 0) return st;
    const char *pa = argv[optind], *pb = argv[optind + 1];
    if (mg_table_read(a, pa, o->id_col, NULL, err, sizeof err) < 0) { mg_error(cli, NULL, "%s", err); return 1; }
    if (mg_table_read(b, pb, o->id_col, NULL, err, sizeof err) < 0) { mg_error(cli, NULL, "%s", err); return 1; }
    return -1;
}

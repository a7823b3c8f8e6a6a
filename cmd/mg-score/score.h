/* score.h: what the parts of mg-score share (options, JSON and table output,
 * the text-metric glue of report and vqa). */
#ifndef MG_SCORE_H
#define MG_SCORE_H

#include <jansson.h>
#include <stdint.h>

#include "mg_cli.h"
#include "mg_dataset.h"
#include "mg_metrics_text.h"

/* subcommands (main.c dispatches) */
int mg_score_classify(int argc, char **argv);
int mg_score_risk(int argc, char **argv);
int mg_score_report(int argc, char **argv);
int mg_score_vqa(int argc, char **argv);

enum {
    O_ID = MG_OPT_FIRST_OWN, O_SCORE, O_LABEL, O_TASK, O_POS, O_THR, O_AVG, O_MC,
    O_ZD, O_BINS, O_RAW, O_CMP, O_BOOT, O_SEED, O_ALPHA, O_JSON, O_PLOT,
    O_TIME, O_EVENT, O_SDCTRL, O_DDOF,
    O_TOKENIZE, O_CHEX, O_RADGRAPH, O_UNCERTAIN, O_HYPCOL, O_REFCOL, O_QCOL, O_TYPECOL,
    O_COMPAT, O_ECEMODE, O_SACRE, O_MISSING, O_PROB, O_COVAR, O_PERCASE
};

/* ---- output.c ---- */
double now_s(void);
/** A number, or null for NaN and infinities. */
json_t *jnum(double x);
/** {"value": v} with "ci_low"/"ci_high" when have_ci. */
json_t *metric_obj(double v, double lo, double hi, int have_ci);
/** "program", and unless --no-version "version" and "command_line", then "command". */
void json_set_program(json_t *root, const mg_cli *cli, const char *command);
/** The "bootstrap" section: replicates, seed, skipped, alpha and the method. */
void json_set_bootstrap(json_t *root, long replicates, unsigned long long seed, int skipped, double alpha);
int write_json(const mg_cli *cli, const char *path, json_t *root);
/** The readable table of a result (to -o). */
int write_table(const mg_cli *cli, json_t *root);
/** Index of arg in names, or -1. */
int parse_choice(const char *arg, const char *const *names, int n);
/** getopt_long over the common options and own: set(cli, c, arg, long name,
 *  opts) takes each own option (0, or -1 after a usage message). -1 to go on
 *  (operands from optind), else the exit status. */
int score_getopt(mg_cli *cli, int argc, char **argv, const struct option *own,
                 int (*set)(mg_cli *cli, int c, const char *arg, const char *name, void *opts), void *opts);
/** --seed: a whole number in [0, 2^64); 0 or -1. */
int parse_seed(const char *arg, unsigned long long *seed);

/* ---- text.c: report and vqa ---- */
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

/** The mean_ctx values averaged under bootstrap weights w (NULL: all 1). */
int mean_stat(void *vc, const double *w, double *out);
/** Bootstrap, JSON (--json) and table of nm metrics named names. */
int run_text_output(mg_cli *cli, const text_opts *o, const char *command, size_t n,
                    const char *const *names, int nm, const double *vals,
                    mean_ctx *mc, json_t *extra);
/** TSV of per-case values: id, then K columns (NaN as "nan"). */
int write_per_case(mg_cli *cli, const char *path, const char *const *cols, int K,
                   const char *const *ids, const double *v, size_t n);
/** Options, then the two tables (PRED/HYP into a, TRUTH/REF into b) keyed by
 *  --id-col. -1 to go on, else the exit status. Free both tables in every case. */
int text_begin(mg_cli *cli, int argc, char **argv, text_opts *o, int is_vqa, mg_table *a, mg_table *b);

#endif

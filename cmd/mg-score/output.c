/* mg-score output shared by every subcommand: JSON and the readable table. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "score.h"

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

json_t *jnum(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static void print_value(FILE *f, double x)
{
    if (isnan(x)) fprintf(f, " %12s", "nan");
    else if (isinf(x)) fprintf(f, " %12s", x > 0 ? "inf" : "-inf");
    else fprintf(f, " %12.6f", x);
}

json_t *metric_obj(double v, double lo, double hi, int have_ci)
{
    json_t *m = json_object();
    json_object_set_new(m, "value", jnum(v));
    if (have_ci) {
        json_object_set_new(m, "ci_low", jnum(lo));
        json_object_set_new(m, "ci_high", jnum(hi));
    }
    return m;
}

int write_json(const mg_cli *cli, const char *path, json_t *root)
{
    char err[256];
    mg_ofile *f = mg_ofile_open(path, NULL, err, sizeof err);
    if (!f) { mg_error(cli, path, "%s", err); return -1; }
    int ok = json_dumpf(root, mg_ofile_fp(f), JSON_INDENT(2)) == 0 &&
             fputc('\n', mg_ofile_fp(f)) != EOF;
    if (mg_ofile_close(f, ok, err, sizeof err) < 0 || !ok) {
        mg_error(cli, strcmp(path, "-") ? path : "(stdout)", "%s", err[0] ? err : "write failed");
        return -1;
    }
    return 0;
}

/* The readable table: every entry of "metrics" (value and interval), then the
 * DeLong, Youden and comparison sections. */
int write_table(const mg_cli *cli, json_t *root)
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
        mg_error(cli, cli->output, "%s", err[0] ? err : "write failed");
        return -1;
    }
    return 0;
}

int parse_choice(const char *arg, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) if (!strcmp(arg, names[i])) return i;
    return -1;
}

int parse_seed(const char *arg, unsigned long long *seed)
{
    char *e;
    errno = 0;
    *seed = strtoull(arg, &e, 10);
    return *e || e == arg || errno || arg[0] == '-' ? -1 : 0;
}

void json_set_program(json_t *root, const mg_cli *cli, const char *command)
{
    json_object_set_new(root, "program", json_string("mg-score"));
    if (!cli->no_version) {
        json_object_set_new(root, "version", json_string(MG_VERSION));
        json_object_set_new(root, "command_line", json_string(cli->cmdline ? cli->cmdline : ""));
    }
    json_object_set_new(root, "command", json_string(command));
}

void json_set_bootstrap(json_t *root, long replicates, unsigned long long seed, int skipped, double alpha)
{
    json_t *bs = json_object();
    json_object_set_new(bs, "replicates", json_integer(replicates));
    json_object_set_new(bs, "seed", json_integer((json_int_t)seed));
    json_object_set_new(bs, "skipped", json_integer(skipped));
    json_object_set_new(bs, "alpha", json_real(alpha));
    json_object_set_new(bs, "prng", json_string("xoshiro256** seeded by splitmix64(seed + replicate)"));
    json_object_set_new(bs, "interval", json_string("percentile, linear interpolation (Hyndman-Fan type 7)"));
    json_object_set_new(root, "bootstrap", bs);
}

int score_getopt(mg_cli *cli, int argc, char **argv, const struct option *own,
                 int (*set)(mg_cli *cli, int c, const char *arg, const char *name, void *opts), void *opts)
{
    struct option *lo = mg_cli_long_options(own);
    int c, st = -1, li = 0;
    if (!lo) { mg_error(cli, NULL, "out of memory"); return 1; }
    opterr = 0;
    while (st < 0 && (c = getopt_long(argc, argv, MG_CLI_SHORT, lo, &li)) >= 0) {
        if (c == '?' || c == ':') {
            mg_usage_error(cli, "unknown option or missing value: '%s'", argv[optind - 1]);
            st = 2;
            break;
        }
        switch (mg_cli_common(cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: st = 0; continue;
        case MG_CLI_USAGE: st = 2; continue;
        default: break;
        }
        if (set(cli, c, optarg, lo[li].name, opts) < 0) st = 2;
    }
    free(lo);
    if (cli->threads < 1) cli->threads = 1;
    return st;
}

/* mg-stream: look at, slice, join, export and import mgt tensor streams. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_cli.h"
#include "mg_export.h"
#include "mg_npy.h"
#include "mg_stream.h"
#include "mg_subcmd.h"
#include "mg_tensor.h"

#define PROG "mg-stream"

static const char *USAGE =
    "Usage: mg-stream <command> [options] [FILE...]\n"
    "Look at, slice, join, export and import mgt tensor streams (see mgt(5)).\n"
    "\n"
    "Commands:\n"
    "  info     summarise streams: records, tensors, dtypes, shapes, metadata, provenance\n"
    "  cat      concatenate streams into one\n"
    "  head     the first N records, or a slice of records\n"
    "  export   write a tensor as .npy, PNG or NIfTI\n"
    "  import   make a stream from .npy files\n"
    "\n"
    "Run 'mg-stream <command> --help' for the options of a command.\n";

static const char *USAGE_INFO =
    "Usage: mg-stream info [options] [FILE...]\n"
    "Summarise each stream (stdin when no FILE): provenance, each record's tensors and\n"
    "metadata, and totals. Reads every record, so checksums and truncation are checked.\n"
    "\n"
    "  -n, --records N    list at most N records [10]; 0 lists none, -1 all\n"
    "  -o, --output FILE  write the summary to FILE [stdout]\n"
    "  -q, --quiet        only check the stream; print nothing unless it is broken\n"
    "      --max-record-size N  refuse records over N bytes decoded (K/M/G) [2G]\n"
    "  -h, --help         this help;  --version  print the version\n";

static const char *USAGE_CAT =
    "Usage: mg-stream cat [options] [FILE...]\n"
    "Concatenate streams (stdin when no FILE) into one stream. Records are copied\n"
    "unchanged after their checksums are verified; the provenance of all inputs is kept.\n"
    "\n"
    "  -o, --output FILE  output stream [stdout]\n"
    "  --no-version       do not add this program to the provenance\n"
    "      --max-record-size N  refuse records over N bytes decoded (K/M/G) [2G]\n"
    "  -h, --help         this help;  --version  print the version\n";

static const char *USAGE_HEAD =
    "Usage: mg-stream head [options] [FILE]\n"
    "Copy records SKIP+1 … SKIP+N of a stream (stdin when no FILE).\n"
    "\n"
    "  -n, --records N    how many records [10]\n"
    "  -s, --skip K       skip the first K records [0]\n"
    "  -o, --output FILE  output stream [stdout]\n"
    "  --no-version       do not add this program to the provenance\n"
    "      --max-record-size N  refuse records over N bytes decoded (K/M/G) [2G]\n"
    "  -h, --help         this help;  --version  print the version\n";

static const char *USAGE_EXPORT =
    "Usage: mg-stream export [options] -o OUT [FILE]\n"
    "Write one tensor of a record as a file. OUT may contain {id} (the record's id) or\n"
    "{n} (its 1-based number) to export every selected record.\n"
    "\n"
    "  -o, --output OUT   output file name or pattern (.npy, .png, .nii, .nii.gz)\n"
    "  -f, --format FMT   npy, png or nifti [from OUT's extension]\n"
    "  -t, --tensor NAME  which tensor [the record's first]\n"
    "  -r, --record N     only record N (1-based)\n"
    "      --id ID        only the record whose id is ID\n"
    "  -c, --channel C    PNG: one channel (0-based) of a [C,H,W] tensor\n"
    "  -s, --slice Z      PNG: slice Z of a volume [middle]\n"
    "  -R, --range LO,HI  PNG: map LO..HI to black..white [data min..max]\n"
    "      --png16        PNG: write u16 tensors as 16-bit PNG\n"
    "      --max-record-size N  refuse records over N bytes decoded (K/M/G) [2G]\n"
    "  -h, --help         this help;  --version  print the version\n";

static const char *USAGE_IMPORT =
    "Usage: mg-stream import [options] FILE.npy...\n"
    "Make a stream with one record per .npy file.\n"
    "\n"
    "  -t, --tensor NAME  tensor name [image]\n"
    "      --id ID        record id [file name without .npy]; only with one file\n"
    "  -m, --meta K=V     add metadata K=V to every record (repeatable)\n"
    "  -o, --output FILE  output stream [stdout]\n"
    "  -z, --compress[=L] zstd-compress tensor data [level 3]\n"
    "  --no-version       do not add this program to the provenance\n"
    "  -h, --help         this help;  --version  print the version\n";

enum { OPT_ID = MG_OPT_FIRST_OWN, OPT_PNG16 };

/* Subcommands get argv starting at the command name; the provenance line shows
 * the whole command, so hand the CLI helpers the array from the program name on
 * (argv - 1 is main's argv). */
static mg_cli sub_cli(int argc, char **argv)
{
    return mg_cli_default(PROG, argc + 1, argv - 1);
}

/* Parse options common to every subcommand plus own; returns optind, or -1
 * with *status set when the program should exit. */
static int parse_opts(mg_cli *cli, int argc, char **argv, const char *shortopts,
                      const struct option *own, int (*handle)(mg_cli *, int, const char *, void *),
                      void *ctx, int *status)
{
    struct option *lo = mg_cli_long_options(own);
    char *so = NULL;
    if (!lo || asprintf(&so, "%s%s", MG_CLI_SHORT, shortopts) < 0) {
        mg_error(cli, NULL, "out of memory");
        free(lo);
        *status = 1;
        return -1;
    }
    int c, ret = -1;
    optind = 1;
    /* getopt names the program by argv[0], here the subcommand alone */
    char name[64], *arg0 = argv[0];
    snprintf(name, sizeof name, "%s %s", PROG, arg0);
    argv[0] = name;
    while ((c = getopt_long(argc, argv, so, lo, NULL)) >= 0) {
        int k = mg_cli_common(cli, c, optarg);
        if (k == MG_CLI_HANDLED) continue;
        if (k == MG_CLI_EXIT_OK) { *status = 0; goto out; }
        if (k == MG_CLI_USAGE) { *status = 2; goto out; }
        if (handle(cli, c, optarg, ctx) < 0) { *status = 2; goto out; }
    }
    ret = optind;
out:
    argv[0] = arg0;
    free(lo);
    free(so);
    return ret;
}

static int no_own(mg_cli *cli, int c, const char *arg, void *ctx)
{
    (void)c; (void)arg; (void)ctx;
    mg_usage_error(cli, "unexpected option");
    return -1;
}

/* Finish an output stream; reports and returns 1 on failure, 0 on success. */
static int finish_writer(const mg_cli *cli, mg_writer *w, int ok)
{
    char err[256];
    if (mg_writer_close(w, ok, err, sizeof err) < 0 && ok) {
        mg_error(cli, cli->output, "%s", err);
        return 1;
    }
    return ok ? 0 : 1;
}

static mg_writer *open_writer(const mg_cli *cli, const mg_prov *inputs)
{
    char err[256];
    mg_prov p = mg_cli_prov(cli, inputs);
    mg_writer_opts o = mg_cli_writer_opts(cli);
    mg_writer *w = mg_writer_open(cli->output, &p, &o, err, sizeof err);
    mg_prov_free(&p);
    if (!w) mg_error(cli, cli->output, "%s", err);
    return w;
}

/* ------------------------------------------------------------------ info */

struct info_ctx { long list; };

static int info_opt(mg_cli *cli, int c, const char *arg, void *vctx)
{
    struct info_ctx *x = vctx;
    if (c == 'n' && mg_parse_long(arg, -1, 1L << 40, &x->list) == 0) return 0;
    if (c == 'n') mg_usage_error(cli, "invalid record count '%s'", arg);
    else mg_usage_error(cli, "unknown option");
    return -1;
}

static void fmt_shape(char *s, size_t n, const mg_tensor *t)
{
    size_t k = snprintf(s, n, "[");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += snprintf(s + k, n - k, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (k < n) snprintf(s + k, n - k, "]");
}

static void fmt_bytes(char *s, size_t n, double b)
{
    static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    snprintf(s, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
}

struct shape_count { char *key; long n; };

static int cmd_info(int argc, char **argv)
{
    mg_cli cli = sub_cli(argc, argv);
    cli.usage = USAGE_INFO;
    struct info_ctx x = {10};
    static const struct option own[] = {{"records", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    int status = 1;
    int first = parse_opts(&cli, argc, argv, "n:", own, info_opt, &x, &status);
    if (first < 0) { mg_cli_free(&cli); return status; }
    char *stdin_only[] = {"-"};
    char **files = first < argc ? argv + first : stdin_only;
    int nfiles = first < argc ? argc - first : 1;
    char err[256];
    mg_ofile *out = mg_ofile_open(cli.output, NULL, err, sizeof err);
    if (!out) { mg_error(&cli, cli.output, "%s", err); mg_cli_free(&cli); return 1; }
    FILE *fp = mg_ofile_fp(out);
    mg_record *rec = mg_record_init();
    int ok = rec != NULL;
    for (int f = 0; ok && f < nfiles; f++) {
        mg_reader *r = mg_reader_open(files[f], err, sizeof err);
        if (!r) { mg_error(&cli, files[f], "%s", err); ok = 0; break; }
        const mg_prov *p = mg_reader_prov(r);
        if (!cli.quiet) {
            fprintf(fp, "%sstream %s\n", f ? "\n" : "", strcmp(files[f], "-") ? files[f] : "(stdin)");
            fprintf(fp, "provenance (%d):\n", p->n);
            for (int i = 0; i < p->n; i++) {
                /* name, version and command line are tab-separated on the wire */
                fprintf(fp, "  %d  ", i + 1);
                for (const char *s = p->lines[i]; *s; s++) fputc(*s == '\t' ? ' ' : *s, fp);
                fputc('\n', fp);
            }
        }
        struct shape_count *sc = NULL;
        int nsc = 0;
        double total = 0;
        int k;
        while ((k = mg_reader_next(r, rec)) == 1) {
            long idx = (long)mg_reader_count(r);
            for (int i = 0; i < rec->n_tensors; i++) {
                mg_tensor *t = &rec->tensors[i];
                char shape[160], key[512];
                fmt_shape(shape, sizeof shape, t);
                total += (double)t->nbytes;
                snprintf(key, sizeof key, "%s %s %s", t->name, mg_dtype_name(t->dtype), shape);
                int j;
                for (j = 0; j < nsc && strcmp(sc[j].key, key); j++) {}
                if (j == nsc) {
                    struct shape_count *q = realloc(sc, (nsc + 1) * sizeof *sc);
                    if (!q || !(q[nsc].key = strdup(key))) { sc = q ? q : sc; ok = 0; break; }
                    sc = q; sc[nsc++].n = 0;
                }
                sc[j].n++;
            }
            if (cli.quiet || (x.list >= 0 && idx > x.list)) continue;
            const char *id = mg_record_get_meta(rec, "id");
            fprintf(fp, "record %ld%s%s\n", idx, id ? "  id=" : "", id ? id : "");
            for (int i = 0; i < rec->n_tensors; i++) {
                mg_tensor *t = &rec->tensors[i];
                char shape[160], size[32];
                fmt_shape(shape, sizeof shape, t);
                fmt_bytes(size, sizeof size, (double)t->nbytes);
                fprintf(fp, "  tensor %-12s %-4s %-22s %s\n", t->name, mg_dtype_name(t->dtype), shape, size);
            }
            for (int i = 0; i < rec->n_meta; i++) {
                if (strcmp(rec->meta[i].key, "id") == 0) continue;
                const char *v = rec->meta[i].value;
                int long_v = strlen(v) > 100;
                fprintf(fp, "  meta   %s=%.*s%s\n", rec->meta[i].key, long_v ? 100 : (int)strlen(v), v, long_v ? "…" : "");
            }
        }
        if (k < 0) { mg_error(&cli, files[f], "%s", mg_reader_error(r)); ok = 0; }
        if (ok && !cli.quiet) {
            char size[32];
            fmt_bytes(size, sizeof size, total);
            long n = (long)mg_reader_count(r);
            if (x.list >= 0 && n > x.list) fprintf(fp, "… %ld more records\n", n - x.list);
            fprintf(fp, "records: %ld, tensor data %s\n", n, size);
            for (int j = 0; j < nsc; j++) fprintf(fp, "  %ld × %s\n", sc[j].n, sc[j].key);
        }
        for (int j = 0; j < nsc; j++) free(sc[j].key);
        free(sc);
        mg_reader_close(r);
    }
    mg_record_destroy(rec);
    if (mg_ofile_close(out, ok, err, sizeof err) < 0 && ok) { mg_error(&cli, cli.output, "%s", err); ok = 0; }
    mg_cli_free(&cli);
    return ok ? 0 : 1;
}

/* ---------------------------------------------------------- cat and head */

struct head_ctx { long n, skip; };

static int head_opt(mg_cli *cli, int c, const char *arg, void *vctx)
{
    struct head_ctx *x = vctx;
    long *dst = c == 'n' ? &x->n : c == 's' ? &x->skip : NULL;
    if (dst && mg_parse_long(arg, 0, 1L << 60, dst) == 0) return 0;
    if (dst) mg_usage_error(cli, "invalid count '%s'", arg);
    else mg_usage_error(cli, "unknown option");
    return -1;
}

static int cmd_cat_head(int argc, char **argv, int is_head)
{
    mg_cli cli = sub_cli(argc, argv);
    cli.usage = is_head ? USAGE_HEAD : USAGE_CAT;
    struct head_ctx x = {10, 0};
    static const struct option own[] = {{"records", required_argument, NULL, 'n'},
                                        {"skip", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
    int status = 1;
    int first = is_head ? parse_opts(&cli, argc, argv, "n:s:", own, head_opt, &x, &status)
                        : parse_opts(&cli, argc, argv, "", NULL, no_own, NULL, &status);
    if (first < 0) { mg_cli_free(&cli); return status; }
    char *stdin_only[] = {"-"};
    char **files = first < argc ? argv + first : stdin_only;
    int nfiles = first < argc ? argc - first : 1;
    if (is_head && nfiles > 1) {
        mg_usage_error(&cli, "head takes one input");
        mg_cli_free(&cli);
        return 2;
    }
    int n_stdin = 0;
    for (int f = 0; f < nfiles; f++) n_stdin += strcmp(files[f], "-") == 0;
    if (n_stdin > 1) { mg_usage_error(&cli, "stdin given more than once"); mg_cli_free(&cli); return 2; }
    /* Every header is read first: the output header carries all provenance. */
    mg_reader **rs = calloc(nfiles, sizeof *rs);
    mg_prov prov = {0};
    mg_writer *w = NULL;
    int ok = rs != NULL;
    char err[256];
    for (int f = 0; ok && f < nfiles; f++) {
        if (!(rs[f] = mg_reader_open(files[f], err, sizeof err))) { mg_error(&cli, files[f], "%s", err); ok = 0; }
        else mg_prov_merge(&prov, mg_reader_prov(rs[f]));
    }
    if (ok && !(w = open_writer(&cli, &prov))) ok = 0;
    for (int f = 0; ok && f < nfiles; f++) {
        int k;
        if (!is_head) {
            while ((k = mg_reader_copy_next(rs[f], w)) == 1) {}
        } else {
            mg_record *rec = mg_record_init();
            for (long i = 0; i < x.skip && (k = mg_reader_next(rs[f], rec)) == 1; i++) {}
            if (x.skip == 0) k = 1;
            mg_record_destroy(rec);
            for (long i = 0; k == 1 && i < x.n; i++) k = mg_reader_copy_next(rs[f], w);
            if (k == 1) k = 0;   /* stop early, as head(1) does */
        }
        if (k < 0 && mg_writer_error(w)[0]) { mg_error(&cli, cli.output, "%s", mg_writer_error(w)); ok = 0; }
        else if (k < 0) { mg_error(&cli, files[f], "%s", mg_reader_error(rs[f])); ok = 0; }
    }
    for (int f = 0; rs && f < nfiles; f++) mg_reader_close(rs[f]);
    free(rs);
    mg_prov_free(&prov);
    int ret = w ? finish_writer(&cli, w, ok) : 1;
    mg_cli_free(&cli);
    return ret;
}

/* ---------------------------------------------------------------- export */

struct export_ctx {
    const char *format, *tensor, *id;
    long record;
    mg_png_opts png;
};

static int export_opt(mg_cli *cli, int c, const char *arg, void *vctx)
{
    struct export_ctx *x = vctx;
    long v;
    switch (c) {
    case 'f': x->format = arg; return 0;
    case 't': x->tensor = arg; return 0;
    case OPT_ID: x->id = arg; return 0;
    case OPT_PNG16: x->png.bit16 = 1; return 0;
    case 'r':
        if (mg_parse_long(arg, 1, 1L << 60, &x->record) == 0) return 0;
        mg_usage_error(cli, "invalid record number '%s'", arg);
        return -1;
    case 'c': case 's':
        if (mg_parse_long(arg, 0, 1L << 30, &v) == 0) {
            if (c == 'c') x->png.channel = (int)v; else x->png.slice = (int)v;
            return 0;
        }
        mg_usage_error(cli, "invalid %s '%s'", c == 'c' ? "channel" : "slice", arg);
        return -1;
    case 'R': {
        char *end;
        x->png.lo = strtod(arg, &end);
        if (*end == ',' && mg_parse_double(end + 1, &x->png.hi) == 0 && x->png.hi > x->png.lo) {
            x->png.have_range = 1;
            return 0;
        }
        mg_usage_error(cli, "invalid range '%s' (want LO,HI with LO < HI)", arg);
        return -1;
    }
    }
    mg_usage_error(cli, "unknown option");
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Expand {id} and {n} in pattern; ids are made file-name safe. */
static char *expand_pattern(const char *pat, const char *id, long n)
{
    size_t cap = strlen(pat) + (id ? strlen(id) : 0) * 4 + 64;
    char *s = malloc(cap), *p = s;
    if (!s) return NULL;
    while (*pat) {
        if (strncmp(pat, "{id}", 4) == 0) {
            for (const char *c = id ? id : "record"; *c; c++)
                *p++ = (isalnum((unsigned char)*c) || strchr("._-+", *c)) ? *c : '_';
            pat += 4;
        } else if (strncmp(pat, "{n}", 3) == 0) {
            p += sprintf(p, "%ld", n);
            pat += 3;
        } else {
            *p++ = *pat++;
        }
    }
    *p = 0;
    return s;
}

/* Write one record's tensor to path and add the file to the group that
 * commits all of the export's files at the end. */
static int export_one(mg_cli *cli, const struct export_ctx *x, const char *fmt, const char *path,
                      const mg_record *rec, const char *src, mg_ofile_group *g)
{
    const mg_tensor *t = x->tensor ? mg_record_find_tensor(rec, x->tensor)
                                   : (rec->n_tensors ? &rec->tensors[0] : NULL);
    char err[256];
    if (!t) {
        mg_error(cli, src, "record %s has no tensor '%s'", mg_record_get_meta(rec, "id") ? mg_record_get_meta(rec, "id") : "?",
                 x->tensor ? x->tensor : "(any)");
        return -1;
    }
    int nifti = strcmp(fmt, "nifti") == 0;
    const char *suffix = nifti ? mg_nifti_suffix(path) : NULL;
    if (nifti && !suffix) {
        mg_error(cli, path, "bad NIfTI file name (use .nii or .nii.gz)");
        return -1;
    }
    if (strcmp(path, "-") == 0 && isatty(1)) {
        mg_error(cli, path, "refusing to write binary data to a terminal");
        return -1;
    }
    mg_ofile *out = mg_ofile_open(path, suffix, err, sizeof err);
    if (!out) { mg_error(cli, path, "%s", err); return -1; }
    int r = nifti ? mg_nifti_write_tensor(out, t, rec, err, sizeof err)
          : strcmp(fmt, "png") == 0 ? mg_png_write_tensor(mg_ofile_fp(out), t, &x->png, err, sizeof err)
          : mg_npy_write(mg_ofile_fp(out), t, err, sizeof err);
    if (r < 0) {
        mg_error(cli, path, "%s", err);
        mg_ofile_abort(out);
        return -1;
    }
    if (mg_ofile_group_add(g, out, err, sizeof err) < 0) {
        mg_error(cli, path, "%s", err);
        return -1;
    }
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    mg_cli cli = sub_cli(argc, argv);
    cli.usage = USAGE_EXPORT;
    cli.output = NULL;
    struct export_ctx x = {0};
    x.png.channel = x.png.slice = -1;
    static const struct option own[] = {
        {"format", required_argument, NULL, 'f'}, {"tensor", required_argument, NULL, 't'},
        {"record", required_argument, NULL, 'r'}, {"id", required_argument, NULL, OPT_ID},
        {"channel", required_argument, NULL, 'c'}, {"slice", required_argument, NULL, 's'},
        {"range", required_argument, NULL, 'R'}, {"png16", no_argument, NULL, OPT_PNG16},
        {NULL, 0, NULL, 0}};
    int status = 1;
    int first = parse_opts(&cli, argc, argv, "f:t:r:c:s:R:", own, export_opt, &x, &status);
    if (first < 0) { mg_cli_free(&cli); return status; }
    if (!cli.output) { mg_usage_error(&cli, "export needs -o OUT"); mg_cli_free(&cli); return 2; }
    if (argc - first > 1) { mg_usage_error(&cli, "export takes one input"); mg_cli_free(&cli); return 2; }
    const char *fmt = x.format;
    if (!fmt) {
        const char *o = cli.output;
        fmt = ends_with(o, ".png") ? "png" : ends_with(o, ".nii") || ends_with(o, ".nii.gz") ? "nifti"
            : ends_with(o, ".npy") || strcmp(o, "-") == 0 ? "npy" : NULL;
    }
    if (!fmt || (strcmp(fmt, "npy") && strcmp(fmt, "png") && strcmp(fmt, "nifti"))) {
        mg_usage_error(&cli, "unknown export format (use --format npy|png|nifti or a .npy/.png/.nii name)");
        mg_cli_free(&cli);
        return 2;
    }
    int pattern = strstr(cli.output, "{id}") || strstr(cli.output, "{n}");
    const char *src = first < argc ? argv[first] : "-";
    char err[256];
    mg_reader *r = mg_reader_open(src, err, sizeof err);
    if (!r) { mg_error(&cli, src, "%s", err); mg_cli_free(&cli); return 1; }
    mg_record *rec = mg_record_init();
    mg_ofile_group *g = mg_ofile_group_new();
    int k = 0, ok = rec && g, done = 0;
    if (!ok) mg_error(&cli, NULL, "out of memory");
    /* The whole stream is read, also past a single export, so that a stream
     * cut short or damaged after the record is an error and writes nothing. */
    while (ok && (k = mg_reader_next(r, rec)) == 1) {
        long n = (long)mg_reader_count(r);
        const char *id = mg_record_get_meta(rec, "id");
        if (done && !pattern) continue;
        if (x.record && n != x.record) continue;
        if (x.id && (!id || strcmp(id, x.id))) continue;
        char *path = pattern ? expand_pattern(cli.output, id, n) : strdup(cli.output);
        if (!path || export_one(&cli, &x, fmt, path, rec, src, g) < 0) ok = 0;
        free(path);
        done++;
    }
    if (ok && k < 0) { mg_error(&cli, src, "%s", mg_reader_error(r)); ok = 0; }
    if (ok && !done) { mg_error(&cli, src, "no record matched"); ok = 0; }
    if (g && mg_ofile_group_close(g, ok, err, sizeof err) < 0 && ok) { mg_error(&cli, cli.output, "%s", err); ok = 0; }
    mg_record_destroy(rec);
    mg_reader_close(r);
    if (strcmp(cli.output, "-") == 0 && mg_close_stdout(&cli) < 0) ok = 0;
    mg_cli_free(&cli);
    return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- import */

struct import_ctx { const char *tensor, *id; char **meta; int nmeta; };

static int import_opt(mg_cli *cli, int c, const char *arg, void *vctx)
{
    struct import_ctx *x = vctx;
    switch (c) {
    case 't': x->tensor = arg; return 0;
    case OPT_ID: x->id = arg; return 0;
    case 'm':
        if (!strchr(arg, '=') || arg[0] == '=') { mg_usage_error(cli, "--meta wants KEY=VALUE, got '%s'", arg); return -1; }
        x->meta[x->nmeta++] = (char *)arg;
        return 0;
    }
    mg_usage_error(cli, "unknown option");
    return -1;
}

static int cmd_import(int argc, char **argv)
{
    mg_cli cli = sub_cli(argc, argv);
    cli.usage = USAGE_IMPORT;
    struct import_ctx x = {"image", NULL, calloc(argc + 1, sizeof(char *)), 0};
    static const struct option own[] = {
        {"tensor", required_argument, NULL, 't'}, {"id", required_argument, NULL, OPT_ID},
        {"meta", required_argument, NULL, 'm'}, {NULL, 0, NULL, 0}};
    int status = 1;
    int first = x.meta ? parse_opts(&cli, argc, argv, "t:m:", own, import_opt, &x, &status) : -1;
    if (first < 0) { free(x.meta); mg_cli_free(&cli); return status; }
    if (first == argc) { mg_usage_error(&cli, "import needs at least one .npy file"); free(x.meta); mg_cli_free(&cli); return 2; }
    if (x.id && argc - first > 1) { mg_usage_error(&cli, "--id needs exactly one input"); free(x.meta); mg_cli_free(&cli); return 2; }
    mg_writer *w = open_writer(&cli, NULL);
    mg_record *rec = mg_record_init();
    int ok = w && rec;
    char err[256];
    for (int f = first; ok && f < argc; f++) {
        mg_record_clear(rec);
        if (mg_npy_read(argv[f], rec, x.tensor, err, sizeof err) < 0) { mg_error(&cli, argv[f], "%s", err); ok = 0; break; }
        const char *base = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];
        char *id = x.id ? strdup(x.id) : strndup(base, ends_with(base, ".npy") ? strlen(base) - 4 : strlen(base));
        if (!id || mg_record_set_meta(rec, "id", id) < 0) ok = 0;
        free(id);
        for (int i = 0; ok && i < x.nmeta; i++) {
            char *kv = strdup(x.meta[i]), *eq = kv ? strchr(kv, '=') : NULL;
            if (!eq) { free(kv); ok = 0; break; }
            *eq = 0;
            if (mg_record_set_meta(rec, kv, eq + 1) < 0) ok = 0;
            free(kv);
        }
        if (ok && mg_writer_write(w, rec) < 0) { mg_error(&cli, cli.output, "%s", mg_writer_error(w)); ok = 0; }
    }
    mg_record_destroy(rec);
    int ret = w ? finish_writer(&cli, w, ok) : 1;
    free(x.meta);
    mg_cli_free(&cli);
    return ret;
}

/* ------------------------------------------------------------------ main */

static int cmd_cat(int argc, char **argv) { return cmd_cat_head(argc, argv, 0); }
static int cmd_head(int argc, char **argv) { return cmd_cat_head(argc, argv, 1); }

static const mg_subcmd COMMANDS[] = {
    { "info", cmd_info, "summarise streams", 0 },
    { "cat", cmd_cat, "concatenate streams", 0 },
    { "head", cmd_head, "the first records", 0 },
    { "export", cmd_export, "a tensor as .npy, PNG or NIfTI", 0 },
    { "import", cmd_import, "a stream from .npy files", 0 },
    { 0, 0, 0, 0 }
};

int main(int argc, char **argv)
{
    return mg_subcmd_dispatch(PROG, COMMANDS, USAGE, argc, argv);
}

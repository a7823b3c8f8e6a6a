/* mg_cli.c: options, messages, provenance and output files shared by the programs. */
#include "mg_cli.h"
#include "mg_matmul.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct option COMMON_LONG[] = {
    {"output", required_argument, NULL, 'o'},
    {"threads", required_argument, NULL, '@'},
    {"compress", optional_argument, NULL, 'z'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, MG_OPT_VERSION},
    {"no-version", no_argument, NULL, MG_OPT_NO_VERSION},
    {"max-record-size", required_argument, NULL, MG_OPT_MAX_RECORD},
};
#define N_COMMON ((int)(sizeof COMMON_LONG / sizeof COMMON_LONG[0]))

/* Quote an argument for the provenance command line when the shell would need it. */
static int needs_quote(const char *s)
{
    if (!*s) return 1;
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_", *s))
            return 1;
    return 0;
}

static char *join_argv(const char *prog, int argc, char **argv)
{
    size_t n = 1 + (prog ? strlen(prog) : 0);
    for (int i = 0; i < argc; i++) n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < argc; i++) {
        if (i) *p++ = ' ';
        if (i == 0 && prog) { p = stpcpy(p, prog); continue; }
        if (!needs_quote(argv[i])) { p = stpcpy(p, argv[i]); continue; }
        *p++ = '\'';
        for (const char *a = argv[i]; *a; a++) {
            if (*a == '\'') p = stpcpy(p, "'\\''");
            else if (*a == '\n' || *a == '\t') *p++ = ' ';
            else *p++ = *a;
        }
        *p++ = '\'';
    }
    *p = 0;
    return s;
}

mg_cli mg_cli_default(const char *prog, int argc, char **argv)
{
    mg_cli c;
    memset(&c, 0, sizeof c);
    c.prog = prog;
    c.output = "-";
    c.threads = 1;
    c.cmdline = join_argv(prog, argc, argv);
    mg_output_install_signal_handlers();
    return c;
}

void mg_cli_free(mg_cli *cli)
{
    free(cli->cmdline);
    cli->cmdline = NULL;
    mg_pool_free(cli->pool);
    cli->pool = NULL;
    mg_cli_progress_end(cli);
}

void mg_cli_progress_begin(mg_cli *cli, const char *unit, uint64_t total)
{
    mg_cli_progress_end(cli);
    /* output rows arriving on the terminal are progress enough */
    int out_on_tty = strcmp(cli->output, "-") == 0 && isatty(STDOUT_FILENO);
    if (!cli->quiet && !out_on_tty) cli->progress = mg_progress_new(cli->prog, unit, total);
}

void mg_cli_progress_end(mg_cli *cli)
{
    mg_progress_free(cli->progress);
    cli->progress = NULL;
}


struct option *mg_cli_long_options(const struct option *own)
{
    int n = 0;
    while (own && own[n].name) n++;
    struct option *o = calloc(N_COMMON + n + 1, sizeof *o);
    if (!o) return NULL;
    memcpy(o, COMMON_LONG, sizeof COMMON_LONG);
    if (n) memcpy(o + N_COMMON, own, n * sizeof *o);
    return o;
}

int mg_cli_common(mg_cli *cli, int c, const char *arg)
{
    long v;
    switch (c) {
    case 'o':
        cli->output = arg;
        return MG_CLI_HANDLED;
    case '@':
        if (mg_parse_long(arg, 1, 1024, &v) < 0) {
            mg_usage_error(cli, "invalid thread count '%s'", arg);
            return MG_CLI_USAGE;
        }
        cli->threads = (int)v;
        mg_pool_free(cli->pool);
        cli->pool = v > 1 ? mg_pool_create((int)v) : NULL;
        if (v > 1 && !cli->pool) {
            mg_error(cli, NULL, "cannot start %ld threads", v);
            return MG_CLI_USAGE;
        }
        return MG_CLI_HANDLED;
    case 'z':
        if (!arg) { cli->compress_level = 3; return MG_CLI_HANDLED; }
        if (mg_parse_long(arg, 1, 19, &v) < 0) {
            mg_usage_error(cli, "invalid compression level '%s' (1-19)", arg);
            return MG_CLI_USAGE;
        }
        cli->compress_level = (int)v;
        return MG_CLI_HANDLED;
    case 'v': cli->verbose++; return MG_CLI_HANDLED;
    case 'q': cli->quiet = 1; return MG_CLI_HANDLED;
    case MG_OPT_NO_VERSION: cli->no_version = 1; return MG_CLI_HANDLED;
    case MG_OPT_MAX_RECORD: {
        uint64_t b;
        if (mg_parse_size(arg, &b) < 0 || b < 64 || b > MG_MAX_RECORD_BYTES) {
            mg_usage_error(cli, "invalid record size limit '%s' (64 to 64G bytes)", arg);
            return MG_CLI_USAGE;
        }
        mg_stream_set_max_record(b);
        return MG_CLI_HANDLED;
    }
    case 'h':
    case MG_OPT_VERSION:
        if (c == 'h') fputs(cli->usage ? cli->usage : "", stdout);
        else printf("%s %s\n", cli->prog, MG_VERSION);
        /* A failed write of the help is a runtime error (exit 1, one line),
         * not a usage error; nothing else has been opened yet. */
        if (mg_close_stdout(cli) < 0) exit(1);
        return MG_CLI_EXIT_OK;
    case '?':
        fprintf(stderr, "Try '%s --help'.\n", cli->prog);
        return MG_CLI_USAGE;
    default:
        return MG_CLI_NOT_COMMON;
    }
}

static void vmsg(const mg_cli *cli, const char *kind, const char *file, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One line, always. */
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
    fflush(stdout);
    mg_progress_clear(cli->progress);
    /* "-" is standard output when it is the program's output, else stdin */
    if (file) fprintf(stderr, "%s: %s: %s: %s\n", cli->prog, kind,
                      strcmp(file, "-") ? file : file == cli->output ? "(stdout)" : "(stdin)", msg);
    else fprintf(stderr, "%s: %s: %s\n", cli->prog, kind, msg);
}

void mg_error(const mg_cli *cli, const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, "error", file, fmt, ap);
    va_end(ap);
}

void mg_warn(const mg_cli *cli, const char *file, const char *fmt, ...)
{
    if (cli->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(cli, "warning", file, fmt, ap);
    va_end(ap);
}

void mg_info(const mg_cli *cli, const char *fmt, ...)
{
    if (!cli->verbose || cli->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    mg_progress_clear(cli->progress);
    fprintf(stderr, "%s: ", cli->prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void mg_usage_error(const mg_cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli->prog);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", cli->prog);
    va_end(ap);
}

mg_prov mg_cli_prov(const mg_cli *cli, const mg_prov *input)
{
    mg_prov p = {0};
    mg_prov_merge(&p, input);
    if (!cli->no_version) {
        char *line = NULL;
        if (asprintf(&line, "%s\t%s\t%s", cli->prog, MG_VERSION, cli->cmdline ? cli->cmdline : cli->prog) >= 0) {
            mg_prov_add(&p, line);
            free(line);
        }
    }
    return p;
}

mg_writer_opts mg_cli_writer_opts(const mg_cli *cli)
{
    mg_writer_opts o = {0};
    o.compress_level = cli->compress_level;
    return o;
}

int mg_cli_precision(const mg_cli *cli, const char *arg, int *prec)
{
    int p = mg_precision_from_name(arg);
    if (p < 0) {
        mg_usage_error(cli, "unknown precision '%s' (f32, bf16, auto)", arg);
        return MG_CLI_USAGE;
    }
    *prec = p;
    return MG_CLI_HANDLED;
}

int mg_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int mg_parse_double(const char *s, double *out)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || *end || v != v || v - v != 0) return -1;
    *out = v;
    return 0;
}

int mg_close_stdout(const mg_cli *cli)
{
    /* ferror too: a write that failed inside an earlier fputs (text larger
     * than the buffer) leaves nothing for fflush to fail on. */
    int bad = fflush(stdout) == EOF || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && errno != EBADF) bad = 1, e = errno;
    errno = e ? e : EIO;
    if (bad) {
        fprintf(stderr, "%s: error: writing standard output failed: %s\n", cli->prog, strerror(errno));
        return -1;
    }
    return 0;
}

int mg_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    char *e;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno) return -1;
    int shift = 0;
    switch (*e) {
    case 'k': case 'K': shift = 10; e++; break;
    case 'm': case 'M': shift = 20; e++; break;
    case 'g': case 'G': shift = 30; e++; break;
    default: break;
    }
    if (*e || v > (UINT64_MAX >> shift)) return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

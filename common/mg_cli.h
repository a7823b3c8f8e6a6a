/* mg_cli.h: command-line conventions shared by every mg-* program.
 *
 *   -o, --output FILE   output [stdout]; "-" is stdout
 *   -@, --threads N     worker threads [1]
 *   -z, --compress[=L]  zstd-compress tensor data (level L [3])
 *   -v, --verbose  -q, --quiet  -h, --help  --version  --no-version
 *   --max-record-size N[KMG]  refuse input stream records whose body plus
 *                       decompressed tensors exceed N bytes [2G] (man/mgt.5)
 *
 * Exit statuses: 0 success, 1 data or runtime error, 2 usage error.
 * Errors are one line on stderr: "mg-x: error: FILE: what".
 *
 * Typical use:
 *     mg_cli cli = mg_cli_default("mg-foo", argc, argv);
 *     static const struct option own[] = { {"bar", required_argument, 0, 'b'}, {0} };
 *     struct option *lo = mg_cli_long_options(own);
 *     while ((c = getopt_long(argc, argv, MG_CLI_SHORT "b:", lo, NULL)) >= 0) {
 *         switch (mg_cli_common(&cli, c, optarg)) {
 *         case MG_CLI_HANDLED: continue;
 *         case MG_CLI_EXIT_OK: free(lo); return 0;   (--help/--version printed)
 *         case MG_CLI_USAGE: free(lo); return 2;
 *         default: break;                             (not a common option)
 *         }
 *         switch (c) { case 'b': …; default: mg_usage_error(&cli, …); return 2; }
 *     }
 */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include "mg_output.h"
#include "mg_pool.h"
#include "mg_progress.h"
#include "mg_stream.h"

#define MG_VERSION "0.1.0"

#define MG_CLI_SHORT "o:@:z::vqh"
enum { MG_OPT_VERSION = 0x1000, MG_OPT_NO_VERSION, MG_OPT_PRECISION, MG_OPT_MAX_RECORD,
       MG_OPT_FIRST_OWN = 0x1100 };

/* --precision f32|bf16|auto: the option of every program that runs a model
 * (mg-encode2d, mg-encode3d, mg-decode, mg-fit). Add MG_CLI_PRECISION_OPTION to
 * the program's own long options, MG_CLI_PRECISION_HELP to its usage, and parse
 * with mg_cli_precision() into mg_nn_ctx.precision, which the model loaders
 * (mg_encoder_load …) read (mg_matmul.h). */
#define MG_CLI_PRECISION_OPTION {"precision", required_argument, NULL, MG_OPT_PRECISION}
#define MG_CLI_PRECISION_HELP \
    "      --precision P   matrix products in f32 (OpenBLAS), bf16 (oneDNN, fp32\n" \
    "                      accumulation) or auto: bf16 when the CPU has AVX512_BF16\n" \
    "                      or AMX and the weights are stored BF16 [auto]\n"

enum { MG_CLI_NOT_COMMON = 0, MG_CLI_HANDLED = 1, MG_CLI_EXIT_OK = 2, MG_CLI_USAGE = 3 };

typedef struct {
    const char *prog;        /* "mg-stream" */
    const char *usage;       /* full --help text (printed to stdout by -h) */
    const char *output;      /* "-" */
    int threads;             /* >= 1 */
    int verbose, quiet;
    int no_version;
    int compress_level;      /* 0 = off */
    char *cmdline;           /* argv joined, shell-quoted where needed */
    mg_pool *pool;           /* -@ N > 1: N workers started once (else NULL:
                              * the caller works alone, same results) */
    mg_progress *progress;   /* the terminal progress line, or NULL */
} mg_cli;

/** Defaults; records the command line (argv[0] shown as prog) for provenance. */
mg_cli mg_cli_default(const char *prog, int argc, char **argv);
void mg_cli_free(mg_cli *cli);
/** The common long options followed by own (terminated by a zero entry);
 *  free() the result. */
struct option *mg_cli_long_options(const struct option *own);
/** Handle a common option character; see MG_CLI_* returns. */
int mg_cli_common(mg_cli *cli, int c, const char *arg);

/** "mg-x: error: FILE: what" (FILE omitted when NULL). */
void mg_error(const mg_cli *cli, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** "mg-x: warning: FILE: what", unless --quiet. */
void mg_warn(const mg_cli *cli, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Message on stderr only with --verbose. */
void mg_info(const mg_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** "mg-x: FMT" then "Try 'mg-x --help'." on stderr; callers return 2. */
void mg_usage_error(const mg_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Start the progress line of a long step: unit counted ("records"), total
 *  (0 when unknown). Only when stderr is a terminal, stdout (when it is the
 *  output) is not, and --quiet is not given; messages printed
 *  through mg_error/mg_warn/mg_info erase it first. Step it with
 *  mg_progress_step(cli->progress, done); end it with mg_cli_progress_end. */
void mg_cli_progress_begin(mg_cli *cli, const char *unit, uint64_t total);
void mg_cli_progress_end(mg_cli *cli);

/** Provenance for an output stream: the input's lines plus this program's own
 *  ("prog\tversion\tcmdline") unless --no-version. Caller frees with mg_prov_free. */
mg_prov mg_cli_prov(const mg_cli *cli, const mg_prov *input);
/** Writer options from the common options. */
mg_writer_opts mg_cli_writer_opts(const mg_cli *cli);

/** Parse a --precision value into *prec (an mg_precision). MG_CLI_HANDLED, or
 *  MG_CLI_USAGE after a usage message for an unknown name (exit 2). */
int mg_cli_precision(const mg_cli *cli, const char *arg, int *prec);

/** "N", "NK", "NM", "NG" (binary units) into bytes; 0/-1. */
MG_MUST_CHECK int mg_parse_size(const char *s, uint64_t *out);
/** Parse a whole decimal integer in [lo, hi]; 0 on success, -1 otherwise. */
MG_MUST_CHECK int mg_parse_long(const char *s, long lo, long hi, long *out);
/** Parse a finite double; 0 on success, -1 otherwise. */
MG_MUST_CHECK int mg_parse_double(const char *s, double *out);

/** Check stdout for delayed write errors at exit: 0, or -1 (message printed). */
MG_MUST_CHECK int mg_close_stdout(const mg_cli *cli);

#endif

/* tokenize.c: --tokenize / --detokenize, options of every mode of mg-decode
 * with -m DIR (decode.h): text lines to id lines and back with the checkpoint's
 * own tokenizer. A checkpoint with a text encoder (mg_textenc.h: SigLIP,
 * MedSigLIP) gives the id rows its text tower reads — the model's processor
 * (lower-cased, </s> appended, padded to the fixed length); any other gives the
 * tokenizer's plain ids (no BOS added), which the generate mode reads. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "mg_ckpt.h"
#include "mg_family.h"
#include "mg_textenc.h"
#include "mg_tokenizer.h"

/* One id line "1 2 3" into ids (grown as needed). 0, or -1 when a field is no id. */
static int parse_ids(char *line, int32_t **ids, size_t *n, size_t *cap)
{
    *n = 0;
    for (char *tok = strtok(line, " \t"); tok; tok = strtok(NULL, " \t")) {
        long v;
        if (mg_parse_long(tok, 0, INT32_MAX, &v) < 0) return -1;
        if (*n == *cap) {
            size_t c = *cap ? 2 * *cap : 64;
            int32_t *p = realloc(*ids, c * sizeof *p);
            if (!p) return -1;
            *ids = p;
            *cap = c;
        }
        (*ids)[(*n)++] = (int32_t)v;
    }
    return 0;
}

static int run(const mg_cli *cli, const char *model, int detokenize, const char *in_path)
{
    char err[1024];
    mg_textenc *te = NULL;
    mg_tokenizer *own = NULL;
    const mg_tokenizer *tok;
    mg_ofile *of = NULL;
    FILE *in = NULL;
    char *line = NULL;
    int32_t *ids = NULL;
    size_t lcap = 0, icap = 0, n;
    ssize_t len;
    long lineno = 0;
    int ok = 0;
    struct stat sb;
    int has_text = 0;
    if (stat(model, &sb) == 0 && S_ISDIR(sb.st_mode)) {     /* else a tokenizer file */
        mg_ckpt *ck = mg_ckpt_open(model, err, sizeof err);
        if (!ck) { mg_error(cli, model, "%s", err); return 1; }
        has_text = mg_family_find(mg_ckpt_model_type(ck), MG_ROLE_TEXT_ENCODER) != NULL;
        mg_ckpt_close(ck);
    }
    if (has_text && !detokenize) {
        if (!(te = mg_textenc_load(model, err, sizeof err))) { mg_error(cli, model, "%s", err); goto done; }
        tok = mg_textenc_tokenizer(te);
    } else {
        if (!(own = mg_tokenizer_load(model, err, sizeof err))) { mg_error(cli, model, "%s", err); goto done; }
        tok = own;
    }
    if (!(in = strcmp(in_path, "-") ? fopen(in_path, "r") : stdin)) {
        mg_error(cli, in_path, "cannot open: %s", strerror(errno));
        goto done;
    }
    if (!(of = mg_ofile_open(cli->output, NULL, err, sizeof err))) { mg_error(cli, cli->output, "%s", err); goto done; }
    FILE *out = mg_ofile_fp(of);
    while ((len = getline(&line, &lcap, in)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        if (detokenize) {
            if (parse_ids(line, &ids, &n, &icap) < 0) {
                mg_error(cli, in_path, "line %ld: not a line of token ids", lineno);
                goto done;
            }
            size_t tl;
            /* special tokens stay as their text: --tokenize then --detokenize round-trips */
            char *text = mg_tokenizer_decode_n(tok, ids, n, 0, &tl, err, sizeof err);
            if (!text) { mg_error(cli, in_path, "line %ld: %s", lineno, err); goto done; }
            int bad = fwrite(text, 1, tl, out) != tl || fputc('\n', out) == EOF;
            free(text);
            if (bad) { mg_error(cli, cli->output, "write error"); goto done; }
            continue;
        }
        int32_t *row = NULL;
        if (te) {
            n = (size_t)mg_textenc_seq_len(te);
            if (!(row = malloc(n * sizeof *row))) { mg_error(cli, NULL, "out of memory"); goto done; }
            if (mg_textenc_tokenize(te, line, (size_t)len, row, err, sizeof err) < 0) {
                free(row);
                mg_error(cli, in_path, "line %ld: %s", lineno, err);
                goto done;
            }
        } else if (mg_tokenizer_encode(tok, line, (size_t)len, 1, &row, &n, err, sizeof err) < 0) {
            mg_error(cli, in_path, "line %ld: %s", lineno, err);
            goto done;
        }
        int bad = 0;
        for (size_t i = 0; i < n && !bad; i++) bad = fprintf(out, i ? " %d" : "%d", (int)row[i]) < 0;
        free(row);
        if (bad || fputc('\n', out) == EOF) { mg_error(cli, cli->output, "write error"); goto done; }
    }
    if (ferror(in)) { mg_error(cli, in_path, "read error"); goto done; }
    ok = 1;
done:
    if (of && mg_ofile_close(of, ok, err, sizeof err) < 0 && ok) { mg_error(cli, cli->output, "%s", err); ok = 0; }
    if (ok && !strcmp(cli->output, "-") && mg_close_stdout(cli) < 0) ok = 0;
    if (in && in != stdin) fclose(in);
    free(line); free(ids);
    mg_textenc_free(te);
    mg_tokenizer_free(own);
    return ok ? 0 : 1;
}

static const char usage[] =
"Usage: mg-decode [MODE] -m DIR --tokenize|--detokenize [-o FILE] [INPUT]\n"
"Text lines of INPUT (stdin when absent or \"-\") to lines of space-separated\n"
"token ids (--tokenize), or id lines back to text (--detokenize, special\n"
"tokens kept as text), with the tokenizer of the checkpoint DIR. A checkpoint with a\n"
"text tower (SigLIP, MedSigLIP) gives the fixed-length rows the tower reads.\n"
"\n"
"  -m, --model DIR     checkpoint directory, or a tokenizer file\n"
"  -o, --output FILE   output [stdout]\n"
"  -h, --help          this help\n";

enum { OPT_TOKENIZE = MG_OPT_FIRST_OWN + 0x80, OPT_DETOKENIZE };

int mg_decode_wants_tokenize(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--tokenize") || !strcmp(argv[i], "--detokenize")) return 1;
    return 0;
}

int mg_decode_tokenize(int argc, char **argv)
{
    /* the mode name, when given, is skipped: every mode tokenizes alike */
    int skip = argc > 1 && argv[1][0] != '-';
    mg_cli cli = mg_cli_default("mg-decode", argc, argv);
    cli.usage = usage;
    static const struct option own[] = {
        {"model", required_argument, 0, 'm'}, {"tokenize", no_argument, 0, OPT_TOKENIZE},
        {"detokenize", no_argument, 0, OPT_DETOKENIZE}, {0, 0, 0, 0}
    };
    struct option *lo = mg_cli_long_options(own);
    const char *model = NULL;
    int c, status = 2, tokenize = 0, detokenize = 0;
    optind = 1 + skip;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "m:", lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: status = 0; goto out;
        case MG_CLI_USAGE: goto out;
        default: break;
        }
        if (c == 'm') model = optarg;
        else if (c == OPT_TOKENIZE) tokenize = 1;
        else if (c == OPT_DETOKENIZE) detokenize = 1;
        else { mg_usage_error(&cli, "--tokenize takes -m DIR, -o FILE and one input"); goto out; }
    }
    if (tokenize && detokenize) { mg_usage_error(&cli, "--tokenize or --detokenize, not both"); goto out; }
    if (!model) { mg_usage_error(&cli, "-m DIR is required"); goto out; }
    if (argc - optind > 1) { mg_usage_error(&cli, "one input at most"); goto out; }
    status = run(&cli, model, detokenize, optind < argc ? argv[optind] : "-");
out:
    free(lo);
    mg_cli_free(&cli);
    return status;
}

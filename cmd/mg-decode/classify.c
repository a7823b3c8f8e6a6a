/* classify.c: mg-decode classify — apply a head written by mg-fit (linear
 * or MLP, loaded through the model registry: common/mg_head.h) to the records
 * of a stream, one prediction per record. */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "mg_fit.h"
#include "mg_head.h"
#include "mg_tensor.h"

static const char usage[] =
"Usage: mg-decode classify -m HEAD_DIR [options] [INPUT.mgt]\n"
"Apply a head written by mg-fit (linear or MLP) to the records of INPUT\n"
"(stdin when absent or \"-\"): class probabilities (binary: the positive\n"
"class; multiclass: one column per class; multilabel: one column per label)\n"
"or regression values, one row per record, in the columns mg-score\n"
"classify/risk read.\n"
"\n"
"  -m, --model DIR          head directory (config.json, head.safetensors)\n"
"  -O, --output-format F    tsv, jsonl or mgt (prediction records: tensor\n"
"                           \"pred\", metadata id, classes and the input's) [tsv]\n"
"  -o, --output FILE        output [stdout]\n"
"  -z, --compress[=L]       zstd-compress tensor data of mgt output\n"
"  -@, --threads N          accepted for uniformity; one record at a time\n"
"  -q, --quiet              no warnings\n"
"  -v, --verbose            progress on stderr\n"
"      --no-version         no provenance line of this program (mgt output)\n"
"  -h, --help               this help\n"
"      --version            print the version\n";

int mg_decode_classify(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-decode", argc + 1, argv - 1);
    cli.usage = usage;
    static const struct option own[] = {
        {"model", required_argument, 0, 'm'}, {"output-format", required_argument, 0, 'O'}, {0, 0, 0, 0}
    };
    struct option *lo = mg_cli_long_options(own);
    const char *model = NULL;
    int format = MG_DECODE_TSV, c, status = 2;
    optind = 1;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "m:O:", lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: status = 0; goto out;
        case MG_CLI_USAGE: goto out;
        default: break;
        }
        if (c == 'm') model = optarg;
        else if (c == 'O') {
            if (!(format = mg_decode_format(optarg))) { mg_usage_error(&cli, "-O: tsv, jsonl or mgt"); goto out; }
        } else { mg_usage_error(&cli, "unknown option"); goto out; }
    }
    if (!model) { mg_usage_error(&cli, "-m HEAD_DIR is required"); goto out; }
    if (argc - optind > 1) { mg_usage_error(&cli, "one input stream at most"); goto out; }
    const char *in_path = optind < argc ? argv[optind] : "-";
    char err[1024];
    status = 1;
    mg_head *h = mg_head_load(model, err, sizeof err);
    if (!h) { mg_error(&cli, model, "%s", err); goto out; }
    mg_reader *r = mg_reader_open(in_path, err, sizeof err);
    if (!r) { mg_error(&cli, in_path, "%s", err); mg_head_free(h); goto out; }
    mg_record *rec = mg_record_init();
    float *x = malloc((size_t)h->d * sizeof *x);
    double *v = malloc((size_t)h->nout * sizeof *v);
    mg_decode_out *o = NULL;
    int st = 0, ok = 0;
    if (!rec || !x || !v) { mg_error(&cli, NULL, "out of memory"); goto done; }
    /* the output is opened only after the first record checks out, so that a
     * mismatched stream leaves no file behind */
    mg_cli_progress_begin(&cli, "records", 0);
    while ((st = mg_reader_next(r, rec)) == 1) {
        int64_t k = mg_reader_count(r);
        const char *id = mg_record_get_meta(rec, "id");
        if (!id) { mg_error(&cli, in_path, "record %lld: no id", (long long)k); goto done; }
        const mg_tensor *t = mg_record_find_tensor(rec, h->input_name);
        if (!t) {
            mg_error(&cli, in_path, "record %lld (id %s): no tensor '%s', which the head %s was fitted on",
                     (long long)k, id, h->input_name, model);
            goto done;
        }
        if (mg_tensor_numel(t) != h->d || !mg_dtype_size(t->dtype)) {
            mg_error(&cli, in_path, "record %lld (id %s): tensor '%s' has %lld values, the head was fitted on %d",
                     (long long)k, id, h->input_name, (long long)mg_tensor_numel(t), h->d);
            goto done;
        }
        if (!o && !(o = mg_decode_out_open(&cli, cli.output, format, h->outputs, h->nout, mg_reader_prov(r),
                                           err, sizeof err))) {
            mg_error(&cli, cli.output, "%s", err);
            goto done;
        }
        mg_convert_to_f32(x, t->data, t->dtype, (size_t)h->d);
        if (mg_head_predict(h, x, 1, v) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        if (mg_decode_out_row(o, rec, id, v, err, sizeof err) < 0) { mg_error(&cli, cli.output, "%s", err); goto done; }
    }
    if (st < 0) { mg_error(&cli, in_path, "%s", mg_reader_error(r)); goto done; }
    if (!o && !(o = mg_decode_out_open(&cli, cli.output, format, h->outputs, h->nout, mg_reader_prov(r), err, sizeof err))) {
        mg_error(&cli, cli.output, "%s", err);
        goto done;
    }
    mg_info(&cli, "%lld record(s)", (long long)mg_reader_count(r));
    ok = 1;
done:
    if (o && mg_decode_out_close(o, ok, err, sizeof err) < 0 && ok) { mg_error(&cli, cli.output, "%s", err); ok = 0; }
    if (ok && !strcmp(cli.output, "-") && mg_close_stdout(&cli) < 0) ok = 0;
    mg_reader_close(r);
    mg_record_destroy(rec);
    free(x); free(v);
    mg_head_free(h);
    status = ok ? 0 : 1;
out:
    free(lo);
    mg_cli_free(&cli);
    return status;
}

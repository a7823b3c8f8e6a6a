/* mg-encode2d: image records -> embedding or token records, through a vision
 * encoder loaded from a Hugging Face checkpoint directory (see mg_encoder.h;
 * the record loop is mg_encode_stream, shared with mg-encode3d). */
#include "mg_cli.h"
#include "mg_cli_encode.h"
#include "mg_matmul.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "Usage: mg-encode2d -m DIR [options] [FILE]\n"
    "Encode image records [C,H,W] f32 (from mg-preprocess) with a vision encoder\n"
    "loaded from a Hugging Face checkpoint directory (config.json + safetensors).\n"
    "Model types: siglip, siglip_vision_model, gemma3, dinov2, dinov2_with_registers, vit.\n"
    "\n"
    "  -m, --model DIR     checkpoint directory (required)\n"
    "  -k, --kind KIND     pooled, mean, tokens or projected [the model's own:\n"
    "                      pooled; mean for SigLIP without head; projected for gemma3]\n"
    "      --l2            L2-normalise each output vector (each row for tokens)\n"
    "  -b, --batch N       images per forward pass [8]\n"
    MG_CLI_PRECISION_HELP
    "  -t, --tensor NAME   input tensor [image]\n"
    "  -o, --output FILE   output stream [stdout]\n"
    "  -@, --threads N     worker threads [1]\n"
    "  -z, --compress[=L]  zstd-compress tensor data [level 3]\n"
    "      --max-record-size N  refuse input records over N bytes decoded [2G]\n"
    "  -v, --verbose  -q, --quiet  --no-version\n"
    "  -h, --help          this help;  --version  print the version\n"
    "\n"
    "Writes one record per input record with its metadata: 'embedding' [D] for\n"
    "pooled/mean, 'tokens' [N,D] for tokens/projected.\n";

enum { OPT_L2 = MG_OPT_FIRST_OWN };

int main(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-encode2d", argc, argv);
    cli.usage = USAGE;
    static const struct option own[] = {
        {"model", required_argument, NULL, 'm'}, {"kind", required_argument, NULL, 'k'},
        {"l2", no_argument, NULL, OPT_L2}, {"batch", required_argument, NULL, 'b'},
        {"tensor", required_argument, NULL, 't'}, MG_CLI_PRECISION_OPTION, {NULL, 0, NULL, 0}};
    struct option *lo = mg_cli_long_options(own);
    const char *dir = NULL, *in = "-";
    long batch = 8;
    mg_encode_opts o = { .tensor = "image" };
    o.ctx.precision = MG_PREC_AUTO;
    mg_encoder *e = NULL;
    int c, ret = 1;
    char err[512];
    if (!lo) { mg_error(&cli, NULL, "out of memory"); mg_cli_free(&cli); return 1; }
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "m:k:b:t:", lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: ret = 0; goto out;
        case MG_CLI_USAGE: ret = 2; goto out;
        default: break;
        }
        switch (c) {
        case 'm': dir = optarg; break;
        case 'k':
            if (!(o.kind = mg_output_from_name(optarg))) {
                mg_usage_error(&cli, "unknown kind '%s' (pooled, mean, tokens, projected)", optarg);
                ret = 2;
                goto out;
            }
            break;
        case OPT_L2: o.l2 = 1; break;
        case 'b':
            if (mg_parse_long(optarg, 1, 4096, &batch) < 0) {
                mg_usage_error(&cli, "invalid batch size '%s'", optarg);
                ret = 2;
                goto out;
            }
            break;
        case 't': o.tensor = optarg; break;
        case MG_OPT_PRECISION:
            if (mg_cli_precision(&cli, optarg, &o.ctx.precision) != MG_CLI_HANDLED) { ret = 2; goto out; }
            break;
        default: mg_usage_error(&cli, "unknown option"); ret = 2; goto out;
        }
    }
    if (!dir) { mg_usage_error(&cli, "a checkpoint directory (-m DIR) is required"); ret = 2; goto out; }
    if (argc - optind > 1) { mg_usage_error(&cli, "one input file at most"); ret = 2; goto out; }
    if (optind < argc) in = argv[optind];
    o.ctx.threads = cli.threads;
    o.ctx.pool = cli.pool;
    o.batch = (int)batch;

    if (!(e = mg_encoder_load(dir, &o.ctx, err, sizeof err))) { mg_error(&cli, dir, "%s", err); goto out; }
    if (mg_encoder_input_ndim(e) != 3) {
        mg_error(&cli, dir, "%s is a volume encoder; use mg-encode3d", mg_encoder_type(e));
        goto out;
    }
    mg_info(&cli, "%s: %s, %s output", dir, mg_encoder_type(e),
            mg_output_name(o.kind ? o.kind : mg_encoder_default_output(e)));
    mg_info(&cli, "precision %s: %s; %d thread(s)", mg_precision_name(o.ctx.precision),
            mg_encoder_backend(e), cli.threads);
    ret = mg_cli_encode(&cli, in, e, &o);
out:
    mg_encoder_free(e);
    free(lo);
    mg_cli_free(&cli);
    return ret;
}

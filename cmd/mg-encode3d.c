/* mg-encode3d: volume records -> embedding or token records, through a 3D
 * encoder (MONAI ViT / M3D-CLIP, Merlin's I3D ResNet) or slice-wise through
 * an image encoder of mg-encode2d (see mg_encoder.h, mg_encode_stream.h). */
#include "mg_cli.h"
#include "mg_cli_encode.h"
#include "mg_matmul.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "Usage: mg-encode3d -m DIR [options] [FILE]\n"
    "Encode volume records [D,H,W] or [C,D,H,W] f32 (from mg-preprocess) with a 3D\n"
    "encoder, or the slice records of a volume (mg-preprocess --preset medgemma-ct)\n"
    "slice by slice with an image encoder, from a checkpoint directory\n"
    "(config.json + safetensors; examples/convert_3d.py writes one from PyTorch).\n"
    "Model types: monai_vit, m3d_clip, merlin_i3d (volumes); siglip,\n"
    "siglip_vision_model, gemma3, dinov2, dinov2_with_registers, vit (slice-wise).\n"
    "\n"
    "  -m, --model DIR     checkpoint directory (required)\n"
    "  -k, --kind KIND     pooled, mean, tokens or projected [the model's own:\n"
    "                      projected for m3d_clip and merlin_i3d, pooled with a\n"
    "                      CLS token, else mean; image encoders as mg-encode2d]\n"
    "  -s, --slices POOL   image encoders: pool the slices of a volume by mean or\n"
    "                      max, or keep them as tokens [mean]\n"
    "      --l2            L2-normalise each output vector (each row for tokens)\n"
    "  -b, --batch N       volumes (slices) per forward pass [1 (8)]\n"
    "  -t, --tensor NAME   input tensor [volume; image for slice-wise]\n"
    MG_CLI_PRECISION_HELP
    "  -o, --output FILE   output stream [stdout]\n"
    "  -@, --threads N     worker threads [1]\n"
    "  -z, --compress[=L]  zstd-compress tensor data [level 3]\n"
    "  -v, --verbose  -q, --quiet  --no-version\n"
    "  -h, --help          this help;  --version  print the version\n"
    "\n"
    "Writes one record per volume with its metadata: 'embedding' [D] for\n"
    "pooled/mean/projected, 'tokens' [N,D] for tokens.\n";

enum { OPT_L2 = MG_OPT_FIRST_OWN };

int main(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-encode3d", argc, argv);
    cli.usage = USAGE;
    static const struct option own[] = {
        {"model", required_argument, NULL, 'm'}, {"kind", required_argument, NULL, 'k'},
        {"slices", required_argument, NULL, 's'}, {"l2", no_argument, NULL, OPT_L2},
        {"batch", required_argument, NULL, 'b'}, {"tensor", required_argument, NULL, 't'},
        MG_CLI_PRECISION_OPTION, {NULL, 0, NULL, 0}};
    struct option *lo = mg_cli_long_options(own);
    const char *dir = NULL, *in = "-";
    long batch = 0;
    mg_encode_opts o = { 0 };
    o.ctx.precision = MG_PREC_AUTO;
    mg_encoder *e = NULL;
    int c, ret = 1, slices_set = 0;
    char err[512];
    if (!lo) { mg_error(&cli, NULL, "out of memory"); mg_cli_free(&cli); return 1; }
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "m:k:s:b:t:", lo, NULL)) >= 0) {
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
        case 's':
            if (!(o.slices = mg_slice_pool_from_name(optarg))) {
                mg_usage_error(&cli, "unknown slice pooling '%s' (mean, max, tokens)", optarg);
                ret = 2;
                goto out;
            }
            slices_set = 1;
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

    if (!(e = mg_encoder_load(dir, &o.ctx, err, sizeof err))) { mg_error(&cli, dir, "%s", err); goto out; }
    int volumes = mg_encoder_input_ndim(e) == 4;
    if (volumes && slices_set) {
        mg_error(&cli, dir, "%s encodes whole volumes; --slices is for image encoders", mg_encoder_type(e));
        goto out;
    }
    if (!volumes && !slices_set) o.slices = MG_SLICES_MEAN;
    if (!o.tensor) o.tensor = volumes ? "volume" : "image";
    o.batch = batch ? (int)batch : volumes ? 1 : 8;
    mg_info(&cli, "%s: %s, %s, %s output", dir, mg_encoder_type(e),
            volumes ? "volume encoder" : "slice-wise", mg_output_name(o.kind ? o.kind : mg_encoder_default_output(e)));
    mg_info(&cli, "precision %s: %s; %d thread(s)", mg_precision_name(o.ctx.precision),
            mg_encoder_backend(e), cli.threads);
    ret = mg_cli_encode(&cli, in, e, &o);
out:
    mg_encoder_free(e);
    free(lo);
    mg_cli_free(&cli);
    return ret;
}

/* mg-encode2d: image records -> embedding or token records, through a vision
 * encoder loaded from a Hugging Face checkpoint directory (see mg_encoder.h). */
#include "mg_cli.h"
#include "mg_encoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

typedef struct {
    mg_cli *cli;
    const char *in;
    mg_encoder *model;
    mg_output kind;
    int l2;
    mg_nn_ctx ctx;
    mg_writer *w;
    mg_record **recs;           /* the batch */
    int n;
    int c, h, wd;
    int64_t oshape[2];
    int ondim;
    float *images, *out;
    size_t images_cap, out_cap;
    const char *tensor;
    int64_t recno;
} job;

static int flush_batch(job *j)
{
    char err[512];
    if (j->n == 0) return 0;
    int64_t per = j->ondim == 1 ? j->oshape[0] : j->oshape[0] * j->oshape[1];
    size_t need = (size_t)(per * j->n) * sizeof(float);
    if (need > j->out_cap) {
        float *p = realloc(j->out, need);
        if (!p) { mg_error(j->cli, j->in, "out of memory"); return -1; }
        j->out = p;
        j->out_cap = need;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t in_shape[3] = { j->c, j->h, j->wd };
    if (mg_encoder_forward(j->model, &j->ctx, j->kind, j->images, j->n, 3, in_shape, j->out,
                           err, sizeof err) < 0) {
        mg_error(j->cli, j->in, "%s", err);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    mg_info(j->cli, "%d image(s) of %dx%d in %.2f s", j->n, j->h, j->wd,
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    int64_t row = j->ondim == 1 ? j->oshape[0] : j->oshape[1];
    if (j->l2)
        for (int64_t r = 0; r < per * j->n / row; r++) {
            float *v = j->out + r * row;
            double s = 0;
            for (int64_t i = 0; i < row; i++) s += (double)v[i] * v[i];
            float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
            for (int64_t i = 0; i < row; i++) v[i] *= inv;
        }
    mg_record *o = mg_record_init();
    if (!o) { mg_error(j->cli, j->in, "out of memory"); return -1; }
    int rc = 0;
    for (int i = 0; i < j->n && rc == 0; i++) {
        mg_record_clear(o);
        if (mg_record_copy_meta(o, j->recs[i]) < 0 ||
            !mg_record_add_tensor_ref(o, j->ondim == 1 ? "embedding" : "tokens", MG_F32, j->ondim,
                                      j->oshape, j->out + per * i)) {
            mg_error(j->cli, j->in, "out of memory");
            rc = -1;
        } else if (mg_writer_write(j->w, o) < 0) {
            mg_error(j->cli, j->cli->output, "%s", mg_writer_error(j->w));
            rc = -1;
        }
    }
    mg_record_destroy(o);
    j->n = 0;
    return rc;
}

/* Validate a record's image and add it to the batch (flushing first when the
 * shape changes or the batch is full). */
static int add_record(job *j, int batch)
{
    char err[512];
    mg_record *r = j->recs[j->n];
    const char *id = mg_record_get_meta(r, "id");
    mg_tensor *t = mg_record_find_tensor(r, j->tensor);
    if (!t) {
        mg_error(j->cli, j->in, "record %lld%s%s: no tensor '%s'", (long long)j->recno,
                 id ? " id " : "", id ? id : "", j->tensor);
        return -1;
    }
    if (t->dtype != MG_F32 || t->ndim != 3) {
        mg_error(j->cli, j->in, "record %lld%s%s: tensor '%s' must be [C,H,W] f32 (got %dd %s)",
                 (long long)j->recno, id ? " id " : "", id ? id : "", j->tensor, t->ndim,
                 mg_dtype_name(t->dtype) ? mg_dtype_name(t->dtype) : "?");
        return -1;
    }
    int c = (int)t->shape[0], h = (int)t->shape[1], w = (int)t->shape[2];
    if (j->n > 0 && (c != j->c || h != j->h || w != j->wd)) {
        /* flush the others, then move this record to slot 0 */
        int n = j->n;
        if (flush_batch(j) < 0) return -1;
        j->recs[n] = j->recs[0];
        j->recs[0] = r;
    }
    if (j->n == 0) {
        int nd = mg_encoder_output_shape(j->model, j->kind, 3, t->shape, j->oshape, err, sizeof err);
        if (nd < 0) {
            mg_error(j->cli, j->in, "record %lld%s%s: %s", (long long)j->recno, id ? " id " : "",
                     id ? id : "", err);
            return -1;
        }
        j->ondim = nd;
        j->c = c;
        j->h = h;
        j->wd = w;
        size_t need = (size_t)batch * c * h * w * sizeof(float);
        if (need > j->images_cap) {
            float *p = realloc(j->images, need);
            if (!p) { mg_error(j->cli, j->in, "out of memory"); return -1; }
            j->images = p;
            j->images_cap = need;
        }
    }
    memcpy(j->images + (size_t)j->n * c * h * w, t->data, (size_t)c * h * w * sizeof(float));
    j->n++;
    return j->n == batch ? flush_batch(j) : 0;
}

int main(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-encode2d", argc, argv);
    cli.usage = USAGE;
    static const struct option own[] = {
        {"model", required_argument, NULL, 'm'}, {"kind", required_argument, NULL, 'k'},
        {"l2", no_argument, NULL, OPT_L2}, {"batch", required_argument, NULL, 'b'},
        {"tensor", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
    struct option *lo = mg_cli_long_options(own);
    const char *dir = NULL;
    long batch = 8;
    job j = { .cli = &cli, .tensor = "image" };
    int c, ret = 1;
    mg_reader *r = NULL;
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
            if (!(j.kind = mg_output_from_name(optarg))) {
                mg_usage_error(&cli, "unknown kind '%s' (pooled, mean, tokens, projected)", optarg);
                ret = 2;
                goto out;
            }
            break;
        case OPT_L2: j.l2 = 1; break;
        case 'b':
            if (mg_parse_long(optarg, 1, 4096, &batch) < 0) {
                mg_usage_error(&cli, "invalid batch size '%s'", optarg);
                ret = 2;
                goto out;
            }
            break;
        case 't': j.tensor = optarg; break;
        default: mg_usage_error(&cli, "unknown option"); ret = 2; goto out;
        }
    }
    if (!dir) { mg_usage_error(&cli, "a checkpoint directory (-m DIR) is required"); ret = 2; goto out; }
    if (argc - optind > 1) { mg_usage_error(&cli, "one input file at most"); ret = 2; goto out; }
    j.in = optind < argc ? argv[optind] : "-";
    j.ctx.threads = cli.threads;
    j.ctx.pool = cli.pool;

    if (!(j.model = mg_encoder_load(dir, &j.ctx, err, sizeof err))) { mg_error(&cli, dir, "%s", err); goto out; }
    int64_t size[4];            /* room for a volume encoder's [C,D,H,W] */
    mg_encoder_input_shape(j.model, size);
    mg_info(&cli, "%s: %s, %lldx%lld input, %s output", dir, mg_encoder_type(j.model),
            (long long)size[1], (long long)size[2],
            mg_output_name(j.kind ? j.kind : mg_encoder_default_output(j.model)));
    if (!(r = mg_reader_open(j.in, err, sizeof err))) { mg_error(&cli, j.in, "%s", err); goto out; }
    mg_prov prov = mg_cli_prov(&cli, mg_reader_prov(r));
    mg_writer_opts wo = mg_cli_writer_opts(&cli);
    j.w = mg_writer_open(cli.output, &prov, &wo, err, sizeof err);
    mg_prov_free(&prov);
    if (!j.w) { mg_error(&cli, cli.output, "%s", err); goto out; }
    j.recs = calloc((size_t)batch, sizeof *j.recs);
    int ok = j.recs != NULL;
    for (long i = 0; ok && i < batch; i++) ok = (j.recs[i] = mg_record_init()) != NULL;
    if (!ok) mg_error(&cli, NULL, "out of memory");
    while (ok) {
        int k = mg_reader_next(r, j.recs[j.n]);
        if (k < 0) { mg_error(&cli, j.in, "%s", mg_reader_error(r)); ok = 0; break; }
        if (k == 0) break;
        j.recno++;
        if (add_record(&j, (int)batch) < 0) ok = 0;
    }
    if (ok && flush_batch(&j) < 0) ok = 0;
    if (mg_writer_close(j.w, ok, err, sizeof err) < 0 && ok) {
        mg_error(&cli, cli.output, "%s", err);
        ok = 0;
    }
    j.w = NULL;
    if (ok && strcmp(cli.output, "-") == 0 && mg_close_stdout(&cli) < 0) ok = 0;
    ret = ok ? 0 : 1;
out:
    if (j.recs)
        for (long i = 0; i < batch; i++) mg_record_destroy(j.recs[i]);
    free(j.recs);
    free(j.images);
    free(j.out);
    if (r) mg_reader_close(r);
    mg_encoder_free(j.model);
    free(lo);
    mg_cli_free(&cli);
    return ret;
}

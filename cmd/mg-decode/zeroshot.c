/* zeroshot.c: mg-decode zeroshot — zero-shot classification of image embeddings
 * against class prompts through the text tower of the same SigLIP / MedSigLIP
 * checkpoint (common/mg_textenc.h):
 *   t_c = normalise(mean_p normalise(text(prompt_p)))   over the prompts p of class c
 *   logit_c = exp(logit_scale)·⟨normalise(image), t_c⟩ + logit_bias   (SiglipModel.forward)
 *   score_c = sigmoid(logit_c), or softmax over the classes (--softmax; MedSigLIP TR §6).
 * The class embeddings can be saved once (--save-text) and reused
 * (--text-embeddings) without the checkpoint. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "mg_matmul.h"
#include "mg_tensor.h"
#include "mg_textenc.h"

static const char usage[] =
"Usage: mg-decode zeroshot -m DIR -p PROMPTS.tsv [options] [INPUT.mgt]\n"
"       mg-decode zeroshot --text-embeddings TEXT.mgt [options] [INPUT.mgt]\n"
"Zero-shot classification of the embedding records of INPUT (stdin when absent\n"
"or \"-\"; mg-encode2d -m DIR output, pooled) against class prompts embedded by\n"
"the text tower of the SigLIP checkpoint DIR: one column per class,\n"
"sigmoid(exp(logit_scale)*cos + logit_bias), in the columns mg-score classify reads.\n"
"\n"
"  -m, --model DIR             SigLIP / MedSigLIP checkpoint (config.json,\n"
"                              model.safetensors, spiece.model or tokenizer.model)\n"
"  -p, --prompts FILE          class<TAB>prompt lines; several prompts per class\n"
"                              are averaged; classes in order of first appearance\n"
"      --softmax               softmax of the logits across classes instead\n"
"      --save-text FILE        also write the class embeddings (mgt) for reuse\n"
"      --text-only             only write --save-text; read no images\n"
"      --text-embeddings FILE  class embeddings written by --save-text (no -m, -p)\n"
"  -t, --tensor NAME           image tensor to read [embedding]\n"
"  -O, --output-format F       tsv, jsonl or mgt [tsv]\n"
"  -o, --output FILE           output [stdout]\n"
"  -z, --compress[=L]          zstd-compress tensor data of mgt output\n"
"  -@, --threads N             threads for the text tower [1]\n"
MG_CLI_PRECISION_HELP
"  -q, --quiet                 no warnings\n"
"  -v, --verbose               progress on stderr\n"
"      --no-version            no provenance line of this program (mgt output)\n"
"  -h, --help                  this help\n"
"      --version               print the version\n";

enum { OPT_SOFTMAX = MG_OPT_FIRST_OWN, OPT_SAVE_TEXT, OPT_TEXT_ONLY, OPT_TEXT_EMB };

/* The classes: names, their unit embeddings [n, dim], and the logit scale/bias. */
typedef struct {
    int n, cap, dim;
    char **name;
    int *nprompt;
    float *emb;
    double log_scale, bias;
} classes;

static void classes_free(classes *c)
{
    for (int i = 0; i < c->n; i++) free(c->name[i]);
    free(c->name); free(c->nprompt); free(c->emb);
}

static int class_index(classes *c, const char *name, size_t len)
{
    for (int i = 0; i < c->n; i++)
        if (strlen(c->name[i]) == len && !memcmp(c->name[i], name, len)) return i;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        char **nn = realloc(c->name, (size_t)cap * sizeof *nn);
        if (!nn) return -1;
        c->name = nn;
        int *np = realloc(c->nprompt, (size_t)cap * sizeof *np);
        if (!np) return -1;
        c->nprompt = np;
        c->cap = cap;
    }
    if (!(c->name[c->n] = strndup(name, len))) return -1;
    c->nprompt[c->n] = 0;
    return c->n++;
}

/* Scale v[n] to unit L2 norm (a zero vector stays zero). */
static void l2_normalise(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    if (s > 0) {
        double k = 1.0 / sqrt(s);
        for (int i = 0; i < n; i++) v[i] = (float)(v[i] * k);
    }
}

/* Read the prompt table and embed it. Each prompt's embedding is normalised
 * before the class mean (then the mean is normalised again): the model compares
 * unit vectors, so every prompt weighs the same whatever its raw norm (CLIP's
 * prompt ensembling). 0, or -1 with err. */
static int embed_prompts(const char *path, mg_textenc *te, const mg_nn_ctx *ctx, classes *c,
                         char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) { mg_seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    int L = mg_textenc_seq_len(te), D = mg_textenc_dim(te), rc = -1;
    int32_t *ids = NULL;
    int *cls = NULL;
    size_t np = 0, cap = 0, lcap = 0;
    char *line = NULL;
    ssize_t len;
    long lineno = 0;
    float *pe = NULL;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0 || line[0] == '#') continue;
        char *tab = memchr(line, '\t', (size_t)len);
        if (tab == line) { mg_seterr(err, errlen, "%s: line %ld: empty class name", path, lineno); goto done; }
        if (!tab || !tab[1]) {
            mg_seterr(err, errlen, "%s: line %ld: class '%.*s' has no prompt", path, lineno,
                      (int)(tab ? tab - line : len), line);
            goto done;
        }
        if (np == cap) {
            cap = cap ? 2 * cap : 64;
            int32_t *ni = realloc(ids, cap * (size_t)L * sizeof *ni);
            if (!ni) goto oom;
            ids = ni;
            int *nc = realloc(cls, cap * sizeof *nc);
            if (!nc) goto oom;
            cls = nc;
        }
        int k = class_index(c, line, (size_t)(tab - line));
        if (k < 0) goto oom;
        char terr[256];
        if (mg_textenc_tokenize(te, tab + 1, strlen(tab + 1), ids + np * (size_t)L, terr, sizeof terr) < 0) {
            mg_seterr(err, errlen, "%s: line %ld: %s", path, lineno, terr);
            goto done;
        }
        cls[np++] = k;
        c->nprompt[k]++;
    }
    if (ferror(f)) { mg_seterr(err, errlen, "%s: read error", path); goto done; }
    if (np == 0) { mg_seterr(err, errlen, "%s: no prompts", path); goto done; }
    c->dim = D;
    if (!(pe = malloc(np * (size_t)D * sizeof *pe)) || !(c->emb = calloc((size_t)c->n * (size_t)D, sizeof *c->emb)))
        goto oom;
    char terr[256];
    if (mg_textenc_forward(te, ctx, ids, (int)np, pe, terr, sizeof terr) < 0) {
        mg_seterr(err, errlen, "%s: %s", path, terr);
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        float *v = pe + i * (size_t)D, *e = c->emb + (size_t)cls[i] * (size_t)D;
        l2_normalise(v, D);
        for (int j = 0; j < D; j++) e[j] += v[j];
    }
    for (int k = 0; k < c->n; k++) l2_normalise(c->emb + (size_t)k * (size_t)D, D);
    if (mg_textenc_logit(te, &c->log_scale, &c->bias) < 0) {
        mg_seterr(err, errlen, "the checkpoint has no logit_scale / logit_bias");
        goto done;
    }
    rc = 0;
    goto done;
oom:
    mg_seterr(err, errlen, "out of memory");
done:
    fclose(f);
    free(line); free(ids); free(cls); free(pe);
    return rc;
}

/* Class embeddings from a --save-text stream. 0, or -1 with err. */
static int read_text_embeddings(const char *path, classes *c, char *err, size_t errlen)
{
    mg_reader *r = mg_reader_open(path, err, errlen);
    if (!r) return -1;
    mg_record *rec = mg_record_init();
    int st, rc = -1;
    if (!rec) { mg_seterr(err, errlen, "out of memory"); goto done; }
    while ((st = mg_reader_next(r, rec)) == 1) {
        long long k = (long long)mg_reader_count(r);
        const char *id = mg_record_get_meta(rec, "id"), *ls = mg_record_get_meta(rec, "logit_scale"),
                   *lb = mg_record_get_meta(rec, "logit_bias");
        const mg_tensor *t = mg_record_find_tensor(rec, "embedding");
        double s, b;
        if (!id || !ls || !lb || !t || t->ndim != 1 || !mg_dtype_size(t->dtype) ||
            mg_parse_double(ls, &s) < 0 || mg_parse_double(lb, &b) < 0) {
            mg_seterr(err, errlen, "record %lld: not a class embedding (id, logit_scale, logit_bias, "
                      "tensor 'embedding' [D]; written by --save-text)", k);
            goto done;
        }
        if (c->n == 0) { c->dim = (int)t->shape[0]; c->log_scale = s; c->bias = b; }
        else if (t->shape[0] != c->dim || s != c->log_scale || b != c->bias) {
            mg_seterr(err, errlen, "record %lld (class %s): width or logit scale/bias differ from the "
                      "first record's", k, id);
            goto done;
        }
        int before = c->n, i = class_index(c, id, strlen(id));
        if (i < 0) { mg_seterr(err, errlen, "out of memory"); goto done; }
        if (i < before) { mg_seterr(err, errlen, "record %lld: class %s appears twice", k, id); goto done; }
        float *e = realloc(c->emb, (size_t)c->n * (size_t)c->dim * sizeof *e);
        if (!e) { mg_seterr(err, errlen, "out of memory"); goto done; }
        c->emb = e;
        mg_convert_to_f32(e + (size_t)i * (size_t)c->dim, t->data, t->dtype, (size_t)c->dim);
    }
    if (st < 0) { mg_seterr(err, errlen, "%s", mg_reader_error(r)); goto done; }
    if (c->n == 0) { mg_seterr(err, errlen, "no class embeddings"); goto done; }
    rc = 0;
done:
    mg_record_destroy(rec);
    mg_reader_close(r);
    return rc;
}

/* The class embeddings as a stream: one record per class (id, prompts,
 * logit_scale, logit_bias, model; tensor "embedding" [D] f32). NULL with err. */
static mg_writer *write_text_embeddings(const mg_cli *cli, const char *path, const classes *c,
                                        const char *model, char *err, size_t errlen)
{
    mg_prov pv = mg_cli_prov(cli, NULL);
    mg_writer_opts wo = mg_cli_writer_opts(cli);
    mg_writer *w = mg_writer_open(path, &pv, &wo, err, errlen);
    mg_prov_free(&pv);
    if (!w) return NULL;
    mg_record *rec = mg_record_init();
    if (!rec) goto oom;
    for (int k = 0; k < c->n; k++) {
        int64_t shape[1] = { c->dim };
        mg_record_clear(rec);
        if (mg_record_set_meta(rec, "id", c->name[k]) < 0 ||
            mg_record_set_metaf(rec, "prompts", "%d", c->nprompt[k]) < 0 ||
            mg_record_set_metaf(rec, "logit_scale", "%.17g", c->log_scale) < 0 ||
            mg_record_set_metaf(rec, "logit_bias", "%.17g", c->bias) < 0 ||
            mg_record_set_meta(rec, "model", model) < 0 ||
            !mg_record_add_tensor_ref(rec, "embedding", MG_F32, 1, shape, c->emb + (size_t)k * (size_t)c->dim))
            goto oom;
        if (mg_writer_write(w, rec) < 0) {
            mg_seterr(err, errlen, "%s", mg_writer_error(w));
            goto fail;
        }
    }
    mg_record_destroy(rec);
    return w;
oom:
    mg_seterr(err, errlen, "out of memory");
fail:
    mg_record_destroy(rec);
    mg_writer_abort(w);
    return NULL;
}

/* Scores of one image embedding x[dim] (normalised here) into v[n]. */
static void score(const classes *c, const float *x, int softmax, double *v)
{
    double s = 0;
    for (int j = 0; j < c->dim; j++) s += (double)x[j] * x[j];
    double inv = s > 0 ? 1.0 / sqrt(s) : 0, scale = exp(c->log_scale), mx = -INFINITY;
    for (int k = 0; k < c->n; k++) {
        const float *e = c->emb + (size_t)k * (size_t)c->dim;
        double d = 0;
        for (int j = 0; j < c->dim; j++) d += (double)x[j] * e[j];
        v[k] = scale * d * inv + c->bias;
        if (v[k] > mx) mx = v[k];
    }
    if (softmax) {
        /* the bias is common to every class and cancels; shift by the max for range */
        double z = 0;
        for (int k = 0; k < c->n; k++) z += (v[k] = exp(v[k] - mx));
        for (int k = 0; k < c->n; k++) v[k] /= z;
    } else {
        /* σ(l) = 1/(1+e^{−l}); for l < 0 as e^{l}/(1+e^{l}), which does not overflow */
        for (int k = 0; k < c->n; k++)
            v[k] = v[k] >= 0 ? 1.0 / (1.0 + exp(-v[k])) : exp(v[k]) / (1.0 + exp(v[k]));
    }
}

int mg_decode_zeroshot(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-decode", argc + 1, argv - 1);
    cli.usage = usage;
    static const struct option own[] = {
        {"model", required_argument, 0, 'm'}, {"prompts", required_argument, 0, 'p'},
        {"tensor", required_argument, 0, 't'}, {"output-format", required_argument, 0, 'O'},
        {"softmax", no_argument, 0, OPT_SOFTMAX}, {"save-text", required_argument, 0, OPT_SAVE_TEXT},
        {"text-only", no_argument, 0, OPT_TEXT_ONLY}, {"text-embeddings", required_argument, 0, OPT_TEXT_EMB},
        MG_CLI_PRECISION_OPTION, {0, 0, 0, 0}
    };
    struct option *lo = mg_cli_long_options(own);
    const char *model = NULL, *prompts = NULL, *save = NULL, *text_in = NULL, *tname = "embedding";
    int format = MG_DECODE_TSV, softmax = 0, text_only = 0, c, status = 2, prec = MG_PREC_AUTO;
    optind = 1;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "m:p:t:O:", lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: status = 0; goto out;
        case MG_CLI_USAGE: goto out;
        default: break;
        }
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': prompts = optarg; break;
        case 't': tname = optarg; break;
        case 'O':
            if (!(format = mg_decode_format(optarg))) { mg_usage_error(&cli, "-O: tsv, jsonl or mgt"); goto out; }
            break;
        case OPT_SOFTMAX: softmax = 1; break;
        case OPT_SAVE_TEXT: save = optarg; break;
        case OPT_TEXT_ONLY: text_only = 1; break;
        case OPT_TEXT_EMB: text_in = optarg; break;
        case MG_OPT_PRECISION:
            if (mg_cli_precision(&cli, optarg, &prec) != MG_CLI_HANDLED) goto out;
            break;
        default: mg_usage_error(&cli, "unknown option"); goto out;
        }
    }
    if (text_in && (model || prompts || save)) {
        mg_usage_error(&cli, "--text-embeddings replaces -m, -p and --save-text"); goto out;
    }
    if (!text_in && (!model || !prompts)) {
        mg_usage_error(&cli, "-m DIR and -p PROMPTS.tsv (or --text-embeddings FILE) are required"); goto out;
    }
    if (text_only && !save) { mg_usage_error(&cli, "--text-only needs --save-text FILE"); goto out; }
    if (argc - optind > 1 || (text_only && argc > optind)) {
        mg_usage_error(&cli, text_only ? "--text-only reads no input" : "one input stream at most"); goto out;
    }
    const char *in_path = optind < argc ? argv[optind] : "-";
    char err[1024];
    classes cl = {0};
    mg_textenc *te = NULL;
    mg_writer *tw = NULL;
    mg_reader *r = NULL;
    mg_record *rec = NULL;
    mg_decode_out *o = NULL;
    float *x = NULL;
    double *v = NULL;
    int ok = 0, st;
    status = 1;
    if (text_in) {
        if (read_text_embeddings(text_in, &cl, err, sizeof err) < 0) { mg_error(&cli, text_in, "%s", err); goto done; }
    } else {
        mg_nn_ctx ctx = { cli.threads, cli.pool, prec };
        if (!(te = mg_textenc_load(model, err, sizeof err))) { mg_error(&cli, model, "%s", err); goto done; }
        if (embed_prompts(prompts, te, &ctx, &cl, err, sizeof err) < 0) { mg_error(&cli, model, "%s", err); goto done; }
        mg_info(&cli, "%d class(es), text embeddings of width %d", cl.n, cl.dim);
        if (save && !(tw = write_text_embeddings(&cli, save, &cl, model, err, sizeof err))) {
            mg_error(&cli, save, "%s", err);
            goto done;
        }
    }
    if (text_only) { ok = 1; goto done; }
    if (!(r = mg_reader_open(in_path, err, sizeof err))) { mg_error(&cli, in_path, "%s", err); goto done; }
    if (!(rec = mg_record_init()) || !(x = malloc((size_t)cl.dim * sizeof *x)) ||
        !(v = malloc((size_t)cl.n * sizeof *v))) {
        mg_error(&cli, NULL, "out of memory");
        goto done;
    }
    /* the output is opened only after the first record checks out, so that a
     * mismatched stream leaves no file behind */
    mg_cli_progress_begin(&cli, "records", 0);
    while ((st = mg_reader_next(r, rec)) == 1) {
        long long k = (long long)mg_reader_count(r);
        const char *id = mg_record_get_meta(rec, "id");
        if (!id) { mg_error(&cli, in_path, "record %lld: no id", k); goto done; }
        const mg_tensor *t = mg_record_find_tensor(rec, tname);
        if (!t) { mg_error(&cli, in_path, "record %lld (id %s): no tensor '%s'", k, id, tname); goto done; }
        if (mg_tensor_numel(t) != cl.dim || !mg_dtype_size(t->dtype)) {
            mg_error(&cli, in_path, "record %lld (id %s): tensor '%s' has %lld values, the text "
                     "embeddings %d (image and text towers of different models?)", k, id, tname,
                     (long long)mg_tensor_numel(t), cl.dim);
            goto done;
        }
        if (!o && !(o = mg_decode_out_open(&cli, cli.output, format, cl.name, cl.n, mg_reader_prov(r),
                                           err, sizeof err))) {
            mg_error(&cli, cli.output, "%s", err);
            goto done;
        }
        mg_convert_to_f32(x, t->data, t->dtype, (size_t)cl.dim);
        score(&cl, x, softmax, v);
        if (mg_decode_out_row(o, rec, id, v, err, sizeof err) < 0) { mg_error(&cli, cli.output, "%s", err); goto done; }
    }
    if (st < 0) { mg_error(&cli, in_path, "%s", mg_reader_error(r)); goto done; }
    if (!o && !(o = mg_decode_out_open(&cli, cli.output, format, cl.name, cl.n, mg_reader_prov(r), err, sizeof err))) {
        mg_error(&cli, cli.output, "%s", err);
        goto done;
    }
    mg_info(&cli, "%lld record(s)", (long long)mg_reader_count(r));
    ok = 1;
done:
    if (o && mg_decode_out_close(o, ok, err, sizeof err) < 0 && ok) { mg_error(&cli, cli.output, "%s", err); ok = 0; }
    if (tw && mg_writer_close(tw, ok, err, sizeof err) < 0 && ok) { mg_error(&cli, save, "%s", err); ok = 0; }
    if (ok && (!strcmp(cli.output, "-") || (save && !strcmp(save, "-"))) && mg_close_stdout(&cli) < 0) ok = 0;
    if (r) mg_reader_close(r);
    mg_record_destroy(rec);
    free(x); free(v);
    classes_free(&cl);
    mg_textenc_free(te);
    status = ok ? 0 : 1;
out:
    free(lo);
    mg_cli_free(&cli);
    return status;
}

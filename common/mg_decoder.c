/* mg_decoder.c: the decoder role: config.json's model_type picks a family from
 * the table below, whose ops do the work. */
#include "mg_decoder.h"
#include "mg_err.h"
#include "mg_safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const mg_decoder_ops mg_gemma3_text_ops;

static const struct {
    const char *family, *model_type;
    const mg_decoder_ops *ops;
} decoder_families[] = {
    { "gemma3-text", "gemma3", &mg_gemma3_text_ops },
    { "gemma3-text", "gemma3_text", &mg_gemma3_text_ops },
};

struct mg_decoder {
    const mg_decoder_ops *ops;
    void *state;
    mg_st *st;
    char model_type[64];
    mg_decoder_info info;
};

mg_decoder *mg_decoder_load(const char *dir, int64_t max_ctx, char *err, size_t errlen)
{
    char path[4096];
    json_error_t je;
    mg_decoder *d = calloc(1, sizeof *d);
    json_t *cfg = NULL;
    if (!d) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!(cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je))) {
        mg_seterr(err, errlen, "config.json: %s", je.text);
        goto fail;
    }
    const char *type = json_string_value(json_object_get(cfg, "model_type"));
    if (!json_is_object(cfg) || !type) {
        mg_seterr(err, errlen, "config.json: no model_type string");
        goto fail;
    }
    size_t k, nf = sizeof decoder_families / sizeof *decoder_families;
    for (k = 0; k < nf && strcmp(decoder_families[k].model_type, type) != 0; k++) {}
    if (k == nf) {
        mg_seterr(err, errlen, "config.json: model_type '%s' has no decoder (gemma3, gemma3_text)",
                  type);
        goto fail;
    }
    snprintf(d->model_type, sizeof d->model_type, "%s", type);
    d->ops = decoder_families[k].ops;
    if (!(d->st = mg_st_open_dir(dir, err, errlen))) goto fail;
    if (!(d->state = d->ops->load(d->st, cfg, d->model_type, max_ctx, &d->info, err, errlen)))
        goto fail;
    d->info.family = decoder_families[k].family;
    d->info.model_type = d->model_type;
    json_decref(cfg);
    return d;
fail:
    json_decref(cfg);
    mg_decoder_free(d);
    return NULL;
}

void mg_decoder_free(mg_decoder *d)
{
    if (!d) return;
    if (d->state) d->ops->free(d->state);
    mg_st_close(d->st);
    free(d);
}

const mg_decoder_info *mg_decoder_get_info(const mg_decoder *d) { return &d->info; }

int mg_decoder_embed(const mg_decoder *d, const int32_t *ids, int64_t n, float *x,
                     char *err, size_t errlen)
{
    return d->ops->embed(d->state, ids, n, x, err, errlen);
}

int64_t mg_decoder_length(const mg_decoder *d) { return d->ops->length(d->state); }

int mg_decoder_truncate(mg_decoder *d, int64_t n) { return d->ops->truncate(d->state, n); }

int mg_decoder_forward(mg_decoder *d, const mg_nn_ctx *ctx, const float *x, int64_t n,
                       const int32_t *span, float *logits, int64_t n_vocab, int all_rows,
                       char *err, size_t errlen)
{
    return d->ops->forward(d->state, ctx, x, n, span, logits, n_vocab, all_rows, err, errlen);
}

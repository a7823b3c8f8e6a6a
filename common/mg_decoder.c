/* mg_decoder.c: the decoder role — the family lookup (common/models/registry.c)
 * and the calls through its ops; the families are in common/models/. */
#include "mg_decoder.h"

#include <stdlib.h>
#include <string.h>

struct mg_decoder {
    const mg_family *fam;
    const mg_decoder_ops *ops;
    mg_ckpt *ck;                  /* open while the state lives: weights point into it */
    void *state;
    mg_decoder_info info;
};

mg_decoder *mg_decoder_load(const char *dir, int64_t max_ctx, int precision, char *err, size_t errlen)
{
    mg_decoder *d = calloc(1, sizeof *d);
    if (!d) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (!(d->ck = mg_ckpt_open(dir, err, errlen))) goto fail;
    const char *type = mg_ckpt_model_type(d->ck);
    if (!(d->fam = mg_family_require(type, MG_ROLE_DECODER, err, errlen))) goto fail;
    d->ops = d->fam->ops;
    if (mg_ckpt_open_tensors(d->ck, NULL) < 0 ||
        !(d->state = d->ops->load(d->ck, max_ctx, precision, &d->info, err, errlen)))
        goto fail;
    mg_ckpt_set_err(d->ck, NULL, 0);      /* err is the caller's, for this call only */
    d->info.family = d->fam->name;
    d->info.model_type = mg_ckpt_model_type(d->ck);
    return d;
fail:
    mg_decoder_free(d);
    return NULL;
}

void mg_decoder_free(mg_decoder *d)
{
    if (!d) return;
    if (d->state) d->ops->free(d->state);
    mg_ckpt_close(d->ck);
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

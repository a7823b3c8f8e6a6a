/* mg_textenc.c: the text-encoder role — the family lookup, the tokenizer of the
 * checkpoint, and the calls through the family's ops (common/models/). */
#include "mg_textenc.h"

#include <stdlib.h>

struct mg_textenc {
    const mg_family *fam;
    const mg_text_encoder_ops *ops;
    mg_ckpt *ck;                  /* open while the state lives: weights point into it */
    void *state;
    mg_tokenizer *tok;
};

mg_textenc *mg_textenc_load(const char *dir, char *err, size_t errlen)
{
    mg_textenc *te = calloc(1, sizeof *te);
    if (!te) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (!(te->ck = mg_ckpt_open(dir, err, errlen))) goto fail;
    const char *type = mg_ckpt_model_type(te->ck);
    if (!(te->fam = mg_family_require(type, MG_ROLE_TEXT_ENCODER, err, errlen))) goto fail;
    te->ops = te->fam->ops;
    if (mg_ckpt_open_tensors(te->ck, NULL) < 0 || !(te->state = te->ops->load(te->ck, err, errlen)))
        goto fail;
    mg_ckpt_set_err(te->ck, NULL, 0);     /* err is the caller's, for this call only */
    if (!(te->tok = mg_tokenizer_load(dir, err, errlen))) goto fail;
    return te;
fail:
    mg_textenc_free(te);
    return NULL;
}

void mg_textenc_free(mg_textenc *te)
{
    if (!te) return;
    if (te->state) te->ops->free(te->state);
    mg_ckpt_close(te->ck);
    mg_tokenizer_free(te->tok);
    free(te);
}

const mg_family *mg_textenc_family(const mg_textenc *te) { return te->fam; }
const mg_tokenizer *mg_textenc_tokenizer(const mg_textenc *te) { return te->tok; }
int mg_textenc_dim(const mg_textenc *te) { return te->ops->dim(te->state); }
int mg_textenc_seq_len(const mg_textenc *te) { return te->ops->seq_len(te->state); }

int mg_textenc_tokenize(const mg_textenc *te, const char *text, size_t len, int32_t *ids,
                        char *err, size_t errlen)
{
    return te->ops->tokenize(te->state, te->tok, text, len, ids, err, errlen);
}

int mg_textenc_forward(mg_textenc *te, const mg_nn_ctx *ctx, const int32_t *ids, int batch,
                       float *out, char *err, size_t errlen)
{
    return te->ops->forward(te->state, ctx, ids, batch, out, err, errlen);
}

int mg_textenc_logit(const mg_textenc *te, double *log_scale, double *bias)
{
    return te->ops->logit ? te->ops->logit(te->state, log_scale, bias) : -1;
}

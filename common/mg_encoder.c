/* mg_encoder.c: the encoder role — the family lookup and the calls through its
 * ops; the families themselves are in common/models/. */
#include "mg_encoder.h"
#include "mg_matmul.h"

#include <stdlib.h>
#include <string.h>

struct mg_encoder {
    const mg_family *fam;
    const mg_encoder_ops *ops;
    mg_ckpt *ck;                  /* open while the state lives: weights point into it */
    void *state;
};

static const char *const out_names[] = { "default", "pooled", "mean", "tokens", "projected" };

mg_output mg_output_from_name(const char *s)
{
    for (int i = 1; i < 5; i++) if (strcmp(s, out_names[i]) == 0) return (mg_output)i;
    return MG_OUT_DEFAULT;
}

const char *mg_output_name(mg_output k) { return k >= 0 && k < 5 ? out_names[k] : "?"; }

mg_encoder *mg_encoder_load(const char *dir, const mg_nn_ctx *ctx, char *err, size_t errlen)
{
    mg_encoder *e = calloc(1, sizeof *e);
    if (!e) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (!(e->ck = mg_ckpt_open(dir, err, errlen))) goto fail;
    const char *type = mg_ckpt_model_type(e->ck);
    if (!(e->fam = mg_family_require(type, MG_ROLE_ENCODER, err, errlen))) goto fail;
    e->ops = e->fam->ops;
    if (mg_ckpt_open_tensors(e->ck, NULL) < 0 || !(e->state = e->ops->load(e->ck, err, errlen)))
        goto fail;
    int prec = ctx ? ctx->precision : MG_PREC_F32;
    if (e->ops->set_precision) {
        if (e->ops->set_precision(e->state, ctx, prec, err, errlen) < 0) goto fail;
    } else if (prec == MG_PREC_BF16) {
        mg_seterr(err, errlen, "%s: no bf16 back end for this family", type);
        goto fail;
    }
    mg_ckpt_set_err(e->ck, NULL, 0);      /* err is the caller's, for this call only */
    return e;
fail:
    mg_encoder_free(e);
    return NULL;
}

void mg_encoder_free(mg_encoder *e)
{
    if (!e) return;
    if (e->state) e->ops->free(e->state);
    mg_ckpt_close(e->ck);
    free(e);
}

const char *mg_encoder_type(const mg_encoder *e) { return mg_ckpt_model_type(e->ck); }
const mg_family *mg_encoder_family(const mg_encoder *e) { return e->fam; }
int mg_encoder_input_ndim(const mg_encoder *e) { return e->ops->input_ndim; }
void mg_encoder_input_shape(const mg_encoder *e, int64_t *shape) { e->ops->input_shape(e->state, shape); }
mg_output mg_encoder_default_output(const mg_encoder *e) { return e->ops->default_output(e->state); }

const char *mg_encoder_backend(const mg_encoder *e)
{
    return e->ops->backend ? e->ops->backend(e->state) : mg_mm_describe(NULL);
}

int mg_encoder_output_shape(const mg_encoder *e, mg_output kind, int ndim, const int64_t *in_shape,
                            int64_t out_shape[2], char *err, size_t errlen)
{
    if (kind == MG_OUT_DEFAULT) kind = mg_encoder_default_output(e);
    return e->ops->output_shape(e->state, kind, ndim, in_shape, out_shape, err, errlen);
}

int mg_encoder_forward(mg_encoder *e, const mg_nn_ctx *ctx, mg_output kind, const float *in,
                       int batch, int ndim, const int64_t *in_shape, float *out, char *err,
                       size_t errlen)
{
    if (kind == MG_OUT_DEFAULT) kind = mg_encoder_default_output(e);
    return e->ops->forward(e->state, ctx, kind, in, batch, ndim, in_shape, out, err, errlen);
}

/* mg_encoder.c: the encoder role over every family: volume families from their
 * ops tables (common/models/), image families through mg_model. */
#include "mg_encoder.h"
#include "mg_err.h"
#include "models/models.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *type;
    const mg_encoder_ops *ops;
} volume_families[] = {
    { "monai_vit", &mg_vit3d_ops },
    { "m3d_clip", &mg_vit3d_ops },
    { "merlin_i3d", &mg_i3d_resnet_ops },
};

struct mg_encoder {
    const mg_encoder_ops *ops;      /* NULL: an image family in m */
    void *state;
    mg_model *m;                    /* image model, or the checkpoint holder of ops' state */
};

mg_encoder *mg_encoder_load(const char *dir, const mg_nn_ctx *ctx, char *err, size_t errlen)
{
    (void)ctx;
    char path[4096];
    json_error_t je;
    mg_encoder *e = calloc(1, sizeof *e);
    if (!e) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!cfg) { mg_seterr(err, errlen, "config.json: %s", je.text); goto fail; }
    const char *type = json_string_value(json_object_get(cfg, "model_type"));
    if (!json_is_object(cfg) || !type) { mg_seterr(err, errlen, "config.json: no model_type string"); goto fail; }
    for (size_t i = 0; i < sizeof volume_families / sizeof *volume_families; i++)
        if (strcmp(type, volume_families[i].type) == 0) e->ops = volume_families[i].ops;
    if (!e->ops) {
        json_decref(cfg);
        if (!(e->m = mg_model_load(dir, err, errlen))) goto fail;
        return e;
    }
    if (!(e->m = calloc(1, sizeof *e->m))) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    snprintf(e->m->type, sizeof e->m->type, "%s", type);
    if (!(e->m->st = mg_st_open_dir(dir, err, errlen))) goto fail;
    mg_loader L = { .m = e->m, .err = err, .errlen = errlen };
    if (!(e->state = e->ops->load(&L, cfg))) goto fail;
    json_decref(cfg);
    return e;
fail:
    json_decref(cfg);
    mg_encoder_free(e);
    return NULL;
}

void mg_encoder_free(mg_encoder *e)
{
    if (!e) return;
    if (e->ops && e->state) e->ops->free(e->state);
    mg_model_free(e->m);
    free(e);
}

const char *mg_encoder_type(const mg_encoder *e) { return mg_model_type(e->m); }

int mg_encoder_input_ndim(const mg_encoder *e) { return e->ops ? e->ops->input_ndim : 3; }

mg_output mg_encoder_default_output(const mg_encoder *e)
{
    return e->ops ? e->ops->default_output(e->state) : mg_model_default_output(e->m);
}

int mg_encoder_output_shape(const mg_encoder *e, mg_output kind, int ndim, const int64_t *s,
                            int64_t out_shape[2], char *err, size_t errlen)
{
    if (e->ops) return e->ops->output_shape(e->state, kind, ndim, s, out_shape, err, errlen);
    if (ndim != 3) {
        mg_seterr(err, errlen, "%s: input must be an image [C,H,W] (got %d dimensions)",
                  mg_model_type(e->m), ndim);
        return -1;
    }
    return mg_model_output_shape(e->m, kind, (int)s[0], (int)s[1], (int)s[2], out_shape, err, errlen);
}

int mg_encoder_forward(mg_encoder *e, const mg_nn_ctx *ctx, mg_output kind, const float *in,
                       int batch, int ndim, const int64_t *s, float *out, char *err, size_t errlen)
{
    if (e->ops) return e->ops->forward(e->state, ctx, kind, in, batch, ndim, s, out, err, errlen);
    if (ndim != 3) {
        mg_seterr(err, errlen, "%s: input must be an image [C,H,W]", mg_model_type(e->m));
        return -1;
    }
    return mg_model_encode(e->m, ctx, kind, in, batch, (int)s[0], (int)s[1], (int)s[2], out, err, errlen);
}

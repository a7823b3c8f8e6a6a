/* mg_encoder.h: the encoder role — images [C,H,W] and volumes [C,D,H,W] alike —
 * over the model families of common/models/ (see models.h), selected by
 * config.json's model_type. The library never prints. */
#ifndef MG_ENCODER_H
#define MG_ENCODER_H

#include <stdint.h>
#include "mg_model.h"
#include "mg_nn.h"

typedef struct mg_encoder mg_encoder;

/** Load a checkpoint directory. NULL and a one-line reason in err on failure. */
mg_encoder *mg_encoder_load(const char *dir, const mg_nn_ctx *ctx, char *err, size_t errlen);
void mg_encoder_free(mg_encoder *e);
/** config.json's model_type. */
const char *mg_encoder_type(const mg_encoder *e);
/** Input rank the family takes: 3 ([C,H,W] images) or 4 ([C,D,H,W] volumes). */
int mg_encoder_input_ndim(const mg_encoder *e);
/** The family's natural output kind. */
mg_output mg_encoder_default_output(const mg_encoder *e);
/** Check that inputs of in_shape (ndim dims) fit and give the output shape for
 *  kind (1 or 2 dims in out_shape). Returns the output ndim, or -1 with err. */
int mg_encoder_output_shape(const mg_encoder *e, mg_output kind, int ndim, const int64_t *in_shape,
                            int64_t out_shape[2], char *err, size_t errlen);
/** Encode batch inputs [batch, in_shape] (f32) into out [batch, output shape].
 *  0, or -1 with err. */
int mg_encoder_forward(mg_encoder *e, const mg_nn_ctx *ctx, mg_output kind, const float *in,
                       int batch, int ndim, const int64_t *in_shape, float *out, char *err,
                       size_t errlen);

#endif

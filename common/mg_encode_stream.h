/* mg_encode_stream.h: the record loop of mg-encode2d and mg-encode3d. Input
 * records are batched (a batch holds one input shape), encoded, and written
 * one output record per input record with the input's metadata: 'embedding'
 * [D] or 'tokens' [N,D]. In slice mode, consecutive image records with the
 * same id are the slices of one volume: each slice is encoded, the slices are
 * pooled, and one record per volume is written. */
#ifndef MG_ENCODE_STREAM_H
#define MG_ENCODE_STREAM_H

#include "mg_encoder.h"
#include "mg_progress.h"
#include "mg_slicewise.h"
#include "mg_stream.h"

typedef struct {
    const char *tensor;     /* input tensor name */
    mg_output kind;         /* MG_OUT_DEFAULT: the encoder's own */
    int batch;              /* inputs per forward pass (>= 1) */
    int l2;                 /* L2-normalise each output row (after pooling) */
    mg_slice_pool slices;   /* slice-wise (2.5D) pooling, or off */
    mg_nn_ctx ctx;
    mg_progress *progress;  /* stepped per output record, or NULL */
    double *forward_s;      /* when set, wall seconds of the forward passes are added */
} mg_encode_opts;

/** Encode every record of r into w. 0; -1 with err for an input or model
 *  error (err names the record); -2 with err when writing failed. */
int mg_encode_stream(mg_reader *r, mg_writer *w, mg_encoder *e, const mg_encode_opts *o,
                     char *err, size_t errlen);

#endif

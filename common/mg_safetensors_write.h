/* mg_safetensors_write.h: write a safetensors file (the format read by
 * mg_safetensors.h): u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, …,
 * "__metadata__": {string: string}}, padded with spaces to a multiple of 8
 * so that the data buffer is 8-byte aligned, then the data buffer with the
 * tensors back to back in the order they were added.
 *
 * Typical use:
 *     mg_stw *w = mg_stw_new();
 *     mg_stw_add(w, "linear.weight", MG_ST_F64, 2, shape, data, err, sizeof err);
 *     mg_stw_write(w, "dir/head.safetensors", err, sizeof err);
 *     mg_stw_free(w);
 * The file is written in place (callers that need atomic output write into a
 * temporary directory and rename it). */
#ifndef MG_SAFETENSORS_WRITE_H
#define MG_SAFETENSORS_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include "mg_safetensors.h"

typedef struct mg_stw mg_stw;

/** An empty tensor list; NULL when out of memory. Free with mg_stw_free(). */
mg_stw *mg_stw_new(void);
void mg_stw_free(mg_stw *w);
/** Add a tensor (dtype an mg_st_dtype; data of numel·size bytes, little-endian,
 *  copied). 0, or -1 with err (duplicate or empty name, bad dtype or shape,
 *  memory). */
int mg_stw_add(mg_stw *w, const char *name, int dtype, int ndim, const int64_t *shape,
               const void *data, char *err, size_t errlen);
/** Add a "__metadata__" entry (both strings copied). 0 or -1 with err. */
int mg_stw_set_meta(mg_stw *w, const char *key, const char *value, char *err, size_t errlen);
/** Write the file (created or truncated). 0, or -1 with err (nothing is
 *  left at path on failure). */
int mg_stw_write(const mg_stw *w, const char *path, char *err, size_t errlen);

#endif

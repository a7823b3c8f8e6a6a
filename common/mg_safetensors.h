/* mg_safetensors.h: read-only, memory-mapped safetensors checkpoints.
 *
 * File layout (safetensors README): u64 little-endian header length N, N bytes of
 * UTF-8 JSON mapping tensor names to {dtype, shape, data_offsets}, then the data
 * buffer. Offsets are relative to the buffer and must tile it exactly.
 *
 * A checkpoint is one file or a directory holding model.safetensors or the shards
 * listed in model.safetensors.index.json; either way the tensors of all files are
 * looked up by name in one table. Tensor data points into the mapping and stays
 * valid until mg_st_close(). The library never prints: failures return NULL/<0
 * with a one-line reason in err.
 */
#ifndef MG_SAFETENSORS_H
#define MG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "mg_dtype.h"
#include "mg_err.h"

#define MG_ST_MAX_HEADER (100u << 20)   /* the reference reader's cap */
#define MG_ST_MAX_DIMS 8

typedef struct {
    const char *name;
    int dtype;                       /* mg_dtype (every safetensors dtype has one) */
    int ndim;
    int64_t shape[MG_ST_MAX_DIMS];
    int64_t numel;
    const void *data;                /* little-endian, row-major, maybe unaligned */
    size_t nbytes;
    int file;                        /* index of the shard holding it */
    int used;                        /* set by callers that consume the tensor */
} mg_st_tensor;

typedef struct mg_st mg_st;

/** The safetensors spelling of an mg_dtype ("F32", "BF16" …); NULL for none. */
const char *mg_st_dtype_name(int dtype);

/** Open one .safetensors file. NULL and err on failure. */
MG_MUST_CHECK mg_st *mg_st_open_file(const char *path, char *err, size_t errlen);
/** Parse a safetensors image in memory (not copied; must outlive the result). */
MG_MUST_CHECK mg_st *mg_st_open_mem(const void *data, size_t size, char *err, size_t errlen);
/** Open a checkpoint directory: model.safetensors.index.json (shards) if present,
 *  else model.safetensors. NULL and err on failure. */
MG_MUST_CHECK mg_st *mg_st_open_dir(const char *dir, char *err, size_t errlen);
void mg_st_close(mg_st *st);

/** Tensor by exact name, or NULL. */
mg_st_tensor *mg_st_find(mg_st *st, const char *name);
/** Number of tensors and the i-th (sorted by name). */
int mg_st_count(const mg_st *st);
mg_st_tensor *mg_st_at(mg_st *st, int i);

/** Convert n elements of an F32/F16/BF16 tensor starting at element off to f32.
 *  Returns 0, or -1 for another dtype. */
MG_MUST_CHECK int mg_st_to_f32(const mg_st_tensor *t, int64_t off, int64_t n, float *out);

#endif

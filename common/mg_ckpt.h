/* mg_ckpt.h: a Hugging Face checkpoint directory as the model families read it.
 *
 * config.json is read by mg_ckpt_open(); its model_type picks the family
 * (mg_family.h). The tensors (model.safetensors, the shards listed in
 * model.safetensors.index.json, or a named file such as the head.safetensors
 * written by mg-fit) are opened by mg_ckpt_open_tensors(), memory-mapped.
 *
 * Lookups name tensors as prefix + suffix (mg_ckpt_set_prefix), check the exact
 * shape, and mark the tensor used, so that mg_ckpt_check_unused() can reject a
 * checkpoint holding weights the family would silently ignore. Errors go to the
 * err buffer given to mg_ckpt_open, prefixed with the model_type, and name the
 * tensor or config key at fault. Matrices stay in file dtype (mg_nn_weight
 * pointing into the mapping); small tensors are copied to f32 and owned by the
 * checkpoint. Everything stays valid until mg_ckpt_close().
 *
 * config.json getters: an absent (or null) key gives the default, which callers
 * take from the transformers config class; a key of the wrong type is an error.
 */
#ifndef MG_CKPT_H
#define MG_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include "mg_err.h"
#include "mg_nn.h"
#include "mg_safetensors.h"

typedef struct mg_ckpt mg_ckpt;
/* A config.json object (jansson's json_t; the header does not need jansson). */
struct json_t;
typedef struct json_t mg_cfg;

/** Read dir/config.json (a JSON object with a model_type string). Errors, now
 *  and in later calls, are written to err[errlen] until mg_ckpt_set_err()
 *  points them elsewhere. NULL on failure. */
MG_MUST_CHECK mg_ckpt *mg_ckpt_open(const char *dir, char *err, size_t errlen);
/** Where later errors go (NULL, 0: nowhere), e.g. once loading is done and the
 *  caller's buffer goes out of scope. */
void mg_ckpt_set_err(mg_ckpt *ck, char *err, size_t errlen);
/** Map the tensors: file NULL means model.safetensors.index.json (shards) or
 *  model.safetensors; otherwise the named file in the directory. 0 or -1. */
MG_MUST_CHECK int mg_ckpt_open_tensors(mg_ckpt *ck, const char *file);
void mg_ckpt_close(mg_ckpt *ck);

const char *mg_ckpt_dir(const mg_ckpt *ck);
/** config.json's model_type. */
const char *mg_ckpt_model_type(const mg_ckpt *ck);
/** Format an error "<model_type>: …" into the checkpoint's err buffer. */
void mg_ckpt_error(mg_ckpt *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- config.json ---- */
/** The top-level object. */
const mg_cfg *mg_ckpt_config(const mg_ckpt *ck);
/** A sub-object (text_config, vision_config …), or NULL when absent (getters
 *  on NULL give their defaults). */
const mg_cfg *mg_cfg_sub(const mg_cfg *o, const char *key);
/** Non-negative integer up to 2^24. 0, or -1 with the error set. */
MG_MUST_CHECK int mg_cfg_int(mg_ckpt *ck, const mg_cfg *o, const char *key, int def, int *out);
/** A positive integer or a list of n of them (a list of one is repeated, as
 *  MONAI's ensure_tuple_rep) into out[n]. 0, or -1 with the error set. */
MG_MUST_CHECK int mg_cfg_ints(mg_ckpt *ck, const mg_cfg *o, const char *key, int n, const int *def,
                              int *out);
MG_MUST_CHECK int mg_cfg_num(mg_ckpt *ck, const mg_cfg *o, const char *key, double def, double *out);
MG_MUST_CHECK int mg_cfg_bool(mg_ckpt *ck, const mg_cfg *o, const char *key, int def, int *out);
/** A string (valid until mg_ckpt_close); def may be NULL. */
MG_MUST_CHECK int mg_cfg_str(mg_ckpt *ck, const mg_cfg *o, const char *key, const char *def,
                             const char **out);
/** A transformers activation name (hidden_act …) as MG_ACT_*. */
MG_MUST_CHECK int mg_cfg_act(mg_ckpt *ck, const mg_cfg *o, const char *key, const char *def, int *act);

/* ---- tensors ---- */
/** Set the name prefix of the lookups below ("" for none). */
void mg_ckpt_set_prefix(mg_ckpt *ck, const char *prefix);
const char *mg_ckpt_prefix(const mg_ckpt *ck);
/** 1 if prefix+suffix exists (it is not marked used). */
int mg_ckpt_has(mg_ckpt *ck, const char *suffix);
/** Mark prefix+suffix used if present: a tensor the family knows and does not
 *  need (e.g. BatchNorm's num_batches_tracked, an integer). */
void mg_ckpt_skip(mg_ckpt *ck, const char *suffix);
/** prefix+suffix with exactly the shape dims[ndim] and a float dtype; marks it
 *  used. NULL with the error set. */
MG_MUST_CHECK const mg_st_tensor *mg_ckpt_tensor(mg_ckpt *ck, const char *suffix, int ndim,
                                                 const int64_t *dims);
/** A [rows, cols] matrix in file dtype. 0 or -1. */
MG_MUST_CHECK int mg_ckpt_matrix(mg_ckpt *ck, const char *suffix, int64_t rows, int64_t cols,
                                 mg_nn_weight *w);
/** A weight of shape dims[ndim] read as the matrix [dims[0], product of the
 *  rest] (a convolution kernel [D, C, k…] against im2col rows). 0 or -1. */
MG_MUST_CHECK int mg_ckpt_flat_matrix(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims,
                                      mg_nn_weight *w);
/** An f32 copy of a tensor of the given shape, owned by the checkpoint. */
MG_MUST_CHECK float *mg_ckpt_f32(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims);
/** An F64 tensor of the given shape copied to doubles, owned by the
 *  checkpoint (heads keep their parameters in double). */
MG_MUST_CHECK double *mg_ckpt_f64(mg_ckpt *ck, const char *suffix, int ndim, const int64_t *dims);
/** A vector [n] as f32. */
MG_MUST_CHECK float *mg_ckpt_vec(mg_ckpt *ck, const char *suffix, int64_t n);
/** An nn.Linear: base.weight [out, in] in file dtype and, when bias, base.bias
 *  [out] as f32 (else *b = NULL). 0 or -1. */
MG_MUST_CHECK int mg_ckpt_linear(mg_ckpt *ck, const char *base, int64_t out, int64_t in, int bias,
                                 mg_nn_weight *w, float **b);
/** Error on the first tensor not marked used whose name starts with prefix,
 *  except those starting with prefix + one of ignore[] (NULL-terminated, or
 *  NULL). 0 or -1. */
MG_MUST_CHECK int mg_ckpt_check_unused(mg_ckpt *ck, const char *prefix, const char *const *ignore);

#endif

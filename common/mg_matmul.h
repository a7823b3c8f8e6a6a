/* mg_matmul.h: the matrix-product layer under the model families, with two
 * back ends chosen per model when it is loaded:
 *
 *   MG_PREC_F32   OpenBLAS sgemm over weights converted to f32 a tile at a time
 *                 (mg_nn_linear): exact fp32 parity with the references.
 *   MG_PREC_BF16  oneDNN matmul, bf16 × bf16 products accumulated in fp32: the
 *                 weights are converted to bf16 once (when not stored so) and
 *                 packed in oneDNN's preferred blocked layout; activations are
 *                 rounded to bf16 (nearest even) on every call; the output, bias
 *                 and any fused activation are fp32.
 *
 * Threads and determinism: oneDNN (Debian's build uses OpenMP) would split the
 * reduction over K across threads for some shapes, which makes results depend
 * on the thread count. Instead, rows are cut into blocks whose size depends on
 * the row count only, each block runs as a single-threaded oneDNN call, and
 * mgpipe's own workers (ctx->threads) take the blocks: the output is the same
 * for any -@.
 *
 * The library never prints; errors come back through err.
 */
#ifndef MG_MATMUL_H
#define MG_MATMUL_H

#include <stddef.h>
#include <stdint.h>
#include "mg_nn.h"

typedef enum {
    MG_PREC_F32 = 0,        /* the default of a zeroed request */
    MG_PREC_BF16 = 1,
    MG_PREC_AUTO = 2        /* bf16 when the CPU has it and the weights are stored bf16 */
} mg_precision;

/** "f32", "bf16", "auto" <-> mg_precision; -1 for an unknown name. */
int mg_precision_from_name(const char *name);
const char *mg_precision_name(int prec);

/** 1 if oneDNN runs bf16 matmuls natively here (AVX512_BF16 or AMX). */
int mg_mm_cpu_has_bf16(void);
/** The ISA oneDNN dispatches to ("avx512_core_amx", "avx512_core_bf16", …). */
const char *mg_mm_isa_name(void);

/** Resolve a request: AUTO becomes BF16 when the CPU has bf16 and every
 *  weight is stored BF16 (weights_bf16 = 1), else F32. An explicit BF16 on a
 *  CPU without it is an error (-1 with err): a silent emulation would be many
 *  times slower than fp32. */
int mg_precision_resolve(int requested, int weights_bf16, char *err, size_t errlen);

typedef struct mg_mm mg_mm;

/** A back end for one model. prec is MG_PREC_F32 or MG_PREC_BF16 (resolved).
 *  NULL and err on failure. */
mg_mm *mg_mm_create(int prec, char *err, size_t errlen);
void mg_mm_free(mg_mm *mm);
int mg_mm_precision(const mg_mm *mm);
/** "f32 (OpenBLAS sgemm)" or "bf16 (oneDNN matmul, avx512_core_amx)". */
const char *mg_mm_describe(const mg_mm *mm);

/* A weight to prepare; in_out: stored [in, out] (no transpose) instead of
 * nn.Linear's [out, in]. */
typedef struct {
    const mg_nn_weight *w;
    int in_out;
} mg_mm_matrix;

/** Prepare n weights once (bf16 back end: convert and pack, on ctx's workers;
 *  ctx NULL: on the caller; f32: nothing). Data already prepared is skipped.
 *  0 or -1 with err. */
int mg_mm_prepare(mg_mm *mm, const mg_nn_ctx *ctx, const mg_mm_matrix *ms, int n, char *err,
                  size_t errlen);

/** y[n, out] = act(x[n, in] · Wᵀ + bias) for W [out, in] (nn.Linear), with
 *  act 0 (none) or MG_ACT_GELU_ERF / GELU_TANH / QUICK_GELU. ldy is y's row
 *  stride. mm NULL means the f32 path. A weight not prepared is packed on
 *  first use. The bf16 back end caches primitives and buffers in mm: one
 *  caller at a time per mm. 0, or -1 (memory, oneDNN failure). */
int mg_mm_linear(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t n,
                 const mg_nn_weight *w, const float *bias, int act, float *y, int64_t ldy);
/** y[n, out] = x[n, in] · Wᵀ + bias for W [out, in] used as stored, never
 *  packed or kept converted: for models whose weights are memory-mapped and
 *  must not be held twice (the decoder). The bf16 back end reads a BF16 weight
 *  in place (oneDNN reorders the block it works on into its per-call
 *  scratchpad; other dtypes are rounded to bf16 a block at a time) and splits
 *  the outputs into column blocks whose width depends on `out` only, each one
 *  single-threaded oneDNN call over all n rows: the same result for any -@,
 *  and every weight element read once per call. mm NULL or f32: mg_nn_linear.
 *  0, or -1 (memory, oneDNN failure). */
int mg_mm_linear_stored(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t n,
                        const mg_nn_weight *w, const float *bias, float *y, int64_t ldy);

/** y[n, out] = x[n, in] · W for W stored [in, out]. */
int mg_mm_in_out(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t n,
                 const mg_nn_weight *w, float *y);

/** mg_nn_attention (scores, softmax and mixing in fp32) with the block products
 *  on the back end's fp32 GEMM: OpenBLAS for f32, oneDNN's sgemm for bf16. */
int mg_mm_attention(const mg_mm *mm, const mg_nn_ctx *ctx, const float *q, int64_t ldq,
                    const float *k, const float *v, int64_t ldk, float *out, int64_t ldo,
                    int batch, int64_t nq, int64_t nk, int heads, int hd, float scale);

#endif

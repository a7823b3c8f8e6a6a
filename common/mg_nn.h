/* mg_nn.h: fp32 neural-network kernels for the transformer encoders.
 *
 * Matrices are row-major. Weight matrices stay in their checkpoint dtype
 * (F32/F16/BF16, possibly unaligned, memory-mapped); products convert them to
 * f32 one tile of rows at a time and multiply with OpenBLAS cblas_sgemm, so
 * accumulation is always fp32. Activations are plain float arrays.
 *
 * Kernels only: no model layout lives here (model families are in
 * common/models/). Weights carry an mg_dtype (mg_dtype.h), no file-format type.
 *
 * Threads: every loop, the matrix products included (fixed blocks of output
 * features, each a single-threaded sgemm), runs on mg_nn_ctx.pool, so results
 * are bit-identical for any thread count; OpenBLAS's own threading is not
 * used, since its split changes the last bits of a product.
 * OpenBLAS rule: OpenBLAS's thread count is process-wide, so every kernel that
 * calls BLAS sets it to its ctx's count for its own calls and puts the value it
 * found back before returning. Nothing here leaves the count changed for other
 * modules; a module calling BLAS itself sets the count it wants the same way.
 * Kernels running concurrently on different caller threads must then share one
 * ctx thread count (the count is one global).
 */
#ifndef MG_NN_H
#define MG_NN_H

#include <stddef.h>
#include <stdint.h>
#include "mg_dtype.h"
#include "mg_err.h"
#include "mg_pool.h"

typedef struct {
    int threads;                 /* >= 1 */
    mg_pool *pool;               /* threads workers; NULL runs loops on the caller */
} mg_nn_ctx;

/** threads workers and their pool (started once, reused by every kernel).
 *  0, or -1 when the pool cannot be made. Release with mg_nn_ctx_free. */
MG_MUST_CHECK int mg_nn_ctx_init(mg_nn_ctx *ctx, int threads);
void mg_nn_ctx_free(mg_nn_ctx *ctx);

/* A 2-D weight [rows, cols] in file dtype (MG_F32, MG_F16 or MG_BF16). */
typedef struct {
    int dtype;                   /* mg_dtype */
    const void *data;
    int64_t rows, cols;
} mg_nn_weight;

enum { MG_ACT_GELU_ERF = 1, MG_ACT_GELU_TANH, MG_ACT_QUICK_GELU, MG_ACT_SWIGLU };

/** Formerly set OpenBLAS threads for a whole forward pass; the kernels now set
 *  them per call (see the rule above), so this does nothing. */
void mg_nn_begin(const mg_nn_ctx *ctx);

/** Run fn(arg, task, worker) for task in [0, ntasks) on ctx->pool (workers
 *  numbered from 0, below ctx->threads). Returns 0. */
int mg_nn_parallel(const mg_nn_ctx *ctx, int ntasks, void (*fn)(void *, int, int), void *arg);

/** y[n, rows] = x[n, cols] · Wᵀ (+ bias[rows]); the nn.Linear convention,
 *  W being [out, in]. ldy is y's row stride (>= W->rows). 0 or -1 (memory). */
MG_MUST_CHECK int mg_nn_linear(const mg_nn_ctx *ctx, const float *x, int64_t n, const mg_nn_weight *w,
                 const float *bias, float *y, int64_t ldy);
/** y[n, cols] = x[n, rows] · W for a weight stored [in, out] (no transpose). */
MG_MUST_CHECK int mg_nn_matmul_in_out(const mg_nn_ctx *ctx, const float *x, int64_t n,
                        const mg_nn_weight *w, float *y);

/** LayerNorm over the last dimension d (biased variance), in place allowed. */
void mg_nn_layer_norm(const mg_nn_ctx *ctx, const float *x, float *y, int64_t n, int64_t d,
                      const float *gamma, const float *beta, float eps);
/** Gemma RMSNorm: y = x · rsqrt(mean(x²) + eps) · (1 + w). */
void mg_nn_rms_norm_gemma(const mg_nn_ctx *ctx, const float *x, float *y, int64_t n, int64_t d,
                          const float *w, float eps);
/** In-place activation over n elements (GELU erf, GELU tanh, quick GELU). */
void mg_nn_activate(const mg_nn_ctx *ctx, float *x, int64_t n, int act);
/** SwiGLU rows: h[n, f] = silu(x[:, :f]) · x[:, f:], x being [n, 2f]. */
void mg_nn_swiglu(const mg_nn_ctx *ctx, const float *x, float *h, int64_t n, int64_t f);
/** In-place softmax of each of n rows of length d. */
void mg_nn_softmax(float *x, int64_t n, int64_t d);

/** Multi-head attention without a mask, never holding more than one block of
 *  scores: for each batch b and head h,
 *  out = softmax(Q Kᵀ · scale) V with Q rows q[b·nq + i, h·hd …], K/V rows
 *  k[b·nk + j, h·hd …]. Row strides ldq/ldk/ldo in floats. 0 or -1 (memory). */
MG_MUST_CHECK int mg_nn_attention(const mg_nn_ctx *ctx, const float *q, int64_t ldq, const float *k,
                    const float *v, int64_t ldk, float *out, int64_t ldo, int batch,
                    int64_t nq, int64_t nk, int heads, int hd, float scale);

/** Non-overlapping P×P patches of img [c, h, w] as rows of cols
 *  [(h/P)·(w/P), c·P·P], patch p = r·(w/P) + col, element ch·P·P + ky·P + kx,
 *  so that a Conv2d weight [D, c, P, P] read as [D, c·P·P] multiplies them. */
void mg_nn_im2col_patches(const float *img, int c, int h, int w, int p, float *cols);

/** Resize a [gh, gw, d] grid of vectors to [oh, ow, d] with bicubic
 *  interpolation as torch.nn.functional.interpolate(mode="bicubic",
 *  align_corners=False) does, with antialias=False (a = -0.75, border
 *  clamped) or antialias=True (a = -0.5, PIL-style support and
 *  renormalised weights). 0 or -1 (memory). */
MG_MUST_CHECK int mg_nn_resize_bicubic_grid(const float *in, int gh, int gw, int d, float *out,
                              int oh, int ow, int antialias);

#endif

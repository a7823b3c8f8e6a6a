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
    int precision;               /* mg_precision (mg_matmul.h) asked of model loaders; 0: f32 */
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

/** The OpenBLAS rule for callers of BLAS outside mg_nn (e.g. solvers that call
 *  cblas directly from inside pool tasks): set the process-wide count to n and
 *  get back what was there, to restore with mg_nn_blas_leave before returning. */
int mg_nn_blas_enter(int n);
void mg_nn_blas_leave(int prev, int n);

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
/** Row-major fp32 C[m,n] = alpha·A·op(B) + beta·C, op(B) = Bᵀ when transb; run
 *  single-threaded on the calling thread. */
typedef void (*mg_nn_sgemm_fn)(int transb, int64_t m, int64_t n, int64_t k, float alpha,
                               const float *a, int64_t lda, const float *b, int64_t ldb,
                               float beta, float *c, int64_t ldc);
/** mg_nn_attention with the block products computed by gemm (NULL: OpenBLAS). */
MG_MUST_CHECK int mg_nn_attention_gemm(const mg_nn_ctx *ctx, mg_nn_sgemm_fn gemm, const float *q,
                                       int64_t ldq, const float *k, const float *v, int64_t ldk,
                                       float *out, int64_t ldo, int batch, int64_t nq, int64_t nk,
                                       int heads, int hd, float scale);

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

/* ---- 3D convolution, pooling and patches (mg_nn_conv.c) ----
 * Volumes inside a network are channels-last: a [D·H·W, C] matrix, one row per
 * voxel with w fastest, so that a convolution is im2col + one GEMM and a 1×1×1
 * convolution is a GEMM on the activations as they are. */

/** Kernel, stride and zero padding over (d, h, w). */
typedef struct {
    int k[3], s[3], p[3];
} mg_nn_conv3d_geom;

/** Output length of one axis, floor((n + 2p − k) / s) + 1 (torch Conv3d and
 *  MaxPool3d with ceil_mode=False); < 1 when the input is too small. */
int64_t mg_nn_conv_out_len(int64_t n, int k, int s, int p);

struct mg_mm;                    /* the matmul back end (mg_matmul.h) */

/** What a convolution does after its product, and which output depth planes
 *  it computes: y = act(conv + bias + res), res (or NULL) laid out as y (it
 *  may be y itself: each row is read before it is written); relu 1 applies
 *  ReLU; planes [od0, od1) only when od1 > od0 (y then holds those planes). */
typedef struct {
    const float *res;
    int relu;
    int64_t od0, od1;
} mg_nn_conv3d_out;

/** y[Do·Ho·Wo, O] = Conv3d of x [D·H·W, C] (channels-last) with w [O, kd·kh·kw·C]
 *  (taps d, h, w slowest to fastest, channel fastest: see mg_nn_conv3d_weight_cl)
 *  plus bias [O] (or NULL), then o (NULL: nothing more, every plane). Output
 *  rows go in slabs of bounded size: gathered (im2col; a 1×1×1 stride-1
 *  convolution reads x as it is) and multiplied on the back end mm (NULL:
 *  fp32), on ctx's workers, with blocks fixed by the shapes: the same output
 *  for any thread count. 0 or -1 (memory, back end failure). */
MG_MUST_CHECK int mg_nn_conv3d_cl(const mg_nn_ctx *ctx, struct mg_mm *mm, const float *x, int64_t C,
                                  int64_t D, int64_t H, int64_t W, const mg_nn_conv3d_geom *g,
                                  const mg_nn_weight *w, const float *bias,
                                  const mg_nn_conv3d_out *o, float *y);

/** A torch Conv3d weight [O, C, kd, kh, kw] reordered to [O, kd, kh, kw, C]. */
void mg_nn_conv3d_weight_cl(const float *w, int64_t O, int64_t C, int kd, int kh, int kw,
                            float *out);

/** MaxPool3d of channels-last x [D·H·W, C] into y [Do·Ho·Wo, C]; padded
 *  positions never win (torch pads with −inf). */
void mg_nn_maxpool3d_cl(const mg_nn_ctx *ctx, const float *x, int64_t C, int64_t D, int64_t H,
                        int64_t W, const mg_nn_conv3d_geom *g, float *y);
/** The output depth planes [od0, od1) of the same pool into y, from input
 *  planes [z0, z1) of the D-plane volume (x points at plane z0; they must
 *  cover every plane those outputs read), so that a volume can be pooled as it
 *  is produced, a few planes at a time. */
void mg_nn_maxpool3d_cl_planes(const mg_nn_ctx *ctx, const float *x, int64_t z0, int64_t z1,
                               int64_t C, int64_t D, int64_t H, int64_t W,
                               const mg_nn_conv3d_geom *g, int64_t od0, int64_t od1, float *y);

/** AdaptiveAvgPool3d of channels-last x [D·H·W, C] to y [od·oh·ow, C]: cell i of
 *  an axis of n averages [floor(i·n/o), ceil((i+1)·n/o)), as torch. Sums in
 *  double. 0 or -1 (memory). */
MG_MUST_CHECK int mg_nn_adaptive_avgpool3d_cl(const float *x, int64_t C, int64_t D, int64_t H, int64_t W,
                                int od, int oh, int ow, float *y);

/** Non-overlapping pd×ph×pw patches of vol [c, d, h, w] as rows of cols
 *  [(d/pd)·(h/ph)·(w/pw), c·pd·ph·pw], patch index (i·(h/ph) + j)·(w/pw) + k.
 *  Element order within a patch: channel_last 0 gives (c, z, y, x), a Conv3d
 *  weight [D, c, pd, ph, pw] read as [D, c·pd·ph·pw]; channel_last 1 gives
 *  (z, y, x, c), einops "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)". */
void mg_nn_im2col_patches3d(const float *vol, int64_t c, int64_t d, int64_t h, int64_t w,
                            int pd, int ph, int pw, int channel_last, float *cols);

/** Resize a [g0, g1, g2, d] grid of vectors to [o0, o1, o2, d] as
 *  torch.nn.functional.interpolate(mode="trilinear", align_corners=False):
 *  source = (i + 0.5)·n/o − 0.5 clamped at 0, upper neighbour clamped. 0 or -1. */
MG_MUST_CHECK int mg_nn_resize_trilinear_grid(const float *in, int g0, int g1, int g2, int d, float *out,
                                int o0, int o1, int o2);

/* ---- Decoder kernels (mg_nn_decode.c): RoPE, attention over a key/value
 * cache with masks, and the matrix-vector product of one-token decoding ---- */

#define MG_NN_ROPE_MAX_HD 2048

/** inv_freq[hd/2] of rotary embeddings as transformers computes it in float32:
 *  1 / theta^(2i/hd), divided by factor for linear scaling (factor 1: none). */
void mg_nn_rope_inv_freq(int hd, double theta, double factor, float *inv_freq);
/** Rotary embedding in place, rotate_half (NeoX) layout: in each of n rows
 *  (stride ld) and each of heads heads of width hd, element i and i + hd/2 are
 *  rotated by the angle pos[row]·inv_freq[i]. 0, or -1 for an odd or too
 *  large hd (> MG_NN_ROPE_MAX_HD). */
MG_MUST_CHECK int mg_nn_rope(const mg_nn_ctx *ctx, float *x, int64_t n, int64_t ld, int heads, int hd,
               const int64_t *pos, const float *inv_freq);

/** Which keys a query at position p sees: key positions kp <= p, and also
 *  kp > p − window when window > 0; OR, when span is given and span[p] != 0,
 *  every key with span[kp] == span[p] (a bidirectional block such as one
 *  image's soft tokens; it overrides the causal and window limits). */
typedef struct {
    int64_t window;            /* 0: no sliding window */
    const int32_t *span;       /* [nk] block ids by key position, 0 = none; or NULL */
} mg_nn_mask;

/** Attention of nq new queries over a cache of keys/values at positions
 *  k0 … nk−1 (row r of k and v holds position k0 + r; a cache that keeps only
 *  a window passes its first position): for query i (at position qpos[i] < nk)
 *  and head h, out = softmax(mask(cap(q·kᵀ·scale))) · v with cap(s) = c·tanh(s/c)
 *  when softcap c > 0, scores and softmax in fp32. q rows have stride ldq
 *  (heads·hd used), k/v rows stride ldk (kv_heads·hd used; grouped-query
 *  attention: head h reads kv head h / (heads/kv_heads)), out rows stride ldo.
 *  0, or -1 (memory, or heads not a multiple of kv_heads, or a position outside
 *  the cache, or a query whose mask reaches below k0). */
MG_MUST_CHECK int mg_nn_attention_cached(const mg_nn_ctx *ctx, const float *q, int64_t ldq, int64_t nq,
                           const int64_t *qpos, const float *k, const float *v, int64_t ldk,
                           int64_t k0, int64_t nk, int heads, int kv_heads, int hd, float scale,
                           float softcap, const mg_nn_mask *mask, float *out, int64_t ldo);

/** y[r] = W[r, :] · x (+ bias[r]) for the first rows rows of W (F32, F16 or BF16,
 *  used as stored), threaded over rows; each row is one fixed-order dot product,
 *  so y does not depend on the thread count. BF16 uses AVX-512 BF16 (vdpbf16ps,
 *  x split into two bf16 parts for fp32 accuracy) or AVX2, chosen at run time.
 *  0, or -1 (dtype, memory). */
MG_MUST_CHECK int mg_nn_gemv(const mg_nn_ctx *ctx, const mg_nn_weight *w, int64_t rows, const float *x,
               const float *bias, float *y);
/** The code path mg_nn_gemv takes for dtype on this CPU: 0 portable, 1 AVX2,
 *  2 AVX-512 BF16 (for reports and benchmarks). */
int mg_nn_gemv_path(int dtype);
/** mg_nn_gemv on a given path (one this CPU has, else its best), so that tests
 *  can check every path the machine can run. */
MG_MUST_CHECK int mg_nn_gemv_on(const mg_nn_ctx *ctx, int path, const mg_nn_weight *w, int64_t rows,
                  const float *x, const float *bias, float *y);

#endif

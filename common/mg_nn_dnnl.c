/* mg_nn_dnnl.c: the matmul layer (mg_matmul.h): OpenBLAS fp32 through
 * mg_nn_linear, or oneDNN bf16 matmul with fp32 accumulation. */
#include "mg_matmul.h"
#include "mg_err.h"
#include "mg_dtype.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Debian builds oneDNN on OpenMP (dnnl_version()->cpu_runtime == DNNL_RUNTIME_OMP);
 * its thread count is the calling thread's OpenMP setting. */
void omp_set_num_threads(int);

int mg_precision_from_name(const char *s)
{
    if (strcmp(s, "f32") == 0) return MG_PREC_F32;
    if (strcmp(s, "bf16") == 0) return MG_PREC_BF16;
    if (strcmp(s, "auto") == 0) return MG_PREC_AUTO;
    return -1;
}

const char *mg_precision_name(int p)
{
    return p == MG_PREC_F32 ? "f32" : p == MG_PREC_BF16 ? "bf16" : p == MG_PREC_AUTO ? "auto" : "?";
}

int mg_mm_cpu_has_bf16(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    /* ISA values are bit sets that grow with the ISA: avx512_core_amx contains
     * avx512_core_bf16's bits. */
    return ((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}

const char *mg_mm_isa_name(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "other";
    }
}

int mg_precision_resolve(int req, int weights_bf16, char *err, size_t errlen)
{
    int has = mg_mm_cpu_has_bf16();
    if (req == MG_PREC_AUTO) return has && weights_bf16 ? MG_PREC_BF16 : MG_PREC_F32;
    if (req == MG_PREC_BF16 && !has) {
        mg_seterr(err, errlen, "bf16 precision needs a CPU with AVX512_BF16 or AMX (oneDNN "
                  "reports %s); use --precision f32 or auto", mg_mm_isa_name());
        return -1;
    }
    return req == MG_PREC_BF16 ? MG_PREC_BF16 : MG_PREC_F32;
}

/* ---- the bf16 back end ---- */

typedef struct {               /* a weight, packed once */
    const void *data;
    int in_out;
    int64_t k, n;
    dnnl_memory_desc_t md;     /* oneDNN's preferred layout of the [K, N] operand */
    void *buf;
} packed_w;

typedef struct {               /* a primitive for one shape and epilogue */
    int64_t m, n, k, ldy;
    int act, bias;
    dnnl_memory_desc_t wmd, src, dst, bmd;
    dnnl_primitive_t prim;
    size_t scratch;
} prim_entry;

typedef struct {               /* per-worker buffers, touched by that worker only */
    dnnl_stream_t stream;
    uint16_t *xb;
    size_t xcap;
    void *sp;
    size_t spcap;
    uint16_t *wcv;             /* a weight block rounded to bf16 (non-BF16 storage) */
    size_t wcvcap;
    float *row;                /* one weight row in f32 on the way there */
    size_t rowcap;
} worker_buf;

struct mg_mm {
    int prec;
    char desc[96];
    dnnl_engine_t eng;
    packed_w *w;
    int nw, mw;
    prim_entry *p;
    int np, mp;
    worker_buf *wk;            /* one per pool worker */
    int nwk;
    uint16_t *xs;              /* activations in bf16, shared by the column blocks */
    size_t xscap;
};

static const char *dnnl_msg(dnnl_status_t s)
{
    switch (s) {
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "no implementation for this shape";
    default: return "failure";
    }
}

mg_mm *mg_mm_create(int prec, char *err, size_t errlen)
{
    mg_mm *mm = calloc(1, sizeof *mm);
    if (!mm) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    mm->prec = prec == MG_PREC_BF16 ? MG_PREC_BF16 : MG_PREC_F32;
    if (mm->prec == MG_PREC_F32) {
        snprintf(mm->desc, sizeof mm->desc, "f32 (OpenBLAS sgemm)");
        return mm;
    }
    snprintf(mm->desc, sizeof mm->desc, "bf16 (oneDNN %d.%d matmul, %s)", dnnl_version()->major,
             dnnl_version()->minor, mg_mm_isa_name());
    /* Primitives are created for, and run on, one OpenMP thread (see mg_matmul.h). */
    omp_set_num_threads(1);
    dnnl_status_t s = dnnl_engine_create(&mm->eng, dnnl_cpu, 0);
    if (s != dnnl_success) {
        mg_seterr(err, errlen, "oneDNN engine: %s", dnnl_msg(s));
        free(mm);
        return NULL;
    }
    return mm;
}

void mg_mm_free(mg_mm *mm)
{
    if (!mm) return;
    for (int i = 0; i < mm->np; i++) dnnl_primitive_destroy(mm->p[i].prim);
    for (int i = 0; i < mm->nw; i++) free(mm->w[i].buf);
    for (int i = 0; i < mm->nwk; i++) {
        if (mm->wk[i].stream) dnnl_stream_destroy(mm->wk[i].stream);
        free(mm->wk[i].xb);
        free(mm->wk[i].sp);
        free(mm->wk[i].wcv);
        free(mm->wk[i].row);
    }
    free(mm->xs);
    free(mm->wk);
    free(mm->p);
    free(mm->w);
    if (mm->eng) dnnl_engine_destroy(mm->eng);
    free(mm);
}

int mg_mm_precision(const mg_mm *mm) { return mm ? mm->prec : MG_PREC_F32; }
const char *mg_mm_describe(const mg_mm *mm) { return mm ? mm->desc : "f32 (OpenBLAS sgemm)"; }

/* f32 -> bf16, round to nearest even (the bits + 0x7FFF + the lowest kept bit,
 * truncated); NaN stays a (quiet) NaN. 16 lanes at a time with vector extensions. */
typedef uint32_t v16u __attribute__((vector_size(64)));
typedef uint16_t v16h __attribute__((vector_size(32)));
__attribute__((target_clones("avx512f", "avx2", "default")))
static void to_bf16(const float *x, int64_t n, uint16_t *y)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16u u;
        memcpy(&u, x + i, sizeof u);
        v16u r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
        v16u nan = (u & 0x7FFFFFFFu) > 0x7F800000u;         /* all ones where NaN */
        r = (r & ~nan) | (((u >> 16) | 0x40u) & nan);
        v16h h = __builtin_convertvector(r, v16h);
        memcpy(y + i, &h, sizeof h);
    }
    for (; i < n; i++) {
        uint32_t u;
        memcpy(&u, x + i, 4);
        uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
        y[i] = (u & 0x7FFFFFFFu) > 0x7F800000u ? (uint16_t)((u >> 16) | 0x40u) : (uint16_t)r;
    }
}

static packed_w *find_w(const mg_mm *mm, const void *data, int in_out)
{
    for (int i = 0; i < mm->nw; i++)
        if (mm->w[i].data == data && mm->w[i].in_out == in_out) return &mm->w[i];
    return NULL;
}

/* The operand B[K, N] of y = x · B as a memory descriptor over the weight as
 * stored: nn.Linear [N, K] is B with strides (1, K) ("ba"); an [in, out]
 * weight is B itself ("ab"). */
static dnnl_status_t plain_md(dnnl_memory_desc_t *md, int64_t k, int64_t n, int in_out,
                              dnnl_data_type_t dt)
{
    dnnl_dims_t d = { k, n };
    return dnnl_memory_desc_init_by_tag(md, 2, d, dt, in_out ? dnnl_ab : dnnl_ba);
}

/* Large buffers (packed weights, row blocks) on transparent huge pages where
 * the system allows it on request: fewer page faults and TLB misses. */
static void *big_alloc(size_t bytes)
{
    size_t align = bytes >= (2u << 20) ? (2u << 20) : 64;
    void *p = aligned_alloc(align, (bytes + align - 1) / align * align);
    if (p && align > 64) madvise(p, (bytes + align - 1) / align * align, MADV_HUGEPAGE);
    return p;
}

/* Grow a per-worker buffer of elem-byte items to at least n items. */
static int reserve(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap) return 0;
    free(*p);
    *cap = 0;
    if (!(*p = big_alloc(n * elem))) return -1;
    *cap = n;
    return 0;
}

static dnnl_status_t matmul_pd(const mg_mm *mm, int64_t m, int64_t n, int64_t k, int64_t ldy,
                               int bias, int act, const dnnl_memory_desc_t *wmd,
                               dnnl_primitive_desc_t *pd, prim_entry *e)
{
    dnnl_dims_t sd = { m, k }, dd = { m, n }, ds = { ldy, 1 }, bd = { 1, n };
    dnnl_memory_desc_t wany;
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_tag(&e->src, 2, sd, dnnl_bf16, dnnl_ab)) ||
        (s = dnnl_memory_desc_init_by_strides(&e->dst, 2, dd, dnnl_f32, ds)) ||
        (s = dnnl_memory_desc_init_by_tag(&e->bmd, 2, bd, dnnl_f32, dnnl_ab))) return s;
    if (!wmd) {
        dnnl_dims_t wd = { k, n };
        if ((s = dnnl_memory_desc_init_by_tag(&wany, 2, wd, dnnl_bf16, dnnl_format_tag_any))) return s;
        wmd = &wany;
    }
    dnnl_matmul_desc_t md;
    if ((s = dnnl_matmul_desc_init(&md, &e->src, wmd, bias ? &e->bmd : NULL, &e->dst))) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if ((s = dnnl_primitive_attr_create(&attr))) return s;
    /* each worker passes its own scratchpad, so that blocks can run concurrently */
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (!s && act) {
        dnnl_alg_kind_t alg = act == MG_ACT_GELU_ERF ? dnnl_eltwise_gelu_erf
                            : act == MG_ACT_GELU_TANH ? dnnl_eltwise_gelu_tanh : dnnl_eltwise_swish;
        /* quick GELU x·σ(1.702x) is swish with α = 1.702 */
        if (!(s = dnnl_post_ops_create(&po)) &&
            !(s = dnnl_post_ops_append_eltwise(po, 1.0f, alg, act == MG_ACT_QUICK_GELU ? 1.702f : 0.0f, 0.0f)))
            s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (!s) s = dnnl_primitive_desc_create(pd, &md, attr, mm->eng, NULL);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

/* A representative row count for choosing the packed weight layout. */
enum { PACK_M = 256 };

/* Pack one weight into pw (reserved by the caller): any thread, one OpenMP thread. */
static dnnl_status_t pack_one(const mg_mm *mm, packed_w *pw, const mg_nn_weight *w)
{
    int64_t k = pw->k, n = pw->n;
    /* The reorder reads the weight as stored when it is aligned BF16 or F32 (and
     * rounds F32 to bf16 itself, to nearest even); F16 or unaligned data goes
     * through an f32 copy first. */
    float *tmp = NULL;
    const void *src = w->data;
    dnnl_data_type_t sdt = w->dtype == MG_BF16 ? dnnl_bf16 : dnnl_f32;
    if (!(w->dtype == MG_BF16 && ((uintptr_t)w->data & 1) == 0) &&
        !(w->dtype == MG_F32 && ((uintptr_t)w->data & 3) == 0)) {
        if (!(tmp = malloc((size_t)(w->rows * w->cols) * sizeof(float)))) return dnnl_out_of_memory;
        if (mg_dtype_float_to_f32(w->dtype, w->data, 0, w->rows * w->cols, tmp) < 0) {
            free(tmp);
            return dnnl_invalid_arguments;
        }
        src = tmp;
        sdt = dnnl_f32;
    }
    prim_entry e;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    dnnl_stream_t st = NULL;
    dnnl_memory_desc_t smd;
    dnnl_status_t s;
    omp_set_num_threads(1);
    if ((s = matmul_pd(mm, PACK_M, n, k, n, 0, 0, NULL, &pd, &e))) goto done;
    pw->md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (!(pw->buf = big_alloc(dnnl_memory_desc_get_size(&pw->md)))) { s = dnnl_out_of_memory; goto done; }
    dnnl_exec_arg_t args[2];
    if ((s = plain_md(&smd, k, n, pw->in_out, sdt)) ||
        (s = dnnl_memory_create(&ms, &smd, mm->eng, (void *)src)) ||
        (s = dnnl_memory_create(&md, &pw->md, mm->eng, pw->buf)) ||
        (s = dnnl_reorder_primitive_desc_create(&rpd, &smd, mm->eng, &pw->md, mm->eng, NULL)) ||
        (s = dnnl_primitive_create(&reorder, rpd)) ||
        (s = dnnl_stream_create(&st, mm->eng, dnnl_stream_default_flags))) goto done;
    args[0] = (dnnl_exec_arg_t){ DNNL_ARG_FROM, ms };
    args[1] = (dnnl_exec_arg_t){ DNNL_ARG_TO, md };
    if (!(s = dnnl_primitive_execute(reorder, st, 2, args))) s = dnnl_stream_wait(st);
done:
    if (st) dnnl_stream_destroy(st);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ms) dnnl_memory_destroy(ms);
    if (md) dnnl_memory_destroy(md);
    free(tmp);
    return s;
}

typedef struct {
    const mg_mm *mm;
    const mg_mm_matrix *ms;
    int *slot;                 /* per matrix: its packed_w, or -1 when already packed */
    dnnl_status_t *status;
} pack_job;

static void pack_task(void *arg, int t, int worker)
{
    (void)worker;
    pack_job *j = arg;
    if (j->slot[t] >= 0) j->status[t] = pack_one(j->mm, &j->mm->w[j->slot[t]], j->ms[t].w);
}

int mg_mm_prepare(mg_mm *mm, const mg_nn_ctx *ctx, const mg_mm_matrix *ms, int n, char *err,
                  size_t errlen)
{
    if (!mm || mm->prec != MG_PREC_BF16 || n <= 0) return 0;
    int first = mm->nw, rc = -1;
    int *slot = malloc((size_t)n * sizeof *slot);
    dnnl_status_t *status = calloc((size_t)n, sizeof *status);
    if (!slot || !status) goto oom;
    if (mm->nw + n > mm->mw) {
        packed_w *p = realloc(mm->w, (size_t)(mm->nw + n) * sizeof *p);
        if (!p) goto oom;
        mm->w = p;
        mm->mw = mm->nw + n;
    }
    /* slots are reserved here, on the caller; the workers only fill them */
    for (int i = 0; i < n; i++) {
        const mg_nn_weight *w = ms[i].w;
        slot[i] = -1;
        if (find_w(mm, w->data, ms[i].in_out)) continue;
        packed_w *pw = &mm->w[mm->nw];
        memset(pw, 0, sizeof *pw);
        pw->data = w->data;
        pw->in_out = ms[i].in_out;
        pw->k = ms[i].in_out ? w->rows : w->cols;
        pw->n = ms[i].in_out ? w->cols : w->rows;
        slot[i] = mm->nw++;
    }
    pack_job j = { mm, ms, slot, status };
    mg_nn_ctx serial = { 1, NULL, MG_PREC_F32 };
    mg_nn_parallel(ctx ? ctx : &serial, n, pack_task, &j);
    for (int i = 0; i < n; i++)
        if (status[i] != dnnl_success) {
            const mg_nn_weight *w = ms[i].w;
            mg_seterr(err, errlen, "oneDNN: packing a %lldx%lld bf16 weight: %s",
                      (long long)w->rows, (long long)w->cols, dnnl_msg(status[i]));
            for (int k = first; k < mm->nw; k++) free(mm->w[k].buf);
            mm->nw = first;
            goto done;
        }
    rc = 0;
    goto done;
oom:
    mg_seterr(err, errlen, "out of memory");
done:
    free(slot);
    free(status);
    return rc;
}

/* The cached primitive for (m, n, k, ldy, bias, act) over packed layout wmd. */
static prim_entry *get_prim(mg_mm *mm, int64_t m, const packed_w *pw, int64_t ldy, int bias, int act)
{
    for (int i = 0; i < mm->np; i++) {
        prim_entry *e = &mm->p[i];
        if (e->m == m && e->n == pw->n && e->k == pw->k && e->ldy == ldy && e->bias == bias &&
            e->act == act && dnnl_memory_desc_equal(&e->wmd, &pw->md)) return e;
    }
    if (mm->np == mm->mp) {
        int nm = mm->mp ? 2 * mm->mp : 32;
        prim_entry *p = realloc(mm->p, (size_t)nm * sizeof *p);
        if (!p) return NULL;
        mm->p = p;
        mm->mp = nm;
    }
    prim_entry *e = &mm->p[mm->np];
    memset(e, 0, sizeof *e);
    dnnl_primitive_desc_t pd;
    omp_set_num_threads(1);
    /* The packed layout is given explicitly: every row count uses the weights as packed. */
    if (matmul_pd(mm, m, pw->n, pw->k, ldy, bias, act, &pw->md, &pd, e) != dnnl_success) return NULL;
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    e->scratch = sp ? dnnl_memory_desc_get_size(sp) : 0;
    dnnl_status_t s = dnnl_primitive_create(&e->prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) return NULL;
    e->m = m; e->n = pw->n; e->k = pw->k; e->ldy = ldy; e->bias = bias; e->act = act;
    e->wmd = pw->md;
    mm->np++;
    return e;
}

typedef struct {
    mg_mm *mm;
    const float *x;
    float *y;
    int64_t m, block, ldy;
    const float *bias;
    const packed_w *pw;
    prim_entry *full, *tail;
    int failed;
} mm_job;

/* Run primitive e on one worker: src (bf16 rows), weights in e's layout, dst
 * and bias (NULL: none) as e describes them, the worker's scratchpad. */
static dnnl_status_t run_prim(const mg_mm *mm, const prim_entry *e, worker_buf *wb, const void *src,
                              const void *wts, float *dst, const float *bias)
{
    dnnl_memory_t ms = NULL, mw = NULL, md = NULL, mb = NULL, msp = NULL;
    dnnl_status_t s;
    dnnl_exec_arg_t a[5];
    int na = 0;
    if ((s = dnnl_memory_create(&ms, &e->src, mm->eng, (void *)src)) ||
        (s = dnnl_memory_create(&mw, &e->wmd, mm->eng, (void *)wts)) ||
        (s = dnnl_memory_create(&md, &e->dst, mm->eng, dst))) goto done;
    a[na++] = (dnnl_exec_arg_t){ DNNL_ARG_SRC, ms };
    a[na++] = (dnnl_exec_arg_t){ DNNL_ARG_WEIGHTS, mw };
    a[na++] = (dnnl_exec_arg_t){ DNNL_ARG_DST, md };
    if (bias) {
        if ((s = dnnl_memory_create(&mb, &e->bmd, mm->eng, (void *)bias))) goto done;
        a[na++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, mb };
    }
    if (e->scratch) {
        const_dnnl_primitive_desc_t pd;
        if ((s = dnnl_primitive_get_primitive_desc(e->prim, &pd))) goto done;
        const dnnl_memory_desc_t *spd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if ((s = dnnl_memory_create(&msp, spd, mm->eng, wb->sp))) goto done;
        a[na++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, msp };
    }
    s = dnnl_primitive_execute(e->prim, wb->stream, na, a);
    if (!s) s = dnnl_stream_wait(wb->stream);
done:
    if (ms) dnnl_memory_destroy(ms);
    if (mw) dnnl_memory_destroy(mw);
    if (md) dnnl_memory_destroy(md);
    if (mb) dnnl_memory_destroy(mb);
    if (msp) dnnl_memory_destroy(msp);
    return s;
}

static void block_task(void *arg, int t, int worker)
{
    mm_job *j = arg;
    worker_buf *wb = &j->mm->wk[worker];
    int64_t r0 = (int64_t)t * j->block, nr = j->m - r0 < j->block ? j->m - r0 : j->block;
    prim_entry *e = nr == j->block ? j->full : j->tail;
    int64_t k = j->pw->k;
    omp_set_num_threads(1);
    if (reserve((void **)&wb->xb, &wb->xcap, (size_t)(nr * k), 2) < 0 ||
        reserve(&wb->sp, &wb->spcap, e->scratch, 1) < 0) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    to_bf16(j->x + r0 * k, nr * k, wb->xb);
    if (run_prim(j->mm, e, wb, wb->xb, j->pw->buf, j->y + r0 * j->ldy, j->bias) != dnnl_success)
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

/* Rows per block: a function of the row count alone (never of the threads), so
 * that the computation of every output row is the same for any -@. Blocks of
 * at least 64 rows keep the packed weights' reuse high; up to 16 blocks give
 * the workers something to balance. */
static int64_t block_rows(int64_t m)
{
    int64_t b = (m + 15) / 16;
    b = (b + 31) / 32 * 32;
    return b < 64 ? 64 : b;
}

/* A stream and buffers for every worker the pool may hand a block to. */
static int ensure_workers(mg_mm *mm, const mg_nn_ctx *ctx)
{
    int nw = mg_pool_threads(ctx->pool);
    if (nw > mm->nwk) {
        worker_buf *p = realloc(mm->wk, (size_t)nw * sizeof *p);
        if (!p) return -1;
        memset(p + mm->nwk, 0, (size_t)(nw - mm->nwk) * sizeof *p);
        mm->wk = p;
        mm->nwk = nw;
    }
    for (int i = 0; i < nw; i++)
        if (!mm->wk[i].stream &&
            dnnl_stream_create(&mm->wk[i].stream, mm->eng, dnnl_stream_default_flags) != dnnl_success)
            return -1;
    return 0;
}

static int bf16_matmul(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t m,
                       const packed_w *pw, const float *bias, int act, float *y, int64_t ldy)
{
    if (m <= 0) return 0;
    mm_job j = { mm, x, y, m, block_rows(m), ldy, bias, pw, NULL, NULL, 0 };
    if (j.block > m) j.block = m;
    int nb = (int)((m + j.block - 1) / j.block);
    int64_t tail = m - (int64_t)(nb - 1) * j.block;
    if (!(j.full = get_prim(mm, j.block, pw, ldy, bias != NULL, act))) return -1;
    if (!(j.tail = tail == j.block ? j.full : get_prim(mm, tail, pw, ldy, bias != NULL, act))) return -1;
    if (ensure_workers(mm, ctx) < 0) return -1;
    mg_nn_parallel(ctx, nb, block_task, &j);
    return j.failed ? -1 : 0;
}

/* w's packed copy; a weight not prepared at load is packed now, once. */
static const packed_w *packed(mg_mm *mm, const mg_nn_weight *w, int in_out)
{
    const packed_w *pw = find_w(mm, w->data, in_out);
    if (pw) return pw;
    mg_mm_matrix m = { w, in_out };
    if (mg_mm_prepare(mm, NULL, &m, 1, NULL, 0) < 0) return NULL;
    return find_w(mm, w->data, in_out);
}

int mg_mm_linear(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t n,
                 const mg_nn_weight *w, const float *bias, int act, float *y, int64_t ldy)
{
    if (!mm || mm->prec != MG_PREC_BF16) {
        if (mg_nn_linear(ctx, x, n, w, bias, y, ldy) < 0) return -1;
        if (act && ldy == w->rows) mg_nn_activate(ctx, y, n * ldy, act);
        else if (act)
            for (int64_t i = 0; i < n; i++) mg_nn_activate(ctx, y + i * ldy, w->rows, act);
        return 0;
    }
    const packed_w *pw = packed(mm, w, 0);
    if (!pw) return -1;
    return bf16_matmul(mm, ctx, x, n, pw, bias, act, y, ldy);
}

/* oneDNN's fp32 GEMM (row-major), one OpenMP thread: the caller's worker. */
static void onednn_sgemm(int transb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    omp_set_num_threads(1);
    dnnl_sgemm('N', transb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int mg_mm_attention(const mg_mm *mm, const mg_nn_ctx *ctx, const float *q, int64_t ldq,
                    const float *k, const float *v, int64_t ldk, float *out, int64_t ldo,
                    int batch, int64_t nq, int64_t nk, int heads, int hd, float scale)
{
    return mg_nn_attention_gemm(ctx, mm && mm->prec == MG_PREC_BF16 ? onednn_sgemm : NULL, q, ldq, k,
                                v, ldk, out, ldo, batch, nq, nk, heads, hd, scale);
}

int mg_mm_in_out(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t n,
                 const mg_nn_weight *w, float *y)
{
    if (!mm || mm->prec != MG_PREC_BF16) return mg_nn_matmul_in_out(ctx, x, n, w, y);
    const packed_w *pw = packed(mm, w, 1);
    if (!pw) return -1;
    return bf16_matmul(mm, ctx, x, n, pw, NULL, 0, y, w->cols);
}

/* ---- weights used as stored ---- */

typedef struct {
    mg_mm *mm;
    const mg_nn_weight *w;
    const float *bias;
    float *y;
    int64_t block, ldy;
    prim_entry *full, *tail;
    int failed;
} stored_job;

/* Output columns per block: a function of the column count alone (never of the
 * threads). Up to 16 blocks for the workers to balance; at least 128 columns so
 * that oneDNN's kernels run at full width, at most 2048 so that its copy of the
 * block (the scratchpad) stays in cache-sized pieces. */
static int64_t block_cols(int64_t n)
{
    int64_t b = (n + 15) / 16;
    b = (b + 31) / 32 * 32;
    b = b < 128 ? 128 : b > 2048 ? 2048 : b;
    return b > n ? n : b;
}

static void stored_task(void *arg, int t, int worker)
{
    stored_job *j = arg;
    worker_buf *wb = &j->mm->wk[worker];
    const mg_nn_weight *w = j->w;
    int64_t k = w->cols, n0 = (int64_t)t * j->block;
    int64_t nb = w->rows - n0 < j->block ? w->rows - n0 : j->block;
    prim_entry *e = nb == j->block ? j->full : j->tail;
    omp_set_num_threads(1);
    const void *wp;
    if (w->dtype == MG_BF16 && ((uintptr_t)w->data & 1) == 0) {
        wp = (const uint16_t *)w->data + n0 * k;
    } else {
        /* F32/F16 storage: this block rounded to bf16, a transient copy */
        if (reserve((void **)&wb->wcv, &wb->wcvcap, (size_t)(nb * k), 2) < 0 ||
            reserve((void **)&wb->row, &wb->rowcap, (size_t)k, sizeof(float)) < 0) goto fail;
        for (int64_t r = 0; r < nb; r++) {
            if (mg_dtype_float_to_f32(w->dtype, w->data, (n0 + r) * k, k, wb->row) < 0) goto fail;
            to_bf16(wb->row, k, wb->wcv + r * k);
        }
        wp = wb->wcv;
    }
    if (reserve(&wb->sp, &wb->spcap, e->scratch, 1) < 0 ||
        run_prim(j->mm, e, wb, j->mm->xs, wp, j->y + n0, j->bias ? j->bias + n0 : NULL) != dnnl_success)
        goto fail;
    return;
fail:
    __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

/* The primitive for m rows over a plain [cols-wide] block of an nn.Linear weight. */
static prim_entry *stored_prim(mg_mm *mm, int64_t m, int64_t k, int64_t cols, int64_t ldy, int bias)
{
    packed_w pw;
    memset(&pw, 0, sizeof pw);
    pw.k = k;
    pw.n = cols;
    if (plain_md(&pw.md, k, cols, 0, dnnl_bf16) != dnnl_success) return NULL;
    return get_prim(mm, m, &pw, ldy, bias, 0);
}

int mg_mm_linear_stored(mg_mm *mm, const mg_nn_ctx *ctx, const float *x, int64_t n,
                        const mg_nn_weight *w, const float *bias, float *y, int64_t ldy)
{
    if (!mm || mm->prec != MG_PREC_BF16) return mg_nn_linear(ctx, x, n, w, bias, y, ldy);
    if (n <= 0 || w->rows <= 0) return 0;
    stored_job j = { mm, w, bias, y, block_cols(w->rows), ldy, NULL, NULL, 0 };
    int nb = (int)((w->rows + j.block - 1) / j.block);
    int64_t tail = w->rows - (int64_t)(nb - 1) * j.block;
    if (!(j.full = stored_prim(mm, n, w->cols, j.block, ldy, bias != NULL)) ||
        !(j.tail = tail == j.block ? j.full : stored_prim(mm, n, w->cols, tail, ldy, bias != NULL)))
        return -1;
    if (ensure_workers(mm, ctx) < 0 ||
        reserve((void **)&mm->xs, &mm->xscap, (size_t)(n * w->cols), 2) < 0) return -1;
    to_bf16(x, n * w->cols, mm->xs);
    mg_nn_parallel(ctx, nb, stored_task, &j);
    return j.failed ? -1 : 0;
}

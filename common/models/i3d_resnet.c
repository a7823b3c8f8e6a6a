/* i3d_resnet.c: Merlin's image encoder (merlin/models/build.py ImageEncoder,
 * i3res.py I3ResNet, inflate.py), a torchvision ResNet-152 inflated to 3D,
 * under "encode_image.i3_resnet.":
 *   the input [B, 1, X, Y, Z] (MONAI's axes) is permuted to [B, 1, Z, X, Y] and
 *   its channel repeated three times; stem Conv3d 3→64 (3,7,7) stride (1,2,2)
 *   padding (1,3,3) without bias, BatchNorm, ReLU, MaxPool3d 3 stride 2
 *   padding 1; four stages of Bottleneck blocks (torchvision's, stride on the
 *   3×3: here 1×1×1, 3×3×3 stride (s,s,s) padding 1, 1×1×1; downsample
 *   1×1×1 stride s + BatchNorm); AdaptiveAvgPool3d(1); contrastive_head, a
 *   1×1×1 Conv3d 2048→512 with bias, gives the image embedding.
 * Batch norm runs in eval mode, so it is folded into the preceding convolution
 * at load: w' = w·γ/√(var+ε), b' = β − mean·γ/√(var+ε). The three identical
 * input channels are folded too: the stem weight is summed over its inputs.
 * A volume record [D,H,W] from mg-preprocess is [z,y,x] (x fastest), MONAI's
 * [X,Y,Z] transposed, so Merlin's [Z,X,Y] is the record with y and x swapped.
 * Outputs: pooled = the 2048-d average-pooled features (Merlin's
 * ImageEmbedding mode), projected = contrastive_head of it (the embedding
 * its CLIP loss uses, the default), tokens = the last stage's features per
 * location, in (z, x, y) order. */
#include "models.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    mg_nn_conv3d_geom g;
    int64_t cin, cout;
    float *w, *b;                   /* folded, channels-last [cout, taps·cin], [cout] */
    mg_nn_weight W;
} conv3;

typedef struct {
    conv3 c1, c2, c3, down;
    int has_down;
} bottleneck;

typedef struct {
    char type[64];
    int width, stages[4], nblk, n_contrastive;
    float eps;
    conv3 stem;
    bottleneck *blk;
    int64_t feat;                   /* 8·width·4 = 2048 for ResNet-152 */
    mg_nn_weight head;
    float *head_b;
    int stored_bf16;                /* every convolution stored BF16 (for auto precision) */
    mg_mm *mm;                      /* the matmul back end (NULL: fp32) */
} i3d;

/* Give back the pages of [p, p + bytes) that nothing will read again: whole
 * pages inside the range only. Used on the checkpoint's read-only file mapping
 * (the pages stay in the page cache and would fault back in if read) and on
 * fp32 copies the bf16 back end has packed; a hint, so errors are harmless. */
static void drop_pages(const void *p, size_t bytes)
{
    uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE), a = ((uintptr_t)p + ps - 1) & ~(ps - 1),
              b = ((uintptr_t)p + bytes) & ~(ps - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

static void i3d_free(void *p)
{
    i3d *m = p;
    if (!m) return;
    free(m->stem.w);
    free(m->stem.b);
    for (int i = 0; m->blk && i < m->nblk; i++) {
        conv3 *c[4] = { &m->blk[i].c1, &m->blk[i].c2, &m->blk[i].c3, &m->blk[i].down };
        for (int k = 0; k < 4; k++) { free(c[k]->w); free(c[k]->b); }
    }
    free(m->blk);
    mg_mm_free(m->mm);
    free(m);
}

/* Conv3d base.weight [O, C, k] followed by BatchNorm3d bn, folded (see top).
 * sum_in: fold identical input channels into one. */
static int load_conv_bn(mg_ckpt *ck, i3d *m, const char *base, const char *bn, int64_t O,
                        int64_t C, const int k[3], const int s[3], const int p[3], int sum_in, conv3 *c)
{
    char nm[300];
    int64_t dims[5] = { O, C, k[0], k[1], k[2] }, taps = (int64_t)k[0] * k[1] * k[2];
    snprintf(nm, sizeof nm, "%s.weight", base);
    const mg_st_tensor *t = mg_ckpt_tensor(ck, nm, 5, dims);
    if (!t) return -1;
    const float *v[4];
    static const char *const parts[4] = { "weight", "bias", "running_mean", "running_var" };
    for (int i = 0; i < 4; i++) {
        snprintf(nm, sizeof nm, "%s.%s", bn, parts[i]);
        if (!(v[i] = mg_ckpt_vec(ck, nm, O))) return -1;
    }
    snprintf(nm, sizeof nm, "%s.num_batches_tracked", bn);
    mg_ckpt_skip(ck, nm);
    if (t->dtype != MG_BF16) m->stored_bf16 = 0;
    int64_t cin = sum_in ? 1 : C;
    float *raw = malloc((size_t)(O * C * taps) * sizeof(float));
    c->w = malloc((size_t)(O * cin * taps) * sizeof(float));
    c->b = malloc((size_t)O * sizeof(float));
    if (!raw || !c->w || !c->b) { free(raw); mg_ckpt_error(ck, "out of memory"); return -1; }
    if (mg_st_to_f32(t, 0, O * C * taps, raw) < 0) {
        free(raw);
        mg_ckpt_error(ck, "tensor '%s.weight' has an unsupported dtype", base);
        return -1;
    }
    /* the folded copy below is all the forward reads: the mapped tensor goes */
    drop_pages(t->data, t->nbytes);
    for (int64_t o = 0; o < O; o++) {
        float sc = (float)(v[0][o] / sqrt((double)v[3][o] + m->eps));
        c->b[o] = v[1][o] - v[2][o] * sc;
        float *row = raw + o * C * taps;
        if (sum_in) {
            for (int64_t i = 1; i < C; i++)
                for (int64_t q = 0; q < taps; q++) row[q] += row[i * taps + q];
        }
        for (int64_t q = 0; q < cin * taps; q++) row[q] *= sc;
        if (sum_in) memmove(raw + o * taps, row, (size_t)taps * sizeof(float));
    }
    mg_nn_conv3d_weight_cl(raw, O, cin, k[0], k[1], k[2], c->w);
    free(raw);
    c->cin = cin;
    c->cout = O;
    for (int a = 0; a < 3; a++) { c->g.k[a] = k[a]; c->g.s[a] = s[a]; c->g.p[a] = p[a]; }
    c->W = (mg_nn_weight){ MG_F32, c->w, O, cin * taps };
    return 0;
}

static void *i3d_load(mg_ckpt *ck, char *err, size_t errlen)
{
    (void)err; (void)errlen;        /* errors go through the checkpoint */
    const mg_cfg *cfg = mg_ckpt_config(ck);
    i3d *m = calloc(1, sizeof *m);
    if (!m) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    snprintf(m->type, sizeof m->type, "%s", mg_ckpt_model_type(ck));
    m->stored_bf16 = 1;
    static const int resnet152[4] = { 3, 8, 36, 3 };
    double eps;
    int n_class;
    if (mg_cfg_ints(ck, cfg, "layers", 4, resnet152, m->stages) < 0 ||
        mg_cfg_int(ck, cfg, "width", 64, &m->width) < 0 ||
        mg_cfg_int(ck, cfg, "n_contrastive", 512, &m->n_contrastive) < 0 ||
        mg_cfg_int(ck, cfg, "n_class", 1692, &n_class) < 0 ||
        mg_cfg_num(ck, cfg, "batch_norm_eps", 1e-5, &eps) < 0) goto fail;
    if (!m->width || m->width > 4096 || !m->n_contrastive) {
        mg_ckpt_error(ck, "config.json: inconsistent sizes (width %d)", m->width);
        goto fail;
    }
    m->eps = (float)eps;
    mg_ckpt_set_prefix(ck, "encode_image.i3_resnet.");
    if (!mg_ckpt_has(ck, "conv1.weight")) mg_ckpt_set_prefix(ck, "");   /* a bare I3ResNet state dict */
    static const int k_stem[3] = { 3, 7, 7 }, s_stem[3] = { 1, 2, 2 }, p_stem[3] = { 1, 3, 3 },
                     k1[3] = { 1, 1, 1 }, k3[3] = { 3, 3, 3 }, one[3] = { 1, 1, 1 },
                     two[3] = { 2, 2, 2 }, zero[3] = { 0, 0, 0 };
    if (load_conv_bn(ck, m, "conv1", "bn1", m->width, 3, k_stem, s_stem, p_stem, 1, &m->stem) < 0)
        goto fail;
    for (int i = 0; i < 4; i++) m->nblk += m->stages[i];
    if (!(m->blk = calloc((size_t)m->nblk, sizeof *m->blk))) { mg_ckpt_error(ck, "out of memory"); goto fail; }
    int64_t cin = m->width;
    char a[128], b[128];
    for (int st = 0, n = 0; st < 4; st++) {
        int64_t planes = (int64_t)m->width << st;
        for (int k = 0; k < m->stages[st]; k++, n++) {
            bottleneck *bl = &m->blk[n];
            const int *s = st > 0 && k == 0 ? two : one;
#define CB(conv, bn, O, C, kk, ss, pp, dst) \
            (snprintf(a, sizeof a, "layer%d.%d.%s", st + 1, k, conv), \
             snprintf(b, sizeof b, "layer%d.%d.%s", st + 1, k, bn), \
             load_conv_bn(ck, m, a, b, O, C, kk, ss, pp, 0, dst))
            if (CB("conv1", "bn1", planes, cin, k1, one, zero, &bl->c1) < 0 ||
                CB("conv2", "bn2", planes, planes, k3, s, one, &bl->c2) < 0 ||
                CB("conv3", "bn3", 4 * planes, planes, k1, one, zero, &bl->c3) < 0) goto fail;
            snprintf(a, sizeof a, "layer%d.%d.downsample.0.weight", st + 1, k);
            if (k == 0 || mg_ckpt_has(ck, a)) {
                if (CB("downsample.0", "downsample.1", 4 * planes, cin, k1, s, zero, &bl->down) < 0) goto fail;
                bl->has_down = 1;
            }
#undef CB
            cin = 4 * planes;
        }
    }
    m->feat = cin;
    int64_t hd[5] = { m->n_contrastive, cin, 1, 1, 1 };
    const mg_st_tensor *h = mg_ckpt_tensor(ck, "contrastive_head.weight", 5, hd);
    if (!h || !(m->head_b = mg_ckpt_vec(ck, "contrastive_head.bias", m->n_contrastive))) goto fail;
    m->head = (mg_nn_weight){ h->dtype, h->data, m->n_contrastive, cin };
    /* the phenotype classifier is not an encoder output; check its shape only */
    int64_t cd[5] = { n_class, cin, 1, 1, 1 };
    if (mg_ckpt_has(ck, "classifier.weight") &&
        (!mg_ckpt_tensor(ck, "classifier.weight", 5, cd) || !mg_ckpt_vec(ck, "classifier.bias", n_class)))
        goto fail;
    if (mg_ckpt_check_unused(ck, mg_ckpt_prefix(ck), NULL) < 0) goto fail;
    return m;
fail:
    i3d_free(m);
    return NULL;
}

static mg_output i3d_default_output(const void *p)
{
    (void)p;
    return MG_OUT_PROJECTED;
}

/* Spatial extent (Z, X, Y) after the stem, the pool and every stage. */
static void i3d_dims(const i3d *m, const int64_t in[3], int64_t out[3])
{
    for (int a = 0; a < 3; a++) {
        int64_t n = mg_nn_conv_out_len(in[a], m->stem.g.k[a], m->stem.g.s[a], m->stem.g.p[a]);
        n = mg_nn_conv_out_len(n, 3, 2, 1);
        for (int st = 1; st < 4; st++)
            if (m->stages[st]) n = mg_nn_conv_out_len(n, 3, 2, 1);
        out[a] = n;
    }
}

static int i3d_check(const i3d *m, int ndim, const int64_t *s, int64_t zxy[3], char *err, size_t errlen)
{
    if (ndim != 4) {
        mg_seterr(err, errlen, "%s: input must be a volume [C,D,H,W] (got %d dimensions)", m->type, ndim);
        return -1;
    }
    if (s[0] != 1) {
        mg_seterr(err, errlen, "%s: volume has %lld channels; Merlin takes one CT channel", m->type,
                  (long long)s[0]);
        return -1;
    }
    zxy[0] = s[1];
    zxy[1] = s[3];
    zxy[2] = s[2];
    return 0;
}

static int i3d_output_shape(const void *p, mg_output kind, int ndim, const int64_t *s,
                            int64_t out_shape[2], char *err, size_t errlen)
{
    const i3d *m = p;
    int64_t zxy[3], f[3];
    if (kind == MG_OUT_DEFAULT) kind = MG_OUT_PROJECTED;
    if (i3d_check(m, ndim, s, zxy, err, errlen) < 0) return -1;
    switch (kind) {
    case MG_OUT_POOLED:
    case MG_OUT_MEAN:
        out_shape[0] = m->feat;
        return 1;
    case MG_OUT_PROJECTED:
        out_shape[0] = m->n_contrastive;
        return 1;
    case MG_OUT_TOKENS:
        i3d_dims(m, zxy, f);
        out_shape[0] = f[0] * f[1] * f[2];
        out_shape[1] = m->feat;
        return 2;
    default:
        mg_seterr(err, errlen, "unknown output kind");
        return -1;
    }
}

/* conv(x) with folded bias, plus res when given, then ReLU when relu, into y
 * (allocated when y is NULL; y may be res); dims updated. NULL on failure. */
static float *conv_run(const i3d *m, const mg_nn_ctx *ctx, const conv3 *c, const float *x, int64_t d[3],
                       const float *res, int relu, float *y)
{
    int64_t o[3];
    for (int a = 0; a < 3; a++) o[a] = mg_nn_conv_out_len(d[a], c->g.k[a], c->g.s[a], c->g.p[a]);
    float *own = y ? NULL : malloc((size_t)(o[0] * o[1] * o[2] * c->cout) * sizeof(float));
    if (!y && !(y = own)) return NULL;
    mg_nn_conv3d_out post = { res, relu, 0, 0 };
    if (mg_nn_conv3d_cl(ctx, m->mm, x, c->cin, d[0], d[1], d[2], &c->g, &c->W, c->b, &post, y) < 0) {
        free(own);
        return NULL;
    }
    memcpy(d, o, sizeof o);
    return y;
}

typedef struct {
    const float *in;
    float *out;
    int64_t X, Y;
} permute_job;

/* Depth plane z: record [y][x] -> Merlin's [x][y]. */
static void permute_task(void *arg, int z, int wk)
{
    (void)wk;
    const permute_job *j = arg;
    const float *in = j->in + (int64_t)z * j->X * j->Y;
    float *out = j->out + (int64_t)z * j->X * j->Y;
    for (int64_t y = 0; y < j->Y; y++)
        for (int64_t x = 0; x < j->X; x++) out[x * j->Y + y] = in[y * j->X + x];
}

/* Stem output planes pooled per round: the stem's full output (the largest
 * activation of the network, 64 channels at half resolution) is never held,
 * only the 2·STEM_ROUND + 1 planes one round of pooled planes reads. */
#define STEM_ROUND 8

/* Stem convolution, ReLU and max pool of x0 [Z·X·Y] into a new [pooled, 64]
 * array; d becomes the pooled dims. NULL on failure. */
static float *stem_pool(const i3d *m, const mg_nn_ctx *ctx, const float *x0, int64_t d[3])
{
    static const mg_nn_conv3d_geom pool = { { 3, 3, 3 }, { 2, 2, 2 }, { 1, 1, 1 } };
    const conv3 *c = &m->stem;
    int64_t s[3], pd[3];
    for (int a = 0; a < 3; a++) {
        s[a] = mg_nn_conv_out_len(d[a], c->g.k[a], c->g.s[a], c->g.p[a]);
        pd[a] = mg_nn_conv_out_len(s[a], pool.k[a], pool.s[a], pool.p[a]);
    }
    int64_t plane = s[1] * s[2] * c->cout, pplane = pd[1] * pd[2] * c->cout;
    int64_t span = (int64_t)(STEM_ROUND - 1) * pool.s[0] + pool.k[0];
    float *x = malloc((size_t)(pd[0] * pplane) * sizeof(float));
    float *buf = malloc((size_t)((span < s[0] ? span : s[0]) * plane) * sizeof(float));
    if (!x || !buf) goto fail;
    for (int64_t p0 = 0; p0 < pd[0]; p0 += STEM_ROUND) {
        int64_t p1 = p0 + STEM_ROUND < pd[0] ? p0 + STEM_ROUND : pd[0];
        /* stem planes [z0, z1) cover what pooled planes [p0, p1) read */
        int64_t z0 = p0 * pool.s[0] - pool.p[0], z1 = (p1 - 1) * pool.s[0] - pool.p[0] + pool.k[0];
        if (z0 < 0) z0 = 0;
        if (z1 > s[0]) z1 = s[0];
        mg_nn_conv3d_out post = { NULL, 1, z0, z1 };
        if (mg_nn_conv3d_cl(ctx, m->mm, x0, 1, d[0], d[1], d[2], &c->g, &c->W, c->b, &post, buf) < 0)
            goto fail;
        mg_nn_maxpool3d_cl_planes(ctx, buf, z0, z1, c->cout, s[0], s[1], s[2], &pool, p0, p1,
                                  x + p0 * pplane);
    }
    free(buf);
    memcpy(d, pd, sizeof pd);
    return x;
fail:
    free(x);
    free(buf);
    return NULL;
}

/* Features of one volume: [Z'·X'·Y', feat], dims in f. NULL on failure. */
static float *i3d_features(const i3d *m, const mg_nn_ctx *ctx, const float *in, const int64_t zxy[3],
                           int64_t f[3])
{
    int64_t Z = zxy[0], X = zxy[1], Y = zxy[2], d[3] = { Z, X, Y };
    float *x0 = malloc((size_t)(Z * X * Y) * sizeof(float));
    if (!x0) return NULL;
    permute_job pj = { in, x0, X, Y };
    mg_nn_parallel(ctx, (int)Z, permute_task, &pj);
    float *x = stem_pool(m, ctx, x0, d);
    free(x0);
    if (!x) return NULL;
    for (int i = 0; i < m->nblk; i++) {
        const bottleneck *b = &m->blk[i];
        int64_t d1[3], dr[3];
        memcpy(d1, d, sizeof d);
        memcpy(dr, d, sizeof d);
        float *t1 = conv_run(m, ctx, &b->c1, x, d1, NULL, 1, NULL);
        float *t2 = t1 ? conv_run(m, ctx, &b->c2, t1, d1, NULL, 1, NULL) : NULL;
        free(t1);
        /* the block's output relu(conv3 + identity) overwrites its residual,
         * the downsampled input or the input itself */
        float *r = t2 && b->has_down ? conv_run(m, ctx, &b->down, x, dr, NULL, 0, NULL) : x;
        float *t3 = t2 && r ? conv_run(m, ctx, &b->c3, t2, d1, r, 1, r) : NULL;
        free(t2);
        if (!t3) {
            if (r != x) free(r);
            free(x);
            return NULL;
        }
        if (r != x) free(x);
        x = t3;
        memcpy(d, d1, sizeof d);
    }
    memcpy(f, d, sizeof d);
    return x;
}

static int i3d_forward(void *p, const mg_nn_ctx *ctx, mg_output kind, const float *in, int batch,
                       int ndim, const int64_t *s, float *out, char *err, size_t errlen)
{
    const i3d *m = p;
    int64_t zxy[3], os[2], f[3];
    if (kind == MG_OUT_DEFAULT) kind = MG_OUT_PROJECTED;
    int nd = i3d_output_shape(m, kind, ndim, s, os, err, errlen);
    if (nd < 0 || i3d_check(m, ndim, s, zxy, err, errlen) < 0) return -1;
    int64_t per_out = nd == 1 ? os[0] : os[0] * os[1], per_in = zxy[0] * zxy[1] * zxy[2];
    float *pooled = malloc((size_t)m->feat * sizeof(float));
    if (!pooled) { mg_seterr(err, errlen, "%s: out of memory", m->type); return -1; }
    for (int b = 0; b < batch; b++) {
        float *x = i3d_features(m, ctx, in + b * per_in, zxy, f);
        if (!x) {
            free(pooled);
            mg_seterr(err, errlen, "%s: out of memory (or the %s back end failed)", m->type,
                      mg_precision_name(mg_mm_precision(m->mm)));
            return -1;
        }
        float *o = out + b * per_out;
        int rc = 0;
        if (kind == MG_OUT_TOKENS) {
            memcpy(o, x, (size_t)per_out * sizeof(float));
        } else {
            float *pl = kind == MG_OUT_PROJECTED ? pooled : o;
            if (mg_nn_adaptive_avgpool3d_cl(x, m->feat, f[0], f[1], f[2], 1, 1, 1, pl) < 0)
                rc = -1;
            else if (kind == MG_OUT_PROJECTED)
                rc = mg_mm_linear(m->mm, ctx, pl, 1, &m->head, m->head_b, 0, o, m->n_contrastive);
        }
        free(x);
        if (rc < 0) { free(pooled); mg_seterr(err, errlen, "%s: out of memory", m->type); return -1; }
    }
    free(pooled);
    return 0;
}

/* Merlin trains on 224 x 224 x 160 (X, Y, Z): [1, 160, 224, 224] as a record. */
static void i3d_input_shape(const void *p, int64_t *shape)
{
    (void)p;
    shape[0] = 1;
    shape[1] = 160;
    shape[2] = 224;
    shape[3] = 224;
}

/* The back end for every convolution and the head. bf16: the folded fp32
 * weights are packed once and their fp32 copies given back. auto picks bf16
 * when the checkpoint's convolutions are stored BF16 (the folding itself is fp32). */
static int i3d_set_precision(void *p, const mg_nn_ctx *ctx, int prec, char *err, size_t errlen)
{
    i3d *m = p;
    int n = 0, rc = -1;
    mg_mm_matrix *ms = malloc((size_t)(2 + 4 * m->nblk) * sizeof *ms);
    if (!ms) { mg_seterr(err, errlen, "out of memory"); return -1; }
    ms[n++] = (mg_mm_matrix){ &m->stem.W, 0 };
    for (int i = 0; i < m->nblk; i++) {
        bottleneck *b = &m->blk[i];
        ms[n++] = (mg_mm_matrix){ &b->c1.W, 0 };
        ms[n++] = (mg_mm_matrix){ &b->c2.W, 0 };
        ms[n++] = (mg_mm_matrix){ &b->c3.W, 0 };
        if (b->has_down) ms[n++] = (mg_mm_matrix){ &b->down.W, 0 };
    }
    ms[n++] = (mg_mm_matrix){ &m->head, 0 };
    int pr = mg_precision_resolve(prec, m->stored_bf16 && m->head.dtype == MG_BF16, err, errlen);
    if (pr < 0) goto done;
    mg_mm_free(m->mm);
    if (!(m->mm = mg_mm_create(pr, err, errlen)) || mg_mm_prepare(m->mm, ctx, ms, n, err, errlen) < 0)
        goto done;
    /* packed weights are looked up by address, so the fp32 copies stay
     * allocated; their pages are never read again */
    for (int i = 0; pr == MG_PREC_BF16 && i < n; i++)
        drop_pages(ms[i].w->data, (size_t)(ms[i].w->rows * ms[i].w->cols) * mg_dtype_size(ms[i].w->dtype));
    rc = 0;
done:
    free(ms);
    return rc;
}

static const char *i3d_backend(const void *p)
{
    return mg_mm_describe(((const i3d *)p)->mm);
}

static const mg_encoder_ops i3d_ops = {
    .input_ndim = 4,
    .load = i3d_load,
    .free = i3d_free,
    .default_output = i3d_default_output,
    .input_shape = i3d_input_shape,
    .output_shape = i3d_output_shape,
    .forward = i3d_forward,
    .set_precision = i3d_set_precision,
    .backend = i3d_backend,
};
static const char *const i3d_types[] = { "merlin_i3d", NULL };
const mg_family mg_family_i3d_resnet = { "merlin-i3d-resnet", MG_ROLE_ENCODER, i3d_types, &i3d_ops };

/* mg_volume.c: 3D volume operations (see mg_volume.h). */
#include "mg_volume.h"
#include "mg_err.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int size_ok(int64_t nx, int64_t ny, int64_t nz, int64_t nc)
{
    return nx > 0 && ny > 0 && nz > 0 && nc > 0 && nx <= MG_VOLUME_MAX_VOXELS &&
           ny <= MG_VOLUME_MAX_VOXELS / nx && nz <= MG_VOLUME_MAX_VOXELS / (nx * ny) &&
           nc <= MG_VOLUME_MAX_VOXELS / (nx * ny * nz);
}

mg_volume *mg_volume_wrap(int64_t nx, int64_t ny, int64_t nz, int64_t nc, float *data)
{
    if (!size_ok(nx, ny, nz, nc)) return NULL;
    mg_volume *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->nx = nx; v->ny = ny; v->nz = nz; v->nc = nc;
    v->data = data;
    for (int i = 0; i < 4; i++) v->affine[i * 4 + i] = 1.0;
    return v;
}

mg_volume *mg_volume_new(int64_t nx, int64_t ny, int64_t nz, int64_t nc)
{
    if (!size_ok(nx, ny, nz, nc)) return NULL;
    float *d = calloc((size_t)(nx * ny * nz * nc), sizeof(float));
    if (!d) return NULL;
    mg_volume *v = mg_volume_wrap(nx, ny, nz, nc, d);
    if (!v) free(d);
    return v;
}

void mg_volume_free(mg_volume *v)
{
    if (!v) return;
    free(v->data);
    free(v);
}

static void affine_spacing(const double affine[16], double sp[3])
{
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int i = 0; i < 3; i++) s += affine[i * 4 + j] * affine[i * 4 + j];
        sp[j] = sqrt(s);
    }
}

void mg_volume_spacing(const mg_volume *v, double sp[3])
{
    affine_spacing(v->affine, sp);
}

/* Replace v's data and grid; the new buffer is owned by v afterwards. */
static void volume_replace(mg_volume *v, float *data, int64_t nx, int64_t ny, int64_t nz)
{
    free(v->data);
    v->data = data;
    v->nx = nx; v->ny = ny; v->nz = nz;
}

/* a = a * m (4x4 row-major) */
static void affine_mul(double a[16], const double m[16])
{
    double r[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += a[i * 4 + k] * m[k * 4 + j];
            r[i * 4 + j] = s;
        }
    memcpy(a, r, sizeof r);
}

/* ------------------------------------------------------------ orientation */

static int inv3(const double m[9], double r[9])
{
    double c0 = m[4] * m[8] - m[5] * m[7], c1 = m[5] * m[6] - m[3] * m[8],
           c2 = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * c0 + m[1] * c1 + m[2] * c2;
    if (!(fabs(det) > 1e-300) || !isfinite(det)) return -1;
    r[0] = c0 / det; r[1] = (m[2] * m[7] - m[1] * m[8]) / det; r[2] = (m[1] * m[5] - m[2] * m[4]) / det;
    r[3] = c1 / det; r[4] = (m[0] * m[8] - m[2] * m[6]) / det; r[5] = (m[2] * m[3] - m[0] * m[5]) / det;
    r[6] = c2 / det; r[7] = (m[1] * m[6] - m[0] * m[7]) / det; r[8] = (m[0] * m[4] - m[1] * m[3]) / det;
    return 0;
}

int mg_affine_orientation(const double affine[16], int axis[3], int sign[3])
{
    /* nibabel io_orientation: RS = columns of the 3x3 part divided by their
     * lengths, R = P*Qs from the SVD of RS, i.e. RS's orthogonal polar factor,
     * computed here by Newton's iteration X <- (X + X^-T)/2 (same factor for a
     * nonsingular RS). */
    double x[9], inv[9];
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int i = 0; i < 3; i++) s += affine[i * 4 + j] * affine[i * 4 + j];
        s = sqrt(s);
        if (s == 0) s = 1;
        for (int i = 0; i < 3; i++) x[i * 3 + j] = affine[i * 4 + j] / s;
    }
    for (int it = 0; it < 100; it++) {
        if (inv3(x, inv) < 0) return -1;
        double d = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double nv = 0.5 * (x[i * 3 + j] + inv[j * 3 + i]);
                d += fabs(nv - x[i * 3 + j]);
                x[i * 3 + j] = nv;
            }
        if (d < 1e-15) break;
    }
    for (int in_ax = 0; in_ax < 3; in_ax++) {
        int best = 0;
        for (int o = 1; o < 3; o++)
            if (fabs(x[o * 3 + in_ax]) > fabs(x[best * 3 + in_ax])) best = o;
        if (x[best * 3 + in_ax] == 0) return -1;
        axis[in_ax] = best;
        sign[in_ax] = x[best * 3 + in_ax] < 0 ? -1 : 1;
        for (int j = 0; j < 3; j++) x[best * 3 + j] = 0;
    }
    return 0;
}

void mg_affine_axcodes(const double affine[16], char codes[4])
{
    static const char pos[] = "RAS", neg[] = "LPI";
    int axis[3], sign[3];
    if (mg_affine_orientation(affine, axis, sign) < 0) { strcpy(codes, "???"); return; }
    for (int i = 0; i < 3; i++) codes[i] = sign[i] > 0 ? pos[axis[i]] : neg[axis[i]];
    codes[3] = 0;
}

/* A reorientation to RAS: output axis j walks the input from start[j] by
 * step[j] (input strides, negative when flipped); m maps new voxel indices to
 * old ones (new voxel u -> old voxel i: i_a = u_axis[a] or n_a-1-u_axis[a]). */
typedef struct {
    int64_t n_out[3], step[3], start[3];
    double m[16];
} ras_map;

static void ras_map_init(ras_map *r, const int64_t n_in[3], const int axis[3], const int sign[3])
{
    int src_of[3];                       /* output axis j comes from input axis src_of[j] */
    for (int a = 0; a < 3; a++) { r->n_out[axis[a]] = n_in[a]; src_of[axis[a]] = a; }
    int64_t stride_in[3] = { 1, n_in[0], n_in[0] * n_in[1] };
    for (int j = 0; j < 3; j++) {
        int a = src_of[j];
        r->step[j] = sign[a] > 0 ? stride_in[a] : -stride_in[a];
        r->start[j] = sign[a] > 0 ? 0 : (n_in[a] - 1) * stride_in[a];
    }
    memset(r->m, 0, sizeof r->m);
    for (int a = 0; a < 3; a++) {
        r->m[a * 4 + axis[a]] = sign[a];
        r->m[a * 4 + 3] = sign[a] > 0 ? 0 : (double)(n_in[a] - 1);
    }
    r->m[15] = 1;
}

/* Copy n_out[0] x n_out[1] x nk output slices of one channel. */
static void ras_copy(const ras_map *r, const float *src, float *dst, int64_t nk)
{
    size_t o = 0;
    for (int64_t k = 0; k < nk; k++)
        for (int64_t j = 0; j < r->n_out[1]; j++) {
            int64_t base = r->start[0] + r->start[1] + r->start[2] + k * r->step[2] + j * r->step[1];
            for (int64_t i = 0; i < r->n_out[0]; i++) dst[o++] = src[base + i * r->step[0]];
        }
}

int mg_volume_reorient_ras(mg_volume *v, char *err, size_t errlen)
{
    int axis[3], sign[3];
    if (mg_affine_orientation(v->affine, axis, sign) < 0) {
        mg_seterr(err, errlen, "singular affine: orientation undefined");
        return -1;
    }
    int identity = 1;
    for (int a = 0; a < 3; a++) identity &= axis[a] == a && sign[a] == 1;
    if (identity) return 0;
    int64_t n_in[3] = { v->nx, v->ny, v->nz };
    ras_map r;
    ras_map_init(&r, n_in, axis, sign);
    size_t vox = (size_t)(v->nx * v->ny * v->nz);
    float *nd = malloc(vox * v->nc * sizeof *nd);
    if (!nd) { mg_seterr(err, errlen, "out of memory"); return -1; }
    for (int64_t c = 0; c < v->nc; c++) ras_copy(&r, v->data + (size_t)c * vox, nd + (size_t)c * vox, r.n_out[2]);
    affine_mul(v->affine, r.m);
    volume_replace(v, nd, r.n_out[0], r.n_out[1], r.n_out[2]);
    return 0;
}

/* ------------------------------------------------------------ sources */

struct mg_volume_view {
    mg_volume_src src;
    const mg_volume_src *in;
    int clip;
    double lo, hi;
    int moved;                     /* axes swapped or flipped */
    int zflip;                     /* output slice k is input slice nz-1-k */
    ras_map r;
    float *tmp;                    /* one input slice */
};

static int view_read(void *ctx, int64_t c, int64_t z0, int64_t n, float *dst, char *err, size_t errlen)
{
    mg_volume_view *w = ctx;
    const mg_volume_src *in = w->in;
    size_t nxy = (size_t)(in->nx * in->ny), cnt = (size_t)n * nxy;
    if (!w->moved) {
        if (in->read(in->ctx, c, z0, n, dst, err, errlen) < 0) return -1;
    } else {
        if (!w->tmp && !(w->tmp = malloc(nxy * sizeof *w->tmp))) {
            mg_seterr(err, errlen, "out of memory");
            return -1;
        }
        /* a slice at a time, in the order the output needs them (a flipped
         * slice axis reads backwards) */
        ras_map r = w->r;
        r.start[2] = 0;
        for (int64_t k = 0; k < n; k++) {
            int64_t z = w->zflip ? in->nz - 1 - (z0 + k) : z0 + k;
            if (in->read(in->ctx, c, z, 1, w->tmp, err, errlen) < 0) return -1;
            ras_copy(&r, w->tmp, dst + (size_t)k * nxy, 1);
        }
    }
    if (w->clip) {
        /* as mg_volume_prep's clip of the whole volume */
        for (size_t i = 0; i < cnt; i++) {
            float x = dst[i];
            dst[i] = x < w->lo ? (float)w->lo : x > w->hi ? (float)w->hi : x;
        }
    }
    return 0;
}

mg_volume_view *mg_volume_view_new(const mg_volume_src *in, int clip, double lo, double hi, int ras,
                                   char *err, size_t errlen)
{
    int axis[3] = { 0, 1, 2 }, sign[3] = { 1, 1, 1 };
    if (ras && mg_affine_orientation(in->affine, axis, sign) < 0) {
        mg_seterr(err, errlen, "singular affine: orientation undefined");
        return NULL;
    }
    if (axis[2] != 2) { mg_seterr(err, errlen, "the slice axis moves"); return NULL; }
    mg_volume_view *w = calloc(1, sizeof *w);
    if (!w) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    int64_t n_in[3] = { in->nx, in->ny, in->nz };
    ras_map_init(&w->r, n_in, axis, sign);
    for (int a = 0; a < 3; a++) w->moved |= axis[a] != a || sign[a] != 1;
    w->zflip = sign[2] < 0;
    w->in = in;
    w->clip = clip;
    w->lo = lo;
    w->hi = hi;
    w->src = *in;
    w->src.nx = w->r.n_out[0];
    w->src.ny = w->r.n_out[1];
    affine_mul(w->src.affine, w->r.m);
    w->src.read = view_read;
    w->src.ctx = w;
    return w;
}

int mg_volume_view_possible(const mg_volume_src *in, int ras)
{
    int axis[3], sign[3];
    return !ras || mg_affine_orientation(in->affine, axis, sign) < 0 || axis[2] == 2;
}

const mg_volume_src *mg_volume_view_src(const mg_volume_view *w)
{
    return &w->src;
}

void mg_volume_view_free(mg_volume_view *w)
{
    if (!w) return;
    free(w->tmp);
    free(w);
}

/* ------------------------------------------------------------ resampling */

static void axis_map_free(mg_axis_map *m)
{
    free(m->i0); free(m->i1); free(m->w1);
    memset(m, 0, sizeof *m);
}

static int axis_map_alloc(mg_axis_map *m, int64_t n_out)
{
    m->n_out = n_out;
    m->i0 = malloc((size_t)n_out * sizeof *m->i0);
    m->i1 = malloc((size_t)n_out * sizeof *m->i1);
    m->w1 = malloc((size_t)n_out * sizeof *m->w1);
    if (!m->i0 || !m->i1 || !m->w1) { axis_map_free(m); return -1; }
    return 0;
}

/* Output i samples input coordinate pos(i) = a*i + b (clamped to [0,n-1],
 * "border"). Linear: floor and fraction; nearest: round half to even. */
static int axis_map_affine(mg_axis_map *m, int64_t n_in, int64_t n_out, double a, double b,
                           mg_interp mode)
{
    if (axis_map_alloc(m, n_out) < 0) return -1;
    for (int64_t i = 0; i < n_out; i++) {
        double p = a * (double)i + b;
        if (p < 0) p = 0;
        if (p > (double)(n_in - 1)) p = (double)(n_in - 1);
        if (mode == MG_INTERP_NEAREST) {
            int64_t k = (int64_t)nearbyint(p);
            m->i0[i] = m->i1[i] = k;
            m->w1[i] = 0;
        } else {
            int64_t k = (int64_t)floor(p);
            m->i0[i] = k;
            m->i1[i] = k + 1 < n_in ? k + 1 : n_in - 1;
            m->w1[i] = (float)(p - (double)k);
        }
    }
    return 0;
}

/* torch interpolate grid, align_corners=False (aten UpSample.h
 * area_pixel_compute_source_index): linear src = max((i+0.5)*s-0.5, 0) with
 * s = in/out in float; nearest src = min(floor(i*s), n-1). */
static int axis_map_torch(mg_axis_map *m, int64_t n_in, int64_t n_out, mg_interp mode)
{
    if (axis_map_alloc(m, n_out) < 0) return -1;
    float s = (float)n_in / (float)n_out;
    for (int64_t i = 0; i < n_out; i++) {
        if (mode == MG_INTERP_NEAREST) {
            int64_t k = (int64_t)floorf((float)i * s);
            if (k > n_in - 1) k = n_in - 1;
            m->i0[i] = m->i1[i] = k;
            m->w1[i] = 0;
        } else {
            float p = s * ((float)i + 0.5f) - 0.5f;
            if (p < 0) p = 0;
            int64_t k = (int64_t)p;
            m->i0[i] = k;
            m->i1[i] = k + 1 < n_in ? k + 1 : n_in - 1;
            m->w1[i] = p - (float)k;
        }
    }
    return 0;
}

typedef struct {
    const float *slab;             /* input slices z_base.. of one channel */
    int64_t z_base, nx, ny;
    const mg_axis_map *mx, *my, *mz;
    float *out;                    /* the channel's output */
    int64_t z0, z1;                /* output slice range */
    int failed;
} rs_job;

/* o[i] = a[i] + w*(b[i]-a[i]) for n floats, four at a time with GCC/Clang
 * vector extensions (the -O2 build does not vectorise loops by itself). */
typedef float v4f __attribute__((vector_size(16)));

static void lerp_rows(float *restrict o, const float *restrict a, const float *restrict b,
                      float w, int64_t n)
{
    int64_t i = 0;
    v4f vw = { w, w, w, w };
    for (; i + 4 <= n; i += 4) {
        v4f va, vb;
        memcpy(&va, a + i, sizeof va);
        memcpy(&vb, b + i, sizeof vb);
        v4f r = va + vw * (vb - va);
        memcpy(o + i, &r, sizeof r);
    }
    for (; i < n; i++) o[i] = a[i] + w * (b[i] - a[i]);
}

/* Resample input slice iz in x then y into dst (nyo x nxo); tmp is ny x nxo. */
static void slice_xy(const rs_job *j, int64_t iz, float *tmp, float *dst)
{
    const mg_axis_map *mx = j->mx, *my = j->my;
    const float *src = j->slab + (size_t)((iz - j->z_base) * j->ny * j->nx);
    int64_t nxo = mx->n_out, nyo = my->n_out;
    for (int64_t y = 0; y < j->ny; y++) {
        const float *row = src + (size_t)(y * j->nx);
        float *o = tmp + (size_t)(y * nxo);
        for (int64_t x = 0; x < nxo; x++) {
            float a = row[mx->i0[x]], b = row[mx->i1[x]], w = mx->w1[x];
            o[x] = a + w * (b - a);
        }
    }
    for (int64_t y = 0; y < nyo; y++) {
        const float *ra = tmp + (size_t)(my->i0[y] * nxo), *rb = tmp + (size_t)(my->i1[y] * nxo);
        float w = my->w1[y];
        float *o = dst + (size_t)(y * nxo);
        lerp_rows(o, ra, rb, w, nxo);
    }
}

static void rs_task(void *arg, int task, int worker)
{
    (void)worker;
    rs_job *j = (rs_job *)arg + task;
    int64_t nxo = j->mx->n_out, nyo = j->my->n_out, plane = nxo * nyo;
    float *tmp = malloc((size_t)(j->ny * nxo) * sizeof *tmp);
    float *slot[2] = { malloc((size_t)plane * sizeof(float)), malloc((size_t)plane * sizeof(float)) };
    int64_t key[2] = { -1, -1 };
    if (!tmp || !slot[0] || !slot[1]) { j->failed = 1; goto done; }
    for (int64_t z = j->z0; z < j->z1; z++) {
        int64_t need[2] = { j->mz->i0[z], j->mz->i1[z] };
        const float *s[2];
        for (int q = 0; q < 2; q++) {
            int hit = key[0] == need[q] ? 0 : key[1] == need[q] ? 1 : -1;
            if (hit < 0) {
                /* evict the slot that does not hold the other neighbour */
                hit = key[0] == need[1 - q] ? 1 : 0;
                slice_xy(j, need[q], tmp, slot[hit]);
                key[hit] = need[q];
            }
            s[q] = slot[hit];
        }
        float w = j->mz->w1[z];
        float *o = j->out + (size_t)(z * plane);
        lerp_rows(o, s[0], s[1], w, plane);
    }
done:
    free(tmp); free(slot[0]); free(slot[1]);
}

/* Output slices [zs, ze) of one channel from the input slices held in slab
 * (from z_base on), one contiguous share per worker. -1 out of memory. */
static int resample_run(const float *slab, int64_t z_base, int64_t nx, int64_t ny,
                        const mg_axis_map m[3], float *out, int64_t zs, int64_t ze, mg_pool *pool)
{
    int threads = mg_pool_threads(pool);
    if (threads > ze - zs) threads = (int)(ze - zs);
    rs_job *jobs = calloc((size_t)threads, sizeof *jobs);
    if (!jobs) return -1;
    for (int t = 0; t < threads; t++) {
        rs_job *j = &jobs[t];
        j->slab = slab; j->z_base = z_base; j->nx = nx; j->ny = ny;
        j->mx = &m[0]; j->my = &m[1]; j->mz = &m[2]; j->out = out;
        j->z0 = zs + (ze - zs) * t / threads; j->z1 = zs + (ze - zs) * (t + 1) / threads;
    }
    mg_pool_for(pool, threads, rs_task, jobs);
    int failed = 0;
    for (int t = 0; t < threads; t++) failed |= jobs[t].failed;
    free(jobs);
    return failed ? -1 : 0;
}

static float *resample_out(const mg_axis_map m[3], int64_t nc, char *err, size_t errlen)
{
    int64_t nxo = m[0].n_out, nyo = m[1].n_out, nzo = m[2].n_out;
    if (nxo <= 0 || nyo <= 0 || nzo <= 0 || nxo > MG_VOLUME_MAX_VOXELS / nyo ||
        nzo > MG_VOLUME_MAX_VOXELS / (nxo * nyo) || nc > MG_VOLUME_MAX_VOXELS / (nxo * nyo * nzo)) {
        mg_seterr(err, errlen, "output grid too large (%lldx%lldx%lld)",
               (long long)nxo, (long long)nyo, (long long)nzo);
        return NULL;
    }
    float *out = malloc((size_t)(nxo * nyo * nzo * nc) * sizeof *out);
    if (!out) mg_seterr(err, errlen, "out of memory");
    return out;
}

static int resample_maps(mg_volume *v, const mg_axis_map m[3], mg_pool *pool, char *err, size_t errlen)
{
    float *out = resample_out(m, v->nc, err, errlen);
    if (!out) return -1;
    size_t vin = (size_t)(v->nx * v->ny * v->nz), vout = (size_t)(m[0].n_out * m[1].n_out * m[2].n_out);
    for (int64_t c = 0; c < v->nc; c++)
        if (resample_run(v->data + c * vin, 0, v->nx, v->ny, m, out + c * vout, 0, m[2].n_out, pool) < 0) {
            free(out);
            mg_seterr(err, errlen, "out of memory");
            return -1;
        }
    volume_replace(v, out, m[0].n_out, m[1].n_out, m[2].n_out);
    return 0;
}

/* Slices per slab: MG_VOLUME_SLAB_BYTES of floats, at least two (the two
 * neighbours of one output slice). */
static int64_t slab_slices(int64_t nx, int64_t ny, int64_t nz)
{
    int64_t k = (int64_t)(MG_VOLUME_SLAB_BYTES / sizeof(float)) / (nx * ny);
    if (k < 2) k = 2;
    return k < nz ? k : nz;
}

/* resample_maps over a source: per channel, runs of output slices whose
 * input slices fit in one slab; slices shared with the previous run are kept,
 * so the source is read once, in order. */
static float *resample_src(const mg_volume_src *s, const mg_axis_map m[3], mg_pool *pool,
                           char *err, size_t errlen)
{
    float *out = resample_out(m, s->nc, err, errlen);
    if (!out) return NULL;
    size_t nxy = (size_t)(s->nx * s->ny), vout = (size_t)(m[0].n_out * m[1].n_out * m[2].n_out);
    int64_t cap = slab_slices(s->nx, s->ny, s->nz), nzo = m[2].n_out;
    float *slab = malloc((size_t)cap * nxy * sizeof *slab);
    if (!slab) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    for (int64_t c = 0; c < s->nc; c++) {
        int64_t h0 = 0, h1 = 0;                /* slices [h0, h1) held */
        for (int64_t zs = 0; zs < nzo;) {
            int64_t lo = m[2].i0[zs], hi = m[2].i1[zs], ze = zs + 1;
            for (; ze < nzo; ze++) {
                int64_t l = m[2].i0[ze] < lo ? m[2].i0[ze] : lo, h = m[2].i1[ze] > hi ? m[2].i1[ze] : hi;
                if (h - l + 1 > cap) break;
                lo = l; hi = h;
            }
            int64_t keep = lo >= h0 && lo < h1 ? h1 - lo : 0, from = lo + keep;
            if (keep) memmove(slab, slab + (size_t)(lo - h0) * nxy, (size_t)keep * nxy * sizeof *slab);
            if (hi + 1 > from && s->read(s->ctx, c, from, hi + 1 - from, slab + (size_t)keep * nxy, err, errlen) < 0)
                goto fail;
            h0 = lo;
            h1 = hi + 1 > from ? hi + 1 : from;
            if (resample_run(slab, lo, s->nx, s->ny, m, out + c * vout, zs, ze, pool) < 0) {
                mg_seterr(err, errlen, "out of memory");
                goto fail;
            }
            zs = ze;
        }
    }
    free(slab);
    return out;
fail:
    free(slab);
    free(out);
    return NULL;
}

static int check_spacing(const double sp[3], char *err, size_t errlen, const char *what)
{
    for (int i = 0; i < 3; i++)
        if (!isfinite(sp[i]) || sp[i] <= 0) {
            mg_seterr(err, errlen, "%s spacing %g is not a positive number", what, sp[i]);
            return -1;
        }
    return 0;
}

/* Axis maps and output affine of a resize to no[] on torch interpolate's grid. */
static int torch_plan(const int64_t n[3], double affine[16], const int64_t no[3], mg_interp mode,
                      mg_axis_map m[3], char *err, size_t errlen)
{
    for (int a = 0; a < 3; a++) {
        if (no[a] <= 0 || no[a] > MG_VOLUME_MAX_VOXELS) {
            mg_seterr(err, errlen, "bad output size %lld", (long long)no[a]);
            return -1;
        }
        if (axis_map_torch(&m[a], n[a], no[a], mode) < 0) { mg_seterr(err, errlen, "out of memory"); return -1; }
    }
    /* output voxel u sits at input coordinate (u+0.5)*s-0.5 */
    double mm[16] = {0};
    for (int a = 0; a < 3; a++) {
        double s = (double)n[a] / (double)no[a];
        mm[a * 4 + a] = s;
        mm[a * 4 + 3] = 0.5 * s - 0.5;
    }
    mm[15] = 1;
    affine_mul(affine, mm);
    return 0;
}

/* Axis maps and output affine (updated in place) of a resampling to spacing
 * sp_out, on MONAI's grid or (torch_grid) torch interpolate's. */
static int spacing_plan(const int64_t n[3], double affine[16], const double sp_out[3], mg_interp mode,
                        int torch_grid, mg_axis_map m[3], char *err, size_t errlen)
{
    double sp_in[3];
    affine_spacing(affine, sp_in);
    if (check_spacing(sp_in, err, errlen, "input voxel") < 0 ||
        check_spacing(sp_out, err, errlen, "target") < 0) return -1;
    if (torch_grid) {
        int64_t no[3];
        for (int a = 0; a < 3; a++) {
            double e = (double)n[a] * sp_in[a] / sp_out[a];
            if (e > (double)MG_VOLUME_MAX_VOXELS) { mg_seterr(err, errlen, "output grid too large"); return -1; }
            no[a] = (int64_t)e;                      /* CT-CLIP: int(n * s_in / s_out) */
            if (no[a] < 1) no[a] = 1;
        }
        return torch_plan(n, affine, no, mode, m, err, errlen);
    }
    for (int a = 0; a < 3; a++) {
        /* MONAI compute_shape_offset: extent of the voxel centres in output
         * voxels, np.round (half to even) + 1. */
        double ext = (double)(n[a] - 1) * sp_in[a] / sp_out[a];
        if (ext > (double)MG_VOLUME_MAX_VOXELS) { mg_seterr(err, errlen, "output grid too large"); return -1; }
        int64_t no = (int64_t)nearbyint(ext) + 1;
        if (axis_map_affine(&m[a], n[a], no, sp_out[a] / sp_in[a], 0.0, mode) < 0) {
            mg_seterr(err, errlen, "out of memory");
            return -1;
        }
    }
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++) affine[i * 4 + j] *= sp_out[j] / sp_in[j];
    return 0;
}

static int resample_volume(mg_volume *v, const double sp_out[3], mg_interp mode, int torch_grid,
                           mg_pool *pool, char *err, size_t errlen)
{
    int64_t n[3] = { v->nx, v->ny, v->nz };
    mg_axis_map m[3] = {{0}};
    double aff[16];
    memcpy(aff, v->affine, sizeof aff);
    int rc = -1;
    if (spacing_plan(n, aff, sp_out, mode, torch_grid, m, err, errlen) < 0 ||
        resample_maps(v, m, pool, err, errlen) < 0) goto out;
    memcpy(v->affine, aff, sizeof aff);
    rc = 0;
out:
    for (int a = 0; a < 3; a++) axis_map_free(&m[a]);
    return rc;
}

int mg_volume_resample_spacing(mg_volume *v, const double sp_out[3], mg_interp mode,
                               mg_pool *pool, char *err, size_t errlen)
{
    return resample_volume(v, sp_out, mode, 0, pool, err, errlen);
}

int mg_volume_resample_spacing_scaled(mg_volume *v, const double sp_out[3], mg_interp mode,
                                      mg_pool *pool, char *err, size_t errlen)
{
    return resample_volume(v, sp_out, mode, 1, pool, err, errlen);
}

int mg_volume_resize(mg_volume *v, int64_t nx, int64_t ny, int64_t nz, mg_interp mode,
                     mg_pool *pool, char *err, size_t errlen)
{
    int64_t n[3] = { v->nx, v->ny, v->nz }, no[3] = { nx, ny, nz };
    mg_axis_map m[3] = {{0}};
    double aff[16];
    memcpy(aff, v->affine, sizeof aff);
    int rc = -1;
    if (torch_plan(n, aff, no, mode, m, err, errlen) < 0 || resample_maps(v, m, pool, err, errlen) < 0) goto out;
    memcpy(v->affine, aff, sizeof aff);
    rc = 0;
out:
    for (int a = 0; a < 3; a++) axis_map_free(&m[a]);
    return rc;
}

mg_volume *mg_volume_src_resample_spacing(const mg_volume_src *s, const double sp_out[3], mg_interp mode,
                                          int torch_grid, mg_pool *pool, char *err, size_t errlen)
{
    int64_t n[3] = { s->nx, s->ny, s->nz };
    mg_axis_map m[3] = {{0}};
    mg_volume *v = NULL;
    double aff[16];
    memcpy(aff, s->affine, sizeof aff);
    if (spacing_plan(n, aff, sp_out, mode, torch_grid, m, err, errlen) < 0) goto out;
    float *d = resample_src(s, m, pool, err, errlen);
    if (!d) goto out;
    v = mg_volume_wrap(m[0].n_out, m[1].n_out, m[2].n_out, s->nc, d);
    if (!v) { free(d); mg_seterr(err, errlen, "out of memory"); goto out; }
    memcpy(v->affine, aff, sizeof aff);
out:
    for (int a = 0; a < 3; a++) axis_map_free(&m[a]);
    return v;
}

mg_volume *mg_volume_src_load(const mg_volume_src *s, char *err, size_t errlen)
{
    mg_volume *v = mg_volume_new(s->nx, s->ny, s->nz, s->nc);
    if (!v) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    memcpy(v->affine, s->affine, sizeof v->affine);
    size_t nxy = (size_t)(s->nx * s->ny);
    int64_t k = slab_slices(s->nx, s->ny, s->nz);
    for (int64_t c = 0; c < s->nc; c++)
        for (int64_t z = 0; z < s->nz; z += k) {
            int64_t n = s->nz - z < k ? s->nz - z : k;
            if (s->read(s->ctx, c, z, n, v->data + (size_t)(c * s->nz + z) * nxy, err, errlen) < 0) {
                mg_volume_free(v);
                return NULL;
            }
        }
    return v;
}

/* ---------------------------------------------------------- intensities */

void mg_volume_window(mg_volume *v, double lo, double hi, double out_lo, double out_hi)
{
    size_t n = (size_t)(v->nx * v->ny * v->nz * v->nc);
    double f = (out_hi - out_lo) / (hi - lo);
    for (size_t i = 0; i < n; i++) {
        double x = v->data[i];
        if (x < lo) x = lo;
        if (x > hi) x = hi;
        if (isnan(x)) x = lo;
        v->data[i] = (float)((x - lo) * f + out_lo);
    }
}

void mg_volume_minmax(mg_volume *v)
{
    size_t n = (size_t)(v->nx * v->ny * v->nz * v->nc);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (v->data[i] < lo) lo = v->data[i];
        if (v->data[i] > hi) hi = v->data[i];
    }
    double r = hi - lo;
    for (size_t i = 0; i < n; i++) v->data[i] = r > 0 ? (float)((v->data[i] - lo) / r) : 0.0f;
}

/* Copy the box [o, o+n) of v (clamped; outside voxels = pad) into a new buffer. */
static int extract_box(mg_volume *v, const int64_t o[3], const int64_t nn[3], float pad,
                       char *err, size_t errlen)
{
    if (nn[0] <= 0 || nn[1] <= 0 || nn[2] <= 0 || nn[0] > MG_VOLUME_MAX_VOXELS / nn[1] ||
        nn[2] > MG_VOLUME_MAX_VOXELS / (nn[0] * nn[1]) ||
        v->nc > MG_VOLUME_MAX_VOXELS / (nn[0] * nn[1] * nn[2])) {
        mg_seterr(err, errlen, "bad output size");
        return -1;
    }
    size_t plane = (size_t)(nn[0] * nn[1] * nn[2]);
    float *nd = malloc(plane * v->nc * sizeof *nd);
    if (!nd) { mg_seterr(err, errlen, "out of memory"); return -1; }
    for (int64_t c = 0; c < v->nc; c++)
        for (int64_t k = 0; k < nn[2]; k++)
            for (int64_t j = 0; j < nn[1]; j++) {
                float *dst = nd + (size_t)c * plane + (size_t)((k * nn[1] + j) * nn[0]);
                int64_t sz = k + o[2], sy = j + o[1];
                for (int64_t i = 0; i < nn[0]; i++) {
                    int64_t sx = i + o[0];
                    dst[i] = (sx < 0 || sy < 0 || sz < 0 || sx >= v->nx || sy >= v->ny || sz >= v->nz)
                        ? pad : v->data[(size_t)(((c * v->nz + sz) * v->ny + sy) * v->nx + sx)];
                }
            }
    /* new voxel u = old voxel u + o */
    double m[16] = {0};
    for (int a = 0; a < 3; a++) { m[a * 4 + a] = 1; m[a * 4 + 3] = (double)o[a]; }
    m[15] = 1;
    affine_mul(v->affine, m);
    volume_replace(v, nd, nn[0], nn[1], nn[2]);
    return 0;
}

int mg_volume_crop_foreground(mg_volume *v, double threshold, char *err, size_t errlen)
{
    int64_t lo[3] = { v->nx, v->ny, v->nz }, hi[3] = { -1, -1, -1 };
    for (int64_t c = 0; c < v->nc; c++)
        for (int64_t k = 0; k < v->nz; k++)
            for (int64_t j = 0; j < v->ny; j++) {
                const float *row = v->data + (size_t)(((c * v->nz + k) * v->ny + j) * v->nx);
                for (int64_t i = 0; i < v->nx; i++) {
                    if (!(row[i] > threshold)) continue;
                    if (i < lo[0]) lo[0] = i;
                    if (i > hi[0]) hi[0] = i;
                    if (j < lo[1]) lo[1] = j;
                    if (j > hi[1]) hi[1] = j;
                    if (k < lo[2]) lo[2] = k;
                    if (k > hi[2]) hi[2] = k;
                }
            }
    if (hi[0] < 0) return 0;
    int64_t nn[3] = { hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1 };
    return extract_box(v, lo, nn, 0.0f, err, errlen);
}

int mg_volume_crop_pad(mg_volume *v, int64_t nx, int64_t ny, int64_t nz, float pad,
                       char *err, size_t errlen)
{
    int64_t n[3] = { v->nx, v->ny, v->nz }, want[3] = { nx, ny, nz }, o[3];
    for (int a = 0; a < 3; a++) {
        if (want[a] >= n[a]) o[a] = -((want[a] - n[a]) / 2);       /* SpatialPad */
        else o[a] = n[a] / 2 - want[a] / 2;                       /* CenterSpatialCrop */
    }
    return extract_box(v, o, want, pad, err, errlen);
}

int64_t mg_slice_indices(int64_t nz, int64_t n, int64_t *idx)
{
    if (nz <= n) {
        for (int64_t k = 0; k < nz; k++) idx[k] = k;
        return nz;
    }
    if (n == 1) { idx[0] = 0; return 1; }
    double step = (double)(nz - 1) / (double)(n - 1);
    for (int64_t k = 0; k < n; k++) idx[k] = (int64_t)nearbyint((double)k * step);
    idx[n - 1] = nz - 1;
    return n;
}

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

void mg_volume_spacing(const mg_volume *v, double sp[3])
{
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int i = 0; i < 3; i++) s += v->affine[i * 4 + j] * v->affine[i * 4 + j];
        sp[j] = sqrt(s);
    }
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
    int64_t n_in[3] = { v->nx, v->ny, v->nz }, n_out[3];
    int src_of[3];                       /* output axis j comes from input axis src_of[j] */
    for (int a = 0; a < 3; a++) { n_out[axis[a]] = n_in[a]; src_of[axis[a]] = a; }
    size_t vox = (size_t)(v->nx * v->ny * v->nz);
    float *nd = malloc(vox * v->nc * sizeof *nd);
    if (!nd) { mg_seterr(err, errlen, "out of memory"); return -1; }
    int64_t stride_in[3] = { 1, v->nx, v->nx * v->ny };
    /* input offset for output index u_j along axis j: flipped when the input
     * axis points the negative way. */
    int64_t step[3], start[3];
    for (int j = 0; j < 3; j++) {
        int a = src_of[j];
        step[j] = sign[a] > 0 ? stride_in[a] : -stride_in[a];
        start[j] = sign[a] > 0 ? 0 : (n_in[a] - 1) * stride_in[a];
    }
    for (int64_t c = 0; c < v->nc; c++) {
        const float *src = v->data + (size_t)c * vox;
        float *dst = nd + (size_t)c * vox;
        size_t o = 0;
        for (int64_t k = 0; k < n_out[2]; k++)
            for (int64_t j = 0; j < n_out[1]; j++) {
                int64_t base = start[0] + start[1] + start[2] + k * step[2] + j * step[1];
                for (int64_t i = 0; i < n_out[0]; i++) dst[o++] = src[base + i * step[0]];
            }
    }
    /* new voxel u -> old voxel i: i_a = u_axis[a] or n_a-1-u_axis[a] */
    double m[16] = {0};
    for (int a = 0; a < 3; a++) {
        m[a * 4 + axis[a]] = sign[a];
        m[a * 4 + 3] = sign[a] > 0 ? 0 : (double)(n_in[a] - 1);
    }
    m[15] = 1;
    affine_mul(v->affine, m);
    volume_replace(v, nd, n_out[0], n_out[1], n_out[2]);
    return 0;
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
    const mg_volume *v;
    const mg_axis_map *mx, *my, *mz;
    float *out;
    int64_t c, z0, z1;             /* channel, output slice range */
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
    const mg_volume *v = j->v;
    const mg_axis_map *mx = j->mx, *my = j->my;
    const float *src = v->data + (size_t)((j->c * v->nz + iz) * v->ny * v->nx);
    int64_t nxo = mx->n_out, nyo = my->n_out;
    for (int64_t y = 0; y < v->ny; y++) {
        const float *row = src + (size_t)(y * v->nx);
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
    float *tmp = malloc((size_t)(j->v->ny * nxo) * sizeof *tmp);
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
        float *o = j->out + (size_t)((j->c * j->mz->n_out + z) * plane);
        lerp_rows(o, s[0], s[1], w, plane);
    }
done:
    free(tmp); free(slot[0]); free(slot[1]);
}

static int resample_maps(mg_volume *v, const mg_axis_map *mx, const mg_axis_map *my,
                         const mg_axis_map *mz, mg_pool *pool, char *err, size_t errlen)
{
    int64_t nxo = mx->n_out, nyo = my->n_out, nzo = mz->n_out;
    if (nxo <= 0 || nyo <= 0 || nzo <= 0 || nxo > MG_VOLUME_MAX_VOXELS / nyo ||
        nzo > MG_VOLUME_MAX_VOXELS / (nxo * nyo) || v->nc > MG_VOLUME_MAX_VOXELS / (nxo * nyo * nzo)) {
        mg_seterr(err, errlen, "output grid too large (%lldx%lldx%lld)",
               (long long)nxo, (long long)nyo, (long long)nzo);
        return -1;
    }
    float *out = malloc((size_t)(nxo * nyo * nzo * v->nc) * sizeof *out);
    if (!out) { mg_seterr(err, errlen, "out of memory"); return -1; }
    /* one contiguous share of output slices per worker */
    int threads = mg_pool_threads(pool);
    if (threads > nzo) threads = (int)nzo;
    rs_job *jobs = calloc((size_t)threads, sizeof *jobs);
    int failed = !jobs;
    for (int64_t c = 0; c < v->nc && !failed; c++) {
        for (int t = 0; t < threads; t++) {
            rs_job *j = &jobs[t];
            j->v = v; j->mx = mx; j->my = my; j->mz = mz; j->out = out; j->c = c;
            j->z0 = nzo * t / threads; j->z1 = nzo * (t + 1) / threads; j->failed = 0;
        }
        mg_pool_for(pool, threads, rs_task, jobs);
        for (int t = 0; t < threads; t++) failed |= jobs[t].failed;
    }
    free(jobs);
    if (failed) { free(out); mg_seterr(err, errlen, "out of memory"); return -1; }
    volume_replace(v, out, nxo, nyo, nzo);
    return 0;
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

int mg_volume_resample_spacing(mg_volume *v, const double sp_out[3], mg_interp mode,
                               mg_pool *pool, char *err, size_t errlen)
{
    double sp_in[3];
    mg_volume_spacing(v, sp_in);
    if (check_spacing(sp_in, err, errlen, "input voxel") < 0 ||
        check_spacing(sp_out, err, errlen, "target") < 0) return -1;
    int64_t n[3] = { v->nx, v->ny, v->nz };
    mg_axis_map m[3] = {{0}};
    int rc = -1;
    for (int a = 0; a < 3; a++) {
        /* MONAI compute_shape_offset: extent of the voxel centres in output
         * voxels, np.round (half to even) + 1. */
        double ext = (double)(n[a] - 1) * sp_in[a] / sp_out[a];
        if (ext > (double)MG_VOLUME_MAX_VOXELS) { mg_seterr(err, errlen, "output grid too large"); goto out; }
        int64_t no = (int64_t)nearbyint(ext) + 1;
        if (axis_map_affine(&m[a], n[a], no, sp_out[a] / sp_in[a], 0.0, mode) < 0) {
            mg_seterr(err, errlen, "out of memory");
            goto out;
        }
    }
    if (resample_maps(v, &m[0], &m[1], &m[2], pool, err, errlen) < 0) goto out;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++) v->affine[i * 4 + j] *= sp_out[j] / sp_in[j];
    rc = 0;
out:
    for (int a = 0; a < 3; a++) axis_map_free(&m[a]);
    return rc;
}

static int resize_torch(mg_volume *v, const int64_t no[3], mg_interp mode, mg_pool *pool,
                        char *err, size_t errlen)
{
    int64_t n[3] = { v->nx, v->ny, v->nz };
    mg_axis_map m[3] = {{0}};
    int rc = -1;
    for (int a = 0; a < 3; a++) {
        if (no[a] <= 0 || no[a] > MG_VOLUME_MAX_VOXELS) {
            mg_seterr(err, errlen, "bad output size %lld", (long long)no[a]);
            goto out;
        }
        if (axis_map_torch(&m[a], n[a], no[a], mode) < 0) { mg_seterr(err, errlen, "out of memory"); goto out; }
    }
    if (resample_maps(v, &m[0], &m[1], &m[2], pool, err, errlen) < 0) goto out;
    /* output voxel u sits at input coordinate (u+0.5)*s-0.5 */
    double mm[16] = {0};
    for (int a = 0; a < 3; a++) {
        double s = (double)n[a] / (double)no[a];
        mm[a * 4 + a] = s;
        mm[a * 4 + 3] = 0.5 * s - 0.5;
    }
    mm[15] = 1;
    affine_mul(v->affine, mm);
    rc = 0;
out:
    for (int a = 0; a < 3; a++) axis_map_free(&m[a]);
    return rc;
}

int mg_volume_resize(mg_volume *v, int64_t nx, int64_t ny, int64_t nz, mg_interp mode,
                     mg_pool *pool, char *err, size_t errlen)
{
    int64_t no[3] = { nx, ny, nz };
    return resize_torch(v, no, mode, pool, err, errlen);
}

int mg_volume_resample_spacing_scaled(mg_volume *v, const double sp_out[3], mg_interp mode,
                                      mg_pool *pool, char *err, size_t errlen)
{
    double sp_in[3];
    mg_volume_spacing(v, sp_in);
    if (check_spacing(sp_in, err, errlen, "input voxel") < 0 ||
        check_spacing(sp_out, err, errlen, "target") < 0) return -1;
    int64_t n[3] = { v->nx, v->ny, v->nz }, no[3];
    for (int a = 0; a < 3; a++) {
        double e = (double)n[a] * sp_in[a] / sp_out[a];
        if (e > (double)MG_VOLUME_MAX_VOXELS) { mg_seterr(err, errlen, "output grid too large"); return -1; }
        no[a] = (int64_t)e;                      /* CT-CLIP: int(n * s_in / s_out) */
        if (no[a] < 1) no[a] = 1;
    }
    return resize_torch(v, no, mode, pool, err, errlen);
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

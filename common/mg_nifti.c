/* mg_nifti.c: NIfTI-1/2 volumes through libnifti2 (see mg_nifti.h). */
#include "mg_nifti.h"
#include "mg_err.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nifti2_io.h>
#include <zlib.h>

/* Sample k of the raw buffer as double; -1 type code means unsupported. */
static int sample_reader_ok(int dt)
{
    switch (dt) {
    case DT_UINT8: case DT_INT8: case DT_INT16: case DT_UINT16: case DT_INT32:
    case DT_UINT32: case DT_INT64: case DT_UINT64: case DT_FLOAT32: case DT_FLOAT64:
    case DT_RGB24: case DT_RGBA32:
        return 1;
    default:
        return 0;
    }
}

static double raw_sample(const void *p, int dt, size_t k)
{
    switch (dt) {
    case DT_UINT8: case DT_RGB24: case DT_RGBA32: return ((const uint8_t *)p)[k];
    case DT_INT8: return ((const int8_t *)p)[k];
    case DT_INT16: return ((const int16_t *)p)[k];
    case DT_UINT16: return ((const uint16_t *)p)[k];
    case DT_INT32: return ((const int32_t *)p)[k];
    case DT_UINT32: return ((const uint32_t *)p)[k];
    case DT_INT64: return (double)((const int64_t *)p)[k];
    case DT_UINT64: return (double)((const uint64_t *)p)[k];
    case DT_FLOAT32: return ((const float *)p)[k];
    default: return ((const double *)p)[k];
    }
}

/* pixdim[1..3] as stored: libnifti replaces zero or non-finite values by 1
 * in nifti_image, nibabel does not. */
static void swap_bytes(void *p, size_t n)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = b[i];
        b[i] = b[n - 1 - i];
        b[n - 1 - i] = t;
    }
}

/* The header's dims and pixdim[1..3] in host order, read here rather than by
 * nifti_read_header, which prints on a short header whatever the debug level.
 * Layouts (nifti1.h, nifti2.h): sizeof_hdr at 0; NIfTI-1 dim int16[8] at 40,
 * pixdim float[8] at 76; NIfTI-2 dim int64[8] at 16, pixdim double[8] at 104.
 * -1 not NIfTI, -2 truncated. */
typedef struct {
    int64_t dim[8];
    double pd[3];             /* pixdim[1..3] */
    int datatype;
    double vox_offset;
    int hdr_size;             /* 348 or 540 */
    int compressed;
} raw_hdr;

/* Read a gzip file to its end so that zlib checks every member's trailer
 * (CRC-32 and ISIZE, RFC 1952 s2.3.1): gzread() reports a mismatch only when
 * it reaches the trailer, and libnifti stops reading after the voxel data, so
 * damage anywhere before the trailer would otherwise go unnoticed. */
static int gz_verify(const char *path, char *err, size_t errlen)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz) { mg_seterr(err, errlen, "cannot open: %s", strerror(errno)); return -1; }
    gzbuffer(gz, 1 << 17);
    static __thread unsigned char buf[1 << 16];
    int k;
    while ((k = gzread(gz, buf, sizeof buf)) > 0) {}
    int zerr = Z_OK;
    const char *msg = gzerror(gz, &zerr);
    int bad = k < 0 || (zerr != Z_OK && zerr != Z_STREAM_END);
    if (bad) {
        const char *c = strstr(msg, ": ");      /* zlib prefixes the path */
        if (c) msg = c + 2;
        if (zerr == Z_BUF_ERROR) mg_seterr(err, errlen, "truncated gzip stream (%s)", msg);
        else mg_seterr(err, errlen, "corrupt gzip stream (%s)", msg);
    }
    gzclose(gz);
    return bad ? -1 : 0;
}

static int raw_header(const char *path, raw_hdr *r)
{
    unsigned char b[540];
    gzFile gz = gzopen(path, "rb");
    if (!gz) return -1;
    int n = gzread(gz, b, sizeof b);
    r->compressed = !gzdirect(gz);
    gzclose(gz);
    int64_t *dim = r->dim;
    double *pd = r->pd;
    if (n < 4) return -2;
    int32_t sz;
    memcpy(&sz, b, 4);
    int sw = 0;
    if (sz != 348 && sz != 540) { swap_bytes(&sz, 4); sw = 1; }
    if (sz != 348 && sz != 540) return -1;
    if (n < sz) return -2;
    r->hdr_size = sz;
    int16_t dt;
    memcpy(&dt, b + (sz == 540 ? 12 : 70), 2);
    if (sw) swap_bytes(&dt, 2);
    r->datatype = dt;
    if (sz == 540) {
        int64_t vo;
        memcpy(&vo, b + 168, 8);
        if (sw) swap_bytes(&vo, 8);
        r->vox_offset = (double)vo;
    } else {
        float vo;
        memcpy(&vo, b + 108, 4);
        if (sw) swap_bytes(&vo, 4);
        r->vox_offset = vo;
    }
    for (int i = 0; i < 8; i++) {
        if (sz == 540) {
            int64_t d;
            double q;
            memcpy(&d, b + 16 + 8 * i, 8);
            memcpy(&q, b + 104 + 8 * i, 8);
            if (sw) { swap_bytes(&d, 8); swap_bytes(&q, 8); }
            dim[i] = d;
            if (i >= 1 && i <= 3) pd[i - 1] = q;
        } else {
            int16_t d;
            float q;
            memcpy(&d, b + 40 + 2 * i, 2);
            memcpy(&q, b + 76 + 4 * i, 4);
            if (sw) { swap_bytes(&d, 2); swap_bytes(&q, 4); }
            dim[i] = d;
            if (i >= 1 && i <= 3) pd[i - 1] = q;
        }
    }
    return 0;
}

/* nibabel shape_zoom_affine(shape, zooms, x_flip=True): diag(-zx, zy, zz),
 * origin -(n-1)/2 * zoom per axis. */
static void fallback_affine(const nifti_image *nim, const double pd[3], double a[16])
{
    double n[3] = { (double)nim->nx, (double)nim->ny, (double)nim->nz };
    double z[3] = { pd[0], pd[1], pd[2] };
    if (nim->ndim < 2) { n[1] = 1; z[1] = 1; }
    if (nim->ndim < 3) { n[2] = 1; z[2] = 1; }
    z[0] = -z[0];
    memset(a, 0, 16 * sizeof *a);
    for (int i = 0; i < 3; i++) {
        a[i * 4 + i] = z[i];
        a[i * 4 + 3] = -(n[i] - 1) / 2.0 * z[i];
    }
    a[15] = 1;
}

static void dmat_to_affine(const nifti_dmat44 *m, double a[16])
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) a[i * 4 + j] = m->m[i][j];
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* libnifti finds files by their extension (.nii, .nii.gz), but inputs are
 * recognised by content: other names are read through a symbolic link with
 * the right extension in a private temporary directory. Returns the name to
 * read (path itself, or the link written into buf), NULL on failure. */
static const char *nifti_name(const char *path, char *dir, char *buf, size_t n)
{
    dir[0] = 0;
    if (has_suffix(path, ".nii") || has_suffix(path, ".nii.gz")) return path;
    unsigned char magic[2] = {0, 0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t k = fread(magic, 1, 2, fp);
    fclose(fp);
    int gz = k == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    char real[PATH_MAX];
    if (!realpath(path, real)) return NULL;
    const char *tmp = getenv("TMPDIR");
    if (snprintf(dir, PATH_MAX, "%s/mgnii.XXXXXX", tmp && *tmp ? tmp : "/tmp") >= PATH_MAX) return NULL;
    if (!mkdtemp(dir)) { dir[0] = 0; return NULL; }
    if (snprintf(buf, n, "%s/v%s", dir, gz ? ".nii.gz" : ".nii") >= (int)n || symlink(real, buf) < 0) {
        rmdir(dir);
        dir[0] = 0;
        return NULL;
    }
    return buf;
}

static void nifti_name_done(const char *dir, const char *link)
{
    if (!dir[0]) return;
    unlink(link);
    rmdir(dir);
}

static mg_volume *nifti_read_named(const char *path, mg_nifti_info *info, char *err, size_t errlen);

mg_volume *mg_nifti_read(const char *path, mg_nifti_info *info, char *err, size_t errlen)
{
    char dir[PATH_MAX], link[PATH_MAX + 16];
    const char *name = nifti_name(path, dir, link, sizeof link);
    if (!name) { mg_seterr(err, errlen, "cannot prepare the file for libnifti"); return NULL; }
    mg_volume *v = nifti_read_named(name, info, err, errlen);
    nifti_name_done(dir, link);
    return v;
}

static mg_volume *nifti_read_named(const char *path, mg_nifti_info *info, char *err, size_t errlen)
{
    mg_nifti_info tmp;
    if (!info) info = &tmp;
    memset(info, 0, sizeof *info);
    mg_volume *v = NULL;
    nifti_set_debug_level(0);        /* libnifti prints nothing; errors are ours */
    /* Check the stored dimensions before libnifti converts the header: it
     * prints about a bad dim[0] whatever the debug level, and a NIfTI-2
     * dim[0] far out of range overflows its stack. */
    raw_hdr rh;
    int hr = raw_header(path, &rh);
    if (hr < 0) {
        mg_seterr(err, errlen, hr == -2 ? "truncated NIfTI header" : "not a readable NIfTI header");
        return NULL;
    }
    const int64_t *rdim = rh.dim;
    const double *pd = rh.pd;
    if (rdim[0] < 1 || rdim[0] > 7) {
        mg_seterr(err, errlen, "bad number of dimensions %lld in the header", (long long)rdim[0]);
        return NULL;
    }
    double nbytes = 1;
    uint64_t nstored = 1;
    for (int i = 1; i <= rdim[0]; i++) {
        if (rdim[i] <= 0) { mg_seterr(err, errlen, "dimension %d is %lld", i, (long long)rdim[i]); return NULL; }
        nbytes *= (double)rdim[i];
        /* Checked product of every stored dimension: libnifti multiplies them
         * in int64 (overflowing for NIfTI-2 dims such as 2^32 x 2^32) and
         * allocates what results, so the bound is enforced before it runs. */
        if (__builtin_mul_overflow(nstored, (uint64_t)rdim[i], &nstored) || nstored > (uint64_t)MG_VOLUME_MAX_VOXELS) {
            char dims[160];
            int o = 0;
            for (int j = 1; j <= rdim[0] && o < (int)sizeof dims - 24; j++)
                o += snprintf(dims + o, sizeof dims - o, "%s%lld", j > 1 ? "x" : "", (long long)rdim[j]);
            mg_seterr(err, errlen, "volume too large (%s voxels; at most %lld)", dims, (long long)MG_VOLUME_MAX_VOXELS);
            return NULL;
        }
    }
    if (!sample_reader_ok(rh.datatype)) {
        mg_seterr(err, errlen, "unsupported NIfTI datatype %d", rh.datatype);
        return NULL;
    }
    /* libnifti prints when it cannot seek to the data: check that first */
    if (!(rh.vox_offset >= rh.hdr_size) || rh.vox_offset > 1e15) {
        mg_seterr(err, errlen, "bad vox_offset %g in the header", rh.vox_offset);
        return NULL;
    }
    if (!rh.compressed) {
        struct stat st;
        int bpv = 1;
        nifti_datatype_sizes(rh.datatype, &bpv, NULL);
        nbytes *= bpv;
        if (stat(path, &st) == 0 && rh.vox_offset + nbytes > (double)st.st_size &&
            nbytes <= (double)MG_VOLUME_MAX_VOXELS * 8) {
            mg_seterr(err, errlen, "truncated file: %.0f bytes of voxel data expected, %.0f present",
                   nbytes, (double)st.st_size - rh.vox_offset);
            return NULL;
        }
    }
    if (rh.compressed && gz_verify(path, err, errlen) < 0) return NULL;
    nifti_image *nim = nifti_image_read(path, 0);
    if (!nim) { mg_seterr(err, errlen, "not a readable NIfTI header (corrupt or truncated)"); return NULL; }
    info->nifti_version = nim->nifti_type >= 4 ? 2 : 1;
    info->datatype = nim->datatype;
    for (int i = 0; i < 8; i++) info->dim[i] = nim->dim[i];
    info->sform_code = nim->sform_code;
    info->qform_code = nim->qform_code;
    if (!sample_reader_ok(nim->datatype)) {
        mg_seterr(err, errlen, "unsupported NIfTI datatype %d (%s)", nim->datatype,
               nifti_datatype_string(nim->datatype));
        goto fail;
    }
    if (nim->ndim < 1 || nim->ndim > 5) {
        mg_seterr(err, errlen, "unsupported number of dimensions %lld", (long long)nim->ndim);
        goto fail;
    }
    for (int i = 1; i <= nim->ndim; i++)
        if (nim->dim[i] <= 0) { mg_seterr(err, errlen, "dimension %d is %lld", i, (long long)nim->dim[i]); goto fail; }
    int64_t nx = nim->nx, ny = nim->ndim >= 2 ? nim->ny : 1, nz = nim->ndim >= 3 ? nim->nz : 1;
    int64_t nc;                /* dims were bounded above, but check anyway */
    if (__builtin_mul_overflow((int64_t)(nim->ndim >= 4 ? nim->nt : 1), (int64_t)(nim->ndim >= 5 ? nim->nu : 1), &nc)) {
        mg_seterr(err, errlen, "volume too large");
        goto fail;
    }
    int rgb = nim->datatype == DT_RGB24 ? 3 : nim->datatype == DT_RGBA32 ? 4 : 0;
    int64_t ncc = rgb ? nc * rgb : nc;
    double nvox = (double)nx * (double)ny * (double)nz * (double)ncc;
    if (nvox > (double)MG_VOLUME_MAX_VOXELS) {
        mg_seterr(err, errlen, "volume too large (%lldx%lldx%lldx%lld voxels)",
               (long long)nx, (long long)ny, (long long)nz, (long long)ncc);
        goto fail;
    }
    /* Choose the affine before loading the data: a bad geometry fails fast. */
    double aff[16];
    if (nim->sform_code > 0) {
        dmat_to_affine(&nim->sto_xyz, aff);
        info->source = MG_AFFINE_SFORM;
        if (nim->qform_code > 0) {
            double q[16], d = 0;
            dmat_to_affine(&nim->qto_xyz, q);
            for (int i = 0; i < 12; i++) if (fabs(q[i] - aff[i]) > d) d = fabs(q[i] - aff[i]);
            info->qs_diff = d;
        }
    } else if (nim->qform_code > 0) {
        /* libnifti silently replaces pixdim <= 0 by 1 in the qform; nibabel
         * refuses such headers, and so do we. */
        for (int i = 0; i < 3 && i < nim->ndim; i++)
            if (!isfinite(pd[i]) || pd[i] <= 0) {
                mg_seterr(err, errlen, "pixdim[%d] = %g: voxel spacing must be positive", i + 1, pd[i]);
                goto fail;
            }
        dmat_to_affine(&nim->qto_xyz, aff);
        info->source = MG_AFFINE_QFORM;
    } else {
        fallback_affine(nim, pd, aff);
        info->source = MG_AFFINE_FALLBACK;
    }
    for (int i = 0; i < 16; i++)
        if (!isfinite(aff[i])) { mg_seterr(err, errlen, "non-finite value in the voxel-to-world affine"); goto fail; }
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int i = 0; i < 3; i++) s += aff[i * 4 + j] * aff[i * 4 + j];
        if (!(s > 0)) { mg_seterr(err, errlen, "zero voxel spacing along axis %d", j + 1); goto fail; }
    }
    if (nifti_image_load(nim) < 0 || !nim->data) {
        mg_seterr(err, errlen, "cannot read the voxel data (truncated or corrupt file)");
        goto fail;
    }
    double slope = nim->scl_slope, inter = nim->scl_inter;
    /* nibabel get_slope_inter: a zero or non-finite slope means no scaling. */
    int scale = !rgb && isfinite(slope) && slope != 0;
    if (!isfinite(inter)) inter = 0;
    if (scale && slope == 1 && inter == 0) scale = 0;     /* identity */
    info->scaled = scale;
    if (nim->datatype == DT_FLOAT32 && !scale) {
        /* float data as stored: take libnifti's buffer instead of copying it */
        v = mg_volume_wrap(nx, ny, nz, ncc, nim->data);
        if (!v) { mg_seterr(err, errlen, "out of memory"); goto fail; }
        nim->data = NULL;
        memcpy(v->affine, aff, sizeof aff);
        nifti_image_free(nim);
        return v;
    }
    v = mg_volume_new(nx, ny, nz, ncc);
    if (!v) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    memcpy(v->affine, aff, sizeof aff);
    size_t spatial = (size_t)(nx * ny * nz);
    if (rgb) {
        /* interleaved RGB(A) per voxel -> planar channels */
        for (int64_t c = 0; c < nc; c++)
            for (size_t i = 0; i < spatial; i++)
                for (int k = 0; k < rgb; k++)
                    v->data[(size_t)(c * rgb + k) * spatial + i] =
                        (float)raw_sample(nim->data, nim->datatype, ((size_t)c * spatial + i) * rgb + k);
    } else {
        size_t n = spatial * (size_t)nc;
        for (size_t i = 0; i < n; i++) {
            double x = raw_sample(nim->data, nim->datatype, i);
            v->data[i] = (float)(scale ? x * slope + inter : x);
        }
    }
    nifti_image_free(nim);
    return v;
fail:
    mg_volume_free(v);
    nifti_image_free(nim);
    return NULL;
}

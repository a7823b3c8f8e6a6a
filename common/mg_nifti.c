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

struct mg_nifti_file {
    nifti_image *nim;               /* header; nim->data only once loaded whole */
    mg_volume_src src;
    char dir[PATH_MAX], link[PATH_MAX + 16];   /* see nifti_name */
    int64_t nz, nxy;                /* stored slices per channel, voxels per slice */
    int rgb;                        /* 3 or 4 interleaved samples per voxel, else 0 */
    int scale;
    double slope, inter;
    znzFile fp;                     /* the voxel data, streamed */
    int gz;                         /* compressed: the stream only goes forward */
    int64_t pos;                    /* stored slice (c*nz+z) at the stream position */
    unsigned char *raw;
    size_t rawcap;
};

/* Sample k of stored data as float: libnifti's load replaces non-finite
 * float32/float64 voxels by 0 (nifti_read_buffer), and the streamed slabs do
 * the same, so a file reads alike either way; then y = slope*x + inter. */
static float stored_to_float(const mg_nifti_file *f, const void *p, size_t k)
{
    int dt = f->nim->datatype;
    double x = raw_sample(p, dt, k);
    if ((dt == DT_FLOAT32 || dt == DT_FLOAT64) && !isfinite(x)) x = 0;
    return (float)(f->scale ? x * f->slope + f->inter : x);
}

/* n samples from k0 on as float, as stored_to_float, one loop per type. */
#define CONVERT(T, FIX)                                                        \
    do {                                                                       \
        const T *q = (const T *)p + k0;                                        \
        for (size_t i = 0; i < n; i++) {                                       \
            double x = (double)q[i];                                           \
            if (FIX && !isfinite(x)) x = 0;                                    \
            dst[i] = (float)(f->scale ? x * f->slope + f->inter : x);          \
        }                                                                      \
    } while (0)

static void convert(const mg_nifti_file *f, const void *p, size_t k0, size_t n, float *dst)
{
    switch (f->nim->datatype) {
    case DT_UINT8: CONVERT(uint8_t, 0); break;
    case DT_INT8: CONVERT(int8_t, 0); break;
    case DT_INT16: CONVERT(int16_t, 0); break;
    case DT_UINT16: CONVERT(uint16_t, 0); break;
    case DT_INT32: CONVERT(int32_t, 0); break;
    case DT_UINT32: CONVERT(uint32_t, 0); break;
    case DT_INT64: CONVERT(int64_t, 0); break;
    case DT_UINT64: CONVERT(uint64_t, 0); break;
    case DT_FLOAT32: CONVERT(float, 1); break;
    default: CONVERT(double, 1); break;
    }
}

/* The whole stored volume, once: the fallback when a .nii.gz is asked for
 * slabs out of file order (a flipped slice axis), and for RGB channels. */
static int load_whole(mg_nifti_file *f, char *err, size_t errlen)
{
    if (f->nim->data) return 0;
    if (!znz_isnull(f->fp)) znzclose(f->fp);
    f->fp = NULL;
    free(f->raw);
    f->raw = NULL;
    f->rawcap = 0;
    if (nifti_image_load(f->nim) < 0 || !f->nim->data) {
        mg_seterr(err, errlen, "cannot read the voxel data (truncated or corrupt file)");
        return -1;
    }
    return 0;
}

/* Read stored slices [s0, s0+n) (channel-major index) from the stream into
 * f->raw, seeking there first (forward only in a .nii.gz). */
static int stream_slices(mg_nifti_file *f, int64_t s0, int64_t n, char *err, size_t errlen)
{
    nifti_image *nim = f->nim;
    size_t sb = (size_t)f->nxy * (size_t)nim->nbyper, need = sb * (size_t)n;
    if (znz_isnull(f->fp)) {
        f->fp = znzopen(nim->iname, "rb", f->gz);
        if (znz_isnull(f->fp) || znzseek(f->fp, (znz_off_t)nim->iname_offset, SEEK_SET) < 0) goto bad;
        f->pos = 0;
    }
    if (s0 != f->pos && (f->gz ? znzseek(f->fp, (znz_off_t)((size_t)(s0 - f->pos) * sb), SEEK_CUR)
                               : znzseek(f->fp, (znz_off_t)((size_t)nim->iname_offset + (size_t)s0 * sb), SEEK_SET)) < 0)
        goto bad;
    f->pos = s0;
    if (need > f->rawcap) {
        unsigned char *r = realloc(f->raw, need);
        if (!r) { mg_seterr(err, errlen, "out of memory"); return -1; }
        f->raw = r;
        f->rawcap = need;
    }
    if (znzread(f->raw, 1, need, f->fp) != need) goto bad;
    f->pos += n;
    if (nim->byteorder != nifti_short_order() && nim->swapsize > 1)
        nifti_swap_Nbytes((int64_t)(need / (size_t)nim->swapsize), nim->swapsize, f->raw);
    return 0;
bad:
    mg_seterr(err, errlen, "cannot read the voxel data (truncated or corrupt file)");
    return -1;
}

/* mg_volume_src read: slices z0.. of channel c as float. */
static int nifti_slab(void *ctx, int64_t c, int64_t z0, int64_t n, float *dst, char *err, size_t errlen)
{
    mg_nifti_file *f = ctx;
    size_t cnt = (size_t)(n * f->nxy);
    if (f->rgb) {
        /* interleaved RGB(A) per voxel -> planar channels */
        if (load_whole(f, err, errlen) < 0) return -1;
        int64_t cc = c / f->rgb, k = c % f->rgb;
        size_t base = (size_t)((cc * f->nz + z0) * f->nxy);
        for (size_t i = 0; i < cnt; i++)
            dst[i] = stored_to_float(f, f->nim->data, (base + i) * (size_t)f->rgb + (size_t)k);
        return 0;
    }
    int64_t s0 = c * f->nz + z0;
    if (f->nim->data || (s0 < f->pos && f->gz)) {
        if (load_whole(f, err, errlen) < 0) return -1;
        convert(f, f->nim->data, (size_t)(s0 * f->nxy), cnt, dst);
        return 0;
    }
    /* a slice at a time: the stored-type buffer stays one slice */
    for (int64_t k = 0; k < n; k++) {
        if (stream_slices(f, s0 + k, 1, err, errlen) < 0) return -1;
        convert(f, f->raw, 0, (size_t)f->nxy, dst + (size_t)(k * f->nxy));
    }
    return 0;
}

static int nifti_open_named(mg_nifti_file *f, const char *path, mg_nifti_info *info, char *err, size_t errlen);

mg_nifti_file *mg_nifti_open(const char *path, mg_nifti_info *info, char *err, size_t errlen)
{
    mg_nifti_info tmp;
    if (!info) info = &tmp;
    memset(info, 0, sizeof *info);
    mg_nifti_file *f = calloc(1, sizeof *f);
    if (!f) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    const char *name = nifti_name(path, f->dir, f->link, sizeof f->link);
    if (!name) {
        mg_seterr(err, errlen, "cannot prepare the file for libnifti");
        free(f);
        return NULL;
    }
    if (nifti_open_named(f, name, info, err, errlen) < 0) {
        mg_nifti_close(f);
        return NULL;
    }
    return f;
}

const mg_volume_src *mg_nifti_src(const mg_nifti_file *f)
{
    return &f->src;
}

void mg_nifti_close(mg_nifti_file *f)
{
    if (!f) return;
    if (!znz_isnull(f->fp)) znzclose(f->fp);
    nifti_image_free(f->nim);
    free(f->raw);
    nifti_name_done(f->dir, f->link);
    free(f);
}

mg_volume *mg_nifti_read(const char *path, mg_nifti_info *info, char *err, size_t errlen)
{
    mg_nifti_file *f = mg_nifti_open(path, info, err, errlen);
    if (!f) return NULL;
    mg_volume *v = mg_volume_src_load(&f->src, err, errlen);
    mg_nifti_close(f);
    return v;
}

static int nifti_open_named(mg_nifti_file *f, const char *path, mg_nifti_info *info, char *err, size_t errlen)
{

    nifti_set_debug_level(0);        /* libnifti prints nothing; errors are ours */
    /* Check the stored dimensions before libnifti converts the header: it
     * prints about a bad dim[0] whatever the debug level, and a NIfTI-2
     * dim[0] far out of range overflows its stack. */
    raw_hdr rh;
    int hr = raw_header(path, &rh);
    if (hr < 0) {
        mg_seterr(err, errlen, hr == -2 ? "truncated NIfTI header" : "not a readable NIfTI header");
        return -1;
    }
    const int64_t *rdim = rh.dim;
    const double *pd = rh.pd;
    if (rdim[0] < 1 || rdim[0] > 7) {
        mg_seterr(err, errlen, "bad number of dimensions %lld in the header", (long long)rdim[0]);
        return -1;
    }
    double nbytes = 1;
    uint64_t nstored = 1;
    for (int i = 1; i <= rdim[0]; i++) {
        if (rdim[i] <= 0) { mg_seterr(err, errlen, "dimension %d is %lld", i, (long long)rdim[i]); return -1; }
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
            return -1;
        }
    }
    if (!sample_reader_ok(rh.datatype)) {
        mg_seterr(err, errlen, "unsupported NIfTI datatype %d", rh.datatype);
        return -1;
    }
    /* libnifti prints when it cannot seek to the data: check that first */
    if (!(rh.vox_offset >= rh.hdr_size) || rh.vox_offset > 1e15) {
        mg_seterr(err, errlen, "bad vox_offset %g in the header", rh.vox_offset);
        return -1;
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
            return -1;
        }
    }
    if (rh.compressed && gz_verify(path, err, errlen) < 0) return -1;
    nifti_image *nim = f->nim = nifti_image_read(path, 0);
    if (!nim) { mg_seterr(err, errlen, "not a readable NIfTI header (corrupt or truncated)"); return -1; }
    info->nifti_version = nim->nifti_type >= 4 ? 2 : 1;
    info->datatype = nim->datatype;
    for (int i = 0; i < 8; i++) info->dim[i] = nim->dim[i];
    info->sform_code = nim->sform_code;
    info->qform_code = nim->qform_code;
    if (!sample_reader_ok(nim->datatype)) {
        mg_seterr(err, errlen, "unsupported NIfTI datatype %d (%s)", nim->datatype,
               nifti_datatype_string(nim->datatype));
        return -1;
    }
    if (nim->ndim < 1 || nim->ndim > 5) {
        mg_seterr(err, errlen, "unsupported number of dimensions %lld", (long long)nim->ndim);
        return -1;
    }
    for (int i = 1; i <= nim->ndim; i++)
        if (nim->dim[i] <= 0) { mg_seterr(err, errlen, "dimension %d is %lld", i, (long long)nim->dim[i]); return -1; }
    int64_t nx = nim->nx, ny = nim->ndim >= 2 ? nim->ny : 1, nz = nim->ndim >= 3 ? nim->nz : 1;
    int64_t nc;                /* dims were bounded above, but check anyway */
    if (__builtin_mul_overflow((int64_t)(nim->ndim >= 4 ? nim->nt : 1), (int64_t)(nim->ndim >= 5 ? nim->nu : 1), &nc)) {
        mg_seterr(err, errlen, "volume too large");
        return -1;
    }
    int rgb = nim->datatype == DT_RGB24 ? 3 : nim->datatype == DT_RGBA32 ? 4 : 0;
    int64_t ncc = rgb ? nc * rgb : nc;
    double nvox = (double)nx * (double)ny * (double)nz * (double)ncc;
    if (nvox > (double)MG_VOLUME_MAX_VOXELS) {
        mg_seterr(err, errlen, "volume too large (%lldx%lldx%lldx%lld voxels)",
               (long long)nx, (long long)ny, (long long)nz, (long long)ncc);
        return -1;
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
                return -1;
            }
        dmat_to_affine(&nim->qto_xyz, aff);
        info->source = MG_AFFINE_QFORM;
    } else {
        fallback_affine(nim, pd, aff);
        info->source = MG_AFFINE_FALLBACK;
    }
    for (int i = 0; i < 16; i++)
        if (!isfinite(aff[i])) { mg_seterr(err, errlen, "non-finite value in the voxel-to-world affine"); return -1; }
    for (int j = 0; j < 3; j++) {
        double s = 0;
        for (int i = 0; i < 3; i++) s += aff[i * 4 + j] * aff[i * 4 + j];
        if (!(s > 0)) { mg_seterr(err, errlen, "zero voxel spacing along axis %d", j + 1); return -1; }
    }
    double slope = nim->scl_slope, inter = nim->scl_inter;
    /* nibabel get_slope_inter: a zero or non-finite slope means no scaling. */
    int scale = !rgb && isfinite(slope) && slope != 0;
    if (!isfinite(inter)) inter = 0;
    if (scale && slope == 1 && inter == 0) scale = 0;     /* identity */
    info->scaled = f->scale = scale;
    f->slope = slope;
    f->inter = inter;
    f->rgb = rgb;
    f->nz = nz;
    f->nxy = nx * ny;
    f->gz = nifti_is_gzfile(nim->iname);
    mg_volume_src *s = &f->src;
    s->nx = nx; s->ny = ny; s->nz = nz; s->nc = ncc;
    memcpy(s->affine, aff, sizeof aff);
    s->read = nifti_slab;
    s->ctx = f;
    return 0;
}

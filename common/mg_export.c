/* mg_export.c: PNG (libpng) and NIfTI (libnifti2) writers for mg-stream export. */
#include "mg_export.h"

#include <errno.h>

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nifti2_io.h>
#include "mg_err.h"
#include "mg_tensor.h"

/* Parse n comma-separated numbers; 0 when exactly n were found. */
static int parse_numbers(const char *s, double *v, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(s, &end);
        if (end == s) return -1;
        s = end;
        while (*s == ',' || *s == ' ') s++;
    }
    return *s ? -1 : 0;
}

/* libpng's default handlers print their own line on stderr; ours keep the
 * reason for the caller's single error line and print nothing. */
typedef struct { char *err; size_t errlen; } png_wctx;

static void png_werr_fn(png_structp png, png_const_charp msg)
{
    png_wctx *c = png_get_error_ptr(png);
    if (c) mg_seterr(c->err, c->errlen, "PNG write failed: %s", msg);
    png_longjmp(png, 1);
}

static void png_wwarn_fn(png_structp png, png_const_charp msg)
{
    (void)png; (void)msg;
}

/* The libpng part, apart so that setjmp sees no locals change under it. */
static int png_emit(FILE *fp, const mg_tensor *t, int64_t C, int64_t H, int64_t W, int64_t plane0,
                    int depth, int scale, double lo, double hi, char *err, size_t errlen)
{
    png_wctx ctx = { err, errlen };
    if (err && errlen) err[0] = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_werr_fn, png_wwarn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *row = malloc((size_t)W * C * 2);
    if (!png || !info || !row) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return mg_fail(err, errlen, "out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return err && errlen && err[0] ? -1 : mg_fail(err, errlen, "PNG write failed");
    }
    png_init_io(png, fp);
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA};
    png_set_IHDR(png, info, (png_uint_32)W, (png_uint_32)H, depth, types[C], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int64_t y = 0; y < H; y++) {
        for (int64_t x = 0; x < W; x++)
            for (int64_t c = 0; c < C; c++) {
                double v = mg_tensor_get(t, plane0 + (c * H + y) * W + x);
                int64_t k = x * C + c;
                if (depth == 16) { row[2 * k] = (unsigned)v >> 8; row[2 * k + 1] = (unsigned)v & 255; continue; }
                if (scale) v = (v - lo) / (hi - lo) * 255.0;
                v = v != v ? 0 : v < 0 ? 0 : v > 255 ? 255 : nearbyint(v);
                row[k] = (unsigned char)v;
            }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fflush(fp) == 0 ? 0 : mg_fail(err, errlen, "write failed");
}

int mg_png_write_tensor(FILE *fp, const mg_tensor *t, const mg_png_opts *o, char *err, size_t errlen)
{
    int64_t C, H, W, plane0 = 0;
    switch (t->ndim) {
    case 2: C = 1; H = t->shape[0]; W = t->shape[1]; break;
    case 3: C = t->shape[0]; H = t->shape[1]; W = t->shape[2]; break;
    case 4: /* [C,D,H,W]: one slice of channel 0 (or the chosen channel) */
        C = 1; H = t->shape[2]; W = t->shape[3]; break;
    default: return mg_fail(err, errlen, "tensor is not image-like (need 2 to 4 dimensions)");
    }
    if (H <= 0 || W <= 0 || H > 1 << 20 || W > 1 << 20) return mg_fail(err, errlen, "bad image size");
    int ch = o->channel;
    if (t->ndim == 4) {
        int64_t D = t->shape[1], z = o->slice >= 0 ? o->slice : D / 2, c = ch >= 0 ? ch : 0;
        if (c >= t->shape[0] || z >= D) return mg_fail(err, errlen, "channel or slice out of range");
        plane0 = (c * D + z) * H * W;
    } else if (ch >= 0) {
        if (ch >= C) return mg_fail(err, errlen, "channel out of range");
        plane0 = ch * H * W;
        C = 1;
    } else if (C != 1 && C != 3 && C != 4) {
        /* A volume [D,H,W] or a many-channel image: show one plane. */
        int64_t z = o->slice >= 0 ? o->slice : C / 2;
        if (z >= C) return mg_fail(err, errlen, "slice out of range");
        plane0 = z * H * W;
        C = 1;
    }
    int depth = (o->bit16 && t->dtype == MG_U16) ? 16 : 8;
    double lo = o->lo, hi = o->hi;
    int scale = t->dtype != MG_U8 && depth == 8;
    int64_t n = C * H * W;
    if (scale && !o->have_range) {
        lo = INFINITY; hi = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            double v = mg_tensor_get(t, plane0 + i);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (!(hi > lo)) { hi = lo + 1; }
    }
    return png_emit(fp, t, C, H, W, plane0, depth, scale, lo, hi, err, errlen);
}

/* Bytes in a file as libnifti reads it (decompressed when gz); -1 on error. */
static int64_t file_bytes(const char *name, int gz)
{
    enum { BUF = 1 << 16 };
    char *buf = malloc(BUF);
    znzFile fp = buf ? znzopen(name, "rb", gz) : NULL;
    if (znz_isnull(fp)) { free(buf); return -1; }
    int64_t n = 0;
    size_t k;
    while ((k = znzread(buf, 1, BUF, fp)) > 0) n += (int64_t)k;
    znzclose(fp);
    free(buf);
    return n;
}

int mg_nifti_write_tensor(mg_ofile *out, const mg_tensor *t, const mg_record *rec,
                          char *err, size_t errlen)
{
    static const struct { int mg, nifti; } TYPES[] = {
        {MG_U8, NIFTI_TYPE_UINT8}, {MG_I8, NIFTI_TYPE_INT8}, {MG_U16, NIFTI_TYPE_UINT16},
        {MG_I16, NIFTI_TYPE_INT16}, {MG_I32, NIFTI_TYPE_INT32}, {MG_I64, NIFTI_TYPE_INT64},
        {MG_F32, NIFTI_TYPE_FLOAT32}, {MG_F64, NIFTI_TYPE_FLOAT64},
    };
    int dt = 0;
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].mg == t->dtype) dt = TYPES[i].nifti;
    int to_f32 = !dt;           /* f16/bf16: NIfTI has no such type */
    if (to_f32) dt = NIFTI_TYPE_FLOAT32;
    if (t->ndim != 3 && t->ndim != 4) return mg_fail(err, errlen, "NIfTI export needs a [D,H,W] or [C,D,H,W] tensor");
    int64_t dims[8] = {0};
    int off = t->ndim == 4;
    dims[0] = t->ndim;
    dims[1] = t->shape[off + 2]; dims[2] = t->shape[off + 1]; dims[3] = t->shape[off + 0];
    if (off) dims[4] = t->shape[0];
    for (int i = t->ndim + 1; i < 8; i++) dims[i] = 1;
    nifti_image *nim = nifti_make_new_nim(dims, dt, 1);
    if (!nim) return mg_fail(err, errlen, "cannot create NIfTI image");
    double sp[3] = {1, 1, 1}, aff[16];
    const char *s = mg_record_get_meta(rec, "spacing");
    if (s && parse_numbers(s, sp, 3) < 0) { nifti_image_free(nim); return mg_fail(err, errlen, "bad 'spacing' metadata"); }
    nim->dx = nim->pixdim[1] = sp[0];
    nim->dy = nim->pixdim[2] = sp[1];
    nim->dz = nim->pixdim[3] = sp[2];
    nim->xyz_units = NIFTI_UNITS_MM;
    const char *a = mg_record_get_meta(rec, "affine");
    if (!a) {
        memset(aff, 0, sizeof aff);
        aff[0] = sp[0]; aff[5] = sp[1]; aff[10] = sp[2]; aff[15] = 1;
    } else if (parse_numbers(a, aff, 16) < 0) {
        nifti_image_free(nim);
        return mg_fail(err, errlen, "bad 'affine' metadata");
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) nim->sto_xyz.m[i][j] = aff[4 * i + j];
    nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    double qdx, qdy, qdz;
    nifti_dmat44_to_quatern(nim->sto_xyz, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d,
                            &nim->qoffset_x, &nim->qoffset_y, &nim->qoffset_z,
                            &qdx, &qdy, &qdz, &nim->qfac);
    nim->qto_xyz = nifti_quatern_to_dmat44(nim->quatern_b, nim->quatern_c, nim->quatern_d,
                                           nim->qoffset_x, nim->qoffset_y, nim->qoffset_z,
                                           nim->dx, nim->dy, nim->dz, nim->qfac);
    nim->sto_ijk = nifti_dmat44_inverse(nim->sto_xyz);
    nim->qto_ijk = nifti_dmat44_inverse(nim->qto_xyz);
    if (to_f32) mg_convert_to_f32(nim->data, t->data, t->dtype, (size_t)mg_tensor_numel(t));
    else memcpy(nim->data, t->data, t->nbytes);
    /* libnifti opens the file by name (and picks gzip by its suffix): give it
     * the temporary, which keeps the target's suffix. */
    const char *name = mg_ofile_name(out);
    int gz = name && strlen(name) > 3 && strcmp(name + strlen(name) - 3, ".gz") == 0;
    int ok = name && mg_nifti_suffix(mg_ofile_target(out)) && nifti_set_filenames(nim, name, 0, 1) == 0;
    if (!ok) {
        nifti_image_free(nim);
        return mg_fail(err, errlen, "bad NIfTI file name (use .nii or .nii.gz)");
    }
    nifti_set_iname_offset(nim, 1);
    int64_t want = (int64_t)nim->iname_offset + (int64_t)nim->nbyper * nim->nvox;
    /* write_data = 2: libnifti writes the header and leaves the file open at
     * the data offset; the data are written here, where a short write is
     * seen (libnifti would print about it and carry on), and closing reports
     * a failed flush. The file is then read back and counted, in case a
     * layer below hid a failure (a full disk, a size limit). */
    nifti_set_debug_level(0);        /* libnifti prints nothing; errors are ours */
    znzFile fp = nifti_image_write_hdr_img(nim, 2, "wb");
    ok = fp != NULL && !znz_isnull(fp);
    size_t nbytes = (size_t)nim->nbyper * nim->nvox;
    if (ok && znzwrite(nim->data, 1, nbytes, fp) != nbytes) ok = 0;
    if (fp && !znz_isnull(fp) && znzclose(fp) != 0) ok = 0;
    nifti_image_free(nim);
    if (ok && mg_ofile_is_temp(out) && file_bytes(name, gz) != want) ok = 0;
    return ok ? 0 : mg_fail(err, errlen, "NIfTI write failed");
}

const char *mg_nifti_suffix(const char *path)
{
    size_t len = strlen(path);
    return len > 7 && strcmp(path + len - 7, ".nii.gz") == 0 ? ".nii.gz"
         : len > 4 && strcmp(path + len - 4, ".nii") == 0 ? ".nii" : NULL;
}

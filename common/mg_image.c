/* mg_image.c: image buffers, format sniffing, PNG and JPEG readers, padding,
 * cropping and channel conversions for the 2D preprocessing path. */
#include "mg_image.h"
#include "mg_err.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

size_t mg_pix_size(mg_pixtype type)
{
    return type == MG_PIX_U8 ? 1 : type == MG_PIX_U16 ? 2 : 4;
}

double mg_pix_max(mg_pixtype type)
{
    return type == MG_PIX_U8 ? 255.0 : type == MG_PIX_U16 ? 65535.0 : 1.0;
}

static mg_image *image_alloc(int w, int h, int c, mg_pixtype type, int zero)
{
    if (w <= 0 || h <= 0 || c <= 0 || c > 4) return NULL;
    if ((long long)w * h * c > MG_IMAGE_MAX_SAMPLES) return NULL;
    mg_image *im = calloc(1, sizeof *im);
    if (!im) return NULL;
    im->w = w; im->h = h; im->c = c; im->type = type;
    size_t n = (size_t)w * h * c;
    im->data = zero ? calloc(n, mg_pix_size(type)) : malloc(n * mg_pix_size(type));
    if (!im->data) { free(im); return NULL; }
    return im;
}

mg_image *mg_image_new(int w, int h, int c, mg_pixtype type)
{
    return image_alloc(w, h, c, type, 1);
}

mg_image *mg_image_new_uninit(int w, int h, int c, mg_pixtype type)
{
    return image_alloc(w, h, c, type, 0);
}

void mg_image_free(mg_image *im)
{
    if (!im) return;
    if (im->map) munmap(im->map, im->map_len);
    else free(im->data);
    free(im);
}

/* ---------------------------------------------------------------- formats */

static int nifti_magic(const unsigned char *b, size_t n)
{
    /* NIfTI-1: sizeof_hdr 348 at 0 (either byte order), "n+1\0" at 344.
     * NIfTI-2: sizeof_hdr 540, "n+2\0" at 4. */
    if (n >= 348) {
        int le = b[0] == 0x5c && b[1] == 1 && !b[2] && !b[3];
        int be = !b[0] && !b[1] && b[2] == 1 && b[3] == 0x5c;
        if ((le || be) && !memcmp(b + 344, "n+1", 4)) return 1;
    }
    if (n >= 8) {
        int le = b[0] == 0x1c && b[1] == 2 && !b[2] && !b[3];
        int be = !b[0] && !b[1] && b[2] == 2 && b[3] == 0x1c;
        if ((le || be) && !memcmp(b + 4, "n+2", 4)) return 1;
    }
    return 0;
}

mg_format mg_format_sniff(const unsigned char *b, size_t n)
{
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return MG_FMT_PNG;
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return MG_FMT_JPEG;
    if (n >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4) ||
                   !memcmp(b, "II+\0", 4) || !memcmp(b, "MM\0+", 4)))
        return MG_FMT_TIFF;
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return MG_FMT_GZIP;
    if (nifti_magic(b, n)) return MG_FMT_NIFTI;
    return MG_FMT_UNKNOWN;
}

const char *mg_format_name(mg_format f)
{
    switch (f) {
    case MG_FMT_PNG: return "PNG";
    case MG_FMT_JPEG: return "JPEG";
    case MG_FMT_TIFF: return "TIFF";
    case MG_FMT_NIFTI: return "NIfTI";
    case MG_FMT_GZIP: return "gzip";
    default: return "unknown";
    }
}

int mg_format_sniff_file(const char *path, mg_format *fmt, char *err, size_t errlen)
{
    unsigned char buf[560];
    FILE *fp = fopen(path, "rb");
    if (!fp) { mg_seterr(err, errlen, "%s", strerror(errno)); return -1; }
    size_t n = fread(buf, 1, sizeof buf, fp);
    int rerr = ferror(fp);
    fclose(fp);
    if (rerr) { mg_seterr(err, errlen, "read error"); return -1; }
    if (n == 0) { mg_seterr(err, errlen, "empty file"); return -1; }
    *fmt = mg_format_sniff(buf, n);
    if (*fmt == MG_FMT_GZIP) {
        gzFile gz = gzopen(path, "rb");
        if (!gz) { mg_seterr(err, errlen, "cannot open gzip stream"); return -1; }
        int k = gzread(gz, buf, sizeof buf), zerr = Z_OK;
        if (k < 0) {
            const char *msg = gzerror(gz, &zerr), *c = strstr(msg, ": ");   /* zlib prefixes the path */
            mg_seterr(err, errlen, "corrupt gzip stream (%s)", c ? c + 2 : msg);
            gzclose(gz);
            return -1;
        }
        gzclose(gz);
        *fmt = nifti_magic(buf, (size_t)k) ? MG_FMT_NIFTI : MG_FMT_UNKNOWN;
        if (*fmt == MG_FMT_UNKNOWN) {
            mg_seterr(err, errlen, "gzip file does not hold a NIfTI image");
            return -1;
        }
    }
    if (*fmt == MG_FMT_UNKNOWN) {
        mg_seterr(err, errlen, "unrecognised file format (not NIfTI, TIFF, PNG or JPEG)");
        return -1;
    }
    return 0;
}

/* -------------------------------------------------------------------- PNG */

typedef struct { char *err; size_t errlen; } png_errctx;

static void png_err_fn(png_structp png, png_const_charp msg)
{
    png_errctx *ctx = png_get_error_ptr(png);
    mg_seterr(ctx->err, ctx->errlen, "PNG: %s", msg);
    png_longjmp(png, 1);
}

static void png_warn_fn(png_structp png, png_const_charp msg)
{
    (void)png; (void)msg;       /* libpng warnings are not errors: stay quiet */
}

mg_image *mg_image_read_png(const char *path, char *err, size_t errlen)
{
    png_errctx ctx = { err, errlen };
    png_structp png = NULL;
    png_infop info = NULL;
    mg_image *volatile im = NULL;
    png_bytep *volatile rows = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) { mg_seterr(err, errlen, "%s", strerror(errno)); return NULL; }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_err_fn, png_warn_fn);
    if (!png) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    info = png_create_info_struct(png);
    if (!info) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    if (setjmp(png_jmpbuf(png))) goto fail;
    png_init_io(png, fp);
    png_set_user_limits(png, 1u << 20, 1u << 20);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), ct = png_get_color_type(png, info);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (ct & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (depth == 16) png_set_swap(png);     /* host order (little-endian) */
    png_read_update_info(png, info);
    int c = png_get_channels(png, info);
    int d = png_get_bit_depth(png, info);
    if ((long long)w * h * c > MG_IMAGE_MAX_SAMPLES) {
        mg_seterr(err, errlen, "image too large (%ux%u)", (unsigned)w, (unsigned)h);
        goto fail;
    }
    im = mg_image_new((int)w, (int)h, c, d == 16 ? MG_PIX_U16 : MG_PIX_U8);
    if (!im) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    rows = malloc(h * sizeof *rows);
    if (!rows) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    size_t stride = (size_t)w * c * mg_pix_size(im->type);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = (png_bytep)im->data + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    return im;
fail:
    free(rows);
    mg_image_free(im);
    if (png) png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    fclose(fp);
    return NULL;
}

/* ------------------------------------------------------------------- JPEG */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char *err;
    size_t errlen;
} jpeg_errctx;

static void jpeg_err_exit(j_common_ptr cinfo)
{
    jpeg_errctx *ctx = (jpeg_errctx *)cinfo->err;
    char msg[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, msg);
    mg_seterr(ctx->err, ctx->errlen, "JPEG: %s", msg);
    longjmp(ctx->jb, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    /* A corrupt-data warning (level -1) is an error for us: a truncated file
     * would otherwise decode to grey padding without complaint. */
    if (level < 0) {
        jpeg_errctx *ctx = (jpeg_errctx *)cinfo->err;
        if (ctx->pub.num_warnings++ == 0) {
            char msg[JMSG_LENGTH_MAX];
            (*cinfo->err->format_message)(cinfo, msg);
            mg_seterr(ctx->err, ctx->errlen, "JPEG: %s", msg);
        }
    }
}

static mg_image *jpeg_decode(FILE *fp, const unsigned char *buf, size_t n,
                             char *err, size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_errctx ctx;
    mg_image *volatile im = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&ctx.pub);
    ctx.pub.error_exit = jpeg_err_exit;
    ctx.pub.emit_message = jpeg_quiet;
    ctx.err = err; ctx.errlen = errlen;
    if (setjmp(ctx.jb)) goto fail;
    jpeg_create_decompress(&cinfo);
    if (fp) jpeg_stdio_src(&cinfo, fp);
    else jpeg_mem_src(&cinfo, buf, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        mg_seterr(err, errlen, "JPEG: CMYK images are not supported");
        goto fail;
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    int c = cinfo.output_components;
    im = mg_image_new(w, h, c, MG_PIX_U8);
    if (!im) { mg_seterr(err, errlen, "image too large or out of memory"); goto fail; }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (unsigned char *)im->data + (size_t)cinfo.output_scanline * w * c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (ctx.pub.num_warnings) goto fail;
    jpeg_destroy_decompress(&cinfo);
    return im;
fail:
    mg_image_free(im);
    jpeg_destroy_decompress(&cinfo);
    return NULL;
}

mg_image *mg_image_read_jpeg(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { mg_seterr(err, errlen, "%s", strerror(errno)); return NULL; }
    mg_image *im = jpeg_decode(fp, NULL, 0, err, errlen);
    fclose(fp);
    return im;
}

mg_image *mg_image_decode_jpeg(const unsigned char *buf, size_t n, char *err, size_t errlen)
{
    return jpeg_decode(NULL, buf, n, err, errlen);
}

/* ------------------------------------------------------------- operations */

static mg_image *copy_window(const mg_image *im, int ow, int oh, int dx, int dy,
                             char *err, size_t errlen)
{
    /* Output pixel (x,y) takes input (x-dx, y-dy) when inside, else zero. */
    mg_image *out = mg_image_new(ow, oh, im->c, im->type);
    if (!out) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    size_t ps = (size_t)im->c * mg_pix_size(im->type);
    for (int y = 0; y < oh; y++) {
        int sy = y - dy;
        if (sy < 0 || sy >= im->h) continue;
        int x0 = dx > 0 ? dx : 0, x1 = im->w + dx < ow ? im->w + dx : ow;
        if (x1 <= x0) continue;
        memcpy((char *)out->data + ((size_t)y * ow + x0) * ps,
               (const char *)im->data + ((size_t)sy * im->w + (x0 - dx)) * ps,
               (size_t)(x1 - x0) * ps);
    }
    return out;
}

mg_image *mg_image_pad_square(const mg_image *im, char *err, size_t errlen)
{
    int s = im->w > im->h ? im->w : im->h;
    return copy_window(im, s, s, (s - im->w) / 2, (s - im->h) / 2, err, errlen);
}

mg_image *mg_image_center_crop(const mg_image *im, int cw, int ch, char *err, size_t errlen)
{
    if (cw <= 0 || ch <= 0 || cw > im->w || ch > im->h) {
        mg_seterr(err, errlen, "crop %dx%d does not fit a %dx%d image", cw, ch, im->w, im->h);
        return NULL;
    }
    return copy_window(im, cw, ch, -((im->w - cw) / 2), -((im->h - ch) / 2), err, errlen);
}

mg_image *mg_image_to_float(const mg_image *im, double scale, char *err, size_t errlen)
{
    mg_image *out = mg_image_new(im->w, im->h, im->c, MG_PIX_F32);
    if (!out) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    size_t n = (size_t)im->w * im->h * im->c;
    float *o = out->data;
    /* one loop per sample type: a per-sample switch costs more than the
     * conversion */
    if (im->type == MG_PIX_U8)
        for (size_t i = 0; i < n; i++) o[i] = (float)(((const uint8_t *)im->data)[i] * scale);
    else if (im->type == MG_PIX_U16)
        for (size_t i = 0; i < n; i++) o[i] = (float)(((const uint16_t *)im->data)[i] * scale);
    else
        for (size_t i = 0; i < n; i++) o[i] = (float)(((const float *)im->data)[i] * scale);
    return out;
}

mg_image *mg_image_to_channels(const mg_image *im, int c, char *err, size_t errlen)
{
    int ok = c == im->c || (im->c == 1 && c == 3) || (im->c == 4 && c == 3) ||
             (im->c == 2 && c == 1);
    if (!ok) {
        mg_seterr(err, errlen, "cannot convert %d channels to %d", im->c, c);
        return NULL;
    }
    mg_image *out = mg_image_new(im->w, im->h, c, im->type);
    if (!out) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    size_t ps = mg_pix_size(im->type), n = (size_t)im->w * im->h;
    const char *s = im->data;
    char *d = out->data;
    if (im->c == 1 && c == 3 && im->type == MG_PIX_F32) {
        const float *sf = im->data;
        float *df = out->data;
        for (size_t i = 0; i < n; i++) df[3 * i] = df[3 * i + 1] = df[3 * i + 2] = sf[i];
        return out;
    }
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < c; k++) {
            int sk = im->c == 1 ? 0 : k;
            memcpy(d + (i * c + k) * ps, s + (i * im->c + sk) * ps, ps);
        }
    return out;
}

void mg_image_to_chw(const mg_image *im, const double *mean, const double *std, float *out)
{
    mg_image_to_planes(im, im->c, mean, std, out);
}

void mg_image_to_planes(const mg_image *im, int c_out, const double *mean, const double *std,
                        float *out)
{
    size_t n = (size_t)im->w * im->h;
    int c = im->c;
    for (int k = 0; k < c_out; k++) {
        double m = mean ? mean[k] : 0.0, s = std ? std[k] : 1.0;
        int sk = c == 1 ? 0 : k;
        float *o = out + (size_t)k * n;
        /* a plane equal to one already written (grey to RGB with one
         * mean/std) is copied */
        if (c == 1 && k > 0 && (mean ? mean[k] == mean[0] : 1) && (std ? std[k] == std[0] : 1)) {
            memcpy(o, out, n * sizeof *o);
            continue;
        }
        /* times the reciprocal in double: at most an ulp of the double
         * quotient, far below float precision, for a fraction of the cost
         * of a division per sample */
        double r = 1.0 / s;
        if (im->type == MG_PIX_F32) {
            const float *p = (const float *)im->data + sk;
            if (c == 1) for (size_t i = 0; i < n; i++) o[i] = (float)((p[i] - m) * r);
            else for (size_t i = 0; i < n; i++) o[i] = (float)((p[i * c] - m) * r);
        } else if (im->type == MG_PIX_U8) {
            const uint8_t *p = (const uint8_t *)im->data + sk;
            for (size_t i = 0; i < n; i++) o[i] = (float)((p[i * c] - m) * r);
        } else {
            const uint16_t *p = (const uint16_t *)im->data + sk;
            for (size_t i = 0; i < n; i++) o[i] = (float)((p[i * c] - m) * r);
        }
    }
}

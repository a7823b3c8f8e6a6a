/* mg_image.h: 2D images in memory, format sniffing, PNG/JPEG readers and the
 * simple whole-image operations of the 2D preprocessing path.
 *
 * An mg_image holds interleaved samples (row-major, h rows of w pixels of c
 * channels) of one sample type: 8-bit, 16-bit unsigned, or 32-bit float.
 * Functions never exit or print: they return NULL (or <0) and write a one-line
 * reason into err[errlen].
 */
#ifndef MG_IMAGE_H
#define MG_IMAGE_H

#include "mg_err.h"

#include <stddef.h>
#include <stdint.h>

/** Largest image accepted by the readers, in samples (w*h*c); smaller under
 *  the fuzzer so that its memory limit finds real bugs, not big images. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define MG_IMAGE_MAX_SAMPLES (1LL << 24)
#else
#define MG_IMAGE_MAX_SAMPLES (1LL << 30)
#endif

typedef enum { MG_PIX_U8 = 1, MG_PIX_U16 = 2, MG_PIX_F32 = 4 } mg_pixtype;

typedef struct {
    int w, h, c;          /* width, height, channels (1..4) */
    mg_pixtype type;
    void *data;           /* w*h*c samples, interleaved, owned */
    void *map;            /* if set: data lies in this private file mapping
                           * of map_len bytes, unmapped by mg_image_free */
    size_t map_len;
} mg_image;

/** A zero-filled image; NULL on bad size or allocation failure. Free with
 *  mg_image_free(). */
MG_MUST_CHECK mg_image *mg_image_new(int w, int h, int c, mg_pixtype type);
void mg_image_free(mg_image *im);
/** As mg_image_new with the samples left uninitialised, for images the
 *  caller writes in full (saves clearing large buffers). */
MG_MUST_CHECK mg_image *mg_image_new_uninit(int w, int h, int c, mg_pixtype type);
/** Bytes per sample of type. */
size_t mg_pix_size(mg_pixtype type);

/* ---- formats ---- */
typedef enum {
    MG_FMT_UNKNOWN = 0, MG_FMT_PNG, MG_FMT_JPEG, MG_FMT_TIFF, MG_FMT_NIFTI,
    MG_FMT_GZIP
} mg_format;

/** Format from the first bytes of a file (at least 352 for NIfTI; fewer bytes
 *  just rule NIfTI out). MG_FMT_GZIP means "gzip, look inside". */
mg_format mg_format_sniff(const unsigned char *buf, size_t n);
/** Sniff a file, looking inside gzip for NIfTI. -1 and err if unreadable. */
MG_MUST_CHECK int mg_format_sniff_file(const char *path, mg_format *fmt, char *err, size_t errlen);
const char *mg_format_name(mg_format fmt);

/** PNG through libpng: grey, grey+alpha, RGB, RGBA, palette; 1..16 bits.
 *  Palette becomes RGB, <8-bit grey becomes 8-bit, alpha is dropped (as
 *  Pillow's convert("RGB"/"L") does). 16-bit stays 16-bit. */
MG_MUST_CHECK mg_image *mg_image_read_png(const char *path, char *err, size_t errlen);
/** JPEG through libjpeg: greyscale or RGB (YCbCr converted by libjpeg). */
MG_MUST_CHECK mg_image *mg_image_read_jpeg(const char *path, char *err, size_t errlen);
/** Decode a JPEG held in memory (e.g. a TIFF tile with its tables merged). */
MG_MUST_CHECK mg_image *mg_image_decode_jpeg(const unsigned char *buf, size_t n,
                               char *err, size_t errlen);

/* ---- operations (each returns a new image; the input is not modified) ---- */
/** Centred zero padding to a square of side max(w,h); the extra pixel of an
 *  odd difference goes after (right/bottom), as left = (side-w)/2. */
MG_MUST_CHECK mg_image *mg_image_pad_square(const mg_image *im, char *err, size_t errlen);
/** Centre crop to cw x ch, left = (w-cw)/2, top = (h-ch)/2 (as transformers'
 *  center_crop); cw <= w, ch <= h. */
MG_MUST_CHECK mg_image *mg_image_center_crop(const mg_image *im, int cw, int ch,
                               char *err, size_t errlen);
/** Convert to float: v*scale per sample. */
MG_MUST_CHECK mg_image *mg_image_to_float(const mg_image *im, double scale, char *err, size_t errlen);
/** Drop or add channels: 1 -> 3 copies grey; 4 -> 3 drops alpha; 2 -> 1 drops
 *  alpha. Other combinations fail. */
MG_MUST_CHECK mg_image *mg_image_to_channels(const mg_image *im, int c, char *err, size_t errlen);
/** Write float image as planar [c][h][w] after (v - mean[ch]) / std[ch].
 *  mean/std may be NULL (0 and 1). out holds c*h*w floats. */
void mg_image_to_chw(const mg_image *im, const double *mean, const double *std,
                     float *out);
/** As mg_image_to_chw with c_out planes: c_out == im->c, or a grey image
 *  (im->c == 1) copied into every plane, each with its own mean/std. */
void mg_image_to_planes(const mg_image *im, int c_out, const double *mean,
                        const double *std, float *out);
/** Largest sample value representable by the type (255, 65535, 1.0). */
double mg_pix_max(mg_pixtype type);

#endif

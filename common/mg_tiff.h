/* mg_tiff.h: TIFF pages and regions through libtiff.
 *
 * Pages are the directories of the main IFD chain; a page's SubIFDs (the
 * reduced levels of OME-TIFF / libvips pyramids) are addressed as
 * (page, subifd index + 1). Samples come out as 8- or 16-bit unsigned or
 * 32-bit float, grey or RGB(A); MINISWHITE is inverted to MINISBLACK; YCbCr
 * JPEG is decoded to RGB; other photometric interpretations (palette, CMYK,
 * 1-bit, ...) go through TIFFReadRGBAImage and come out as 8-bit RGB.
 * libtiff's messages are captured, never printed.
 */
#ifndef MG_TIFF_H
#define MG_TIFF_H

#include "mg_err.h"

#include <stdint.h>
#include "mg_image.h"

typedef struct mg_tiff mg_tiff;

typedef struct {
    int64_t w, h;         /* pixels */
    int c;                /* channels delivered (1..4) */
    mg_pixtype type;
    int tiled;
    int tile_w, tile_h;   /* tiles, or (w, rows per strip) */
    int reduced;          /* SUBFILETYPE has REDUCEDIMAGE */
    int n_subifd;         /* SubIFDs hanging off this page (0 for a SubIFD) */
    double mpp_x, mpp_y;  /* microns per pixel from resolution tags, 0 if none */
    int compression;      /* TIFFTAG_COMPRESSION */
} mg_tiff_dir;

/** Open and count pages. NULL and err on failure. */
MG_MUST_CHECK mg_tiff *mg_tiff_open(const char *path, char *err, size_t errlen);
void mg_tiff_close(mg_tiff *t);
int mg_tiff_npages(const mg_tiff *t);
/** Select page (0-based) and, when sub > 0, its SubIFD number sub-1; fill d.
 *  0 or -1 with err. */
MG_MUST_CHECK int mg_tiff_select(mg_tiff *t, int page, int sub, mg_tiff_dir *d, char *err, size_t errlen);
/** ImageDescription of the selected directory, or NULL (owned by libtiff,
 *  valid until the next select). */
const char *mg_tiff_description(mg_tiff *t);
/** Read region [x, x+w) x [y, y+h) of the selected directory; pixels outside
 *  the image are zero. Memory: the output plus one tile or strip. */
MG_MUST_CHECK mg_image *mg_tiff_read_region(mg_tiff *t, int64_t x, int64_t y, int w, int h,
                              char *err, size_t errlen);
/** The whole selected directory (refused above MG_IMAGE_MAX_SAMPLES). Pages
 *  of uncompressed, contiguous strips in host byte order (256 KiB and more)
 *  come back as a private mapping of the file (im->map), read without a
 *  copy; the file must not shrink while the image is in use. */
MG_MUST_CHECK mg_image *mg_tiff_read_dir(mg_tiff *t, char *err, size_t errlen);

#endif

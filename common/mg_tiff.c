/* mg_tiff.c: TIFF pages, SubIFDs and regions through libtiff (see mg_tiff.h). */
#include "mg_tiff.h"
#include "mg_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

enum { PATH_DIRECT = 0, PATH_RGBA = 1 };
#define MG_TIFF_CACHE 6
/* Whole pages at least this large are mapped rather than read (map_dir). */
#define MG_TIFF_MAP_MIN (256 * 1024)

struct mg_tiff {
    TIFF *tif;
    TIFFOpenOptions *opts;
    int npages;
    char msg[256];          /* first libtiff error since the last clear */
    /* selected directory */
    mg_tiff_dir d;
    int path, spp, bps, photometric, sampleformat, invert;
    uint32_t rows_per_strip;
    /* the last few decoded tiles/strips: neighbouring regions share tiles */
    struct { void *buf; size_t cap; long id; unsigned long used; } cache[MG_TIFF_CACHE];
    unsigned long clock;
    const void *chunk;      /* the chunk put_pixel reads */
};

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif; (void)module;
    mg_tiff *t = user;
    if (!t->msg[0]) mg_vseterr(t->msg, sizeof t->msg, fmt, ap);
    return 1;                   /* handled: libtiff prints nothing */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif; (void)user; (void)module; (void)fmt; (void)ap;
    return 1;
}

static void tiff_err(mg_tiff *t, char *err, size_t errlen, const char *what)
{
    if (t->msg[0]) mg_seterr(err, errlen, "TIFF: %s: %s", what, t->msg);
    else mg_seterr(err, errlen, "TIFF: %s", what);
    t->msg[0] = 0;
}

mg_tiff *mg_tiff_open(const char *path, char *err, size_t errlen)
{
    mg_tiff *t = calloc(1, sizeof *t);
    if (!t) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    for (int i = 0; i < MG_TIFF_CACHE; i++) t->cache[i].id = -1;
    t->opts = TIFFOpenOptionsAlloc();
    if (!t->opts) { mg_seterr(err, errlen, "out of memory"); free(t); return NULL; }
    TIFFOpenOptionsSetErrorHandlerExtR(t->opts, on_error, t);
    TIFFOpenOptionsSetWarningHandlerExtR(t->opts, on_warning, t);
    /* No single allocation inside libtiff above 1 GiB (absurd tile sizes). */
    TIFFOpenOptionsSetMaxSingleMemAlloc(t->opts, (tmsize_t)1 << 30);
    /* "m": plain reads, no memory mapping: a mapped slide would count every
     * page read towards the resident size. */
    t->tif = TIFFOpenExt(path, "rm", t->opts);
    if (!t->tif) { tiff_err(t, err, errlen, "cannot open"); goto fail; }
    int n = 0;
    do {
        if (++n > 100000) { mg_seterr(err, errlen, "TIFF: too many pages"); goto fail; }
    } while (TIFFReadDirectory(t->tif));
    if (t->msg[0]) { tiff_err(t, err, errlen, "corrupt directory chain"); goto fail; }
    t->npages = n;
    return t;
fail:
    mg_tiff_close(t);
    return NULL;
}

void mg_tiff_close(mg_tiff *t)
{
    if (!t) return;
    if (t->tif) TIFFClose(t->tif);
    if (t->opts) TIFFOpenOptionsFree(t->opts);
    for (int i = 0; i < MG_TIFF_CACHE; i++) free(t->cache[i].buf);
    free(t);
}

int mg_tiff_npages(const mg_tiff *t) { return t->npages; }

const char *mg_tiff_description(mg_tiff *t)
{
    char *s = NULL;
    return TIFFGetField(t->tif, TIFFTAG_IMAGEDESCRIPTION, &s) ? s : NULL;
}

int mg_tiff_select(mg_tiff *t, int page, int sub, mg_tiff_dir *d, char *err, size_t errlen)
{
    TIFF *tif = t->tif;
    t->msg[0] = 0;
    for (int i = 0; i < MG_TIFF_CACHE; i++) t->cache[i].id = -1;
    if (page < 0 || page >= t->npages || !TIFFSetDirectory(tif, (tdir_t)page)) {
        tiff_err(t, err, errlen, "cannot read page");
        return -1;
    }
    uint16_t nsub = 0;
    uint64_t *offs = NULL;
    if (!TIFFGetField(tif, TIFFTAG_SUBIFD, &nsub, &offs)) nsub = 0;
    int n_subifd = nsub;
    if (sub > 0) {
        if (sub > nsub) { mg_seterr(err, errlen, "TIFF: page %d has no SubIFD %d", page, sub - 1); return -1; }
        if (!TIFFSetSubDirectory(tif, offs[sub - 1])) {
            tiff_err(t, err, errlen, "cannot read SubIFD");
            return -1;
        }
        n_subifd = 0;
    }
    memset(&t->d, 0, sizeof t->d);
    uint32_t w = 0, h = 0, tw = 0, th = 0, sft = 0;
    uint16_t spp = 1, bps = 1, photo = PHOTOMETRIC_MINISBLACK, planar = PLANARCONFIG_CONTIG;
    uint16_t sf = SAMPLEFORMAT_UINT, comp = COMPRESSION_NONE, unit = RESUNIT_INCH;
    float xres = 0, yres = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &sf);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &sft);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo))
        photo = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    if (w == 0 || h == 0) { mg_seterr(err, errlen, "TIFF: zero image size"); return -1; }
    t->d.w = w; t->d.h = h;
    t->d.tiled = TIFFIsTiled(tif);
    if (t->d.tiled) {
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        if (!tw || !th || (uint64_t)tw * th > (1u << 26)) {
            mg_seterr(err, errlen, "TIFF: bad tile size %ux%u", (unsigned)tw, (unsigned)th);
            return -1;
        }
    } else {
        uint32_t rps = h;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
        if (rps == 0 || rps > h) rps = h;
        if ((uint64_t)rps * w * spp * ((bps + 7) / 8) > ((uint64_t)1 << 30)) {
            mg_seterr(err, errlen, "TIFF: strip too large (%u rows of %u pixels)",
                   (unsigned)rps, (unsigned)w);
            return -1;
        }
        tw = w; th = rps;
        t->rows_per_strip = rps;
    }
    t->d.tile_w = (int)tw; t->d.tile_h = (int)th;
    t->d.reduced = (sft & FILETYPE_REDUCEDIMAGE) != 0;
    t->d.n_subifd = n_subifd;
    t->d.compression = comp;
    if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) && xres > 0) {
        TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
        TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres);
        /* as OpenSlide: 25400/res for inches (the default), 10000/res for cm */
        double f = unit == RESUNIT_CENTIMETER ? 10000.0 : unit == RESUNIT_INCH ? 25400.0 : 0;
        t->d.mpp_x = f / xres;
        t->d.mpp_y = yres > 0 ? f / yres : t->d.mpp_x;
    }
    t->spp = spp; t->bps = bps; t->photometric = photo; t->sampleformat = sf;
    t->invert = 0;
    if (photo == PHOTOMETRIC_YCBCR && comp == COMPRESSION_JPEG) {
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        photo = PHOTOMETRIC_RGB;
        t->photometric = photo;
    }
    int direct = planar == PLANARCONFIG_CONTIG &&
        ((bps == 8 && sf == SAMPLEFORMAT_UINT) || (bps == 16 && sf == SAMPLEFORMAT_UINT) ||
         (bps == 16 && sf == SAMPLEFORMAT_INT) || (bps == 32 && sf == SAMPLEFORMAT_IEEEFP)) &&
        (((photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_MINISWHITE) && spp >= 1 && spp <= 2) ||
         (photo == PHOTOMETRIC_RGB && spp >= 3 && spp <= 4));
    if (direct) {
        t->path = PATH_DIRECT;
        t->d.c = photo == PHOTOMETRIC_RGB ? 3 : 1;
        t->d.type = bps == 8 ? MG_PIX_U8 : (bps == 16 && sf == SAMPLEFORMAT_UINT) ? MG_PIX_U16 : MG_PIX_F32;
        t->invert = photo == PHOTOMETRIC_MINISWHITE;
    } else {
        char emsg[1024];
        if (!TIFFRGBAImageOK(tif, emsg)) {
            mg_seterr(err, errlen, "TIFF: unsupported layout: %s", emsg);
            return -1;
        }
        t->path = PATH_RGBA;
        t->d.c = 3;
        t->d.type = MG_PIX_U8;
    }
    *d = t->d;
    return 0;
}

/* Point t->chunk at the decoded chunk id (tile or strip number), decoding it
 * into the least recently used cache slot when needed. Returns 0 or -1. */
static int load_chunk(mg_tiff *t, long id, char *err, size_t errlen)
{
    int slot = 0;
    for (int i = 0; i < MG_TIFF_CACHE; i++) {
        if (t->cache[i].id == id) {
            t->cache[i].used = ++t->clock;
            t->chunk = t->cache[i].buf;
            return 0;
        }
        if (t->cache[i].used < t->cache[slot].used) slot = i;
    }
    size_t need;
    if (t->path == PATH_RGBA) need = (size_t)t->d.tile_w * t->d.tile_h * 4;
    else need = (size_t)(t->d.tiled ? TIFFTileSize(t->tif) : TIFFStripSize(t->tif));
    if (need == 0) { tiff_err(t, err, errlen, "bad tile or strip size"); return -1; }
    if (need > t->cache[slot].cap) {
        void *p = realloc(t->cache[slot].buf, need);
        if (!p) { mg_seterr(err, errlen, "out of memory"); return -1; }
        t->cache[slot].buf = p;
        t->cache[slot].cap = need;
    }
    void *buf = t->cache[slot].buf;
    t->cache[slot].id = -1;
    int ok;
    if (t->path == PATH_RGBA) {
        uint32_t col = 0, row;
        if (t->d.tiled) {
            long across = (long)((t->d.w + t->d.tile_w - 1) / t->d.tile_w);
            col = (uint32_t)(id % across) * t->d.tile_w;
            row = (uint32_t)(id / across) * t->d.tile_h;
            ok = TIFFReadRGBATile(t->tif, col, row, buf);
        } else {
            row = (uint32_t)id * t->rows_per_strip;
            ok = TIFFReadRGBAStrip(t->tif, row, buf);
        }
    } else if (t->d.tiled) {
        ok = TIFFReadEncodedTile(t->tif, (uint32_t)id, buf, (tmsize_t)need) >= 0;
    } else {
        ok = TIFFReadEncodedStrip(t->tif, (uint32_t)id, buf, (tmsize_t)need) >= 0;
    }
    if (!ok || t->msg[0]) { tiff_err(t, err, errlen, "cannot decode image data"); return -1; }
    t->cache[slot].id = id;
    t->cache[slot].used = ++t->clock;
    t->chunk = buf;
    return 0;
}

/* Copy pixel (cx, cy) of the loaded chunk (chunk size cw x ch0 rows valid)
 * to dst (d.c samples of d.type). */
static void put_pixel(const mg_tiff *t, int cx, int cy, int rows_valid, void *dst)
{
    int c = t->d.c;
    if (t->path == PATH_RGBA) {
        /* TIFFReadRGBATile/Strip rasters start at the bottom-left. */
        int rr = t->d.tiled ? t->d.tile_h - 1 - cy : rows_valid - 1 - cy;
        uint32_t p = ((const uint32_t *)t->chunk)[(size_t)rr * t->d.tile_w + cx];
        uint8_t *o = dst;
        o[0] = TIFFGetR(p); o[1] = TIFFGetG(p); o[2] = TIFFGetB(p);
        return;
    }
    size_t base = ((size_t)cy * t->d.tile_w + cx) * t->spp;
    for (int k = 0; k < c; k++) {
        size_t i = base + k;
        switch (t->bps) {
        case 8: {
            uint8_t v = ((const uint8_t *)t->chunk)[i];
            ((uint8_t *)dst)[k] = t->invert ? 255 - v : v;
            break;
        }
        case 16:
            if (t->sampleformat == SAMPLEFORMAT_INT) {
                int16_t v = ((const int16_t *)t->chunk)[i];
                ((float *)dst)[k] = t->invert ? (float)(-1 - v) : (float)v;
            } else {
                uint16_t v = ((const uint16_t *)t->chunk)[i];
                ((uint16_t *)dst)[k] = t->invert ? 65535 - v : v;
            }
            break;
        default: {
            float v = ((const float *)t->chunk)[i];
            ((float *)dst)[k] = t->invert ? -v : v;
        }
        }
    }
}

mg_image *mg_tiff_read_region(mg_tiff *t, int64_t x, int64_t y, int w, int h,
                              char *err, size_t errlen)
{
    int inside = x >= 0 && y >= 0 && x + w <= t->d.w && y + h <= t->d.h;
    mg_image *out = inside ? mg_image_new_uninit(w, h, t->d.c, t->d.type)
                           : mg_image_new(w, h, t->d.c, t->d.type);
    if (!out) { mg_seterr(err, errlen, "region %dx%d too large or out of memory", w, h); return NULL; }
    t->msg[0] = 0;
    size_t ps = (size_t)t->d.c * mg_pix_size(t->d.type);
    int tw = t->d.tile_w, th = t->d.tile_h;
    int64_t x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int64_t x1 = x + w < t->d.w ? x + w : t->d.w, y1 = y + h < t->d.h ? y + h : t->d.h;
    long across = (long)((t->d.w + tw - 1) / tw);
    /* samples stored exactly as delivered: copy row segments */
    int plain = t->path == PATH_DIRECT && t->spp == t->d.c && !t->invert &&
                (t->bps == 8 || (t->bps == 16 && t->sampleformat == SAMPLEFORMAT_UINT) ||
                 (t->bps == 32 && t->sampleformat == SAMPLEFORMAT_IEEEFP));
    /* whole rows of plain strips: strips inside the region are decoded
     * straight into it (no cache slot, no copy) */
    int direct = plain && !t->d.tiled && x == 0 && w == t->d.w;
    for (int64_t ty = y0 / th * th; ty < y1; ty += th) {
        int rows_valid = (int)(t->d.h - ty < th ? t->d.h - ty : th);
        if (direct && ty >= y0 && ty + rows_valid <= y1) {
            tmsize_t bytes = (tmsize_t)((size_t)rows_valid * w * ps);
            if (bytes == TIFFVStripSize(t->tif, (uint32_t)rows_valid)) {
                void *dst = (char *)out->data + (size_t)(ty - y) * w * ps;
                if (TIFFReadEncodedStrip(t->tif, (uint32_t)(ty / th), dst, bytes) < 0 || t->msg[0]) {
                    tiff_err(t, err, errlen, "cannot decode image data");
                    mg_image_free(out);
                    return NULL;
                }
                continue;
            }
        }
        for (int64_t tx = x0 / tw * tw; tx < x1; tx += tw) {
            long id = t->d.tiled ? (long)(ty / th) * across + (long)(tx / tw) : (long)(ty / th);
            if (load_chunk(t, id, err, errlen) < 0) { mg_image_free(out); return NULL; }
            int64_t ya = ty > y0 ? ty : y0, yb = ty + th < y1 ? ty + th : y1;
            int64_t xa = tx > x0 ? tx : x0, xb = tx + tw < x1 ? tx + tw : x1;
            for (int64_t yy = ya; yy < yb; yy++) {
                char *dst = (char *)out->data + ((size_t)(yy - y) * w + (size_t)(xa - x)) * ps;
                if (plain) {
                    memcpy(dst, (const char *)t->chunk + ((size_t)(yy - ty) * tw + (size_t)(xa - tx)) * ps,
                           (size_t)(xb - xa) * ps);
                    continue;
                }
                for (int64_t xx = xa; xx < xb; xx++, dst += ps)
                    put_pixel(t, (int)(xx - tx), (int)(yy - ty), rows_valid, dst);
            }
        }
    }
    return out;
}

/* The whole selected directory as a private read-only-on-disk mapping of
 * the file, when its samples are stored exactly as delivered: uncompressed
 * strips, contiguous, host byte order. Reading then costs no copy (the
 * samples are read once, by whoever uses them). NULL when not applicable. */
static mg_image *map_dir(mg_tiff *t)
{
    TIFF *tif = t->tif;
    size_t ps = (size_t)t->d.c * mg_pix_size(t->d.type);
    size_t row = (size_t)t->d.w * ps, total = row * (size_t)t->d.h;
    uint16_t fill = FILLORDER_MSB2LSB;
    TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &fill);
    int plain = t->path == PATH_DIRECT && t->spp == t->d.c && !t->invert &&
                (t->bps == 8 || (t->bps == 16 && t->sampleformat == SAMPLEFORMAT_UINT) ||
                 (t->bps == 32 && t->sampleformat == SAMPLEFORMAT_IEEEFP));
    if (!plain || t->d.tiled || t->d.compression != COMPRESSION_NONE || fill != FILLORDER_MSB2LSB ||
        (t->bps > 8 && TIFFIsByteSwapped(tif)) || total < MG_TIFF_MAP_MIN)
        return NULL;
    uint32_t ns = TIFFNumberOfStrips(tif);
    uint64_t off0 = TIFFGetStrileOffset(tif, 0);
    for (uint32_t s = 0; s < ns; s++) {
        uint64_t y = (uint64_t)s * t->rows_per_strip;
        uint64_t rows = t->d.h - y < t->rows_per_strip ? t->d.h - y : t->rows_per_strip;
        if (TIFFGetStrileOffset(tif, s) != off0 + y * row ||
            TIFFGetStrileByteCount(tif, s) < rows * row)
            return NULL;
    }
    struct stat st;
    int fd = TIFFFileno(tif);
    long pg = sysconf(_SC_PAGESIZE);
    if (fd < 0 || pg <= 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size < off0 + total) return NULL;
    uint64_t start = off0 / (uint64_t)pg * (uint64_t)pg;
    size_t len = (size_t)(off0 - start) + total;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (off_t)start);
    if (m == MAP_FAILED) return NULL;
    mg_image *im = calloc(1, sizeof *im);
    if (!im) { munmap(m, len); return NULL; }
    im->w = (int)t->d.w; im->h = (int)t->d.h; im->c = t->d.c; im->type = t->d.type;
    im->data = (char *)m + (off0 - start);
    im->map = m;
    im->map_len = len;
    return im;
}

mg_image *mg_tiff_read_dir(mg_tiff *t, char *err, size_t errlen)
{
    if (t->d.w * t->d.h * t->d.c > MG_IMAGE_MAX_SAMPLES) {
        mg_seterr(err, errlen, "image too large (%lldx%lld); use the slide options",
               (long long)t->d.w, (long long)t->d.h);
        return NULL;
    }
    mg_image *im = map_dir(t);
    return im ? im : mg_tiff_read_region(t, 0, 0, (int)t->d.w, (int)t->d.h, err, errlen);
}

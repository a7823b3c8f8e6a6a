/* mkslide: write a synthetic pyramidal whole-slide TIFF for the slide tests
 * (Python's tifffile cannot write JPEG tiles without imagecodecs).
 *
 *   mkslide OUT.tif reduced|subifd jpeg|deflate WIDTH HEIGHT TILE MPP
 *
 * Level 0 is WIDTH x HEIGHT RGB: a light background with stained "tissue"
 * blobs and texture; each further level halves the previous one until it fits
 * in 600 px (drawn afresh at its own resolution, one tile at a time, so that
 * 40k x 40k slides need no more memory than a tile). Levels are stored as
 * REDUCEDIMAGE pages of the main chain or as SubIFDs of page 0. Level 0 carries
 * XResolution = 10000/MPP per centimetre. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* Pixel (x, y) of a level of size w x h: a resolution-independent picture
 * plus pixel noise, so any level can be made one tile at a time. */
static void pixel(int64_t x, int64_t y, int64_t w, int64_t h, double scale, uint8_t *o)
{
    double u = (double)x / w, v = (double)y / h;
    double d1 = (u - 0.3) * (u - 0.3) / 0.03 + (v - 0.4) * (v - 0.4) / 0.08;
    double d2 = (u - 0.72) * (u - 0.72) / 0.02 + (v - 0.65) * (v - 0.65) / 0.03;
    unsigned hsh = (unsigned)((uint64_t)x * 73856093u ^ (uint64_t)y * 19349663u);
    int noise = (int)(hsh % 9) - 4;
    if (d1 < 1 || d2 < 1) {
        double t = 0.5 + 0.5 * sin(x * scale * 0.05) * cos(y * scale * 0.07);
        o[0] = (uint8_t)(200 - 60 * t + noise);
        o[1] = (uint8_t)(110 - 50 * t + noise);
        o[2] = (uint8_t)(170 - 20 * t + noise);
    } else {
        o[0] = (uint8_t)(236 + noise); o[1] = (uint8_t)(234 + noise); o[2] = (uint8_t)(238 + noise);
    }
}

static int write_level(TIFF *t, int64_t w, int64_t h, double scale, int tile, int jpeg,
                       int reduced, double mpp, int nsub)
{
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_TILEWIDTH, tile);
    TIFFSetField(t, TIFFTAG_TILELENGTH, tile);
    if (reduced) TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_REDUCEDIMAGE);
    if (jpeg) {
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
        TIFFSetField(t, TIFFTAG_YCBCRSUBSAMPLING, 2, 2);
        TIFFSetField(t, TIFFTAG_JPEGQUALITY, 90);
        TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    } else {
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    }
    if (mpp > 0) {
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)(10000.0 / mpp));
        TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)(10000.0 / mpp));
    }
    if (nsub > 0) {
        uint64_t offs[32] = {0};
        TIFFSetField(t, TIFFTAG_SUBIFD, (uint16_t)nsub, offs);
    }
    uint8_t *buf = malloc((size_t)tile * tile * 3);
    if (!buf) return -1;
    for (int64_t ty = 0; ty < h; ty += tile)
        for (int64_t tx = 0; tx < w; tx += tile) {
            memset(buf, 0, (size_t)tile * tile * 3);
            for (int y = 0; y < tile && ty + y < h; y++)
                for (int x = 0; x < tile && tx + x < w; x++)
                    pixel(tx + x, ty + y, w, h, scale, buf + ((size_t)y * tile + x) * 3);
            if (TIFFWriteTile(t, buf, (uint32_t)tx, (uint32_t)ty, 0, 0) < 0) { free(buf); return -1; }
        }
    free(buf);
    return TIFFWriteDirectory(t) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: mkslide OUT reduced|subifd jpeg|deflate W H TILE MPP\n");
        return 2;
    }
    int sub = !strcmp(argv[2], "subifd"), jpeg = !strcmp(argv[3], "jpeg");
    int64_t w = atoll(argv[4]), h = atoll(argv[5]);
    int tile = atoi(argv[6]);
    double mpp = atof(argv[7]);
    int nlev = 1;
    for (int64_t a = w, b = h; a > 600 || b > 600; a /= 2, b /= 2) nlev++;
    TIFF *t = TIFFOpen(argv[1], (double)w * h * 3 > 2e9 ? "w8" : "w");
    if (!t) return 1;
    int64_t cw = w, ch = h;
    for (int l = 0; l < nlev; l++, cw /= 2, ch /= 2) {
        if (write_level(t, cw, ch, (double)w / cw, tile, jpeg, l > 0, l == 0 ? mpp : 0,
                        l == 0 && sub ? nlev - 1 : 0) < 0) {
            fprintf(stderr, "mkslide: write failed\n");
            return 1;
        }
    }
    TIFFClose(t);
    return 0;
}

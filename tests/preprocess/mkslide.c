/* mkslide: write a synthetic pyramidal whole-slide TIFF for the slide tests
 * (Python's tifffile cannot write JPEG tiles without imagecodecs).
 *
 *   mkslide OUT.tif reduced|subifd jpeg|deflate WIDTH HEIGHT TILE MPP
 *
 * Level 0 is WIDTH x HEIGHT RGB: a light background with stained "tissue"
 * blobs and texture; each further level halves the previous one (2x2 mean)
 * until it fits in 600 px. Levels are stored as REDUCEDIMAGE pages of the main
 * chain or as SubIFDs of page 0. Level 0 carries XResolution = 10000/MPP per
 * centimetre. Memory: one level at a time. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

static uint8_t *make_level0(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    if (!p) return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = (double)x / w, v = (double)y / h;
            double d1 = (u - 0.3) * (u - 0.3) / 0.03 + (v - 0.4) * (v - 0.4) / 0.08;
            double d2 = (u - 0.72) * (u - 0.72) / 0.02 + (v - 0.65) * (v - 0.65) / 0.03;
            int tissue = d1 < 1 || d2 < 1;
            unsigned hsh = (unsigned)(x * 73856093u ^ y * 19349663u);
            int noise = (int)(hsh % 9) - 4;
            uint8_t *o = p + ((size_t)y * w + x) * 3;
            if (tissue) {
                double t = 0.5 + 0.5 * sin(x * 0.05) * cos(y * 0.07);
                o[0] = (uint8_t)(200 - 60 * t + noise);
                o[1] = (uint8_t)(110 - 50 * t + noise);
                o[2] = (uint8_t)(170 - 20 * t + noise);
            } else {
                o[0] = (uint8_t)(236 + noise); o[1] = (uint8_t)(234 + noise); o[2] = (uint8_t)(238 + noise);
            }
        }
    return p;
}

static uint8_t *half(const uint8_t *p, int w, int h, int *ow, int *oh)
{
    *ow = w / 2; *oh = h / 2;
    uint8_t *q = malloc((size_t)*ow * *oh * 3);
    if (!q) return NULL;
    for (int y = 0; y < *oh; y++)
        for (int x = 0; x < *ow; x++)
            for (int c = 0; c < 3; c++) {
                int s = p[((size_t)(2 * y) * w + 2 * x) * 3 + c] + p[((size_t)(2 * y) * w + 2 * x + 1) * 3 + c] +
                        p[((size_t)(2 * y + 1) * w + 2 * x) * 3 + c] + p[((size_t)(2 * y + 1) * w + 2 * x + 1) * 3 + c];
                q[((size_t)y * *ow + x) * 3 + c] = (uint8_t)((s + 2) / 4);
            }
    return q;
}

static int write_level(TIFF *t, const uint8_t *p, int w, int h, int tile, int jpeg, int reduced,
                       double mpp, int nsub)
{
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
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
    for (int ty = 0; ty < h; ty += tile)
        for (int tx = 0; tx < w; tx += tile) {
            memset(buf, 0, (size_t)tile * tile * 3);
            for (int y = 0; y < tile && ty + y < h; y++) {
                int n = tx + tile <= w ? tile : w - tx;
                memcpy(buf + (size_t)y * tile * 3, p + ((size_t)(ty + y) * w + tx) * 3, (size_t)n * 3);
            }
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
    int w = atoi(argv[4]), h = atoi(argv[5]), tile = atoi(argv[6]);
    double mpp = atof(argv[7]);
    int nlev = 1;
    for (int a = w, b = h; a > 600 || b > 600; a /= 2, b /= 2) nlev++;
    TIFF *t = TIFFOpen(argv[1], w * (double)h * 3 > 3e9 ? "w8" : "w");
    if (!t) return 1;
    uint8_t *p = make_level0(w, h);
    if (!p) return 1;
    int cw = w, ch = h;
    for (int l = 0; l < nlev; l++) {
        if (l > 0) {
            int nw, nh;
            uint8_t *q = half(p, cw, ch, &nw, &nh);
            free(p);
            if (!q) return 1;
            p = q; cw = nw; ch = nh;
        }
        if (write_level(t, p, cw, ch, tile, jpeg, l > 0, l == 0 ? mpp : 0,
                        l == 0 && sub ? nlev - 1 : 0) < 0) {
            fprintf(stderr, "mkslide: write failed\n");
            return 1;
        }
    }
    free(p);
    TIFFClose(t);
    return 0;
}

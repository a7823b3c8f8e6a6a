/* The resizer gives the same bytes whatever the CPU: the library's
 * mg_resize_ex (which picks AVX2 copies of its loops at run time where the
 * CPU has them) against a copy of the same source compiled with the baseline
 * instruction set only (MG_NO_CLONES), on 8-bit, 16-bit and float images of
 * one and three channels, every convolution filter, shrinking, enlarging and
 * one-axis resizes, one and three threads. (Agreement with Pillow is checked
 * by tests/preprocess/image2d.sh.) On a CPU without AVX2 both sides run the
 * baseline code and the test passes trivially. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_resize.h"

/* the baseline copy, its public names prefixed so that both link */
#define MG_NO_CLONES 1
#define mg_resize base_mg_resize
#define mg_resize_ex base_mg_resize_ex
#define mg_filter_from_name base_mg_filter_from_name
#define mg_filter_name base_mg_filter_name
/* (the header is already included: declare the prefixed names) */
mg_image *mg_resize(const mg_image *im, int ow, int oh, int filter, char *err, size_t errlen);
mg_image *mg_resize_ex(const mg_image *im, int ow, int oh, int filter, double in_scale,
                       mg_pool *pool, char *err, size_t errlen);
int mg_filter_from_name(const char *name);
const char *mg_filter_name(int filter);
#include "../../common/mg_resize.c"
#undef mg_resize
#undef mg_resize_ex
#undef mg_filter_from_name
#undef mg_filter_name

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static mg_image *random_image(int w, int h, int c, mg_pixtype type)
{
    mg_image *im = mg_image_new(w, h, c, type);
    if (!im) return NULL;
    size_t n = (size_t)w * h * c;
    for (size_t i = 0; i < n; i++) {
        if (type == MG_PIX_U8) ((uint8_t *)im->data)[i] = (uint8_t)rnd();
        else if (type == MG_PIX_U16) ((uint16_t *)im->data)[i] = (uint16_t)rnd();
        else ((float *)im->data)[i] = (float)(rnd() % 100000) / 25000.0f - 1.0f;
    }
    return im;
}

int main(void)
{
    static const struct { int w, h; } in_sizes[] = { {37, 53}, {301, 97}, {130, 260} };
    static const struct { int w, h; } out_sizes[] = { {17, 29}, {448, 131}, {0, 23}, {61, 0} };
    static const int filters[] = { MG_FILTER_BILINEAR, MG_FILTER_BICUBIC, MG_FILTER_LANCZOS,
                                   MG_FILTER_BOX, MG_FILTER_HAMMING };
    static const struct { mg_pixtype type; int c; const char *name; } kinds[] = {
        {MG_PIX_U8, 1, "8bit_grey"}, {MG_PIX_U8, 3, "8bit_rgb"},
        {MG_PIX_U16, 1, "16bit_grey"}, {MG_PIX_U16, 3, "16bit_rgb"},
        {MG_PIX_F32, 1, "float_grey"},
    };
    int failed = 0;
    char err[256];
    mg_pool *pools[2] = { NULL, mg_pool_create(3) };
    if (!pools[1]) { printf("FAIL resize_same_bytes_any_cpu: no threads\n"); return 1; }
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        int bad = 0;
        for (size_t s = 0; s < sizeof in_sizes / sizeof *in_sizes; s++) {
            mg_image *im = random_image(in_sizes[s].w, in_sizes[s].h, kinds[k].c, kinds[k].type);
            if (!im) { printf("FAIL resize_same_bytes_any_cpu: out of memory\n"); return 1; }
            double scale = kinds[k].type == MG_PIX_U16 ? 1.0 / 65535.0 : 1.0;
            for (size_t o = 0; o < sizeof out_sizes / sizeof *out_sizes; o++) {
                int ow = out_sizes[o].w ? out_sizes[o].w : im->w;
                int oh = out_sizes[o].h ? out_sizes[o].h : im->h;
                for (size_t f = 0; f < sizeof filters / sizeof *filters; f++)
                    for (int threads = 1; threads <= 3; threads += 2) {
                        mg_pool *pool = pools[threads > 1];
                        mg_image *a = mg_resize_ex(im, ow, oh, filters[f], scale, pool, err, sizeof err);
                        mg_image *b = base_mg_resize_ex(im, ow, oh, filters[f], scale, pool, err, sizeof err);
                        if (!a || !b || a->w != b->w || a->h != b->h || a->type != b->type ||
                            memcmp(a->data, b->data, (size_t)a->w * a->h * a->c * mg_pix_size(a->type))) {
                            if (!bad)
                                printf("FAIL resize_same_bytes_any_cpu_%s: %dx%d -> %dx%d %s, %d threads\n",
                                       kinds[k].name, im->w, im->h, ow, oh, mg_filter_name(filters[f]), threads);
                            bad++;
                        }
                        mg_image_free(a);
                        mg_image_free(b);
                    }
            }
            mg_image_free(im);
        }
        if (!bad) printf("PASS resize_same_bytes_any_cpu_%s\n", kinds[k].name);
        failed |= bad != 0;
    }
    mg_pool_free(pools[1]);
    return failed;
}

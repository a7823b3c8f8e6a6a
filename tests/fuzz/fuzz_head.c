/* libFuzzer harness for fitted heads as mg-decode classify loads them: input =
 * config.json, NUL, head.safetensors, written to a directory in /dev/shm
 * (heads are read from a directory); a head that loads predicts one row. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_files.h"
#include "mg_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_dir("fuzz_head");
    const uint8_t *z = memchr(data, 0, size);
    if (!z) return 0;
    if (fuzz_put(dir, "config.json", data, (size_t)(z - data)) < 0 ||
        fuzz_put(dir, "head.safetensors", z + 1, size - (size_t)(z + 1 - data)) < 0) return 0;
    char err[512];
    mg_head *h = mg_head_load(dir, err, sizeof err);
    if (!h) return 0;
    if (h->d < 1 || h->nout < 1 || !h->outputs) abort();
    if (h->d <= 4096) {
        float x[4096];
        double *out = malloc(sizeof *out * (size_t)h->nout);
        for (int i = 0; i < h->d; i++) x[i] = (float)(i % 7) - 3.0f;
        if (out) (void)mg_head_predict(h, x, 1, out);   /* -1: out of memory */
        free(out);
    }
    mg_head_free(h);
    return 0;
}

/* libFuzzer harness for the safetensors reader: any bytes → parse the header →
 * look every tensor up by name → convert the float ones to f32. */
#include <stdint.h>
#include <stdlib.h>
#include "mg_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mg_st *st = mg_st_open_mem(data, size, NULL, 0);
    if (!st) return 0;
    float buf[64];
    for (int i = 0; i < mg_st_count(st); i++) {
        mg_st_tensor *t = mg_st_at(st, i);
        if (mg_st_find(st, t->name) != t) abort();
        if ((const uint8_t *)t->data < data || (const uint8_t *)t->data + t->nbytes > data + size) abort();
        int64_t n = t->numel < 64 ? t->numel : 64;
        int is_float = t->dtype == MG_F32 || t->dtype == MG_F16 || t->dtype == MG_BF16;
        if (mg_st_to_f32(t, t->numel - n, n, buf) != (is_float ? 0 : -1)) abort();
    }
    mg_st_close(st);
    return 0;
}

/* libFuzzer harness for sharded checkpoints: input = model.safetensors.index.json,
 * NUL, a 2-byte little-endian length n, n bytes of the first shard, then the
 * second shard. The files go to a directory in /dev/shm (the shards are mapped
 * from files) as model-00001-of-00002.safetensors and
 * model-00002-of-00002.safetensors; the directory is opened as the model
 * families open it, every tensor looked up by name and read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_files.h"
#include "mg_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_dir("fuzz_index");
    const uint8_t *z = memchr(data, 0, size);
    if (!z || (size_t)(data + size - z) < 3) return 0;
    size_t li = (size_t)(z - data), rest = size - li - 3, n1 = z[1] | (size_t)z[2] << 8;
    if (n1 > rest) n1 = rest;
    const uint8_t *s1 = z + 3, *s2 = s1 + n1;
    if (fuzz_put(dir, "model.safetensors.index.json", data, li) < 0 ||
        fuzz_put(dir, "model-00001-of-00002.safetensors", s1, n1) < 0 ||
        fuzz_put(dir, "model-00002-of-00002.safetensors", s2, rest - n1) < 0) return 0;
    char err[512];
    mg_st *st = mg_st_open_dir(dir, err, sizeof err);
    if (!st) return 0;
    float buf[64];
    for (int i = 0; i < mg_st_count(st); i++) {
        mg_st_tensor *t = mg_st_at(st, i);
        if (mg_st_find(st, t->name) != t) abort();
        int64_t n = t->numel < 64 ? t->numel : 64;
        int is_float = t->dtype == MG_F32 || t->dtype == MG_F16 || t->dtype == MG_BF16;
        if (mg_st_to_f32(t, t->numel - n, n, buf) != (is_float ? 0 : -1)) abort();
        if (n > 0 && is_float) (void)mg_st_to_f32(t, 0, 1, buf);
    }
    mg_st_close(st);
    return 0;
}

/* libFuzzer harness for the .npy reader (mg-stream import, mg-encode2d/3d and
 * mg-preprocess inputs): any bytes are written to a file in /dev/shm (the
 * reader takes a path) and read as a tensor; what was read is written back as
 * .npy to memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_files.h"
#include "mg_npy.h"
#include "mg_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[160];
    const char *dir = fuzz_dir("fuzz_npy");
    if (fuzz_put(dir, "x.npy", data, size) < 0) return 0;
    fuzz_path(path, dir, "x.npy");
    char err[256];
    mg_record *rec = mg_record_init();
    if (!rec) return 0;
    if (mg_npy_read(path, rec, "x", err, sizeof err) == 0) {
        const mg_tensor *t = mg_record_find_tensor(rec, "x");
        if (!t) abort();
        char *buf = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&buf, &len);
        if (mf) {
            if (mg_npy_write(mf, t, err, sizeof err) < 0) abort();   /* what was read writes back */
            fclose(mf);
        }
        free(buf);
    }
    mg_record_destroy(rec);
    return 0;
}

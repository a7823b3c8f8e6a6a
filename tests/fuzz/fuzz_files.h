/* fuzz_files.h: the harnesses' scratch files. Readers that take a path (or a
 * checkpoint directory) read the fuzzed bytes from files in a directory of
 * /dev/shm private to the process. */
#ifndef FUZZ_FILES_H
#define FUZZ_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* /dev/shm/NAME.PID, made on first use; the path is kept in dir[64]. */
static inline const char *fuzz_dir(char dir[64], const char *name)
{
    if (!dir[0]) {
        snprintf(dir, 64, "/dev/shm/%s.%d", name, (int)getpid());
        if (mkdir(dir, 0700) < 0 && access(dir, W_OK) < 0) abort();
    }
    return dir;
}

/* Write n bytes of d to dir/name; d NULL removes the file. 0 or -1. */
static inline int fuzz_put(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!d) { unlink(path); return 0; }
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    int ok = fwrite(d, 1, n, fp) == n;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

#endif

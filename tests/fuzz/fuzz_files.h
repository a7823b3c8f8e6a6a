/* fuzz_files.h: the harnesses' scratch files. Readers that take a path (or a
 * checkpoint directory) read the fuzzed bytes from files in a directory of
 * /dev/shm private to the process, removed with its files at exit. */
#ifndef FUZZ_FILES_H
#define FUZZ_FILES_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir_path[64];

static void fuzz_dir_remove(void)
{
    DIR *d = opendir(fuzz_dir_path);
    if (!d) return;
    struct dirent *e;
    char p[352];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", fuzz_dir_path, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(fuzz_dir_path);
}

/* /dev/shm/NAME.PID, made on first use. */
static inline const char *fuzz_dir(const char *name)
{
    if (!fuzz_dir_path[0]) {
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "/dev/shm/%s.%d", name, (int)getpid());
        if (mkdir(fuzz_dir_path, 0700) < 0 && access(fuzz_dir_path, W_OK) < 0) abort();
        atexit(fuzz_dir_remove);
    }
    return fuzz_dir_path;
}

/* The path of file name in the directory (a static buffer per call site is
 * the caller's: out[160]). */
static inline const char *fuzz_path(char out[160], const char *dir, const char *name)
{
    snprintf(out, 160, "%s/%s", dir, name);
    return out;
}

/* Write n bytes of d to dir/name; d NULL removes the file. 0 or -1. */
static inline int fuzz_put(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[160];
    fuzz_path(path, dir, name);
    if (!d) { unlink(path); return 0; }
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    int ok = fwrite(d, 1, n, fp) == n;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

#endif

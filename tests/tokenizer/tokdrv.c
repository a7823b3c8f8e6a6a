/* tokdrv: test driver for common/mg_tokenizer.h.
 *   tokdrv encode TOKENIZER [--no-special]   escaped text lines → id lines
 *   tokdrv decode TOKENIZER [--skip-special] id lines → escaped text lines
 *   tokdrv info TOKENIZER                    vocab size, bos, eos, pad
 *   tokdrv piece TOKENIZER                   piece names (one a line) → ids
 *   tokdrv time TOKENIZER                    "load_s encode_s ids": wall seconds to load,
 *                                            then to encode every escaped line (bench)
 * Text lines use backslash escapes (\n \t \r \\ \xHH) both ways so that any byte
 * string, newlines and invalid UTF-8 included, fits on one line. A line that fails
 * prints "!" and the error, and the exit status is then 1. */
#include "mg_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Unescape s in place; returns the byte length. */
static size_t unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) { s[o++] = s[i]; continue; }
        char c = s[++i];
        if (c == 'n') s[o++] = '\n';
        else if (c == 't') s[o++] = '\t';
        else if (c == 'r') s[o++] = '\r';
        else if (c == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else s[o++] = c;
    }
    return o;
}

static void put_escaped(const char *s, size_t n)
{
    for (const char *e = s + n; s < e; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\') fputs("\\\\", stdout);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('\n');
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tokdrv encode|decode|info|piece TOKENIZER [--no-special|--skip-special]\n");
        return 2;
    }
    const char *mode = argv[1];
    int flag = argc > 3;
    char err[512];
    double t0 = now_s();
    mg_tokenizer *t = mg_tokenizer_load(argv[2], err, sizeof err);
    double t_load = now_s() - t0;
    if (!t) { fprintf(stderr, "tokdrv: error: %s\n", err); return 1; }
    int status = 0;
    if (!strcmp(mode, "info")) {
        printf("%d %d %d %d\n", (int)mg_tokenizer_vocab_size(t), (int)mg_tokenizer_bos(t),
               (int)mg_tokenizer_eos(t), (int)mg_tokenizer_pad(t));
        mg_tokenizer_free(t);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    if (!strcmp(mode, "time")) {
        /* read everything first so that only encoding is timed */
        char **lines = NULL; size_t *lens = NULL, nl = 0, total = 0;
        while ((got = getline(&line, &cap, stdin)) >= 0) {
            size_t n = (size_t)got;
            if (n && line[n - 1] == '\n') line[--n] = 0;
            lines = realloc(lines, (nl + 1) * sizeof *lines);
            lens = realloc(lens, (nl + 1) * sizeof *lens);
            lens[nl] = unescape(line, n);
            lines[nl] = malloc(lens[nl] + 1);
            memcpy(lines[nl], line, lens[nl]);
            nl++;
        }
        t0 = now_s();
        for (size_t i = 0; i < nl; i++) {
            int32_t *ids; size_t nid;
            if (mg_tokenizer_encode(t, lines[i], lens[i], 1, &ids, &nid, err, sizeof err) == 0) total += nid;
            free(ids);
        }
        printf("%.4f %.4f %zu\n", t_load, now_s() - t0, total);
        for (size_t i = 0; i < nl; i++) free(lines[i]);
        free(lines); free(lens); free(line);
        mg_tokenizer_free(t);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n') line[--n] = 0;
        if (!strcmp(mode, "encode")) {
            n = unescape(line, n);
            int32_t *ids; size_t nid;
            if (mg_tokenizer_encode(t, line, n, !flag, &ids, &nid, err, sizeof err) < 0) {
                printf("!%s\n", err);
                status = 1;
                continue;
            }
            for (size_t i = 0; i < nid; i++) printf(i ? " %d" : "%d", (int)ids[i]);
            putchar('\n');
            free(ids);
        } else if (!strcmp(mode, "decode")) {
            size_t nid = 0, capid = 16;
            int32_t *ids = malloc(capid * sizeof *ids);
            char *p = line, *end;
            for (;;) {
                long v = strtol(p, &end, 10);
                if (end == p) break;
                if (nid == capid) ids = realloc(ids, (capid *= 2) * sizeof *ids);
                ids[nid++] = (int32_t)v;
                p = end;
            }
            size_t len;
            char *s = mg_tokenizer_decode_n(t, ids, nid, flag, &len, err, sizeof err);
            free(ids);
            if (!s) { printf("!%s\n", err); status = 1; continue; }
            put_escaped(s, len);
            free(s);
        } else if (!strcmp(mode, "piece")) {
            printf("%d\n", (int)mg_tokenizer_id(t, line));
        } else {
            fprintf(stderr, "tokdrv: unknown mode %s\n", mode);
            status = 2;
            break;
        }
    }
    free(line);
    mg_tokenizer_free(t);
    if (fflush(stdout) != 0) return 1;
    return status;
}

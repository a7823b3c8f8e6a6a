/* mg_npy.c: the .npy format (numpy/lib/format.py): magic "\x93NUMPY", major and
 * minor version, header length (u16 for 1.0, u32 for 2.0/3.0), then a Python
 * dict literal {'descr': …, 'fortran_order': …, 'shape': (…), } padded to a
 * multiple of 64 bytes, then the raw data. */
#include <stdio.h>
#include "mg_npy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mg_dtype.h"
#include "mg_err.h"
#include "mg_tensor.h"

#define MAX_NPY_HEADER (1u << 20)

static const struct { const char *descr; int dtype; } DESCRS[] = {
    {"|u1", MG_U8}, {"<u1", MG_U8}, {"|b1", MG_U8}, {"|i1", MG_I8}, {"<i1", MG_I8},
    {"<u2", MG_U16}, {"<i2", MG_I16}, {"<i4", MG_I32}, {"<i8", MG_I64},
    {"<f2", MG_F16}, {"<f4", MG_F32}, {"<f8", MG_F64},
};

/* Value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p++ != ':') return NULL;
    while (*p == ' ') p++;
    return p;
}

int mg_npy_read(const char *path, mg_record *rec, const char *name, char *err, size_t errlen)
{
    FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    char *hdr = NULL;
    int ret = -1;
    if (!fp) return mg_fail(err, errlen, strerror(errno));
    unsigned char pre[12];
    if (fread(pre, 1, 8, fp) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        mg_fail(err, errlen, "not a .npy file");
        goto out;
    }
    size_t hlen;
    if (pre[6] == 1) {
        if (fread(pre + 8, 1, 2, fp) != 2) { mg_fail(err, errlen, "truncated .npy header"); goto out; }
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 8, 1, 4, fp) != 4) { mg_fail(err, errlen, "truncated .npy header"); goto out; }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        mg_fail(err, errlen, "unsupported .npy version");
        goto out;
    }
    if (hlen == 0 || hlen > MAX_NPY_HEADER) { mg_fail(err, errlen, "bad .npy header length"); goto out; }
    if (!(hdr = malloc(hlen + 1))) { mg_fail(err, errlen, "out of memory"); goto out; }
    if (fread(hdr, 1, hlen, fp) != hlen) { mg_fail(err, errlen, "truncated .npy header"); goto out; }
    hdr[hlen] = 0;
    const char *d = dict_value(hdr, "descr"), *fo = dict_value(hdr, "fortran_order"),
               *sh = dict_value(hdr, "shape");
    if (!d || !fo || !sh || *d != '\'' || *sh != '(') { mg_fail(err, errlen, "malformed .npy header"); goto out; }
    int dtype = 0;
    for (size_t i = 0; i < sizeof DESCRS / sizeof DESCRS[0]; i++) {
        size_t l = strlen(DESCRS[i].descr);
        if (strncmp(d + 1, DESCRS[i].descr, l) == 0 && d[1 + l] == '\'') dtype = DESCRS[i].dtype;
    }
    if (!dtype) { mg_fail(err, errlen, "unsupported .npy dtype (need little-endian integer or float)"); goto out; }
    if (strncmp(fo, "False", 5) != 0) { mg_fail(err, errlen, "Fortran-order .npy arrays are not supported"); goto out; }
    int64_t shape[MG_MAX_DIMS];
    int ndim = 0;
    const char *p = sh + 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        if (ndim == MG_MAX_DIMS) { mg_fail(err, errlen, "more than 8 dimensions"); goto out; }
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0) { mg_fail(err, errlen, "malformed .npy shape"); goto out; }
        shape[ndim++] = v;
        p = end;
    }
    /* Bound the allocation by what the input can hold: the rest of a regular
     * file, else the stream's record limit (a pipe's length is unknown). */
    uint64_t have = mg_stream_max_record(), need = mg_dtype_size(dtype);
    struct stat sb;
    long pos = ftell(fp);
    if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) && pos >= 0)
        have = sb.st_size > pos ? (uint64_t)(sb.st_size - pos) : 0;
    for (int i = 0; i < ndim && need; i++)
        need = (uint64_t)shape[i] > have / need ? have + 1 : need * (uint64_t)shape[i];
    if (need > have) { mg_fail(err, errlen, "truncated .npy data"); goto out; }
    mg_tensor *t = mg_record_add_tensor(rec, name, dtype, ndim, shape);
    if (!t) { mg_fail(err, errlen, "absurd .npy shape or duplicate tensor name"); goto out; }
    if (fread(t->data, 1, t->nbytes, fp) != t->nbytes) { mg_fail(err, errlen, "truncated .npy data"); goto out; }
    ret = 0;
out:
    free(hdr);
    if (fp && fp != stdin) fclose(fp);
    return ret;
}

int mg_npy_write(FILE *fp, const mg_tensor *t, char *err, size_t errlen)
{
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof DESCRS / sizeof DESCRS[0]; i++)
        if (DESCRS[i].dtype == t->dtype) { descr = DESCRS[i].descr; break; }
    if (t->dtype == MG_U8) descr = "|u1";
    if (t->dtype == MG_I8) descr = "|i1";
    if (t->dtype == MG_BF16) descr = "<f4";
    if (!descr) return mg_fail(err, errlen, "unsupported dtype");
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->ndim; i++)
        n += snprintf(h + n, sizeof h - n, "%lld,%s", (long long)t->shape[i], t->ndim > 1 && i < t->ndim - 1 ? " " : "");
    n += snprintf(h + n, sizeof h - n, "), }");
    /* Pad so that magic(6)+version(2)+len(2)+header is a multiple of 64. */
    int total = (10 + n + 1 + 63) / 64 * 64;
    while (10 + n + 1 < total) h[n++] = ' ';
    h[n++] = '\n';
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
    if (fwrite(pre, 1, 10, fp) != 10 || fwrite(h, 1, n, fp) != (size_t)n) return mg_fail(err, errlen, strerror(errno));
    if (t->dtype == MG_BF16) {
        int64_t numel = mg_tensor_numel(t);
        float buf[4096];
        for (int64_t i = 0; i < numel; i += 4096) {
            size_t k = numel - i < 4096 ? (size_t)(numel - i) : 4096;
            mg_convert_to_f32(buf, (const uint16_t *)t->data + i, MG_BF16, k);
            if (fwrite(buf, 4, k, fp) != k) return mg_fail(err, errlen, strerror(errno));
        }
        return 0;
    }
    if (t->nbytes && fwrite(t->data, 1, t->nbytes, fp) != t->nbytes) return mg_fail(err, errlen, strerror(errno));
    return 0;
}

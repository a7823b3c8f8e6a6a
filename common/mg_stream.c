/* mg_stream.c: reader and writer of the mgt tensor stream (spec: man/mgt.5). */
#include "mg_stream.h"

#include "mg_err.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "mg_output.h"

static const unsigned char MGT_MAGIC[8] = {0x89, 'M', 'G', 'T', '\r', '\n', 0x1a, '\n'};
#define MGT_VERSION 1
#define FRAME_HDR 16           /* kind[4] flags u32 body_len u64 */
#define TENSOR_ALIGN 64        /* tensor data offset within a record body */
#define IO_BUF (1u << 20)
#define MAX_PROV_BYTES (64u << 20)

/* ------------------------------------------------------- little endian */

static void put_u16(unsigned char *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static uint16_t get_u16(const unsigned char *p) { return p[0] | (uint16_t)p[1] << 8; }
static uint32_t get_u32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static void *alloc_aligned(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, TENSOR_ALIGN, n ? n : 1) != 0) return NULL;
    return p;
}

/* ------------------------------------------------------------- records */

int64_t mg_tensor_numel(const mg_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

/* Byte size of a shape, or -1 if a dimension is negative or the product
 * overflows MG_MAX_RECORD_BYTES. */
static int64_t shape_nbytes(int dtype, int ndim, const int64_t *shape)
{
    size_t es = mg_dtype_size(dtype);
    if (!es || !mg_dtype_in_stream(dtype) || ndim < 0 || ndim > MG_MAX_DIMS) return -1;
    uint64_t n = es;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (shape[i] == 0) { n = 0; continue; }
        if (n > MG_MAX_RECORD_BYTES / (uint64_t)shape[i]) return -1;
        n *= (uint64_t)shape[i];
    }
    return (int64_t)n;
}

mg_record *mg_record_init(void) { return calloc(1, sizeof(mg_record)); }

void mg_record_clear(mg_record *r)
{
    for (int i = 0; i < r->n_meta; i++) { free(r->meta[i].key); free(r->meta[i].value); }
    for (int i = 0; i < r->n_tensors; i++) {
        free(r->tensors[i].name);
        if (r->tensors[i].owns_data) free(r->tensors[i].data);
    }
    r->n_meta = r->n_tensors = 0;
}

void mg_record_destroy(mg_record *r)
{
    if (!r) return;
    mg_record_clear(r);
    free(r->meta);
    free(r->tensors);
    free(r->body);
    free(r);
}

static int find_meta(const mg_record *r, const char *key)
{
    for (int i = 0; i < r->n_meta; i++)
        if (strcmp(r->meta[i].key, key) == 0) return i;
    return -1;
}

/* Takes ownership of key and value (both freed on failure). */
static int set_meta_owned(mg_record *r, char *key, char *value)
{
    if (!key || !value) goto fail;
    int i = find_meta(r, key);
    if (i >= 0) { free(key); free(r->meta[i].value); r->meta[i].value = value; return 0; }
    if (r->n_meta == r->m_meta) {
        int m = r->m_meta ? 2 * r->m_meta : 8;
        mg_meta *p = realloc(r->meta, m * sizeof *p);
        if (!p) goto fail;
        r->meta = p; r->m_meta = m;
    }
    r->meta[r->n_meta].key = key;
    r->meta[r->n_meta++].value = value;
    return 0;
fail:
    free(key); free(value);
    return -1;
}

int mg_record_set_meta(mg_record *r, const char *key, const char *value)
{
    return set_meta_owned(r, strdup(key), strdup(value));
}

int mg_record_set_metaf(mg_record *r, const char *key, const char *fmt, ...)
{
    va_list ap;
    char *v = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&v, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    return set_meta_owned(r, strdup(key), v);
}

const char *mg_record_get_meta(const mg_record *r, const char *key)
{
    int i = find_meta(r, key);
    return i >= 0 ? r->meta[i].value : NULL;
}

void mg_record_del_meta(mg_record *r, const char *key)
{
    int i = find_meta(r, key);
    if (i < 0) return;
    free(r->meta[i].key); free(r->meta[i].value);
    memmove(r->meta + i, r->meta + i + 1, (r->n_meta - i - 1) * sizeof *r->meta);
    r->n_meta--;
}

int mg_record_copy_meta(mg_record *dst, const mg_record *src)
{
    for (int i = 0; i < src->n_meta; i++)
        if (mg_record_set_meta(dst, src->meta[i].key, src->meta[i].value) < 0) return -1;
    return 0;
}

mg_tensor *mg_record_find_tensor(const mg_record *r, const char *name)
{
    for (int i = 0; i < r->n_tensors; i++)
        if (strcmp(r->tensors[i].name, name) == 0) return &r->tensors[i];
    return NULL;
}

/* Append a tensor slot with a copy of the name; data left to the caller. */
static mg_tensor *push_tensor(mg_record *r, const char *name, size_t name_len, int dtype,
                              int ndim, const int64_t *shape)
{
    if (name_len == 0 || name_len > MG_MAX_NAME || r->n_tensors >= MG_MAX_TENSORS) return NULL;
    int64_t nb = shape_nbytes(dtype, ndim, shape);
    if (nb < 0) return NULL;
    char *nm = strndup(name, name_len);
    if (!nm) return NULL;
    if (mg_record_find_tensor(r, nm)) { free(nm); return NULL; }
    if (r->n_tensors == r->m_tensors) {
        int m = r->m_tensors ? 2 * r->m_tensors : 4;
        mg_tensor *p = realloc(r->tensors, m * sizeof *p);
        if (!p) { free(nm); return NULL; }
        r->tensors = p; r->m_tensors = m;
    }
    mg_tensor *t = &r->tensors[r->n_tensors++];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->nbytes = (size_t)nb;
    return t;
}

mg_tensor *mg_record_add_tensor(mg_record *r, const char *name, int dtype, int ndim,
                                const int64_t *shape)
{
    mg_tensor *t = push_tensor(r, name, strlen(name), dtype, ndim, shape);
    if (!t) return NULL;
    t->data = alloc_aligned(t->nbytes);
    if (!t->data) { free(t->name); r->n_tensors--; return NULL; }
    memset(t->data, 0, t->nbytes);
    t->owns_data = 1;
    return t;
}

mg_tensor *mg_record_add_tensor_ref(mg_record *r, const char *name, int dtype, int ndim,
                                    const int64_t *shape, void *data)
{
    mg_tensor *t = push_tensor(r, name, strlen(name), dtype, ndim, shape);
    if (t) t->data = data;
    return t;
}

/* ---------------------------------------------------------- provenance */

void mg_prov_free(mg_prov *p)
{
    for (int i = 0; i < p->n; i++) free(p->lines[i]);
    free(p->lines);
    memset(p, 0, sizeof *p);
}

int mg_prov_add(mg_prov *p, const char *line)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->lines[i], line) == 0) return 0;
    if (p->n >= MG_MAX_PROV) return -1;
    if (p->n == p->m) {
        int m = p->m ? 2 * p->m : 8;
        char **l = realloc(p->lines, m * sizeof *l);
        if (!l) return -1;
        p->lines = l; p->m = m;
    }
    if (!(p->lines[p->n] = strdup(line))) return -1;
    p->n++;
    return 0;
}

int mg_prov_merge(mg_prov *dst, const mg_prov *src)
{
    for (int i = 0; src && i < src->n; i++)
        if (mg_prov_add(dst, src->lines[i]) < 0) return -1;
    return 0;
}

/* ------------------------------------------------------------- reading */

struct mg_reader {
    int fd, close_fd;
    const unsigned char *mem;       /* memory input, or NULL */
    size_t mem_len, mem_pos;
    unsigned char *buf;             /* fd input buffer */
    size_t pos, len;
    int eof;
    mg_prov prov;
    int64_t count;
    int done;                       /* end record seen */
    char err[256];
    ZSTD_DCtx *dctx;
    unsigned char *copy_buf;        /* for mg_reader_copy_next */
    uint64_t max_record;            /* body + decompressed tensors, bytes */
};

static uint64_t default_max_record = MG_DEFAULT_MAX_RECORD;

void mg_stream_set_max_record(uint64_t bytes)
{
    default_max_record = bytes ? bytes : MG_DEFAULT_MAX_RECORD;
}

uint64_t mg_stream_max_record(void) { return default_max_record; }

void mg_reader_set_max_record(mg_reader *r, uint64_t bytes)
{
    r->max_record = bytes ? bytes : MG_DEFAULT_MAX_RECORD;
}

static int rerr(mg_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rerr(mg_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mg_vseterr(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Read up to n bytes; returns the count read (< n only at EOF) or -1. */
static ssize_t rd_some(mg_reader *r, void *dst, size_t n)
{
    unsigned char *d = dst;
    size_t got = 0;
    if (r->mem) {
        size_t k = r->mem_len - r->mem_pos < n ? r->mem_len - r->mem_pos : n;
        memcpy(d, r->mem + r->mem_pos, k);
        r->mem_pos += k;
        return (ssize_t)k;
    }
    while (got < n) {
        if (r->pos < r->len) {
            size_t k = r->len - r->pos < n - got ? r->len - r->pos : n - got;
            memcpy(d + got, r->buf + r->pos, k);
            r->pos += k; got += k;
            continue;
        }
        if (r->eof) break;
        /* Large remainders go straight to the destination. */
        int direct = n - got >= IO_BUF;
        ssize_t k = read(r->fd, direct ? d + got : r->buf, direct ? n - got : IO_BUF);
        if (k < 0) {
            if (errno == EINTR) continue;
            return rerr(r, "read failed: %s", strerror(errno));
        }
        if (k == 0) { r->eof = 1; break; }
        if (direct) got += (size_t)k;
        else { r->pos = 0; r->len = (size_t)k; }
    }
    return (ssize_t)got;
}

/* Read exactly n bytes; EOF before that is "truncated stream". */
static int rd_exact(mg_reader *r, void *dst, size_t n)
{
    ssize_t k = rd_some(r, dst, n);
    if (k < 0) return -1;
    if ((size_t)k < n) return rerr(r, "truncated stream");
    return 0;
}

/* Bigger pipe buffers mean fewer context switches between the stages of a
 * pipeline; failure (not a pipe, or over the system limit) changes nothing. */
static void widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) (void)fcntl(fd, F_SETPIPE_SZ, IO_BUF);
#else
    (void)fd;
#endif
}

static mg_reader *reader_new(void)
{
    mg_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->fd = -1;
    r->max_record = default_max_record;
    return r;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    mg_seterr(err, errlen, "%s", msg);
}

static int read_header(mg_reader *r)
{
    unsigned char h[24];
    ssize_t k = rd_some(r, h, sizeof h);
    if (k < 0) return -1;
    if (k == 0) return rerr(r, "empty input (no stream header)");
    if (memcmp(h, MGT_MAGIC, k < 8 ? (size_t)k : 8) != 0) return rerr(r, "not an mgt stream (bad magic)");
    if ((size_t)k < sizeof h) return rerr(r, "truncated stream");
    uint32_t ver = get_u32(h + 8), n = get_u32(h + 12);
    uint64_t nbytes = get_u64(h + 16);
    if (ver != MGT_VERSION) return rerr(r, "unsupported mgt version %u", ver);
    if (n > MG_MAX_PROV || nbytes > MAX_PROV_BYTES || nbytes < 4ull * n)
        return rerr(r, "corrupt stream header (provenance size)");
    uint32_t crc = mg_crc32(0, h, sizeof h);
    unsigned char lenb[4];
    uint64_t used = 0;
    char *line = NULL;
    for (uint32_t i = 0; i < n; i++) {
        if (rd_exact(r, lenb, 4) < 0) goto fail;
        uint32_t len = get_u32(lenb);
        used += 4 + (uint64_t)len;
        if (len > MG_MAX_PROV_LINE || used > nbytes) {
            rerr(r, "corrupt stream header (provenance line length)");
            goto fail;
        }
        if (!(line = malloc(len + 1))) { rerr(r, "out of memory"); goto fail; }
        if (rd_exact(r, line, len) < 0) goto fail;
        line[len] = 0;
        if (memchr(line, 0, len)) { rerr(r, "corrupt stream header (NUL in provenance)"); goto fail; }
        crc = mg_crc32(crc, lenb, 4);
        crc = mg_crc32(crc, line, len);
        if (mg_prov_add(&r->prov, line) < 0) { rerr(r, "out of memory"); goto fail; }
        free(line); line = NULL;
    }
    if (used != nbytes) return rerr(r, "corrupt stream header (provenance size)");
    if (rd_exact(r, lenb, 4) < 0) return -1;
    if (get_u32(lenb) != crc) return rerr(r, "stream header checksum mismatch");
    return 0;
fail:
    free(line);
    return -1;
}

static mg_reader *reader_finish_open(mg_reader *r, char *err, size_t errlen)
{
    if (read_header(r) < 0) {
        set_err(err, errlen, r->err);
        mg_reader_close(r);
        return NULL;
    }
    return r;
}

mg_reader *mg_reader_open(const char *path, char *err, size_t errlen)
{
    mg_reader *r = reader_new();
    if (!r || !(r->buf = malloc(IO_BUF))) {
        set_err(err, errlen, "out of memory");
        if (r) free(r);
        return NULL;
    }
    if (strcmp(path, "-") == 0) {
        r->fd = 0;
        widen_pipe(0);
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            set_err(err, errlen, strerror(errno));
            free(r->buf); free(r);
            return NULL;
        }
        r->close_fd = 1;
    }
    return reader_finish_open(r, err, errlen);
}

mg_reader *mg_reader_open_mem(const void *data, size_t size, char *err, size_t errlen)
{
    mg_reader *r = reader_new();
    if (!r) { set_err(err, errlen, "out of memory"); return NULL; }
    static const unsigned char empty[1];
    r->mem = data ? data : empty;
    r->mem_len = size;
    return reader_finish_open(r, err, errlen);
}

const mg_prov *mg_reader_prov(const mg_reader *r) { return &r->prov; }
int64_t mg_reader_count(const mg_reader *r) { return r->count; }
const char *mg_reader_error(const mg_reader *r) { return r->err; }

int mg_reader_close(mg_reader *r)
{
    if (!r) return 0;
    int ret = 0;
    if (r->close_fd && close(r->fd) < 0) ret = -1;
    mg_prov_free(&r->prov);
    ZSTD_freeDCtx(r->dctx);
    free(r->copy_buf);
    free(r->buf);
    free(r);
    return ret;
}

/* Read the 16-byte frame header. Returns 1 for REC, 0 for END (end frame fully
 * consumed and checked), -1 on error. *crc is the running checksum. */
static int read_frame_header(mg_reader *r, uint64_t *body_len, uint32_t *crc)
{
    unsigned char h[FRAME_HDR];
    if (r->done) return rerr(r, "read past end of stream");
    ssize_t k = rd_some(r, h, sizeof h);
    if (k < 0) return -1;
    if ((size_t)k < sizeof h) return rerr(r, "truncated stream");
    *body_len = get_u64(h + 8);
    *crc = mg_crc32(0, h, sizeof h);
    if (get_u32(h + 4) != 0) return rerr(r, "corrupt stream (unknown frame flags)");
    if (memcmp(h, "REC", 4) == 0) {
        if (*body_len < 8 || *body_len > MG_MAX_RECORD_BYTES)
            return rerr(r, "corrupt stream (record length %llu)", (unsigned long long)*body_len);
        if (*body_len > r->max_record)
            return rerr(r, "record %lld: %llu bytes exceeds the record size limit of %llu (--max-record-size)",
                        (long long)r->count + 1, (unsigned long long)*body_len,
                        (unsigned long long)r->max_record);
        return 1;
    }
    if (memcmp(h, "END", 4) != 0) return rerr(r, "corrupt stream (unknown frame type)");
    unsigned char b[12];
    if (*body_len != 8) return rerr(r, "corrupt stream (end record length)");
    if (rd_exact(r, b, sizeof b) < 0) return -1;
    if (get_u32(b + 8) != mg_crc32(*crc, b, 8)) return rerr(r, "end record checksum mismatch");
    if ((int64_t)get_u64(b) != r->count)
        return rerr(r, "end record counts %llu records, stream had %lld",
                    (unsigned long long)get_u64(b), (long long)r->count);
    /* Nothing may follow the end record. */
    unsigned char extra;
    k = rd_some(r, &extra, 1);
    if (k < 0) return -1;
    if (k > 0) return rerr(r, "data after end of stream");
    r->done = 1;
    return 0;
}

/* Make rec->body hold at least n bytes (64-byte aligned), keeping `keep` bytes. */
static int body_reserve(mg_record *rec, size_t n, size_t keep)
{
    if (n <= rec->body_cap) return 0;
    void *p = alloc_aligned(n);
    if (!p) return -1;
    if (keep) memcpy(p, rec->body, keep);
    free(rec->body);
    rec->body = p;
    rec->body_cap = n;
    return 0;
}

/* Read body_len bytes into rec->body. Memory grows only as bytes arrive, so a
 * length that lies costs at most twice the bytes actually present. */
static int read_body(mg_reader *r, mg_record *rec, uint64_t body_len)
{
    size_t have = 0, want = (size_t)body_len;
    const size_t first = 64u << 20;
    if (body_reserve(rec, want < first ? want : first, 0) < 0) return rerr(r, "out of memory");
    while (have < want) {
        if (have == rec->body_cap) {
            size_t cap = rec->body_cap * 2 < want ? rec->body_cap * 2 : want;
            if (body_reserve(rec, cap, have) < 0) return rerr(r, "out of memory");
        }
        size_t chunk = (rec->body_cap < want ? rec->body_cap : want) - have;
        ssize_t k = rd_some(r, (unsigned char *)rec->body + have, chunk);
        if (k < 0) return -1;
        if ((size_t)k < chunk) return rerr(r, "truncated stream");
        have += (size_t)k;
    }
    return 0;
}

/* Decompress a tensor's zstd frame into owned memory. The buffer grows with the
 * output actually produced, so a frame header that claims a huge size costs no
 * more memory than the data it really holds. */
static int decompress(mg_reader *r, mg_tensor *t, const void *src, size_t stored)
{
    if (!r->dctx && !(r->dctx = ZSTD_createDCtx())) return rerr(r, "out of memory");
    ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    size_t cap = t->nbytes < (16u << 20) ? t->nbytes : (16u << 20);
    unsigned char *out = alloc_aligned(cap);
    if (!out) return rerr(r, "out of memory");
    ZSTD_inBuffer in = {src, stored, 0};
    ZSTD_outBuffer o = {out, cap, 0};
    for (;;) {
        size_t z = ZSTD_decompressStream(r->dctx, &o, &in);
        if (ZSTD_isError(z)) { free(out); return rerr(r, "corrupt record (tensor '%s': %s)", t->name, ZSTD_getErrorName(z)); }
        if (z == 0) break;                                  /* frame complete */
        if (o.pos < o.size) {                               /* input exhausted mid-frame */
            if (in.pos == in.size) { free(out); return rerr(r, "corrupt record (tensor '%s': short zstd frame)", t->name); }
            continue;
        }
        if (cap == t->nbytes) { free(out); return rerr(r, "corrupt record (tensor '%s' compressed size mismatch)", t->name); }
        size_t ncap = cap * 2 < t->nbytes ? cap * 2 : t->nbytes;
        unsigned char *n = alloc_aligned(ncap);
        if (!n) { free(out); return rerr(r, "out of memory"); }
        memcpy(n, out, o.pos);
        free(out);
        out = n; cap = ncap;
        o.dst = out; o.size = cap;
    }
    if (o.pos != t->nbytes || in.pos != in.size) { free(out); return rerr(r, "corrupt record (tensor '%s' compressed size mismatch)", t->name); }
    t->data = out;
    t->owns_data = 1;
    return 0;
}

/* Parse a record body already in rec->body. */
static int parse_body(mg_reader *r, mg_record *rec, uint64_t len)
{
    const unsigned char *b = rec->body;
    uint64_t p = 8, decoded = len;
    uint32_t n_meta = get_u32(b), n_tensors = get_u32(b + 4);
    if (n_meta > MG_MAX_META || n_tensors > MG_MAX_TENSORS)
        return rerr(r, "corrupt record (%u metadata entries, %u tensors)", n_meta, n_tensors);
#define NEED(n) do { if (len - p < (uint64_t)(n)) return rerr(r, "corrupt record (fields overrun its length)"); } while (0)
    for (uint32_t i = 0; i < n_meta; i++) {
        NEED(4);
        uint32_t kl = get_u32(b + p); p += 4;
        if (kl == 0 || kl > MG_MAX_META_KEY) return rerr(r, "corrupt record (metadata key length %u)", kl);
        NEED(kl + 4);
        const char *k = (const char *)b + p; p += kl;
        uint32_t vl = get_u32(b + p); p += 4;
        if (vl > MG_MAX_META_VALUE) return rerr(r, "corrupt record (metadata value length %u)", vl);
        NEED(vl);
        const char *v = (const char *)b + p; p += vl;
        if (memchr(k, 0, kl) || memchr(v, 0, vl)) return rerr(r, "corrupt record (NUL in metadata)");
        char *ks = strndup(k, kl), *vs = strndup(v, vl);
        if (ks && find_meta(rec, ks) >= 0) { free(ks); free(vs); return rerr(r, "corrupt record (duplicate metadata key)"); }
        if (set_meta_owned(rec, ks, vs) < 0) return rerr(r, "out of memory");
    }
    for (uint32_t i = 0; i < n_tensors; i++) {
        NEED(2);
        uint16_t nl = get_u16(b + p); p += 2;
        if (nl == 0 || nl > MG_MAX_NAME) return rerr(r, "corrupt record (tensor name length %u)", nl);
        NEED(nl + 4);
        const char *name = (const char *)b + p; p += nl;
        int dtype = b[p], ndim = b[p + 1], codec = b[p + 2];
        p += 4;
        if (memchr(name, 0, nl)) return rerr(r, "corrupt record (NUL in tensor name)");
        if (!mg_dtype_in_stream(dtype)) return rerr(r, "corrupt record (unknown dtype %d)", dtype);
        if (ndim > MG_MAX_DIMS) return rerr(r, "corrupt record (%d dimensions)", ndim);
        if (codec > 1) return rerr(r, "corrupt record (unknown codec %d)", codec);
        int64_t shape[MG_MAX_DIMS];
        NEED(8 * ndim + 8);
        for (int d = 0; d < ndim; d++, p += 8) {
            uint64_t v = get_u64(b + p);
            if (v > (uint64_t)INT64_MAX) return rerr(r, "corrupt record (absurd dimension)");
            shape[d] = (int64_t)v;
        }
        uint64_t stored = get_u64(b + p); p += 8;
        p = (p + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
        if (p > len) return rerr(r, "corrupt record (fields overrun its length)");
        NEED(stored);
        mg_tensor *t = push_tensor(rec, name, nl, dtype, ndim, shape);
        if (!t) {
            if (shape_nbytes(dtype, ndim, shape) < 0) return rerr(r, "corrupt record (absurd tensor shape)");
            return rerr(r, "corrupt record (duplicate tensor name)");
        }
        if (codec == 0) {
            if (stored != t->nbytes) return rerr(r, "corrupt record (tensor '%s' size mismatch)", t->name);
            t->data = (void *)(b + p);
        } else {
            unsigned long long fs = ZSTD_getFrameContentSize(b + p, stored);
            if (fs != t->nbytes) return rerr(r, "corrupt record (tensor '%s' compressed size mismatch)", t->name);
            /* Refuse before decoding: the declared size is checked against the
             * limit, and decompress() then grows only with bytes produced. */
            if (t->nbytes > r->max_record - decoded)
                return rerr(r, "tensor '%s' decompresses to %llu bytes, over the record size limit of %llu (--max-record-size)",
                            t->name, (unsigned long long)t->nbytes, (unsigned long long)r->max_record);
            decoded += t->nbytes;
            if (decompress(r, t, b + p, stored) < 0) return -1;
        }
        p += stored;
    }
#undef NEED
    if (p != len) return rerr(r, "corrupt record (%llu trailing bytes)", (unsigned long long)(len - p));
    return 0;
}

int mg_reader_next(mg_reader *r, mg_record *rec)
{
    uint64_t len;
    uint32_t crc;
    mg_record_clear(rec);
    int k = read_frame_header(r, &len, &crc);
    if (k <= 0) return k;
    if (read_body(r, rec, len) < 0) return -1;
    unsigned char cb[4];
    if (rd_exact(r, cb, 4) < 0) return -1;
    crc = mg_crc32(crc, rec->body, (size_t)len);
    if (get_u32(cb) != crc) return rerr(r, "record %lld: checksum mismatch", (long long)r->count + 1);
    if (parse_body(r, rec, len) < 0) {
        char why[sizeof r->err];
        memcpy(why, r->err, sizeof why);
        snprintf(r->err, sizeof r->err, "record %lld: %.200s", (long long)r->count + 1, why);
        mg_record_clear(rec);
        return -1;
    }
    r->count++;
    return 1;
}

/* ------------------------------------------------------------- writing */

struct mg_writer {
    int fd;
    mg_ofile *out;                  /* the output file, NULL for a caller's descriptor */
    unsigned char *buf;
    size_t len;
    int64_t count;
    int failed;
    int level;
    uint32_t crc;                   /* running checksum of the current frame */
    char err[256];
    ZSTD_CCtx *cctx;
    struct zbuf { void *p; size_t cap, len; } *z;   /* per-tensor compressed data */
    int nz;
};

static int werr(mg_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int werr(mg_writer *w, const char *fmt, ...)
{
    va_list ap;
    if (!w->failed) {
        va_start(ap, fmt);
        mg_vseterr(w->err, sizeof w->err, fmt, ap);
        va_end(ap);
    }
    w->failed = 1;
    return -1;
}

static int write_all(mg_writer *w, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n > 0) {
        ssize_t k = write(w->fd, s, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return werr(w, "write failed: %s", strerror(errno));
        }
        s += k; n -= (size_t)k;
    }
    return 0;
}

static int wr_flush(mg_writer *w)
{
    if (w->len && write_all(w, w->buf, w->len) < 0) return -1;
    w->len = 0;
    return 0;
}

/* Buffered write that also feeds the frame checksum. */
static int wr(mg_writer *w, const void *p, size_t n)
{
    if (w->failed) return -1;
    w->crc = mg_crc32(w->crc, p, n);
    if (w->len + n <= IO_BUF) {
        memcpy(w->buf + w->len, p, n);
        w->len += n;
        return 0;
    }
    if (wr_flush(w) < 0) return -1;
    if (n >= IO_BUF / 2) return write_all(w, p, n);
    memcpy(w->buf, p, n);
    w->len = n;
    return 0;
}

static int wr_crc(mg_writer *w)
{
    unsigned char b[4];
    put_u32(b, w->crc);
    return wr(w, b, 4);
}

static int write_stream_header(mg_writer *w, const mg_prov *prov)
{
    unsigned char h[24];
    uint64_t nbytes = 0;
    int n = prov ? prov->n : 0;
    for (int i = 0; i < n; i++) nbytes += 4 + strlen(prov->lines[i]);
    if (n > MG_MAX_PROV || nbytes > MAX_PROV_BYTES) return werr(w, "provenance too long");
    memcpy(h, MGT_MAGIC, 8);
    put_u32(h + 8, MGT_VERSION);
    put_u32(h + 12, (uint32_t)n);
    put_u64(h + 16, nbytes);
    w->crc = 0;
    if (wr(w, h, sizeof h) < 0) return -1;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(prov->lines[i]);
        if (l > MG_MAX_PROV_LINE) return werr(w, "provenance line too long");
        unsigned char lb[4];
        put_u32(lb, (uint32_t)l);
        if (wr(w, lb, 4) < 0 || wr(w, prov->lines[i], l) < 0) return -1;
    }
    return wr_crc(w);
}

static mg_writer *writer_new(const mg_writer_opts *opts)
{
    mg_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (!(w->buf = malloc(IO_BUF))) { free(w); return NULL; }
    w->fd = -1;
    w->level = opts ? opts->compress_level : 0;
    return w;
}

static void writer_free(mg_writer *w)
{
    for (int i = 0; i < w->nz; i++) free(w->z[i].p);
    free(w->z);
    ZSTD_freeCCtx(w->cctx);
    free(w->buf);
    free(w);
}

static mg_writer *writer_start(mg_writer *w, const mg_prov *prov, char *err, size_t errlen)
{
    if (write_stream_header(w, prov) < 0) {
        set_err(err, errlen, w->err);
        mg_writer_abort(w);
        return NULL;
    }
    return w;
}

mg_writer *mg_writer_open_fd(int fd, const mg_prov *prov, const mg_writer_opts *opts,
                             char *err, size_t errlen)
{
    mg_writer *w = writer_new(opts);
    if (!w) { set_err(err, errlen, "out of memory"); return NULL; }
    if (isatty(fd) && !(opts && opts->allow_tty)) {
        set_err(err, errlen, "refusing to write binary data to a terminal");
        writer_free(w);
        return NULL;
    }
    w->fd = fd;
    widen_pipe(fd);
    return writer_start(w, prov, err, errlen);
}

mg_writer *mg_writer_open(const char *path, const mg_prov *prov, const mg_writer_opts *opts,
                          char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0) return mg_writer_open_fd(1, prov, opts, err, errlen);
    mg_writer *w = writer_new(opts);
    if (!w) { set_err(err, errlen, "out of memory"); return NULL; }
    /* a regular file through a temporary; a FIFO (Snakemake pipe()),
     * /dev/null, /dev/full … straight in */
    if (!(w->out = mg_ofile_open(path, NULL, err, errlen))) { writer_free(w); return NULL; }
    w->fd = mg_ofile_fd(w->out);
    if (isatty(w->fd) && !(opts && opts->allow_tty)) {
        set_err(err, errlen, "refusing to write binary data to a terminal");
        mg_ofile_abort(w->out);
        writer_free(w);
        return NULL;
    }
    return writer_start(w, prov, err, errlen);
}

const char *mg_writer_error(const mg_writer *w) { return w->err; }
int64_t mg_writer_count(const mg_writer *w) { return w->count; }

static int frame_header(mg_writer *w, const char *kind, uint64_t body_len)
{
    unsigned char h[FRAME_HDR];
    memset(h, 0, sizeof h);
    memcpy(h, kind, 4);
    put_u64(h + 8, body_len);
    w->crc = 0;
    return wr(w, h, sizeof h);
}

static uint64_t align_up(uint64_t p) { return (p + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN; }

int mg_writer_write(mg_writer *w, const mg_record *rec)
{
    if (w->failed) return -1;
    if (rec->n_tensors > MG_MAX_TENSORS || rec->n_meta > MG_MAX_META)
        return werr(w, "record has too many tensors or metadata entries");
    /* Compress first: the body length goes before the body. */
    if (w->level > 0 && rec->n_tensors > w->nz) {
        struct zbuf *z = realloc(w->z, rec->n_tensors * sizeof *z);
        if (!z) return werr(w, "out of memory");
        memset(z + w->nz, 0, (rec->n_tensors - w->nz) * sizeof *z);
        w->z = z; w->nz = rec->n_tensors;
    }
    uint64_t p = 8;
    for (int i = 0; i < rec->n_meta; i++) {
        size_t kl = strlen(rec->meta[i].key), vl = strlen(rec->meta[i].value);
        if (kl == 0 || kl > MG_MAX_META_KEY || vl > MG_MAX_META_VALUE)
            return werr(w, "metadata entry '%.40s' too long or empty", rec->meta[i].key);
        p += 8 + kl + vl;
    }
    for (int i = 0; i < rec->n_tensors; i++) {
        const mg_tensor *t = &rec->tensors[i];
        size_t nl = strlen(t->name);
        if (nl == 0 || nl > MG_MAX_NAME) return werr(w, "bad tensor name");
        if (shape_nbytes(t->dtype, t->ndim, t->shape) != (int64_t)t->nbytes)
            return werr(w, "tensor '%s': shape does not match its size", t->name);
        p = align_up(p + 2 + nl + 4 + 8 * (uint64_t)t->ndim + 8);
        if (w->level > 0) {
            struct zbuf *z = &w->z[i];
            size_t bound = ZSTD_compressBound(t->nbytes);
            if (bound > z->cap) {
                free(z->p);
                if (!(z->p = malloc(bound))) { z->cap = 0; return werr(w, "out of memory"); }
                z->cap = bound;
            }
            if (!w->cctx && !(w->cctx = ZSTD_createCCtx())) return werr(w, "out of memory");
            ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level);
            ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
            z->len = ZSTD_compress2(w->cctx, z->p, z->cap, t->data, t->nbytes);
            if (ZSTD_isError(z->len)) return werr(w, "zstd: %s", ZSTD_getErrorName(z->len));
            p += z->len;
        } else {
            p += t->nbytes;
        }
    }
    if (p > MG_MAX_RECORD_BYTES) return werr(w, "record too large");
    if (frame_header(w, "REC", p) < 0) return -1;
    unsigned char b[8 + 8 * MG_MAX_DIMS + 8 + TENSOR_ALIGN];
    put_u32(b, (uint32_t)rec->n_meta);
    put_u32(b + 4, (uint32_t)rec->n_tensors);
    if (wr(w, b, 8) < 0) return -1;
    uint64_t q = 8;
    for (int i = 0; i < rec->n_meta; i++) {
        size_t kl = strlen(rec->meta[i].key), vl = strlen(rec->meta[i].value);
        put_u32(b, (uint32_t)kl);
        if (wr(w, b, 4) < 0 || wr(w, rec->meta[i].key, kl) < 0) return -1;
        put_u32(b, (uint32_t)vl);
        if (wr(w, b, 4) < 0 || wr(w, rec->meta[i].value, vl) < 0) return -1;
        q += 8 + kl + vl;
    }
    for (int i = 0; i < rec->n_tensors; i++) {
        const mg_tensor *t = &rec->tensors[i];
        size_t nl = strlen(t->name), n = 0;
        put_u16(b, (uint16_t)nl);
        if (wr(w, b, 2) < 0 || wr(w, t->name, nl) < 0) return -1;
        q += 2 + nl;
        b[n++] = (unsigned char)t->dtype;
        b[n++] = (unsigned char)t->ndim;
        b[n++] = w->level > 0;
        b[n++] = 0;
        for (int d = 0; d < t->ndim; d++, n += 8) put_u64(b + n, (uint64_t)t->shape[d]);
        uint64_t stored = w->level > 0 ? w->z[i].len : t->nbytes;
        put_u64(b + n, stored);
        n += 8;
        uint64_t pad = align_up(q + n) - (q + n);
        memset(b + n, 0, pad);
        n += pad;
        if (wr(w, b, n) < 0) return -1;
        q += n;
        if (wr(w, w->level > 0 ? w->z[i].p : t->data, stored) < 0) return -1;
        q += stored;
    }
    if (wr_crc(w) < 0) return -1;
    w->count++;
    return 0;
}

int mg_reader_copy_next(mg_reader *r, mg_writer *w)
{
    uint64_t len;
    uint32_t crc;
    int k = read_frame_header(r, &len, &crc);
    if (k <= 0) return k;
    if (!r->copy_buf && !(r->copy_buf = malloc(IO_BUF))) return rerr(r, "out of memory");
    if (frame_header(w, "REC", len) < 0) return rerr(r, "%s", w->err);
    for (uint64_t left = len; left > 0;) {
        size_t n = left < IO_BUF ? (size_t)left : IO_BUF;
        if (rd_exact(r, r->copy_buf, n) < 0) return -1;
        crc = mg_crc32(crc, r->copy_buf, n);
        /* The frame is copied unchanged, so its checksum is the input's: the
         * data is summed once here and written without summing again. */
        if (w->failed) return rerr(r, "%s", w->err);
        if (wr_flush(w) < 0 || write_all(w, r->copy_buf, n) < 0) return rerr(r, "%s", w->err);
        left -= n;
    }
    unsigned char cb[4];
    if (rd_exact(r, cb, 4) < 0) return -1;
    if (get_u32(cb) != crc) return rerr(r, "record %lld: checksum mismatch", (long long)r->count + 1);
    w->crc = crc;
    if (wr_crc(w) < 0) return rerr(r, "%s", w->err);
    r->count++;
    w->count++;
    return 1;
}

void mg_writer_abort(mg_writer *w)
{
    if (w && mg_writer_close(w, 0, NULL, 0) == 0) { /* not reached: ok = 0 always fails */ }
}

int mg_writer_close(mg_writer *w, int ok, char *err, size_t errlen)
{
    if (!w) return -1;
    int ret = 0;
    if (ok && !w->failed) {
        unsigned char b[8];
        put_u64(b, (uint64_t)w->count);
        if (frame_header(w, "END", 8) < 0 || wr(w, b, 8) < 0 || wr_crc(w) < 0 || wr_flush(w) < 0)
            ret = -1;
    } else {
        ret = -1;
    }
    if (w->out) {
        char oerr[256];
        if (mg_ofile_close(w->out, ret == 0, oerr, sizeof oerr) < 0 && ret == 0) ret = werr(w, "%s", oerr);
    }
    if (ret != 0 && ok) set_err(err, errlen, w->err[0] ? w->err : "write failed");
    writer_free(w);
    return ret;
}

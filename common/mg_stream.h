/* mg_stream.h: the mgpipe tensor stream (format: man/mgt.5).
 *
 * A stream is a header (magic, version, provenance lines), then records, then an
 * end record. A record holds named tensors and string metadata. Readers process
 * one record at a time; every size read from the wire is bounded before memory
 * is allocated, and memory grows only as bytes actually arrive.
 *
 * The library never exits or prints: functions return <0 or NULL and the reason
 * is available from mg_reader_error()/mg_writer_error().
 */
#ifndef MG_STREAM_H
#define MG_STREAM_H

#include "mg_err.h"

#include <stddef.h>
#include <stdint.h>
#include "mg_dtype.h"

#define MG_MAX_DIMS 8
#define MG_MAX_NAME 255             /* tensor name bytes */
#define MG_MAX_TENSORS 4096         /* tensors per record */
#define MG_MAX_META 65536           /* metadata entries per record */
#define MG_MAX_META_KEY 4096
#define MG_MAX_META_VALUE (16u << 20)
#define MG_MAX_PROV 4096            /* provenance lines per stream */
#define MG_MAX_PROV_LINE (1u << 20)
#define MG_MAX_RECORD_BYTES (64ULL << 30) /* one record body, 64 GiB */
/* Default reading limit on one record: its body plus every tensor decompressed
 * (--max-record-size; man/mgt.5). A zstd frame of ~130 KB can honestly expand to
 * 4 GiB, so the decoded size, not the stored one, is what must be bounded. */
#define MG_DEFAULT_MAX_RECORD (2ULL << 30)

typedef struct {
    char *name;
    int dtype;                   /* mg_dtype */
    int ndim;                    /* 0..MG_MAX_DIMS */
    int64_t shape[MG_MAX_DIMS];
    void *data;                  /* nbytes of little-endian row-major elements */
    size_t nbytes;
    int owns_data;               /* data freed with the record */
} mg_tensor;

typedef struct { char *key, *value; } mg_meta;

typedef struct {
    int n_meta, m_meta;
    mg_meta *meta;
    int n_tensors, m_tensors;
    mg_tensor *tensors;
    void *body;                  /* read buffer the tensors may point into */
    size_t body_cap;
} mg_record;

/** Element count of a tensor (product of shape; 1 for 0-d). */
int64_t mg_tensor_numel(const mg_tensor *t);

/** An empty record; free with mg_record_destroy(). */
MG_MUST_CHECK mg_record *mg_record_init(void);
void mg_record_destroy(mg_record *r);
/** Drop metadata and tensors, keep buffers for reuse. */
void mg_record_clear(mg_record *r);
/** Set (add or replace) a metadata entry. Returns 0, or -1 on allocation failure. */
MG_MUST_CHECK int mg_record_set_meta(mg_record *r, const char *key, const char *value);
/** printf-style mg_record_set_meta(). */
MG_MUST_CHECK int mg_record_set_metaf(mg_record *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Value of key, or NULL. Owned by the record. */
const char *mg_record_get_meta(const mg_record *r, const char *key);
/** Remove key if present. */
void mg_record_del_meta(mg_record *r, const char *key);
/** Copy all metadata of src into dst (replacing equal keys). 0 or -1. */
MG_MUST_CHECK int mg_record_copy_meta(mg_record *dst, const mg_record *src);
/** Add a tensor with zero-filled data owned by the record. Returns the tensor
 *  (valid until the next add/clear) or NULL (bad dtype/shape, duplicate name,
 *  allocation failure). */
MG_MUST_CHECK mg_tensor *mg_record_add_tensor(mg_record *r, const char *name, int dtype,
                                int ndim, const int64_t *shape);
/** Add a tensor that points at caller memory (not copied, not freed); the
 *  memory must outlive the record's next write. NULL on error. */
MG_MUST_CHECK mg_tensor *mg_record_add_tensor_ref(mg_record *r, const char *name, int dtype,
                                    int ndim, const int64_t *shape, void *data);
/** Tensor by name, or NULL. */
mg_tensor *mg_record_find_tensor(const mg_record *r, const char *name);

/* ---- provenance ---- */
typedef struct {
    int n, m;
    char **lines;     /* "name\tversion\tcommand line" */
} mg_prov;

void mg_prov_free(mg_prov *p);
/** Append a line (copied); duplicates of an existing line are skipped. 0/-1. */
int mg_prov_add(mg_prov *p, const char *line);
/** Append every line of src (skipping duplicates). 0/-1. */
int mg_prov_merge(mg_prov *dst, const mg_prov *src);

/* ---- reading ---- */
typedef struct mg_reader mg_reader;

/** Open path ("-" is stdin) and read the stream header. On failure returns NULL
 *  and, if err is not NULL, writes a one-line reason into err[errlen]. */
MG_MUST_CHECK mg_reader *mg_reader_open(const char *path, char *err, size_t errlen);
/** Read a stream from memory (not copied; must outlive the reader). */
MG_MUST_CHECK mg_reader *mg_reader_open_mem(const void *data, size_t size, char *err, size_t errlen);
/** Process-wide limit on one record's size when read (body plus decompressed
 *  tensors), for readers opened afterwards; 0 restores MG_DEFAULT_MAX_RECORD. */
void mg_stream_set_max_record(uint64_t bytes);
uint64_t mg_stream_max_record(void);
/** Limit for this reader only. */
void mg_reader_set_max_record(mg_reader *r, uint64_t bytes);
/** Provenance lines of the stream (owned by the reader). */
const mg_prov *mg_reader_prov(const mg_reader *r);
/** Read the next record into rec (cleared first). Tensor data may point into
 *  rec->body and is valid until the next call. Returns 1 for a record, 0 at the
 *  end record, -1 on error ("truncated stream", "checksum mismatch", …). */
MG_MUST_CHECK int mg_reader_next(mg_reader *r, mg_record *rec);
/** Copy the next record frame unparsed (checksum verified) to w. Same returns. */
struct mg_writer;
MG_MUST_CHECK int mg_reader_copy_next(mg_reader *r, struct mg_writer *w);
/** Records read so far. */
int64_t mg_reader_count(const mg_reader *r);
const char *mg_reader_error(const mg_reader *r);
/** Close; returns 0, or -1 if closing failed. */
int mg_reader_close(mg_reader *r);

/* ---- writing ---- */
typedef struct mg_writer mg_writer;

typedef struct {
    int compress_level;  /* 0: none; 1..19 zstd level for tensor data */
    int allow_tty;       /* write binary to a terminal anyway */
} mg_writer_opts;

/** Open path for writing ("-" is stdout). A regular file is written under a
 *  temporary name in the same directory and renamed by mg_writer_close(w, 1);
 *  a FIFO or character device is written directly. Writes the header with the
 *  given provenance lines (NULL for none). NULL and err on failure. */
MG_MUST_CHECK mg_writer *mg_writer_open(const char *path, const mg_prov *prov,
                          const mg_writer_opts *opts, char *err, size_t errlen);
/** Write a stream to a caller-provided file descriptor (not closed). */
MG_MUST_CHECK mg_writer *mg_writer_open_fd(int fd, const mg_prov *prov,
                             const mg_writer_opts *opts, char *err, size_t errlen);
/** Append one record. 0, or -1 on a write or encoding error. */
MG_MUST_CHECK int mg_writer_write(mg_writer *w, const mg_record *rec);
/** Finish: when ok, write the end record, flush, and rename the temporary
 *  file into place; when !ok (or on any failure), remove the temporary file.
 *  Frees w. Returns 0 on success, -1 if anything failed (reason in err). */
MG_MUST_CHECK int mg_writer_close(mg_writer *w, int ok, char *err, size_t errlen);
/** mg_writer_close(w, 0, …) for error paths: no END record, the temporary
 *  removed; NULL allowed. */
void mg_writer_abort(mg_writer *w);
const char *mg_writer_error(const mg_writer *w);
/** Records written so far. */
int64_t mg_writer_count(const mg_writer *w);

/* ---- checksums ---- */
/** CRC-32 (ISO-HDLC, as zlib's crc32 and Python's zlib.crc32). */
uint32_t mg_crc32(uint32_t crc, const void *data, size_t len);

#endif

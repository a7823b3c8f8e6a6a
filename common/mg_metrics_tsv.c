/* mg_metrics_tsv.c: TSV tables and the id join for mg-score. */
#include "mg_metrics_tsv.h"
#include "mg_metrics.h"
#include "mg_stream.h"
#include "mg_tensor.h"

#include "mg_err.h"
#include <jansson.h>

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int slurp(const char *path, const char *src, char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { mg_seterr_at(err, errlen, src, 0, "%s", strerror(errno)); return -1; }
    size_t cap = 1 << 16, n = 0;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1; /* one read, no regrowth */
    char *b = malloc(cap + 1);
    if (!b) goto nomem;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(b, cap + 1);
            if (!nb) goto nomem;
            b = nb;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        mg_seterr_at(err, errlen, src, 0, "read error: %s", strerror(errno));
        free(b);
        if (f != stdin) fclose(f);
        return -1;
    }
    if (f != stdin) fclose(f);
    b[n] = 0;
    *buf = b; *len = n;
    return 0;
nomem:
    free(b);
    if (f != stdin) fclose(f);
    mg_seterr_at(err, errlen, src, 0, "out of memory");
    return -1;
}

void mg_tsv_free(mg_tsv *t)
{
    free(t->buf); free(t->colname); free(t->cell);
    memset(t, 0, sizeof *t);
}

int mg_tsv_col(const mg_tsv *t, const char *name)
{
    for (int c = 0; c < t->ncol; c++) if (!strcmp(t->colname[c], name)) return c;
    return -1;
}

/* Next line of buf at *pos (NUL-terminated in place, CR dropped), or NULL. */
static char *next_line(char *buf, size_t len, size_t *pos)
{
    if (*pos >= len) return NULL;
    char *s = buf + *pos;
    char *e = memchr(s, '\n', len - *pos);
    if (e) { *e = 0; *pos = (size_t)(e - buf) + 1; }
    else { e = buf + len; *pos = len; }
    if (e > s && e[-1] == '\r') e[-1] = 0;
    return s;
}

static int split(char *line, char **out, int max)
{
    int n = 0;
    for (char *p = line;;) {
        char *tab = strchr(p, '\t');
        if (n < max) out[n] = p;
        n++;
        if (!tab) break;
        *tab = 0; p = tab + 1;
    }
    return n;
}

static int parse_table(mg_tsv *t, mg_pool *pool, const char *src, char *err, size_t errlen);

/* Append s to the growing text, tabs and line breaks turned into spaces. */
static int put_field(char **out, size_t *len, size_t *cap, const char *s, char sep)
{
    size_t l = strlen(s);
    if (*len + l + 2 > *cap) {
        size_t nc = *cap ? *cap : 1 << 16;
        while (nc < *len + l + 2) nc *= 2;
        char *no = realloc(*out, nc);
        if (!no) return -1;
        *out = no; *cap = nc;
    }
    for (size_t i = 0; i < l; i++) {
        char c = s[i];
        (*out)[(*len)++] = (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
    }
    (*out)[(*len)++] = sep;
    return 0;
}

/* JSON Lines (one object per line, as report and VQA outputs often are) as a
 * table: the keys of the first object are the columns; strings as they are
 * (tabs and line breaks become spaces), numbers, booleans (1/0), null (""). */
static int jsonl_to_table(mg_tsv *t, const char *src, char *err, size_t errlen)
{
    char *out = NULL, **keys = NULL, num[64];
    size_t len = 0, cap = 0, nk = 0, lineno = 0, pos = 0;
    int rc = -1;
    json_t *first = NULL;
    while (pos < t->len) {
        char *s = t->buf + pos, *e = memchr(s, '\n', t->len - pos);
        size_t l = e ? (size_t)(e - s) : t->len - pos;
        pos += l + 1;
        lineno++;
        size_t k = 0;
        while (k < l && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
        if (k == l) continue;
        json_error_t je;
        json_t *o = json_loadb(s, l, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            mg_seterr_at(err, errlen, src, (long)lineno, "not a JSON object%s%s", o ? "" : ": ", o ? "" : je.text);
            json_decref(o);
            goto done;
        }
        if (!first) {
            first = o;
            nk = json_object_size(o);
            keys = calloc(nk ? nk : 1, sizeof *keys);
            if (!keys) { mg_seterr_at(err, errlen, src, 0, "out of memory"); goto done; }
            const char *key;
            json_t *v;
            size_t i = 0;
            json_object_foreach(o, key, v) keys[i++] = (char *)key;
            for (i = 0; i < nk; i++)
                if (put_field(&out, &len, &cap, keys[i], i + 1 < nk ? '\t' : '\n') < 0) goto nomem;
            if (!nk) { mg_seterr_at(err, errlen, src, (long)lineno, "empty object"); goto done; }
        }
        for (size_t i = 0; i < nk; i++) {
            json_t *v = json_object_get(o, keys[i]);
            const char *txt;
            if (!v) {
                mg_seterr_at(err, errlen, src, (long)lineno, "no key \"%s\"", keys[i]);
                if (o != first) json_decref(o);
                goto done;
            }
            if (json_is_string(v)) txt = json_string_value(v);
            else if (json_is_integer(v)) { snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)); txt = num; }
            else if (json_is_real(v)) { snprintf(num, sizeof num, "%.17g", json_real_value(v)); txt = num; }
            else if (json_is_boolean(v)) txt = json_is_true(v) ? "1" : "0";
            else if (json_is_null(v)) txt = "";
            else {
                mg_seterr_at(err, errlen, src, (long)lineno, "key \"%s\" is not a string, number, boolean or null", keys[i]);
                if (o != first) json_decref(o);
                goto done;
            }
            if (put_field(&out, &len, &cap, txt, i + 1 < nk ? '\t' : '\n') < 0) { if (o != first) json_decref(o); goto nomem; }
        }
        if (o != first) json_decref(o);
    }
    if (!first) { mg_seterr_at(err, errlen, src, 0, "empty table (no JSON object)"); goto done; }
    free(t->buf);
    t->buf = out;
    t->len = len;
    out[len] = 0;  /* put_field keeps a spare byte */
    out = NULL;
    rc = 0;
    goto done;
nomem:
    mg_seterr_at(err, errlen, src, 0, "out of memory");
done:
    free(out); free(keys);
    json_decref(first);
    return rc;
}

/* Exact powers of ten: in double up to 1e22 (5^22 < 2^53), in the x87
 * extended format up to 1e27 (5^27 < 2^64). */
static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
#define MG_X87 1
static const long double p10l[] = { 1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L,
    1e23L, 1e24L, 1e25L, 1e26L, 1e27L };
#endif

/* x as decimal text that mg_parse_number reads back as exactly x, into dst
 * (32 bytes); the length. Scores of prediction streams go through text, and
 * printf's %.17g dominated reading them: here 17 significant digits come from
 * one multiplication in the x87 format, and the text is kept only if it reads
 * back to x (else %.17g, which always does). */
static int fmt_exact(char *dst, double x)
{
#ifdef MG_X87
    double a = fabs(x);
    if (a >= 1e-9 && a < 1e15) {
        int e10 = (int)floor(log10(a));      /* may be off by one: checked below */
        int k = 16 - e10;                    /* a * 10^k has 17 digits before the point */
        if (k >= -27 && k <= 27) {
            long double t = k >= 0 ? (long double)a * p10l[k] : (long double)a / p10l[-k];
            uint64_t m = (uint64_t)llrintl(t);
            if (m >= 10000000000000000ULL && m < 100000000000000000ULL) {
                int e = -k;                  /* x = m * 10^e */
                while (m % 10 == 0 && e < 0) { m /= 10; e++; }
                char dig[24];
                int nd = 0;
                for (uint64_t q = m; q; q /= 10) dig[nd++] = (char)('0' + q % 10);
                char *p = dst;
                if (x < 0) *p++ = '-';
                if (e >= 0) {
                    while (nd) *p++ = dig[--nd];
                    while (e--) *p++ = '0';
                } else if (-e >= nd) {       /* 0.000ddd */
                    *p++ = '0'; *p++ = '.';
                    for (int z = -e - nd; z > 0; z--) *p++ = '0';
                    while (nd) *p++ = dig[--nd];
                } else {                     /* ddd.ddd */
                    while (nd > -e) *p++ = dig[--nd];
                    *p++ = '.';
                    while (nd) *p++ = dig[--nd];
                }
                *p = 0;
                double back;
                if (mg_parse_number(dst, &back) == 0 && back == x) return (int)(p - dst);
            }
        }
    }
#endif
    return snprintf(dst, 32, "%.17g", x);
}

/* A stream of prediction records as a table: id, the scores of tensor
 * "pred" ([] or [C]; columns named by the "classes" metadata, else pred or
 * pred0..), then the other metadata keys of the first record. */
static int stream_to_table(mg_tsv *t, const char *src, char *err, size_t errlen)
{
    mg_reader *rd = mg_reader_open_mem(t->buf, t->len, err, errlen);
    mg_record *rec = mg_record_init();
    char *out = NULL, **names = NULL, *nbuf = NULL;
    size_t olen = 0, ocap = 0;
    int rc = -1, C = -1, nmeta = 0, ncol = 0;
    size_t rows = 0;
    if (!rd || !rec) { if (rd && !rec) mg_seterr_at(err, errlen, src, 0, "out of memory"); goto done; }
    int st;
    while ((st = mg_reader_next(rd, rec)) == 1) {
        mg_tensor *pt = mg_record_find_tensor(rec, "pred");
        const char *id = mg_record_get_meta(rec, "id");
        if (!id) { mg_seterr_at(err, errlen, src, 0, "record %zu: no id metadata", rows + 1); goto done; }
        /* scores from the "pred" tensor, or only from metadata (no tensor) */
        int64_t m = pt ? mg_tensor_numel(pt) : 0;
        if (pt && (pt->ndim > 1 || m < 1 || m > 100000)) {
            mg_seterr_at(err, errlen, src, 0, "record %zu: pred tensor must be a scalar or a vector", rows + 1);
            goto done;
        }
        if (C < 0) {
            /* header from the first record */
            C = (int)m;
            const char *cl = mg_record_get_meta(rec, "classes");
            nmeta = 0;
            for (int k = 0; k < rec->n_meta; k++)
                if (strcmp(rec->meta[k].key, "id") && strcmp(rec->meta[k].key, "classes")) nmeta++;
            ncol = 1 + C + nmeta;
            names = calloc((size_t)ncol, sizeof *names);
            size_t need = 16 + (cl ? strlen(cl) : 0) + (size_t)C * 24;
            for (int k = 0; k < rec->n_meta; k++) need += strlen(rec->meta[k].key) + 1;
            nbuf = malloc(need);
            if (!names || !nbuf) { mg_seterr_at(err, errlen, src, 0, "out of memory"); goto done; }
            char *q = nbuf;
            names[0] = q; q += sprintf(q, "id") + 1;
            if (cl && C > 0) {
                char *copy = q;
                strcpy(copy, cl);
                q += strlen(cl) + 1;
                int k = 0;
                for (char *tok = copy, *e; tok && k < C; tok = e ? e + 1 : NULL, k++) {
                    e = strchr(tok, ',');
                    if (e) *e = 0;
                    names[1 + k] = tok;
                }
                if (k != C) { mg_seterr_at(err, errlen, src, 0, "record 1: %d classes for %d scores", k, C); goto done; }
            } else
                for (int k = 0; k < C; k++) {
                    names[1 + k] = q;
                    q += (C == 1 ? sprintf(q, "pred") : sprintf(q, "pred%d", k)) + 1;
                }
            int j = 1 + C;
            for (int k = 0; k < rec->n_meta; k++)
                if (strcmp(rec->meta[k].key, "id") && strcmp(rec->meta[k].key, "classes")) {
                    names[j++] = q;
                    q += sprintf(q, "%s", rec->meta[k].key) + 1;
                }
        } else if (m != C) {
            mg_seterr_at(err, errlen, src, 0, "record %zu: %lld pred scores, the first record had %d", rows + 1, (long long)m, C);
            goto done;
        }
        /* append the row as TSV text */
        size_t need = olen + strlen(id) + 2 + (size_t)C * 40;
        for (int k = 1 + C; k < ncol; k++) {
            const char *v = mg_record_get_meta(rec, names[k]);
            if (!v) { mg_seterr_at(err, errlen, src, 0, "record %zu: no %s metadata", rows + 1, names[k]); goto done; }
            need += strlen(v) + 1;
        }
        if (need + 1 > ocap) {
            size_t nc = ocap ? ocap : 1 << 16;
            while (nc < need + 1) nc *= 2;
            char *no = realloc(out, nc);
            if (!no) { mg_seterr_at(err, errlen, src, 0, "out of memory"); goto done; }
            out = no; ocap = nc;
        }
        if (strpbrk(id, "\t\n")) { mg_seterr_at(err, errlen, src, 0, "record %zu: id contains a tab or newline", rows + 1); goto done; }
        olen += (size_t)sprintf(out + olen, "%s", id);
        for (int64_t k = 0; k < m; k++) {
            out[olen++] = '\t';
            olen += (size_t)fmt_exact(out + olen, mg_tensor_get(pt, k));
        }
        for (int k = 1 + C; k < ncol; k++) olen += (size_t)sprintf(out + olen, "\t%s", mg_record_get_meta(rec, names[k]));
        out[olen++] = '\n';
        rows++;
    }
    if (st < 0) { mg_seterr_at(err, errlen, src, 0, "%s", mg_reader_error(rd)); goto done; }
    if (rows == 0) { mg_seterr_at(err, errlen, src, 0, "no records"); goto done; }
    /* rebuild t from the text */
    {
        size_t hl = 0;
        for (int k = 0; k < ncol; k++) hl += strlen(names[k]) + 1;
        char *txt = malloc(hl + olen + 1);
        if (!txt) { mg_seterr_at(err, errlen, src, 0, "out of memory"); goto done; }
        char *q = txt;
        for (int k = 0; k < ncol; k++) q += sprintf(q, "%s%c", names[k], k + 1 < ncol ? '\t' : '\n');
        memcpy(q, out, olen);
        q[olen] = 0;
        free(t->buf);
        t->buf = txt;
        t->len = hl + olen;
        rc = 0;
    }
done:
    if (rd) mg_reader_close(rd);
    if (rec) mg_record_destroy(rec);
    free(out); free(names); free(nbuf);
    return rc;
}

int mg_tsv_read_mt(const char *path, mg_pool *pool, mg_tsv *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *src = strcmp(path, "-") ? path : "(stdin)";
    if (slurp(path, src, &t->buf, &t->len, err, errlen) < 0) return -1;
    return parse_table(t, pool, src, err, errlen);
}

int mg_tsv_read(const char *path, mg_tsv *t, char *err, size_t errlen)
{
    return mg_tsv_read_mt(path, NULL, t, err, errlen);
}

int mg_tsv_parse_mem(const void *data, size_t len, mg_tsv *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->buf = malloc(len + 1);
    if (!t->buf) { mg_seterr(err, errlen, "out of memory"); return -1; }
    memcpy(t->buf, data, len);
    t->buf[len] = 0;
    t->len = len;
    return parse_table(t, NULL, NULL, err, errlen);
}

typedef struct { void *(*fn)(void *); char *ctx; size_t ctxsize; } parts_job;

static void part_task(void *arg, int task, int worker)
{
    (void)worker;
    parts_job *j = arg;
    j->fn(j->ctx + (size_t)task * j->ctxsize);
}

/* Run fn on parts 0..nparts-1 of ctx (ctxsize bytes each) on the pool. */
static void run_parts(mg_pool *pool, int nparts, void *(*fn)(void *), void *ctx, size_t ctxsize)
{
    parts_job j = { fn, ctx, ctxsize };
    mg_pool_for(pool, nparts, part_task, &j);
}

static int clamp_threads(int threads)
{
    return threads < 1 ? 1 : threads > MG_TSV_MAX_THREADS ? MG_TSV_MAX_THREADS : threads;
}

/* A data line counts as a row unless it is empty (after a dropped CR) or a
 * comment. s points at the line start, e at its '\n' or the end of data. */
static inline int is_row(const char *s, const char *e)
{
    return s < e && *s != '#' && !(e - s == 1 && *s == '\r');
}

/* One part of the table body, [beg, end) starting at a line boundary. */
typedef struct {
    char *beg, *end;
    int ncol;
    size_t lines, rows;    /* pass 1 */
    char **cell;           /* pass 2: where this part's rows go */
    size_t bad_line;       /* pass 2: line (in the part, from 1) with a wrong field count, 0 none */
    int bad_fields;
} tsv_part;

static void *count_part(void *v)
{
    tsv_part *p = v;
    size_t lines = 0, rows = 0;
    for (char *s = p->beg; s < p->end;) {
        char *e = memchr(s, '\n', (size_t)(p->end - s));
        if (!e) e = p->end;
        lines++;
        rows += is_row(s, e);
        s = e + 1;
    }
    p->lines = lines; p->rows = rows;
    return NULL;
}

static void *split_part(void *v)
{
    tsv_part *p = v;
    char **out = p->cell;
    const int nc = p->ncol;
    size_t line = 0;
    for (char *s = p->beg; s < p->end;) {
        char *e = memchr(s, '\n', (size_t)(p->end - s));
        if (!e) e = p->end;
        line++;
        if (is_row(s, e)) {
            char *le = e > s && e[-1] == '\r' ? e - 1 : e;
            int k = 0;
            out[k++] = s;
            for (char *q = s; (q = memchr(q, '\t', (size_t)(le - q))); ) {
                *q++ = 0;
                if (k < nc) out[k] = q;
                k++;
            }
            *le = 0;
            if (k != nc) { p->bad_line = line; p->bad_fields = k; return NULL; }
            out += nc;
        }
        s = e + 1;
    }
    return NULL;
}

/* Split t->buf (t->len bytes, NUL-terminated) into the table. The body is cut
 * into parts at line boundaries, counted, then split in place, each part on
 * its own thread; the result does not depend on the number of parts. */
static int parse_table(mg_tsv *t, mg_pool *pool, const char *src, char *err, size_t errlen)
{
    static const unsigned char magic[8] = { 0x89, 'M', 'G', 'T', '\r', '\n', 0x1a, '\n' };
    if (t->len >= 8 && !memcmp(t->buf, magic, 8) && stream_to_table(t, src, err, errlen) < 0) return -1;
    if (t->len > 0 && t->buf[0] == '{' && jsonl_to_table(t, src, err, errlen) < 0) return -1;
    if (memchr(t->buf, 0, t->len)) { mg_seterr_at(err, errlen, src, 0, "binary data (NUL byte), not a TSV table"); return -1; }
    size_t pos = 0, lineno = 0;
    char *line;
    while ((line = next_line(t->buf, t->len, &pos))) {
        lineno++;
        if (line[0] && line[0] != '#') break;
    }
    if (!line) { mg_seterr_at(err, errlen, src, 0, "empty table (no header line)"); return -1; }
    int nc = 1;
    for (char *p = line; *p; p++) nc += *p == '\t';
    t->colname = malloc((size_t)nc * sizeof *t->colname);
    if (!t->colname) { mg_seterr_at(err, errlen, src, 0, "out of memory"); return -1; }
    t->ncol = split(line, t->colname, nc);
    for (int c = 0; c < nc; c++) {
        if (!t->colname[c][0]) { mg_seterr_at(err, errlen, src, (long)lineno, "empty column name"); return -1; }
        for (int d = 0; d < c; d++)
            if (!strcmp(t->colname[c], t->colname[d])) {
                mg_seterr_at(err, errlen, src, (long)lineno, "duplicated column '%s'", t->colname[c]);
                return -1;
            }
    }
    /* parts of at least 1 MB, cut after a newline */
    char *body = t->buf + pos, *bend = t->buf + t->len;
    size_t blen = (size_t)(bend - body);
    int np = clamp_threads(mg_pool_threads(pool));
    while (np > 1 && blen / (size_t)np < (1u << 20)) np--;
    tsv_part part[MG_TSV_MAX_THREADS];
    memset(part, 0, sizeof part);
    char *cut = body;
    for (int k = 0; k < np; k++) {
        part[k].beg = cut;
        char *e = k + 1 < np ? body + blen / (size_t)np * (size_t)(k + 1) : bend;
        if (e < cut) e = cut;
        if (k + 1 < np) {
            char *nl = memchr(e, '\n', (size_t)(bend - e));
            e = nl ? nl + 1 : bend;
        }
        part[k].end = cut = e;
        part[k].ncol = nc;
    }
    run_parts(pool, np, count_part, part, sizeof *part);
    size_t rows = 0;
    for (int k = 0; k < np; k++) rows += part[k].rows;
    if (rows == 0) { mg_seterr_at(err, errlen, src, 0, "no data rows"); return -1; }
    t->cell = malloc(rows * (size_t)nc * sizeof *t->cell);
    if (!t->cell) { mg_seterr_at(err, errlen, src, 0, "out of memory"); return -1; }
    for (size_t k = 0, r = 0; k < (size_t)np; r += part[k].rows, k++) part[k].cell = t->cell + r * (size_t)nc;
    run_parts(pool, np, split_part, part, sizeof *part);
    for (int k = 0; k < np; k++) {
        if (part[k].bad_line) {
            mg_seterr_at(err, errlen, src, (long)(lineno + part[k].bad_line), "%d fields, header has %d",
                     part[k].bad_fields, nc);
            return -1;
        }
        lineno += part[k].lines;
    }
    t->nrow = rows;
    return 0;
}


/* Correctly rounded m * 10^e (m > 0), or -1 when the fast methods cannot
 * prove it and strtod must decide. */
static int fast_scale(uint64_t m, int e, double *out)
{
    /* Clinger (1990), "How to read floating point numbers accurately": an
     * exact m and an exact power of ten, one IEEE operation, one rounding. */
    if (m <= (1ULL << 53) && e >= -22 && e <= 22) {
        *out = e < 0 ? (double)m / p10[-e] : (double)m * p10[e];
        return 0;
    }
#ifdef MG_X87
    /* The same one operation in the 64-bit-mantissa format, then rounded to
     * double: that second rounding can differ from a direct one only when the
     * extended result lies within one of its ulps of a halfway point between
     * doubles, i.e. its 11 bits below double precision read 0x3ff..0x401;
     * those rare cases go to strtod. Results are normal doubles here. */
    if (e >= -27 && e <= 27) {
        long double r = e < 0 ? (long double)m / p10l[-e] : (long double)m * p10l[e];
        uint64_t mant;
        memcpy(&mant, &r, sizeof mant);   /* x87 layout: the 64-bit significand first */
        unsigned low = (unsigned)(mant & 0x7ff);
        if (low >= 0x3ff && low <= 0x401) return -1;
        *out = (double)r;
        return 0;
    }
#endif
    return -1;
}

int mg_parse_number(const char *s, double *out)
{
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+') { neg = *p == '-'; p++; }
    /* up to 19 significant digits exactly in m, value m * 10^e */
    uint64_t m = 0;
    int nd = 0, e = 0, any = 0;
    for (; (unsigned)(*p - '0') < 10; p++) {
        any = 1;
        if (m == 0 && *p == '0') continue;
        if (nd == 19) goto slow;
        m = m * 10 + (uint64_t)(*p - '0'); nd++;
    }
    if (*p == '.') {
        for (p++; (unsigned)(*p - '0') < 10; p++) {
            any = 1;
            if (m == 0 && *p == '0') { e--; continue; }
            if (nd == 19) goto slow;
            m = m * 10 + (uint64_t)(*p - '0'); nd++; e--;
        }
    }
    if (!any) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = 0, x = 0, ed = 0;
        if (*p == '-' || *p == '+') { eneg = *p == '-'; p++; }
        for (; (unsigned)(*p - '0') < 10; p++, ed++) {
            if (x > 100000) goto slow;
            x = x * 10 + (*p - '0');
        }
        if (!ed) return -1;
        e += eneg ? -x : x;
    }
    if (*p) return -1;
    if (m == 0) { *out = 0; return 0; }
    double v;
    if (fast_scale(m, e, &v) < 0) goto slow;
    *out = neg ? -v : v;
    return 0;
slow:
    /* decimal notation only (strtod would also take hex, inf, nan) */
    if (!*s || s[strspn(s, "0123456789+-.eE")]) return -1;
    {
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (*end || end == s || !isfinite(x)) return -1;
        *out = x == 0 ? 0 : x;
    }
    return 0;
}

typedef struct {
    const mg_tsv *t;
    int c;
    const size_t *rows;
    size_t beg, end, bad;
    double *out;
} num_part;

static void *num_worker(void *v)
{
    num_part *p = v;
    for (size_t i = p->beg; i < p->end; i++) {
        const char *s = mg_tsv_cell(p->t, p->rows ? p->rows[i] : i, p->c);
        if (mg_parse_number(s, &p->out[i]) < 0) { p->bad = i; return NULL; }
    }
    return NULL;
}

size_t mg_tsv_numbers(const mg_tsv *t, int c, const size_t *rows, size_t n, double *out, mg_pool *pool)
{
    int np = clamp_threads(mg_pool_threads(pool));
    while (np > 1 && n / (size_t)np < 65536) np--;
    num_part part[MG_TSV_MAX_THREADS];
    for (int k = 0; k < np; k++)
        part[k] = (num_part){ t, c, rows, n / (size_t)np * (size_t)k,
                              k + 1 < np ? n / (size_t)np * (size_t)(k + 1) : n, SIZE_MAX, out };
    run_parts(pool, np, num_worker, part, sizeof *part);
    for (int k = 0; k < np; k++) if (part[k].bad != SIZE_MAX) return part[k].bad;
    return n;
}

/* ---------------- id hash ---------------- */

/* Eight bytes per step, multiply-xorshift mixing (the splitmix64
 * finaliser's constants); ids are short, so this beats a per-byte hash. */
static uint64_t hash_str(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    h ^= h >> 29; h *= 0xBF58476D1CE4E5B9ULL; h ^= h >> 32;
    return h;
}

static int bucket_pass(const mg_tsv *a, int ida, const mg_tsv *b, int idb, mg_pool *pool,
                       ssize_t *match, size_t *dup_a, size_t *dup_b);

typedef struct {
    const mg_tsv *a, *b;
    int ida, idb;
    size_t beg, end;
    ssize_t *match;
} verify_part;

/* Compare the ids of every matched pair, a pair that differs meaning an id
 * absent from b; rows of b are prefetched ahead. */
static void *verify_worker(void *v)
{
    verify_part *p = v;
    const size_t ahead = 16;
    for (size_t r = p->beg; r < p->end; r++) {
        if (r + ahead < p->end && p->match[r + ahead] >= 0)
            __builtin_prefetch(&p->b->cell[(size_t)p->match[r + ahead] * (size_t)p->b->ncol + (size_t)p->idb]);
        if (r + ahead / 2 < p->end && p->match[r + ahead / 2] >= 0)
            __builtin_prefetch(mg_tsv_cell(p->b, (size_t)p->match[r + ahead / 2], p->idb));
        if (p->match[r] >= 0 && strcmp(mg_tsv_cell(p->a, r, p->ida), mg_tsv_cell(p->b, (size_t)p->match[r], p->idb)))
            p->match[r] = -1;
    }
    return NULL;
}

int mg_tsv_join(const mg_tsv *a, int ida, const mg_tsv *b, int idb, mg_pool *pool,
                ssize_t *match, size_t *a_only, size_t *b_only,
                const char **first_a_only, const char **first_b_only,
                char *dup_side, char *err, size_t errlen)
{
    uint8_t *used = NULL;
    int rc;
    *a_only = *b_only = 0;
    if (first_a_only) *first_a_only = NULL;
    if (first_b_only) *first_b_only = NULL;
    /* The usual case, both tables listing the same ids in the same order, is
     * settled by one sequential pass and a duplicate check of one side. */
    if (a->nrow == b->nrow) {
        size_t r = 0;
        while (r < a->nrow && !strcmp(mg_tsv_cell(a, r, ida), mg_tsv_cell(b, r, idb))) r++;
        if (r == a->nrow) {
            rc = mg_tsv_unique_mt(a, ida, pool, err, errlen);
            if (rc == -2) *dup_side = 'a';
            if (rc == 0) for (r = 0; r < a->nrow; r++) match[r] = (ssize_t)r;
            return rc;
        }
    }
    /* Partitioned join: match[] from equal tags within a bucket, then every
     * pair's ids compared in a pass in row order. */
    if (a->nrow >= UINT32_MAX || b->nrow >= UINT32_MAX) return -1;
    size_t dup_a, dup_b;
    if (bucket_pass(a, ida, b, idb, pool, match, &dup_a, &dup_b) < 0) return -1;
    if (dup_a != SIZE_MAX || dup_b != SIZE_MAX) {
        *dup_side = dup_a != SIZE_MAX ? 'a' : 'b';
        mg_seterr(err, errlen, "duplicated id '%s'", dup_a != SIZE_MAX ? mg_tsv_cell(a, dup_a, ida) : mg_tsv_cell(b, dup_b, idb));
        return -2;
    }
    int np = clamp_threads(mg_pool_threads(pool));
    while (np > 1 && a->nrow / (size_t)np < 65536) np--;
    verify_part vp[MG_TSV_MAX_THREADS];
    for (int k = 0; k < np; k++)
        vp[k] = (verify_part){ a, b, ida, idb, a->nrow / (size_t)np * (size_t)k,
                               k + 1 < np ? a->nrow / (size_t)np * (size_t)(k + 1) : a->nrow, match };
    run_parts(pool, np, verify_worker, vp, sizeof *vp);
    rc = 0;
    used = calloc(b->nrow ? b->nrow : 1, 1);
    if (!used) { rc = -1; goto done; }
    for (size_t r = 0; r < a->nrow; r++) {
        if (match[r] < 0) {
            if (!*a_only && first_a_only) *first_a_only = mg_tsv_cell(a, r, ida);
            (*a_only)++;
        } else used[match[r]] = 1;
    }
    for (size_t r = 0; r < b->nrow; r++)
        if (!used[r]) {
            if (!*b_only && first_b_only) *first_b_only = mg_tsv_cell(b, r, idb);
            (*b_only)++;
        }
done:
    free(used);
    return rc;
}

/* Duplicate checks and joins by radix partitioning: the rows of a table are
 * bucketed by the top bits of their id hash (a stable counting sort, so each
 * bucket lists its rows in row order), then each bucket, up to some 32k rows,
 * goes through an open-addressing table that stays in the L2 cache (fewer,
 * larger buckets measured faster than L1-sized ones: the scatter into many
 * buckets costs more in TLB misses than the larger table). Every pass is
 * sequential in memory or cache-resident, and the parts run on threads. An
 * entry is the hash's lower 32 bits (the tag, independent of the bucket
 * bits) and the row. */
typedef struct { uint64_t *ent; size_t *bstart; } idparts;

typedef struct {
    const mg_tsv *t;
    int col, shift;               /* bucket of hash h: (h >> 1) >> shift */
    size_t beg, end;
    uint64_t *ent;
    size_t *cnt;                  /* bucket counts, then write offsets */
} part_job;

/* Ids are hashed twice, for the counts and for the scatter: cheaper than
 * storing and rereading 8 bytes a row. */
static void *part_count(void *v)
{
    part_job *p = v;
    for (size_t r = p->beg; r < p->end; r++)
        p->cnt[(hash_str(mg_tsv_cell(p->t, r, p->col)) >> 1) >> p->shift]++;
    return NULL;
}

static void *part_scatter(void *v)
{
    part_job *p = v;
    for (size_t r = p->beg; r < p->end; r++) {
        uint64_t h = hash_str(mg_tsv_cell(p->t, r, p->col));
        p->ent[p->cnt[(h >> 1) >> p->shift]++] = (h << 32) | (uint64_t)r;
    }
    return NULL;
}

static int partition_ids(const mg_tsv *t, int col, int bits, mg_pool *pool, idparts *ip)
{
    size_t n = t->nrow, nb = (size_t)1 << bits;
    int np = clamp_threads(mg_pool_threads(pool));
    while (np > 1 && n / (size_t)np < 65536) np--;
    size_t *cnt = calloc((size_t)np * nb, sizeof *cnt);
    ip->ent = malloc((n ? n : 1) * sizeof *ip->ent);
    ip->bstart = malloc((nb + 1) * sizeof *ip->bstart);
    int rc = -1;
    if (!cnt || !ip->ent || !ip->bstart) goto done;
    part_job part[MG_TSV_MAX_THREADS];
    for (int k = 0; k < np; k++)
        part[k] = (part_job){ t, col, 63 - bits, n / (size_t)np * (size_t)k,
                              k + 1 < np ? n / (size_t)np * (size_t)(k + 1) : n,
                              ip->ent, cnt + (size_t)k * nb };
    run_parts(pool, np, part_count, part, sizeof *part);
    /* offsets: bucket-major, part-minor, so each bucket keeps row order */
    size_t off = 0;
    for (size_t b = 0; b < nb; b++) {
        ip->bstart[b] = off;
        for (int k = 0; k < np; k++) { size_t c = cnt[(size_t)k * nb + b]; cnt[(size_t)k * nb + b] = off; off += c; }
    }
    ip->bstart[nb] = off;
    run_parts(pool, np, part_scatter, part, sizeof *part);
    rc = 0;
done:
    free(cnt);
    return rc;
}

/* Table slot of a tag. */
static inline size_t tag_slot(uint64_t tag, size_t cap) { return (size_t)(tag * 0x9E3779B9u) & (cap - 1); }

/* Enter the n entries of one bucket into slot[cap] (cleared here); the first
 * row whose id repeats an earlier one, or SIZE_MAX. Strings, far apart in
 * memory, are read only when tags agree. */
static size_t bucket_insert(const mg_tsv *t, int col, const uint64_t *e, size_t n, uint64_t *slot, size_t cap)
{
    size_t dup = SIZE_MAX;
    memset(slot, 0, cap * sizeof *slot);
    for (size_t j = 0; j < n; j++) {
        uint64_t tag = e[j] >> 32;
        size_t r = (size_t)(e[j] & 0xffffffffu), i = tag_slot(tag, cap);
        while (slot[i]) {
            if ((slot[i] >> 32) == tag &&
                !strcmp(mg_tsv_cell(t, (size_t)(slot[i] & 0xffffffffu) - 1, col), mg_tsv_cell(t, r, col))) {
                if (r < dup) dup = r;
                break;
            }
            i = (i + 1) & (cap - 1);
        }
        if (!slot[i]) slot[i] = (tag << 32) | (uint64_t)(r + 1);
    }
    return dup;
}

typedef struct {
    const mg_tsv *a, *b;          /* b NULL: duplicate check of a only */
    int ida, idb;
    const idparts *pa, *pb;
    size_t bbeg, bend;            /* buckets */
    ssize_t *match;               /* row of b with a's tag, to be verified */
    size_t dup_a, dup_b;
    int nomem;
} bucket_job;

static void *bucket_worker(void *v)
{
    bucket_job *p = v;
    size_t maxb = 0, cap = 16;
    for (size_t b = p->bbeg; b < p->bend; b++) {
        size_t na = p->pa->bstart[b + 1] - p->pa->bstart[b];
        size_t nb = p->b ? p->pb->bstart[b + 1] - p->pb->bstart[b] : 0;
        if (na > maxb) maxb = na;
        if (nb > maxb) maxb = nb;
    }
    while (cap < 2 * maxb) cap *= 2;
    uint64_t *slot = malloc(cap * sizeof *slot);
    if (!slot) { p->nomem = 1; return NULL; }
    for (size_t b = p->bbeg; b < p->bend; b++) {
        const uint64_t *ea = p->pa->ent + p->pa->bstart[b];
        size_t na = p->pa->bstart[b + 1] - p->pa->bstart[b], c = 16;
        while (c < 2 * na) c *= 2;
        size_t d = bucket_insert(p->a, p->ida, ea, na, slot, c);
        if (d < p->dup_a) p->dup_a = d;
        if (!p->b) continue;
        const uint64_t *eb = p->pb->ent + p->pb->bstart[b];
        size_t nb = p->pb->bstart[b + 1] - p->pb->bstart[b];
        for (c = 16; c < 2 * nb;) c *= 2;
        d = bucket_insert(p->b, p->idb, eb, nb, slot, c);
        if (d < p->dup_b) p->dup_b = d;
        /* a row of a is matched to the one row of b with its tag (checked
         * later by verify_worker), or, if several share the tag, to the one
         * with its id; its id, if in b at all, is among those rows */
        for (size_t j = 0; j < na; j++) {
            uint64_t tag = ea[j] >> 32;
            size_t ra = (size_t)(ea[j] & 0xffffffffu);
            ssize_t m = -1;
            int ncand = 0;
            for (size_t i = tag_slot(tag, c); slot[i]; i = (i + 1) & (c - 1))
                if ((slot[i] >> 32) == tag) { ncand++; if (m < 0) m = (ssize_t)(slot[i] & 0xffffffffu) - 1; }
            if (ncand > 1) {
                m = -1;
                for (size_t i = tag_slot(tag, c); slot[i] && m < 0; i = (i + 1) & (c - 1)) {
                    size_t rb = (size_t)(slot[i] & 0xffffffffu) - 1;
                    if ((slot[i] >> 32) == tag && !strcmp(mg_tsv_cell(p->a, ra, p->ida), mg_tsv_cell(p->b, rb, p->idb)))
                        m = (ssize_t)rb;
                }
            }
            p->match[ra] = m;
        }
    }
    free(slot);
    return NULL;
}

/* Partition a (and b), then run the buckets on threads. 0, or -1 (memory). */
static int bucket_pass(const mg_tsv *a, int ida, const mg_tsv *b, int idb, mg_pool *pool,
                       ssize_t *match, size_t *dup_a, size_t *dup_b)
{
    size_t n = a->nrow;
    if (b && b->nrow > n) n = b->nrow;
    int bits = 0;
    while (bits < 20 && (n >> bits) > 32768) bits++;
    size_t nb = (size_t)1 << bits;
    idparts pa = { NULL, NULL }, pb = { NULL, NULL };
    int rc = -1, np = clamp_threads(mg_pool_threads(pool));
    while (np > 1 && n / (size_t)np < 65536) np--;
    if (partition_ids(a, ida, bits, pool, &pa) < 0) goto done;
    if (b && partition_ids(b, idb, bits, pool, &pb) < 0) goto done;
    bucket_job part[MG_TSV_MAX_THREADS];
    for (int k = 0; k < np; k++)
        part[k] = (bucket_job){ a, b, ida, idb, &pa, &pb, nb / (size_t)np * (size_t)k,
                                k + 1 < np ? nb / (size_t)np * (size_t)(k + 1) : nb,
                                match, SIZE_MAX, SIZE_MAX, 0 };
    run_parts(pool, np, bucket_worker, part, sizeof *part);
    *dup_a = *dup_b = SIZE_MAX;
    for (int k = 0; k < np; k++) {
        if (part[k].nomem) goto done;
        if (part[k].dup_a < *dup_a) *dup_a = part[k].dup_a;
        if (part[k].dup_b < *dup_b) *dup_b = part[k].dup_b;
    }
    rc = 0;
done:
    free(pa.ent); free(pa.bstart); free(pb.ent); free(pb.bstart);
    return rc;
}

int mg_tsv_unique_mt(const mg_tsv *t, int col, mg_pool *pool, char *err, size_t errlen)
{
    if (t->nrow >= UINT32_MAX) return -1;
    size_t dup, unused;
    if (bucket_pass(t, col, NULL, 0, pool, NULL, &dup, &unused) < 0) return -1;
    if (dup == SIZE_MAX) return 0;
    mg_seterr(err, errlen, "duplicated id '%s'", mg_tsv_cell(t, dup, col));
    return -2;
}

int mg_tsv_unique(const mg_tsv *t, int col, char *err, size_t errlen)
{
    return mg_tsv_unique_mt(t, col, NULL, err, errlen);
}

static int cmp_idgroup(const void *x, const void *y)
{
    const mg_idgroup *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a->row > b->row) - (a->row < b->row);
}

mg_idgroup *mg_tsv_group_ids(const mg_tsv *t, int col)
{
    mg_idgroup *v = malloc((t->nrow ? t->nrow : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t r = 0; r < t->nrow; r++) { v[r].id = mg_tsv_cell(t, r, col); v[r].row = r; }
    qsort(v, t->nrow, sizeof *v, cmp_idgroup);
    return v;
}

size_t mg_idgroup_find(const mg_idgroup *v, size_t n, const char *id, size_t *cnt)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(v[mid].id, id) < 0) lo = mid + 1; else hi = mid;
    }
    size_t e = lo;
    while (e < n && !strcmp(v[e].id, id)) e++;
    *cnt = e - lo;
    return lo;
}

/* mg_metrics_tsv.c: TSV tables and the id join for mg-score. */
#include "mg_metrics_tsv.h"
#include "mg_metrics.h"
#include "mg_stream.h"
#include "mg_tensor.h"

#include <jansson.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int slurp(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { snprintf(err, errlen, "%s", strerror(errno)); return -1; }
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
        snprintf(err, errlen, "read error: %s", strerror(errno));
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
    snprintf(err, errlen, "out of memory");
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

static int parse_table(mg_tsv *t, char *err, size_t errlen);

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
static int jsonl_to_table(mg_tsv *t, char *err, size_t errlen)
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
            snprintf(err, errlen, "line %zu: not a JSON object%s%s", lineno, o ? "" : ": ", o ? "" : je.text);
            json_decref(o);
            goto done;
        }
        if (!first) {
            first = o;
            nk = json_object_size(o);
            keys = calloc(nk ? nk : 1, sizeof *keys);
            if (!keys) { snprintf(err, errlen, "out of memory"); goto done; }
            const char *key;
            json_t *v;
            size_t i = 0;
            json_object_foreach(o, key, v) keys[i++] = (char *)key;
            for (i = 0; i < nk; i++)
                if (put_field(&out, &len, &cap, keys[i], i + 1 < nk ? '\t' : '\n') < 0) goto nomem;
            if (!nk) { snprintf(err, errlen, "line %zu: empty object", lineno); goto done; }
        }
        for (size_t i = 0; i < nk; i++) {
            json_t *v = json_object_get(o, keys[i]);
            const char *txt;
            if (!v) {
                snprintf(err, errlen, "line %zu: no key \"%s\"", lineno, keys[i]);
                if (o != first) json_decref(o);
                goto done;
            }
            if (json_is_string(v)) txt = json_string_value(v);
            else if (json_is_integer(v)) { snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)); txt = num; }
            else if (json_is_real(v)) { snprintf(num, sizeof num, "%.17g", json_real_value(v)); txt = num; }
            else if (json_is_boolean(v)) txt = json_is_true(v) ? "1" : "0";
            else if (json_is_null(v)) txt = "";
            else {
                snprintf(err, errlen, "line %zu: key \"%s\" is not a string, number, boolean or null", lineno, keys[i]);
                if (o != first) json_decref(o);
                goto done;
            }
            if (put_field(&out, &len, &cap, txt, i + 1 < nk ? '\t' : '\n') < 0) { if (o != first) json_decref(o); goto nomem; }
        }
        if (o != first) json_decref(o);
    }
    if (!first) { snprintf(err, errlen, "empty table (no JSON object)"); goto done; }
    free(t->buf);
    t->buf = out;
    t->len = len;
    out[len] = 0;  /* put_field keeps a spare byte */
    out = NULL;
    rc = 0;
    goto done;
nomem:
    snprintf(err, errlen, "out of memory");
done:
    free(out); free(keys);
    json_decref(first);
    return rc;
}

/* A stream of prediction records as a table: id, the scores of tensor
 * "pred" ([] or [C]; columns named by the "classes" metadata, else pred or
 * pred0..), then the other metadata keys of the first record. */
static int stream_to_table(mg_tsv *t, char *err, size_t errlen)
{
    mg_reader *rd = mg_reader_open_mem(t->buf, t->len, err, errlen);
    mg_record *rec = mg_record_init();
    char *out = NULL, **names = NULL, *nbuf = NULL;
    size_t olen = 0, ocap = 0;
    int rc = -1, C = -1, nmeta = 0, ncol = 0;
    size_t rows = 0;
    if (!rd || !rec) { if (rd && !rec) snprintf(err, errlen, "out of memory"); goto done; }
    int st;
    while ((st = mg_reader_next(rd, rec)) == 1) {
        mg_tensor *pt = mg_record_find_tensor(rec, "pred");
        const char *id = mg_record_get_meta(rec, "id");
        if (!id) { snprintf(err, errlen, "record %zu: no id metadata", rows + 1); goto done; }
        /* scores from the "pred" tensor, or only from metadata (no tensor) */
        int64_t m = pt ? mg_tensor_numel(pt) : 0;
        if (pt && (pt->ndim > 1 || m < 1 || m > 100000)) {
            snprintf(err, errlen, "record %zu: pred tensor must be a scalar or a vector", rows + 1);
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
            if (!names || !nbuf) { snprintf(err, errlen, "out of memory"); goto done; }
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
                if (k != C) { snprintf(err, errlen, "record 1: %d classes for %d scores", k, C); goto done; }
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
            snprintf(err, errlen, "record %zu: %lld pred scores, the first record had %d", rows + 1, (long long)m, C);
            goto done;
        }
        /* append the row as TSV text */
        size_t need = olen + strlen(id) + 2 + (size_t)C * 26;
        for (int k = 1 + C; k < ncol; k++) {
            const char *v = mg_record_get_meta(rec, names[k]);
            if (!v) { snprintf(err, errlen, "record %zu: no %s metadata", rows + 1, names[k]); goto done; }
            need += strlen(v) + 1;
        }
        if (need + 1 > ocap) {
            size_t nc = ocap ? ocap : 1 << 16;
            while (nc < need + 1) nc *= 2;
            char *no = realloc(out, nc);
            if (!no) { snprintf(err, errlen, "out of memory"); goto done; }
            out = no; ocap = nc;
        }
        if (strpbrk(id, "\t\n")) { snprintf(err, errlen, "record %zu: id contains a tab or newline", rows + 1); goto done; }
        olen += (size_t)sprintf(out + olen, "%s", id);
        for (int64_t k = 0; k < m; k++) olen += (size_t)sprintf(out + olen, "\t%.17g", mg_tensor_get(pt, k));
        for (int k = 1 + C; k < ncol; k++) olen += (size_t)sprintf(out + olen, "\t%s", mg_record_get_meta(rec, names[k]));
        out[olen++] = '\n';
        rows++;
    }
    if (st < 0) { snprintf(err, errlen, "%s", mg_reader_error(rd)); goto done; }
    if (rows == 0) { snprintf(err, errlen, "no records"); goto done; }
    /* rebuild t from the text */
    {
        size_t hl = 0;
        for (int k = 0; k < ncol; k++) hl += strlen(names[k]) + 1;
        char *txt = malloc(hl + olen + 1);
        if (!txt) { snprintf(err, errlen, "out of memory"); goto done; }
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

int mg_tsv_read(const char *path, mg_tsv *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (slurp(path, &t->buf, &t->len, err, errlen) < 0) return -1;
    return parse_table(t, err, errlen);
}

int mg_tsv_parse_mem(const void *data, size_t len, mg_tsv *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->buf = malloc(len + 1);
    if (!t->buf) { snprintf(err, errlen, "out of memory"); return -1; }
    memcpy(t->buf, data, len);
    t->buf[len] = 0;
    t->len = len;
    return parse_table(t, err, errlen);
}

/* Split t->buf (t->len bytes, NUL-terminated) into the table. */
static int parse_table(mg_tsv *t, char *err, size_t errlen)
{
    static const unsigned char magic[8] = { 0x89, 'M', 'G', 'T', '\r', '\n', 0x1a, '\n' };
    if (t->len >= 8 && !memcmp(t->buf, magic, 8) && stream_to_table(t, err, errlen) < 0) return -1;
    if (t->len > 0 && t->buf[0] == '{' && jsonl_to_table(t, err, errlen) < 0) return -1;
    if (memchr(t->buf, 0, t->len)) { snprintf(err, errlen, "binary data (NUL byte), not a TSV table"); return -1; }
    size_t pos = 0, lineno = 0;
    char *line;
    while ((line = next_line(t->buf, t->len, &pos))) {
        lineno++;
        if (line[0] && line[0] != '#') break;
    }
    if (!line) { snprintf(err, errlen, "empty table (no header line)"); return -1; }
    int nc = 1;
    for (char *p = line; *p; p++) nc += *p == '\t';
    t->colname = malloc((size_t)nc * sizeof *t->colname);
    if (!t->colname) { snprintf(err, errlen, "out of memory"); return -1; }
    t->ncol = split(line, t->colname, nc);
    for (int c = 0; c < nc; c++) {
        if (!t->colname[c][0]) { snprintf(err, errlen, "line %zu: empty column name", lineno); return -1; }
        for (int d = 0; d < c; d++)
            if (!strcmp(t->colname[c], t->colname[d])) {
                snprintf(err, errlen, "line %zu: duplicated column '%s'", lineno, t->colname[c]);
                return -1;
            }
    }
    /* rows: at most one per remaining newline (+1) */
    size_t maxrows = 1;
    for (const char *p = t->buf + pos; (p = memchr(p, '\n', t->len - (size_t)(p - t->buf))); p++) maxrows++;
    t->cell = malloc(maxrows * (size_t)nc * sizeof *t->cell);
    if (!t->cell) { snprintf(err, errlen, "out of memory"); return -1; }
    size_t r = 0;
    while ((line = next_line(t->buf, t->len, &pos))) {
        lineno++;
        if (!line[0] || line[0] == '#') continue;
        int k = split(line, t->cell + r * (size_t)nc, nc);
        if (k != nc) {
            snprintf(err, errlen, "line %zu: %d fields, header has %d", lineno, k, nc);
            return -1;
        }
        r++;
    }
    t->nrow = r;
    if (r == 0) { snprintf(err, errlen, "no data rows"); return -1; }
    return 0;
}

int mg_parse_number(const char *s, double *out)
{
    static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
        1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+') { neg = *p == '-'; p++; }
    /* Clinger's fast path: mantissa < 2^53 and at most 22 fraction digits give
     * the correctly rounded value with one division. */
    uint64_t m = 0;
    int nd = 0, frac = 0, any = 0;
    while (*p >= '0' && *p <= '9') { m = m * 10 + (uint64_t)(*p - '0'); nd += m != 0; any = 1; p++; if (nd > 15) goto slow; }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            m = m * 10 + (uint64_t)(*p - '0'); nd += m != 0; frac++; any = 1; p++;
            if (nd > 15 || frac > 22) goto slow;
        }
    }
    if (*p || !any) goto slow;
    double v = (double)m / p10[frac];
    *out = neg ? -v : v;
    if (*out == 0) *out = 0;
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

/* ---------------- id hash ---------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a splitmix finaliser */
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ULL; }
    h ^= h >> 31; h *= 0xBF58476D1CE4E5B9ULL; h ^= h >> 29;
    return h;
}

/* Open addressing; a slot holds the upper 32 hash bits and row + 1 (0 =
 * empty), so most probes are settled without touching the strings. */
typedef struct { size_t cap; uint64_t *slot; } idmap;

static int idmap_build(idmap *m, const mg_tsv *t, int c, size_t *dup)
{
    if (t->nrow >= UINT32_MAX) return -1;
    m->cap = 16;
    while (m->cap < t->nrow + t->nrow / 2) m->cap *= 2;
    m->slot = calloc(m->cap, sizeof *m->slot);
    if (!m->slot) return -1;
    for (size_t r = 0; r < t->nrow; r++) {
        const char *id = mg_tsv_cell(t, r, c);
        uint64_t h = hash_str(id);
        uint64_t tag = h >> 32;
        size_t i = h & (m->cap - 1);
        while (m->slot[i]) {
            if ((m->slot[i] >> 32) == tag &&
                !strcmp(mg_tsv_cell(t, (size_t)(m->slot[i] & 0xffffffffu) - 1, c), id)) { *dup = r; return -2; }
            i = (i + 1) & (m->cap - 1);
        }
        m->slot[i] = (tag << 32) | (uint64_t)(r + 1);
    }
    return 0;
}

static ssize_t idmap_find(const idmap *m, const mg_tsv *t, int c, const char *id)
{
    uint64_t h = hash_str(id), tag = h >> 32;
    size_t i = h & (m->cap - 1);
    while (m->slot[i]) {
        size_t r = (size_t)(m->slot[i] & 0xffffffffu) - 1;
        if ((m->slot[i] >> 32) == tag && !strcmp(mg_tsv_cell(t, r, c), id)) return (ssize_t)r;
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

int mg_tsv_join(const mg_tsv *a, int ida, const mg_tsv *b, int idb,
                ssize_t *match, size_t *a_only, size_t *b_only,
                const char **first_a_only, const char **first_b_only,
                char *dup_side, char *err, size_t errlen)
{
    idmap ma = { 0, NULL }, mb = { 0, NULL };
    uint8_t *used = NULL;
    size_t dup = 0;
    int rc = idmap_build(&ma, a, ida, &dup);
    if (rc == -2) {
        *dup_side = 'a';
        snprintf(err, errlen, "duplicated id '%s'", mg_tsv_cell(a, dup, ida));
    }
    if (rc < 0) goto done;
    rc = idmap_build(&mb, b, idb, &dup);
    if (rc == -2) {
        *dup_side = 'b';
        snprintf(err, errlen, "duplicated id '%s'", mg_tsv_cell(b, dup, idb));
    }
    if (rc < 0) goto done;
    used = calloc(b->nrow, 1);
    if (!used) { rc = -1; goto done; }
    *a_only = *b_only = 0;
    if (first_a_only) *first_a_only = NULL;
    if (first_b_only) *first_b_only = NULL;
    for (size_t r = 0; r < a->nrow; r++) {
        match[r] = idmap_find(&mb, b, idb, mg_tsv_cell(a, r, ida));
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
    free(ma.slot); free(mb.slot); free(used);
    return rc;
}

int mg_tsv_unique(const mg_tsv *t, int col, char *err, size_t errlen)
{
    /* sort the id hashes (sequential passes, unlike a hash table) and compare
     * the strings of equal neighbours; the first repeat in row order is named */
    size_t n = t->nrow;
    if (n >= UINT32_MAX) return -1;
    uint64_t *h = malloc((n ? n : 1) * sizeof *h);
    uint32_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!h || !ord) { free(h); free(ord); return -1; }
    /* 44 hash bits: four radix passes; equal keys are compared as strings */
    for (size_t r = 0; r < n; r++) { h[r] = hash_str(mg_tsv_cell(t, r, col)) >> 20; ord[r] = (uint32_t)r; }
    if (mg_sort_u64(h, ord, n) < 0) { free(h); free(ord); return -1; }
    size_t dup = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n && h[j] == h[i]; j++)
            if (!strcmp(mg_tsv_cell(t, ord[i], col), mg_tsv_cell(t, ord[j], col))) {
                size_t r = ord[i] > ord[j] ? ord[i] : ord[j];
                if (r < dup) dup = r;
            }
    free(h); free(ord);
    if (dup == SIZE_MAX) return 0;
    snprintf(err, errlen, "duplicated id '%s'", mg_tsv_cell(t, dup, col));
    return -2;
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

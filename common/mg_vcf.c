/* mg_vcf.c: streaming VCF/BCF genotype reader; see mg_vcf.h. */
#include "mg_vcf.h"

#include "mg_err.h"
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/bgzf.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/kseq.h>
#include <htslib/kstring.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define N_CHUNK 4
#define READ_CHUNK (1 << 20)
#define INDEXED_CHUNK (1 << 16)

struct mg_vcf {
    htsFile *fp;
    bcf_hdr_t *hdr;
    int is_bcf;
    int nsamples;
    int64_t line;            /* current line (text) or record number (BCF) */
    char build[16];
    int has_build;
    /* current record */
    kstring_t ks;            /* text: header lines; indexed reading's lines */
    char *ln;                /* text: the current line, cut at field ends */
    size_t ln_len;
    /* text: decompressed bytes in chunks, lines found in place with memchr; a
     * line crossing a chunk's end is put together in st. With threads > 1 a
     * reading thread fills the chunks (a ring) while this one parses. */
    int threads;
    char *ch[N_CHUNK];
    size_t ch_len[N_CHUNK];
    int ch_full[N_CHUNK];    /* filled, not yet given back (reading thread) */
    int ch_stat[N_CHUNK];    /* 0 data, 1 end of file, -1 read error */
    int ch_cur, ch_have;     /* the chunk being parsed */
    size_t ch_pos, ch_size;
    char *st;
    size_t st_len, st_cap;
    int rd_on, rd_quit, rd_next;
    pthread_t rd_th;
    pthread_mutex_t rd_mu;
    pthread_cond_t rd_cv;
    char *rest;              /* text: start of QUAL (after ALT) */
    bcf1_t *rec;             /* BCF record */
    const char **allele;
    int m_allele;
    int n_allele;
    /* decoded genotypes of the current record */
    int16_t *gt;             /* [2n] allele indices, -1 missing */
    int32_t *dsq;            /* [n] ALT dosage in 1/16384, -1 = none */
    int dfield;              /* MG_VCF_DS/GP/HDS or 0: the dosage field read */
    int has_ds;              /* some sample's dosage came from DS */
    uint8_t *cnt1;           /* [n] ALT copies (3 = missing) of a biallelic record */
    uint8_t *gt8_table;      /* BCF int8 GT byte pair -> ALT copies (biallelic) */
    int cnt_valid;           /* cnt1 holds the record (else gt/dsq) */
    int32_t *bgt; int m_bgt; /* htslib buffers (BCF) */
    float *bds; int m_bds;
    float *bhds; int m_bhds;
    /* index-driven reading of chosen positions (mg_vcf_use_index) */
    tbx_t *tbx;
    hts_idx_t *idx;
    hts_itr_t *itr;
    struct vrange { int tid; int64_t beg, end; } *rg;   /* 0-based, half-open */
    int n_rg, i_rg;
    const char **seqnames;   /* tabix sequence names (strings owned by the index) */
    int n_seqnames;
    char err[256];
};

static int fail(mg_vcf *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reader_stop(mg_vcf *v);
static int fail(mg_vcf *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mg_vseterr(v->err, sizeof v->err, fmt, ap);
    va_end(ap);
    return -1;
}

const char *mg_vcf_error(const mg_vcf *v) { return v->err; }
int64_t mg_vcf_line(const mg_vcf *v) { return v->line; }
int mg_vcf_is_bcf(const mg_vcf *v) { return v->is_bcf; }
int mg_vcf_nsamples(const mg_vcf *v) { return v->nsamples; }
const char *mg_vcf_sample(const mg_vcf *v, int i) { return v->hdr->samples[i]; }
const char *mg_vcf_build(const mg_vcf *v) { return v->has_build ? v->build : NULL; }

/* Build names as the header may spell them; GRCh37 and hg19 differ only in
 * chrM, which scoring never uses. */
static const char *build_of(const char *s)
{
    if (strstr(s, "GRCh38") || strstr(s, "hg38") || strstr(s, "GRCH38") || strstr(s, "b38"))
        return "GRCh38";
    if (strstr(s, "GRCh37") || strstr(s, "hg19") || strstr(s, "GRCH37") || strstr(s, "b37")
        || strstr(s, "hs37d5") || strstr(s, "human_g1k_v37"))
        return "GRCh37";
    return NULL;
}

static void find_build(mg_vcf *v)
{
    for (int i = 0; i < v->hdr->nhrec; i++) {
        bcf_hrec_t *h = v->hdr->hrec[i];
        const char *b = NULL;
        if (h->value && (!strcmp(h->key, "reference") || !strcmp(h->key, "assembly")))
            b = build_of(h->value);
        else if (h->type == BCF_HL_CTG)
            for (int k = 0; k < h->nkeys && !b; k++)
                if (!strcmp(h->keys[k], "assembly")) b = build_of(h->vals[k]);
        if (b) {
            snprintf(v->build, sizeof v->build, "%s", b);
            v->has_build = 1;
            return;
        }
    }
}

/* Read a text header line by line so that record line numbers are exact. */
static int read_text_header(mg_vcf *v)
{
    kstring_t h = {0, 0, NULL};
    int ret = -1;
    for (;;) {
        int r = hts_getline(v->fp, KS_SEP_LINE, &v->ks);
        if (r < 0) { fail(v, "no #CHROM header line"); goto out; }
        v->line++;
        if (v->ks.l == 0 || v->ks.s[0] != '#') {
            fail(v, "line %lld: header line does not start with '#'", (long long)v->line);
            goto out;
        }
        kputsn(v->ks.s, v->ks.l, &h);
        kputc('\n', &h);
        if (v->ks.l >= 6 && !strncmp(v->ks.s, "#CHROM", 6)) break;
    }
    v->hdr = bcf_hdr_init("r");
    if (!v->hdr || bcf_hdr_parse(v->hdr, h.s) < 0) {
        fail(v, "malformed VCF header");
        goto out;
    }
    ret = 0;
out:
    free(h.s);
    return ret;
}

mg_vcf *mg_vcf_open(const char *path, int threads, char *err, size_t errlen)
{
    mg_vcf *v = calloc(1, sizeof *v);
    if (!v) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    v->fp = hts_open(path, "r");
    if (!v->fp) {
        mg_seterr(err, errlen, "cannot open: %s", strerror(errno ? errno : EIO));
        free(v);
        return NULL;
    }
    const htsFormat *f = hts_get_format(v->fp);
    if (f->format == bcf) v->is_bcf = 1;
    else if (f->format != vcf) {
        mg_seterr(err, errlen, "not a VCF or BCF file");
        goto fail;
    }
    /* Text: one reading thread decompresses (see reader_main) while this one
     * parses, and the scorer takes a third; htslib's pool comes in only for
     * threads beyond those, as it costs more in synchronisation than it gives
     * on a machine with few cores. BCF records are decoded by htslib. */
    v->threads = threads;
    int pool = v->is_bcf ? threads : threads - 2;
    if (pool > 1 && f->compression == bgzf && hts_set_threads(v->fp, pool) < 0) {
        mg_seterr(err, errlen, "cannot start %d decompression threads", pool);
        goto fail;
    }
    if (v->is_bcf) {
        v->hdr = bcf_hdr_read(v->fp);
        if (!v->hdr) { mg_seterr(err, errlen, "malformed BCF header"); goto fail; }
        v->rec = bcf_init();
        if (!v->rec) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    } else if (read_text_header(v) < 0) {
        mg_seterr(err, errlen, "%s", v->err);
        goto fail;
    }
    v->nsamples = bcf_hdr_nsamples(v->hdr);
    if (v->nsamples == 0) { mg_seterr(err, errlen, "no samples in the header"); goto fail; }
    v->gt = malloc(sizeof *v->gt * 2 * (size_t)v->nsamples);
    v->dsq = malloc(sizeof *v->dsq * (size_t)v->nsamples);
    v->cnt1 = malloc((size_t)v->nsamples);
    if (!v->gt || !v->dsq || !v->cnt1) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    find_build(v);
    return v;
fail:
    mg_vcf_close(v);
    return NULL;
}

int mg_vcf_close(mg_vcf *v)
{
    if (!v) return 0;
    int ret = 0;
    if (v->itr) hts_itr_destroy(v->itr);
    if (v->tbx) tbx_destroy(v->tbx);
    if (v->idx) hts_idx_destroy(v->idx);
    free(v->rg);
    free(v->seqnames);
    if (v->hdr) bcf_hdr_destroy(v->hdr);
    if (v->rec) bcf_destroy(v->rec);
    reader_stop(v);
    if (v->fp && hts_close(v->fp) < 0) ret = -1;
    free(v->ks.s);
    for (int i = 0; i < N_CHUNK; i++) free(v->ch[i]);
    free(v->st);
    free(v->allele);
    free(v->gt);
    free(v->dsq);
    free(v->cnt1);
    free(v->gt8_table);
    free(v->bgt);
    free(v->bds);
    free(v->bhds);
    free(v);
    return ret;
}

static int push_allele(mg_vcf *v, const char *a)
{
    if (v->n_allele == v->m_allele) {
        int m = v->m_allele ? 2 * v->m_allele : 8;
        const char **p = realloc(v->allele, sizeof *p * (size_t)m);
        if (!p) return fail(v, "out of memory");
        v->allele = p;
        v->m_allele = m;
    }
    v->allele[v->n_allele++] = a;
    return 0;
}

/* Cut the first five tab-separated fields in place. */
static int cut_text(mg_vcf *v, mg_vcf_site *s);

/* Fill chunk i with the next decompressed bytes: htslib reads compressed
 * text through BGZF, plain text through hFILE. */
static void read_chunk(mg_vcf *v, int i)
{
    BGZF *z = hts_get_bgzfp(v->fp);
    ssize_t r = z ? bgzf_read(z, v->ch[i], v->ch_size) : hread(v->fp->fp.hfile, v->ch[i], v->ch_size);
    v->ch_len[i] = r > 0 ? (size_t)r : 0;
    v->ch_stat[i] = r > 0 ? 0 : r == 0 ? 1 : -1;
}

static void *reader_main(void *arg)
{
    mg_vcf *v = arg;
    for (int i = 0;; i = (i + 1) % N_CHUNK) {
        pthread_mutex_lock(&v->rd_mu);
        while (v->ch_full[i] && !v->rd_quit) pthread_cond_wait(&v->rd_cv, &v->rd_mu);
        int quit = v->rd_quit;
        pthread_mutex_unlock(&v->rd_mu);
        if (quit) break;
        read_chunk(v, i);
        pthread_mutex_lock(&v->rd_mu);
        v->ch_full[i] = 1;
        pthread_cond_broadcast(&v->rd_cv);
        pthread_mutex_unlock(&v->rd_mu);
        if (v->ch_stat[i]) break;
    }
    return NULL;
}

static void reader_stop(mg_vcf *v)
{
    if (!v->rd_on) return;
    pthread_mutex_lock(&v->rd_mu);
    v->rd_quit = 1;
    pthread_cond_broadcast(&v->rd_cv);
    pthread_mutex_unlock(&v->rd_mu);
    pthread_join(v->rd_th, NULL);
    pthread_cond_destroy(&v->rd_cv);
    pthread_mutex_destroy(&v->rd_mu);
    v->rd_on = 0;
}

/* Sequential text reading starts here (not at open: reading through the
 * index seeks instead). Returns 0 or -1. */
static int reader_start(mg_vcf *v)
{
    for (int i = 0; i < (v->threads > 1 && !v->rg ? N_CHUNK : 1); i++)
        if (!v->ch[i] && !(v->ch[i] = malloc(READ_CHUNK))) return fail(v, "out of memory");
    v->ch_cur = -1;
    /* through the index, chunks are small (what is read past a range's end
     * is wasted) and read here, between seeks */
    v->ch_size = v->rg ? INDEXED_CHUNK : READ_CHUNK;
    if (v->threads <= 1 || v->rg) return 0;
    if (pthread_mutex_init(&v->rd_mu, NULL)) return fail(v, "cannot start the reading thread");
    if (pthread_cond_init(&v->rd_cv, NULL)) {
        pthread_mutex_destroy(&v->rd_mu);
        return fail(v, "cannot start the reading thread");
    }
    if (pthread_create(&v->rd_th, NULL, reader_main, v)) {
        pthread_cond_destroy(&v->rd_cv);
        pthread_mutex_destroy(&v->rd_mu);
        return fail(v, "cannot start the reading thread");
    }
    v->rd_on = 1;
    return 0;
}

/* Give back the parsed chunk and take the next: 1, 0 at end of file, -1 on a
 * read error. */
static int next_chunk(mg_vcf *v)
{
    if (!v->rd_on) {
        v->ch_cur = 0;
        read_chunk(v, 0);
    } else {
        pthread_mutex_lock(&v->rd_mu);
        if (v->ch_have) {
            v->ch_full[v->ch_cur] = 0;
            pthread_cond_broadcast(&v->rd_cv);
        }
        v->ch_cur = v->rd_next;
        while (!v->ch_full[v->ch_cur]) pthread_cond_wait(&v->rd_cv, &v->rd_mu);
        pthread_mutex_unlock(&v->rd_mu);
        if (!v->ch_stat[v->ch_cur]) v->rd_next = (v->rd_next + 1) % N_CHUNK;
    }
    v->ch_pos = 0;
    v->ch_have = v->ch_stat[v->ch_cur] == 0;
    if (v->ch_stat[v->ch_cur] < 0) return fail(v, "read error after line %lld", (long long)v->line);
    return v->ch_have;
}

static int stitch(mg_vcf *v, const char *b, size_t n)
{
    if (v->st_len + n + 1 > v->st_cap) {
        size_t cap = v->st_cap ? 2 * v->st_cap : 65536;
        while (cap < v->st_len + n + 1) cap *= 2;
        char *p = realloc(v->st, cap);
        if (!p) return fail(v, "out of memory");
        v->st = p;
        v->st_cap = cap;
    }
    memcpy(v->st + v->st_len, b, n);
    v->st_len += n;
    v->st[v->st_len] = 0;
    return 0;
}

/* The next line of a text VCF as v->ln (its '\n', and a '\r' before it,
 * replaced by NUL): in place in its chunk, or put together in v->st when it
 * crosses a chunk's end. hts_getline() would copy every line byte by byte.
 * Returns 1, 0 at end of file, -1 on error. */
static int buf_line(mg_vcf *v)
{
    if (!v->ch[0] && reader_start(v) < 0) return -1;
    v->st_len = 0;
    for (;;) {
        if (v->ch_have) {
            char *b = v->ch[v->ch_cur] + v->ch_pos;
            size_t avail = v->ch_len[v->ch_cur] - v->ch_pos;
            char *nl = memchr(b, '\n', avail);
            if (nl) {
                size_t len = (size_t)(nl - b);
                v->ch_pos += len + 1;
                if (v->st_len) {
                    if (stitch(v, b, len) < 0) return -1;
                    b = v->st;
                    len = v->st_len;
                } else *nl = 0;
                if (len && b[len - 1] == '\r') b[--len] = 0;
                v->ln = b;
                v->ln_len = len;
                return 1;
            }
            if (avail && stitch(v, b, avail) < 0) return -1;
        }
        int r = next_chunk(v);
        if (r < 0) return -1;
        if (r == 0) {                 /* a last line without '\n' */
            if (!v->st_len) return 0;
            if (v->st[v->st_len - 1] == '\r') v->st[--v->st_len] = 0;
            v->ln = v->st;
            v->ln_len = v->st_len;
            v->st_len = 0;
            return 1;
        }
    }
}

static int next_text(mg_vcf *v, mg_vcf_site *s)
{
    do {
        int r = buf_line(v);
        if (r <= 0) return r;
        v->line++;
    } while (v->ln_len == 0);
    return cut_text(v, s);
}

static int cut_text(mg_vcf *v, mg_vcf_site *s)
{
    char *p = v->ln, *f[5];
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        while (*p && *p != '\t') p++;
        if (*p != '\t') return fail(v, "fewer than 8 tab-separated columns");
        *p++ = 0;
    }
    v->rest = p;
    /* Every record, scored or not, must have the header's column count: a file
     * cut mid-record is otherwise accepted whenever the cut line is one the
     * score does not use (plink2 and bcftools reject it). Counting tabs is a
     * memchr pass over a line already in memory. */
    {
        const char *e = v->ln + v->ln_len;
        int tabs = 0, want = v->nsamples > 0 ? 3 + v->nsamples : 2;
        for (const char *t = p; (t = memchr(t, '\t', (size_t)(e - t))) != NULL; t++)
            if (++tabs > want + 1) break;
        if (tabs < 2) return fail(v, "fewer than 8 tab-separated columns");
        if (v->nsamples > 0 && tabs > want)
            return fail(v, "more sample columns than the %d in the header", v->nsamples);
        if (v->nsamples > 0 && tabs < want) {
            if (tabs > 3) return fail(v, "%d sample columns, header has %d", tabs - 3, v->nsamples);
            return fail(v, "%d columns, the header has %d (truncated line?)", tabs + 6, 9 + v->nsamples);
        }
        if (v->nsamples == 0 && tabs > want + 1) return fail(v, "more columns than the 9 of a header without samples");
    }
    char *end;
    errno = 0;
    long long pos = strtoll(f[1], &end, 10);
    if (end == f[1] || *end || errno || pos < 0)
        return fail(v, "POS '%s' is not a position", f[1]);
    if (!*f[0] || !*f[3]) return fail(v, "empty CHROM or REF");
    v->n_allele = 0;
    if (push_allele(v, f[3]) < 0) return -1;
    if (strcmp(f[4], ".") != 0) {
        char *a = f[4];
        for (;;) {
            char *c = strchr(a, ',');
            if (c) *c = 0;
            if (!*a) return fail(v, "empty ALT allele");
            if (push_allele(v, a) < 0) return -1;
            if (!c) break;
            a = c + 1;
        }
    }
    s->chrom = f[0];
    s->pos = pos;
    s->id = f[2];
    return 1;
}

static int unpack_bcf(mg_vcf *v, mg_vcf_site *s);

static int next_bcf(mg_vcf *v, mg_vcf_site *s)
{
    int r = bcf_read(v->fp, v->hdr, v->rec);
    if (r == -1) return 0;
    v->line++;
    if (r < -1) return fail(v, "malformed BCF record");
    return unpack_bcf(v, s);
}

static int unpack_bcf(mg_vcf *v, mg_vcf_site *s)
{
    if (v->rec->errcode)
        return fail(v, "malformed BCF record");
    if (bcf_unpack(v->rec, BCF_UN_STR) < 0) return fail(v, "malformed BCF record");
    v->n_allele = 0;
    for (int i = 0; i < v->rec->n_allele; i++) {
        if (i > 0 && !strcmp(v->rec->d.allele[i], ".")) continue;
        if (push_allele(v, v->rec->d.allele[i]) < 0) return -1;
    }
    if (v->n_allele == 0) return fail(v, "record without REF");
    s->chrom = bcf_hdr_id2name(v->hdr, v->rec->rid);
    s->pos = (int64_t)v->rec->pos + 1;
    s->id = v->rec->d.id;
    return 1;
}

static const char *tbx_seqnames_name(mg_vcf *v, int tid)
{
    if (!v->seqnames) {
        int n = 0;
        v->seqnames = tbx_seqnames(v->tbx, &n);
        v->n_seqnames = n;
    }
    return v->seqnames && tid >= 0 && tid < v->n_seqnames ? v->seqnames[tid] : NULL;
}

/* The next record starting inside one of the index ranges, in range order. */
/* The next record starting inside one of the index ranges, in range order.
 * BCF goes through htslib's iterator. For text the index only gives the
 * first offset of a range; lines are then read as in sequential mode until
 * one starts past the range, because the iterator's own line parser scans
 * every byte of these long lines. */
static int next_indexed(mg_vcf *v, mg_vcf_site *s)
{
    for (;;) {
        if (v->i_rg == v->n_rg) return 0;
        const struct vrange *g = &v->rg[v->i_rg];
        if (!v->itr) {
            v->itr = v->is_bcf ? bcf_itr_queryi(v->idx, g->tid, g->beg, g->end)
                               : tbx_itr_queryi(v->tbx, g->tid, g->beg, g->end);
            if (!v->itr) return fail(v, "index query failed");
            if (!v->is_bcf) {
                if (v->itr->n_off == 0) {          /* nothing indexed there */
                    hts_itr_destroy(v->itr);
                    v->itr = NULL;
                    v->i_rg++;
                    continue;
                }
                if (bgzf_seek(hts_get_bgzfp(v->fp), (int64_t)v->itr->off[0].u, SEEK_SET) < 0)
                    return fail(v, "cannot seek to an indexed region");
                v->ch_have = 0;                    /* what was read ahead is elsewhere */
            }
        }
        int r, k;
        if (v->is_bcf) {
            r = bcf_itr_next(v->fp, v->itr, v->rec);
        } else {
            r = buf_line(v);
            if (r < 0) return -1;
            if (r == 1 && v->ln_len == 0) continue;
            r = r == 1 ? 0 : -1;
        }
        if (r < -1) return fail(v, "read error in an indexed region");
        int done = r == -1;
        v->line = 0;                 /* not known when reading through the index */
        if (!done) {
            k = v->is_bcf ? unpack_bcf(v, s) : cut_text(v, s);
            if (k < 0) return k;
            if (!v->is_bcf) {
                const char *name = tbx_seqnames_name(v, g->tid);
                if (!name || strcmp(s->chrom, name) != 0 || s->pos - 1 >= g->end) done = 1;
            }
        }
        if (done) {
            hts_itr_destroy(v->itr);
            v->itr = NULL;
            v->i_rg++;
            continue;
        }
        /* records starting before the range belong to an earlier one (or none) */
        if (s->pos - 1 < g->beg || s->pos - 1 >= g->end) continue;
        return 1;
    }
}

static int cmp_range(const void *a, const void *b)
{
    const struct vrange *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    return x->beg < y->beg ? -1 : x->beg > y->beg;
}

int mg_vcf_use_index(mg_vcf *v, const char *path, int n, const char *const *chrom,
                     const int64_t *pos)
{
    if (!strcmp(path, "-")) return 0;
    const htsFormat *f = hts_get_format(v->fp);
    if (f->compression != bgzf) return 0;
    if (v->is_bcf) v->idx = bcf_index_load3(path, NULL, HTS_IDX_SILENT_FAIL);
    else v->tbx = tbx_index_load3(path, NULL, HTS_IDX_SILENT_FAIL);
    if (!v->idx && !v->tbx) return 0;
    v->rg = malloc(sizeof *v->rg * (size_t)(n ? n : 1));
    if (!v->rg) return fail(v, "out of memory");
    int m = 0;
    char name[256];
    for (int i = 0; i < n; i++) {
        /* the score's chromosome as the VCF spells it: as is, with or without "chr" */
        const char *c = chrom[i];
        int tid = -1;
        for (int t = 0; t < 3 && tid < 0; t++) {
            if (t == 0) snprintf(name, sizeof name, "%s", c);
            else if (t == 1) snprintf(name, sizeof name, "chr%s", c);
            else if (!strncasecmp(c, "chr", 3)) snprintf(name, sizeof name, "%s", c + 3);
            else continue;
            tid = v->is_bcf ? bcf_hdr_name2id(v->hdr, name) : tbx_name2id(v->tbx, name);
        }
        if (tid < 0 || pos[i] <= 0) continue;
        v->rg[m].tid = tid;
        v->rg[m].beg = pos[i] - 1;
        v->rg[m].end = pos[i];
        m++;
    }
    qsort(v->rg, (size_t)m, sizeof *v->rg, cmp_range);
    /* join positions closer than the 16 kb window of the linear index: a query
     * starts reading at its window anyway, so separate queries would re-read */
    int k = 0;
    for (int i = 0; i < m; i++) {
        if (k && v->rg[k - 1].tid == v->rg[i].tid && v->rg[i].beg <= v->rg[k - 1].end + 16384) {
            if (v->rg[i].end > v->rg[k - 1].end) v->rg[k - 1].end = v->rg[i].end;
        } else v->rg[k++] = v->rg[i];
    }
    v->n_rg = k;
    v->i_rg = 0;
    return 1;
}

int mg_vcf_next(mg_vcf *v, mg_vcf_site *s)
{
    int r = v->rg ? next_indexed(v, s) : v->is_bcf ? next_bcf(v, s) : next_text(v, s);
    if (r == 1) {
        s->n_allele = v->n_allele;
        s->allele = v->allele;
    }
    return r;
}

/* A dosage in allele copies (0..2) as plink2 stores it: (int)(x * 16384 + 0.5)
 * (plink2_import.cc ParseVcfBiallelicDosage). */
static int32_t quantise(double x) { return (int32_t)(x * MG_DOSAGE_ONE + 0.5); }

/* How one sample's dosage field was read. */
enum { DOS_SET, DOS_ABSENT, DOS_FORCE_MISSING };

/* A missing dosage value as plink2 reads one: empty, '?', or '.' not
 * followed by a digit. */
static int dos_missing(const char *p, const char *e)
{
    return p == e || *p == '?' || (*p == '.' && (p + 1 == e || p[1] < '0' || p[1] > '9'));
}

/* A decimal number at p, the value strtod gives: plain [+-]digits[.digits]
 * with a mantissa below 2^53 and at most 22 decimals is converted as
 * mantissa / 10^decimals, one correctly rounded IEEE division of two exact
 * values, which is strtod's correctly rounded result (Clinger's fast path);
 * every other form (exponents, long mantissas, hex, inf, nan) goes to strtod.
 * Dosage fields hold millions of such numbers, and strtod's general path is
 * most of the cost of reading them. */
static double parse_decimal(const char *p, char **end)
{
    static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const char *s = p;
    int neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    uint64_t m = 0;
    int nd = 0, frac = 0;
    for (; *s >= '0' && *s <= '9'; s++, nd++) m = m * 10 + (uint64_t)(*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++, nd++, frac++) m = m * 10 + (uint64_t)(*s - '0');
    if (nd == 0 || nd > 19 || frac > 22 || m >> 53 || *s == 'e' || *s == 'E' || *s == 'x' || *s == 'X')
        return strtod(p, end);
    *end = (char *)s;
    double x = (double)m / p10[frac];
    return neg ? -x : x;
}

/* A probability or dosage at p, ending at ',' or the field end e; x in
 * [lo, hi]. Returns the end of the number, or NULL. */
static const char *dos_num(const char *p, const char *e, double lo, double hi, double *x)
{
    char *end;
    if (p >= e) return NULL;
    *x = parse_decimal(p, &end);
    if (end == p || end > e || (end < e && *end != ',') || !(*x >= lo && *x <= hi)) return NULL;
    return end;
}

/* GP probabilities to a dosage as plink2 ParseVcfBiallelicGp: normalised by
 * their sum; all zero (the sum at most 3 x --import-dosage-certainty 0) is a
 * missing call whatever GT says. */
static int dos_gp(int hap, double p0, double p1, double p2, int32_t *q)
{
    if (hap) {
        if (p0 <= 0.0 && p1 <= 0.0) return DOS_FORCE_MISSING;
        *q = quantise(2 * p1 / (p0 + p1));
    } else {
        if (p0 <= 0.0 && p1 <= 0.0 && p2 <= 0.0) return DOS_FORCE_MISSING;
        *q = quantise((p1 + 2 * p2) / (p0 + p1 + p2));
    }
    return DOS_SET;
}

/* One sample's dosage from the text of its DS, GP or HDS value (plink2
 * 2.00a3.5 dosage= import with its defaults: --import-dosage-certainty 0,
 * so only an all-zero GP is forced missing). hap: the GT holds one allele.
 *   DS   ALT dosage 0..2; a haploid call's 0..1, doubled.
 *   GP   P(0/0),P(0/1),P(1/1) -> (P01 + 2*P11)/sum; haploid P(0),P(1) ->
 *        2*P1/sum (values after those used are ignored, as plink2 does).
 *   HDS  one value h (haploid): 2h; two h1,h2: h1 + h2.
 * Returns DOS_SET with *q in 1/16384 units, DOS_ABSENT (use GT),
 * DOS_FORCE_MISSING, or -1 with the reason set. */
static int dos_text(mg_vcf *v, int field, const char *p, const char *e, int hap, int32_t *q)
{
    double a, b, c;
    const char *t;
    if (dos_missing(p, e)) return DOS_ABSENT;
    if (field == MG_VCF_DS) {
        if (!(t = dos_num(p, e, 0.0, hap ? 1.0 : 2.0, &a)) || t != e)
            return fail(v, "DS '%.*s' is not a dosage in [0, %d]", (int)(e - p), p, hap ? 1 : 2);
        *q = quantise(hap ? 2 * a : a);
        return DOS_SET;
    }
    if (field == MG_VCF_HDS) {
        if (!(t = dos_num(p, e, 0.0, 1.0, &a)))
            return fail(v, "HDS '%.*s' is not a haplotype dosage in [0, 1]", (int)(e - p), p);
        if (t == e) { *q = (int32_t)(a * 2 * MG_DOSAGE_ONE + 0.5); return DOS_SET; }
        if (!(t = dos_num(t + 1, e, 0.0, 1.0, &b)))
            return fail(v, "HDS '%.*s': second haplotype is not a dosage in [0, 1]", (int)(e - p), p);
        *q = quantise(a + b);
        return DOS_SET;
    }
    if (!(t = dos_num(p, e, 0.0, 1.0, &a)) || t == e
        || !(t = dos_num(t + 1, e, 0.0, 1.0, &b)) || (!hap && (t == e || !(t = dos_num(t + 1, e, 0.0, 1.0, &c)))))
        return fail(v, "GP '%.*s' is not %d probabilities in [0, 1]", (int)(e - p), p, hap ? 2 : 3);
    return dos_gp(hap, a, b, hap ? 0.0 : c, q);
}

/* Parse one GT value "a/b", "a|b", "a", "./.", "." into gt[0..1]. Returns
 * the number of alleles written (1: haploid, counted twice), or -1. */
static int parse_gt(mg_vcf *v, const char *p, const char *e, int16_t *g)
{
    int k = 0, n_missing = 0;
    int16_t a[2];
    while (p < e) {
        if (k == 2) return fail(v, "GT with more than two alleles is not supported");
        if (*p == '.') { a[k++] = -1; n_missing++; p++; }
        else if (*p >= '0' && *p <= '9') {
            int x = 0;
            while (p < e && *p >= '0' && *p <= '9') {
                x = x * 10 + (*p++ - '0');
                if (x >= v->n_allele) return fail(v, "GT allele %d out of range", x);
            }
            a[k++] = (int16_t)x;
        } else return fail(v, "malformed GT");
        if (p < e) {
            if (*p != '/' && *p != '|') return fail(v, "malformed GT");
            p++;
            if (p == e) return fail(v, "malformed GT");
        }
    }
    if (k == 0) return fail(v, "empty GT");
    if (k == 1) a[1] = a[0];    /* haploid on a diploid chromosome: plink2 doubles it */
    else if (n_missing == 1) return fail(v, "half-missing GT (plink2 --vcf-half-call error)");
    g[0] = a[0];
    g[1] = a[1];
    return k;
}

/* Whole 4-byte cells "a/b<TAB>" or "a|b<TAB>" (a, b in {0, 1}) or "./.<TAB>",
 * ".|.<TAB>" from p on, eight at a time, as ALT copies (3 = missing) into c;
 * at most max cells. Returns how many were decoded (a multiple of 8); it stops
 * before the first group of eight with a cell of another form, which the
 * cell-by-cell code then decides. Same tests as the one-word check there. */
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_GT8_AVX2 1
__attribute__((target("avx2")))
static int gt_cells_avx2(const char *p, int max, uint8_t *c)
{
    const __m256i hom_ref = _mm256_set1_epi32(0x09302F30);             /* "0/0\t" */
    const __m256i digit_bits = _mm256_set1_epi32((int)0xFFFEFFFEu);
    const __m256i phased = _mm256_set1_epi32(0x5300);                  /* '/' ^ '|' */
    const __m256i miss_u = _mm256_set1_epi32(0x092E2F2E), miss_p = _mm256_set1_epi32(0x092E7C2E);
    const __m256i one = _mm256_set1_epi32(1), three = _mm256_set1_epi32(3);
    /* byte 0 of each 32-bit lane to bytes 0..3 of each 128-bit half, then the halves together */
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i join = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    int k = 0;
    for (; k + 8 <= max; k += 8, p += 32) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i d = _mm256_xor_si256(w, hom_ref);
        __m256i m = _mm256_and_si256(d, digit_bits);
        __m256i call = _mm256_or_si256(_mm256_cmpeq_epi32(m, _mm256_setzero_si256()),
                                       _mm256_cmpeq_epi32(m, phased));
        __m256i miss = _mm256_or_si256(_mm256_cmpeq_epi32(w, miss_u), _mm256_cmpeq_epi32(w, miss_p));
        if (_mm256_movemask_epi8(_mm256_or_si256(call, miss)) != -1) break;
        __m256i x = _mm256_add_epi32(_mm256_and_si256(d, one),
                                     _mm256_and_si256(_mm256_srli_epi32(d, 16), one));
        x = _mm256_blendv_epi8(x, three, miss);
        x = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(x, pick), join);
        _mm_storel_epi64((__m128i *)(void *)(c + k), _mm256_castsi256_si128(x));
    }
    return k;
}
#endif

/* GT is the first FORMAT field and no DS is wanted: the common layout, parsed
 * without walking subfields; the rest of each cell is skipped with memchr. */
static int load_text_gt_first(mg_vcf *v, char *p)
{
    int n = v->nsamples, bi = v->n_allele == 2;
    char *end = v->ln + v->ln_len;
    uint8_t *cnt = v->cnt1;
    v->cnt_valid = bi;
#ifdef HAVE_GT8_AVX2
    int simd = bi && __builtin_cpu_supports("avx2"), retry = 0;
#endif
    for (int s = 0; s < n; s++) {
        int16_t g[2];
#ifdef HAVE_GT8_AVX2
        /* cells before the last: each one's TAB says another follows */
        if (simd && s >= retry && s + 8 < n) {
            int max = n - 1 - s;
            if ((end - p) / 4 < max) max = (int)((end - p) / 4);
            int k = gt_cells_avx2(p, max, cnt + s);
            s += k;
            p += 4 * (size_t)k;
            if (k + 8 <= max) retry = s + 8;    /* other cell forms here: go on cell by cell */
        }
#endif
        if (bi && s + 1 < n && end - p >= 4) {
            /* fastest: a whole 4-byte cell "a/b<TAB>" or "a|b<TAB>", a, b in {0, 1},
             * or "./.<TAB>", compared as one little-endian word */
            uint32_t w, d, m;
            memcpy(&w, p, 4);
            d = w ^ 0x09302F30u;             /* "0/0\t" */
            m = d & 0xFFFEFFFEu;             /* allele digits may be 0 or 1 */
            if (m == 0 || m == 0x5300u) {    /* 0x53 = '/' ^ '|' */
                cnt[s] = (uint8_t)((d & 1) + ((d >> 16) & 1));
                p += 4;
                continue;
            }
            if (w == 0x092E2F2Eu || w == 0x092E7C2Eu) {   /* "./.\t", ".|.\t" */
                cnt[s] = 3;
                p += 4;
                continue;
            }
        }
        /* fast: single-digit diploid call "a/b" or "a|b" ending the GT field */
        char c0 = p[0], sep = c0 ? p[1] : 0, c2 = sep ? p[2] : 0, after = c2 ? p[3] : 1;
        unsigned a = (unsigned char)c0 - '0', b = (unsigned char)c2 - '0';
        if (a < 10 && b < 10 && (sep == '/' || sep == '|') && (after == '\t' || after == ':' || after == 0)
            && (int)a < v->n_allele && (int)b < v->n_allele) {
            if (bi) cnt[s] = (uint8_t)(a + b);
            else { v->gt[2 * s] = (int16_t)a; v->gt[2 * s + 1] = (int16_t)b; }
            if (after == '\t') {       /* a bare "a/b" cell: the next one follows */
                if (s + 1 == n) return fail(v, "more sample columns than the %d in the header", n);
                p += 4;
                continue;
            }
        } else {
            if (c0 == '.' && (sep == '/' || sep == '|') && c2 == '.'
                && (after == '\t' || after == ':' || after == 0)) {
                g[0] = g[1] = -1;
            } else {
                char *ge = p;
                while (*ge && *ge != '\t' && *ge != ':') ge++;
                if (ge == p) g[0] = g[1] = -1;
                else if (parse_gt(v, p, ge, g) < 0) return -1;
            }
            if (bi) cnt[s] = g[0] < 0 ? 3 : (uint8_t)(g[0] + g[1]);
            else { v->gt[2 * s] = g[0]; v->gt[2 * s + 1] = g[1]; }
        }
        char *t = memchr(p, '\t', (size_t)(end - p));
        if (s + 1 < n) {
            if (!t) return fail(v, "%d sample columns, header has %d", s + 1, n);
            p = t + 1;
        } else if (t)
            return fail(v, "more sample columns than the %d in the header", n);
    }
    return 0;
}

static int load_text(mg_vcf *v)
{
    /* rest = QUAL \t FILTER \t INFO \t FORMAT \t samples... */
    char *p = v->rest;
    for (int i = 0; i < 3; i++) {
        p = strchr(p, '\t');
        if (!p) return fail(v, "no FORMAT column");
        p++;
    }
    char *fmt = p, *fe = strchr(p, '\t');
    if (!fe) return fail(v, "no sample columns");
    /* d_i: the dosage field asked for (DS or GP; DS as HDS's fallback, as
     * plink2 dosage=HDS reads DS where HDS is missing) */
    int gt_i = -1, d_i = -1, h_i = -1, nf = 0, field = v->dfield;
    const char *dname = field == MG_VCF_GP ? "GP" : "DS";
    for (char *q = fmt; q < fe; nf++) {
        char *c = q;
        while (c < fe && *c != ':') c++;
        if (c - q == 2 && q[0] == 'G' && q[1] == 'T') gt_i = nf;
        else if (field && c - q == 2 && q[0] == dname[0] && q[1] == dname[1]) d_i = nf;
        else if (field == MG_VCF_HDS && c - q == 3 && !memcmp(q, "HDS", 3)) h_i = nf;
        q = c + 1;
    }
    if (gt_i < 0 && d_i < 0 && h_i < 0)
        return fail(v, field ? "no GT or %s field" : "no GT field", field == MG_VCF_HDS ? "HDS/DS" : dname);
    if ((d_i >= 0 || h_i >= 0) && v->n_allele > 2)
        return fail(v, "dosages on a multi-allelic record are not supported (nor by plink2)");
    p = fe + 1;
    int n = v->nsamples;
    v->has_ds = 0;
    if (gt_i == 0 && d_i < 0 && h_i < 0) return load_text_gt_first(v, p);
    for (int s = 0; s < n; s++) {
        char *cell = p;
        while (*p && *p != '\t') p++;
        char *ce = p;
        if (s + 1 < n) {
            if (*p != '\t')
                return fail(v, "%d sample columns, header has %d", s + 1, n);
            p++;
        } else if (*p)
            return fail(v, "more sample columns than the %d in the header", n);
        /* walk the subfields */
        const char *g0 = NULL, *g1 = NULL, *d0 = NULL, *d1 = NULL, *h0 = NULL, *h1 = NULL;
        char *q = cell;
        for (int k = 0; q <= ce; k++) {
            char *c = q;
            while (c < ce && *c != ':') c++;
            if (k == gt_i) { g0 = q; g1 = c; }
            else if (k == d_i) { d0 = q; d1 = c; }
            else if (k == h_i) { h0 = q; h1 = c; }
            if (c == ce) break;
            q = c + 1;
        }
        int16_t *g = v->gt + 2 * s;
        int hap = 0;          /* plink2: one allele in GT, missing or not */
        if (g0 && g1 > g0) {
            int k = parse_gt(v, g0, g1, g);
            if (k < 0) return -1;
            hap = k == 1;
        } else { g[0] = g[1] = -1; }
        v->dsq[s] = -1;
        int r = DOS_ABSENT;
        if (h0) r = dos_text(v, MG_VCF_HDS, h0, h1, hap, &v->dsq[s]);
        if (r == DOS_ABSENT && d0) r = dos_text(v, field == MG_VCF_GP ? MG_VCF_GP : MG_VCF_DS, d0, d1, hap, &v->dsq[s]);
        if (r < 0) return -1;
        if (r == DOS_SET) v->has_ds = 1;
        else if (r == DOS_FORCE_MISSING) { g[0] = g[1] = -1; v->dsq[s] = -1; }
    }
    return 0;
}

/* Diploid GT stored as int8 (htslib writes it so for < 63 alleles): decoded
 * from the raw bytes, without bcf_get_genotypes' int32 copy. */
static int load_bcf_gt8_slow(mg_vcf *v, const bcf_fmt_t *f);

/* Code of one sample's two GT bytes for a biallelic record: ALT copies 0..2,
 * 3 = missing, 255 = not decodable here (the slow path reports it). */
static uint8_t gt8_code(int8_t x0, int8_t x1)
{
    int m0 = (x0 >> 1) == 0 || x0 == bcf_int8_vector_end, m1 = (x1 >> 1) == 0;
    int a0, a1;
    if (x1 == bcf_int8_vector_end) {
        if (m0) return 3;
        a0 = a1 = (x0 >> 1) - 1;
    } else if (m0 || m1) {
        return m0 && m1 ? 3 : 255;
    } else {
        a0 = (x0 >> 1) - 1;
        a1 = (x1 >> 1) - 1;
    }
    if (a0 < 0 || a0 > 1 || a1 < 0 || a1 > 1) return 255;
    return (uint8_t)(a0 + a1);
}

/* BCF int8 GT pairs of a biallelic record, sixteen samples at a time, as ALT
 * copies into c: bytes 2..5 are alleles 0 and 1 ((a + 1) << 1 | phased),
 * 0 and 1 missing. Only pairs of two alleles or two missing values; returns
 * how many samples were decoded (a multiple of 16), stopping before the first
 * group with anything else (haploid, half-missing, other alleles), which the
 * table then decides. */
#ifdef HAVE_GT8_AVX2
__attribute__((target("avx2")))
static int gt8_pairs_avx2(const uint8_t *x, int n, uint8_t *c)
{
    const __m256i low7 = _mm256_set1_epi8(0x7F), two = _mm256_set1_epi8(2), one = _mm256_set1_epi8(1);
    const __m256i zero = _mm256_setzero_si256(), two16 = _mm256_set1_epi16(2), three16 = _mm256_set1_epi16(3);
    int s = 0;
    for (; s + 16 <= n; s += 16) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + 2 * s));
        __m256i h = _mm256_and_si256(_mm256_srli_epi16(v, 1), low7);     /* allele + 1, 0 missing */
        __m256i le2 = _mm256_cmpeq_epi8(_mm256_max_epu8(h, two), two);
        __m256i z = _mm256_cmpeq_epi8(h, zero);
        __m256i mixed = _mm256_xor_si256(z, _mm256_or_si256(_mm256_slli_epi16(z, 8), _mm256_srli_epi16(z, 8)));
        if (_mm256_movemask_epi8(le2) != -1 || !_mm256_testz_si256(mixed, mixed)) break;
        __m256i k = _mm256_sub_epi16(_mm256_maddubs_epi16(h, one), two16);
        k = _mm256_blendv_epi8(k, three16, z);
        k = _mm256_permute4x64_epi64(_mm256_packus_epi16(k, k), 0x08);
        _mm_storeu_si128((__m128i *)(void *)(c + s), _mm256_castsi256_si128(k));
    }
    return s;
}
#endif

static int load_bcf_gt8(mg_vcf *v, const bcf_fmt_t *f)
{
    if (v->n_allele != 2) return load_bcf_gt8_slow(v, f);
    if (!v->gt8_table) {
        if (!(v->gt8_table = malloc(65536))) return fail(v, "out of memory");
        for (int i = 0; i < 65536; i++) v->gt8_table[i] = gt8_code((int8_t)(i & 255), (int8_t)(i >> 8));
    }
    int n = v->nsamples;
    const uint8_t *x = f->p, *tab = v->gt8_table;
    uint8_t *c = v->cnt1, bad = 0;
#ifdef HAVE_GT8_AVX2
    int simd = __builtin_cpu_supports("avx2");
#endif
    for (int s = 0; s < n;) {
#ifdef HAVE_GT8_AVX2
        if (simd) s += gt8_pairs_avx2(x + 2 * s, n - s, c + s);
#endif
        for (int e = s + 16 < n ? s + 16 : n; s < e; s++) {
            uint8_t k = tab[x[2 * s] | (unsigned)x[2 * s + 1] << 8];
            bad |= k >> 7;
            c[s] = k;
        }
    }
    if (bad) return load_bcf_gt8_slow(v, f);
    v->cnt_valid = 1;
    return 0;
}

static int load_bcf_gt8_slow(mg_vcf *v, const bcf_fmt_t *f)
{
    int n = v->nsamples, bi = v->n_allele == 2;
    const int8_t *x = (const int8_t *)f->p;
    v->cnt_valid = bi;
    for (int s = 0; s < n; s++, x += 2) {
        int16_t g[2];
        int m0 = (x[0] >> 1) == 0 || x[0] == bcf_int8_vector_end, m1 = (x[1] >> 1) == 0;
        if (x[1] == bcf_int8_vector_end) {          /* haploid: counted twice */
            if (m0) g[0] = g[1] = -1;
            else g[0] = g[1] = (int16_t)((x[0] >> 1) - 1);
        } else if (m0 | m1) {
            if (m0 != m1) return fail(v, "half-missing GT (plink2 --vcf-half-call error)");
            g[0] = g[1] = -1;
        } else {
            g[0] = (int16_t)((x[0] >> 1) - 1);
            g[1] = (int16_t)((x[1] >> 1) - 1);
        }
        if (g[0] >= v->n_allele || g[1] >= v->n_allele || (g[0] < 0) != (g[1] < 0))
            return fail(v, "GT allele out of range");
        if (bi) v->cnt1[s] = g[0] < 0 ? 3 : (uint8_t)(g[0] + g[1]);
        else { v->gt[2 * s] = g[0]; v->gt[2 * s + 1] = g[1]; }
    }
    return 0;
}

/* A float FORMAT field of the current BCF record into *buf: values per
 * sample, 0 when the record lacks it, -1 on error. Number=G/A/. fields of a
 * biallelic record hold a few values; more than MAX_DOSAGE_VALUES per sample
 * is refused before htslib converts them. */
#define MAX_DOSAGE_VALUES 16
static int bcf_floats(mg_vcf *v, const char *tag, float **buf, int *m)
{
    bcf_fmt_t *f = bcf_get_fmt(v->hdr, v->rec, tag);
    if (!f) return 0;
    if (f->n > MAX_DOSAGE_VALUES)
        return fail(v, "%s has %d values per sample (at most %d)", tag, f->n, MAX_DOSAGE_VALUES);
    int r = bcf_get_format_float(v->hdr, v->rec, tag, buf, m);
    if (r == -1 || r == -3) return 0;           /* not in the header / record */
    if (r < 0) return fail(v, "%s is not a Float field", tag);
    return r / v->nsamples;
}

/* plink2 reads a BCF float as missing when its bits exceed +inf's: missing,
 * end of vector and NaN alike. */
static int bcf_dos_missing(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    return (int32_t)b > 0x7f800000;
}

/* One sample's BCF dosage, as dos_text() for the text forms. */
static int dos_bcf(mg_vcf *v, int field, const float *x, int per, int hap, int32_t *q)
{
    if (per < 1 || bcf_dos_missing(x[0])) return DOS_ABSENT;
    double a = x[0];
    if (field == MG_VCF_DS) {
        if (!(a >= 0.0 && a <= (hap ? 1.0 : 2.0)))
            return fail(v, "DS %g is not a dosage in [0, %d]", a, hap ? 1 : 2);
        *q = quantise(hap ? 2 * a : a);
        return DOS_SET;
    }
    if (field == MG_VCF_HDS) {
        if (!(a >= 0.0 && a <= 1.0)) return fail(v, "HDS %g is not a haplotype dosage in [0, 1]", a);
        if (per < 2 || bcf_float_is_vector_end(x[1])) { *q = (int32_t)(a * 2 * MG_DOSAGE_ONE + 0.5); return DOS_SET; }
        double b = x[1];
        if (!(b >= 0.0 && b <= 1.0)) return fail(v, "HDS: second haplotype is not a dosage in [0, 1]");
        *q = quantise(a + b);
        return DOS_SET;
    }
    int need = hap ? 2 : 3;
    for (int i = 0; i < need; i++)
        if (i >= per || !(x[i] >= 0.0f && x[i] <= 1.0f))
            return fail(v, "GP is not %d probabilities in [0, 1]", need);
    return dos_gp(hap, x[0], x[1], hap ? 0.0 : x[2], q);
}

static int load_bcf(mg_vcf *v)
{
    int n = v->nsamples, field = v->dfield;
    if (bcf_unpack(v->rec, BCF_UN_FMT) < 0) return fail(v, "malformed BCF record");
    v->has_ds = 0;
    if (!field) {
        bcf_fmt_t *f = bcf_get_fmt(v->hdr, v->rec, "GT");
        if (f && f->type == BCF_BT_INT8 && f->n == 2 && f->p) return load_bcf_gt8(v, f);
    }
    int ngt = bcf_get_genotypes(v->hdr, v->rec, &v->bgt, &v->m_bgt);
    int dper = 0, hper = 0;
    if (field) {
        dper = bcf_floats(v, field == MG_VCF_GP ? "GP" : "DS", &v->bds, &v->m_bds);
        if (field == MG_VCF_HDS && dper >= 0) hper = bcf_floats(v, "HDS", &v->bhds, &v->m_bhds);
        if (dper < 0 || hper < 0) return -1;
        if ((dper > 0 || hper > 0) && v->n_allele > 2)
            return fail(v, "dosages on a multi-allelic record are not supported (nor by plink2)");
    }
    if (ngt < 0 && dper == 0 && hper == 0)
        return fail(v, field ? "no GT or %s field" : "no GT field",
                    field == MG_VCF_HDS ? "HDS/DS" : field == MG_VCF_GP ? "GP" : "DS");
    int ploidy = ngt > 0 ? ngt / n : 0;
    if (ngt >= 0 && (ngt % n || ploidy > 2))
        return fail(v, "GT with more than two alleles is not supported");
    for (int s = 0; s < n; s++) {
        int16_t *g = v->gt + 2 * s;
        int hap = 0;          /* plink2: one allele (or none) in GT */
        g[0] = g[1] = -1;
        if (ploidy > 0) {
            int32_t *x = v->bgt + (size_t)s * ploidy;
            int k = 0, nm = 0;
            int16_t a[2] = {-1, -1};
            for (int j = 0; j < ploidy; j++) {
                if (x[j] == bcf_int32_vector_end) break;
                if (bcf_gt_is_missing(x[j])) { a[k++] = -1; nm++; continue; }
                int al = bcf_gt_allele(x[j]);
                if (al < 0 || al >= v->n_allele) return fail(v, "GT allele %d out of range", al);
                a[k++] = (int16_t)al;
            }
            if (k <= 1) { a[1] = a[0]; hap = 1; }
            else if (k == 2 && nm == 1)
                return fail(v, "half-missing GT (plink2 --vcf-half-call error)");
            g[0] = a[0];
            g[1] = a[1];
        }
        v->dsq[s] = -1;
        if (!field) continue;
        int r = DOS_ABSENT;
        if (hper) r = dos_bcf(v, MG_VCF_HDS, v->bhds + (size_t)s * hper, hper, hap, &v->dsq[s]);
        if (r == DOS_ABSENT && dper)
            r = dos_bcf(v, field == MG_VCF_GP ? MG_VCF_GP : MG_VCF_DS, v->bds + (size_t)s * dper, dper, hap, &v->dsq[s]);
        if (r < 0) return -1;
        if (r == DOS_SET) v->has_ds = 1;
        else if (r == DOS_FORCE_MISSING) { g[0] = g[1] = -1; v->dsq[s] = -1; }
    }
    return 0;
}

int mg_vcf_load_genotypes(mg_vcf *v, int field)
{
    v->dfield = field;
    v->cnt_valid = 0;
    return v->is_bcf ? load_bcf(v) : load_text(v);
}

int mg_vcf_has_dosage(const mg_vcf *v) { return v->has_ds; }

void mg_vcf_allele_counts(const mg_vcf *v, int a, uint8_t *c)
{
    int n = v->nsamples;
    if (v->cnt_valid) {
        const uint8_t *x = v->cnt1;
        if (a == 1) { memcpy(c, x, (size_t)n); return; }
        /* REF copies 2 - x, missing 3 stays 3: both are (6 - x) & 3, eight
         * bytes at a time (6 - x never borrows across bytes) */
        int s = 0;
        for (; s + 8 <= n; s += 8) {
            uint64_t w;
            memcpy(&w, x + s, 8);
            w = (0x0606060606060606u - w) & 0x0303030303030303u;
            memcpy(c + s, &w, 8);
        }
        for (; s < n; s++) c[s] = (uint8_t)((6 - x[s]) & 3);
        return;
    }
    const int16_t *g = v->gt;
    for (int s = 0; s < n; s++, g += 2)
        c[s] = g[0] < 0 ? 3 : (uint8_t)((g[0] == a) + (g[1] == a));
}

void mg_vcf_allele_dosage(const mg_vcf *v, int a, int32_t *q)
{
    int n = v->nsamples;
    if (v->cnt_valid) {
        for (int s = 0; s < n; s++) {
            int x = v->cnt1[s];
            q[s] = x == 3 ? MG_DOSAGE_MISSING : (a == 1 ? x : 2 - x) * MG_DOSAGE_ONE;
        }
        return;
    }
    for (int s = 0; s < n; s++) {
        int32_t d = v->has_ds ? v->dsq[s] : -1;
        if (d >= 0) {            /* biallelic only: DS is the ALT dosage */
            q[s] = a == 1 ? d : 2 * MG_DOSAGE_ONE - d;
            continue;
        }
        const int16_t *g = v->gt + 2 * s;
        if (g[0] < 0) { q[s] = MG_DOSAGE_MISSING; continue; }
        q[s] = ((g[0] == a) + (g[1] == a)) * MG_DOSAGE_ONE;
    }
}

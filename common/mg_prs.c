/* mg_prs.c: scoring files, matching and plink2 --score arithmetic; see mg_prs.h. */
#include "mg_prs.h"
#include "mg_err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <htslib/hts.h>
#include <htslib/kseq.h>
#include <htslib/khash.h>
#include <htslib/kstring.h>

KHASH_MAP_INIT_STR(rowidx, int64_t)

typedef struct {
    char *id, *chr, *ea, *oa;      /* oa NULL when unknown */
    int64_t pos, line;
    int file, effect;
    int64_t w_off;                 /* weights: ss->w[w_off .. + n_cols) */
    int64_t next;                  /* next row with the same key, -1 */
    int dropped;                   /* excluded while reading (reason below) */
    int done;                      /* matched or judged */
} score_row;

enum { DROP_NONE, DROP_NON_ACGT, DROP_NO_POSITION, DROP_NO_ID };
static const char *drop_reason[] = { "", "dropped_non_acgt_allele", "dropped_no_position", "dropped_no_id" };

struct mg_scoreset {
    mg_score_file *files;
    int n_files;
    score_row *rows;
    int64_t n_rows, m_rows;
    double *w;
    int64_t n_w, m_w;
    char **names;
    int *col_file;
    int n_cols;
};

mg_scoreset *mg_scoreset_init(void) { return calloc(1, sizeof(mg_scoreset)); }

static void free_file(mg_score_file *f)
{
    free(f->path); free(f->format_version); free(f->pgs_id); free(f->pgs_name);
    free(f->trait_reported); free(f->trait_mapped); free(f->trait_efo);
    free(f->genome_build); free(f->hm_build); free(f->weight_type);
}

void mg_scoreset_destroy(mg_scoreset *ss)
{
    if (!ss) return;
    for (int i = 0; i < ss->n_files; i++) free_file(&ss->files[i]);
    free(ss->files);
    for (int64_t i = 0; i < ss->n_rows; i++) {
        score_row *r = &ss->rows[i];
        free(r->id); free(r->chr); free(r->ea); free(r->oa);
    }
    free(ss->rows);
    free(ss->w);
    for (int i = 0; i < ss->n_cols; i++) free(ss->names[i]);
    free(ss->names);
    free(ss->col_file);
    free(ss);
}

int mg_scoreset_nscores(const mg_scoreset *ss) { return ss->n_cols; }
const char *mg_scoreset_name(const mg_scoreset *ss, int col) { return ss->names[col]; }
const mg_score_file *mg_scoreset_file_of(const mg_scoreset *ss, int col)
{
    return &ss->files[ss->col_file[col]];
}
int mg_scoreset_nfiles(const mg_scoreset *ss) { return ss->n_files; }
const mg_score_file *mg_scoreset_file(const mg_scoreset *ss, int i) { return &ss->files[i]; }

/* ---- reading scoring files ---- */

/* Split s in place at any of the characters in seps; empty fields are kept
 * for tabs (PGS files) and collapsed for whitespace (plain files). */
static int split(char *s, int ws, char ***f, int *m)
{
    int n = 0;
    char *p = s;
    for (;;) {
        if (ws) while (*p == ' ' || *p == '\t') p++;
        if (ws && !*p) break;
        if (n == *m) {
            int nm = *m ? 2 * *m : 16;
            char **t = realloc(*f, sizeof *t * (size_t)nm);
            if (!t) return -1;
            *f = t;
            *m = nm;
        }
        (*f)[n++] = p;
        while (*p && *p != '\t' && !(ws && *p == ' ')) p++;
        if (!*p) break;
        *p++ = 0;
    }
    return n;
}

static int parse_weight(const char *s, double *w)
{
    char *end;
    errno = 0;
    *w = strtod(s, &end);
    return end == s || *end || errno == ERANGE || !isfinite(*w) ? -1 : 0;
}

static score_row *new_row(mg_scoreset *ss, int n_cols)
{
    if (ss->n_rows == ss->m_rows) {
        int64_t m = ss->m_rows ? 2 * ss->m_rows : 1024;
        score_row *r = realloc(ss->rows, sizeof *r * (size_t)m);
        if (!r) return NULL;
        ss->rows = r;
        ss->m_rows = m;
    }
    if (ss->n_w + n_cols > ss->m_w) {
        int64_t m = ss->m_w ? 2 * ss->m_w : 4096;
        while (m < ss->n_w + n_cols) m *= 2;
        double *w = realloc(ss->w, sizeof *w * (size_t)m);
        if (!w) return NULL;
        ss->w = w;
        ss->m_w = m;
    }
    score_row *r = &ss->rows[ss->n_rows++];
    memset(r, 0, sizeof *r);
    r->w_off = ss->n_w;
    r->next = -1;
    ss->n_w += n_cols;
    return r;
}

static int add_col(mg_scoreset *ss, const char *name, int file)
{
    char **n = realloc(ss->names, sizeof *n * (size_t)(ss->n_cols + 1));
    if (!n) return -1;
    ss->names = n;
    int *c = realloc(ss->col_file, sizeof *c * (size_t)(ss->n_cols + 1));
    if (!c) return -1;
    ss->col_file = c;
    if (!(ss->names[ss->n_cols] = strdup(name))) return -1;
    ss->col_file[ss->n_cols++] = file;
    return 0;
}


static int is_acgt(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++) if (!strchr("ACGT", *s)) return 0;
    return 1;
}

static int col_index(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++) if (!strcmp(f[i], name)) return i;
    return -1;
}

static int is_true(const char *s) { return !strcmp(s, "True") || !strcmp(s, "true") || !strcmp(s, "1"); }

static int read_plain(mg_scoreset *ss, mg_score_file *sf, htsFile *fp, kstring_t *ks,
                      int effect, char *err, size_t errlen)
{
    char **f = NULL;
    int m = 0, ret = -1, n, ncol;
    int64_t line = 1;
    const char *path = sf->path;
    /* the first line is the header: plink2 header-read names the weights */
    n = split(ks->s, 1, &f, &m);
    if (n < 3) {
        mg_seterr_at(err, errlen, path, 1, "header has %d columns; need ID, allele and weight columns", n);
        goto out;
    }
    ncol = n - 2;
    sf->first_col = ss->n_cols;
    sf->n_cols = ncol;
    for (int i = 2; i < n; i++)
        if (add_col(ss, f[i], (int)(sf - ss->files)) < 0) goto oom;
    for (;;) {
        int r = hts_getline(fp, KS_SEP_LINE, ks);
        if (r == -1) break;
        if (r < -1) { mg_seterr_at(err, errlen, path, line, "read error"); goto out; }
        line++;
        if (ks->l == 0) continue;
        n = split(ks->s, 1, &f, &m);
        if (n == 0) continue;
        if (n != ncol + 2) {
            mg_seterr_at(err, errlen, path, line, "%d columns, header has %d", n, ncol + 2);
            goto out;
        }
        score_row *row = new_row(ss, ncol);
        if (!row) goto oom;
        row->file = (int)(sf - ss->files);
        row->line = line;
        row->effect = effect;
        if (!(row->id = strdup(f[0])) || !(row->ea = strdup(f[1]))) goto oom;
        for (int i = 0; i < ncol; i++)
            if (parse_weight(f[2 + i], &ss->w[row->w_off + i]) < 0) {
                mg_seterr_at(err, errlen, path, line, "weight '%s' is not a number", f[2 + i]);
                goto out;
            }
        sf->n_rows++;
    }
    if (sf->n_rows == 0) { mg_seterr_at(err, errlen, path, 0, "no scoring rows"); goto out; }
    ret = 0;
    goto out;
oom:
    mg_seterr_at(err, errlen, path, line, "out of memory");
out:
    free(f);
    return ret;
}

/* PGS Catalog scoring file, format 2.0 (pgscatalog.core models.py): '#key=value'
 * header metadata, then a tab-separated table. Rows are normalised as
 * pgsc_calc does: hm_chr/hm_pos replace chr_name/chr_position, a missing
 * other_allele comes from hm_inferOtherAllele, a multi-valued one ("A/C")
 * becomes unknown, non-ACGT effect alleles (HLA P/N) are dropped. */
static int read_pgs(mg_scoreset *ss, mg_score_file *sf, htsFile *fp, kstring_t *ks,
                    char *err, size_t errlen)
{
    char **f = NULL;
    int m = 0, ret = -1, n = 0;
    int64_t line = 0;
    const char *path = sf->path;
    sf->is_pgs = 1;
    int have = 1;                            /* ks holds line 1 */
    int64_t fv_line = 0;
    for (;;) {
        if (!have) {
            int r = hts_getline(fp, KS_SEP_LINE, ks);
            if (r < 0) { mg_seterr_at(err, errlen, path, line, "no column header line"); goto out; }
        }
        have = 0;
        line++;
        if (ks->l == 0) continue;
        if (ks->s[0] != '#') break;
        char *kv = ks->s + 1, *eq = strchr(kv, '=');
        if (kv[0] == '#' || !eq) continue;
        *eq = 0;
        char **dst = NULL;
        if (!strcmp(kv, "format_version")) dst = &sf->format_version;
        else if (!strcmp(kv, "pgs_id")) dst = &sf->pgs_id;
        else if (!strcmp(kv, "pgs_name")) dst = &sf->pgs_name;
        else if (!strcmp(kv, "trait_reported")) dst = &sf->trait_reported;
        else if (!strcmp(kv, "trait_mapped")) dst = &sf->trait_mapped;
        else if (!strcmp(kv, "trait_efo")) dst = &sf->trait_efo;
        else if (!strcmp(kv, "genome_build")) dst = &sf->genome_build;
        else if (!strcmp(kv, "HmPOS_build")) dst = &sf->hm_build;
        else if (!strcmp(kv, "weight_type")) dst = &sf->weight_type;
        if (dst == &sf->format_version) fv_line = line;
        if (dst) {
            free(*dst);
            if (!(*dst = strdup(eq + 1))) goto oom;
        }
    }
    if (!sf->format_version) { mg_seterr_at(err, errlen, path, 0, "no #format_version in the header"); goto out; }
    if (strcmp(sf->format_version, "2.0") != 0) {
        mg_seterr_at(err, errlen, path, fv_line, "unknown format_version '%s' (2.0 is supported)", sf->format_version);
        goto out;
    }
    n = split(ks->s, 0, &f, &m);
    int c_rsid = col_index(f, n, "rsID"), c_hmrsid = col_index(f, n, "hm_rsID");
    int c_chr = col_index(f, n, "chr_name"), c_pos = col_index(f, n, "chr_position");
    int c_hmchr = col_index(f, n, "hm_chr"), c_hmpos = col_index(f, n, "hm_pos");
    int c_ea = col_index(f, n, "effect_allele"), c_oa = col_index(f, n, "other_allele");
    int c_inf = col_index(f, n, "hm_inferOtherAllele");
    int c_w = col_index(f, n, "effect_weight");
    int c_dom = col_index(f, n, "is_dominant"), c_rec = col_index(f, n, "is_recessive");
    int ncols = n;
    if (c_ea < 0) { mg_seterr_at(err, errlen, path, line, "no effect_allele column"); goto out; }
    if (c_w < 0) {
        if (col_index(f, n, "dosage_0_weight") >= 0 || col_index(f, n, "dosage_1_weight") >= 0)
            mg_seterr_at(err, errlen, path, line, "dosage_*_weight (non-additive) scores are not supported");
        else
            mg_seterr_at(err, errlen, path, line, "no effect_weight column");
        goto out;
    }
    if (c_rsid < 0 && c_hmrsid < 0 && (c_chr < 0 || c_pos < 0) && (c_hmchr < 0 || c_hmpos < 0)) {
        mg_seterr_at(err, errlen, path, line, "no rsID and no chr_name/chr_position or hm_chr/hm_pos columns");
        goto out;
    }
    char name[64];
    if (!sf->pgs_id) {                        /* unnamed: the file name stem */
        const char *b = strrchr(path, '/');
        snprintf(name, sizeof name, "%s", b ? b + 1 : path);
        char *dot = strchr(name, '.');
        if (dot && dot != name) *dot = 0;
    } else snprintf(name, sizeof name, "%s", sf->pgs_id);
    sf->first_col = ss->n_cols;
    sf->n_cols = 1;
    if (add_col(ss, name, (int)(sf - ss->files)) < 0) goto oom;
    for (;;) {
        int r = hts_getline(fp, KS_SEP_LINE, ks);
        if (r == -1) break;
        if (r < -1) { mg_seterr_at(err, errlen, path, line, "read error"); goto out; }
        line++;
        if (ks->l == 0) continue;
        n = split(ks->s, 0, &f, &m);
        if (n != ncols) {
            mg_seterr_at(err, errlen, path, line, "%d columns, header has %d", n, ncols);
            goto out;
        }
        score_row *row = new_row(ss, 1);
        if (!row) goto oom;
        row->file = (int)(sf - ss->files);
        row->line = line;
        if (parse_weight(f[c_w], &ss->w[row->w_off]) < 0) {
            mg_seterr_at(err, errlen, path, line, "effect_weight '%s' is not a number", f[c_w]);
            goto out;
        }
        int dom = c_dom >= 0 && is_true(f[c_dom]), rec = c_rec >= 0 && is_true(f[c_rec]);
        if (dom && rec) { mg_seterr_at(err, errlen, path, line, "both is_dominant and is_recessive"); goto out; }
        row->effect = dom ? MG_PRS_DOMINANT : rec ? MG_PRS_RECESSIVE : MG_PRS_ADDITIVE;
        const char *id = c_rsid >= 0 && *f[c_rsid] ? f[c_rsid]
                       : c_hmrsid >= 0 && *f[c_hmrsid] ? f[c_hmrsid] : NULL;
        const char *chr = c_hmchr >= 0 ? f[c_hmchr] : c_chr >= 0 ? f[c_chr] : NULL;
        const char *pos = c_hmpos >= 0 ? f[c_hmpos] : c_pos >= 0 ? f[c_pos] : NULL;
        const char *oa = c_oa >= 0 && *f[c_oa] ? f[c_oa] : c_inf >= 0 && *f[c_inf] ? f[c_inf] : NULL;
        if (oa && strchr(oa, '/')) oa = NULL;
        if (!(row->ea = strdup(f[c_ea]))) goto oom;
        if (id && !(row->id = strdup(id))) goto oom;
        if (oa && !(row->oa = strdup(oa))) goto oom;
        if (chr && *chr && pos && *pos) {
            char *end;
            long long p = strtoll(pos, &end, 10);
            if (*end || p <= 0) { mg_seterr_at(err, errlen, path, line, "position '%s' is not a number", pos); goto out; }
            row->pos = p;
            if (!(row->chr = strdup(chr))) goto oom;
        }
        if (!is_acgt(row->ea)) row->dropped = DROP_NON_ACGT;
        sf->n_rows++;
    }
    if (sf->n_rows == 0) { mg_seterr_at(err, errlen, path, 0, "no scoring rows"); goto out; }
    ret = 0;
    goto out;
oom:
    mg_seterr_at(err, errlen, path, line, "out of memory");
out:
    free(f);
    return ret;
}

int mg_scoreset_read(mg_scoreset *ss, const char *path, int effect, char *err, size_t errlen)
{
    kstring_t ks = {0, 0, NULL};
    int ret = -1;
    htsFile *fp = hts_open(path, "r");
    if (!fp) {
        mg_seterr_at(err, errlen, path, 0, "cannot open: %s", strerror(errno ? errno : EIO));
        return -1;
    }
    mg_score_file *nf = realloc(ss->files, sizeof *nf * (size_t)(ss->n_files + 1));
    if (!nf) { mg_seterr_at(err, errlen, path, 0, "out of memory"); goto out; }
    ss->files = nf;
    mg_score_file *sf = &ss->files[ss->n_files++];
    memset(sf, 0, sizeof *sf);
    if (!(sf->path = strdup(path))) { mg_seterr_at(err, errlen, path, 0, "out of memory"); goto out; }
    int r;
    do r = hts_getline(fp, KS_SEP_LINE, &ks); while (r == 0);
    if (r < 0) { mg_seterr_at(err, errlen, path, 0, "empty scoring file"); goto out; }
    if (ks.s[0] == '#' && (strstr(ks.s, "PGS CATALOG") || strstr(ks.s, "format_version")))
        ret = read_pgs(ss, sf, fp, &ks, err, errlen);
    else
        ret = read_plain(ss, sf, fp, &ks, effect, err, errlen);
out:
    free(ks.s);
    if (hts_close(fp) < 0 && ret == 0) { mg_seterr_at(err, errlen, path, 0, "read error"); ret = -1; }
    return ret;
}

/* ---- scoring ---- */

mg_prs_opts mg_prs_default_opts(void)
{
    mg_prs_opts o;
    memset(&o, 0, sizeof o);
    o.min_overlap = 0.75;           /* pgsc_calc nextflow.config */
    return o;
}

#define LOG_HEADER "file\taccession\trow_line\trsID\tchr_name\tchr_position\teffect_allele" \
    "\tother_allele\tID\tREF\tALT\tmatched_effect_allele\tmatch_type\tis_multiallelic" \
    "\tambiguous\tmatch_flipped\tbest_match\texclude\tmatch_status\n"

enum {                              /* pgsc_calc match priority, best first */
    MT_REFALT, MT_ALTREF, MT_REFALT_FLIP, MT_ALTREF_FLIP,
    MT_NO_OA_REF, MT_NO_OA_ALT, MT_NO_OA_REF_FLIP, MT_NO_OA_ALT_FLIP, MT_ID, MT_NONE
};
static const char *mt_name[] = {
    "refalt", "altref", "refalt_flip", "altref_flip",
    "no_oa_ref", "no_oa_alt", "no_oa_ref_flip", "no_oa_alt_flip", "id", ""
};

typedef struct {                    /* a buffered VCF record (pos matching) */
    char *chrom, *id, **allele;
    int n_allele;
    int64_t line;
    int32_t *q;                     /* [n_allele][n] dosages (DS input) */
    uint8_t *cnt;                   /* [n_allele][n] allele counts (hard calls) */
} grp_rec;

typedef struct { int64_t row; int allele; double freq; } match_t;   /* freq: NaN = from the data */

/* A batch of scored records handed from the reading thread to the scoring
 * thread: per record its matches and the allele arrays they name. */
typedef struct {
    int chrom, n_allele, hard, mt0, n_mt;      /* matches mt[mt0 .. mt0+n_mt) */
} bentry;

typedef struct {
    bentry *e;
    int n, m;
    match_t *mt;
    size_t *off;                 /* per match: its allele array in arena */
    int n_mt, m_mt;
    uint8_t *arena;
    size_t used, cap;
} batch_t;

#define BATCH_RECORDS 64

struct mg_prs {
    mg_scoreset *ss;
    mg_prs_opts o;
    int n, K;
    double *sum;                    /* [K][n]: score column j of sample s at j*n + s */
    double *sumc;                   /* [n][K][22] with per_chrom */
    int64_t *missing;               /* [n] missing calls on diploid records */
    int64_t *missing_hap;           /* [n] missing calls on haploid records (MT) */
    int64_t *named;                 /* [n] named-allele dosage, 1/32768 units (plink2's ddosage) */
    int64_t n_var;
    int64_t allele_sum;             /* sum of ploidy over scored records: DENOM */
    int32_t *qbuf;                  /* [n_allele][n] */
    size_t qbuf_cap;
    uint8_t *cbuf;                  /* [n_allele][n] allele counts */
    size_t cbuf_cap;
    double *tab;                    /* [4][K] products for hard calls */
    khash_t(rowidx) *h;
    uint8_t *key_seen;              /* per hash bucket: key met (id) / resolved (pos) */
    const char *vcf_name;
    /* pos-matching group: the records sharing one chr:pos */
    grp_rec *grp;
    int n_grp, m_grp;
    khint_t grp_key;
    match_t *mt;
    int n_mt, m_mt;
    /* --read-freq: plink2 .afreq rows by variant ID */
    khash_t(rowidx) *fh;
    char **f_ref, **f_alt;            /* REF and comma-separated ALTs */
    double *f_alt_freq;               /* ALT frequencies, f_off[i] .. */
    int64_t *f_off, n_f;
    int indexed;                      /* records read through the VCF's index */
    int64_t n_other_chrom;            /* pos rows excluded for MT/unplaced/... */
    /* reading/scoring pipeline (id matching with threads > 1) */
    int pipe;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch_t b[2];
    int full[2], cur, quit;
};

int mg_prs_nsamples(const mg_prs *p) { return p->n; }
int mg_prs_indexed(const mg_prs *p) { return p->indexed; }
int64_t mg_prs_other_chrom(const mg_prs *p) { return p->n_other_chrom; }
int64_t mg_prs_nvariants(const mg_prs *p) { return p->n_var; }
double mg_prs_sum(const mg_prs *p, int s, int j) { return p->sum[(size_t)j * p->n + s]; }
double mg_prs_sum_chrom(const mg_prs *p, int s, int j, int c)
{
    return p->sumc ? p->sumc[((size_t)s * p->K + j) * 22 + (c - 1)] : 0.0;
}
double mg_prs_denom(const mg_prs *p, int s)
{
    int64_t ct = p->allele_sum;
    return (double)(p->o.no_mean_imputation ? ct - 2 * p->missing[s] - p->missing_hap[s] : ct);
}

static void grp_clear(mg_prs *p)
{
    for (int i = 0; i < p->n_grp; i++) {
        grp_rec *g = &p->grp[i];
        free(g->chrom); free(g->id);
        for (int a = 0; a < g->n_allele; a++) free(g->allele[a]);
        free(g->allele);
        free(g->q);
        free(g->cnt);
    }
    p->n_grp = 0;
}

static void pipe_stop(mg_prs *p);

void mg_prs_destroy(mg_prs *p)
{
    if (!p) return;
    pipe_stop(p);
    for (int i = 0; i < 2; i++) {
        free(p->b[i].e); free(p->b[i].mt); free(p->b[i].off); free(p->b[i].arena);
    }
    grp_clear(p);
    free(p->grp);
    free(p->mt);
    free(p->sum);
    free(p->sumc);
    free(p->missing);
    free(p->missing_hap);
    free(p->named);
    free(p->qbuf);
    free(p->cbuf);
    free(p->tab);
    free(p->key_seen);
    if (p->fh) {
        for (khint_t k = kh_begin(p->fh); k != kh_end(p->fh); k++)
            if (kh_exist(p->fh, k)) free((char *)kh_key(p->fh, k));
        kh_destroy(rowidx, p->fh);
    }
    for (int64_t i = 0; i < p->n_f; i++) { free(p->f_ref[i]); free(p->f_alt[i]); }
    free(p->f_ref); free(p->f_alt); free(p->f_alt_freq); free(p->f_off);
    if (p->h) {
        for (khint_t k = kh_begin(p->h); k != kh_end(p->h); k++)
            if (kh_exist(p->h, k)) free((char *)kh_key(p->h, k));
        kh_destroy(rowidx, p->h);
    }
    free(p);
}

/* "chr1" -> "1"; the number for autosomes 1..22, else 0. */
static const char *chr_norm(const char *c)
{
    if ((c[0] == 'c' || c[0] == 'C') && (c[1] == 'h' || c[1] == 'H') && (c[2] == 'r' || c[2] == 'R'))
        return c + 3;
    return c;
}
static int autosome(const char *c)
{
    c = chr_norm(c);
    char *end;
    long x = strtol(c, &end, 10);
    return (end != c && !*end && x >= 1 && x <= 22) ? (int)x : 0;
}

/* plink2's human chromosome codes (plink2_common.cc GetChrCodeRaw): 1-22,
 * X = 23, Y = 24, XY = 25 (also PAR1, PAR2), MT = 26 (also M), with or
 * without "chr"; 0 for any other name (plink2 refuses those without
 * --allow-extra-chr). */
enum { CHR_X = 23, CHR_Y = 24, CHR_XY = 25, CHR_MT = 26 };
static int chrom_code(const char *c)
{
    if (!strcasecmp(c, "PAR1") || !strcasecmp(c, "PAR2")) return CHR_XY;
    int a = autosome(c);
    if (a) return a;
    c = chr_norm(c);
    if (!strcasecmp(c, "X") || !strcmp(c, "23")) return CHR_X;
    if (!strcasecmp(c, "Y") || !strcmp(c, "24")) return CHR_Y;
    if (!strcasecmp(c, "XY") || !strcmp(c, "25")) return CHR_XY;
    if (!strcasecmp(c, "MT") || !strcasecmp(c, "M") || !strcmp(c, "26")) return CHR_MT;
    return 0;
}

/* Alleles a sample carries on a chromosome as plink2 2.00a3.5 --score counts
 * them when no sample's sex is known (VCF input has none): X and XY are
 * diploid (the default --xchr-model 2 leaves chrX out of the sex-dependent
 * path, so a haploid call counts as two copies, as on autosomes); MT is
 * haploid (a dosage counts half, DENOM grows by 1); Y counts for males only
 * and every sample is of unknown sex, so a chrY variant adds nothing at all
 * (ScoreReport: unknown sex is not male). */
static int chrom_ploidy(int c) { return c == CHR_Y ? 0 : c == CHR_MT ? 1 : 2; }

/* plink2 --read-freq: a .afreq table (#CHROM ID REF ALT ALT_FREQS ...; columns
 * found by name), used instead of the cohort's frequencies for imputation.
 * As plink2 a3.5 does (checked by running it): a row with OBS_CT 0 or a `nan`
 * frequency (every call missing where it was computed) is skipped, and so is a
 * row whose ID is not in the data; the variant then gets the cohort's
 * frequency as without --read-freq, and so does a scored variant absent from
 * the table. An ALT of `.` is a record without alternate allele (its
 * single ALT_FREQS value is ignored). A row whose alleles differ from the
 * record's is an error (plink2 a3.5 crashes on one). */
static int read_freq(mg_prs *p, const char *path, char *err, size_t errlen)
{
    kstring_t ks = {0, 0, NULL};
    char **f = NULL;
    int m = 0, ret = -1, c_id = -1, c_ref = -1, c_alt = -1, c_fr = -1, c_obs = -1;
    int64_t line = 0, m_rows = 0, n_fr = 0, m_fr = 0;
    htsFile *fp = hts_open(path, "r");
    if (!fp) { mg_seterr_at(err, errlen, path, 0, "cannot open: %s", strerror(errno ? errno : EIO)); return -1; }
    if (!(p->fh = kh_init(rowidx))) goto oom;
    for (;;) {
        int r = hts_getline(fp, KS_SEP_LINE, &ks);
        if (r == -1) break;
        if (r < -1) { mg_seterr_at(err, errlen, path, line, "read error"); goto out; }
        line++;
        int n = split(ks.s, 0, &f, &m);
        if (line == 1) {
            c_id = col_index(f, n, "ID"); c_ref = col_index(f, n, "REF");
            c_alt = col_index(f, n, "ALT"); c_fr = col_index(f, n, "ALT_FREQS");
            c_obs = col_index(f, n, "OBS_CT");
            if (ks.s[0] != '#' || c_id < 0 || c_ref < 0 || c_alt < 0 || c_fr < 0) {
                mg_seterr_at(err, errlen, path, 1, "not a plink2 .afreq header (ID, REF, ALT, ALT_FREQS)");
                goto out;
            }
            continue;
        }
        int need = c_id > c_ref ? c_id : c_ref;
        if (c_alt > need) need = c_alt;
        if (c_fr > need) need = c_fr;
        if (c_obs > need) need = c_obs;
        if (n <= need) { mg_seterr_at(err, errlen, path, line, "%d columns, need %d", n, need + 1); goto out; }
        if (c_obs >= 0) {
            char *e;
            errno = 0;
            long long obs = strtoll(f[c_obs], &e, 10);
            if (e == f[c_obs] || *e || errno || obs < 0) {
                mg_seterr_at(err, errlen, path, line, "OBS_CT '%s' is not a count", f[c_obs]);
                goto out;
            }
            if (obs == 0) continue;              /* no observation: skipped */
        }
        {
            int has_nan = 0;
            for (const char *q = f[c_fr]; *q; ) {
                size_t l = strcspn(q, ",");
                if (l == 3 && !strncasecmp(q, "nan", 3)) has_nan = 1;
                q += l + (q[l] == ',');
            }
            if (has_nan) continue;               /* undefined frequency: skipped */
        }
        if (p->n_f == m_rows) {
            m_rows = m_rows ? 2 * m_rows : 1024;
            char **a = realloc(p->f_ref, sizeof *a * (size_t)m_rows);
            if (!a) goto oom;
            p->f_ref = a;
            if (!(a = realloc(p->f_alt, sizeof *a * (size_t)m_rows))) goto oom;
            p->f_alt = a;
            int64_t *o = realloc(p->f_off, sizeof *o * (size_t)(m_rows + 1));
            if (!o) goto oom;
            p->f_off = o;
        }
        int64_t i = p->n_f;
        p->f_ref[i] = strdup(f[c_ref]);
        p->f_alt[i] = strdup(f[c_alt]);
        if (!p->f_ref[i] || !p->f_alt[i]) { free(p->f_ref[i]); free(p->f_alt[i]); goto oom; }
        p->n_f++;
        p->f_off[i] = n_fr;
        for (char *q = f[c_fr];;) {
            char *comma = strchr(q, ',');
            if (comma) *comma = 0;
            double x;
            if (parse_weight(q, &x) < 0 || x < 0 || x > 1) {
                mg_seterr_at(err, errlen, path, line, "frequency '%s' is not in [0, 1]", q);
                goto out;
            }
            if (n_fr == m_fr) {
                m_fr = m_fr ? 2 * m_fr : 1024;
                double *d = realloc(p->f_alt_freq, sizeof *d * (size_t)m_fr);
                if (!d) goto oom;
                p->f_alt_freq = d;
            }
            p->f_alt_freq[n_fr++] = x;
            if (!comma) break;
            q = comma + 1;
        }
        p->f_off[i + 1] = n_fr;
        int absent;
        char *key = strdup(f[c_id]);
        if (!key) goto oom;
        khint_t k = kh_put(rowidx, p->fh, key, &absent);
        if (absent < 0) { free(key); goto oom; }
        if (!absent) {
            free(key);
            mg_seterr_at(err, errlen, path, line, "variant ID '%s' appears twice", f[c_id]);
            goto out;
        }
        kh_val(p->fh, k) = i;
    }
    ret = 0;
    goto out;
oom:
    mg_seterr_at(err, errlen, path, line, "out of memory");
out:
    free(f);
    free(ks.s);
    hts_close(fp);
    return ret;
}

/* Frequency of allele a of a record from --read-freq (NaN without it). The
 * table's REF/ALT must be the record's. */
static int freq_of(mg_prs *p, const char *id, const char *const *allele, int n_allele, int a,
                   int64_t line, double *fr, char *err, size_t errlen)
{
    *fr = NAN;
    if (!p->fh) return 0;
    khint_t k = kh_get(rowidx, p->fh, id);
    if (k == kh_end(p->fh)) return 0;            /* not in the table: cohort frequency */
    int64_t i = kh_val(p->fh, k);
    int64_t nf = p->f_off[i + 1] - p->f_off[i];
    if (!strcmp(p->f_alt[i], ".")) nf = 0;       /* no ALT: the value given is not one */
    int ok = !strcmp(p->f_ref[i], allele[0]) && nf == n_allele - 1;
    const char *q = p->f_alt[i];
    for (int j = 1; ok && j < n_allele; j++) {
        size_t l = strlen(allele[j]);
        if (strncmp(q, allele[j], l) || (q[l] != ',' && q[l] != 0)) ok = 0;
        else q += l + (q[l] == ',');
    }
    if (!ok) {
        /* plink2's log says such rows are skipped, but a3.5 crashes on them
         * (segmentation fault), so nothing can be matched: refuse. */
        mg_seterr_at(err, errlen, p->vcf_name, line, "variant '%s': alleles differ from --read-freq %s", id, p->o.read_freq);
        return -1;
    }
    const double *alt = p->f_alt_freq + p->f_off[i];
    if (a > 0) *fr = alt[a - 1];
    else {
        double sum = 0;
        for (int64_t j = 0; j < nf; j++) sum += alt[j];
        *fr = 1.0 - sum;
    }
    return 0;
}

static int build_index(mg_prs *p, char *err, size_t errlen)
{
    mg_scoreset *ss = p->ss;
    kstring_t key = {0, 0, NULL};
    p->h = kh_init(rowidx);
    if (!p->h) goto oom;
    /* insert in reverse so that each key's chain runs in file order */
    for (int64_t i = ss->n_rows - 1; i >= 0; i--) {
        score_row *r = &ss->rows[i];
        if (r->dropped) continue;
        key.l = 0;
        if (p->o.match == MG_PRS_MATCH_ID) {
            if (!r->id) { r->dropped = DROP_NO_ID; continue; }
            kputs(r->id, &key);
        } else {
            if (!r->chr) { r->dropped = DROP_NO_POSITION; continue; }
            ksprintf(&key, "%s:%lld", chr_norm(r->chr), (long long)r->pos);
        }
        int absent;
        khint_t k = kh_get(rowidx, p->h, key.s);
        if (k == kh_end(p->h)) {
            char *ks = strdup(key.s);
            if (!ks) goto oom;
            k = kh_put(rowidx, p->h, ks, &absent);
            if (absent < 0) { free(ks); goto oom; }
            kh_val(p->h, k) = -1;
        }
        r->next = kh_val(p->h, k);
        kh_val(p->h, k) = i;
    }
    p->key_seen = calloc(kh_end(p->h) ? kh_end(p->h) : 1, 1);
    if (!p->key_seen) goto oom;
    free(key.s);
    return 0;
oom:
    free(key.s);
    mg_seterr(err, errlen, "out of memory");
    return -1;
}

static int32_t transform(int32_t q, int effect)
{
    if (effect == MG_PRS_DOMINANT) return q < MG_DOSAGE_ONE ? q : MG_DOSAGE_ONE;
    if (effect == MG_PRS_RECESSIVE) return q > MG_DOSAGE_ONE ? q - MG_DOSAGE_ONE : 0;
    return q;
}

/* acc[j][s] += t4[j][c[s]] for s < n, c[s] in 0..3, up to four score
 * columns j, and with named also named[s] += tn[c[s]] (int64): the inner loop
 * of scoring hard calls. With AVX2 four samples at a time pick their table
 * entries with one permute per column, the codes loaded and widened once for
 * all columns; every acc[j][s] still gets the same single IEEE add, so the
 * results are the same bits either way. */
#if defined(__x86_64__) && defined(__GNUC__)
static inline __attribute__((always_inline, target("avx2")))
void add_lookup4_body(double *const *acc, const double (*t4)[4], int nc, const uint8_t *c, int n,
                      int64_t *named, const int64_t *tn)
{
    __m256 tab[4];
    for (int j = 0; j < nc; j++) tab[j] = _mm256_castpd_ps(_mm256_loadu_pd(t4[j]));
    const __m256i ntab = named ? _mm256_loadu_si256((const __m256i *)(const void *)tn)
                               : _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi64x(1);
    int s = 0;
    for (; s + 4 <= n; s += 4) {
        int32_t w;
        memcpy(&w, c + s, 4);
        __m256i k = _mm256_slli_epi64(_mm256_cvtepu8_epi64(_mm_cvtsi32_si128(w)), 1);
        __m256i idx = _mm256_or_si256(k, _mm256_slli_epi64(_mm256_add_epi64(k, one), 32));
#pragma GCC unroll 4
        for (int j = 0; j < nc; j++) {
            __m256d v = _mm256_castps_pd(_mm256_permutevar8x32_ps(tab[j], idx));
            _mm256_storeu_pd(acc[j] + s, _mm256_add_pd(_mm256_loadu_pd(acc[j] + s), v));
        }
        if (named) {
            __m256i *a = (__m256i *)(void *)(named + s);
            __m256i v = _mm256_permutevar8x32_epi32(ntab, idx);
            _mm256_storeu_si256(a, _mm256_add_epi64(_mm256_loadu_si256(a), v));
        }
    }
    for (; s < n; s++) {
        for (int j = 0; j < nc; j++) acc[j][s] += t4[j][c[s]];
        if (named) named[s] += tn[c[s]];
    }
}

/* one copy per column count, so that the column loop is unrolled */
__attribute__((target("avx2")))
static void add_lookup4_avx2(double *const *acc, const double (*t4)[4], int nc, const uint8_t *c, int n,
                             int64_t *named, const int64_t *tn)
{
    if (named)
        switch (nc) {
        case 1: add_lookup4_body(acc, t4, 1, c, n, named, tn); break;
        case 2: add_lookup4_body(acc, t4, 2, c, n, named, tn); break;
        case 3: add_lookup4_body(acc, t4, 3, c, n, named, tn); break;
        default: add_lookup4_body(acc, t4, 4, c, n, named, tn); break;
        }
    else
        switch (nc) {
        case 1: add_lookup4_body(acc, t4, 1, c, n, NULL, NULL); break;
        case 2: add_lookup4_body(acc, t4, 2, c, n, NULL, NULL); break;
        case 3: add_lookup4_body(acc, t4, 3, c, n, NULL, NULL); break;
        default: add_lookup4_body(acc, t4, 4, c, n, NULL, NULL); break;
        }
}

__attribute__((target("avx2")))
static void add_lookup_i64_avx2(int64_t *acc, const uint8_t *c, const int64_t *t4, int n)
{
    const __m256i tab = _mm256_loadu_si256((const __m256i *)(const void *)t4);
    const __m256i one = _mm256_set1_epi64x(1);
    int s = 0;
    for (; s + 4 <= n; s += 4) {
        int32_t w;
        memcpy(&w, c + s, 4);
        __m256i k = _mm256_slli_epi64(_mm256_cvtepu8_epi64(_mm_cvtsi32_si128(w)), 1);
        __m256i idx = _mm256_or_si256(k, _mm256_slli_epi64(_mm256_add_epi64(k, one), 32));
        __m256i v = _mm256_permutevar8x32_epi32(tab, idx);
        __m256i *a = (__m256i *)(void *)(acc + s);
        _mm256_storeu_si256(a, _mm256_add_epi64(_mm256_loadu_si256(a), v));
    }
    for (; s < n; s++) acc[s] += t4[c[s]];
}
#define HAVE_AVX2_KERNELS 1
#endif

static void add_lookup(double *acc, const uint8_t *c, const double *t4, int n)
{
    for (int s = 0; s < n; s++) acc[s] += t4[c[s]];
}

static void add_lookup_i64(int64_t *acc, const uint8_t *c, const int64_t *t4, int n)
{
#ifdef HAVE_AVX2_KERNELS
    if (__builtin_cpu_supports("avx2")) { add_lookup_i64_avx2(acc, c, t4, n); return; }
#endif
    for (int s = 0; s < n; s++) acc[s] += t4[c[s]];
}

/* acc[j][s] += t4[j][c[s]] for the nc columns, and named[s] += tn[c[s]]
 * unless named is NULL. Each accumulator gets one add per call, so grouping
 * the columns does not change any sum. */
static void add_lookup_cols(double *const *acc, const double (*t4)[4], int nc, const uint8_t *c, int n,
                            int64_t *named, const int64_t *tn)
{
#ifdef HAVE_AVX2_KERNELS
    if (__builtin_cpu_supports("avx2")) {
        for (int j = 0; j < nc; j += 4, named = NULL)
            add_lookup4_avx2(acc + j, t4 + j, nc - j < 4 ? nc - j : 4, c, n, named, tn);
        if (named) add_lookup_i64(named, c, tn, n);      /* nc == 0 */
        return;
    }
#endif
    for (int j = 0; j < nc; j++) add_lookup(acc[j], c, t4[j], n);
    if (named) add_lookup_i64(named, c, tn, n);
}


/* Sum and number of 3s (missing) of the codes c[0..n); with missing, also
 * count each missing call there. AVX2: 32 codes per step, the rare missing
 * calls found through a bit mask. */
#ifdef HAVE_AVX2_KERNELS
__attribute__((target("avx2")))
static void count_codes_avx2(const uint8_t *c, int n, int64_t *missing, uint64_t *csum,
                             uint64_t *nmiss)
{
    const __m256i three = _mm256_set1_epi8(3), zero = _mm256_setzero_si256();
    __m256i acc = zero;
    uint64_t nm = 0, sum = 0;
    int s = 0;
    for (; s + 32 <= n; s += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(c + s));
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, three));
        nm += (uint64_t)__builtin_popcount(m);
        if (missing)
            while (m) { missing[s + __builtin_ctz(m)]++; m &= m - 1; }
    }
    uint64_t lane[4];
    _mm256_storeu_si256((__m256i *)(void *)lane, acc);
    sum = lane[0] + lane[1] + lane[2] + lane[3];
    for (; s < n; s++) {
        sum += c[s];
        if (c[s] == 3) { nm++; if (missing) missing[s]++; }
    }
    *csum = sum;
    *nmiss = nm;
}
#endif

static void count_codes(const uint8_t *c, int n, int64_t *missing, uint64_t *csum, uint64_t *nmiss)
{
#ifdef HAVE_AVX2_KERNELS
    if (__builtin_cpu_supports("avx2")) { count_codes_avx2(c, n, missing, csum, nmiss); return; }
#endif
    uint64_t sum = 0, nm = 0;
    for (int s = 0; s < n; s++) {
        sum += c[s];
        if (c[s] == 3) { nm++; if (missing) missing[s]++; }
    }
    *csum = sum;
    *nmiss = nm;
}

/* Add one record's contribution. Each match (row, allele) adds x*w to the
 * row's score columns, x the transformed dosage or the imputed value for a
 * missing call. Two representations of the genotypes:
 *   cnt[a]  copies of allele a per sample (3 = missing), for hard calls: x
 *           takes one of four values, so the products x*w come from a table;
 *   qa[a]   dosage in 1/16384 units (-1 = missing), for dosage input.
 * Both give bit-identical sums: the same products added in the same order.
 * chrom is the chromosome code (chrom_code()); on a haploid chromosome a
 * dosage d (diploid-coded, as plink2 stores it) counts d/2, as plink2's
 * FillDdosageInts does for is_diploid 0. */
static void score_record(mg_prs *p, int chrom, int n_allele, int32_t *const *qa,
                         uint8_t *const *cnt, const match_t *mt, int n_mt)
{
    int n = p->n, K = p->K, ploidy = chrom_ploidy(chrom);
    mg_scoreset *ss = p->ss;
    p->n_var++;
    if (ploidy == 0) {                 /* chrY, no sample known to be male */
        for (int i = 0; i < n_mt; i++) ss->files[ss->rows[mt[i].row].file].n_matched++;
        return;
    }
    p->allele_sum += ploidy;
    int64_t *missing = ploidy == 2 ? p->missing : p->missing_hap;
    /* x for a dosage t (1/16384 units), and its named-allele ddosage (1/32768) */
    const double unit = ploidy == 2 ? 1.0 / MG_DOSAGE_ONE : 0.5 / MG_DOSAGE_ONE;
    const int named_mul = ploidy == 2 ? 2 : 1;
    if (cnt) {
        uint64_t csum, nmiss;
        count_codes(cnt[mt[0].allele], n, missing, &csum, &nmiss);
    } else {
        const int32_t *q0 = qa[mt[0].allele];
        for (int s = 0; s < n; s++) missing[s] += q0[s] < 0;
    }
    for (int i = 0; i < n_mt; i++) {
        const score_row *r = &ss->rows[mt[i].row];
        const mg_score_file *sf = &ss->files[r->file];
        const double *w = ss->w + r->w_off;
        int nc = sf->n_cols, c0 = sf->first_col;
        /* the allele frequency among called samples: plink2's mean imputation */
        int64_t tot = 0, nn = 0;
        if (cnt) {
            const uint8_t *c = cnt[mt[i].allele];
            uint64_t csum, nmiss;
            count_codes(c, n, NULL, &csum, &nmiss);
            nn = n - (int64_t)nmiss;
            tot = ((int64_t)csum - 3 * (int64_t)nmiss) * MG_DOSAGE_ONE;
        } else {
            const int32_t *q = qa[mt[i].allele];
            for (int s = 0; s < n; s++) if (q[s] >= 0) { tot += q[s]; nn++; }
        }
        double f = !isnan(mt[i].freq) ? mt[i].freq
                 : nn ? (double)tot / ((double)nn * 2 * MG_DOSAGE_ONE) : 1.0 / n_allele;
        double xm = p->o.no_mean_imputation ? 0.0 : r->effect == MG_PRS_ADDITIVE ? ploidy * f : f;
        /* the named-allele dosage counts once per distinct allele of the record */
        int first = 1;
        for (int k = 0; k < i; k++) if (mt[k].allele == mt[i].allele) first = 0;
        if (cnt) {
            const uint8_t *c = cnt[mt[i].allele];
            double *tab = p->tab;            /* [4][nc]: x*w for 0, 1, 2 copies, missing */
            int32_t tn[4];
            for (int k = 0; k < 4; k++) {
                tn[k] = k < 3 ? transform(k * MG_DOSAGE_ONE, r->effect) : 0;
                double x = k < 3 ? tn[k] * unit : xm;
                for (int j = 0; j < nc; j++) tab[k * nc + j] = x * w[j];
            }
            int64_t tn64[4] = { (int64_t)tn[0] * named_mul, (int64_t)tn[1] * named_mul,
                                (int64_t)tn[2] * named_mul, 0 };
            for (int j0 = 0; j0 == 0 || j0 < nc; j0 += 64) {    /* columns in groups on the stack */
                double t4[64][4], *acc[64];
                int m = nc - j0 < 64 ? nc - j0 : 64;
                for (int j = 0; j < m; j++) {
                    for (int k = 0; k < 4; k++) t4[j][k] = tab[k * nc + j0 + j];
                    acc[j] = p->sum + (size_t)(c0 + j0 + j) * n;
                }
                add_lookup_cols(acc, (const double (*)[4])t4, m, c, n,
                                first && j0 == 0 ? p->named : NULL, tn64);
            }
            if (p->sumc && chrom <= 22)
                for (int s = 0; s < n; s++) {
                    double *ac = p->sumc + ((size_t)s * K + c0) * 22 + (chrom - 1);
                    for (int j = 0; j < nc; j++) ac[22 * j] += tab[(size_t)nc * c[s] + j];
                }
        } else {
            const int32_t *q = qa[mt[i].allele];
            for (int s = 0; s < n; s++) {
                double x;
                if (q[s] < 0) x = xm;
                else {
                    int32_t t = transform(q[s], r->effect);
                    if (first) p->named[s] += (int64_t)t * named_mul;
                    x = t * unit;
                }
                double *acc = p->sum + (size_t)c0 * n + s;
                for (int j = 0; j < nc; j++) acc[(size_t)j * n] += x * w[j];
                if (p->sumc && chrom <= 22) {
                    double *ac = p->sumc + ((size_t)s * K + c0) * 22 + (chrom - 1);
                    for (int j = 0; j < nc; j++) ac[22 * j] += x * w[j];
                }
            }
        }
        ss->files[r->file].n_matched++;
    }
}

static int32_t *qbuf(mg_prs *p, int n_allele)
{
    size_t need = (size_t)n_allele * p->n;
    if (need > p->qbuf_cap) {
        int32_t *b = realloc(p->qbuf, need * sizeof *b);
        if (!b) return NULL;
        p->qbuf = b;
        p->qbuf_cap = need;
    }
    return p->qbuf;
}

static uint8_t *cbuf(mg_prs *p, int n_allele)
{
    size_t need = (size_t)n_allele * p->n;
    if (need > p->cbuf_cap) {
        uint8_t *b = realloc(p->cbuf, need);
        if (!b) return NULL;
        p->cbuf = b;
        p->cbuf_cap = need;
    }
    return p->cbuf;
}

static int push_match(mg_prs *p, int64_t row, int allele)
{
    if (p->n_mt == p->m_mt) {
        int m = p->m_mt ? 2 * p->m_mt : 16;
        match_t *t = realloc(p->mt, sizeof *t * (size_t)m);
        if (!t) return -1;
        p->mt = t;
        p->m_mt = m;
    }
    p->mt[p->n_mt].row = row;
    p->mt[p->n_mt].freq = NAN;
    p->mt[p->n_mt++].allele = allele;
    return 0;
}

static void log_row(mg_prs *p, const score_row *r, const char *id, const char *ref,
                    const char *alt, const char *mea, const char *mtype, int multi,
                    int ambig, int flipped, int best, int exclude, const char *status)
{
    const mg_score_file *sf = &p->ss->files[r->file];
    if (!p->o.log) return;
    fprintf(p->o.log, "%s\t%s\t%lld\t%s\t%s\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n",
             sf->path, p->ss->names[sf->first_col], (long long)r->line,
             r->id ? r->id : ".", r->chr ? r->chr : ".", (long long)r->pos,
             r->ea, r->oa ? r->oa : ".", id, ref, alt, mea, *mtype ? mtype : ".",
             multi, ambig, flipped, best, exclude, status);
}

/* The chromosome code of a scored record, or 0 with err set: names outside
 * plink2's human set, and dominant/recessive rows on X, Y or MT (plink2
 * refuses both; ScoreReport tests its haploid mask, which holds X, before
 * it sets X apart). */
static int check_chrom(mg_prs *p, const char *chrom, const match_t *mt, int n_mt, int64_t line,
                       char *err, size_t errlen)
{
    int c = chrom_code(chrom);
    if (!c) {
        mg_seterr_at(err, errlen, p->vcf_name, line,
                "scored variant on chromosome '%s': only 1-22, X, Y, XY and MT are known "
                "(plink2's human chromosome set)", chrom);
        return 0;
    }
    if (chrom_ploidy(c) != 2 || c == CHR_X)
        for (int m = 0; m < n_mt; m++)
            if (p->ss->rows[mt[m].row].effect != MG_PRS_ADDITIVE) {
                mg_seterr_at(err, errlen, p->vcf_name, line,
                        "dominant or recessive score on chromosome '%s' (plink2 refuses them on X, Y and MT)", chrom);
                return 0;
            }
    return c;
}

/* ---- the scoring thread ---- */

static void score_batch(mg_prs *p, const batch_t *b)
{
    int32_t *qa[256];
    uint8_t *ca[256];
    for (int i = 0; i < b->n; i++) {
        const bentry *e = &b->e[i];
        for (int m = e->mt0; m < e->mt0 + e->n_mt; m++) {
            int a = b->mt[m].allele;
            qa[a] = (int32_t *)(void *)(b->arena + b->off[m]);
            ca[a] = b->arena + b->off[m];
        }
        score_record(p, e->chrom, e->n_allele, qa, e->hard ? ca : NULL, b->mt + e->mt0, e->n_mt);
    }
}

static void *pipe_main(void *arg)
{
    mg_prs *p = arg;
    for (int i = 0;; i ^= 1) {
        pthread_mutex_lock(&p->mu);
        while (!p->full[i] && !p->quit) pthread_cond_wait(&p->cv, &p->mu);
        int have = p->full[i];
        pthread_mutex_unlock(&p->mu);
        if (!have) break;
        score_batch(p, &p->b[i]);
        pthread_mutex_lock(&p->mu);
        p->full[i] = 0;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

static int pipe_start(mg_prs *p)
{
    if (pthread_mutex_init(&p->mu, NULL)) return -1;
    if (pthread_cond_init(&p->cv, NULL)) { pthread_mutex_destroy(&p->mu); return -1; }
    if (pthread_create(&p->th, NULL, pipe_main, p)) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        return -1;
    }
    p->pipe = 1;
    return 0;
}

/* Hand the current batch to the scorer and wait until the other is free. */
static void pipe_submit(mg_prs *p)
{
    batch_t *b = &p->b[p->cur];
    if (b->n == 0) return;
    pthread_mutex_lock(&p->mu);
    p->full[p->cur] = 1;
    pthread_cond_broadcast(&p->cv);
    p->cur ^= 1;
    while (p->full[p->cur]) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    b = &p->b[p->cur];
    b->n = 0;
    b->n_mt = 0;
    b->used = 0;
}

/* Score what is queued and end the thread (also on error paths). */
static void pipe_stop(mg_prs *p)
{
    if (!p->pipe) return;
    pipe_submit(p);
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    p->pipe = 0;
}

/* Queue a record for the scoring thread: its matches mt and, per matched
 * allele, the allele counts (hard calls) or dosages, taken from the reader v
 * (id matching) or from buffered arrays ca/qa (pos matching). */
static int pipe_queue(mg_prs *p, mg_vcf *v, uint8_t *const *ca, int32_t *const *qa, int hard,
                      int chrom, int n_allele, const match_t *mt, int n_mt)
{
    batch_t *b = &p->b[p->cur];
    size_t per = hard ? (size_t)p->n : sizeof(int32_t) * (size_t)p->n;
    per = (per + 63) & ~(size_t)63;
    if (b->n == b->m) {
        int m = b->m ? 2 * b->m : BATCH_RECORDS;
        bentry *e = realloc(b->e, sizeof *e * (size_t)m);
        if (!e) return -1;
        b->e = e;
        b->m = m;
    }
    if (b->n_mt + n_mt > b->m_mt) {
        int m = b->m_mt ? 2 * b->m_mt : 256;
        while (m < b->n_mt + n_mt) m *= 2;
        match_t *t = realloc(b->mt, sizeof *t * (size_t)m);
        if (!t) return -1;
        b->mt = t;
        size_t *off = realloc(b->off, sizeof *off * (size_t)m);
        if (!off) return -1;
        b->off = off;
        b->m_mt = m;
    }
    if (b->used + per * (size_t)n_mt > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : per * BATCH_RECORDS * 2;
        while (cap < b->used + per * (size_t)n_mt) cap *= 2;
        uint8_t *a = realloc(b->arena, cap);
        if (!a) return -1;
        b->arena = a;
        b->cap = cap;
    }
    bentry *e = &b->e[b->n++];
    e->chrom = chrom;
    e->n_allele = n_allele;
    e->hard = hard;
    e->mt0 = b->n_mt;
    e->n_mt = n_mt;
    for (int m = 0; m < n_mt; m++) {
        int a = mt[m].allele, dup = -1;
        for (int k = 0; k < m; k++) if (mt[k].allele == a) { dup = k; break; }
        b->mt[b->n_mt + m] = mt[m];
        if (dup >= 0) { b->off[b->n_mt + m] = b->off[b->n_mt + dup]; continue; }
        uint8_t *dst = b->arena + b->used;
        b->off[b->n_mt + m] = b->used;
        if (v && hard) mg_vcf_allele_counts(v, a, dst);
        else if (v) mg_vcf_allele_dosage(v, a, (int32_t *)(void *)dst);
        else if (hard) memcpy(dst, ca[a], (size_t)p->n);
        else memcpy(dst, qa[a], sizeof(int32_t) * (size_t)p->n);
        b->used += per;
    }
    b->n_mt += n_mt;
    if (b->n >= BATCH_RECORDS) pipe_submit(p);
    return 0;
}

/* plink2 --score: ID lookup, exact allele. */
static int handle_id(mg_prs *p, mg_vcf *v, const mg_vcf_site *st, char *err, size_t errlen)
{
    khint_t k = kh_get(rowidx, p->h, st->id);
    if (k == kh_end(p->h)) return 0;
    int64_t line = mg_vcf_line(v);
    if (p->key_seen[k]) {
        mg_seterr_at(err, errlen, p->vcf_name, line,
                "variant ID '%s' occurs more than once; plink2 --score refuses duplicate IDs", st->id);
        return -1;
    }
    p->key_seen[k] = 1;
    p->n_mt = 0;
    mg_scoreset *ss = p->ss;
    for (int64_t i = kh_val(p->h, k); i >= 0; i = ss->rows[i].next) {
        score_row *r = &ss->rows[i];
        r->done = 1;
        int a = -1;
        for (int j = 0; j < st->n_allele; j++)
            if (!strcmp(st->allele[j], r->ea)) { a = j; break; }
        const char *alt = st->n_allele > 1 ? st->allele[1] : ".";
        if (a < 0) {
            log_row(p, r, st->id, st->allele[0], alt, ".", "", st->n_allele > 2, 0, 0, 0, 1,
                    "allele_mismatch");
            continue;
        }
        for (int m = 0; m < p->n_mt; m++) {
            const score_row *o = &ss->rows[p->mt[m].row];
            if (o->file == r->file && p->mt[m].allele == a) {
                mg_seterr_at(err, errlen, ss->files[r->file].path, r->line,
                        "variant '%s' allele '%s' also on line %lld", r->id, r->ea, (long long)o->line);
                return -1;
            }
        }
        log_row(p, r, st->id, st->allele[0], alt, r->ea, "id", st->n_allele > 2, 0, 0, 1, 0, "matched");
        if (push_match(p, i, a) < 0) { mg_seterr(err, errlen, "out of memory"); return -1; }
    }
    if (p->n_mt == 0) return 0;
    int c = check_chrom(p, st->chrom, p->mt, p->n_mt, line, err, errlen);
    if (!c) return -1;
    for (int m = 0; m < p->n_mt; m++)
        if (freq_of(p, st->id, st->allele, st->n_allele, p->mt[m].allele, line, &p->mt[m].freq, err, errlen) < 0)
            return -1;
    if (mg_vcf_load_genotypes(v, p->o.dosage) < 0) {
        mg_seterr_at(err, errlen, p->vcf_name, line, "%s", mg_vcf_error(v));
        return -1;
    }
    if (st->n_allele > 256) { mg_seterr_at(err, errlen, p->vcf_name, line, "more than 256 alleles"); return -1; }
    if (p->pipe) {
        if (pipe_queue(p, v, NULL, NULL, !mg_vcf_has_dosage(v), c, st->n_allele, p->mt, p->n_mt) < 0) {
            mg_seterr(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    int32_t *qa[256];
    uint8_t *ca[256];
    int hard = !mg_vcf_has_dosage(v);
    int32_t *b = hard ? NULL : qbuf(p, st->n_allele);
    uint8_t *cb = hard ? cbuf(p, st->n_allele) : NULL;
    if (hard ? !cb : !b) { mg_seterr(err, errlen, "out of memory"); return -1; }
    for (int a = 0; a < st->n_allele; a++) { qa[a] = NULL; ca[a] = NULL; }
    for (int m = 0; m < p->n_mt; m++) {
        int a = p->mt[m].allele;
        if (hard && !ca[a]) {
            ca[a] = cb + (size_t)a * p->n;
            mg_vcf_allele_counts(v, a, ca[a]);
        } else if (!hard && !qa[a]) {
            qa[a] = b + (size_t)a * p->n;
            mg_vcf_allele_dosage(v, a, qa[a]);
        }
    }
    score_record(p, c, st->n_allele, qa, hard ? ca : NULL, p->mt, p->n_mt);
    return 0;
}

/* ---- pgsc_calc position matching ---- */

static char comp(char c)
{
    switch (c) { case 'A': return 'T'; case 'T': return 'A'; case 'C': return 'G'; case 'G': return 'C'; }
    return 0;
}

/* reverse complement into buf; 0 if not [ACGT]+ or too long */
static int revcomp(const char *s, char *buf, size_t cap)
{
    size_t l = strlen(s);
    if (!l || l + 1 > cap) return 0;
    for (size_t i = 0; i < l; i++) {
        char c = comp(s[l - 1 - i]);
        if (!c) return 0;
        buf[i] = c;
    }
    buf[l] = 0;
    return 1;
}

/* Best match type of row r against REF/ALT, and the matched effect allele
 * (0 = REF, 1 = ALT). */
static int match_type(const mg_prs *p, const score_row *r, const char *ref, const char *alt, int *ea)
{
    char fe[256], fo[256];
    int can_flip = !p->o.ignore_strand_flips && revcomp(r->ea, fe, sizeof fe);
    if (r->oa) {
        int of = can_flip && revcomp(r->oa, fo, sizeof fo);
        if (!strcmp(r->ea, ref) && !strcmp(r->oa, alt)) { *ea = 0; return MT_REFALT; }
        if (!strcmp(r->ea, alt) && !strcmp(r->oa, ref)) { *ea = 1; return MT_ALTREF; }
        if (of && !strcmp(fe, ref) && !strcmp(fo, alt)) { *ea = 0; return MT_REFALT_FLIP; }
        if (of && !strcmp(fe, alt) && !strcmp(fo, ref)) { *ea = 1; return MT_ALTREF_FLIP; }
        return MT_NONE;
    }
    if (!strcmp(r->ea, ref)) { *ea = 0; return MT_NO_OA_REF; }
    if (!strcmp(r->ea, alt)) { *ea = 1; return MT_NO_OA_ALT; }
    if (can_flip && !strcmp(fe, ref)) { *ea = 0; return MT_NO_OA_REF_FLIP; }
    if (can_flip && !strcmp(fe, alt)) { *ea = 1; return MT_NO_OA_ALT_FLIP; }
    return MT_NONE;
}

/* pgsc_calc scores chromosomes 1-22, X, Y and XY (plink2 --chr 1-22, X, Y, XY
 * in plink2_vcf.nf); matches elsewhere are excluded, and so are contigs named
 * PAR1/PAR2, which plink2 2.00a3.5 scores as XY but keeps out of --chr XY. */
static int pgsc_chrom(const char *chrom)
{
    int c = chrom_code(chrom);
    return c && c != CHR_MT && strcasecmp(chrom, "PAR1") != 0 && strcasecmp(chrom, "PAR2") != 0;
}

static int ambiguous(const char *ref, const char *alt)
{
    char b[256];
    return revcomp(ref, b, sizeof b) && !strcmp(b, alt);
}

typedef struct { int g, k, type, ea; } cand_t;   /* group record, ALT index, type, allele index */

typedef struct {                 /* one scoring row's verdict at this position */
    int64_t row;
    int n_cand, chosen, tie;
    cand_t cand[32];
    const char *status;          /* of the chosen (best) candidate */
} verdict_t;

/* The pgsc_calc verdict for every row at the current position, then one more
 * rule of ours: two rows of one file retained for the same record and effect
 * allele are both excluded (duplicate_target), where plink2 would stop. */
static int resolve_group(mg_prs *p, mg_vcf *v, char *err, size_t errlen)
{
    if (p->n_grp == 0) return 0;
    mg_scoreset *ss = p->ss;
    khint_t key = p->grp_key;
    p->key_seen[key] = 1;
    int n_rows = 0, ret = -1;
    for (int64_t i = kh_val(p->h, key); i >= 0; i = ss->rows[i].next) n_rows++;
    verdict_t *vd = calloc((size_t)n_rows, sizeof *vd);
    int *n_per = calloc((size_t)p->n_grp, sizeof *n_per);
    match_t *per = malloc(sizeof *per * (size_t)p->n_grp * (size_t)n_rows);
    if (!vd || !n_per || !per) { mg_seterr(err, errlen, "out of memory"); goto out; }
    int r_i = 0;
    for (int64_t i = kh_val(p->h, key); i >= 0; i = ss->rows[i].next, r_i++) {
        score_row *r = &ss->rows[i];
        verdict_t *d = &vd[r_i];
        int best = MT_NONE;
        d->row = i;
        d->chosen = -1;
        r->done = 1;
        for (int g = 0; g < p->n_grp; g++) {
            grp_rec *gr = &p->grp[g];
            for (int k = 1; k < gr->n_allele && d->n_cand < 32; k++) {
                int ea, t = match_type(p, r, gr->allele[0], gr->allele[k], &ea);
                if (t == MT_NONE) continue;
                cand_t *c = &d->cand[d->n_cand++];
                c->g = g; c->k = k; c->type = t; c->ea = ea ? k : 0;
                if (t < best) best = t;
            }
        }
        if (d->n_cand == 0) { d->status = "unmatched"; continue; }
        int n_best = 0;
        for (int c = 0; c < d->n_cand; c++)
            if (d->cand[c].type == best) { if (d->chosen < 0) d->chosen = c; n_best++; }
        d->tie = n_best > 1 && !p->o.keep_first_match;
        cand_t *c = &d->cand[d->chosen];
        grp_rec *gr = &p->grp[c->g];
        int multi = gr->n_allele > 2, amb = ambiguous(gr->allele[0], gr->allele[c->k]);
        d->status = d->tie ? "duplicate_best_match"
                  : (amb && !p->o.keep_ambiguous) ? "excluded_ambiguous"
                  : (multi && !p->o.keep_multiallelic) ? "excluded_multiallelic"
                  : !pgsc_chrom(gr->chrom) ? "excluded_chromosome"
                  : "matched";
        if (!strcmp(d->status, "excluded_chromosome")) p->n_other_chrom++;
    }
    for (int x = 0; x < n_rows; x++) {
        if (strcmp(vd[x].status, "matched") != 0 && strcmp(vd[x].status, "duplicate_target") != 0) continue;
        for (int y = x + 1; y < n_rows; y++) {
            if (strcmp(vd[y].status, "matched") != 0 && strcmp(vd[y].status, "duplicate_target") != 0) continue;
            const cand_t *cx = &vd[x].cand[vd[x].chosen], *cy = &vd[y].cand[vd[y].chosen];
            if (ss->rows[vd[x].row].file == ss->rows[vd[y].row].file && cx->g == cy->g && cx->ea == cy->ea)
                vd[x].status = vd[y].status = "duplicate_target";
        }
    }
    for (int x = 0; x < n_rows; x++) {
        verdict_t *d = &vd[x];
        const score_row *r = &ss->rows[d->row];
        if (d->n_cand == 0) {
            log_row(p, r, ".", ".", ".", ".", "", 0, 0, 0, 0, 1, "unmatched");
            continue;
        }
        for (int c = 0; c < d->n_cand; c++) {
            const cand_t *cd = &d->cand[c];
            grp_rec *gr = &p->grp[cd->g];
            const char *ref = gr->allele[0], *alt = gr->allele[cd->k];
            int is_best = c == d->chosen, keep = is_best && !strcmp(d->status, "matched");
            int t = cd->type;
            int flipped = t == MT_REFALT_FLIP || t == MT_ALTREF_FLIP || t == MT_NO_OA_REF_FLIP || t == MT_NO_OA_ALT_FLIP;
            const char *status = is_best ? d->status
                               : (d->tie && t == d->cand[d->chosen].type) ? "duplicate_best_match" : "not_best";
            log_row(p, r, gr->id, ref, alt, gr->allele[cd->ea], mt_name[t], gr->n_allele > 2,
                    ambiguous(ref, alt), flipped, is_best, !keep, status);
            if (!keep) continue;
            if (freq_of(p, gr->id, (const char *const *)gr->allele, gr->n_allele, cd->ea, gr->line,
                        &per[(size_t)cd->g * n_rows + n_per[cd->g]].freq, err, errlen) < 0)
                goto out;
            per[(size_t)cd->g * n_rows + n_per[cd->g]].row = d->row;
            per[(size_t)cd->g * n_rows + n_per[cd->g]++].allele = cd->ea;
        }
    }
    for (int g = 0; g < p->n_grp; g++) {
        if (!n_per[g]) continue;
        grp_rec *gr = &p->grp[g];
        int c = check_chrom(p, gr->chrom, per + (size_t)g * n_rows, n_per[g], gr->line, err, errlen);
        if (!c) goto out;
        if (!gr->q && !gr->cnt) {
            mg_seterr_at(err, errlen, p->vcf_name, gr->line, "internal: genotypes not loaded");
            goto out;
        }
        int32_t *qa[256];
        uint8_t *ca[256];
        for (int a = 0; a < gr->n_allele && a < 256; a++) {
            qa[a] = gr->q ? gr->q + (size_t)a * p->n : NULL;
            ca[a] = gr->cnt ? gr->cnt + (size_t)a * p->n : NULL;
        }
        if (p->pipe) {
            if (pipe_queue(p, NULL, ca, qa, gr->cnt != NULL, c, gr->n_allele,
                           per + (size_t)g * n_rows, n_per[g]) < 0) {
                mg_seterr(err, errlen, "out of memory");
                goto out;
            }
        } else
            score_record(p, c, gr->n_allele, qa, gr->cnt ? ca : NULL, per + (size_t)g * n_rows, n_per[g]);
    }
    ret = 0;
out:
    (void)v;
    free(vd);
    free(per);
    free(n_per);
    grp_clear(p);
    return ret;
}

/* Could any row at this key match the record (alleles, maybe flipped)? */
static int may_match(const mg_prs *p, khint_t key, const mg_vcf_site *st)
{
    for (int64_t i = kh_val(p->h, key); i >= 0; i = p->ss->rows[i].next)
        for (int k = 1; k < st->n_allele; k++) {
            int ea;
            if (match_type(p, &p->ss->rows[i], st->allele[0], st->allele[k], &ea) != MT_NONE) return 1;
        }
    return 0;
}

static int handle_pos(mg_prs *p, mg_vcf *v, const mg_vcf_site *st, char *err, size_t errlen)
{
    kstring_t key = {0, 0, NULL};
    ksprintf(&key, "%s:%lld", chr_norm(st->chrom), (long long)st->pos);
    khint_t k = kh_get(rowidx, p->h, key.s);
    free(key.s);
    if (p->n_grp && k != p->grp_key && resolve_group(p, v, err, errlen) < 0) return -1;
    if (k == kh_end(p->h)) return 0;
    int64_t line = mg_vcf_line(v);
    if (p->key_seen[k]) {
        mg_seterr_at(err, errlen, p->vcf_name, line,
                "position %s:%lld met again after other positions; --match pos needs a VCF sorted by position",
                st->chrom, (long long)st->pos);
        return -1;
    }
    p->grp_key = k;
    if (p->n_grp == p->m_grp) {
        int m = p->m_grp ? 2 * p->m_grp : 4;
        grp_rec *g = realloc(p->grp, sizeof *g * (size_t)m);
        if (!g) goto oom;
        p->grp = g;
        p->m_grp = m;
    }
    grp_rec *g = &p->grp[p->n_grp++];
    memset(g, 0, sizeof *g);
    g->line = line;
    if (!(g->chrom = strdup(st->chrom)) || !(g->id = strdup(st->id))) goto oom;
    if (!(g->allele = calloc((size_t)st->n_allele, sizeof *g->allele))) goto oom;
    g->n_allele = st->n_allele;
    for (int a = 0; a < st->n_allele; a++)
        if (!(g->allele[a] = strdup(st->allele[a]))) goto oom;
    int multi_skip = st->n_allele > 2 && !p->o.keep_multiallelic;
    if (!multi_skip && st->n_allele <= 256 && may_match(p, k, st)) {
        if (mg_vcf_load_genotypes(v, p->o.dosage) < 0) {
            mg_seterr_at(err, errlen, p->vcf_name, line, "%s", mg_vcf_error(v));
            return -1;
        }
        if (mg_vcf_has_dosage(v)) {
            if (!(g->q = malloc(sizeof *g->q * (size_t)st->n_allele * p->n))) goto oom;
            for (int a = 0; a < st->n_allele; a++) mg_vcf_allele_dosage(v, a, g->q + (size_t)a * p->n);
        } else {
            if (!(g->cnt = malloc((size_t)st->n_allele * p->n))) goto oom;
            for (int a = 0; a < st->n_allele; a++) mg_vcf_allele_counts(v, a, g->cnt + (size_t)a * p->n);
        }
    }
    return 0;
oom:
    mg_seterr(err, errlen, "out of memory");
    return -1;
}

mg_prs *mg_prs_run(mg_scoreset *ss, mg_vcf *v, const char *vcf_name,
                   const mg_prs_opts *o, char *err, size_t errlen)
{
    mg_prs *p = calloc(1, sizeof *p);
    if (!p) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    p->ss = ss;
    p->o = *o;
    p->vcf_name = vcf_name;
    p->n = mg_vcf_nsamples(v);
    p->K = ss->n_cols;
    p->sum = calloc((size_t)p->n * p->K, sizeof *p->sum);
    p->missing = calloc((size_t)p->n, sizeof *p->missing);
    p->missing_hap = calloc((size_t)p->n, sizeof *p->missing_hap);
    p->named = calloc((size_t)p->n, sizeof *p->named);
    p->tab = malloc(sizeof *p->tab * 4 * (size_t)(p->K ? p->K : 1));
    if (o->per_chrom) p->sumc = calloc((size_t)p->n * p->K * 22, sizeof *p->sumc);
    if (!p->sum || !p->missing || !p->missing_hap || !p->named || !p->tab || (o->per_chrom && !p->sumc)) {
        mg_seterr(err, errlen, "out of memory");
        goto fail;
    }
    if (build_index(p, err, errlen) < 0) goto fail;
    if (o->log && fputs(LOG_HEADER, o->log) < 0) { mg_seterr(err, errlen, "cannot write the match log"); goto fail; }
    if (o->read_freq && !o->no_mean_imputation && read_freq(p, o->read_freq, err, errlen) < 0) goto fail;
    /* a second thread scores while this one reads (records are scored one by
     * one in file order, as without it, so the sums are the same bits) */
    if (o->threads > 1 && pipe_start(p) < 0) {
        mg_seterr(err, errlen, "cannot start the scoring thread");
        goto fail;
    }
    /* pos matching knows where its variants are: with an index, read only
     * those records (the others are never decompressed) */
    if (o->match == MG_PRS_MATCH_POS && !o->no_index) {
        const char **chr = malloc(sizeof *chr * (size_t)(ss->n_rows ? ss->n_rows : 1));
        int64_t *pos = malloc(sizeof *pos * (size_t)(ss->n_rows ? ss->n_rows : 1));
        int n = 0, used = -1;
        if (chr && pos) {
            for (int64_t i = 0; i < ss->n_rows; i++)
                if (!ss->rows[i].dropped && ss->rows[i].chr && n < INT32_MAX) {
                    chr[n] = ss->rows[i].chr;
                    pos[n++] = ss->rows[i].pos;
                }
            used = mg_vcf_use_index(v, vcf_name, n, chr, pos);
        }
        free(chr);
        free(pos);
        if (used < 0) {
            mg_seterr_at(err, errlen, vcf_name, 0, "%s", chr && pos ? mg_vcf_error(v) : "out of memory");
            goto fail;
        }
        p->indexed = used;
    }
    mg_vcf_site st;
    int r;
    uint64_t n_sites = 0;
    while ((r = mg_vcf_next(v, &st)) == 1) {
        mg_progress_step(o->progress, ++n_sites);
        int rc = o->match == MG_PRS_MATCH_ID ? handle_id(p, v, &st, err, errlen) : handle_pos(p, v, &st, err, errlen);
        if (rc < 0) goto fail;
    }
    if (r < 0) {
        mg_seterr_at(err, errlen, vcf_name, mg_vcf_line(v), "%s", mg_vcf_error(v));
        goto fail;
    }
    if (o->match == MG_PRS_MATCH_POS && resolve_group(p, v, err, errlen) < 0) goto fail;
    pipe_stop(p);
    /* rows never met, or dropped while reading */
    for (int64_t i = 0; i < ss->n_rows; i++) {
        score_row *row = &ss->rows[i];
        if (row->done) continue;
        log_row(p, row, ".", ".", ".", ".", "", 0, 0, 0, 0, 1,
                row->dropped ? drop_reason[row->dropped]
                : o->match == MG_PRS_MATCH_ID ? "id_not_found" : "unmatched");
    }
    if (p->n_var == 0) {
        mg_seterr_at(err, errlen, vcf_name, 0, "no scoring-file variant matched a VCF record (empty intersection)");
        goto fail;
    }
    if (o->match == MG_PRS_MATCH_POS)
        for (int f = 0; f < ss->n_files; f++) {
            mg_score_file *sf = &ss->files[f];
            double rate = (double)sf->n_matched / (double)sf->n_rows;
            if (rate < o->min_overlap) {
                mg_seterr_at(err, errlen, sf->path, 0, "score %s: %lld of %lld variants matched (%.1f%%), below --min-overlap %g",
                        ss->names[sf->first_col], (long long)sf->n_matched, (long long)sf->n_rows,
                        100.0 * rate, o->min_overlap);
                goto fail;
            }
        }
    return p;
fail:
    mg_prs_destroy(p);
    return NULL;
}

/* ---- output ---- */

void mg_prs_format_dosage_sum(int64_t x, char *buf)
{
    /* plink2_common.cc ddosagetoa, digit for digit: x + 16 (so .9995 and up
     * carries), then three decimals as (125 * r + 48) / 4096, which rounds
     * ties up (0.0625 prints 0.063), less one where r % 8192 == 4048 (a
     * mistyped banker's-rounding term: 0.873046875 prints 0.872) */
    uint64_t d = (uint64_t)(x < 0 ? 0 : x) + 16, ip = d / 32768;
    uint32_t r = (uint32_t)(d % 32768);
    if (r < 33) { sprintf(buf, "%llu", (unsigned long long)ip); return; }
    uint32_t t = (125 * r + 48) / 4096 - (r % 8192 == 4048);
    int len = sprintf(buf, "%llu.%03u", (unsigned long long)ip, t);
    while (buf[len - 1] == '0') buf[--len] = 0;
}

/* Six significant digits as plink2's dtoa_g prints them: like %.6g, except
 * that the last digit is rounded half-to-even with a tolerance of 5e-7 of a
 * unit (plink2_string.cc, kBankerRound6), so a value a few ulps from a decimal
 * tie rounds to the even digit where printf would round by the exact binary
 * value. */
void mg_prs_format_g6(double x, char *buf)
{
    static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                  1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                  1e20, 1e21, 1e22 };
    if (isnan(x)) { strcpy(buf, "nan"); return; }
    if (isinf(x)) { strcpy(buf, x < 0 ? "-inf" : "inf"); return; }
    if (x == 0) { strcpy(buf, "0"); return; }
    char *o = buf;
    if (x < 0) { *o++ = '-'; x = -x; }
    int e = (int)floor(log10(x));
    double s = 0;
    for (int tries = 0; tries < 3; tries++) {
        int k = 5 - e;              /* scale so that 100000 <= s < 1000000 */
        s = x;
        while (k > 22) { s *= 1e22; k -= 22; }
        while (k < -22) { s /= 1e22; k += 22; }
        s = k >= 0 ? s * p10[k] : s / p10[-k];
        if (s < 100000.0) e--;
        else if (s >= 1000000.0) e++;
        else break;
    }
    uint32_t t = (uint32_t)s;
    static const double bround[2] = { 0.4999995, 0.5000005 };
    uint32_t r = t + (uint32_t)((s - t) + bround[t & 1]);
    if (r >= 1000000) { r /= 10; e++; }
    char d[12];
    snprintf(d, sizeof d, "%06u", (unsigned)r);
    int nd = 6;
    while (nd > 1 && d[nd - 1] == '0') nd--;
    if (e < -4 || e >= 6) {
        *o++ = d[0];
        if (nd > 1) { *o++ = '.'; memcpy(o, d + 1, (size_t)nd - 1); o += nd - 1; }
        sprintf(o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (e >= 0) {
        for (int i = 0; i <= e; i++) *o++ = d[i];
        if (nd > e + 1) { *o++ = '.'; for (int i = e + 1; i < nd; i++) *o++ = d[i]; }
        *o = 0;
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -e - 1; i++) *o++ = '0';
        for (int i = 0; i < nd; i++) *o++ = d[i];
        *o = 0;
    }
}

static int put_g(FILE *fp, double x)
{
    char b[40];
    mg_prs_format_g6(x, b);
    return fprintf(fp, "\t%s", b) < 0 ? -1 : 0;
}

int mg_prs_write_sscore(const mg_prs *p, const mg_vcf *v, FILE *fp)
{
    int K = p->K;
    if (fputs("#IID\tALLELE_CT\tDENOM\tNAMED_ALLELE_DOSAGE_SUM", fp) < 0) return -1;
    for (int j = 0; j < K; j++) if (fprintf(fp, "\t%s_AVG", p->ss->names[j]) < 0) return -1;
    for (int j = 0; j < K; j++) if (fprintf(fp, "\t%s_SUM", p->ss->names[j]) < 0) return -1;
    if (fputc('\n', fp) < 0) return -1;
    char buf[64];
    for (int s = 0; s < p->n; s++) {
        int64_t ct = p->allele_sum - 2 * p->missing[s] - p->missing_hap[s];
        double denom = mg_prs_denom(p, s), inv = 1.0 / denom;
        mg_prs_format_dosage_sum(p->named[s], buf);
        if (fprintf(fp, "%s\t%lld\t%.0f\t%s", mg_vcf_sample(v, s), (long long)ct, denom, buf) < 0)
            return -1;
        for (int j = 0; j < K; j++) if (put_g(fp, mg_prs_sum(p, s, j) * inv) < 0) return -1;
        for (int j = 0; j < K; j++) if (put_g(fp, mg_prs_sum(p, s, j)) < 0) return -1;
        if (fputc('\n', fp) < 0) return -1;
    }
    return 0;
}


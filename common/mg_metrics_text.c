/* mg_metrics_text.c: BLEU, ROUGE-L, CIDEr-D (pycocoevalcap formulas), label
 * and set F1, VQA answer metrics. See mg_metrics_text.h for the definitions. */
#include "mg_metrics_text.h"
#include "mg_metrics.h"
#include "mg_metrics_tsv.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W(i) (w ? w[i] : 1.0)

/* ---------------- tokenisation ---------------- */

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* pycocoevalcap PUNCTUATIONS that are single characters, plus the brackets
 * PTB turns into -LRB- etc. (also removed there) */
static int ptb_punct(int c) { return c && strchr("'\"`.?!,:;-()[]{}", c) != NULL; }

/* sacrebleu 13a, applied as the sequence of left-to-right, non-overlapping
 * substitutions of tokenizer_13a.py / tokenizer_re.py (see the header). */
static int sym13a(unsigned char c)
{
    return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
           (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

static char *tok13a(const char *in)
{
    size_t n = strlen(in);
    /* each pass at most triples the length */
    size_t cap = 27 * (n + 2) + 1;
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b) { free(a); free(b); return NULL; }
    /* pre-processing */
    char *o = a;
    *o++ = ' ';
    for (size_t i = 0; i < n;) {
        if (!strncmp(in + i, "<skipped>", 9)) { i += 9; continue; }
        if (in[i] == '-' && in[i + 1] == '\n') { i += 2; continue; }
        *o++ = in[i] == '\n' ? ' ' : in[i];
        i++;
    }
    *o++ = ' ';
    *o = 0;
    if (strchr(a, '&')) {
        static const char *const from[] = { "&quot;", "&amp;", "&lt;", "&gt;" };
        static const char to[] = { '"', '&', '<', '>' };
        for (int k = 0; k < 4; k++) {  /* one replace() after another */
            char *p = a, *q = b;
            size_t fl = strlen(from[k]);
            while (*p) {
                if (!strncmp(p, from[k], fl)) { *q++ = to[k]; p += fl; }
                else *q++ = *p++;
            }
            *q = 0;
            char *t = a; a = b; b = t;
        }
    }
    /* 1: symbols */
    o = b;
    for (char *p = a; *p; p++) {
        if (sym13a((unsigned char)*p)) { *o++ = ' '; *o++ = *p; *o++ = ' '; }
        else *o++ = *p;
    }
    *o = 0;
    /* 2: ([^0-9])([.,]) -> "\1 \2 " */
    o = a;
    for (char *p = b; *p;) {
        if (!isdigit((unsigned char)p[0]) && (p[1] == '.' || p[1] == ',')) {
            *o++ = p[0]; *o++ = ' '; *o++ = p[1]; *o++ = ' ';
            p += 2;
        } else *o++ = *p++;
    }
    *o = 0;
    /* 3: ([.,])([^0-9]) -> " \1 \2" */
    o = b;
    for (char *p = a; *p;) {
        if ((p[0] == '.' || p[0] == ',') && p[1] && !isdigit((unsigned char)p[1])) {
            *o++ = ' '; *o++ = p[0]; *o++ = ' '; *o++ = p[1];
            p += 2;
        } else *o++ = *p++;
    }
    *o = 0;
    /* 4: ([0-9])(-) -> "\1 \2 " */
    o = a;
    for (char *p = b; *p;) {
        if (isdigit((unsigned char)p[0]) && p[1] == '-') {
            *o++ = p[0]; *o++ = ' '; *o++ = '-'; *o++ = ' ';
            p += 2;
        } else *o++ = *p++;
    }
    *o = 0;
    free(b);
    /* split() and join with single spaces (Python whitespace, ASCII) */
    o = a;
    int space = 1;
    for (char *p = a; *p; p++) {
        if (is_ws((unsigned char)*p) || *p == '\x1c' || *p == '\x1d' || *p == '\x1e' || *p == '\x1f') {
            if (!space) { *o++ = ' '; space = 1; }
        } else { *o++ = *p; space = 0; }
    }
    if (o > a && o[-1] == ' ') o--;
    *o = 0;
    return a;
}

char *mg_text_tokenize(const char *s, int mode)
{
    if (mode == MG_TOK_13A) return tok13a(s);
    size_t n = strlen(s);
    char *out = malloc(2 * n + 2), *o = out;
    if (!out) return NULL;
    if (mode == MG_TOK_NONE) { memcpy(out, s, n + 1); return out; }
    if (mode == MG_TOK_SIMPLE) {
        int space = 1;
        for (const char *p = s; *p; p++) {
            int c = tolower((unsigned char)*p);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80) { *o++ = (char)c; space = 0; }
            else if (!space) { *o++ = ' '; space = 1; }
        }
        if (o > out && o[-1] == ' ') o--;
        *o = 0;
        return out;
    }
    /* ptb approximation */
    const char *p = s;
    while (*p) {
        while (is_ws((unsigned char)*p)) p++;
        if (!*p) break;
        const char *b = p;
        while (*p && !is_ws((unsigned char)*p)) p++;
        const char *e = p;
        while (b < e && ptb_punct((unsigned char)*b)) b++;      /* leading */
        while (e > b && ptb_punct((unsigned char)e[-1])) e--;   /* trailing */
        if (b == e) continue;
        if (o > out) *o++ = ' ';
        for (const char *q = b; q < e; q++) *o++ = (char)tolower((unsigned char)*q);
    }
    *o = 0;
    return out;
}

/* ---------------- hash tables ---------------- */

typedef struct { uint32_t n, id[4]; } ngram;

typedef struct {
    size_t cap, count;
    int32_t *slot;      /* index into keys or -1 */
    ngram *keys;
    size_t kcap;
} ngram_map;

static uint64_t mix(uint64_t h) { h ^= h >> 31; h *= 0x9E3779B97F4A7C15ULL; h ^= h >> 29; return h; }

static uint64_t ngram_hash(const ngram *g)
{
    uint64_t h = g->n;
    for (uint32_t i = 0; i < g->n; i++) h = mix(h * 31 + g->id[i] + 1);
    return h;
}

static int ngram_eq(const ngram *a, const ngram *b)
{
    if (a->n != b->n) return 0;
    for (uint32_t i = 0; i < a->n; i++) if (a->id[i] != b->id[i]) return 0;
    return 1;
}

static int nmap_grow(ngram_map *m)
{
    size_t nc = m->cap ? m->cap * 2 : 1024;
    int32_t *ns = malloc(nc * sizeof *ns);
    if (!ns) return -1;
    memset(ns, 0xff, nc * sizeof *ns);
    for (size_t i = 0; i < m->count; i++) {
        size_t h = ngram_hash(&m->keys[i]) & (nc - 1);
        while (ns[h] >= 0) h = (h + 1) & (nc - 1);
        ns[h] = (int32_t)i;
    }
    free(m->slot);
    m->slot = ns; m->cap = nc;
    return 0;
}

/* id of g, inserting it; -1 on memory failure */
static int32_t nmap_get(ngram_map *m, const ngram *g)
{
    if (2 * (m->count + 1) > m->cap && nmap_grow(m) < 0) return -1;
    size_t h = ngram_hash(g) & (m->cap - 1);
    while (m->slot[h] >= 0) {
        if (ngram_eq(&m->keys[m->slot[h]], g)) return m->slot[h];
        h = (h + 1) & (m->cap - 1);
    }
    if (m->count == m->kcap) {
        size_t nk = m->kcap ? 2 * m->kcap : 1024;
        ngram *k2 = realloc(m->keys, nk * sizeof *k2);
        if (!k2) return -1;
        m->keys = k2; m->kcap = nk;
    }
    m->keys[m->count] = *g;
    m->slot[h] = (int32_t)m->count;
    return (int32_t)m->count++;
}

/* vocabulary: strings -> ids (a 1-gram map over string hashes would collide,
 * so strings get their own table) */
typedef struct {
    size_t cap, count;
    int32_t *slot;
    char **words;
    size_t wcap;
} vocab;

static uint64_t str_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
    return mix(h);
}

static int32_t vocab_get(vocab *v, const char *s, size_t len)
{
    if (2 * (v->count + 1) > v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 1024;
        int32_t *ns = malloc(nc * sizeof *ns);
        if (!ns) return -1;
        memset(ns, 0xff, nc * sizeof *ns);
        for (size_t i = 0; i < v->count; i++) {
            size_t h = str_hash(v->words[i], strlen(v->words[i])) & (nc - 1);
            while (ns[h] >= 0) h = (h + 1) & (nc - 1);
            ns[h] = (int32_t)i;
        }
        free(v->slot);
        v->slot = ns; v->cap = nc;
    }
    size_t h = str_hash(s, len) & (v->cap - 1);
    while (v->slot[h] >= 0) {
        const char *w = v->words[v->slot[h]];
        if (strlen(w) == len && !memcmp(w, s, len)) return v->slot[h];
        h = (h + 1) & (v->cap - 1);
    }
    if (v->count == v->wcap) {
        size_t nw = v->wcap ? 2 * v->wcap : 1024;
        char **w2 = realloc(v->words, nw * sizeof *w2);
        if (!w2) return -1;
        v->words = w2; v->wcap = nw;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len); copy[len] = 0;
    v->words[v->count] = copy;
    v->slot[h] = (int32_t)v->count;
    return (int32_t)v->count++;
}

/* ---------------- sentences ---------------- */

typedef struct { int32_t g; int32_t c; } gcount;   /* n-gram id, count */

typedef struct {
    gcount *gc;        /* n-grams of orders 1..4, sorted by id */
    size_t ngc;
    int len;           /* whitespace tokens */
    int bigrams;       /* CIDEr "length": count of bigrams */
    int32_t *rtok;     /* split(" ") tokens (ROUGE) */
    int nrtok;
} sent;

struct mg_report {
    size_t n, nrefs_total;
    sent *hyp, *ref;            /* ref: all references */
    const size_t *refstart_c, *nref_c;
    size_t *refstart, *nref;
    int *order;                 /* order (1..4) of each n-gram id */
    size_t ngrams;
    /* per segment, weight independent */
    double (*bleu_stats)[10];   /* testlen, reflen, guess[4], correct[4] */
    double *rouge;
    int32_t **ref_union;        /* distinct n-gram ids over a segment's references */
    size_t *nunion;
};

static int cmp_gc(const void *a, const void *b)
{
    const gcount *x = a, *y = b;
    return (x->g > y->g) - (x->g < y->g);
}

static int build_sent(sent *s, const char *text, vocab *v, ngram_map *m, int **order, size_t *ocap)
{
    memset(s, 0, sizeof *s);
    size_t L = strlen(text);
    int32_t *tok = malloc((L / 2 + 2) * sizeof *tok);
    s->rtok = malloc((L + 2) * sizeof *s->rtok);
    if (!tok || !s->rtok) { free(tok); return -1; }
    /* whitespace tokens */
    int nt = 0;
    for (const char *p = text; *p;) {
        while (*p && is_ws((unsigned char)*p)) p++;
        if (!*p) break;
        const char *b = p;
        while (*p && !is_ws((unsigned char)*p)) p++;
        int32_t id = vocab_get(v, b, (size_t)(p - b));
        if (id < 0) { free(tok); return -1; }
        tok[nt++] = id;
    }
    /* split(" ") tokens, empty ones included */
    int nr = 0;
    for (const char *p = text;;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int32_t id = vocab_get(v, p, len);
        if (id < 0) { free(tok); return -1; }
        s->rtok[nr++] = id;
        if (!e) break;
        p = e + 1;
    }
    s->nrtok = nr;
    s->len = nt;
    size_t cap = 4 * (size_t)nt + 1;
    s->gc = malloc(cap * sizeof *s->gc);
    if (!s->gc) { free(tok); return -1; }
    size_t k = 0;
    for (int o = 1; o <= 4; o++)
        for (int i = 0; i + o <= nt; i++) {
            ngram g = { (uint32_t)o, { 0, 0, 0, 0 } };
            for (int j = 0; j < o; j++) g.id[j] = (uint32_t)tok[i + j];
            int32_t id = nmap_get(m, &g);
            if (id < 0) { free(tok); return -1; }
            if ((size_t)id >= *ocap) {
                size_t nc = *ocap ? *ocap * 2 : 4096;
                while (nc <= (size_t)id) nc *= 2;
                int *no = realloc(*order, nc * sizeof *no);
                if (!no) { free(tok); return -1; }
                *order = no; *ocap = nc;
            }
            (*order)[id] = o;
            s->gc[k].g = id; s->gc[k].c = 1; k++;
            if (o == 2) s->bigrams++;
        }
    free(tok);
    qsort(s->gc, k, sizeof *s->gc, cmp_gc);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u > 0 && s->gc[u - 1].g == s->gc[i].g) s->gc[u - 1].c++;
        else s->gc[u++] = s->gc[i];
    }
    s->ngc = u;
    return 0;
}

static void free_sent(sent *s) { free(s->gc); free(s->rtok); }

static int lcs(const int32_t *a, int na, const int32_t *b, int nb)
{
    int *row = calloc((size_t)nb + 1, sizeof *row);
    if (!row) return -1;
    for (int i = 1; i <= na; i++) {
        int diag = 0;
        for (int j = 1; j <= nb; j++) {
            int up = row[j];
            row[j] = a[i - 1] == b[j - 1] ? diag + 1 : (row[j] > row[j - 1] ? row[j] : row[j - 1]);
            diag = up;
        }
    }
    int r = row[nb];
    free(row);
    return r;
}

static const gcount *find_gc(const sent *s, int32_t g)
{
    size_t lo = 0, hi = s->ngc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->gc[mid].g < g) lo = mid + 1; else hi = mid;
    }
    return lo < s->ngc && s->gc[lo].g == g ? &s->gc[lo] : NULL;
}

const char *const mg_report_names[MG_REPORT_NMETRICS] = {
    "bleu1", "bleu2", "bleu3", "bleu4", "rouge_l", "cider_d"
};

void mg_report_free(mg_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) { if (r->hyp) free_sent(&r->hyp[i]); if (r->ref_union) free(r->ref_union[i]); }
    for (size_t i = 0; i < r->nrefs_total; i++) if (r->ref) free_sent(&r->ref[i]);
    free(r->hyp); free(r->ref); free(r->refstart); free(r->nref); free(r->order);
    free(r->bleu_stats); free(r->rouge); free(r->ref_union); free(r->nunion);
    free(r);
}

mg_report *mg_report_init(size_t n, const char *const *hyp, const char *const *refs,
                          const size_t *refstart, const size_t *nref)
{
    mg_report *r = calloc(1, sizeof *r);
    vocab v = { 0 };
    ngram_map m = { 0 };
    size_t ocap = 0;
    if (!r) return NULL;
    r->n = n;
    size_t tot = 0;
    for (size_t i = 0; i < n; i++) tot = refstart[i] + nref[i] > tot ? refstart[i] + nref[i] : tot;
    r->nrefs_total = tot;
    r->hyp = calloc(n, sizeof *r->hyp);
    r->ref = calloc(tot ? tot : 1, sizeof *r->ref);
    r->refstart = malloc(n * sizeof *r->refstart);
    r->nref = malloc(n * sizeof *r->nref);
    r->bleu_stats = calloc(n, sizeof *r->bleu_stats);
    r->rouge = calloc(n, sizeof *r->rouge);
    r->ref_union = calloc(n, sizeof *r->ref_union);
    r->nunion = calloc(n, sizeof *r->nunion);
    if (!r->hyp || !r->ref || !r->refstart || !r->nref || !r->bleu_stats || !r->rouge ||
        !r->ref_union || !r->nunion) goto fail;
    memcpy(r->refstart, refstart, n * sizeof *refstart);
    memcpy(r->nref, nref, n * sizeof *nref);
    for (size_t i = 0; i < n; i++)
        if (build_sent(&r->hyp[i], hyp[i], &v, &m, &r->order, &ocap) < 0) goto fail;
    for (size_t i = 0; i < tot; i++)
        if (build_sent(&r->ref[i], refs[i], &v, &m, &r->order, &ocap) < 0) goto fail;
    r->ngrams = m.count;
    for (size_t i = 0; i < n; i++) {
        const sent *h = &r->hyp[i];
        const sent *rs = &r->ref[refstart[i]];
        double *st = r->bleu_stats[i];
        /* closest reference length, ties to the shorter */
        int best = -1, bd = 0;
        for (size_t j = 0; j < nref[i]; j++) {
            int d = abs(rs[j].len - h->len);
            if (best < 0 || d < bd || (d == bd && rs[j].len < best)) { best = rs[j].len; bd = d; }
        }
        st[0] = h->len; st[1] = best < 0 ? 0 : best;
        for (int k = 1; k <= 4; k++) st[1 + k] = h->len - k + 1 > 0 ? h->len - k + 1 : 0;
        for (size_t q = 0; q < h->ngc; q++) {
            int mx = 0;
            for (size_t j = 0; j < nref[i]; j++) {
                const gcount *g = find_gc(&rs[j], h->gc[q].g);
                if (g && g->c > mx) mx = g->c;
            }
            st[5 + r->order[h->gc[q].g]] += h->gc[q].c < mx ? h->gc[q].c : mx;
        }
        /* ROUGE-L */
        double pm = 0, rm = 0;
        for (size_t j = 0; j < nref[i]; j++) {
            int l = lcs(rs[j].rtok, rs[j].nrtok, h->rtok, h->nrtok);
            if (l < 0) goto fail;
            double p = (double)l / h->nrtok, rc = (double)l / rs[j].nrtok;
            if (p > pm) pm = p;
            if (rc > rm) rm = rc;
        }
        const double b2 = 1.2 * 1.2;
        r->rouge[i] = (pm != 0 && rm != 0) ? ((1 + b2) * pm * rm) / (rm + b2 * pm) : 0.0;
        /* distinct reference n-grams (document frequency) */
        size_t cnt = 0;
        for (size_t j = 0; j < nref[i]; j++) cnt += rs[j].ngc;
        int32_t *u = malloc((cnt ? cnt : 1) * sizeof *u);
        if (!u) goto fail;
        size_t k = 0;
        for (size_t j = 0; j < nref[i]; j++)
            for (size_t q = 0; q < rs[j].ngc; q++) u[k++] = rs[j].gc[q].g;
        /* sort + unique */
        gcount *tmp = malloc((k ? k : 1) * sizeof *tmp);
        if (!tmp) { free(u); goto fail; }
        for (size_t q = 0; q < k; q++) { tmp[q].g = u[q]; tmp[q].c = 0; }
        qsort(tmp, k, sizeof *tmp, cmp_gc);
        size_t nu = 0;
        for (size_t q = 0; q < k; q++) if (nu == 0 || u[nu - 1] != tmp[q].g) u[nu++] = tmp[q].g;
        free(tmp);
        r->ref_union[i] = u; r->nunion[i] = nu;
    }
    for (size_t i = 0; i < v.count; i++) free(v.words[i]);
    free(v.words); free(v.slot); free(m.slot); free(m.keys);
    return r;
fail:
    for (size_t i = 0; i < v.count; i++) free(v.words[i]);
    free(v.words); free(v.slot); free(m.slot); free(m.keys);
    mg_report_free(r);
    return NULL;
}

/* CIDEr-D tf-idf vector of one sentence: val[q] for each of its n-grams,
 * norms per order. */
static void cider_vec(const mg_report *r, const sent *s, const double *df, double ref_len,
                      double *val, double norm[4])
{
    for (int o = 0; o < 4; o++) norm[o] = 0;
    for (size_t q = 0; q < s->ngc; q++) {
        double d = df[s->gc[q].g];
        val[q] = (double)s->gc[q].c * (ref_len - log(d > 1.0 ? d : 1.0));
        norm[r->order[s->gc[q].g] - 1] += val[q] * val[q];
    }
    for (int o = 0; o < 4; o++) norm[o] = sqrt(norm[o]);
}

static int cider_scores(const mg_report *r, const double *w, double *seg)
{
    size_t n = r->n;
    double *df = calloc(r->ngrams ? r->ngrams : 1, sizeof *df);
    size_t maxg = 1;
    for (size_t i = 0; i < n; i++) if (r->hyp[i].ngc > maxg) maxg = r->hyp[i].ngc;
    for (size_t i = 0; i < r->nrefs_total; i++) if (r->ref[i].ngc > maxg) maxg = r->ref[i].ngc;
    double *vh = malloc(maxg * sizeof *vh), *vr = malloc(maxg * sizeof *vr);
    if (!df || !vh || !vr) { free(df); free(vh); free(vr); return -1; }
    double N = 0;
    for (size_t i = 0; i < n; i++) {
        if (W(i) == 0) continue;
        N += W(i);
        for (size_t q = 0; q < r->nunion[i]; q++) df[r->ref_union[i][q]] += W(i);
    }
    double ref_len = log(N);
    const double sigma = 6.0;
    for (size_t i = 0; i < n; i++) {
        seg[i] = NAN;
        if (W(i) == 0) continue;
        const sent *h = &r->hyp[i];
        double nh[4], nr[4], score[4] = { 0, 0, 0, 0 };
        cider_vec(r, h, df, ref_len, vh, nh);
        for (size_t j = 0; j < r->nref[i]; j++) {
            const sent *rs = &r->ref[r->refstart[i] + j];
            cider_vec(r, rs, df, ref_len, vr, nr);
            double val[4] = { 0, 0, 0, 0 };
            /* hyp n-grams against the reference's (both sorted by id) */
            size_t a = 0, b = 0;
            while (a < h->ngc && b < rs->ngc) {
                if (h->gc[a].g < rs->gc[b].g) a++;
                else if (h->gc[a].g > rs->gc[b].g) b++;
                else {
                    double x = vh[a], y = vr[b];
                    val[r->order[h->gc[a].g] - 1] += (x < y ? x : y) * y;
                    a++; b++;
                }
            }
            double delta = (double)(h->bigrams - rs->bigrams);
            for (int o = 0; o < 4; o++) {
                if (nh[o] != 0 && nr[o] != 0) val[o] /= nh[o] * nr[o];
                val[o] *= exp(-(delta * delta) / (2 * sigma * sigma));
                score[o] += val[o];
            }
        }
        double avg = (score[0] + score[1] + score[2] + score[3]) / 4;
        avg /= (double)r->nref[i];
        seg[i] = avg * 10.0;
    }
    free(df); free(vh); free(vr);
    return 0;
}

int mg_report_compute(const mg_report *r, const double *w, double *out)
{
    size_t n = r->n;
    double tot[10] = { 0 };
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 10; k++) tot[k] += W(i) * r->bleu_stats[i][k];
    const double tiny = 1e-15, small = 1e-9;
    double bleu = 1.0, ratio = (tot[0] + tiny) / (tot[1] + small);
    for (int k = 0; k < 4; k++) {
        bleu *= (tot[6 + k] + tiny) / (tot[2 + k] + small);
        out[k] = pow(bleu, 1.0 / (k + 1));
        if (ratio < 1) out[k] *= exp(1 - 1 / ratio);
    }
    double rs = 0, sw = 0;
    for (size_t i = 0; i < n; i++) { rs += W(i) * r->rouge[i]; sw += W(i); }
    out[4] = rs / sw;
    double *seg = malloc(n * sizeof *seg);
    if (!seg || cider_scores(r, w, seg) < 0) { free(seg); return -1; }
    double cs = 0;
    for (size_t i = 0; i < n; i++) if (W(i) > 0) cs += W(i) * seg[i];
    out[5] = cs / sw;
    free(seg);
    return 0;
}

double mg_report_sacrebleu(const mg_report *r, const double *w)
{
    double tot[10] = { 0 };
    for (size_t i = 0; i < r->n; i++)
        for (int k = 0; k < 10; k++) tot[k] += W(i) * r->bleu_stats[i][k];
    double C = tot[0], R = tot[1], bp = 1.0;
    if (C < R) bp = C > 0 ? exp(1 - R / C) : 0.0;
    if (tot[6] == 0) return 0.0;
    double smooth = 1.0, logsum = 0;
    for (int k = 0; k < 4; k++) {
        double total = tot[2 + k], correct = tot[6 + k], p;
        if (total == 0) return 0.0;  /* log(0): the score is 0 */
        if (correct == 0) { smooth *= 2; p = 100.0 / (smooth * total); }
        else p = 100.0 * correct / total;
        logsum += log(p);
    }
    return bp * exp(logsum / 4);
}

int mg_report_segments(const mg_report *r, double *rouge, double *cider)
{
    memcpy(rouge, r->rouge, r->n * sizeof *rouge);
    return cider_scores(r, NULL, cider);
}

/* ---------------- label and set F1 ---------------- */

void mg_labels_f1(const uint8_t *h, const uint8_t *g, size_t n, int L, const uint8_t *use,
                  const double *w, double out[3])
{
    double *tp = calloc((size_t)L * 3, sizeof *tp);
    if (!tp) { out[0] = out[1] = out[2] = NAN; return; }
    double *fp = tp + L, *fn = fp + L;
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            int a = h[i * (size_t)L + (size_t)l], b = g[i * (size_t)L + (size_t)l];
            if (a && b) tp[l] += W(i);
            else if (a) fp[l] += W(i);
            else if (b) fn[l] += W(i);
        }
    out[0] = mg_prf_average(tp, fp, fn, use, L, MG_AVG_MICRO, MG_ZD_ZERO, NULL).f1;
    out[1] = mg_prf_average(tp, fp, fn, use, L, MG_AVG_MACRO, MG_ZD_ZERO, NULL).f1;
    out[2] = mg_prf_average(tp, fp, fn, use, L, MG_AVG_WEIGHTED, MG_ZD_ZERO, NULL).f1;
    free(tp);
}

double mg_set_f1(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na == 0 && nb == 0) return 1.0;
    size_t i = 0, j = 0, common = 0;
    while (i < na && j < nb) {
        int c = strcmp(a[i], b[j]);
        if (c == 0) { common++; i++; j++; }
        else if (c < 0) i++;
        else j++;
    }
    return 2.0 * (double)common / (double)(na + nb);
}

/* ---------------- CheXpert labels and RadGraph-style annotations ---------------- */

int mg_chexpert_label(const char *v, int chexbert_codes, int uncertain_positive, uint8_t *out)
{
    double x;
    if (!v[0]) { *out = 0; return 0; }
    if (mg_parse_number(v, &x) < 0) return -1;
    int pos, unc;
    if (chexbert_codes) {
        if (x != 0 && x != 1 && x != 2 && x != 3) return -1;
        pos = x == 1; unc = x == 3;
    } else {
        if (x != 0 && x != 1 && x != -1) return -1;
        pos = x == 1; unc = x == -1;
    }
    *out = (uint8_t)(pos || (unc && uncertain_positive));
    return 0;
}

static int cmp_cstr2(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void mg_radgraph_free(mg_radgraph_sets *s)
{
    for (size_t i = 0; i < s->ne; i++) free(s->ent[i]);
    for (size_t i = 0; i < s->ner; i++) free(s->entr[i]);
    for (size_t i = 0; i < s->nr; i++) free(s->rel[i]);
    free(s->ent); free(s->entr); free(s->rel);
    memset(s, 0, sizeof *s);
}

static size_t uniq(char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_cstr2);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && !strcmp(v[u - 1], v[i])) { free(v[i]); continue; }
        v[u++] = v[i];
    }
    return u;
}

static char *lower_dup(const char *s)
{
    char *t = strdup(s);
    if (t) for (char *p = t; *p; p++) *p = (char)tolower((unsigned char)*p);
    return t;
}

int mg_radgraph_build(const mg_tsv *t, const mg_idgroup *g, size_t cnt, const int col[7],
                      mg_radgraph_sets *s, const char **bad)
{
    memset(s, 0, sizeof *s);
    s->ent = calloc(cnt + 1, sizeof *s->ent);
    s->entr = calloc(cnt + 1, sizeof *s->entr);
    s->rel = calloc(cnt + 1, sizeof *s->rel);
    if (!s->ent || !s->entr || !s->rel) return -1;
    /* relations first: the entities taking part in one */
    char **inrel = calloc(2 * cnt + 1, sizeof *inrel);
    size_t nin = 0;
    if (!inrel) return -1;
    for (size_t q = 0; q < cnt; q++) {
        size_t r = g[q].row;
        const char *kind = mg_tsv_cell(t, r, col[1]);
        char *tok = lower_dup(mg_tsv_cell(t, r, col[2])), *tok2 = lower_dup(mg_tsv_cell(t, r, col[5]));
        const char *lab = mg_tsv_cell(t, r, col[3]), *lab2 = mg_tsv_cell(t, r, col[6]);
        const char *rel = mg_tsv_cell(t, r, col[4]);
        char *key = NULL;
        if (!tok || !tok2) { free(tok); free(tok2); goto fail; }
        if (!strcmp(kind, "entity")) {
            if (asprintf(&key, "%s\t%s", tok, lab) < 0) key = NULL;
            if (!key) { free(tok); free(tok2); goto fail; }
            s->ent[s->ne++] = key;
        } else if (!strcmp(kind, "relation")) {
            char *k1 = NULL, *k2 = NULL;
            if (asprintf(&key, "%s\t%s\t%s\t%s\t%s", tok, lab, rel, tok2, lab2) < 0) key = NULL;
            if (asprintf(&k1, "%s\t%s", tok, lab) < 0) k1 = NULL;
            if (asprintf(&k2, "%s\t%s", tok2, lab2) < 0) k2 = NULL;
            if (!key || !k1 || !k2) { free(key); free(k1); free(k2); free(tok); free(tok2); goto fail; }
            s->rel[s->nr++] = key;
            inrel[nin++] = k1; inrel[nin++] = k2;
        } else {
            *bad = kind;
            free(tok); free(tok2);
            goto fail;
        }
        free(tok); free(tok2);
    }
    s->ne = uniq(s->ent, s->ne);
    s->nr = uniq(s->rel, s->nr);
    nin = uniq(inrel, nin);
    for (size_t i = 0; i < s->ne; i++) {
        int has = bsearch(&s->ent[i], inrel, nin, sizeof *inrel, cmp_cstr2) != NULL;
        if (asprintf(&s->entr[s->ner], "%s\t%d", s->ent[i], has) < 0) goto fail;
        s->ner++;
    }
    for (size_t i = 0; i < nin; i++) free(inrel[i]);
    free(inrel);
    return 0;
fail:
    for (size_t i = 0; i < nin; i++) free(inrel[i]);
    free(inrel);
    return -1;
}

void mg_radgraph_f1(const mg_radgraph_sets *h, const mg_radgraph_sets *r, double out[3])
{
    out[0] = mg_set_f1((const char *const *)h->ent, h->ne, (const char *const *)r->ent, r->ne);
    out[1] = mg_set_f1((const char *const *)h->entr, h->ner, (const char *const *)r->entr, r->ner);
    out[2] = mg_set_f1((const char *const *)h->rel, h->nr, (const char *const *)r->rel, r->nr);
}

/* ---------------- VQA ---------------- */

static char *collapse(char *s)
{
    char *o = s;
    int space = 1;
    for (char *p = s; *p; p++) {
        if (is_ws((unsigned char)*p)) { if (!space) { *o++ = ' '; space = 1; } }
        else { *o++ = *p; space = 0; }
    }
    if (o > s && o[-1] == ' ') o--;
    *o = 0;
    return s;
}

/* drop whole-word tokens of a list, and map others; in place on a collapsed
 * string */
static char *map_words(char *s, int numbers)
{
    static const char *const nums[] = { "zero", "one", "two", "three", "four", "five", "six",
        "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
        "sixteen", "seventeen", "eighteen", "nineteen", "twenty" };
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    char *save = NULL;
    for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (!strcmp(t, "a") || !strcmp(t, "an") || !strcmp(t, "the")) continue;
        char buf[8];
        const char *w = t;
        if (numbers)
            for (int k = 0; k <= 20; k++)
                if (!strcmp(t, nums[k])) { snprintf(buf, sizeof buf, "%d", k); w = buf; break; }
        if (o > out) *o++ = ' ';
        size_t l = strlen(w);
        memcpy(o, w, l); o += l;
    }
    *o = 0;
    return out;
}

char *mg_vqa_normalize(const char *s)
{
    size_t n = strlen(s);
    char *t = malloc(n + 1), *o = t;
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        /* keep '.' and ',' between digits (3.5, 1,000 -> 1000) */
        if ((c == '.' || c == ',') && i > 0 && i + 1 < n && isdigit((unsigned char)s[i - 1]) &&
            isdigit((unsigned char)s[i + 1])) { if (c == '.') *o++ = '.'; continue; }
        if (c < 0x80 && ispunct(c)) { *o++ = ' '; continue; }
        *o++ = (char)tolower(c);
    }
    *o = 0;
    collapse(t);
    char *r = map_words(t, 1);
    free(t);
    return r;
}

char *mg_squad_normalize(const char *s)
{
    size_t n = strlen(s);
    char *t = malloc(n + 1), *o = t;
    if (!t) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 && ispunct(c)) continue;  /* string.punctuation removed */
        *o++ = (char)tolower(c);
    }
    *o = 0;
    collapse(t);
    char *r = map_words(t, 0);
    free(t);
    return r;
}

static int split_words(const char *s, char ***out)
{
    int n = 0;
    char *copy = strdup(s);
    if (!copy) return -1;
    for (const char *p = s; *p; p++) n += *p == ' ';
    char **v = malloc(((size_t)n + 2) * sizeof *v);
    if (!v) { free(copy); return -1; }
    int k = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) v[k++] = t;
    v[k] = copy; /* freed by the caller through v[k] */
    *out = v;
    return k;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* size of the multiset intersection of two token lists (sorted in place) */
static int common_tokens(char **a, int na, char **b, int nb)
{
    qsort(a, (size_t)na, sizeof *a, cmp_str);
    qsort(b, (size_t)nb, sizeof *b, cmp_str);
    int i = 0, j = 0, c = 0;
    while (i < na && j < nb) {
        int d = strcmp(a[i], b[j]);
        if (d == 0) { c++; i++; j++; } else if (d < 0) i++; else j++;
    }
    return c;
}

/* Word tokens in common between pred and gold (a multiset intersection, as
 * SQuAD's Counter &), with both token counts; -1 on allocation failure. */
static int token_overlap(const char *pred, const char *gold, int *na, int *nb)
{
    char **a, **b;
    if ((*na = split_words(pred, &a)) < 0) return -1;
    if ((*nb = split_words(gold, &b)) < 0) { free(a[*na]); free(a); return -1; }
    int c = common_tokens(a, *na, b, *nb);
    free(a[*na]); free(a); free(b[*nb]); free(b);
    return c;
}

double mg_token_f1(const char *pred, const char *gold)
{
    int na, nb, c = token_overlap(pred, gold, &na, &nb);
    if (c < 0) return NAN;
    if (c == 0) return 0;
    double p = (double)c / na, r = (double)c / nb;
    return 2 * p * r / (p + r);
}

double mg_token_recall(const char *pred, const char *gold)
{
    int na, nb, c = token_overlap(pred, gold, &na, &nb);
    if (c < 0) return NAN;
    return nb > 0 ? (double)c / nb : 0.0;
}

static int is_yesno(const char *s) { return !strcmp(s, "yes") || !strcmp(s, "no"); }

int mg_vqa_score(const char *pred, const char *const *gold, size_t ngold, int closed,
                 int llava_med, double out[4], int *is_closed)
{
    char *pv = mg_vqa_normalize(pred), *ps = mg_squad_normalize(pred);
    if (!pv || !ps) { free(pv); free(ps); return -1; }
    double hit = NAN, rec = 0, f1 = 0, em = 0;
    for (size_t j = 0; j < ngold; j++) {
        char *gv = mg_vqa_normalize(gold[j]), *gs = mg_squad_normalize(gold[j]);
        if (!gv || !gs) { free(gv); free(gs); free(pv); free(ps); return -1; }
        if (closed < 0) closed = is_yesno(gv);
        double h;
        if (llava_med) {
            /* LLaVA-Med: a "yes"/"no" substring in the answer decides; a miss
             * among those is not counted at all */
            if (strstr(pv, "yes") || strstr(pv, "no")) h = strstr(pv, gv) ? 1.0 : NAN;
            else h = 0.0;
        } else {
            size_t fl = strcspn(pv, " ");
            h = !strcmp(pv, gv) || (is_yesno(gv) && fl == strlen(gv) && !strncmp(pv, gv, fl)) ? 1.0 : 0.0;
        }
        if (j == 0 || (!isnan(h) && (isnan(hit) || h > hit))) hit = h;
        double r = mg_token_recall(pv, gv), f = mg_token_f1(ps, gs), e = !strcmp(ps, gs);
        if (r > rec) rec = r;
        if (f > f1) f1 = f;
        if (e > em) em = e;
        free(gv); free(gs);
    }
    free(pv); free(ps);
    out[0] = hit; out[1] = rec; out[2] = f1; out[3] = em;
    *is_closed = closed > 0;
    return 0;
}

/* mg_prs_image.c: PRS image layout, standardisation and rendering; see mg_prs_image.h. */
#include "mg_prs_image.h"
#include "mg_err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int score_col(const mg_scoreset *ss, const char *name)
{
    for (int j = 0; j < mg_scoreset_nscores(ss); j++)
        if (!strcmp(mg_scoreset_name(ss, j), name)) return j;
    return -1;
}

static int trait_index(mg_prs_layout *L, const char *name)
{
    for (int t = 0; t < L->n_traits; t++) if (!strcmp(L->trait[t], name)) return t;
    char **tr = realloc(L->trait, sizeof *tr * (size_t)(L->n_traits + 1));
    if (!tr) return -1;
    L->trait = tr;
    if (!(L->trait[L->n_traits] = strdup(name))) return -1;
    return L->n_traits++;
}

int mg_prs_layout_build(mg_prs_layout *L, const mg_scoreset *ss, const char *layout_path,
                        int block, int per_chrom, char *err, size_t errlen)
{
    int K = mg_scoreset_nscores(ss), ret = -1;
    int *tr_of = malloc(sizeof *tr_of * (size_t)K);
    FILE *fp = NULL;
    char *line = NULL;
    size_t cap = 0;
    memset(L, 0, sizeof *L);
    L->block = block;
    L->per_chrom = per_chrom;
    if (!tr_of) goto oom;
    for (int j = 0; j < K; j++) tr_of[j] = -1;
    if (layout_path) {
        fp = fopen(layout_path, "r");
        if (!fp) { mg_seterr_at(err, errlen, layout_path, 0, "%s", strerror(errno)); goto out; }
        long long ln = 0;
        while (getline(&line, &cap, fp) >= 0) {
            ln++;
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0] || line[0] == '#') continue;
            char *tab = strchr(line, '\t');
            if (!tab || !tab[1]) { mg_seterr_at(err, errlen, layout_path, ln, "%s", "expected 'score<TAB>trait'"); goto out; }
            *tab = 0;
            int j = score_col(ss, line);
            if (j < 0) {
                char msg[400];
                snprintf(msg, sizeof msg, "unknown score '%.300s'", line);
                mg_seterr_at(err, errlen, layout_path, ln, "%s", msg);
                goto out;
            }
            if ((tr_of[j] = trait_index(L, tab + 1)) < 0) goto oom;
        }
        if (ferror(fp)) { mg_seterr_at(err, errlen, layout_path, 0, "%s", "read error"); goto out; }
    }
    for (int j = 0; j < K; j++) {
        if (tr_of[j] >= 0) continue;
        const mg_score_file *f = mg_scoreset_file_of(ss, j);
        const char *name = f->trait_reported ? f->trait_reported
                         : f->trait_mapped ? f->trait_mapped : mg_scoreset_name(ss, j);
        if ((tr_of[j] = trait_index(L, name)) < 0) goto oom;
    }
    for (int t = 0; t < L->n_traits; t++) {
        int c = 0;
        for (int j = 0; j < K; j++) c += tr_of[j] == t;
        if (c > L->channels) L->channels = c;
    }
    L->chan = malloc(sizeof *L->chan * (size_t)L->n_traits * L->channels);
    if (!L->chan) goto oom;
    for (int t = 0; t < L->n_traits; t++) {
        int c = 0;
        for (int j = 0; j < K; j++) if (tr_of[j] == t) L->chan[t * L->channels + c++] = j;
        for (; c < L->channels; c++) L->chan[t * L->channels + c] = -1;
    }
    if (per_chrom) {
        L->rows = L->n_traits;
        L->cols = 22;
    } else {
        L->cols = (int)ceil(sqrt((double)L->n_traits));
        while (L->cols * L->cols < L->n_traits) L->cols++;
        L->rows = (L->n_traits + L->cols - 1) / L->cols;
    }
    ret = 0;
    goto out;
oom:
    mg_seterr(err, errlen, "out of memory");
out:
    if (fp) fclose(fp);
    free(line);
    free(tr_of);
    if (ret < 0) mg_prs_layout_free(L);
    return ret;
}

void mg_prs_layout_free(mg_prs_layout *L)
{
    for (int t = 0; t < L->n_traits; t++) free(L->trait[t]);
    free(L->trait);
    free(L->chan);
    memset(L, 0, sizeof *L);
}

void mg_prs_layout_shape(const mg_prs_layout *L, int64_t shape[3])
{
    shape[0] = L->channels;
    shape[1] = (int64_t)L->rows * L->block;
    shape[2] = (int64_t)L->cols * L->block;
}

char *mg_prs_layout_json(const mg_prs_layout *L, const mg_scoreset *ss, const char *stats_source)
{
    json_t *o = json_object(), *traits = json_array();
    if (!o || !traits) { json_decref(o); json_decref(traits); return NULL; }
    json_object_set_new(o, "block", json_integer(L->block));
    json_object_set_new(o, "rows", json_integer(L->rows));
    json_object_set_new(o, "cols", json_integer(L->cols));
    json_object_set_new(o, "channels", json_integer(L->channels));
    json_object_set_new(o, "arrangement", json_string(L->per_chrom ? "trait_by_chromosome" : "traits_row_major"));
    json_object_set_new(o, "value", json_string("z = (SUM - mean) / sd"));
    json_object_set_new(o, "stats", json_string(stats_source));
    for (int t = 0; t < L->n_traits; t++) {
        json_t *tr = json_object(), *sc = json_array();
        json_object_set_new(tr, "trait", json_string(L->trait[t]));
        json_object_set_new(tr, "row", json_integer(L->per_chrom ? t : t / L->cols));
        json_object_set_new(tr, "col", json_integer(L->per_chrom ? 0 : t % L->cols));
        for (int c = 0; c < L->channels; c++) {
            int j = L->chan[t * L->channels + c];
            json_array_append_new(sc, j >= 0 ? json_string(mg_scoreset_name(ss, j)) : json_null());
        }
        json_object_set_new(tr, "scores", sc);
        json_array_append_new(traits, tr);
    }
    json_object_set_new(o, "traits", traits);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

void mg_prs_stats_free(mg_prs_stats *st)
{
    free(st->mean);
    free(st->sd);
    memset(st, 0, sizeof *st);
}

static int stats_alloc(mg_prs_stats *st, int n)
{
    st->n = n;
    st->mean = calloc((size_t)n, sizeof *st->mean);
    st->sd = calloc((size_t)n, sizeof *st->sd);
    return st->mean && st->sd ? 0 : -1;
}

static double value(const mg_prs *p, int s, int j, int c)
{
    return c ? mg_prs_sum_chrom(p, s, j, c) : mg_prs_sum(p, s, j);
}

int mg_prs_stats_cohort(mg_prs_stats *st, const mg_prs *p, const mg_scoreset *ss, int per_chrom)
{
    int K = mg_scoreset_nscores(ss), n = mg_prs_nsamples(p);
    if (stats_alloc(st, per_chrom ? K * 23 : K) < 0) return -1;
    for (int i = 0; i < st->n; i++) {
        int j = i % K, c = i / K;    /* c = 0: whole genome; 1..22: autosome */
        double m = 0, v = 0;
        for (int s = 0; s < n; s++) m += value(p, s, j, c);
        m /= n;
        for (int s = 0; s < n; s++) { double d = value(p, s, j, c) - m; v += d * d; }
        st->mean[i] = m;
        st->sd[i] = sqrt(v / n);     /* ddof 0, as pgsc_calc */
    }
    return 0;
}

static void stat_name(const mg_scoreset *ss, int i, char *buf, size_t cap)
{
    int K = mg_scoreset_nscores(ss), j = i % K, c = i / K;
    if (c) snprintf(buf, cap, "%s:chr%d", mg_scoreset_name(ss, j), c);
    else snprintf(buf, cap, "%s", mg_scoreset_name(ss, j));
}

int mg_prs_stats_write(const mg_prs_stats *st, const mg_scoreset *ss, FILE *fp)
{
    char name[600];
    if (fputs("#score\tmean\tsd\n", fp) < 0) return -1;
    for (int i = 0; i < st->n; i++) {
        stat_name(ss, i, name, sizeof name);
        if (fprintf(fp, "%s\t%.17g\t%.17g\n", name, st->mean[i], st->sd[i]) < 0) return -1;
    }
    return 0;
}

int mg_prs_stats_read(mg_prs_stats *st, const char *path, const mg_scoreset *ss, int per_chrom,
                      char *err, size_t errlen)
{
    int K = mg_scoreset_nscores(ss), ret = -1;
    FILE *fp = fopen(path, "r");
    char *line = NULL, name[600];
    size_t cap = 0;
    unsigned char *got = NULL;
    if (!fp) { mg_seterr_at(err, errlen, path, 0, "%s", strerror(errno)); return -1; }
    if (stats_alloc(st, per_chrom ? K * 23 : K) < 0 || !(got = calloc((size_t)st->n, 1))) {
        mg_seterr_at(err, errlen, path, 0, "%s", "out of memory");
        goto out;
    }
    long long ln = 0;
    while (getline(&line, &cap, fp) >= 0) {
        ln++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char *f1 = strchr(line, '\t'), *f2 = f1 ? strchr(f1 + 1, '\t') : NULL;
        if (!f2) { mg_seterr_at(err, errlen, path, ln, "%s", "expected 'score<TAB>mean<TAB>sd'"); goto out; }
        *f1++ = 0;
        *f2++ = 0;
        char *end1, *end2;
        double m = strtod(f1, &end1), sd = strtod(f2, &end2);
        if (*end1 || *end2 || end1 == f1 || end2 == f2 || !isfinite(m) || !isfinite(sd) || sd < 0) {
            mg_seterr_at(err, errlen, path, ln, "%s", "mean and sd must be numbers (sd >= 0)");
            goto out;
        }
        for (int i = 0; i < st->n; i++) {
            stat_name(ss, i, name, sizeof name);
            if (!strcmp(name, line)) { st->mean[i] = m; st->sd[i] = sd; got[i] = 1; }
        }
    }
    for (int i = 0; i < st->n; i++)
        if (!got[i]) {
            char msg[400];
            stat_name(ss, i, name, sizeof name);
            snprintf(msg, sizeof msg, "no statistics for score '%.300s'", name);
            mg_seterr_at(err, errlen, path, 0, "%s", msg);
            goto out;
        }
    ret = 0;
out:
    free(got);
    free(line);
    fclose(fp);
    if (ret < 0) mg_prs_stats_free(st);
    return ret;
}

void mg_prs_render(const mg_prs_layout *L, const mg_prs *p, int s, const mg_prs_stats *st,
                   float *img)
{
    int B = L->block, H = L->rows * B, W = L->cols * B, C = L->channels;
    int K = st->n / (L->per_chrom ? 23 : 1);
    memset(img, 0, sizeof *img * (size_t)C * H * W);
    for (int t = 0; t < L->n_traits; t++)
        for (int c = 0; c < C; c++) {
            int j = L->chan[t * C + c];
            if (j < 0) continue;
            int nb = L->per_chrom ? 22 : 1;
            for (int b = 0; b < nb; b++) {
                int chrom = L->per_chrom ? b + 1 : 0;
                int i = chrom * K + j;
                double sd = st->sd[i];
                float z = sd > 0 ? (float)((value(p, s, j, chrom) - st->mean[i]) / sd) : 0.0f;
                int r0 = (L->per_chrom ? t : t / L->cols) * B;
                int c0 = (L->per_chrom ? b : t % L->cols) * B;
                float *plane = img + (size_t)c * H * W;
                for (int y = 0; y < B; y++)
                    for (int x = 0; x < B; x++) plane[(size_t)(r0 + y) * W + c0 + x] = z;
            }
        }
}

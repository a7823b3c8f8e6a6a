/* mg-score report: generated reports against references (BLEU, ROUGE-L,
 * CIDEr-D, CheXpert label F1, RadGraph F1). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mg_metrics.h"
#include "mg_metrics_boot.h"
#include "mg_dataset.h"
#include "mg_metrics_tsv.h"
#include "score.h"

static const char usage_report[] =
"Usage: mg-score report [options] HYP.tsv REF.tsv\n"
"Generated reports (HYP) against references (REF; several rows with one id are\n"
"several references), joined by id.\n"
"\n"
"      --id-col NAME        id column [id]\n"
"      --text-col NAME      text column of both tables [text]\n"
"      --tokenize M         none, simple or ptb (see mg-score(1)) [none]\n"
"      --sacrebleu          also sacrebleu's corpus BLEU (13a tokens, exp\n"
"                           smoothing, 0-100) on the raw text\n"
"      --chexpert           HYP and REF are label tables (id + one column per\n"
"                           finding, CheXpert codes 1, 0, -1, blank): F1 over\n"
"                           all label columns and the 5 competition labels\n"
"      --uncertain M        CheXpert uncertain label: positive or negative\n"
"                           [positive]\n"
"      --label-codes C      chexpert (1 pos, 0 neg, -1 uncertain, blank) or\n"
"                           chexbert (1 pos, 2 neg, 3 uncertain, 0 blank)\n"
"                           [chexpert]\n"
"      --radgraph           HYP and REF are annotation tables (columns id, kind,\n"
"                           tokens, label, relation, tokens2, label2): entity\n"
"                           and relation F1 per report, averaged\n"
"      --per-case FILE      per-report ROUGE-L and CIDEr-D (or RadGraph F1s)\n"
"      --bootstrap B  --seed S  --alpha A  --json FILE  -o FILE  -@ N  -q\n"
"      --no-version  -h, --help  --version   as for mg-score classify\n";

/* RadGraph: entity and relation F1 per report (the union of ids of both
 * tables), averaged. */
static int report_radgraph(mg_cli *cli, const text_opts *o, const mg_table *H, const mg_table *R)
{
    static const char *const cn[7] = { "id", "kind", "tokens", "label", "relation", "tokens2", "label2" };
    static const char *const names[3] = { "radgraph_entity_f1", "radgraph_entity_relation_f1", "radgraph_relation_f1" };
    const mg_tsv *h = &H->t, *r = &R->t;
    int hc[7], rc7[7], st = -1;
    for (int k = 0; k < 7; k++) {
        hc[k] = k ? mg_tsv_col(h, cn[k]) : H->id;
        rc7[k] = k ? mg_tsv_col(r, cn[k]) : R->id;
        if (hc[k] < 0) { mg_error(cli, H->path, "no column '%s' (RadGraph annotation table)", cn[k]); return -1; }
        if (rc7[k] < 0) { mg_error(cli, R->path, "no column '%s' (RadGraph annotation table)", cn[k]); return -1; }
    }
    mg_idgroup *gh = mg_tsv_group_ids(h, H->id), *gr = mg_tsv_group_ids(r, R->id);
    const char **rids = malloc((h->nrow + r->nrow) * sizeof *rids);
    mg_radgraph_sets *rh = NULL, *rr = NULL;
    double *per = NULL;
    size_t nrep = 0;
    if (!gh || !gr || !rids) { mg_error(cli, NULL, "out of memory"); goto done; }
    /* reports: the union of ids, in sorted order */
    size_t a = 0, b = 0;
    while (a < h->nrow || b < r->nrow) {
        const char *x = a < h->nrow ? gh[a].id : NULL, *y = b < r->nrow ? gr[b].id : NULL;
        const char *id = !y || (x && strcmp(x, y) <= 0) ? x : y;
        rids[nrep++] = id;
        while (a < h->nrow && !strcmp(gh[a].id, id)) a++;
        while (b < r->nrow && !strcmp(gr[b].id, id)) b++;
    }
    rh = calloc(nrep, sizeof *rh); rr = calloc(nrep, sizeof *rr);
    per = malloc(nrep * 3 * sizeof *per);
    if (!rh || !rr || !per) { mg_error(cli, NULL, "out of memory"); goto done; }
    for (size_t i = 0; i < nrep; i++) {
        size_t ch, cr, sh = mg_idgroup_find(gh, h->nrow, rids[i], &ch), sr = mg_idgroup_find(gr, r->nrow, rids[i], &cr);
        const mg_table *side[2] = { H, R };
        mg_radgraph_sets *sets[2] = { &rh[i], &rr[i] };
        const mg_idgroup *grp[2] = { gh + sh, gr + sr };
        size_t cnt[2] = { ch, cr };
        const int *cols[2] = { hc, rc7 };
        for (int q = 0; q < 2; q++) {
            const char *bad = NULL;
            if (mg_radgraph_build(&side[q]->t, grp[q], cnt[q], cols[q], sets[q], &bad) < 0) {
                if (bad) mg_error(cli, side[q]->path, "id %s: kind '%s' is not entity or relation", rids[i], bad);
                else mg_error(cli, NULL, "out of memory");
                goto done;
            }
        }
        mg_radgraph_f1(&rh[i], &rr[i], per + i * 3);
    }
    double vals[3];
    mean_ctx mc = { .v = per, .n = nrep, .K = 3 };
    mean_stat(&mc, NULL, vals);
    if (o->per_case && write_per_case(cli, o->per_case, names, 3, rids, per, nrep) < 0) goto done;
    if (run_text_output(cli, o, "report", nrep, names, 3, vals, &mc, NULL) < 0) goto done;
    st = 0;
done:
    for (size_t i = 0; rh && i < nrep; i++) mg_radgraph_free(&rh[i]);
    for (size_t i = 0; rr && i < nrep; i++) mg_radgraph_free(&rr[i]);
    free(rh); free(rr); free(per); free(rids); free(gh); free(gr);
    return st;
}

/* Hypotheses with their references: case i is hypothesis row hrow[i] and the
 * nref[i] reference rows grp[refstart[i]] … */
typedef struct {
    mg_idgroup *grp;
    size_t *hrow, *refstart, *nref;
    size_t n, used_refs;
} ref_join;

static void ref_join_free(ref_join *j)
{
    free(j->grp); free(j->hrow); free(j->refstart); free(j->nref);
}

/* Every hypothesis id needs references (text) or one label row (CheXpert). */
static int join_references(mg_cli *cli, const text_opts *o, const mg_table *H, const mg_table *R, ref_join *j)
{
    char err[512];
    const mg_tsv *h = &H->t, *r = &R->t;
    memset(j, 0, sizeof *j);
    j->grp = mg_tsv_group_ids(r, R->id);
    j->hrow = malloc(h->nrow * sizeof *j->hrow);
    j->refstart = malloc(h->nrow * sizeof *j->refstart);
    j->nref = malloc(h->nrow * sizeof *j->nref);
    if (!j->grp || !j->hrow || !j->refstart || !j->nref) { mg_error(cli, NULL, "out of memory"); return -1; }
    int jr = mg_tsv_unique(h, H->id, err, sizeof err);
    if (jr == -2) { mg_error(cli, H->path, "%s", err); return -1; }
    if (jr < 0) { mg_error(cli, NULL, "out of memory"); return -1; }
    size_t missing = 0;
    const char *first_missing = NULL;
    for (size_t row = 0; row < h->nrow; row++) {
        size_t cnt, s0 = mg_idgroup_find(j->grp, r->nrow, mg_table_id(H, row), &cnt);
        if (!cnt) { if (!missing++) first_missing = mg_table_id(H, row); continue; }
        if (o->chexpert && cnt > 1) { mg_error(cli, R->path, "duplicated id '%s'", j->grp[s0].id); return -1; }
        j->hrow[j->n] = row; j->refstart[j->n] = s0; j->nref[j->n] = cnt; j->n++;
        j->used_refs += cnt;
    }
    if (j->n == 0) { mg_error(cli, R->path, "no id in common with %s", H->path); return -1; }
    if (missing) mg_warn(cli, H->path, "%zu id(s) without a reference (first: %s); left out", missing, first_missing);
    if (j->used_refs < r->nrow) mg_warn(cli, R->path, "%zu reference row(s) without a hypothesis; left out", r->nrow - j->used_refs);
    return 0;
}

/* One CheXpert label cell into out; -1 after reporting a bad code. */
static int chexpert_cell(mg_cli *cli, const text_opts *o, const mg_table *t, const char *id,
                         const char *v, const char *col, uint8_t *out)
{
    if (mg_chexpert_label(v, o->chexbert_codes, o->uncertain_pos, out) == 0) return 0;
    mg_error(cli, t->path, "id %s: '%s' in column %s is not a %s label code",
             id, v, col, o->chexbert_codes ? "CheXbert" : "CheXpert");
    return -1;
}

/* CheXpert label tables: F1 over every label column of HYP (all present in
 * REF) and over the 5 competition labels. */
static int report_chexpert(mg_cli *cli, const text_opts *o, const mg_table *H, const mg_table *R, const ref_join *j)
{
    static const char *const five[] = { "Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion" };
    static const char *const names[6] = { "f1_micro", "f1_macro", "f1_weighted", "f1_5_micro", "f1_5_macro", "f1_5_weighted" };
    const mg_tsv *h = &H->t, *r = &R->t;
    size_t n = j->n;
    int L = 0, n5 = 0, st = -1;
    int *hc = malloc((size_t)h->ncol * sizeof *hc), *rc2 = malloc((size_t)h->ncol * sizeof *rc2);
    uint8_t *lh = NULL, *lg = NULL, *use5 = NULL;
    if (!hc || !rc2) { mg_error(cli, NULL, "out of memory"); goto done; }
    for (int c = 0; c < h->ncol; c++) {
        if (c == H->id) continue;
        int q = mg_tsv_col(r, h->colname[c]);
        if (q < 0) { mg_error(cli, R->path, "no label column '%s'", h->colname[c]); goto done; }
        hc[L] = c; rc2[L] = q; L++;
    }
    lh = malloc(n * (size_t)L); lg = malloc(n * (size_t)L); use5 = calloc((size_t)L, 1);
    if (!lh || !lg || !use5) { mg_error(cli, NULL, "out of memory"); goto done; }
    for (int l = 0; l < L; l++)
        for (int f = 0; f < 5; f++) if (!strcmp(h->colname[hc[l]], five[f])) { use5[l] = 1; n5++; }
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            const char *id = mg_table_id(H, j->hrow[i]), *col = h->colname[hc[l]];
            size_t at = i * (size_t)L + (size_t)l;
            if (chexpert_cell(cli, o, H, id, mg_tsv_cell(h, j->hrow[i], hc[l]), col, &lh[at]) < 0 ||
                chexpert_cell(cli, o, R, id, mg_tsv_cell(r, j->grp[j->refstart[i]].row, rc2[l]), col, &lg[at]) < 0)
                goto done;
        }
    mean_ctx mc = { .n = n, .K = 0, .lh = lh, .lg = lg, .L = L, .use5 = n5 == 5 ? use5 : NULL };
    double vals[6];
    mean_stat(&mc, NULL, vals);
    json_t *extra = json_object();
    json_object_set_new(extra, "labels", json_integer(L));
    json_object_set_new(extra, "uncertain", json_string(o->uncertain_pos ? "positive" : "negative"));
    int rr2 = run_text_output(cli, o, "report", n, names, n5 == 5 ? 6 : 3, vals, &mc, extra);
    json_decref(extra);
    st = rr2 < 0 ? -1 : 0;
done:
    free(hc); free(rc2); free(lh); free(lg); free(use5);
    return st;
}

/* Tokens of every hypothesis and its references (mode: --tokenize, or 13a for
 * sacrebleu), references numbered from rs[i]. */
static int tokenize_all(const mg_table *H, const mg_table *R, const ref_join *j, int hcol, int rcol,
                        int mode, char **htok, char **rtok, size_t *rs)
{
    size_t nrt = 0;
    for (size_t i = 0; i < j->n; i++) {
        free(htok[i]);
        if (!(htok[i] = mg_text_tokenize(mg_tsv_cell(&H->t, j->hrow[i], hcol), mode))) return -1;
        rs[i] = nrt;
        for (size_t k = 0; k < j->nref[i]; k++, nrt++) {
            free(rtok[nrt]);
            if (!(rtok[nrt] = mg_text_tokenize(mg_tsv_cell(&R->t, j->grp[j->refstart[i] + k].row, rcol), mode))) return -1;
        }
    }
    return 0;
}

/* The "extra" JSON of a text report; NULL when out of memory. */
static json_t *text_report_extra(const text_opts *o, const ref_join *j, int sacrebleu)
{
    static const char *const tk[] = { "none", "simple", "ptb" };
    json_t *extra = json_object();
    if (!extra) return NULL;
    json_object_set_new(extra, "tokenize", json_string(tk[o->tokenize]));
    json_object_set_new(extra, "references", json_integer((json_int_t)j->used_refs));
    if (sacrebleu) {
        /* sacrebleu's signature fields (version: the formula, not the package) */
        size_t mn = j->nref[0], mx = j->nref[0];
        for (size_t i = 1; i < j->n; i++) { if (j->nref[i] < mn) mn = j->nref[i]; if (j->nref[i] > mx) mx = j->nref[i]; }
        char sig[128];
        if (mn == mx) snprintf(sig, sizeof sig, "nrefs:%zu|case:mixed|eff:no|tok:13a|smooth:exp", mn);
        else snprintf(sig, sizeof sig, "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp");
        json_object_set_new(extra, "sacrebleu_signature", json_string(sig));
    }
    return extra;
}

/* --per-case of a text report: ROUGE-L and CIDEr-D of each hypothesis. */
static int text_per_case(mg_cli *cli, const text_opts *o, const mg_table *H, const ref_join *j, const mg_report *rep)
{
    size_t n = j->n;
    double *pc = malloc(2 * n * sizeof *pc), *cd = malloc(n * sizeof *cd);
    const char **ids = malloc(n * sizeof *ids);
    int rc = -1;
    if (!pc || !cd || !ids || mg_report_segments(rep, pc, cd) < 0) { mg_error(cli, NULL, "out of memory"); goto done; }
    /* interleave: rouge_l, cider_d per report */
    for (size_t i = n; i-- > 0;) { double r0 = pc[i]; pc[2 * i] = r0; }
    for (size_t i = 0; i < n; i++) { pc[2 * i + 1] = cd[i]; ids[i] = mg_table_id(H, j->hrow[i]); }
    static const char *const cols[2] = { "rouge_l", "cider_d" };
    rc = write_per_case(cli, o->per_case, cols, 2, ids, pc, n);
done:
    free(pc); free(cd); free(ids);
    return rc;
}

/* Free text: BLEU-1..4, ROUGE-L, CIDEr-D (and sacrebleu's BLEU on 13a tokens). */
static int report_text(mg_cli *cli, const text_opts *o, const mg_table *H, const mg_table *R, const ref_join *j)
{
    size_t n = j->n, nrt = j->used_refs;
    int htc = mg_tsv_col(&H->t, o->text_col), rtc = mg_tsv_col(&R->t, o->text_col), st = -1;
    if (htc < 0) { mg_error(cli, H->path, "no text column '%s'", o->text_col); return -1; }
    if (rtc < 0) { mg_error(cli, R->path, "no text column '%s'", o->text_col); return -1; }
    char **htok = calloc(n, sizeof *htok), **rtok = calloc(nrt ? nrt : 1, sizeof *rtok);
    size_t *rs = malloc(n * sizeof *rs);
    mg_report *rep = NULL, *rep13 = NULL;
    json_t *extra = NULL;
    if (!htok || !rtok || !rs || tokenize_all(H, R, j, htc, rtc, o->tokenize, htok, rtok, rs) < 0 ||
        !(rep = mg_report_init(n, (const char *const *)htok, (const char *const *)rtok, rs, j->nref))) {
        mg_error(cli, NULL, "out of memory");
        goto done;
    }
    if (o->sacrebleu) {
        /* sacrebleu tokenises the raw text itself */
        if (tokenize_all(H, R, j, htc, rtc, MG_TOK_13A, htok, rtok, rs) < 0 ||
            !(rep13 = mg_report_init(n, (const char *const *)htok, (const char *const *)rtok, rs, j->nref))) {
            mg_error(cli, NULL, "out of memory");
            goto done;
        }
    }
    double vals[MG_REPORT_NMETRICS + 1];
    const char *names[MG_REPORT_NMETRICS + 1];
    mean_ctx mc = { .n = n, .K = 0, .rep = rep, .rep13a = rep13 };
    if (mg_report_compute(rep, NULL, vals) < 0 || !(extra = text_report_extra(o, j, rep13 != NULL))) {
        mg_error(cli, NULL, "out of memory");
        goto done;
    }
    int nm = MG_REPORT_NMETRICS;
    for (int k = 0; k < nm; k++) names[k] = mg_report_names[k];
    if (rep13) { names[nm] = "sacrebleu"; vals[nm++] = mg_report_sacrebleu(rep13, NULL); }
    if (o->per_case && text_per_case(cli, o, H, j, rep) < 0) goto done;
    if (run_text_output(cli, o, "report", n, names, nm, vals, &mc, extra) < 0) goto done;
    st = 0;
done:
    json_decref(extra);
    for (size_t i = 0; htok && i < n; i++) free(htok[i]);
    for (size_t i = 0; rtok && i < nrt; i++) free(rtok[i]);
    free(htok); free(rtok); free(rs);
    mg_report_free(rep); mg_report_free(rep13);
    return st;
}

int mg_score_report(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_report;
    text_opts o = { .id_col = "id", .text_col = "text", .uncertain_pos = 1, .seed = 1, .alpha = 0.05 };
    mg_table H, R;
    ref_join j;
    memset(&j, 0, sizeof j);
    int st = text_begin(&cli, argc, argv, &o, 0, &H, &R);
    if (st < 0) {
        st = 1;
        if (o.radgraph) st = report_radgraph(&cli, &o, &H, &R) == 0 ? 0 : 1;
        else if (join_references(&cli, &o, &H, &R, &j) == 0)
            st = (o.chexpert ? report_chexpert(&cli, &o, &H, &R, &j) : report_text(&cli, &o, &H, &R, &j)) == 0 ? 0 : 1;
        if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    }   /* else --help, --version (stdout already closed) or an error */
    ref_join_free(&j);
    mg_table_free(&H); mg_table_free(&R);
    mg_cli_free(&cli);
    return st;
}

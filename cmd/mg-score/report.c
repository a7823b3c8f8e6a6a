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

int mg_score_report(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_report;
    text_opts o = { .id_col = "id", .text_col = "text", .uncertain_pos = 1, .seed = 1, .alpha = 0.05 };
    int st = parse_text_opts(&cli, argc, argv, &o, 0);
    if (st >= 0) { mg_cli_free(&cli); return st; }
    st = 1;
    const char *hp = argv[optind], *rp = argv[optind + 1];
    char err[512];
    mg_tsv H, R;
    memset(&H, 0, sizeof H); memset(&R, 0, sizeof R);
    mg_idgroup *grp = NULL;
    size_t *hrow = NULL, *refstart = NULL, *nref = NULL, n = 0;
    char **htok = NULL, **rtok = NULL;
    size_t nrt = 0;
    mg_report *rep = NULL, *rep13 = NULL;
    uint8_t *lh = NULL, *lg = NULL, *use5 = NULL;
    double *per = NULL;
    mg_radgraph_sets *rh = NULL, *rr = NULL;
    size_t nrep = 0;
    const char **rids = NULL;
    if (mg_tsv_read(hp, &H, err, sizeof err) < 0) { mg_error(&cli, hp, "%s", err); goto done; }
    if (mg_tsv_read(rp, &R, err, sizeof err) < 0) { mg_error(&cli, rp, "%s", err); goto done; }
    int hid = mg_tsv_col(&H, o.id_col), rid = mg_tsv_col(&R, o.id_col);
    if (hid < 0) { mg_error(&cli, hp, "no id column '%s'", o.id_col); goto done; }
    if (rid < 0) { mg_error(&cli, rp, "no id column '%s'", o.id_col); goto done; }

    if (o.radgraph) {
        static const char *const cn[7] = { "id", "kind", "tokens", "label", "relation", "tokens2", "label2" };
        int hc[7], rc7[7];
        for (int k = 0; k < 7; k++) {
            hc[k] = k ? mg_tsv_col(&H, cn[k]) : hid;
            rc7[k] = k ? mg_tsv_col(&R, cn[k]) : rid;
            if (hc[k] < 0) { mg_error(&cli, hp, "no column '%s' (RadGraph annotation table)", cn[k]); goto done; }
            if (rc7[k] < 0) { mg_error(&cli, rp, "no column '%s' (RadGraph annotation table)", cn[k]); goto done; }
        }
        mg_idgroup *gh = mg_tsv_group_ids(&H, hid), *gr = mg_tsv_group_ids(&R, rid);
        rids = malloc((H.nrow + R.nrow) * sizeof *rids);
        if (!gh || !gr || !rids) { free(gh); free(gr); mg_error(&cli, NULL, "out of memory"); goto done; }
        /* reports: the union of ids, in sorted order */
        size_t a = 0, b = 0;
        while (a < H.nrow || b < R.nrow) {
            const char *x = a < H.nrow ? gh[a].id : NULL, *y = b < R.nrow ? gr[b].id : NULL;
            const char *id = !y || (x && strcmp(x, y) <= 0) ? x : y;
            rids[nrep++] = id;
            while (a < H.nrow && !strcmp(gh[a].id, id)) a++;
            while (b < R.nrow && !strcmp(gr[b].id, id)) b++;
        }
        rh = calloc(nrep, sizeof *rh); rr = calloc(nrep, sizeof *rr);
        per = malloc(nrep * 3 * sizeof *per);
        if (!rh || !rr || !per) { free(gh); free(gr); mg_error(&cli, NULL, "out of memory"); goto done; }
        for (size_t i = 0; i < nrep; i++) {
            size_t ch, cr, sh = mg_idgroup_find(gh, H.nrow, rids[i], &ch), sr = mg_idgroup_find(gr, R.nrow, rids[i], &cr);
            const char *bad = NULL;
            if (mg_radgraph_build(&H, gh + sh, ch, hc, &rh[i], &bad) < 0) {
                if (bad) mg_error(&cli, hp, "id %s: kind '%s' is not entity or relation", rids[i], bad);
                else mg_error(&cli, NULL, "out of memory");
                free(gh); free(gr); goto done;
            }
            if (mg_radgraph_build(&R, gr + sr, cr, rc7, &rr[i], &bad) < 0) {
                if (bad) mg_error(&cli, rp, "id %s: kind '%s' is not entity or relation", rids[i], bad);
                else mg_error(&cli, NULL, "out of memory");
                free(gh); free(gr); goto done;
            }
            mg_radgraph_f1(&rh[i], &rr[i], per + i * 3);
        }
        free(gh); free(gr);
        static const char *const names[3] = { "radgraph_entity_f1", "radgraph_entity_relation_f1", "radgraph_relation_f1" };
        double vals[3];
        mean_ctx mc = { .v = per, .n = nrep, .K = 3 };
        mean_stat(&mc, NULL, vals);
        if (o.per_case && write_per_case(&cli, o.per_case, names, 3, rids, per, nrep) < 0) goto done;
        if (run_text_output(&cli, &o, "report", nrep, names, 3, vals, &mc, NULL) < 0) goto done;
        st = 0;
        goto done;
    }

    /* join: every hypothesis id needs references (text) or a label row */
    grp = mg_tsv_group_ids(&R, rid);
    hrow = malloc(H.nrow * sizeof *hrow);
    refstart = malloc(H.nrow * sizeof *refstart);
    nref = malloc(H.nrow * sizeof *nref);
    if (!grp || !hrow || !refstart || !nref) { mg_error(&cli, NULL, "out of memory"); goto done; }
    {
        int jr = mg_tsv_unique(&H, hid, err, sizeof err);
        if (jr == -2) { mg_error(&cli, hp, "%s", err); goto done; }
        if (jr < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    size_t missing = 0, used_refs = 0;
    const char *first_missing = NULL;
    for (size_t r = 0; r < H.nrow; r++) {
        size_t cnt, s0 = mg_idgroup_find(grp, R.nrow, mg_tsv_cell(&H, r, hid), &cnt);
        if (!cnt) { if (!missing++) first_missing = mg_tsv_cell(&H, r, hid); continue; }
        if (o.chexpert && cnt > 1) { mg_error(&cli, rp, "duplicated id '%s'", grp[s0].id); goto done; }
        hrow[n] = r; refstart[n] = s0; nref[n] = cnt; n++;
        used_refs += cnt;
    }
    if (n == 0) { mg_error(&cli, rp, "no id in common with %s", hp); goto done; }
    if (missing) mg_warn(&cli, hp, "%zu id(s) without a reference (first: %s); left out", missing, first_missing);
    if (used_refs < R.nrow) mg_warn(&cli, rp, "%zu reference row(s) without a hypothesis; left out", R.nrow - used_refs);

    if (o.chexpert) {
        /* label columns: every column of HYP but id, all present in REF */
        int L = 0, *hc = malloc((size_t)H.ncol * sizeof *hc), *rc2 = malloc((size_t)H.ncol * sizeof *rc2);
        if (!hc || !rc2) { free(hc); free(rc2); mg_error(&cli, NULL, "out of memory"); goto done; }
        for (int c = 0; c < H.ncol; c++) {
            if (c == hid) continue;
            int q = mg_tsv_col(&R, H.colname[c]);
            if (q < 0) { mg_error(&cli, rp, "no label column '%s'", H.colname[c]); free(hc); free(rc2); goto done; }
            hc[L] = c; rc2[L] = q; L++;
        }
        static const char *const five[] = { "Cardiomegaly", "Edema", "Consolidation", "Atelectasis", "Pleural Effusion" };
        lh = malloc(n * (size_t)L); lg = malloc(n * (size_t)L); use5 = calloc((size_t)L, 1);
        if (!lh || !lg || !use5) { free(hc); free(rc2); mg_error(&cli, NULL, "out of memory"); goto done; }
        int n5 = 0;
        for (int l = 0; l < L; l++)
            for (int f = 0; f < 5; f++) if (!strcmp(H.colname[hc[l]], five[f])) { use5[l] = 1; n5++; }
        for (size_t i = 0; i < n; i++)
            for (int l = 0; l < L; l++) {
                const char *a = mg_tsv_cell(&H, hrow[i], hc[l]), *b = mg_tsv_cell(&R, grp[refstart[i]].row, rc2[l]);
                if (mg_chexpert_label(a, o.chexbert_codes, o.uncertain_pos, &lh[i * (size_t)L + (size_t)l]) < 0) {
                    mg_error(&cli, hp, "id %s: '%s' in column %s is not a %s label code",
                             mg_tsv_cell(&H, hrow[i], hid), a, H.colname[hc[l]], o.chexbert_codes ? "CheXbert" : "CheXpert");
                    free(hc); free(rc2); goto done;
                }
                if (mg_chexpert_label(b, o.chexbert_codes, o.uncertain_pos, &lg[i * (size_t)L + (size_t)l]) < 0) {
                    mg_error(&cli, rp, "id %s: '%s' in column %s is not a %s label code",
                             mg_tsv_cell(&H, hrow[i], hid), b, H.colname[hc[l]], o.chexbert_codes ? "CheXbert" : "CheXpert");
                    free(hc); free(rc2); goto done;
                }
            }
        free(hc); free(rc2);
        static const char *const names[6] = { "f1_micro", "f1_macro", "f1_weighted", "f1_5_micro", "f1_5_macro", "f1_5_weighted" };
        mean_ctx mc = { .n = n, .K = 0, .lh = lh, .lg = lg, .L = L, .use5 = n5 == 5 ? use5 : NULL };
        double vals[6];
        mean_stat(&mc, NULL, vals);
        json_t *extra = json_object();
        json_object_set_new(extra, "labels", json_integer(L));
        json_object_set_new(extra, "uncertain", json_string(o.uncertain_pos ? "positive" : "negative"));
        int rr2 = run_text_output(&cli, &o, "report", n, names, n5 == 5 ? 6 : 3, vals, &mc, extra);
        json_decref(extra);
        if (rr2 < 0) goto done;
        st = 0;
        goto done;
    }

    int htc = mg_tsv_col(&H, o.text_col), rtc = mg_tsv_col(&R, o.text_col);
    if (htc < 0) { mg_error(&cli, hp, "no text column '%s'", o.text_col); goto done; }
    if (rtc < 0) { mg_error(&cli, rp, "no text column '%s'", o.text_col); goto done; }
    htok = calloc(n, sizeof *htok);
    rtok = calloc(used_refs ? used_refs : 1, sizeof *rtok);
    size_t *rs2 = malloc(n * sizeof *rs2);
    if (!htok || !rtok || !rs2) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
    for (size_t i = 0; i < n; i++) {
        if (!(htok[i] = mg_text_tokenize(mg_tsv_cell(&H, hrow[i], htc), o.tokenize))) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
        rs2[i] = nrt;
        for (size_t j = 0; j < nref[i]; j++) {
            if (!(rtok[nrt] = mg_text_tokenize(mg_tsv_cell(&R, grp[refstart[i] + j].row, rtc), o.tokenize))) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
            nrt++;
        }
    }
    rep = mg_report_init(n, (const char *const *)htok, (const char *const *)rtok, rs2, nref);
    if (rep && o.sacrebleu) {
        /* sacrebleu tokenises the raw text itself */
        for (size_t i = 0; i < n; i++) {
            free(htok[i]);
            htok[i] = mg_text_tokenize(mg_tsv_cell(&H, hrow[i], htc), MG_TOK_13A);
            if (!htok[i]) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
            for (size_t j = 0; j < nref[i]; j++) {
                free(rtok[rs2[i] + j]);
                rtok[rs2[i] + j] = mg_text_tokenize(mg_tsv_cell(&R, grp[refstart[i] + j].row, rtc), MG_TOK_13A);
                if (!rtok[rs2[i] + j]) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
            }
        }
        rep13 = mg_report_init(n, (const char *const *)htok, (const char *const *)rtok, rs2, nref);
        if (!rep13) { free(rs2); mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    free(rs2);
    if (!rep) { mg_error(&cli, NULL, "out of memory"); goto done; }
    {
        double vals[MG_REPORT_NMETRICS + 1];
        const char *names[MG_REPORT_NMETRICS + 1];
        mean_ctx mc = { .n = n, .K = 0, .rep = rep, .rep13a = rep13 };
        if (mg_report_compute(rep, NULL, vals) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        int nm = MG_REPORT_NMETRICS;
        for (int j = 0; j < nm; j++) names[j] = mg_report_names[j];
        if (rep13) { names[nm] = "sacrebleu"; vals[nm++] = mg_report_sacrebleu(rep13, NULL); }
        static const char *const tk[] = { "none", "simple", "ptb" };
        json_t *extra = json_object();
        json_object_set_new(extra, "tokenize", json_string(tk[o.tokenize]));
        json_object_set_new(extra, "references", json_integer((json_int_t)nrt));
        if (rep13) {
            /* sacrebleu's signature fields (version: the formula, not the package) */
            size_t mn = nref[0], mx = nref[0];
            for (size_t i = 1; i < n; i++) { if (nref[i] < mn) mn = nref[i]; if (nref[i] > mx) mx = nref[i]; }
            char sig[128];
            if (mn == mx) snprintf(sig, sizeof sig, "nrefs:%zu|case:mixed|eff:no|tok:13a|smooth:exp", mn);
            else snprintf(sig, sizeof sig, "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp");
            json_object_set_new(extra, "sacrebleu_signature", json_string(sig));
        }
        if (o.per_case) {
            double *pc = malloc(2 * n * sizeof *pc), *cd = malloc(n * sizeof *cd);
            const char **ids = malloc(n * sizeof *ids);
            if (!pc || !cd || !ids || mg_report_segments(rep, pc, cd) < 0) {
                free(pc); free(cd); free(ids); json_decref(extra);
                mg_error(&cli, NULL, "out of memory");
                goto done;
            }
            /* interleave: rouge_l, cider_d per report */
            for (size_t i = n; i-- > 0;) { double r0 = pc[i]; pc[2 * i] = r0; }
            for (size_t i = 0; i < n; i++) { pc[2 * i + 1] = cd[i]; ids[i] = mg_tsv_cell(&H, hrow[i], hid); }
            static const char *const cols[2] = { "rouge_l", "cider_d" };
            int wr = write_per_case(&cli, o.per_case, cols, 2, ids, pc, n);
            free(pc); free(cd); free(ids);
            if (wr < 0) { json_decref(extra); goto done; }
        }
        int rr2 = run_text_output(&cli, &o, "report", n, names, nm, vals, &mc, extra);
        json_decref(extra);
        if (rr2 < 0) goto done;
    }
    st = 0;
done:
    if (htok) for (size_t i = 0; i < n; i++) free(htok[i]);
    if (rtok) for (size_t i = 0; i < nrt; i++) free(rtok[i]);
    if (rh) for (size_t i = 0; i < nrep; i++) mg_radgraph_free(&rh[i]);
    if (rr) for (size_t i = 0; i < nrep; i++) mg_radgraph_free(&rr[i]);
    free(rh); free(rr); free(rids);
    free(htok); free(rtok); free(grp); free(hrow); free(refstart); free(nref);
    free(lh); free(lg); free(use5); free(per);
    mg_report_free(rep); mg_report_free(rep13);
    mg_tsv_free(&H); mg_tsv_free(&R);
    if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    mg_cli_free(&cli);
    return st;
}

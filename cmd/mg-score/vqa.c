/* mg-score vqa: answers against gold answers (closed accuracy, open recall,
 * token F1, exact match). */
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

static const char usage_vqa[] =
"Usage: mg-score vqa [options] PRED.tsv TRUTH.tsv\n"
"Answers (PRED) against gold answers (TRUTH; several rows with one id are\n"
"alternative answers), joined by id.\n"
"\n"
"      --id-col NAME        id column [id]\n"
"      --answer-col NAME    answer column of both tables [answer]\n"
"      --type-col NAME      question type column of TRUTH, closed or open\n"
"                           [answer_type; without it: closed when the gold\n"
"                           answer is yes or no]\n"
"      --compat M           closed-question rule: exact (normalised answers\n"
"                           equal, or a yes/no gold equal to the first word of\n"
"                           the answer) or llava-med (substring rule of\n"
"                           LLaVA-Med run_eval.py) [exact]\n"
"      --per-case FILE      per-question values\n"
"      --bootstrap B  --seed S  --alpha A  --json FILE  -o FILE  -@ N  -q\n"
"      --no-version  -h, --help  --version   as for mg-score classify\n";

int mg_score_vqa(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-score", argc, argv);
    cli.usage = usage_vqa;
    text_opts o = { .id_col = "id", .text_col = "answer", .type_col = NULL, .seed = 1, .alpha = 0.05 };
    mg_table PT, GT;
    mg_idgroup *grp = NULL;
    unsigned char *used = NULL;
    double *per = NULL;
    const char **qids = NULL;
    size_t n = 0, nclosed = 0, nopen = 0, excluded = 0;
    int st = text_begin(&cli, argc, argv, &o, 1, &PT, &GT);
    if (st >= 0) {   /* --help, --version (stdout already closed) or an error */
        mg_table_free(&PT); mg_table_free(&GT);
        mg_cli_free(&cli);
        return st;
    }
    st = 1;
    char err[512];
    const char *pp = PT.path, *tp = GT.path;
    const mg_tsv *P = &PT.t, *G = &GT.t;
    int pid = PT.id, gid = GT.id;
    int pac = mg_tsv_col(P, o.text_col), gac = mg_tsv_col(G, o.text_col);
    int gtc = mg_tsv_col(G, o.type_col ? o.type_col : "answer_type");
    if (pac < 0) { mg_error(&cli, pp, "no answer column '%s'", o.text_col); goto done; }
    if (gac < 0) { mg_error(&cli, tp, "no answer column '%s'", o.text_col); goto done; }
    if (o.type_col && gtc < 0) { mg_error(&cli, tp, "no type column '%s'", o.type_col); goto done; }
    {
        int jr = mg_tsv_unique(P, pid, err, sizeof err);
        if (jr == -2) { mg_error(&cli, pp, "%s", err); goto done; }
        if (jr < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
    }
    grp = mg_tsv_group_ids(G, gid);
    /* per question: closed hit, open recall, token F1, exact match, F1 closed, F1 open */
    enum { K = 6 };
    per = malloc((P->nrow ? P->nrow : 1) * K * sizeof *per);
    qids = malloc((P->nrow ? P->nrow : 1) * sizeof *qids);
    if (!grp || !per || !qids) { mg_error(&cli, NULL, "out of memory"); goto done; }
    size_t missing = 0;
    const char *first_missing = NULL;
    /* gold groups matched by a prediction, to report the ids on that side only */
    used = calloc(G->nrow ? G->nrow : 1, 1);
    if (!used) { mg_error(&cli, NULL, "out of memory"); goto done; }
    for (size_t r = 0; r < P->nrow; r++) {
        const char *id = mg_tsv_cell(P, r, pid);
        size_t cnt, s0 = mg_idgroup_find(grp, G->nrow, id, &cnt);
        if (!cnt) { if (!missing++) first_missing = id; continue; }
        used[s0] = 1;
        double *v = per + n * K;
        const char *pred = mg_tsv_cell(P, r, pac);
        int closed = -1;
        if (gtc >= 0) {
            const char *t = mg_tsv_cell(G, grp[s0].row, gtc);
            if (!strcasecmp(t, "closed") || !strcasecmp(t, "yes/no")) closed = 1;
            else if (!strcasecmp(t, "open") || !strcasecmp(t, "other")) closed = 0;
            else { mg_error(&cli, tp, "id %s: question type '%s' is not closed or open", id, t); goto done; }
        }
        const char **golds = malloc(cnt * sizeof *golds);
        double sc[4];
        if (!golds) { mg_error(&cli, NULL, "out of memory"); goto done; }
        for (size_t j = 0; j < cnt; j++) golds[j] = mg_tsv_cell(G, grp[s0 + j].row, gac);
        int vr = mg_vqa_score(pred, golds, cnt, closed, o.compat == 1, sc, &closed);
        free(golds);
        if (vr < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        double hit = sc[0], rec = sc[1], f1 = sc[2], em = sc[3];
        v[0] = closed ? hit : NAN;
        v[1] = closed ? NAN : rec;
        v[2] = f1; v[3] = em;
        v[4] = closed ? f1 : NAN;
        v[5] = closed ? NAN : f1;
        if (closed) { nclosed++; if (isnan(hit)) excluded++; } else nopen++;
        qids[n] = id;
        n++;
    }
    if (n == 0) { mg_error(&cli, tp, "no id in common with %s", pp); goto done; }
    if (missing) mg_warn(&cli, pp, "%zu id(s) not in the gold table (first: %s); left out", missing, first_missing);
    {
        /* As classify does: ids on either side only are counted and named.
         * The first one named is the first in the gold file's row order. */
        size_t gold_only = 0, first_row = (size_t)-1;
        const char *first_gold = NULL;
        for (size_t i = 0; i < G->nrow; ) {
            size_t cnt;
            size_t s0 = mg_idgroup_find(grp, G->nrow, grp[i].id, &cnt);
            if (!cnt) cnt = 1;
            if (!used[s0]) {
                gold_only++;
                if (grp[s0].row < first_row) { first_row = grp[s0].row; first_gold = grp[s0].id; }
            }
            i = s0 + cnt > i ? s0 + cnt : i + 1;
        }
        if (gold_only) mg_warn(&cli, tp, "%zu id(s) without a prediction (first: %s); left out", gold_only, first_gold);
    }

    if (excluded) mg_warn(&cli, pp, "llava-med rule: %zu closed question(s) left out of the accuracy", excluded);
    {
        static const char *const names[K] = { "closed_accuracy", "open_recall", "token_f1", "exact_match",
                                              "token_f1_closed", "token_f1_open" };
        double vals[K];
        mean_ctx mc = { .v = per, .n = n, .K = K };
        mean_stat(&mc, NULL, vals);
        static const char *const pcn[K] = { "closed_hit", "open_recall", "token_f1", "exact_match",
                                            "token_f1_closed", "token_f1_open" };
        if (o.per_case && write_per_case(&cli, o.per_case, pcn, K, qids, per, n) < 0) goto done;
        json_t *extra = json_object();
        json_object_set_new(extra, "closed", json_integer((json_int_t)nclosed));
        json_object_set_new(extra, "open", json_integer((json_int_t)nopen));
        json_object_set_new(extra, "closed_rule", json_string(o.compat ? "llava-med" : "exact"));
        json_object_set_new(extra, "closed_left_out", json_integer((json_int_t)excluded));
        int rr2 = run_text_output(&cli, &o, "vqa", n, names, K, vals, &mc, extra);
        json_decref(extra);
        if (rr2 < 0) goto done;
    }
    st = 0;
done:
    free(grp); free(per); free(qids); free(used);
    mg_table_free(&PT); mg_table_free(&GT);
    if (st == 0 && mg_close_stdout(&cli) < 0) st = 1;
    mg_cli_free(&cli);
    return st;
}

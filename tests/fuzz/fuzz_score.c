/* Fuzz the inputs of mg-score: TSV tables (and mgt streams read as tables),
 * number parsing, id uniqueness, report tokenisation and scoring, VQA
 * normalisation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mg_metrics.h"
#include "mg_metrics_text.h"
#include "mg_metrics_tsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    mg_tsv t;
    if (mg_tsv_parse_mem(data, size, &t, err, sizeof err) == 0) {
        mg_tsv_unique(&t, 0, err, sizeof err);
        size_t n = t.nrow < 64 ? t.nrow : 64;
        double x;
        for (size_t r = 0; r < n; r++)
            for (int c = 0; c < t.ncol; c++) (void)mg_parse_number(mg_tsv_cell(&t, r, c), &x);
        if (t.ncol >= 2 && n > 0) {
            char **h = calloc(n, sizeof *h), **g = calloc(n, sizeof *g);
            size_t *st = calloc(n, sizeof *st), *nr = calloc(n, sizeof *nr);
            int ok = h && g && st && nr;
            for (size_t r = 0; ok && r < n; r++) {
                int mode = (int)(r % 3);
                h[r] = mg_text_tokenize(mg_tsv_cell(&t, r, 0), mode);
                g[r] = mg_text_tokenize(mg_tsv_cell(&t, r, 1), mode);
                st[r] = r; nr[r] = 1;
                ok = h[r] && g[r];
                char *a = mg_vqa_normalize(mg_tsv_cell(&t, r, 0)), *b = mg_squad_normalize(mg_tsv_cell(&t, r, 1));
                if (a && b) { (void)mg_token_f1(a, b); (void)mg_token_recall(a, b); }
                free(a); free(b);
            }
            if (ok) {
                mg_report *rep = mg_report_init(n, (const char *const *)h, (const char *const *)g, st, nr);
                double out[MG_REPORT_NMETRICS];
                if (rep) mg_report_compute(rep, NULL, out);
                mg_report_free(rep);
            }
            for (size_t r = 0; r < n; r++) { if (h) free(h[r]); if (g) free(g[r]); }
            free(h); free(g); free(st); free(nr);
        }
    }
    mg_tsv_free(&t);
    return 0;
}

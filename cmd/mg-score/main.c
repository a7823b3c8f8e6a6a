/* mg-score: metrics of medical AI from predictions and truth, with confidence
 * intervals. Subcommands: classify, risk (classify.c), report (report.c), vqa
 * (vqa.c). The metric definitions and their sources are in man/mg-score.1 and
 * the library headers (mg_metrics*.h). */
#include "mg_subcmd.h"
#include "score.h"

static const char usage_main[] =
"Usage: mg-score COMMAND [options] ...\n"
"Metrics of medical AI from predictions and truth, with confidence intervals.\n"
"\n"
"Commands:\n"
"  classify PRED.tsv [TRUTH.tsv]   AUC, AP, accuracy, F1, Brier, ECE, DeLong, ...\n"
"  risk PRED.tsv [TRUTH.tsv]       classify metrics plus OR per SD, top-decile OR,\n"
"                                  Nagelkerke R2, Harrell's C\n"
"  report HYP.tsv REF.tsv          BLEU-1..4, ROUGE-L, CIDEr-D; --chexpert, --radgraph\n"
"  vqa PRED.tsv TRUTH.tsv          closed accuracy, open recall, token F1, exact match\n"
"\n"
"Run 'mg-score COMMAND --help' for the options of a command; man mg-score for\n"
"the definitions. Exit status: 0 success, 1 data error, 2 usage error.\n";

static const mg_subcmd commands[] = {
    { "classify", mg_score_classify, "AUC, AP, accuracy, F1, Brier, ECE, DeLong", 0 },
    { "risk", mg_score_risk, "classify metrics plus OR per SD, Nagelkerke R2, Harrell's C", 0 },
    { "report", mg_score_report, "BLEU, ROUGE-L, CIDEr-D, CheXpert and RadGraph F1", 0 },
    { "vqa", mg_score_vqa, "closed accuracy, open recall, token F1, exact match", 0 },
    { 0, 0, 0, 0 }
};

int main(int argc, char **argv)
{
    return mg_subcmd_dispatch("mg-score", commands, usage_main, argc, argv);
}

/* mg-decode: every model output as predictions or text. The first argument
 * names the mode; each mode is its own file (classify.c, generate.c,
 * zeroshot.c) with the entry point declared in decode.h, dispatched through one
 * table; generate when the first argument is an option. --tokenize and
 * --detokenize (tokenize.c) work in every mode. */
#include "decode.h"
#include "mg_subcmd.h"

static const char usage[] =
"Usage: mg-decode [MODE] [options] ...\n"
"       mg-decode [MODE] -m DIR --tokenize|--detokenize [INPUT]\n"
"Model outputs as predictions (TSV, JSON Lines, mgt prediction records) or text.\n"
"\n"
"Commands:\n"
"  classify  apply a head written by mg-fit: probabilities or values\n"
"  generate  text from a decoder (MedGemma, Gemma 3): reports, answers, option\n"
"            scores; the mode when the first argument is an option\n"
"  zeroshot  zero-shot classification with a SigLIP text tower\n"
"\n"
"Run 'mg-decode MODE --help' for the options of a mode; man mg-decode for\n"
"details. Exit status: 0 success, 1 data error, 2 usage error.\n";

static const mg_subcmd modes[] = {
    { "classify", mg_decode_classify, "apply a head written by mg-fit", 0 },
    { "generate", mg_decode_generate, "text from a decoder checkpoint", MG_SUBCMD_DEFAULT },
    { "zeroshot", mg_decode_zeroshot, "zero-shot classification with a SigLIP text tower", 0 },
    { 0, 0, 0, 0 }
};

int main(int argc, char **argv)
{
    if (mg_decode_wants_tokenize(argc, argv)) return mg_decode_tokenize(argc, argv);
    return mg_subcmd_dispatch("mg-decode", modes, usage, argc, argv);
}

/* mg-decode: model outputs from a decoder or a head, one mode per file
 * (generate.c …), picked by the first argument; generate when it is an option. */
#include "decode.h"
#include "mg_subcmd.h"

static const char usage_main[] =
"Usage: mg-decode [MODE] -m DIR [options] [FILE]\n"
"Model outputs from a decoder checkpoint or a head.\n"
"\n"
"Commands:\n"
"  generate   text from a decoder (MedGemma, Gemma 3): reports, answers, option\n"
"             scores; the mode when the first argument is an option\n"
"\n"
"Run 'mg-decode MODE --help' for the options of a mode. Exit status: 0 success,\n"
"1 data error, 2 usage error.\n";

static const mg_subcmd modes[] = {
    { "generate", mg_decode_generate, "text from a decoder checkpoint", MG_SUBCMD_DEFAULT },
    { 0, 0, 0, 0 }
};

int main(int argc, char **argv)
{
    return mg_subcmd_dispatch("mg-decode", modes, usage_main, argc, argv);
}

/* mg-decode: every model output as predictions or text. The first argument
 * names the mode; each mode is its own file (classify.c …) with the entry
 * point declared in decode.h. */
#include <stdio.h>
#include <string.h>

#include "decode.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} modes[] = {
    { "classify", mg_decode_classify, "apply a head written by mg-fit: probabilities or values" },
};
#define NMODES (int)(sizeof modes / sizeof modes[0])

static void usage(FILE *f)
{
    fprintf(f, "Usage: mg-decode MODE [options] ...\n"
               "Model outputs as predictions (TSV, JSON Lines, mgt prediction records).\n"
               "\n"
               "Commands:\n");
    for (int i = 0; i < NMODES; i++) fprintf(f, "  %-10s %s\n", modes[i].name, modes[i].what);
    fprintf(f, "\nRun 'mg-decode MODE --help' for the options of a mode; man mg-decode for\n"
               "details. Exit status: 0 success, 1 data error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    const char *m = argv[1];
    if (!strcmp(m, "-h") || !strcmp(m, "--help")) { usage(stdout); return fflush(stdout) == 0 ? 0 : 1; }
    if (!strcmp(m, "--version")) { printf("mg-decode %s\n", MG_VERSION); return fflush(stdout) == 0 ? 0 : 1; }
    for (int i = 0; i < NMODES; i++)
        if (!strcmp(m, modes[i].name)) return modes[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mg-decode: unknown mode '%s'\nTry 'mg-decode --help'.\n", m);
    return 2;
}

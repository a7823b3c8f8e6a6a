/* mg_subcmd.c: subcommand dispatch through a table (see mg_subcmd.h). */
#include <stdio.h>
#include <string.h>

#include "mg_cli.h"
#include "mg_subcmd.h"

static int print_stdout(const char *prog, const char *text)
{
    fputs(text, stdout);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: error: stdout: write failed\n", prog);
        return 1;
    }
    return 0;
}

int mg_subcmd_dispatch(const char *prog, const mg_subcmd *table, const char *usage,
                       int argc, char **argv)
{
    const char *cmd = argc >= 2 ? argv[1] : NULL;
    const mg_subcmd *dflt = NULL;
    for (const mg_subcmd *e = table; e->name; e++)
        if (e->flags & MG_SUBCMD_DEFAULT) dflt = e;
    if (cmd && (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")))
        return print_stdout(prog, usage);
    if (cmd && !strcmp(cmd, "--version")) {
        char line[128];
        snprintf(line, sizeof line, "%s %s\n", prog, MG_VERSION);
        return print_stdout(prog, line);
    }
    if ((!cmd || cmd[0] == '-') && dflt) return dflt->main(argc, argv);
    if (cmd)
        for (const mg_subcmd *e = table; e->name; e++)
            if (!strcmp(cmd, e->name)) return e->main(argc - 1, argv + 1);
    if (cmd) fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    else {
        fprintf(stderr, "%s: missing command (", prog);
        for (const mg_subcmd *e = table; e->name; e++)
            fprintf(stderr, "%s%s", e == table ? "" : e[1].name ? ", " : " or ", e->name);
        fprintf(stderr, ")\n");
    }
    fprintf(stderr, "Try '%s --help'.\n", prog);
    return 2;
}

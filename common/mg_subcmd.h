/* mg_subcmd.h: one dispatch for programs with subcommands (mg-stream, mg-score,
 * mg-decode …), like samtools' main: a table of names and entry points.
 *
 *     static const mg_subcmd cmds[] = {
 *         { "info", cmd_info, "summarise streams", 0 },
 *         { "generate", main_generate, "text from a decoder", MG_SUBCMD_DEFAULT },
 *         { 0 }
 *     };
 *     int main(int argc, char **argv)
 *     { return mg_subcmd_dispatch("mg-x", cmds, USAGE, argc, argv); }
 *
 * Part of the command-line layer (it prints and sets exit statuses); the rest of
 * the library does not use it. */
#ifndef MG_SUBCMD_H
#define MG_SUBCMD_H

enum { MG_SUBCMD_DEFAULT = 1 };   /* runs when the first argument is an option */

typedef struct {
    const char *name;                  /* "classify"; NULL ends the table */
    int (*main)(int argc, char **argv);/* argv[0] is the name (or the program for a default) */
    const char *summary;               /* one line, for the missing-command message */
    unsigned flags;                    /* MG_SUBCMD_DEFAULT */
} mg_subcmd;

/** Run the entry of table named by argv[1] with (argc - 1, argv + 1) and
 *  return its status. "-h", "--help" and "help" print usage to stdout (0, or 1
 *  when stdout fails); "--version" prints "prog VERSION". An unknown name, or no
 *  name at all, is a usage error ("prog: unknown command 'x'", exit 2). When
 *  the first argument is another option, or there is none, and the table has
 *  a MG_SUBCMD_DEFAULT entry, that entry runs with (argc, argv) unchanged. */
int mg_subcmd_dispatch(const char *prog, const mg_subcmd *table, const char *usage,
                       int argc, char **argv);

#endif

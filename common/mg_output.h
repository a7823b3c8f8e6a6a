/* mg_output.h: output files that appear whole or not at all.
 *
 * A regular-file output is written under a temporary name in the target's
 * directory ("NAME.tmp.XXXXXX", or with a kept suffix "STEM.tmp.XXXXXX.SUF"
 * for writers that choose a format by the name) and renamed over the target
 * only when everything succeeded; on failure, or on a fatal signal, the
 * temporary is removed. The file gets the mode a plain fopen would give
 * (0666 & ~umask). "-" is stdout; FIFOs and character devices (/dev/null, a
 * pipe made by a workflow manager) are written directly, without a temporary.
 * No fsync: the rename makes the file appear whole, durability across a
 * power cut is not promised.
 *
 * Outputs made of several files (one per record) are committed as a group:
 * every member is finished first and renamed only when all succeeded.
 *
 * Typical use:
 *     mg_ofile *f = mg_ofile_open(path, NULL, err, sizeof err);
 *     if (!f) …;
 *     int ok = fprintf(mg_ofile_fp(f), …) >= 0;
 *     if (mg_ofile_close(f, ok, err, sizeof err) < 0) …;   (err set only if ok was 1)
 */
#ifndef MG_OUTPUT_H
#define MG_OUTPUT_H

#include <stdio.h>
#include "mg_err.h"

typedef struct mg_ofile mg_ofile;

/** Open path for writing. suffix, when not NULL, must end path and is kept at
 *  the end of the temporary name (e.g. ".nii.gz"). NULL and err on failure. */
MG_MUST_CHECK mg_ofile *mg_ofile_open(const char *path, const char *suffix, char *err, size_t errlen);
/** The descriptor to write to (1 for stdout). */
int mg_ofile_fd(const mg_ofile *f);
/** A stdio stream over the descriptor (stdout for "-"). Write through either
 *  this or the descriptor, not both. */
FILE *mg_ofile_fp(mg_ofile *f);
/** The name to open when a library insists on opening the file itself
 *  (libnifti): the temporary, or the target when written directly; NULL for
 *  stdout. */
const char *mg_ofile_name(const mg_ofile *f);
/** The target name as given. */
const char *mg_ofile_target(const mg_ofile *f);
/** 1 when the output goes through a temporary that can be checked by name. */
int mg_ofile_is_temp(const mg_ofile *f);

/** Flush and close; when ok, check for write errors and rename into place,
 *  else (or on any error) remove the temporary. Frees f (NULL allowed: -1).
 *  0, or -1 (err filled only when ok was 1). */
MG_MUST_CHECK int mg_ofile_close(mg_ofile *f, int ok, char *err, size_t errlen);

/** Close and remove without committing (for error paths); NULL allowed. */
void mg_ofile_abort(mg_ofile *f);

typedef struct mg_ofile_group mg_ofile_group;

/** An empty group; NULL when out of memory. */
MG_MUST_CHECK mg_ofile_group *mg_ofile_group_new(void);
/** Finish f (flush, close, check) and keep it for the group's commit. f is
 *  owned by the group from now on, also on failure (then it is removed at
 *  once). 0, or -1 with err. */
MG_MUST_CHECK int mg_ofile_group_add(mg_ofile_group *g, mg_ofile *f, char *err, size_t errlen);
/** ok: rename every member into place; if one rename fails, the members
 *  already renamed are removed again, so that the outputs appear all or none.
 *  Not ok: remove every temporary. Frees g. 0, or -1 (err filled only when
 *  ok was 1). */
MG_MUST_CHECK int mg_ofile_group_close(mg_ofile_group *g, int ok, char *err, size_t errlen);

/** Remove the open temporaries on SIGINT, SIGTERM, SIGHUP, SIGUSR1 and
 *  SIGPIPE, then die of the signal as before (signals ignored at start stay
 *  ignored); ignore SIGXFSZ, so that going over a file size limit is a write
 *  error (EFBIG) reported and cleaned like any other. For main() (mg_cli does
 *  it); library code never calls it. */
void mg_output_install_signal_handlers(void);

#endif

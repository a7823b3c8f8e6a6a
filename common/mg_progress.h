/* mg_progress.h: one updating progress line on a terminal.
 *
 * Long steps report "done/total unit, rate, time left" on stderr, rewriting one
 * line with '\r', at most a few times a second. Nothing is drawn unless stderr
 * is a terminal, so logs, pipes and tests see no progress output at all.
 *
 *     mg_progress *p = mg_progress_new("mg-encode2d", "records", 0);
 *     for (…) { …; mg_progress_step(p, ++n); }
 *     mg_progress_free(p);                   (clears the line)
 *
 * Every function accepts NULL and then does nothing. */
#ifndef MG_PROGRESS_H
#define MG_PROGRESS_H

#include <stdint.h>

typedef struct mg_progress mg_progress;

/** A progress line labelled prog, counting unit ("records", "variants"); total 0
 *  when unknown. NULL when stderr is not a terminal (or on no memory): progress
 *  is never worth an error. prog and unit must outlive the object. */
mg_progress *mg_progress_new(const char *prog, const char *unit, uint64_t total);
/** done units so far; redraws when enough time has passed since the last draw. */
void mg_progress_step(mg_progress *p, uint64_t done);
/** Erase the line (before another message is printed); the next step redraws. */
void mg_progress_clear(mg_progress *p);
/** Erase the line and free. */
void mg_progress_free(mg_progress *p);

#endif

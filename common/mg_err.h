/* mg_err.h: the library's way of reporting why something failed. Functions
 * that can fail take (char *err, size_t errlen) and fill it with one line. */
#ifndef MG_ERR_H
#define MG_ERR_H

#include <stddef.h>

/* A function whose result tells whether it worked: ignoring it is a warning. */
#ifndef MG_MUST_CHECK
#define MG_MUST_CHECK __attribute__((warn_unused_result))
#endif

/** Format a reason into err[errlen] (nothing when err is NULL or errlen 0). */
void mg_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** mg_seterr() with a fixed message, returning -1 for "return mg_fail(…);". */
int mg_fail(char *err, size_t errlen, const char *msg);

#endif

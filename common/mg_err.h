/* mg_err.h: the library's way of reporting why something failed. Functions
 * that can fail take (char *err, size_t errlen) and fill it with one line. */
#ifndef MG_ERR_H
#define MG_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* A result the caller must look at (a write that may have failed, an object
 * that may be NULL). */
#ifndef MG_MUST_CHECK
#define MG_MUST_CHECK __attribute__((warn_unused_result))
#endif

/** Format a reason into err[errlen] (nothing when err is NULL or errlen 0). */
void mg_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** mg_seterr() with a va_list, for objects that keep their own error. */
void mg_vseterr(char *err, size_t errlen, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/** mg_seterr() with a fixed message, returning -1 for "return mg_fail(…);". */
int mg_fail(char *err, size_t errlen, const char *msg);

/** mg_seterr() with a location prefix: "path:line: reason", "path: reason"
 *  when line is 0, "line N: reason" without a path, else just the reason. */
void mg_seterr_at(char *err, size_t errlen, const char *path, long line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif

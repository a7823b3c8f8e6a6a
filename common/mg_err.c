/* mg_err.c: error strings for library functions (see mg_err.h). */
#include "mg_err.h"

#include <stdarg.h>
#include <stdio.h>

void mg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mg_vseterr(err, errlen, fmt, ap);
    va_end(ap);
}

void mg_vseterr(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
}

int mg_fail(char *err, size_t errlen, const char *msg)
{
    mg_seterr(err, errlen, "%s", msg);
    return -1;
}

void mg_seterr_at(char *err, size_t errlen, const char *path, long line, const char *fmt, ...)
{
    if (!err || !errlen) return;
    int k = 0;
    if (path && !*path) path = NULL;
    if (path && line > 0) k = snprintf(err, errlen, "%s:%ld: ", path, line);
    else if (path) k = snprintf(err, errlen, "%s: ", path);
    else if (line > 0) k = snprintf(err, errlen, "line %ld: ", line);
    if (k < 0) k = 0;
    if ((size_t)k >= errlen) return;
    va_list ap;
    va_start(ap, fmt);
    mg_vseterr(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

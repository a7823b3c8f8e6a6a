/* mg_err.c: error strings for library functions (see mg_err.h). */
#include "mg_err.h"

#include <stdarg.h>
#include <stdio.h>

void mg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
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
    if (path && line > 0) k = snprintf(err, errlen, "%s:%ld: ", path, line);
    else if (path) k = snprintf(err, errlen, "%s: ", path);
    if (k < 0) k = 0;
    if ((size_t)k >= errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* mg_err.h: the library's way of reporting why something failed. Functions
 * that can fail take (char *err, size_t errlen) and fill it with one line. */
#ifndef MG_ERR_H
#define MG_ERR_H

#include <stddef.h>

/** Format a reason into err[errlen] (nothing when err is NULL or errlen 0). */
void mg_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

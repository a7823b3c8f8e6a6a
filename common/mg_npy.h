/* mg_npy.h: NumPy .npy files (format versions 1.0–3.0) to and from tensors. */
#ifndef MG_NPY_H
#define MG_NPY_H

#include <stdio.h>
#include "mg_err.h"

#include <stddef.h>
#include "mg_stream.h"

/** Read path as a tensor named name, added to rec. bool arrays become u8.
 *  Returns 0, or -1 with a reason in err. Refuses big-endian and Fortran order. */
MG_MUST_CHECK int mg_npy_read(const char *path, mg_record *rec, const char *name, char *err, size_t errlen);
/** Write t to an open stream as a version-1.0 .npy (bf16 is written as <f4,
 *  numpy having no bfloat16). Returns 0, or -1 with err. */
MG_MUST_CHECK int mg_npy_write(FILE *fp, const mg_tensor *t, char *err, size_t errlen);

#endif

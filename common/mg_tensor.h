/* mg_tensor.h: element conversions between the stream's dtypes (the float
 * formats' own conversions are in mg_dtype.h). */
#ifndef MG_TENSOR_H
#define MG_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "mg_dtype.h"
#include "mg_stream.h"

/** Element i of a tensor of any dtype, as double. */
double mg_tensor_get(const mg_tensor *t, int64_t i);
/** Convert n elements of dtype at src to float at dst. */
void mg_convert_to_f32(float *dst, const void *src, int dtype, size_t n);
/** Convert n floats to dtype (integers rounded to nearest and saturated). */
void mg_convert_from_f32(void *dst, int dtype, const float *src, size_t n);

#endif

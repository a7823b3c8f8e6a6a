/* mg_tensor.h: element conversions between the stream's dtypes. */
#ifndef MG_TENSOR_H
#define MG_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "mg_stream.h"

/** IEEE half (binary16) to float, exact. */
float mg_f16_to_f32(uint16_t h);
/** float to IEEE half, round to nearest even; overflow gives infinity. */
uint16_t mg_f32_to_f16(float f);
/** bfloat16 to float, exact. */
static inline float mg_bf16_to_f32(uint16_t b)
{
    union { uint32_t u; float f; } v = { (uint32_t)b << 16 };
    return v.f;
}
/** float to bfloat16, round to nearest even (NaN stays NaN). */
uint16_t mg_f32_to_bf16(float f);

/** Element i of a tensor of any dtype, as double. */
double mg_tensor_get(const mg_tensor *t, int64_t i);
/** Convert n elements of dtype at src to float at dst. */
void mg_convert_to_f32(float *dst, const void *src, int dtype, size_t n);
/** Convert n floats to dtype (integers rounded to nearest and saturated). */
void mg_convert_from_f32(void *dst, int dtype, const float *src, size_t n);

#endif

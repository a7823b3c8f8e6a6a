/* mg_dtype.h: the one element-type enum of the stream (man/mgt.5), the
 * safetensors reader and the kernels, and the conversions between the float
 * formats.
 *
 * Codes 1 … MG_F64 are the stream's wire codes (man/mgt.5) and must not change;
 * the codes after them exist only in checkpoint files (safetensors) and are never
 * written to a stream (mg_dtype_in_stream() says which is which).
 */
#ifndef MG_DTYPE_H
#define MG_DTYPE_H

#include <stddef.h>
#include <stdint.h>
#include "mg_err.h"

typedef enum {
    MG_U8 = 1, MG_I8 = 2, MG_U16 = 3, MG_I16 = 4, MG_I32 = 5, MG_I64 = 6,
    MG_F16 = 7, MG_BF16 = 8, MG_F32 = 9, MG_F64 = 10,
    /* checkpoint-only */
    MG_BOOL = 11, MG_U32, MG_U64, MG_F8_E5M2, MG_F8_E4M3
} mg_dtype;

/** Bytes per element of dtype, 0 for an unknown code. */
size_t mg_dtype_size(int dtype);
/** "u8", "f32", "bool" …; NULL for an unknown code. */
const char *mg_dtype_name(int dtype);
/** Code for a stream dtype name ("u8" … "f64"); 0 if unknown. */
int mg_dtype_from_name(const char *name);
/** 1 if dtype may appear in a stream (codes 1 … MG_F64). */
static inline int mg_dtype_in_stream(int dtype) { return dtype >= MG_U8 && dtype <= MG_F64; }

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

/** Convert n elements starting at element off of little-endian, possibly
 *  unaligned F32/F16/BF16 data to f32. 0, or -1 for another dtype. */
MG_MUST_CHECK int mg_dtype_float_to_f32(int dtype, const void *data, int64_t off, int64_t n,
                                        float *out);

#endif

/* mg_dtype.c: element sizes, names and float-format conversions. */
#include "mg_dtype.h"

#include <math.h>
#include <string.h>

static const struct { const char *name; size_t size; } DTYPES[] = {
    [MG_U8] = {"u8", 1},   [MG_I8] = {"i8", 1},     [MG_U16] = {"u16", 2},
    [MG_I16] = {"i16", 2}, [MG_I32] = {"i32", 4},   [MG_I64] = {"i64", 8},
    [MG_F16] = {"f16", 2}, [MG_BF16] = {"bf16", 2}, [MG_F32] = {"f32", 4},
    [MG_F64] = {"f64", 8}, [MG_BOOL] = {"bool", 1}, [MG_U32] = {"u32", 4},
    [MG_U64] = {"u64", 8}, [MG_F8_E5M2] = {"f8_e5m2", 1}, [MG_F8_E4M3] = {"f8_e4m3", 1},
};
#define N_DTYPES ((int)(sizeof DTYPES / sizeof DTYPES[0]))

size_t mg_dtype_size(int d) { return d > 0 && d < N_DTYPES ? DTYPES[d].size : 0; }
const char *mg_dtype_name(int d) { return d > 0 && d < N_DTYPES ? DTYPES[d].name : NULL; }

int mg_dtype_from_name(const char *name)
{
    for (int d = MG_U8; d <= MG_F64; d++)
        if (strcmp(DTYPES[d].name, name) == 0) return d;
    return 0;
}

float mg_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    union { uint32_t u; float f; } v;
    if (exp == 0) {                        /* zero or subnormal: man * 2^-24 */
        float f = ldexpf((float)man, -24);
        return sign ? -f : f;
    }
    if (exp == 31) v.u = sign | 0x7f800000u | (man << 13);
    else v.u = sign | ((exp + 112) << 23) | (man << 13);
    return v.f;
}

uint16_t mg_f32_to_f16(float f)
{
    union { float f; uint32_t u; } v = { f };
    uint32_t sign = (v.u >> 16) & 0x8000, a = v.u & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);   /* rounds past 65504 */
    if (a < 0x38800000u) {                                      /* subnormal half */
        float m = fabsf(f) * 16777216.0f;                       /* in units of 2^-24 */
        return (uint16_t)(sign | (uint32_t)nearbyintf(m));
    }
    uint32_t r = a - 0x38000000u;                               /* rebias exponent */
    uint32_t h = r >> 13, rem = r & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

uint16_t mg_f32_to_bf16(float f)
{
    union { float f; uint32_t u; } v = { f };
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40);
    v.u += 0x7fff + ((v.u >> 16) & 1);
    return (uint16_t)(v.u >> 16);
}

int mg_dtype_float_to_f32(int dtype, const void *data, int64_t off, int64_t n, float *out)
{
    const unsigned char *p = (const unsigned char *)data;
    switch (dtype) {
    case MG_F32:
        memcpy(out, p + off * 4, (size_t)n * 4);
        return 0;
    case MG_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t b;
            memcpy(&b, p + (off + i) * 2, 2);
            out[i] = mg_bf16_to_f32(b);
        }
        return 0;
    case MG_F16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t b;
            memcpy(&b, p + (off + i) * 2, 2);
            out[i] = mg_f16_to_f32(b);
        }
        return 0;
    default:
        return -1;
    }
}

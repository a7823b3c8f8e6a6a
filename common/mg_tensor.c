/* mg_tensor.c: dtype conversions. */
#include "mg_tensor.h"

#include <math.h>
#include <string.h>

double mg_tensor_get(const mg_tensor *t, int64_t i)
{
    const unsigned char *p = (const unsigned char *)t->data + (size_t)i * mg_dtype_size(t->dtype);
    switch (t->dtype) {
    case MG_U8: return *p;
    case MG_I8: return *(const int8_t *)p;
    case MG_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case MG_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case MG_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case MG_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case MG_F16: { uint16_t v; memcpy(&v, p, 2); return mg_f16_to_f32(v); }
    case MG_BF16: { uint16_t v; memcpy(&v, p, 2); return mg_bf16_to_f32(v); }
    case MG_F32: { float v; memcpy(&v, p, 4); return v; }
    case MG_F64: { double v; memcpy(&v, p, 8); return v; }
    }
    return NAN;
}

void mg_convert_to_f32(float *dst, const void *src, int dtype, size_t n)
{
    mg_tensor t = { .dtype = dtype, .data = (void *)src };
    if (dtype == MG_F32) { memmove(dst, src, n * 4); return; }
    for (size_t i = 0; i < n; i++) dst[i] = (float)mg_tensor_get(&t, (int64_t)i);
}

static double sat(double v, double lo, double hi)
{
    v = nearbyint(v);
    return v != v ? 0 : v < lo ? lo : v > hi ? hi : v;
}

void mg_convert_from_f32(void *dst, int dtype, const float *src, size_t n)
{
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++) {
        double v = src[i];
        switch (dtype) {
        case MG_U8: d[i] = (uint8_t)sat(v, 0, 255); break;
        case MG_I8: ((int8_t *)d)[i] = (int8_t)sat(v, -128, 127); break;
        case MG_U16: { uint16_t x = (uint16_t)sat(v, 0, 65535); memcpy(d + 2 * i, &x, 2); break; }
        case MG_I16: { int16_t x = (int16_t)sat(v, -32768, 32767); memcpy(d + 2 * i, &x, 2); break; }
        case MG_I32: { int32_t x = (int32_t)sat(v, -2147483648.0, 2147483647.0); memcpy(d + 4 * i, &x, 4); break; }
        case MG_I64: { int64_t x = (int64_t)sat(v, -9.2233720368547758e18, 9.2233720368547748e18); memcpy(d + 8 * i, &x, 8); break; }
        case MG_F16: { uint16_t x = mg_f32_to_f16(src[i]); memcpy(d + 2 * i, &x, 2); break; }
        case MG_BF16: { uint16_t x = mg_f32_to_bf16(src[i]); memcpy(d + 2 * i, &x, 2); break; }
        case MG_F32: memcpy(d + 4 * i, &src[i], 4); break;
        case MG_F64: memcpy(d + 8 * i, &v, 8); break;
        }
    }
}

/* mg_crc32.c: CRC-32 (ISO-HDLC polynomial, the one zlib and Python use).
 *
 * Large buffers are folded 64 bytes at a time with carry-less multiplication
 * (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
 * Instruction", Intel 2009; the constants are x^k mod P for the reflected
 * polynomial, as in that paper). The rest goes through zlib. Both give the same
 * value; tests/unit/test_stream.c compares them on random lengths and offsets. */
#include <zlib.h>
#include "mg_stream.h"

static uint32_t crc_zlib(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len > 0) {   /* zlib takes uInt lengths */
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n; len -= n;
    }
    return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FOLD_TARGET __attribute__((target("pclmul,sse4.1")))

/* Fold acc (128 bits) forward over 128·k bits and add the next block. */
FOLD_TARGET static inline __m128i fold(__m128i acc, __m128i k, __m128i next)
{
    __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* CRC register (not inverted) over len bytes, len >= 64 and a multiple of 16. */
FOLD_TARGET static uint32_t crc_fold(uint32_t reg, const unsigned char *p, size_t len)
{
    const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);  /* x^(4·128±32) */
    const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);  /* x^(128±32) */
    const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);                 /* x^64 */
    const __m128i poly_mu = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
    const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
    __m128i x1 = _mm_loadu_si128((const __m128i *)p);
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 48));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)reg));
    p += 64; len -= 64;
    for (; len >= 64; p += 64, len -= 64) {
        x1 = fold(x1, k1k2, _mm_loadu_si128((const __m128i *)p));
        x2 = fold(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
        x3 = fold(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
        x4 = fold(x4, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    x1 = fold(x1, k3k4, x2);
    x1 = fold(x1, k3k4, x3);
    x1 = fold(x1, k3k4, x4);
    for (; len >= 16; p += 16, len -= 16) x1 = fold(x1, k3k4, _mm_loadu_si128((const __m128i *)p));
    /* 128 → 64 bits */
    __m128i t = _mm_srli_si128(x1, 8);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x10), t);
    /* 64 → 32 bits */
    t = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), t);
    /* Barrett reduction */
    t = x1;
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly_mu, 0x10);
    x1 = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly_mu, 0x00);
    x1 = _mm_xor_si128(x1, t);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

uint32_t mg_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    static int have = -1;   /* CPU feature probe; the same answer for every thread */
    if (have < 0) have = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    if (!have || len < 256) return crc_zlib(crc, p, len);
    size_t n = len & ~(size_t)15;
    crc = ~crc_fold(~crc, p, n);
    return crc_zlib(crc, p + n, len - n);
}

#else
uint32_t mg_crc32(uint32_t crc, const void *data, size_t len)
{
    return crc_zlib(crc, data, len);
}
#endif

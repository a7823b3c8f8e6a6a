/* mg_crc32.c: CRC-32 (ISO-HDLC polynomial, the one zlib and Python use). */
#include <zlib.h>
#include "mg_stream.h"

uint32_t mg_crc32(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    /* zlib takes uInt lengths. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = (uint32_t)crc32(crc, p, n);
        p += n; len -= n;
    }
    return crc;
}

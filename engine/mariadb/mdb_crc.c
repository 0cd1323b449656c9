/* mdb_crc.c: binlog event checksums through zlib's crc32() (the server's
 * own algorithm: CRC-32/ISO-HDLC).
 * Invariant: mdb_crc32(mdb_crc32(0, a), b) == mdb_crc32(0, a || b). */
#include <zlib.h>

#include "engine/mariadb/mdb.h"

uint32_t mdb_crc32(uint32_t crc, const void *p, size_t n)
{
    const Bytef *b = p;
    uLong c = crc;
    while (n > 0) {   /* zlib takes uInt lengths */
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;
        c = crc32(c, b, step);
        b += step;
        n -= step;
    }
    return (uint32_t)c;
}

/* rst_crc32.c: CRC-32 (reflected 0xEDB88320, zlib's), the binlog event
 * checksum. Slicing-by-8 tables built once; about 1-2 GB/s, far above the
 * rate a replica applies events. */
#include <pthread.h>

#include "restore/replay/rst_replay_int.h"

static uint32_t tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
}

uint32_t rst_crc32(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *s = p;
    pthread_once(&tab_once, tab_build);
    crc = ~crc;
    while (n >= 8) {
        uint32_t a = crc ^ rst_get32(s), b = rst_get32(s + 4);
        crc = tab[7][a & 0xff] ^ tab[6][(a >> 8) & 0xff] ^ tab[5][(a >> 16) & 0xff] ^
              tab[4][a >> 24] ^ tab[3][b & 0xff] ^ tab[2][(b >> 8) & 0xff] ^
              tab[1][(b >> 16) & 0xff] ^ tab[0][b >> 24];
        s += 8;
        n -= 8;
    }
    while (n--) crc = tab[0][(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* rst_sha1.c: SHA-1 (FIPS 180-4), written for one use only: checking the
 * mysql_native_password reply of the replica that connects to our source
 * listener (libsodium has no SHA-1). Not for ids or integrity. */
#include <string.h>

#include "restore/replay/rst_replay_int.h"

static uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void compress_block(uint32_t h[5], const uint8_t *b)
{
    uint32_t w[80], a, bb, c, d, e, t;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    a = h[0]; bb = h[1]; c = h[2]; d = h[3]; e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (bb & c) | (~bb & d); k = 0x5A827999u; }
        else if (i < 40) { f = bb ^ c ^ d; k = 0x6ED9EBA1u; }
        else if (i < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8F1BBCDCu; }
        else { f = bb ^ c ^ d; k = 0xCA62C1D6u; }
        t = rol(a, 5) + f + e + k + w[i];
        e = d; d = c; c = rol(bb, 30); bb = a; a = t;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e;
}

void rst_sha1_init(RstSha1 *c)
{
    static const uint32_t iv[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                   0xC3D2E1F0u};
    memcpy(c->h, iv, sizeof iv);
    c->total = 0;
    c->used = 0;
}

void rst_sha1_update(RstSha1 *c, const void *p, size_t n)
{
    const uint8_t *s = p;
    c->total += n;
    while (n > 0) {
        size_t take = 64 - c->used;
        if (take > n) take = n;
        memcpy(c->block + c->used, s, take);
        c->used += take;
        s += take;
        n -= take;
        if (c->used == 64) {
            compress_block(c->h, c->block);
            c->used = 0;
        }
    }
}

void rst_sha1_final(RstSha1 *c, uint8_t out[20])
{
    uint64_t bits = c->total * 8;
    uint8_t pad = 0x80, zero = 0, len[8];
    rst_sha1_update(c, &pad, 1);
    while (c->used != 56) rst_sha1_update(c, &zero, 1);
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
    rst_sha1_update(c, len, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
    memset(c, 0, sizeof *c);
}

void rst_sha1(const void *p, size_t n, uint8_t out[20])
{
    RstSha1 c;
    rst_sha1_init(&c);
    rst_sha1_update(&c, p, n);
    rst_sha1_final(&c, out);
}

void rst_native_scramble(const uint8_t salt[20], const char *password, uint8_t out[20])
{
    uint8_t h1[20], h2[20], h3[20];
    RstSha1 c;
    rst_sha1(password, strlen(password), h1);
    rst_sha1(h1, 20, h2);
    rst_sha1_init(&c);
    rst_sha1_update(&c, salt, 20);
    rst_sha1_update(&c, h2, 20);
    rst_sha1_final(&c, h3);
    for (int i = 0; i < 20; i++) out[i] = h1[i] ^ h3[i];
    memset(h1, 0, sizeof h1);
    memset(h2, 0, sizeof h2);
}

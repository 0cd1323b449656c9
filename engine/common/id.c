/* id.c: hex encoding for ids. */
#include "engine/common/id.h"

#include <string.h>

static const char digits[] = "0123456789abcdef";

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nib(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t n)
{
    if (inlen != 2 * n) return -1;
    for (size_t i = 0; i < n; i++) {
        int h = nib(in[2 * i]), l = nib(in[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

void id_hex(const Id *id, char out[ID_HEX_LEN + 1])
{
    hex_encode(id->b, ID_LEN, out);
}

int id_parse(const char *hex, Id *out, Err *err)
{
    if (!hex || hex_decode(hex, strlen(hex), out->b, ID_LEN) != 0)
        return err_set(err, ERR_INVALID, "not a 64-hex-digit id: '%.80s'", hex ? hex : "(null)");
    return 0;
}

int id_cmp(const Id *a, const Id *b)
{
    return memcmp(a->b, b->b, ID_LEN);
}

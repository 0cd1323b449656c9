/* pack_reader.c: trailer and TOC parsing. Everything read from storage is
 * untrusted: every length and offset is bounds-checked before use. */
#include <stdlib.h>
#include <string.h>

#include "engine/pack/pack.h"

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pack_trailer_parse(const uint8_t *tail, size_t tail_len, uint64_t pack_size,
                       uint64_t *out_toc_off, uint32_t *out_toc_len, Err *err)
{
    const uint8_t *t;
    uint32_t tl;
    if (tail_len < PACK_TRAILER_LEN || pack_size < PACK_MAGIC_LEN + PACK_TRAILER_LEN)
        return err_set(err, ERR_CORRUPT, "pack too short (%llu bytes)", (unsigned long long)pack_size);
    t = tail + tail_len - PACK_TRAILER_LEN;
    if (memcmp(t + 4, "TMPK", 4) != 0) return err_set(err, ERR_CORRUPT, "pack trailer magic missing");
    tl = get_u32(t);
    if ((uint64_t)tl + PACK_TRAILER_LEN + PACK_MAGIC_LEN > pack_size || tl < CRY_OVERHEAD + 8)
        return err_set(err, ERR_CORRUPT, "pack trailer names an impossible table length %u", tl);
    *out_toc_off = pack_size - PACK_TRAILER_LEN - tl;
    *out_toc_len = tl;
    return 0;
}

int pack_toc_open(const CryKeys *k, const uint8_t *sealed, size_t len, uint64_t toc_off,
                  PackEntry **out, size_t *out_n, Err *err)
{
    uint8_t *plain = NULL;
    size_t plen = 0, n;
    PackEntry *e = NULL;
    int rc;

    if (len < CRY_OVERHEAD) return err_set(err, ERR_CORRUPT, "pack table too short");
    plain = malloc(len);
    if (!plain) return err_set(err, ERR_NOMEM, "out of memory reading pack table");
    rc = cry_open(k, PACK_TOC_AD, strlen(PACK_TOC_AD), sealed, len, plain, len, &plen, err);
    if (rc) { err_wrap(err, "pack table"); goto out; }
    if (plen < 8 || get_u32(plain) != 1) { rc = err_set(err, ERR_CORRUPT, "pack table: unknown version"); goto out; }
    n = get_u32(plain + 4);
    if (plen != 8 + n * PACK_TOC_ENTRY_LEN) { rc = err_set(err, ERR_CORRUPT, "pack table: length mismatch"); goto out; }
    e = calloc(n ? n : 1, sizeof *e);
    if (!e) { rc = err_set(err, ERR_NOMEM, "out of memory reading pack table"); goto out; }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = plain + 8 + i * PACK_TOC_ENTRY_LEN;
        memcpy(e[i].id.b, p, ID_LEN);
        e[i].offset = get_u32(p + 32);
        e[i].length = get_u32(p + 36);
        e[i].raw_length = get_u32(p + 40);
        if (e[i].offset < PACK_MAGIC_LEN || (uint64_t)e[i].offset + e[i].length > toc_off ||
            e[i].length < CRY_OVERHEAD + 1) {
            rc = err_set(err, ERR_CORRUPT, "pack table: entry %zu out of bounds", i);
            goto out;
        }
    }
    *out = e;
    *out_n = n;
    e = NULL;
out:
    free(e);
    free(plain);
    return rc;
}

/* index_file.c: encoding of index objects (see index.h). Decoding treats
 * the input as untrusted: every count is checked against the length. */
#include <stdlib.h>
#include <string.h>

#include "engine/index/index.h"

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int idx_file_encode(const IdxFilePack *packs, size_t npacks, Buf *out, Err *err)
{
    uint8_t hdr[12], ph[36], e[44];
    int rc;
    memcpy(hdr, "TMIX", 4);
    put_u32(hdr + 4, 1);
    put_u32(hdr + 8, (uint32_t)npacks);
    if ((rc = buf_append(out, hdr, sizeof hdr, err))) return rc;
    for (size_t p = 0; p < npacks; p++) {
        memcpy(ph, packs[p].pack_id.b, ID_LEN);
        put_u32(ph + 32, (uint32_t)packs[p].n);
        if ((rc = buf_append(out, ph, sizeof ph, err))) return rc;
        for (size_t i = 0; i < packs[p].n; i++) {
            const PackEntry *pe = &packs[p].entries[i];
            memcpy(e, pe->id.b, ID_LEN);
            put_u32(e + 32, pe->offset);
            put_u32(e + 36, pe->length);
            put_u32(e + 40, pe->raw_length);
            if ((rc = buf_append(out, e, sizeof e, err))) return rc;
        }
    }
    return 0;
}

int idx_file_decode(const uint8_t *data, size_t len, IdxFilePackFn fn, void *ctx, Err *err)
{
    size_t off = 12, batch_cap = 0;
    uint32_t npacks;
    PackEntry *batch = NULL;
    int rc = 0;

    if (len < 12 || memcmp(data, "TMIX", 4) != 0) return err_set(err, ERR_CORRUPT, "not an index object");
    if (get_u32(data + 4) != 1) return err_set(err, ERR_VERSION, "index object version %u is newer than this tidemark", get_u32(data + 4));
    npacks = get_u32(data + 8);
    for (uint32_t p = 0; p < npacks; p++) {
        Id pid;
        uint32_t n;
        if (len - off < 36) { rc = err_set(err, ERR_CORRUPT, "index object truncated"); goto out; }
        memcpy(pid.b, data + off, ID_LEN);
        n = get_u32(data + off + 32);
        off += 36;
        if ((len - off) / 44 < n) { rc = err_set(err, ERR_CORRUPT, "index object truncated"); goto out; }
        if (n > batch_cap) {
            PackEntry *b = realloc(batch, n * sizeof *b);
            if (!b) { rc = err_set(err, ERR_NOMEM, "out of memory reading index"); goto out; }
            batch = b;
            batch_cap = n;
        }
        for (uint32_t i = 0; i < n; i++, off += 44) {
            memcpy(batch[i].id.b, data + off, ID_LEN);
            batch[i].offset = get_u32(data + off + 32);
            batch[i].length = get_u32(data + off + 36);
            batch[i].raw_length = get_u32(data + off + 40);
        }
        if ((rc = fn(ctx, &pid, batch, n, err))) goto out;
    }
    if (off != len) rc = err_set(err, ERR_CORRUPT, "index object has %zu trailing bytes", len - off);
out:
    free(batch);
    return rc;
}

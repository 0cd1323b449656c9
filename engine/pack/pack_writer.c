/* pack_writer.c: assembles a pack in memory: magic, sealed blobs, then the
 * sealed TOC and trailer. One writer per worker thread; not thread-safe. */
#include <stdlib.h>
#include <string.h>

#include "engine/pack/pack.h"

struct PackWriter {
    Buf data;
    size_t blobs_end;   /* data.len before pack_writer_finish, 0 when not finished */
    PackEntry *entries;
    size_t n, cap;
};

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

int pack_writer_new(PackWriter **out, Err *err)
{
    PackWriter *pw = calloc(1, sizeof *pw);
    if (!pw) return err_set(err, ERR_NOMEM, "out of memory");
    buf_init(&pw->data, PACK_MAX_SIZE);
    pack_writer_reset(pw);
    *out = pw;
    return 0;
}

void pack_writer_free(PackWriter *pw)
{
    if (!pw) return;
    buf_free(&pw->data);
    free(pw->entries);
    free(pw);
}

void pack_writer_reset(PackWriter *pw)
{
    buf_reset(&pw->data);
    pw->n = 0;
    pw->blobs_end = 0;
}

void pack_writer_unfinish(PackWriter *pw)
{
    if (pw->blobs_end) pw->data.len = pw->blobs_end;
    pw->blobs_end = 0;
}

static int add_entry(PackWriter *pw, const Id *id, size_t off, size_t len, uint32_t raw, Err *err)
{
    int rc = buf_grow(&pw->entries, &pw->cap, pw->n + 1, sizeof *pw->entries, (size_t)1 << 24, err);
    if (rc) return err_wrap(err, "pack table");
    pw->entries[pw->n].id = *id;
    pw->entries[pw->n].offset = (uint32_t)off;
    pw->entries[pw->n].length = (uint32_t)len;
    pw->entries[pw->n].raw_length = raw;
    pw->n++;
    return 0;
}

int pack_writer_reserve(PackWriter *pw, size_t cap, uint8_t **out_dst, Err *err)
{
    int rc;
    pack_writer_unfinish(pw);
    if (pw->data.len == 0 && (rc = buf_append(&pw->data, PACK_MAGIC, PACK_MAGIC_LEN, err))) return rc;
    if ((rc = buf_reserve(&pw->data, cap, err))) return rc;
    *out_dst = pw->data.data + pw->data.len;
    return 0;
}

int pack_writer_commit(PackWriter *pw, const Id *id, size_t len, uint32_t raw_length, Err *err)
{
    int rc = add_entry(pw, id, pw->data.len, len, raw_length, err);
    if (rc) return rc;
    pw->data.len += len;
    return 0;
}

int pack_writer_add(PackWriter *pw, const Id *id, const uint8_t *sealed, size_t len,
                    uint32_t raw_length, Err *err)
{
    uint8_t *dst;
    int rc = pack_writer_reserve(pw, len, &dst, err);
    if (rc) return rc;
    memcpy(dst, sealed, len);
    return pack_writer_commit(pw, id, len, raw_length, err);
}

size_t pack_writer_size(const PackWriter *pw) { return pw->data.len; }
size_t pack_writer_count(const PackWriter *pw) { return pw->n; }
const PackEntry *pack_writer_entries(const PackWriter *pw) { return pw->entries; }

int pack_writer_finish(PackWriter *pw, const CryKeys *k, const uint8_t **out_data, size_t *out_len,
                       Err *err)
{
    uint8_t *toc = NULL, *dst;
    size_t toc_len = 8 + pw->n * PACK_TOC_ENTRY_LEN, sealed_len = 0;
    int rc;

    pack_writer_unfinish(pw);   /* finishing twice must not stack two tables */
    if (pw->data.len == 0 && (rc = buf_append(&pw->data, PACK_MAGIC, PACK_MAGIC_LEN, err))) return rc;
    pw->blobs_end = pw->data.len;
    toc = malloc(toc_len);
    if (!toc) return err_set(err, ERR_NOMEM, "out of memory building pack table");
    put_u32(toc, 1);
    put_u32(toc + 4, (uint32_t)pw->n);
    for (size_t i = 0; i < pw->n; i++) {
        uint8_t *e = toc + 8 + i * PACK_TOC_ENTRY_LEN;
        memcpy(e, pw->entries[i].id.b, ID_LEN);
        put_u32(e + 32, pw->entries[i].offset);
        put_u32(e + 36, pw->entries[i].length);
        put_u32(e + 40, pw->entries[i].raw_length);
    }
    if ((rc = buf_reserve(&pw->data, toc_len + CRY_OVERHEAD + PACK_TRAILER_LEN, err))) goto out;
    dst = pw->data.data + pw->data.len;
    rc = cry_seal(k, PACK_TOC_AD, strlen(PACK_TOC_AD), toc, toc_len, dst, toc_len + CRY_OVERHEAD,
                  &sealed_len, err);
    if (rc) goto out;
    pw->data.len += sealed_len;
    put_u32(pw->data.data + pw->data.len, (uint32_t)sealed_len);
    memcpy(pw->data.data + pw->data.len + 4, "TMPK", 4);
    pw->data.len += PACK_TRAILER_LEN;
    *out_data = pw->data.data;
    *out_len = pw->data.len;
out:
    free(toc);
    return rc;
}

/* mdb_event.c: the fields of raw binlog events the follower, the plan, the
 * search and the replay read (header, Format_description checksum byte,
 * Rotate, GTID, Gtid_list, Query text, where a transaction ends) and their
 * CRC32.
 * Invariant: pure functions over borrowed bytes; every read is bounds
 * checked against the event's own length, so a corrupt event is ERR_CORRUPT,
 * never an out-of-bounds read. */
#include <string.h>
#include <strings.h>

#include "engine/mariadb/mdb.h"

int mdb_event_header(const uint8_t *ev, size_t len, MdbEventHdr *out, Err *err)
{
    if (len < MDB_HDR_LEN)
        return err_set(err, ERR_CORRUPT, "binlog event of %zu bytes is shorter than its header",
                       len);
    out->timestamp = mdb_le32(ev);
    out->type = ev[4];
    out->server_id = mdb_le32(ev + 5);
    out->length = mdb_le32(ev + 9);
    out->next_pos = mdb_le32(ev + 13);
    out->flags = (uint16_t)(ev[17] | ev[18] << 8);
    if (out->length != len)
        return err_set(err, ERR_CORRUPT,
                       "binlog event type %u announces %u bytes but %zu were received",
                       out->type, out->length, len);
    return 0;
}

bool mdb_event_is_real(const MdbEventHdr *h)
{
    return h->type != MDB_EV_HEARTBEAT && !(h->flags & MDB_FLAG_ARTIFICIAL) &&
           h->next_pos != 0;
}

int mdb_event_fd_checksum(const uint8_t *ev, size_t len, unsigned *out_alg, Err *err)
{
    /* header, binlog version (2), server version (50), create time (4),
     * header length (1), post-header lengths..., checksum alg (1), crc (4):
     * servers that know checksums always write the last five bytes. */
    if (len < MDB_HDR_LEN + 57 + 5)
        return err_set(err, ERR_CORRUPT, "format description event too short (%zu bytes)", len);
    unsigned alg = ev[len - 5];
    if (alg != 0 && alg != 1)
        return err_set(err, ERR_VERSION, "binlog checksum algorithm %u is not supported", alg);
    *out_alg = alg;
    return 0;
}

int mdb_event_crc_check(const uint8_t *ev, size_t len, Err *err)
{
    if (len < MDB_HDR_LEN + 4)
        return err_set(err, ERR_CORRUPT, "binlog event too short for a checksum");
    uint32_t want = mdb_le32(ev + len - 4);
    uint32_t got;
    if (ev[4] == MDB_EV_FORMAT_DESC && (ev[17] & MDB_FLAG_IN_USE)) {
        /* the server computes the FD checksum with the in-use flag clear */
        uint8_t hdr[MDB_HDR_LEN];
        memcpy(hdr, ev, sizeof hdr);
        hdr[17] = (uint8_t)(hdr[17] & ~MDB_FLAG_IN_USE);
        got = mdb_crc32(mdb_crc32(0, hdr, sizeof hdr), ev + MDB_HDR_LEN,
                           len - 4 - MDB_HDR_LEN);
    } else {
        got = mdb_crc32(0, ev, len - 4);
    }
    if (got != want)
        return err_set(err, ERR_CORRUPT,
                       "binlog event type %u at end position %u fails its CRC32 (%08x != %08x)",
                       ev[4], mdb_le32(ev + 13), got, want);
    return 0;
}

int mdb_event_rotate(const uint8_t *ev, size_t len, size_t csum_len, char *name, size_t cap,
                        uint64_t *out_pos, Err *err)
{
    if (len < MDB_HDR_LEN + 8 + csum_len + 1)
        return err_set(err, ERR_CORRUPT, "rotate event too short (%zu bytes)", len);
    size_t nlen = len - MDB_HDR_LEN - 8 - csum_len;
    if (nlen >= cap)
        return err_set(err, ERR_CORRUPT, "rotate event names a file of %zu bytes", nlen);
    *out_pos = mdb_le64(ev + MDB_HDR_LEN);
    memcpy(name, ev + MDB_HDR_LEN + 8, nlen);
    name[nlen] = '\0';
    if (memchr(name, '/', nlen) || memchr(name, '\0', nlen) || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return err_set(err, ERR_CORRUPT, "rotate event names an unsafe file name");
    return 0;
}

int mdb_event_gtid(const uint8_t *ev, size_t len, MdbGtid *out, uint8_t *out_flags,
                      Err *err)
{
    if (len < MDB_HDR_LEN + 13)
        return err_set(err, ERR_CORRUPT, "gtid event too short (%zu bytes)", len);
    out->seq = mdb_le64(ev + MDB_HDR_LEN);
    out->domain = mdb_le32(ev + MDB_HDR_LEN + 8);
    out->server = mdb_le32(ev + 5);
    if (out_flags)
        *out_flags = ev[MDB_HDR_LEN + 12];
    return 0;
}

int mdb_event_gtid_list(const uint8_t *ev, size_t len,
                        int (*fn)(void *ctx, const MdbGtid *g, Err *err), void *ctx, Err *err)
{
    if (len < MDB_HDR_LEN + 4)
        return err_set(err, ERR_CORRUPT, "gtid list event too short (%zu bytes)", len);
    uint32_t n = mdb_le32(ev + MDB_HDR_LEN) & 0x0fffffffu;   /* top 4 bits are flags */
    if ((size_t)n * 16 > len - MDB_HDR_LEN - 4)
        return err_set(err, ERR_CORRUPT, "gtid list event announces %u entries in %zu bytes", n,
                       len);
    const uint8_t *p = ev + MDB_HDR_LEN + 4;
    for (uint32_t i = 0; i < n; i++, p += 16) {
        MdbGtid g = {.domain = mdb_le32(p), .server = mdb_le32(p + 4), .seq = mdb_le64(p + 8)};
        int rc = fn(ctx, &g, err);
        if (rc) return rc;
    }
    return 0;
}

bool mdb_query_text(const uint8_t *ev, size_t end, const char **db, size_t *dblen,
                    const char **q, size_t *qlen)
{
    /* post-header: thread id 4, exec time 4, db length 1, error 2, status
     * vars length 2; then status vars, db name, NUL, statement */
    size_t p = MDB_HDR_LEN, status_len, dl;
    if (end < p + 13) return false;
    dl = ev[p + 8];
    status_len = mdb_le16(ev + p + 11);
    p += 13 + status_len;
    if (p + dl + 1 > end) return false;
    *db = (const char *)ev + p;
    *dblen = dl;
    p += dl + 1;
    *q = (const char *)ev + p;
    *qlen = end - p;
    return true;
}

bool mdb_event_query_is(const uint8_t *ev, size_t len, size_t csum_len, const char *word)
{
    const char *db, *q;
    size_t dl, ql, wlen = strlen(word);
    if (len < MDB_HDR_LEN + 13 + csum_len || !mdb_query_text(ev, len - csum_len, &db, &dl, &q, &ql))
        return false;
    return ql == wlen && strncasecmp(q, word, wlen) == 0;
}

static bool part_of_group(uint8_t type)
{
    return type == MDB_EV_GTID || type == MDB_EV_INTVAR || type == MDB_EV_RAND ||
           type == MDB_EV_USER_VAR || type == MDB_EV_TABLE_MAP || type == MDB_EV_ANNOTATE_ROWS;
}

bool mdb_event_ends_group(uint8_t type, const uint8_t *ev, size_t end, bool standalone)
{
    if (standalone) return !part_of_group(type);
    if (type == MDB_EV_XID || type == MDB_EV_XA_PREPARE) return true;
    return type == MDB_EV_QUERY && (mdb_event_query_is(ev, end, 0, "COMMIT") ||
                                    mdb_event_query_is(ev, end, 0, "ROLLBACK"));
}

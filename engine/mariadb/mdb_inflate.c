/* mdb_uncompress.c: MariaDB compressed binlog events (log_bin_compress=ON)
 * turned back into the plain event the server would have written, so the
 * search reads statement text and row counts through the usual parsers.
 * Layout (MariaDB sql/log_event.cc): the header, the post-header and, for
 * a Query the status variables and the database name, for a rows event the
 * v2 extra data, column count and column bitmap(s), stay as they are; what
 * follows is one record: a byte 0x80 | algorithm << 4 | n (algorithm 0 =
 * zlib, n = 1..4), the uncompressed length on n bytes big-endian, then a
 * zlib stream (compress(), with its header and Adler-32).
 * Invariant: never reads past the event nor writes past the announced
 * length; the result is bounded by MDB_INFLATE_MAX. */
#include <inttypes.h>
#include <string.h>
#include <zlib.h>

#include "engine/mariadb/mdb.h"

/* Length of a packed integer at p (column count); -1 when it runs past end. */
static int packed_skip(const uint8_t *p, const uint8_t *end, uint64_t *out)
{
    if (p >= end) return -1;
    if (*p < 251) { *out = *p; return 1; }
    if (*p == 252 && end - p >= 3) { *out = mdb_le16(p + 1); return 3; }
    if (*p == 253 && end - p >= 4) { *out = mdb_le24(p + 1); return 4; }
    if (*p == 254 && end - p >= 9) { *out = mdb_le64(p + 1); return 9; }
    return -1;
}

/* Offset of the compressed record in a compressed event whose body ends
 * at end; 0 when the uncompressed part does not fit. */
static size_t record_offset(const uint8_t *ev, size_t end, uint8_t type, uint8_t *out_plain)
{
    if (type == MDB_EV_QUERY_COMPRESSED) {
        /* thread id 4, exec time 4, db length 1, error code 2, status length 2 */
        if (end < MDB_HDR_LEN + 13) return 0;
        size_t dl = ev[MDB_HDR_LEN + 8], sl = mdb_le16(ev + MDB_HDR_LEN + 11);
        size_t off = MDB_HDR_LEN + 13 + sl + dl + 1;
        *out_plain = MDB_EV_QUERY;
        return off < end ? off : 0;
    }
    bool v2 = type >= MDB_EV_WRITE_COMP_V2 && type <= MDB_EV_DELETE_COMP_V2;
    uint8_t plain = v2 ? (uint8_t)(type - MDB_EV_WRITE_COMP_V2 + MDB_EV_WRITE_V2)
                       : (uint8_t)(type - MDB_EV_WRITE_COMP_V1 + MDB_EV_WRITE_V1);
    size_t off = MDB_HDR_LEN + 8;                  /* table id 6, flags 2 */
    uint64_t ncols;
    if (v2) {
        if (end < off + 2) return 0;
        size_t extra = mdb_le16(ev + off);    /* counts its own 2 bytes */
        if (extra < 2 || extra > end - off) return 0;
        off += extra;
    }
    int pl = packed_skip(ev + off, ev + end, &ncols);
    if (pl < 0 || ncols > ((uint64_t)1 << 20)) return 0;
    off += (size_t)pl;
    size_t bm = (size_t)(ncols + 7) / 8;
    bool upd = plain == MDB_EV_UPDATE_V1 || plain == MDB_EV_UPDATE_V2;
    off += upd ? 2 * bm : bm;
    *out_plain = plain;
    return off < end ? off : 0;
}

static int inflate_exact(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len, Err *err)
{
    z_stream z;
    int zr, rc = 0;
    memset(&z, 0, sizeof z);
    zr = inflateInit(&z);
    if (zr != Z_OK)
        return err_set(err, zr == Z_MEM_ERROR ? ERR_NOMEM : ERR_CORRUPT, "zlib inflateInit: %s",
                       zError(zr));
    /* sizes are bounded by the event length (< 4 GiB) and MDB_INFLATE_MAX */
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)src_len;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    zr = inflate(&z, Z_FINISH);
    if (zr == Z_STREAM_END) {
        if (z.total_out != dst_len)
            rc = err_set(err, ERR_CORRUPT, "zlib data gives %lu bytes, the record announces %zu",
                         z.total_out, dst_len);
        /* bytes after the end of the stream are ignored, as the server does */
    } else if (zr == Z_BUF_ERROR || zr == Z_OK) {
        if (z.avail_out == 0)
            rc = err_set(err, ERR_CORRUPT, "zlib data is longer than the announced %zu bytes", dst_len);
        else
            rc = err_set(err, ERR_CORRUPT, "zlib data is truncated (%lu of %zu bytes)", z.total_out,
                         dst_len);
    } else if (zr == Z_MEM_ERROR) {
        rc = err_set(err, ERR_NOMEM, "zlib inflate: out of memory");
    } else {
        rc = err_set(err, ERR_CORRUPT, "zlib data is corrupt: %s", z.msg ? z.msg : zError(zr));
    }
    inflateEnd(&z);
    return rc;
}

int mdb_event_inflate(const uint8_t *ev, size_t len, bool crc, Buf *out, uint8_t *out_type,
                          Err *err)
{
    uint8_t type, plain = 0, hb;
    size_t end, off, lenlen, comp_len, total;
    uint64_t un_len = 0;
    int rc;

    if (len < MDB_HDR_LEN) return err_set(err, ERR_CORRUPT, "event of %zu bytes is shorter than a header", len);
    type = ev[4];
    if (!mdb_event_is_compressed(type))
        return err_set(err, ERR_INVALID, "event type %u is not a compressed event", type);
    if (mdb_le32(ev + 9) != len)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: header length %" PRIu32
                       " but %zu bytes", type, mdb_le32(ev + 9), len);
    end = crc ? len - 4 : len;
    if (crc && len < MDB_HDR_LEN + 4)
        return err_set(err, ERR_CORRUPT, "compressed event type %u of %zu bytes has no room for its checksum",
                       type, len);
    off = record_offset(ev, end, type, &plain);
    if (!off)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: the uncompressed part runs past "
                       "the event (%zu bytes)", type, len);
    hb = ev[off];
    lenlen = hb & 0x07u;
    if (!(hb & 0x80u) || lenlen < 1 || lenlen > 4)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: bad record header byte 0x%02x",
                       type, hb);
    if ((hb >> 4 & 0x07u) != 0)
        return err_set(err, ERR_UNSUPPORTED, "compressed event type %u: compression algorithm %u "
                       "(only zlib, 0, is known)", type, hb >> 4 & 0x07u);
    if (end - off < 1 + lenlen + 1)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: truncated record (%zu bytes)",
                       type, end - off);
    for (size_t i = 0; i < lenlen; i++) un_len = un_len << 8 | ev[off + 1 + i];
    if (un_len == 0)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: uncompressed length 0", type);
    if (un_len > MDB_INFLATE_MAX)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: uncompressed length %" PRIu64
                       " bytes is over the %zu-byte limit", type, un_len, (size_t)MDB_INFLATE_MAX);
    comp_len = end - off - 1 - lenlen;
    /* deflate expands at most 1032:1 (zlib's technical notes): a larger
     * announced length is a damaged record, refused before reserving it */
    if (un_len / 1032 > comp_len)
        return err_set(err, ERR_CORRUPT, "compressed event type %u: uncompressed length %" PRIu64
                       " bytes cannot come from %zu bytes of zlib data", type, un_len, comp_len);
    total = off + (size_t)un_len + (crc ? 4 : 0);

    buf_reset(out);
    rc = buf_reserve(out, total, err);
    if (rc) return err_wrap(err, "uncompressed event of %zu bytes", total);
    memcpy(out->data, ev, off);
    rc = inflate_exact(ev + off + 1 + lenlen, comp_len, out->data + off, (size_t)un_len, err);
    if (rc) return err_wrap(err, "compressed event type %u", type);
    out->data[4] = plain;
    out->data[9] = (uint8_t)total;
    out->data[10] = (uint8_t)(total >> 8);
    out->data[11] = (uint8_t)(total >> 16);
    out->data[12] = (uint8_t)(total >> 24);
    if (crc) {
        /* the same CRC-32 the server puts on every event */
        uLong c = crc32(0L, out->data, (uInt)(total - 4));
        for (int i = 0; i < 4; i++) out->data[total - 4 + (size_t)i] = (uint8_t)(c >> (8 * i));
    }
    out->len = total;
    *out_type = plain;
    return 0;
}

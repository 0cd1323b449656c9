/* binlog_event.c: read the few fields the archive needs from raw binlog
 * events (header, Format_description checksum byte, Rotate, GTID,
 * Gtid_list, COMMIT/ROLLBACK queries) and check their CRC32.
 * Invariant: pure functions over borrowed bytes; every read is bounds
 * checked against the event's own length, so a corrupt event is ERR_CORRUPT,
 * never an out-of-bounds read. */
#include <string.h>
#include <strings.h>

#include "engine/source/binlog/binlog_int.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t binlog_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
        crc_init();   /* idempotent: racing threads write the same table */
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int binlog_event_header(const uint8_t *ev, size_t len, BinlogEventHdr *out, Err *err)
{
    if (len < BINLOG_HDR_LEN)
        return err_set(err, ERR_CORRUPT, "binlog event of %zu bytes is shorter than its header",
                       len);
    out->timestamp = rd32(ev);
    out->type = ev[4];
    out->server_id = rd32(ev + 5);
    out->length = rd32(ev + 9);
    out->next_pos = rd32(ev + 13);
    out->flags = (uint16_t)(ev[17] | ev[18] << 8);
    if (out->length != len)
        return err_set(err, ERR_CORRUPT,
                       "binlog event type %u announces %u bytes but %zu were received",
                       out->type, out->length, len);
    return 0;
}

bool binlog_event_is_real(const BinlogEventHdr *h)
{
    return h->type != BINLOG_EV_HEARTBEAT && !(h->flags & BINLOG_FLAG_ARTIFICIAL) &&
           h->next_pos != 0;
}

int binlog_event_fd_checksum(const uint8_t *ev, size_t len, unsigned *out_alg, Err *err)
{
    /* header, binlog version (2), server version (50), create time (4),
     * header length (1), post-header lengths..., checksum alg (1), crc (4):
     * servers that know checksums always write the last five bytes. */
    if (len < BINLOG_HDR_LEN + 57 + 5)
        return err_set(err, ERR_CORRUPT, "format description event too short (%zu bytes)", len);
    unsigned alg = ev[len - 5];
    if (alg != 0 && alg != 1)
        return err_set(err, ERR_VERSION, "binlog checksum algorithm %u is not supported", alg);
    *out_alg = alg;
    return 0;
}

int binlog_event_crc_check(const uint8_t *ev, size_t len, Err *err)
{
    if (len < BINLOG_HDR_LEN + 4)
        return err_set(err, ERR_CORRUPT, "binlog event too short for a checksum");
    uint32_t want = rd32(ev + len - 4);
    uint32_t got;
    if (ev[4] == BINLOG_EV_FORMAT_DESCRIPTION && (ev[17] & BINLOG_FLAG_IN_USE)) {
        /* the server computes the FD checksum with the in-use flag clear */
        uint8_t hdr[BINLOG_HDR_LEN];
        memcpy(hdr, ev, sizeof hdr);
        hdr[17] = (uint8_t)(hdr[17] & ~BINLOG_FLAG_IN_USE);
        got = binlog_crc32(binlog_crc32(0, hdr, sizeof hdr), ev + BINLOG_HDR_LEN,
                           len - 4 - BINLOG_HDR_LEN);
    } else {
        got = binlog_crc32(0, ev, len - 4);
    }
    if (got != want)
        return err_set(err, ERR_CORRUPT,
                       "binlog event type %u at end position %u fails its CRC32 (%08x != %08x)",
                       ev[4], rd32(ev + 13), got, want);
    return 0;
}

int binlog_event_rotate(const uint8_t *ev, size_t len, size_t csum_len, char *name, size_t cap,
                        uint64_t *out_pos, Err *err)
{
    if (len < BINLOG_HDR_LEN + 8 + csum_len + 1)
        return err_set(err, ERR_CORRUPT, "rotate event too short (%zu bytes)", len);
    size_t nlen = len - BINLOG_HDR_LEN - 8 - csum_len;
    if (nlen >= cap)
        return err_set(err, ERR_CORRUPT, "rotate event names a file of %zu bytes", nlen);
    *out_pos = rd64(ev + BINLOG_HDR_LEN);
    memcpy(name, ev + BINLOG_HDR_LEN + 8, nlen);
    name[nlen] = '\0';
    if (memchr(name, '/', nlen) || memchr(name, '\0', nlen) || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return err_set(err, ERR_CORRUPT, "rotate event names an unsafe file name");
    return 0;
}

int binlog_event_gtid(const uint8_t *ev, size_t len, BinlogGtid *out, uint8_t *out_flags,
                      Err *err)
{
    if (len < BINLOG_HDR_LEN + 13)
        return err_set(err, ERR_CORRUPT, "gtid event too short (%zu bytes)", len);
    out->seq = rd64(ev + BINLOG_HDR_LEN);
    out->domain = rd32(ev + BINLOG_HDR_LEN + 8);
    out->server = rd32(ev + 5);
    if (out_flags)
        *out_flags = ev[BINLOG_HDR_LEN + 12];
    return 0;
}

int binlog_event_gtid_list(const uint8_t *ev, size_t len,
                           void (*fn)(void *ctx, const BinlogGtid *g), void *ctx, Err *err)
{
    if (len < BINLOG_HDR_LEN + 4)
        return err_set(err, ERR_CORRUPT, "gtid list event too short (%zu bytes)", len);
    uint32_t n = rd32(ev + BINLOG_HDR_LEN) & 0x0fffffffu;   /* top 4 bits are flags */
    if ((size_t)n * 16 > len - BINLOG_HDR_LEN - 4)
        return err_set(err, ERR_CORRUPT, "gtid list event announces %u entries in %zu bytes", n,
                       len);
    const uint8_t *p = ev + BINLOG_HDR_LEN + 4;
    for (uint32_t i = 0; i < n; i++, p += 16) {
        BinlogGtid g = {.domain = rd32(p), .server = rd32(p + 4), .seq = rd64(p + 8)};
        fn(ctx, &g);
    }
    return 0;
}

bool binlog_event_query_is(const uint8_t *ev, size_t len, size_t csum_len, const char *word)
{
    /* post-header: thread id 4, exec time 4, db length 1, error 2, status
     * vars length 2; then status vars, db name, NUL, statement */
    const size_t ph = 13;
    if (len < BINLOG_HDR_LEN + ph + csum_len)
        return false;
    size_t db_len = ev[BINLOG_HDR_LEN + 8];
    size_t sv_len = (size_t)(ev[BINLOG_HDR_LEN + 11] | ev[BINLOG_HDR_LEN + 12] << 8);
    size_t off = BINLOG_HDR_LEN + ph + sv_len + db_len + 1;
    size_t end = len - csum_len;
    if (off > end)
        return false;
    size_t wlen = strlen(word);
    return end - off == wlen && strncasecmp((const char *)ev + off, word, wlen) == 0;
}

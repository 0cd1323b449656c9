/* binlog_events.h: building binlog events byte by byte the way the server
 * writes them (v4 header, little-endian fields, length patched at the end,
 * CRC32 appended when asked), shared by the pitr unit tests and the fuzz
 * corpus generator.
 * Invariant: an event never grows past TST_EV_CAP; a write that would is a
 * test failure (TST_EV_ASSERT: cmocka's assert_true in the unit tests,
 * abort() elsewhere). */
#ifndef TM_TESTS_SUPPORT_BINLOG_EVENTS_H
#define TM_TESTS_SUPPORT_BINLOG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#ifndef TST_EV_CAP
#define TST_EV_CAP ((size_t)1 << 18)
#endif
#ifndef TST_EV_ASSERT
#define TST_EV_ASSERT(c) do { if (!(c)) abort(); } while (0)
#endif

/* One event being built: b[0..n). */
typedef struct Ev {
    uint8_t b[TST_EV_CAP];
    size_t n;
} Ev;

static inline void ev_put(Ev *e, const void *p, size_t n)
{
    TST_EV_ASSERT(e->n + n <= sizeof e->b);
    memcpy(e->b + e->n, p, n);
    e->n += n;
}
static inline void ev_put8(Ev *e, unsigned v) { uint8_t b = (uint8_t)v; ev_put(e, &b, 1); }
static inline void ev_put16(Ev *e, unsigned v) { ev_put8(e, v & 0xff); ev_put8(e, v >> 8 & 0xff); }
static inline void ev_put32(Ev *e, uint32_t v) { ev_put16(e, v & 0xffff); ev_put16(e, v >> 16); }

/* Start e as an event of type type: timestamp, type, server id, length
 * (0 until ev_finish), next position, flags 0. */
static inline void ev_header(Ev *e, uint8_t type, uint32_t ts, uint32_t server_id, uint32_t next_pos)
{
    e->n = 0;
    ev_put32(e, ts);
    ev_put8(e, type);
    ev_put32(e, server_id);
    ev_put32(e, 0);
    ev_put32(e, next_pos);
    ev_put16(e, 0);
}

/* Set the length field and append the CRC32 when crc. */
static inline void ev_finish(Ev *e, bool crc)
{
    uint32_t len = (uint32_t)e->n + (crc ? 4 : 0);
    for (int i = 0; i < 4; i++) e->b[9 + i] = (uint8_t)(len >> (8 * i));
    if (crc) ev_put32(e, (uint32_t)crc32(0L, e->b, (uInt)e->n));
}

/* The body of a MariaDB 10.11 Format_description (after ev_header):
 * binlog version 4, server version, create time, header length 19, 40
 * post-header lengths, the checksum algorithm byte (1 = CRC32). */
static inline void ev_format_desc_body(Ev *e, bool crc)
{
    char ver[50] = "10.11.6-MariaDB-log";
    ev_put16(e, 4);
    ev_put(e, ver, sizeof ver);
    ev_put32(e, 0);
    ev_put8(e, 19);
    for (int i = 0; i < 40; i++) ev_put8(e, 8);
    ev_put8(e, crc ? 1 : 0);
}

/* Table_map post-header and names: table id (6 bytes), flags 1, db, table
 * (each length-prefixed and NUL-terminated). The caller adds the column
 * count, types, metadata and NULL-able bitmap. */
static inline void ev_table_map_names(Ev *e, uint32_t id, const char *db, const char *t)
{
    ev_put32(e, id);
    ev_put16(e, 0);
    ev_put16(e, 1);
    ev_put8(e, (unsigned)strlen(db));
    ev_put(e, db, strlen(db) + 1);
    ev_put8(e, (unsigned)strlen(t));
    ev_put(e, t, strlen(t) + 1);
}

/* A Query body after ev_header: thread id 77, exec time 0, db length,
 * error 0, the status variables given (slen bytes, may be 0), db + NUL,
 * then tlen bytes of text. Returns the offset where the text starts (what a
 * compressed Query keeps plain). */
static inline size_t ev_query_body(Ev *e, const uint8_t *status, size_t slen, const char *db, const char *text,
                                   size_t tlen)
{
    size_t keep;
    ev_put32(e, 77);
    ev_put32(e, 0);
    ev_put8(e, (unsigned)strlen(db));
    ev_put16(e, 0);
    ev_put16(e, (unsigned)slen);
    if (slen) ev_put(e, status, slen);
    ev_put(e, db, strlen(db) + 1);
    keep = e->n;
    ev_put(e, text, tlen);
    return keep;
}

/* The compressed twin of the finished event plain (with its CRC when crc):
 * its first keep bytes as they are with the type set to ctype, the rest as
 * one MariaDB compressed record (header byte 0x80 | lenlen, the length
 * big-endian on lenlen bytes, 0 = as few as the server uses; then zlib). */
static inline void ev_compress_twin(const Ev *plain, bool crc, size_t keep, uint8_t ctype, unsigned lenlen,
                                    Ev *out)
{
    size_t body = plain->n - (crc ? 4 : 0), raw = body - keep;
    uLongf zl = compressBound((uLong)raw);
    uint8_t *z = malloc(zl);
    TST_EV_ASSERT(z != NULL);
    TST_EV_ASSERT(compress(z, &zl, plain->b + keep, (uLong)raw) == Z_OK);
    if (!lenlen) lenlen = raw > 0xffffff ? 4 : raw > 0xffff ? 3 : raw > 0xff ? 2 : 1;
    out->n = 0;
    ev_put(out, plain->b, keep);
    out->b[4] = ctype;
    ev_put8(out, 0x80u | lenlen);
    for (unsigned i = lenlen; i-- > 0;) ev_put8(out, (unsigned)(raw >> (8 * i)) & 0xff);
    ev_put(out, z, zl);
    free(z);
    ev_finish(out, crc);
}

#endif

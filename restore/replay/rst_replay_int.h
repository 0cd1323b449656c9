/* rst_replay_int.h: helpers shared inside restore/replay only: SHA-1 and
 * the native-password scramble, CRC32 (binlog checksums), MySQL packet
 * framing on a socket, and the binlog event layout constants. */
#ifndef TM_RESTORE_RST_REPLAY_INT_H
#define TM_RESTORE_RST_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"

/* ---- rst_sha1.c: FIPS 180-4 SHA-1 (only for mysql_native_password) ---- */
typedef struct RstSha1 {
    uint32_t h[5];
    uint64_t total;
    uint8_t block[64];
    size_t used;
} RstSha1;
void rst_sha1_init(RstSha1 *c);
void rst_sha1_update(RstSha1 *c, const void *p, size_t n);
void rst_sha1_final(RstSha1 *c, uint8_t out[20]);
void rst_sha1(const void *p, size_t n, uint8_t out[20]);
/* The 20-byte reply a client computes for mysql_native_password:
 * SHA1(pw) XOR SHA1(salt || SHA1(SHA1(pw))). */
void rst_native_scramble(const uint8_t salt[20], const char *password, uint8_t out[20]);

/* ---- rst_crc32.c: CRC-32 (ISO-HDLC, zlib's), as binlog checksums use ---- */
uint32_t rst_crc32(uint32_t crc, const void *p, size_t n);

/* ---- binlog event layout ---------------------------------------------- */
#define RST_EV_HEADER 19
#define RST_EV_TYPE_OFF 4
#define RST_EV_SERVER_OFF 5
#define RST_EV_LEN_OFF 9
#define RST_EV_POS_OFF 13
#define RST_EV_FLAGS_OFF 17
enum {
    RST_EV_QUERY = 2,
    RST_EV_STOP = 3,
    RST_EV_ROTATE = 4,
    RST_EV_INTVAR = 5,
    RST_EV_RAND = 13,
    RST_EV_USER_VAR = 14,
    RST_EV_FORMAT_DESC = 15,
    RST_EV_XID = 16,
    RST_EV_BEGIN_LOAD_QUERY = 17,
    RST_EV_TABLE_MAP = 19,
    RST_EV_HEARTBEAT = 27,
    RST_EV_XA_PREPARE = 38,
    RST_EV_ANNOTATE_ROWS = 160,
    RST_EV_BINLOG_CHECKPOINT = 161,
    RST_EV_GTID = 162,
    RST_EV_GTID_LIST = 163,
    RST_EV_START_ENCRYPTION = 164,
};
#define RST_EV_F_IN_USE 0x1
#define RST_EV_F_ARTIFICIAL 0x20
#define RST_GTID_FL_STANDALONE 0x1
#define RST_GTID_LIST_UNTIL_REACHED (1u << 28)

static inline uint16_t rst_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rst_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t rst_get64(const uint8_t *p)
{
    return (uint64_t)rst_get32(p) | (uint64_t)rst_get32(p + 4) << 32;
}
static inline void rst_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void rst_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void rst_put64(uint8_t *p, uint64_t v)
{
    rst_put32(p, (uint32_t)v);
    rst_put32(p + 4, (uint32_t)(v >> 32));
}

/* One GTID per replication domain; a position is a short list of them. */
typedef struct RstGtid {
    uint32_t domain;
    uint32_t server;
    uint64_t seq;
} RstGtid;
#define RST_GTID_MAX 32
typedef struct RstGtidPos {
    size_t n;
    RstGtid g[RST_GTID_MAX];
} RstGtidPos;
/* Parse "d-s-n[,d-s-n...]" (spaces allowed, empty = empty position). */
int rst_gtid_pos_parse(const char *s, RstGtidPos *out, Err *err);
/* Find the entry of a domain, or NULL. */
RstGtid *rst_gtid_pos_find(RstGtidPos *p, uint32_t domain);
/* Set the domain's entry (add it when missing). */
int rst_gtid_pos_set(RstGtidPos *p, const RstGtid *g, Err *err);
/* "d-s-n,..." into out (cap bytes, always terminated). */
void rst_gtid_pos_format(const RstGtidPos *p, char *out, size_t cap);

/* ---- rst_proto.c: MySQL client/server packets on a blocking socket ---- */
typedef struct RstConn {
    int fd;
    uint8_t seq;              /* next sequence id to send / expected */
    Buf out;                  /* pending output, flushed by rst_conn_flush */
    Buf in;                   /* last packet payload read */
} RstConn;
void rst_conn_init(RstConn *c, int fd);
void rst_conn_free(RstConn *c);   /* closes fd */
/* Read one logical packet (joining 16 MiB continuations) into c->in. Waits up
 * to timeout_ms (-1 = forever); ERR_NET on EOF/timeout. */
int rst_conn_read(RstConn *c, int timeout_ms, Err *err);
/* Queue a packet (split at 16 MiB - 1); flushes when the buffer is large. */
int rst_conn_write(RstConn *c, const void *payload, size_t n, Err *err);
/* Queue a packet made of a 1-byte prefix and a body (events: 0x00 + event). */
int rst_conn_write2(RstConn *c, uint8_t prefix, const void *body, size_t n, Err *err);
int rst_conn_flush(RstConn *c, Err *err);
int rst_conn_ok(RstConn *c, Err *err);
int rst_conn_errpkt(RstConn *c, uint16_t code, const char *state, const char *msg, Err *err);
int rst_conn_eof(RstConn *c, Err *err);
/* A text result set of string columns; rows is nrows*ncols (NULL = SQL NULL). */
int rst_conn_resultset(RstConn *c, const char *const *cols, size_t ncols,
                       const char *const *rows, size_t nrows, Err *err);

#endif

/* rst_replay_int.h: helpers shared inside restore/replay only: SHA-1 and
 * the native-password scramble and MySQL packet framing on a socket. */
#ifndef TM_RESTORE_RST_REPLAY_INT_H
#define TM_RESTORE_RST_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "engine/mariadb/mdb.h"

/* ---- rst_scramble.c: mysql_native_password ------------------------------ */
/* The 20-byte reply a client computes for mysql_native_password:
 * SHA1(pw) XOR SHA1(salt || SHA1(SHA1(pw))) (libcrypto's SHA-1). False
 * when libcrypto fails (out of memory): out is then not set. */
bool rst_native_scramble(const uint8_t salt[20], const char *password, uint8_t out[20]);

/* Binlog event layout, little-endian readers, CRC-32 and GTID positions:
 * engine/mariadb/mdb.h. */

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

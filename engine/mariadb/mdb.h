/* mdb.h: the one MariaDB client layer: connections (socket, TCP, option
 * file, TLS) with libmariadb errors translated once, identifier and value
 * escaping, GTIDs, and the binlog codec (event header and type constants,
 * little-endian readers, row images, compressed events).
 *
 * Invariants a user of this API relies on:
 *  1. A password never reaches an Err, a log line or argv.
 *  2. Every event reader is bounds checked against the length it is given:
 *     a corrupt event is an error code, never an out-of-bounds read. */
#ifndef TM_MARIADB_MDB_H
#define TM_MARIADB_MDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"

typedef struct st_mysql MYSQL;
typedef struct st_mysql_res MYSQL_RES;

/* ---- connection (mdb_conn.c) ------------------------------------------- */

/* How to reach a server. All strings borrowed; NULL = not set. The password
 * is never taken from argv: the caller reads it from a file or the config. */
typedef struct MdbConn {
    const char *host;            /* NULL, "" or "localhost" with socket set: the socket */
    unsigned port;               /* 0 = default (3306 / option file) */
    const char *socket;
    const char *user;
    const char *password;        /* NULL: none, or from the option file */
    const char *defaults_file;   /* MYSQL_READ_DEFAULT_FILE */
    const char *defaults_group;  /* MYSQL_READ_DEFAULT_GROUP (e.g. "client") */
    bool tls;                    /* require TLS */
    bool tls_verify;             /* verify the server certificate and name */
    const char *tls_ca, *tls_cert, *tls_key;
    unsigned connect_timeout;    /* seconds; 0 = 10 */
} MdbConn;

/* mdb_connect flags. */
#define MDB_CONNECT_CLIENT 0x1u       /* utf8mb4 metadata, LOCAL INFILE (only our own handler
                                         answers), multi results: dump, load, verify */
#define MDB_CONNECT_BIG_PACKETS 0x2u  /* max_allowed_packet 1 GiB: binlog events */
/* Read/write timeout of the dump and load sessions. */
#define MDB_CLIENT_TIMEOUT_S 3600u

/* Open a connection to c: the socket when there is no host or the host is
 * "localhost" (as the mariadb client decides), else TCP to host:port, else
 * the option file's defaults; the option file, TLS (required
 * when tls or a CA/certificate is set) and the connect timeout from c; no
 * automatic reconnect (it would lose a session's snapshot). rw_timeout_s:
 * read/write timeout in seconds (0 = libmariadb's default). On 0 *out is the
 * caller's (mdb_close). ERR_AUTH for access denied, ERR_NET when the server
 * cannot be reached (client-side errors: unreachable, TLS, socket), ERR_DB
 * otherwise; the message names user@host:port or the socket, never the
 * password. On error *out is NULL. */
int mdb_connect(const MdbConn *c, unsigned flags, unsigned rw_timeout_s, MYSQL **out, Err *err);
void mdb_close(MYSQL *m);   /* accepts NULL */
/* Where mdb_connect goes: "user@unix:SOCKET", "user@host:port" or
 * "user@(option file defaults)". */
const char *mdb_conn_where(const MdbConn *c, char *buf, size_t cap);
/* Translate the connection's last error into err (ERR_DB, ERR_NET (retryable)
 * for a lost server, ERR_LOCKED for lock wait timeouts, ERR_AUTH for a bad
 * login, ERR_PERM for access denied) with "what: message (mariadb error N)".
 * Returns the code. */
int mdb_err(MYSQL *m, Err *err, const char *what);
/* Run sql, discarding any result. ERR_DB naming the statement's first words. */
int mdb_exec(MYSQL *m, const char *sql, Err *err);
/* Run sql and store its whole result in *out (the caller's:
 * mysql_free_result). Errors name what, or the statement's first 100
 * bytes when what is NULL; *out is NULL then. */
int mdb_query(MYSQL *m, const char *sql, const char *what, MYSQL_RES **out, Err *err);
/* Fetch the first column of the first row of sql as a malloc'd string
 * (NULL value or no row -> *out NULL). */
int mdb_value(MYSQL *m, const char *sql, char **out, Err *err);

/* ---- escaping (mdb_escape.c), pure ---------------------------------------- */

/* Append p (n bytes) as an SQL string literal body for a binary
 * connection: quote, backslash, NUL, newline, CR and ^Z escaped
 * (mysql_real_escape_string's set); the quotes are not included. */
int mdb_escape(Buf *out, const void *p, size_t n, Err *err);
/* Append `name` with backticks doubled inside. */
int mdb_ident_quote(Buf *out, const char *name, Err *err);

/* ---- GTIDs (mdb_gtid.c) ----------------------------------------------------- */

/* A MariaDB GTID: replication domain, originating server, sequence number. */
typedef struct MdbGtid {
    uint32_t domain;
    uint32_t server;
    uint64_t seq;
} MdbGtid;

/* Replication domains a GTID set holds at most. */
#define MDB_GTID_DOMAINS_MAX 16
/* A GTID position: at most one GTID per domain, in the order first seen. */
typedef struct MdbGtidSet {
    size_t n;
    MdbGtid g[MDB_GTID_DOMAINS_MAX];
} MdbGtidSet;

/* "domain-server-seq" exactly; ERR_INVALID otherwise. */
int mdb_gtid_parse(const char *s, MdbGtid *out, Err *err);
void mdb_gtid_format(const MdbGtid *g, char *out, size_t cap);
/* Parse "d-s-n[,d-s-n...]" (blanks and commas separate; empty = empty
 * set). ERR_INVALID for a malformed GTID or a domain given twice,
 * ERR_NOMEM past MDB_GTID_DOMAINS_MAX domains. */
int mdb_gtid_set_parse(const char *s, MdbGtidSet *out, Err *err);
/* "0-1-5,1-2-9" (empty string for an empty set); always terminated. */
void mdb_gtid_set_format(const MdbGtidSet *set, char *out, size_t cap);
/* The entry of domain, or NULL (borrowed from set). */
MdbGtid *mdb_gtid_set_find(MdbGtidSet *set, uint32_t domain);
/* Keep g as its domain's GTID (add the domain when new). False when the
 * set is full and g was not added. */
bool mdb_gtid_set_update(MdbGtidSet *set, const MdbGtid *g);
/* The same, ERR_UNSUPPORTED "more than N replication domains" when full. */
int mdb_gtid_set_put(MdbGtidSet *set, const MdbGtid *g, Err *err);
/* Merge b into a keeping the highest seq per domain (a domain that does
 * not fit is left out, as by mdb_gtid_set_update). */
void mdb_gtid_set_merge(MdbGtidSet *a, const MdbGtidSet *b);
/* a <= b in every domain of a (a domain missing from b counts as 0). */
bool mdb_gtid_set_le(const MdbGtidSet *a, const MdbGtidSet *b);
bool mdb_gtid_set_eq(const MdbGtidSet *a, const MdbGtidSet *b);

/* ---- binlog event layout ----------------------------------------------------- */

/* v4 event header: timestamp 4, type 1, server id 4, length 4, end
 * position 4, flags 2; then the body, then a CRC32 when the file says so. */
#define MDB_HDR_LEN 19
#define MDB_HDR_TYPE_OFF 4
#define MDB_HDR_SERVER_OFF 5
#define MDB_HDR_LEN_OFF 9
#define MDB_HDR_POS_OFF 13
#define MDB_HDR_FLAGS_OFF 17
#define MDB_CRC_LEN 4
#define MDB_BINLOG_MAGIC "\xfe\x62\x69\x6e"
#define MDB_BINLOG_MAGIC_LEN 4

/* Header flags. */
#define MDB_FLAG_IN_USE 0x0001u       /* Format_description of a file still being written */
#define MDB_FLAG_ARTIFICIAL 0x0020u   /* sent by the server, not in its file */

/* Event types (MariaDB sql/log_event.h). */
enum {
    MDB_EV_QUERY = 2,
    MDB_EV_STOP = 3,
    MDB_EV_ROTATE = 4,
    MDB_EV_INTVAR = 5,
    MDB_EV_APPEND_BLOCK = 9,
    MDB_EV_DELETE_FILE = 11,
    MDB_EV_RAND = 13,
    MDB_EV_USER_VAR = 14,
    MDB_EV_FORMAT_DESC = 15,
    MDB_EV_XID = 16,
    MDB_EV_BEGIN_LOAD_QUERY = 17,
    MDB_EV_EXECUTE_LOAD_QUERY = 18,
    MDB_EV_TABLE_MAP = 19,
    MDB_EV_WRITE_V1 = 23,
    MDB_EV_UPDATE_V1 = 24,
    MDB_EV_DELETE_V1 = 25,
    MDB_EV_INCIDENT = 26,
    MDB_EV_HEARTBEAT = 27,
    MDB_EV_IGNORABLE = 28,
    MDB_EV_ROWS_QUERY = 29,
    MDB_EV_WRITE_V2 = 30,
    MDB_EV_UPDATE_V2 = 31,
    MDB_EV_DELETE_V2 = 32,
    MDB_EV_XA_PREPARE = 38,
    MDB_EV_ANNOTATE_ROWS = 160,
    MDB_EV_CHECKPOINT = 161,
    MDB_EV_GTID = 162,
    MDB_EV_GTID_LIST = 163,
    MDB_EV_START_ENCRYPTION = 164,
    /* the compressed family: the v1 rows events first */
    MDB_EV_QUERY_COMPRESSED = 165,
    MDB_EV_WRITE_COMP_V1 = 166,
    MDB_EV_UPDATE_COMP_V1 = 167,
    MDB_EV_DELETE_COMP_V1 = 168,
    MDB_EV_WRITE_COMP_V2 = 169,
    MDB_EV_UPDATE_COMP_V2 = 170,
    MDB_EV_DELETE_COMP_V2 = 171,
};

/* GTID event flags2. */
#define MDB_GTID_FL_STANDALONE 0x01u
/* Gtid_list count: the top 4 bits are flags (this one: until reached). */
#define MDB_GTID_LIST_UNTIL_REACHED (1u << 28)

/* Little-endian readers and writers (the caller checks the bounds). */
static inline uint16_t mdb_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t mdb_le24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint32_t mdb_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t mdb_le48(const uint8_t *p)
{
    return (uint64_t)mdb_le32(p) | (uint64_t)mdb_le16(p + 4) << 32;
}
static inline uint64_t mdb_le64(const uint8_t *p)
{
    return (uint64_t)mdb_le32(p) | (uint64_t)mdb_le32(p + 4) << 32;
}
static inline void mdb_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void mdb_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void mdb_put_le48(uint8_t *p, uint64_t v)
{
    mdb_put_le32(p, (uint32_t)v);
    mdb_put_le16(p + 4, (uint16_t)(v >> 32));
}
static inline void mdb_put_le64(uint8_t *p, uint64_t v)
{
    mdb_put_le32(p, (uint32_t)v);
    mdb_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Does a Format_description event (len bytes) announce CRC32 checksums?
 * Its checksum algorithm byte sits 5 bytes from its end (alg, then the
 * event's own CRC32, always written by servers that know checksums). */
static inline bool mdb_fd_has_crc(const uint8_t *fd, size_t len)
{
    return len >= MDB_HDR_LEN + 5 && fd[len - 5] == 1;
}

/* CRC-32 as binlog checksums use it (zlib's crc32()); crc 0 to start. */
uint32_t mdb_crc32(uint32_t crc, const void *p, size_t n);

/* ---- event fields (mdb_event.c): pure, bounds checked ---------------------- */

typedef struct MdbEventHdr {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t length;      /* whole event, checksum included */
    uint32_t next_pos;    /* end of the event in its file; 0 when not in a file */
    uint16_t flags;
} MdbEventHdr;

/* Parse the 19-byte header of ev (len bytes, len must equal the event
 * length the header announces). ERR_CORRUPT otherwise. */
int mdb_event_header(const uint8_t *ev, size_t len, MdbEventHdr *out, Err *err);
/* An event written in the server's file (not artificial, not a heartbeat,
 * with a file position). */
bool mdb_event_is_real(const MdbEventHdr *h);
/* Checksum algorithm a Format_description event announces: 0 none, 1 CRC32. */
int mdb_event_fd_checksum(const uint8_t *ev, size_t len, unsigned *out_alg, Err *err);
/* Verify the trailing CRC32 of ev. ERR_CORRUPT naming the type when wrong. */
int mdb_event_crc_check(const uint8_t *ev, size_t len, Err *err);
/* Rotate: next file name and position. csum_len is 4 with CRC32, else 0. */
int mdb_event_rotate(const uint8_t *ev, size_t len, size_t csum_len, char *name, size_t cap,
                     uint64_t *out_pos, Err *err);
/* MariaDB GTID event: the GTID (server id from the header) and flags2
 * (may be NULL). ERR_CORRUPT "gtid event too short" when len cannot hold it. */
int mdb_event_gtid(const uint8_t *ev, size_t len, MdbGtid *out, uint8_t *out_flags, Err *err);
/* Gtid_list event: calls fn for each GTID, in order; stops at fn's first
 * non-zero return and returns it. ERR_CORRUPT when len cannot hold the
 * count or the entries it announces. */
int mdb_event_gtid_list(const uint8_t *ev, size_t len,
                        int (*fn)(void *ctx, const MdbGtid *g, Err *err), void *ctx, Err *err);
/* Query event whose statement is exactly `word` (case-insensitive), e.g.
 * "COMMIT", "ROLLBACK". False for anything unparsable. */
bool mdb_event_query_is(const uint8_t *ev, size_t len, size_t csum_len, const char *word);
/* Query event text and its default database (pointers into ev, not
 * NUL-terminated); end = the event length without its checksum. False
 * when it does not parse. */
bool mdb_query_text(const uint8_t *ev, size_t end, const char **db, size_t *dblen,
                    const char **q, size_t *qlen);
/* Does an event of type (ev, end as for mdb_query_text) end the GTID group
 * it belongs to? A standalone group (DDL) ends at its first event that is
 * not a GTID, Intvar, Rand, User_var, Table_map or Annotate_rows; any other
 * at an XID, an XA PREPARE or a COMMIT/ROLLBACK Query. The plan, the search
 * and the replay source decide transaction ends with this one function. */
bool mdb_event_ends_group(uint8_t type, const uint8_t *ev, size_t end, bool standalone);

/* ---- row images (mdb_rows.c) ---------------------------------------------- */

/* A Table_map's columns, for walking row images. Pointers borrow the
 * Table_map bytes given to mdb_cols_parse. */
#define MDB_COLS_MAX 4096
typedef struct MdbCols {
    uint64_t table_id;
    const uint8_t *db, *table;        /* not NUL-terminated */
    size_t db_len, table_len;
    size_t cols_off, cols_end;        /* column count .. end of the NULL-able bitmap */
    uint64_t n;                       /* columns */
    const uint8_t *types;
    uint16_t meta[MDB_COLS_MAX];
} MdbCols;
/* Parse a Table_map event (len = without its checksum); -1 when it does
 * not parse or has more than MDB_COLS_MAX columns. */
int mdb_cols_parse(const uint8_t *tmap, size_t len, MdbCols *c);

/* One column inside a row image: offset from the image start and length;
 * len MDB_FIELD_NONE for a NULL or a column absent from the image. */
#define MDB_FIELD_NONE UINT32_MAX
typedef struct MdbField {
    uint32_t off, len;
} MdbField;
/* Walk one row image at *pp (NULL bitmap over the npresent columns set in
 * present, then their values); *pp moves past it. f (NULL or c->n slots)
 * gets each column's place. 0; -1 when it runs past end or npresent is 0
 * (an image of no bytes); -2 for a column type that cannot be sized. */
int mdb_row_image(const MdbCols *c, const uint8_t *present, uint64_t npresent,
                  const uint8_t **pp, const uint8_t *end, MdbField *f);
/* Packed integer (column counts); -1 when it runs past end. */
int mdb_packed(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Rows events: the number of rows in the body (ERR_UNSUPPORTED for a
 * column type it cannot size). table map body as stored. */
int mdb_rows_count(const uint8_t *tmap, size_t tmap_len, const uint8_t *rows, size_t rows_len,
                   uint8_t type, uint64_t *out, Err *err);

/* ---- compressed events (mdb_inflate.c) ------------------------------------- */

/* MariaDB compressed events (log_bin_compress): Query_compressed (165),
 * Write/Update/Delete_rows_compressed v1 (166-168) and v2 (169-171). */
static inline bool mdb_event_is_compressed(uint8_t type)
{
    return type >= MDB_EV_QUERY_COMPRESSED && type <= MDB_EV_DELETE_COMP_V2;
}
/* Largest uncompressed part accepted (the server's max_allowed_packet ceiling). */
#define MDB_INFLATE_MAX ((size_t)1 << 30)
/* Rebuild into out the plain event a compressed event ev (len bytes, CRC32
 * at its end when crc) stands for: same header except the type (*out_type:
 * Query 2, rows v1 23-25 or v2 30-32) and the length, the uncompressed part
 * copied, the zlib record inflated, a fresh CRC32 when crc. out is the
 * caller's (reset first; its max must allow the result). ERR_CORRUPT for a
 * record that does not parse, a length over MDB_INFLATE_MAX or one zlib
 * does not produce exactly; ERR_UNSUPPORTED for a compression algorithm
 * other than zlib; ERR_NOMEM. On failure out holds nothing usable. The
 * caller adds where the event is (file:pos). */
int mdb_event_inflate(const uint8_t *ev, size_t len, bool crc, Buf *out, uint8_t *out_type,
                      Err *err);

#endif

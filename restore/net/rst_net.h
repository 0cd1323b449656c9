/* rst_net.h: the net-change apply of a point-in-time restore, one library
 * (restore/net): the fold, the target side, the statement scanner.
 *
 * The net change of a range of archived row events, per
 * primary key ("fold"), and its emission as a few large row events for the
 * target to apply in bulk (rst_net_send sends them as BINLOG statements).
 *
 * Why: applying 200,000 ERP transactions one by one through the target's
 * SQL thread is bounded by that thread (bench/README.md, "Point-in-time
 * restore at 1 GiB"); the final state of a table under row-based events
 * depends only on that table's own row events, and for a table with a
 * byte-comparable primary key only on the first before-image and the last
 * after-image of every key touched. Applying "delete the start image of
 * every touched key present at the start, then write the end image of every
 * key present at the end" gives the same table content in far fewer row
 * operations, no per-transaction commits, and per-table independence (two
 * connections can apply different tables at once).
 *
 * Invariants a user relies on:
 *  1. Feed events in binlog-file order, a Format_description first (as
 *     rst_pitr_source yields them), and stop after the last transaction to
 *     apply; the engine never decides where the range ends.
 *  2. Anything whose effect is not a literal row change (a statement other
 *     than BEGIN/COMMIT/SAVEPOINT on a restored database, Intvar/Rand/
 *     User_var, XA, LOAD DATA events, Incident) makes rst_net_feed return
 *     ERR_UNSUPPORTED with err naming the event (file:pos, type, the first
 *     80 bytes of a statement): the caller then replays transaction by
 *     transaction. Events of tables the define callback says are not
 *     restored are skipped, as replicate_do_db skips them on the SQL thread
 *     (a statement is judged by its default database, as there).
 *  3. A table the define callback marks fold=false keeps its row events,
 *     emitted in their original order (tables without a primary key, keys
 *     that are not byte-comparable); fold tables need full row images
 *     (every column present in every image: binlog_row_image=FULL), else
 *     ERR_UNSUPPORTED.
 *  4. Emission per table: fold tables give Delete_rows of start images
 *     first, then Update_rows (start -> end image, see RstNetTableDef.uniq),
 *     then Write_rows of end images, each key once, in the order keys
 *     were first touched; a key whose start and end images are identical is
 *     left out. Every emitted rows event carries NO_FOREIGN_KEY_CHECKS_F
 *     (the intermediate states are not consistent across tables) and every
 *     batch starts with a Table_map and ends with STMT_END_F.
 *  5. Images are kept in an unlinked temporary file under tmpdir, not in
 *     memory: memory is O(keys touched), not O(bytes of binlog). */
#ifndef TM_RESTORE_NET_RST_NET_H
#define TM_RESTORE_NET_RST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/common/err.h"
#include "engine/mariadb/mdb.h"
#include "engine/source/dump/src_dump.h"

#define RST_NET_PK_MAX 16
#define RST_NET_NAME_MAX 65   /* a MariaDB identifier (64 characters) + NUL */
#define RST_NET_GTID_MAX 1100   /* a formatted GTID state (= RST_PITR_GTID_MAX) */
#define RST_NET_UNIQ_MAX 64   /* more unique-key columns than this: uniq_unknown */

/* What the caller knows of a table, from the target server after the
 * snapshot load (information_schema). */
typedef struct RstNetTableDef {
    bool restore;                     /* false: not restored, its events are skipped */
    bool fold;                        /* true: fold by primary key; false: keep events in order */
    uint32_t ncols;                   /* columns on the target; must equal the Table_map's */
    uint32_t npk;
    uint32_t pk[RST_NET_PK_MAX];     /* 0-based column indexes of the primary key, key order */
    int32_t autoinc;                  /* 0-based index of the AUTO_INCREMENT column, -1 = none */
    bool autoinc_unsigned;
    char target_db[RST_NET_NAME_MAX];   /* database name written into emitted Table_maps
                                          * ("" = the name in the events) */
    /* Columns of the table's UNIQUE secondary keys (the union over all of
     * them, 0-based). A key present at the start and at the end whose
     * images differ is emitted as one Update_rows (start -> end image) when
     * every one of these columns is identical (bytes and NULL-ness) in the
     * two images; otherwise as Delete_rows + Write_rows. Why this is safe:
     * an updated row then holds the same unique values before and after,
     * so it cannot collide with another row at any moment of the apply;
     * deletes run first and writes last (see RstNetPhase). uniq_unknown:
     * the caller could not tell (always Delete + Write). */
    uint32_t nuniq;
    uint32_t uniq[RST_NET_UNIQ_MAX];
    bool uniq_unknown;
} RstNetTableDef;

/* Called once per (db, table) at its first Table_map in the range. A
 * non-zero ERR_* fails the feed with that error.
 * Also called with table "" once per default database of a Query event
 * (db "" when the statement had none): only out->restore is read, true when
 * statements under that default database apply to the restored databases
 * (answer as replicate_do_db would: "" is normally false). */
typedef int (*RstNetDefineFn)(void *ctx, const char *db, const char *table, RstNetTableDef *out,
                               Err *err);

typedef struct RstNet RstNet;

/* tmpdir: where the image file goes (NULL = $TMPDIR or /tmp). */
int rst_net_open(const char *tmpdir, RstNetDefineFn define, void *ctx, RstNet **out, Err *err);

/* One event: header, body and checksum as in the binlog file; pos and file
 * name only for messages (file may be NULL). ERR_UNSUPPORTED: see
 * invariant 2/3; ERR_CORRUPT: an event that does not parse; ERR_IO: the
 * temporary file. After an error the RstNet only accepts rst_net_close. */
int rst_net_feed(RstNet *n, const char *file, uint64_t pos, const uint8_t *ev, size_t len, Err *err);

/* No more events: flushes the image file; emission may start. */
int rst_net_finish(RstNet *n, Err *err);

typedef struct RstNetTableInfo {
    char db[RST_NET_NAME_MAX], table[RST_NET_NAME_MAX];   /* names in the events */
    RstNetTableDef def;
    uint64_t keys;                    /* fold: distinct keys touched */
    uint64_t rows_delete, rows_write; /* fold: what emission will delete / write */
    uint64_t rows_update;             /* fold: keys emitted as Update_rows (not in delete/write) */
    uint64_t prepare_bytes, write_bytes;     /* about what each phase emits (balancing) */
    uint64_t ordered_events, ordered_rows;   /* not folded: row events kept */
    uint64_t emit_bytes;              /* about what emission produces (for balancing) */
    bool autoinc_seen;                /* an AUTO_INCREMENT value >= 1 was written */
    uint64_t autoinc_max;             /* the largest one written in the range */
} RstNetTableInfo;

typedef struct RstNetStats {
    uint64_t events, row_events, rows;    /* fed (restored tables only for rows) */
    uint64_t transactions;                /* GTID events fed */
    uint64_t keys;                        /* distinct keys over all fold tables */
    uint64_t image_bytes;                 /* written to the temporary file */
} RstNetStats;

/* The restored tables (def.restore true) seen in the range, index order =
 * first Table_map; tables not restored are not listed. The info pointer is
 * borrowed, valid until rst_net_close; its counts are final after
 * rst_net_finish. */
size_t rst_net_table_count(const RstNet *n);
const RstNetTableInfo *rst_net_table(const RstNet *n, size_t i);
void rst_net_stats(const RstNet *n, RstNetStats *out);

/* The range's Format_description event (the archive's own bytes), to send
 * before any batch; NULL before one was fed. */
const uint8_t *rst_net_format_desc(const RstNet *n, size_t *len);

/* Emit table i's changes (after rst_net_finish) as batches of whole
 * events, each at most max_bytes unless one row is larger: a Table_map
 * (db = def.target_db, a table id of the emitter's choice) then rows events
 * (v1 types for fold tables; the original events, table id and flags
 * patched, for ordered ones), a CRC32 on each event when the
 * Format_description says so. fn gets each batch and its row count; a
 * non-zero return stops the emission with that code. Calls for different
 * tables may run at once from different threads. */
typedef int (*RstNetBatchFn)(void *ctx, const uint8_t *events, size_t len, uint64_t rows, Err *err);
int rst_net_emit(RstNet *n, size_t table, size_t max_bytes, RstNetBatchFn fn, void *ctx, Err *err);

/* The same in two phases, so that two connections can share one table:
 *   RST_NET_PHASE_PREPARE: fold tables: the Delete_rows, then the
 *     Update_rows; ordered tables: all their events. Not split: shard 0
 *     emits it all, other shards nothing.
 *   RST_NET_PHASE_WRITE: fold tables: the Write_rows, split in nshards
 *     contiguous parts of the first-touch order (shard 0..nshards-1); every
 *     key is written by exactly one shard; ordered tables: nothing.
 * The caller must finish (commit) a table's PREPARE before any of its WRITE
 * shards starts; WRITE shards of one table may run at once. rst_net_emit
 * = PREPARE then WRITE with one shard. ERR_INVALID: nshards 0 or shard >=
 * nshards. The split is fixed by rst_net_finish, which reads both images
 * of a key present at both ends when the choice depends on their bytes
 * (same hash, or unique-key columns to compare). */
typedef enum RstNetPhase { RST_NET_PHASE_PREPARE = 0, RST_NET_PHASE_WRITE } RstNetPhase;
int rst_net_emit_phase(RstNet *n, size_t table, RstNetPhase phase, unsigned shard, unsigned nshards,
                       size_t max_bytes, RstNetBatchFn fn, void *ctx, Err *err);

void rst_net_close(RstNet *n);   /* accepts NULL */


/* ---- the target side (net_target.c, net_send.c) ------------------------------
 * Nothing here writes to the target before rst_net_send, and rst_net_send
 * writes with sql_log_bin=0 only. */

/* The restored databases: the names in the archived events and the names
 * they have on the target (the --target-db rename). */
typedef struct RstNetDbs {
    size_t n;
    char from[16][RST_NET_NAME_MAX];
    char to[16][RST_NET_NAME_MAX];
} RstNetDbs;

/* The item's databases through target_db; ERR_INVALID when there are more
 * than 16 or a rename of a multi-database snapshot is asked. */
int rst_net_dbs(const json_t *item, const char *target_db, RstNetDbs *out, Err *err);

/* Whether the target's account may run BINLOG statements and turn
 * sql_log_bin off (no-op probes, nothing changes). *ok false: reason says
 * what is missing and the GRANT that gives it. Errors: connection only. */
int rst_net_check_privileges(const MdbConn *conn, bool *ok, char *reason, size_t cap, Err *err);

/* After the load: false with the reason when a foreign key of (or into) a
 * restored database has a DELETE_RULE or UPDATE_RULE other than RESTRICT/NO
 * ACTION (the server applies those changes itself, unlogged). */
int rst_net_check_fks(const MdbConn *conn, const RstNetDbs *dbs, bool *ok, char *reason,
                      size_t cap, Err *err);

/* The define callback from the target's information_schema (after the
 * load): a table is folded when its primary key is whole and
 * byte-comparable and it is not system-versioned; its unique keys' columns
 * and AUTO_INCREMENT column are read. rst_net_describer_open connects (conn
 * borrowed during the call, dbs copied); pass rst_net_describe and the
 * describer to rst_net_open; close it after rst_net_finish. */
typedef struct RstNetDescriber RstNetDescriber;
int rst_net_describer_open(const MdbConn *conn, const RstNetDbs *dbs, RstNetDescriber **out, Err *err);
int rst_net_describe(void *describer, const char *db, const char *table, RstNetTableDef *out, Err *err);
void rst_net_describer_close(RstNetDescriber *d);   /* accepts NULL */

/* Whether the largest rows event fits a BINLOG statement under the target's
 * max_allowed_packet; *ok false with the reason otherwise. */
int rst_net_check_packet(const MdbConn *conn, size_t max_rows_event, bool *ok, char *reason,
                         size_t cap, Err *err);

typedef struct RstNetApplyStats {
    uint64_t rows_written, rows_deleted, rows_updated, ordered_rows;
    uint64_t split_tables;            /* tables written in two shards at once */
    uint64_t tables, ordered_tables;
    uint64_t autoinc_raised;
    double seconds;
    char reached[RST_NET_GTID_MAX];   /* gtid_slave_pos read back */
    uint64_t rows_applied, rows_total; /* rows committed of the range's (also when interrupted) */
} RstNetApplyStats;

/* Apply n's changes to the target over two connections (sql_log_bin=0,
 * foreign_key_checks=0; every table's PREPARE phase, then the WRITE shards,
 * a table with over a quarter of the write bytes in two shards), raise
 * AUTO_INCREMENT counters the range went past, then SET GLOBAL
 * gtid_slave_pos = target_gtid and read it back into st->reached. On
 * failure err names the table, the phase or shard, the batch and the
 * server's message; tables applied before stay applied. Once stop (NULL =
 * never; polled from the apply threads) returns non-zero: ERR_INTERRUPTED
 * at the next batch, the open transactions rolled back, err naming where
 * each connection stopped and the rows applied of the total. */
typedef int (*RstNetStopFn)(void);
int rst_net_send(RstNet *n, const MdbConn *conn, const char *target_gtid, bool progress, RstNetStopFn stop,
                 RstNetApplyStats *st, Err *err);

/* ---- the statement scanner (net_sql.c) ---------------------------------------
 * What the replay needs to know of a Query event's statement
 * text without parsing SQL: its kind (transaction control, XA, account
 * management, anything else), the XA transaction id it names, and every
 * name it uses as a qualifier (`db`.t, db.t, DATABASE db), so that a
 * statement naming a restored database is never taken for one about
 * another database (the fold here; restore/pitr's plan and replay filter).
 * Invariant: the name scan over-reports (a table alias before a column
 * counts as a name too) and never under-reports outside string literals
 * and comments; callers may only use it to decide "may concern". */
typedef enum RstNetSqlKind {
    RST_NET_SQL_OTHER = 0,
    RST_NET_SQL_TXN,          /* BEGIN, COMMIT, ROLLBACK [TO], SAVEPOINT, RELEASE SAVEPOINT */
    RST_NET_SQL_XA_START,     /* XA START / BEGIN xid */
    RST_NET_SQL_XA_END,       /* XA END xid */
    RST_NET_SQL_XA_PREPARE,   /* XA PREPARE xid (the server logs an XA_prepare event instead) */
    RST_NET_SQL_XA_COMMIT,    /* XA COMMIT xid (two-phase: a group of its own) */
    RST_NET_SQL_XA_COMMIT_1PC,/* XA COMMIT xid ONE PHASE */
    RST_NET_SQL_XA_ROLLBACK,  /* XA ROLLBACK xid */
    RST_NET_SQL_ACCOUNT,      /* CREATE/DROP/ALTER/RENAME USER, CREATE/DROP ROLE, GRANT, REVOKE, SET PASSWORD */
    RST_NET_SQL_TEMP_TABLE,   /* CREATE [OR REPLACE] TEMPORARY TABLE, DROP TEMPORARY TABLE (the server
                              writes `DROP TEMPORARY TABLE IF EXISTS db.t` when a session ends) */
} RstNetSqlKind;

#define RST_NET_SQL_XID_MAX 420   /* X'<128 hex>',X'<128 hex>',<format id> and some */

/* The statement's kind; for the XA kinds xid gets the id as written
 * (blanks removed, hex digits upper-cased, " ONE PHASE" cut), "" when it
 * does not look like a MariaDB-logged id (X'..',X'..',n or a quoted string). */
RstNetSqlKind rst_net_sql_kind(const char *q, size_t ql, char *xid, size_t xcap);

/* Call fn for each name the statement uses as a qualifier or after
 * DATABASE/SCHEMA (quotes removed, `` undoubled; name is NUL-terminated and
 * valid during the call). Stops when fn returns non-zero and returns that. */
typedef int (*RstNetSqlNameFn)(void *ctx, const char *name, size_t len);
int rst_net_sql_names(const char *q, size_t ql, RstNetSqlNameFn fn, void *ctx);

/* Whether the statement names db (exact bytes, as a qualifier or after
 * DATABASE/SCHEMA). */
bool rst_net_sql_names_db(const char *q, size_t ql, const char *db);

/* Tables the statement moves or copies between two databases: RENAME TABLE
 * a TO b (and each pair of its list), ALTER TABLE a ... RENAME [TO|AS] b
 * (move true), CREATE TABLE a ... LIKE b / SELECT ... FROM b and
 * INSERT/REPLACE [INTO] a ... SELECT ... FROM b (move false: a copy into
 * to_db). An unqualified name is in dflt (NULL or "": none, the pair is
 * left out). fn gets each pair of different databases; stops when fn
 * returns non-zero and returns that. Over-reports like rst_net_sql_names
 * (a word after LIKE in a WHERE counts as a table). */
typedef int (*RstNetSqlMoveFn)(void *ctx, const char *to_db, const char *from_db, bool move);
int rst_net_sql_moves(const char *q, size_t ql, const char *dflt, RstNetSqlMoveFn fn, void *ctx);

/* The statement text of an Execute_load_query event (LOAD DATA written as a
 * statement; type 18): its post-header is 26 bytes, the Query's 13 plus
 * file id, file name start and end, duplicate handling. Pointers into ev
 * (end: without the checksum); false when it does not parse. */
bool rst_net_sql_load_query_text(const unsigned char *ev, size_t end, const char **db, size_t *dblen,
                                 const char **q, size_t *qlen);

/* A printable start of the statement (at most 80 bytes), cut before
 * anything that may carry a password (IDENTIFIED, PASSWORD). */
void rst_net_sql_snippet(const char *q, size_t ql, char *out, size_t cap);

#endif

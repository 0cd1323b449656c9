/* src_dump.h: the database half of a snapshot: a consistent streaming dump
 * of MariaDB/MySQL databases into the repository (one schema stream per
 * database, rows streams per table in primary-key order), per-table row
 * counts and content hashes, binlog coordinates of the dump's point.
 *
 * Invariants a user of this API relies on:
 *  1. Every table of one dump is read at one point in time: every worker
 *     connection holds a START TRANSACTION WITH CONSISTENT SNAPSHOT of the
 *     same commit point, and the binlog coordinates recorded are exactly
 *     that point (the next transaction to replay starts there).
 *  2. The rows encoding ("tsv1", docs/FORMAT.md) is deterministic: the same
 *     table content gives the same bytes, night after night. Each table's
 *     values hash (tm-values-1) is computed from the values as the server
 *     holds them (binary protocol), never from the encoding, so a loaded
 *     server is checked with src_dump_table_values_hash() alone and a
 *     lossy encoding cannot pass.
 *  3. The dump never writes a snapshot: it returns a manifest item; the
 *     caller commits it (repo_snapshot_put). On error nothing refers to the
 *     streams written so far. */
#ifndef TM_SOURCE_DUMP_SRC_DUMP_H
#define TM_SOURCE_DUMP_SRC_DUMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/conf.h"
#include "engine/common/err.h"
#include "engine/mariadb/mdb.h"
#include "engine/repo/repo.h"

/* ---- connection -------------------------------------------------------- */

/* How to reach a server: MdbConn (engine/mariadb/mdb.h). */
/* Connections, queries and errors: mdb_connect, mdb_exec, mdb_value,
 * mdb_err, mdb_close (engine/mariadb/mdb.h); an instance's settings:
 * inst_db_conn (engine/instance/inst.h). */

/* ---- the rows encoding (tsv1), pure ---------------------------------- */

/* Append one field, escaped for LOAD DATA's defaults (FIELDS TERMINATED BY
 * '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'): backslash, tab, newline,
 * carriage return and NUL become \\ \t \n \r \0; a NULL value (p == NULL)
 * is \N. Bytes are copied as they are (binary-safe). */
int src_tsv_field(Buf *out, const void *p, size_t n, Err *err);
/* Append a whole row: fields separated by tab, ended by newline. lens[i] is
 * the length of vals[i]; vals[i] == NULL is SQL NULL. */
int src_tsv_row(Buf *out, unsigned nfields, char **vals, const unsigned long *lens, Err *err);

/* Split one encoded line (without its '\n') into fields, unescaping in
 * place. fields[i] points into line, lens[i] its length, is_null[i] set for
 * \N. ERR_CORRUPT when the field count differs from nfields or an escape is
 * cut short. */
int src_tsv_split(char *line, size_t len, unsigned nfields, char **fields, size_t *lens,
                  bool *is_null, Err *err);

/* SQL escaping: mdb_escape, mdb_ident_quote (engine/mariadb/mdb.h). */

/* ---- dumping ---------------------------------------------------------- */

typedef struct SrcDumpOptions {
    const char *const *databases;   /* NULL-terminated; NULL = all user databases */
    unsigned threads;               /* connections; 0 = 2 */
    uint64_t part_size;             /* rows stream split size; 0 = 256 MiB */
    bool with_grants;               /* also users and grants (SHOW CREATE USER/GRANTS) */
    bool force_lock;                /* skip the lock-free attempt (tests) */
    unsigned lock_wait_timeout;     /* seconds for the global lock; 0 = 10 */
    bool progress;                  /* progress lines on stderr */
} SrcDumpOptions;

typedef struct SrcDumpStats {
    uint64_t tables;
    uint64_t rows;
    uint64_t bytes;          /* encoded bytes (schema + rows) */
    double lock_ms;          /* global lock hold time; 0 when none was taken */
    double seconds;
    char method[24];         /* "snapshot", "snapshot-match", "backup-stage", "ftwrl" */
    int prepared_xa;         /* XA transactions prepared at the point; -1: not known */
    char prepared_xa_ids[256];   /* their XIDs, comma-separated (cut at the size) */
} SrcDumpStats;

/* Dump the databases through conn into r. On 0, *out_item is a new
 * reference: the manifest item ({"kind":"mariadb", ...}, docs/FORMAT.md)
 * to add to the snapshot's "items"; stats (may be NULL) is filled. On
 * error nothing is returned; chunks already written stay unreferenced. */
int src_dump_backup(Repo *r, const MdbConn *conn, const SrcDumpOptions *opt,
                    json_t **out_item, SrcDumpStats *stats, Err *err);

/* ---- what restore and verification share ------------------------------ */

/* Rows query of a table as the dump runs it (explicit columns, primary-key
 * order). columns: JSON array of column names; order_by: array or null.
 * shape (the schema's table object, or NULL) may say how rows are read:
 * "index_columns" (ENUM/SET columns read as their numbers, col+0: the
 * error value '' of an ENUM is 0, a member '' is not) and "history" ([row
 * start, row end] of a system-versioned table: every row version, FOR
 * SYSTEM_TIME ALL, ordered by the key then the row end) and
 * "float_columns" (FLOAT columns: after all columns, one sign probe each, in
 * column order, true where the value is -0, which the server sends as 0). */
int src_dump_select_sql(const char *db, const char *table, const json_t *columns,
                        const json_t *order_by, const json_t *shape, Buf *out, Err *err);

/* Is column c in the array shape[key] ("index_columns")? */
bool src_dump_shape_has(const json_t *shape, const char *key, const char *c);

/* Recompute a table's row count and values hash (tm-values-1: the values
 * as the server holds them, read through the binary protocol: columns,
 * then the generated columns, which may be NULL) on a live server (session
 * set up by src_dump_session_setup). out_hex gets 64 hex chars + NUL. */
int src_dump_table_values_hash(MYSQL *m, const char *db, const char *table,
                               const json_t *columns, const json_t *generated,
                               const json_t *order_by, const json_t *shape, uint64_t *out_rows,
                               char out_hex[65], Err *err);

/* The same with the stream hash of snapshots made before the values hash
 * (BLAKE2b-256 over the server's text-protocol values encoded as tsv1). */
int src_dump_table_hash(MYSQL *m, const char *db, const char *table, const json_t *columns,
                        const json_t *order_by, uint64_t *out_rows, char out_hex[65], Err *err);

/* Session settings of every dump/verify connection: binary results,
 * time_zone +00:00, sql_mode '', long net timeouts. */
int src_dump_session_setup(MYSQL *m, Err *err);

#endif

/* db_int.h: shared inside restore/db only. */
#ifndef TM_RESTORE_DB_DB_INT_H
#define TM_RESTORE_DB_DB_INT_H

#include "engine/common/progress.h"
#include "restore/db/rst_db.h"

/* Read a database's schema document (a stream reference) into *out. */
int db_schema_load(Repo *r, const json_t *ref, json_t **out, Err *err);

/* Text of a schema string: plain JSON string, or {"hex": ...} for text that
 * was not valid UTF-8. Returns a malloc'd NUL-terminated copy (NULL when
 * absent); *len gets its length. */
char *db_text(const json_t *v, size_t *len);

/* The table entry named name in a schema document, or NULL (borrowed). */
const json_t *db_schema_table(const json_t *schema, const char *name);

/* Is column c of the schema table sinfo in its "text_columns" (values
 * dumped as text for a type that takes a binary string as its binary form:
 * loaded and exported in a text charset)? Without that field (older
 * snapshots), the table's CREATE text says: an INET4, INET6 or UUID column. */
bool db_is_text_column(const json_t *sinfo, const char *c);
/* ERR_VERSION when the table's row history cannot be loaded anywhere
 * (transaction-precise system versioning), naming why; else 0. */
int db_history_loadable(const json_t *sinfo, Err *err);

/* The database name to load db under (target_db when given). */
const char *db_target_name(const json_t *item, const char *db, const char *target_db);

/* Serve one rows part to LOAD DATA LOCAL INFILE on m: arm before the
 * statement, disarm after. Rows (newlines) and bytes go to prog. */
typedef struct DbInfile {
    Repo *r;
    RepoStreamRef ref;
    size_t next;             /* next chunk index */
    Buf blob;
    size_t off;
    Progress *prog;
    Err err;
    bool failed;
} DbInfile;
int db_infile_load(MYSQL *m, Repo *r, const json_t *part, const char *load_sql, Progress *prog,
                   Err *err);

/* Apply one schema object ({"create", "sql_mode", "character_set_client",
 * "collation_connection", "time_zone"}) with its own session settings. */
int db_apply_object(MYSQL *m, const json_t *obj, Err *err);

/* Connect and set the load session up (time_zone, sql_mode, checks off;
 * sql_log_bin=0 unless write_binlog, when the account may: like myloader,
 * a restore is not replicated and not archived by the binlog follower). */
int db_load_session(const MdbConn *c, bool write_binlog, MYSQL **out, Err *err);

/* Run fn(m, i, ctx) for i in [0, ntasks) on n connections to c (each set
 * up by db_load_session, or by src_dump_session_setup for DB_SESS_VERIFY),
 * tasks handed out in order; the first error stops the rest and is returned. */
typedef int (*DbTaskFn)(MYSQL *m, size_t i, void *ctx, Err *err);
enum { DB_SESS_LOAD, DB_SESS_LOAD_BINLOG, DB_SESS_VERIFY };
int db_parallel(const MdbConn *c, unsigned n, int mode, size_t ntasks, DbTaskFn fn, void *ctx,
                Err *err);

/* Sequences (db_sequence.c). The schema document's "sequences" (absent in
 * snapshots taken before they were dumped: none).
 * db_sequences_create: CREATE SEQUENCE and the recorded state, on m whose
 * current database is tdb; before the tables (DEFAULT NEXTVAL needs them).
 * db_sequence_insert_sql: "INSERT INTO [`tdb`.]`seq` VALUES (...)" writing
 * the recorded state row (tdb NULL: unqualified).
 * db_sequences_verify: every sequence's row on the target against the
 * recorded one; ERR_VERIFY naming the ones that differ; counts out.
 * db_sequence_retarget: a CREATE TABLE text with nextval(`src`. made
 * nextval(`tdb`. (malloc'd; NULL out of memory). */
int db_sequences_create(MYSQL *m, const json_t *schema, const char *tdb, Err *err);
int db_sequence_insert_sql(const json_t *seq, const char *tdb, Buf *out, Err *err);
int db_sequences_verify(const json_t *item, json_t **schemas, const MdbConn *target,
                        const char *target_db, size_t *out_checked, size_t *out_bad, Err *err);
char *db_sequence_retarget(const char *create, const char *src, const char *tdb);

/* Verify with the schema documents already read (one per item database).
 * load_warnings (may be NULL): {"tdb\ttable": "the load's first warning"}:
 * such a table fails, its warning named, even where the hashes agree. */
int db_verify_with(const json_t *item, json_t **schemas, const MdbConn *target,
                   const char *target_db, unsigned threads, const json_t *load_warnings,
                   RstDbStats *stats, Err *err);

#endif

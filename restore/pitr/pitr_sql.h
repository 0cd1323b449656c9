/* pitr_sql.h: what the replay needs to know of a Query event's statement
 * text without parsing SQL: its kind (transaction control, XA, account
 * management, anything else), the XA transaction id it names, and every
 * name it uses as a qualifier (`db`.t, db.t, DATABASE db), so that a
 * statement naming a restored database is never taken for one about
 * another database. Shared inside restore/pitr only.
 * Invariant: the name scan over-reports (a table alias before a column
 * counts as a name too) and never under-reports outside string literals
 * and comments; callers may only use it to decide "may concern". */
#ifndef TM_RESTORE_PITR_SQL_H
#define TM_RESTORE_PITR_SQL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum PitrSqlKind {
    PITR_SQL_OTHER = 0,
    PITR_SQL_TXN,          /* BEGIN, COMMIT, ROLLBACK [TO], SAVEPOINT, RELEASE SAVEPOINT */
    PITR_SQL_XA_START,     /* XA START / BEGIN xid */
    PITR_SQL_XA_END,       /* XA END xid */
    PITR_SQL_XA_PREPARE,   /* XA PREPARE xid (the server logs an XA_prepare event instead) */
    PITR_SQL_XA_COMMIT,    /* XA COMMIT xid (two-phase: a group of its own) */
    PITR_SQL_XA_COMMIT_1PC,/* XA COMMIT xid ONE PHASE */
    PITR_SQL_XA_ROLLBACK,  /* XA ROLLBACK xid */
    PITR_SQL_ACCOUNT,      /* CREATE/DROP/ALTER/RENAME USER, CREATE/DROP ROLE, GRANT, REVOKE, SET PASSWORD */
    PITR_SQL_TEMP_TABLE,   /* CREATE [OR REPLACE] TEMPORARY TABLE, DROP TEMPORARY TABLE (the server
                              writes `DROP TEMPORARY TABLE IF EXISTS db.t` when a session ends) */
} PitrSqlKind;

#define PITR_SQL_XID_MAX 420   /* X'<128 hex>',X'<128 hex>',<format id> and some */

/* The statement's kind; for the XA kinds xid gets the id as written
 * (blanks removed, hex digits upper-cased, " ONE PHASE" cut), "" when it
 * does not look like a MariaDB-logged id (X'..',X'..',n or a quoted string). */
PitrSqlKind pitr_sql_kind(const char *q, size_t ql, char *xid, size_t xcap);

/* Call fn for each name the statement uses as a qualifier or after
 * DATABASE/SCHEMA (quotes removed, `` undoubled; name is NUL-terminated and
 * valid during the call). Stops when fn returns non-zero and returns that. */
typedef int (*PitrSqlNameFn)(void *ctx, const char *name, size_t len);
int pitr_sql_names(const char *q, size_t ql, PitrSqlNameFn fn, void *ctx);

/* Whether the statement names db (exact bytes, as a qualifier or after
 * DATABASE/SCHEMA). */
bool pitr_sql_names_db(const char *q, size_t ql, const char *db);

/* Tables the statement moves or copies between two databases: RENAME TABLE
 * a TO b (and each pair of its list), ALTER TABLE a ... RENAME [TO|AS] b
 * (move true), CREATE TABLE a ... LIKE b / SELECT ... FROM b and
 * INSERT/REPLACE [INTO] a ... SELECT ... FROM b (move false: a copy into
 * to_db). An unqualified name is in dflt (NULL or "": none, the pair is
 * left out). fn gets each pair of different databases; stops when fn
 * returns non-zero and returns that. Over-reports like pitr_sql_names
 * (a word after LIKE in a WHERE counts as a table). */
typedef int (*PitrSqlMoveFn)(void *ctx, const char *to_db, const char *from_db, bool move);
int pitr_sql_moves(const char *q, size_t ql, const char *dflt, PitrSqlMoveFn fn, void *ctx);

/* The statement text of an Execute_load_query event (LOAD DATA written as a
 * statement; type 18): its post-header is 26 bytes, the Query's 13 plus
 * file id, file name start and end, duplicate handling. Pointers into ev
 * (end: without the checksum); false when it does not parse. */
bool pitr_sql_load_query_text(const unsigned char *ev, size_t end, const char **db, size_t *dblen,
                              const char **q, size_t *qlen);

/* A printable start of the statement (at most 80 bytes), cut before
 * anything that may carry a password (IDENTIFIED, PASSWORD). */
void pitr_sql_snippet(const char *q, size_t ql, char *out, size_t cap);

#endif

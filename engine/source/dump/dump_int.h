/* dump_int.h: shared inside engine/source/dump only (catalog of what to
 * dump, the consistent point, the rows writer). */
#ifndef TM_SOURCE_DUMP_DUMP_INT_H
#define TM_SOURCE_DUMP_DUMP_INT_H

#include <mysql.h>

#include "engine/source/dump/src_dump.h"

/* One base table to dump. Catalog fields are filled by dump_catalog_read,
 * result fields by dump_rows_table. */
typedef struct DumpTable {
    char *db, *name, *engine;
    bool transactional;
    uint64_t est_bytes;      /* DATA_LENGTH, to start big tables first */
    json_t *columns;         /* array of dumped (non-generated) column names */
    json_t *order_by;        /* array of key columns, or json null */
    json_t *text_columns;    /* columns loaded through a text charset (INET6, UUID, ...) */
    json_t *generated;       /* generated columns: not dumped, in the values hash */
    json_t *shape;           /* how rows are read (src_dump_select_sql): "index_columns",
                                "history"; an object, maybe empty */
    bool versioned;          /* WITH SYSTEM VERSIONING */
    /* results */
    uint64_t rows, bytes;
    char hash[65];           /* BLAKE2b-256 of the rows stream bytes */
    char values_hash[65];    /* tm-values-1 of the values as the server holds them */
    json_t *parts;           /* array of streamref JSON */
    bool done;
} DumpTable;

typedef struct DumpDb {
    char *name;
    json_t *schema;          /* the schema document (FORMAT.md), tables in name order */
    size_t first, count;     /* its tables in DumpCatalog.tables */
} DumpDb;

typedef struct DumpCatalog {
    DumpDb *dbs;
    size_t ndbs;
    DumpTable *tables;
    size_t ntables;
    json_t *nontx;           /* array "db.table" of non-transactional tables */
} DumpCatalog;

/* Read the catalog of the databases (NULL-terminated list; NULL = all user
 * databases) through m: tables, columns, keys, CREATE statements, views in
 * dependency order, triggers, routines, events. */
int dump_catalog_read(MYSQL *m, const char *const *databases, DumpCatalog *out, Err *err);
void dump_catalog_free(DumpCatalog *c);

/* One SHOW CREATE <kind> <name> row as a new {"name","create",...} object
 * (sql_mode, character_set_client, collation_connection, time_zone kept when
 * the server gives them). ERR_NOTFOUND when the object vanished. */
int dump_show_create(MYSQL *m, const char *kind, const char *name, json_t **out, Err *err);

/* The sequences named in names (a JSON array of strings) of database db, as
 * schema["sequences"]: each {"name","create","state":{column: "value"}},
 * state being the sequence table's one row (next_not_cached_value,
 * minimum_value, ..., cycle_count) read through m. The caller holds the
 * consistent point's lock: a sequence's row is not versioned by the
 * snapshot (dump_sequence.c says why). */
int dump_sequences_read(MYSQL *m, const char *db, const json_t *names, json_t *schema, Err *err);

/* Users and grants as SQL text (CREATE USER ...; GRANT ...;), for --with-grants. */
int dump_grants_read(MYSQL *m, Buf *out, Err *err);

/* The consistent point shared by n connections. */
typedef struct DumpPoint {
    bool has_binlog;
    char file[256];
    uint64_t pos;
    char *gtid;              /* malloc'd, "" when none */
    double lock_ms;
    char method[24];
    bool locked;             /* lock still held: dump_point_release must follow */
    bool lock_is_ftwrl;
    MYSQL *lockc;            /* the connection holding the lock (never a dump one:
                                BACKUP STAGE END commits its session's transaction) */
} DumpPoint;

/* Start a consistent snapshot on every connection at one commit point.
 * hold: keep the global lock after the point (non-transactional tables are
 * dumped under it). force_lock skips the lock-free attempt. */
int dump_point_take(const MdbConn *c, MYSQL **conns, unsigned n, bool hold, bool force_lock,
                    unsigned lock_wait_timeout, DumpPoint *out, Err *err);
/* Release a held lock (lock_ms becomes the hold time) and close its connection. */
int dump_point_release(DumpPoint *p, Err *err);

/* The XIDs (XA RECOVER FORMAT='SQL' text) of the XA transactions prepared on
 * the server now: *out a new JSON array (maybe empty), or NULL when the
 * server or account cannot list them. Errors only for out of memory. */
int dump_prepared_xa(MYSQL *m, json_t **out, Err *err);
void dump_point_clear(DumpPoint *p);

/* Dump one table's rows through m (inside the snapshot) into r.
 * r == NULL: compute rows and hash only. */
int dump_rows_table(Repo *r, MYSQL *m, DumpTable *t, uint64_t part_size, Err *err);

/* A table's rows through the binary protocol (dump_values.c): open runs
 * the prepared SELECT (src_dump_select_sql) of columns then generated
 * (may be NULL); next fetches a row (out_row false at the end) and adds
 * all its values to the values hash; encode appends the row's columns
 * (not the generated ones) as a tsv1 line; digest ends the hash (hex). */
typedef struct DumpValues DumpValues;
int dump_values_open(MYSQL *m, const char *db, const char *table, const json_t *columns,
                     const json_t *generated, const json_t *order_by, const json_t *shape,
                     DumpValues **out, Err *err);
int dump_values_next(DumpValues *v, bool *out_row, Err *err);
int dump_values_encode(DumpValues *v, Buf *out, Err *err);
void dump_values_digest(DumpValues *v, char out_hex[65]);
void dump_values_close(DumpValues *v);   /* accepts NULL */

/* Exact text of binary-protocol values (dump_text.c): d has room for
 * DUMP_TEXT_MAX bytes; returns the length written (no NUL). A DOUBLE's text
 * reads back as the same 64 bits; a FLOAT is written as its exact double.
 * TIME hours include the days; fractions have `decimals` digits (<= 6). */
#define DUMP_TEXT_MAX 48
size_t dump_text_u64(char *d, uint64_t v);
size_t dump_text_i64(char *d, int64_t v);
size_t dump_text_double(char *d, double v);
size_t dump_text_time(char *d, const MYSQL_TIME *t, enum enum_field_types type, unsigned decimals);

/* Escape n bytes of s as tsv1 at d (room for 2n bytes); returns the end. */
uint8_t *dump_tsv_put(uint8_t *d, const unsigned char *s, size_t n);

/* Check the account's privileges for dumping dbs (NULL-terminated; NULL =
 * global only); ERR_PERM listing what is missing and the GRANT that fixes it. */
int dump_privs_check(MYSQL *m, const char *const *dbs, bool need_reload, Err *err);

#endif

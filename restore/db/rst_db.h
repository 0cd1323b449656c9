/* rst_db.h: load a snapshot's database item (engine/source/dump) into a
 * MariaDB server, verify it by content hash, or export it as plain SQL.
 *
 * Invariants a user of this API relies on:
 *  1. A load never touches a non-empty target database unless drop_existing
 *     is set (then the database is dropped and created again).
 *  2. Rows reach the server through LOAD DATA LOCAL INFILE fed from the
 *     repository chunk by chunk (bounded memory, no temp files); the local
 *     infile handler serves only the stream it was armed with, whatever
 *     file name the server asks for.
 *  3. Verification recomputes every table's row count and values hash (the
 *     values as the server holds them, read through the binary protocol)
 *     from the loaded server and compares them with the snapshot's; any
 *     difference is ERR_VERIFY naming the tables. Snapshots made before
 *     values hashes are compared by the hash of their tsv1 encoding, and
 *     the stats say so. */
#ifndef TM_RESTORE_DB_RST_DB_H
#define TM_RESTORE_DB_RST_DB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/common/err.h"
#include "engine/repo/repo.h"
#include "engine/source/dump/src_dump.h"

/* The first {"kind":"mariadb"} item of a manifest (borrowed), or NULL. */
const json_t *rst_db_item(const json_t *manifest);

typedef struct RstDbOptions {
    const char *target_db;   /* load the (single) database under this name; NULL = same */
    bool drop_existing;      /* replace a non-empty target database */
    unsigned threads;        /* parallel loads and verifications; 0 = 2 */
    bool with_grants;        /* also run the snapshot's CREATE USER / GRANT statements */
    bool skip_verify;        /* do not recompute hashes after the load */
    bool write_binlog;       /* keep the load in the target's binlog (default: sql_log_bin=0
                                when the account may, as myloader does) */
    bool progress;           /* progress lines (rows/s, ETA) on stderr */
} RstDbOptions;

typedef struct RstDbStats {
    uint64_t tables, rows, bytes;
    double load_s;           /* schema + rows + indexes + objects */
    double verify_s;
    uint64_t mismatches;     /* tables whose hash or count differ */
    uint64_t by_values;      /* tables compared by values hash (tm-values-1) */
    uint64_t by_stream;      /* tables compared by the hash of their tsv1 text (old snapshots) */
    uint64_t float_count;    /* of those, tables with FLOAT columns (stored rounded to 6 digits) */
    char float_tables[400];  /* the first of them, "db.table, ..." */
} RstDbStats;

/* The comparison a verification made, in words and as an identifier
 * ("values-hash+rows", "stream-hash+rows", "values-hash+stream-hash+rows"),
 * from its stats. Static strings. */
const char *rst_db_comparison(const RstDbStats *st);
const char *rst_db_comparison_id(const RstDbStats *st);
/* The identifier of the comparison a verification of item makes (from its
 * tables' hashes, without a server). Static string. */
const char *rst_db_item_comparison_id(const json_t *item);

/* Load the item's databases into the server at target. On ERR_VERIFY the
 * data is loaded but differs (err names the tables); other errors leave a
 * partly loaded target database. stats may be NULL. */
int rst_db_load(Repo *r, const json_t *item, const MdbConn *target, const RstDbOptions *opt,
                RstDbStats *stats, Err *err);

/* Verify only: compare the item's hashes with the server's tables
 * (database names mapped through target_db as in rst_db_load). */
int rst_db_verify(Repo *r, const json_t *item, const MdbConn *target, const char *target_db,
                  unsigned threads, RstDbStats *stats, Err *err);

/* Write the item as plain SQL that the stock `mariadb` client loads
 * (CREATE DATABASE, tables, INSERTs, views, triggers, routines, events). */
int rst_db_export_sql(Repo *r, const json_t *item, const char *target_db, FILE *out, Err *err);

/* ---- pieces exposed for unit tests ------------------------------------ */

/* Refuse, before anything is written, a snapshot whose names the target
 * cannot hold apart: with lower_case_table_names 1 or 2 on the target, two
 * databases (without target_db), or two tables / views / sequences of one
 * database, whose names differ only in case. m: a connection to the target
 * (read-only use). schemas: the schema documents, one per item database,
 * for views and sequences (NULL: tables and databases only). ERR_UNSUPPORTED
 * naming the pairs (db_names.c). */
int rst_db_names_check(MYSQL *m, const json_t *item, json_t *const *schemas,
                       const char *target_db, Err *err);

/* Split a SHOW CREATE TABLE text into the CREATE with only the primary key
 * (and any key the AUTO_INCREMENT column needs), the secondary keys
 * ("ADD UNIQUE KEY ..., ADD KEY ...") and the foreign keys ("ADD CONSTRAINT
 * ... FOREIGN KEY ..."). Outputs malloc'd; *out_keys / *out_fks NULL when
 * there are none. ERR_CORRUPT when the text is not a CREATE TABLE. */
int rst_ddl_split(const char *create, char **out_create, char **out_keys, char **out_fks,
                  Err *err);

#endif

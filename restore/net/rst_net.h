/* pitr_net.h: the net change of a range of archived row events, per
 * primary key ("fold"), and its emission as a few large row events for the
 * target to apply in bulk (pitr_apply.c sends them as BINLOG statements).
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
 *     User_var, XA, LOAD DATA events, Incident) makes pitr_net_feed return
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
 *     first, then Update_rows (start -> end image, see PitrNetTableDef.uniq),
 *     then Write_rows of end images, each key once, in the order keys
 *     were first touched; a key whose start and end images are identical is
 *     left out. Every emitted rows event carries NO_FOREIGN_KEY_CHECKS_F
 *     (the intermediate states are not consistent across tables) and every
 *     batch starts with a Table_map and ends with STMT_END_F.
 *  5. Images are kept in an unlinked temporary file under tmpdir, not in
 *     memory: memory is O(keys touched), not O(bytes of binlog). */
#ifndef TM_RESTORE_PITR_NET_H
#define TM_RESTORE_PITR_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"

#define PITR_NET_PK_MAX 16
#define PITR_NET_NAME_MAX 65   /* a MariaDB identifier (64 characters) + NUL */
#define PITR_NET_UNIQ_MAX 64   /* more unique-key columns than this: uniq_unknown */

/* What the caller knows of a table, from the target server after the
 * snapshot load (information_schema). */
typedef struct PitrNetTableDef {
    bool restore;                     /* false: not restored, its events are skipped */
    bool fold;                        /* true: fold by primary key; false: keep events in order */
    uint32_t ncols;                   /* columns on the target; must equal the Table_map's */
    uint32_t npk;
    uint32_t pk[PITR_NET_PK_MAX];     /* 0-based column indexes of the primary key, key order */
    int32_t autoinc;                  /* 0-based index of the AUTO_INCREMENT column, -1 = none */
    bool autoinc_unsigned;
    char target_db[PITR_NET_NAME_MAX];   /* database name written into emitted Table_maps
                                          * ("" = the name in the events) */
    /* Columns of the table's UNIQUE secondary keys (the union over all of
     * them, 0-based). A key present at the start and at the end whose
     * images differ is emitted as one Update_rows (start -> end image) when
     * every one of these columns is identical (bytes and NULL-ness) in the
     * two images; otherwise as Delete_rows + Write_rows. Why this is safe:
     * an updated row then holds the same unique values before and after,
     * so it cannot collide with another row at any moment of the apply;
     * deletes run first and writes last (see PitrNetPhase). uniq_unknown:
     * the caller could not tell (always Delete + Write). */
    uint32_t nuniq;
    uint32_t uniq[PITR_NET_UNIQ_MAX];
    bool uniq_unknown;
} PitrNetTableDef;

/* Called once per (db, table) at its first Table_map in the range. A
 * non-zero ERR_* fails the feed with that error.
 * Also called with table "" once per default database of a Query event
 * (db "" when the statement had none): only out->restore is read, true when
 * statements under that default database apply to the restored databases
 * (answer as replicate_do_db would: "" is normally false). */
typedef int (*PitrNetDefineFn)(void *ctx, const char *db, const char *table, PitrNetTableDef *out,
                               Err *err);

typedef struct PitrNet PitrNet;

/* tmpdir: where the image file goes (NULL = $TMPDIR or /tmp). */
int pitr_net_open(const char *tmpdir, PitrNetDefineFn define, void *ctx, PitrNet **out, Err *err);

/* One event: header, body and checksum as in the binlog file; pos and file
 * name only for messages (file may be NULL). ERR_UNSUPPORTED: see
 * invariant 2/3; ERR_CORRUPT: an event that does not parse; ERR_IO: the
 * temporary file. After an error the PitrNet only accepts pitr_net_close. */
int pitr_net_feed(PitrNet *n, const char *file, uint64_t pos, const uint8_t *ev, size_t len, Err *err);

/* No more events: flushes the image file; emission may start. */
int pitr_net_finish(PitrNet *n, Err *err);

typedef struct PitrNetTableInfo {
    char db[PITR_NET_NAME_MAX], table[PITR_NET_NAME_MAX];   /* names in the events */
    PitrNetTableDef def;
    uint64_t keys;                    /* fold: distinct keys touched */
    uint64_t rows_delete, rows_write; /* fold: what emission will delete / write */
    uint64_t rows_update;             /* fold: keys emitted as Update_rows (not in delete/write) */
    uint64_t prepare_bytes, write_bytes;     /* about what each phase emits (balancing) */
    uint64_t ordered_events, ordered_rows;   /* not folded: row events kept */
    uint64_t emit_bytes;              /* about what emission produces (for balancing) */
    bool autoinc_seen;                /* an AUTO_INCREMENT value >= 1 was written */
    uint64_t autoinc_max;             /* the largest one written in the range */
} PitrNetTableInfo;

typedef struct PitrNetStats {
    uint64_t events, row_events, rows;    /* fed (restored tables only for rows) */
    uint64_t transactions;                /* GTID events fed */
    uint64_t keys;                        /* distinct keys over all fold tables */
    uint64_t image_bytes;                 /* written to the temporary file */
} PitrNetStats;

/* The restored tables (def.restore true) seen in the range, index order =
 * first Table_map; tables not restored are not listed. The info pointer is
 * borrowed, valid until pitr_net_close; its counts are final after
 * pitr_net_finish. */
size_t pitr_net_table_count(const PitrNet *n);
const PitrNetTableInfo *pitr_net_table(const PitrNet *n, size_t i);
void pitr_net_stats(const PitrNet *n, PitrNetStats *out);

/* The range's Format_description event (the archive's own bytes), to send
 * before any batch; NULL before one was fed. */
const uint8_t *pitr_net_format_desc(const PitrNet *n, size_t *len);

/* Emit table i's changes (after pitr_net_finish) as batches of whole
 * events, each at most max_bytes unless one row is larger: a Table_map
 * (db = def.target_db, a table id of the emitter's choice) then rows events
 * (v1 types for fold tables; the original events, table id and flags
 * patched, for ordered ones), a CRC32 on each event when the
 * Format_description says so. fn gets each batch and its row count; a
 * non-zero return stops the emission with that code. Calls for different
 * tables may run at once from different threads. */
typedef int (*PitrNetBatchFn)(void *ctx, const uint8_t *events, size_t len, uint64_t rows, Err *err);
int pitr_net_emit(PitrNet *n, size_t table, size_t max_bytes, PitrNetBatchFn fn, void *ctx, Err *err);

/* The same in two phases, so that two connections can share one table:
 *   PITR_NET_PHASE_PREPARE: fold tables: the Delete_rows, then the
 *     Update_rows; ordered tables: all their events. Not split: shard 0
 *     emits it all, other shards nothing.
 *   PITR_NET_PHASE_WRITE: fold tables: the Write_rows, split in nshards
 *     contiguous parts of the first-touch order (shard 0..nshards-1); every
 *     key is written by exactly one shard; ordered tables: nothing.
 * The caller must finish (commit) a table's PREPARE before any of its WRITE
 * shards starts; WRITE shards of one table may run at once. pitr_net_emit
 * = PREPARE then WRITE with one shard. ERR_INVALID: nshards 0 or shard >=
 * nshards. The split is fixed by pitr_net_finish, which reads both images
 * of a key present at both ends when the choice depends on their bytes
 * (same hash, or unique-key columns to compare). */
typedef enum PitrNetPhase { PITR_NET_PHASE_PREPARE = 0, PITR_NET_PHASE_WRITE } PitrNetPhase;
int pitr_net_emit_phase(PitrNet *n, size_t table, PitrNetPhase phase, unsigned shard, unsigned nshards,
                        size_t max_bytes, PitrNetBatchFn fn, void *ctx, Err *err);

void pitr_net_close(PitrNet *n);   /* accepts NULL */

#endif

/* pitr_apply.h: the net-change apply path of a point-in-time restore
 * (inside restore/pitr only): whether the target allows it, the fold of the
 * archived range (pitr_net.h) and its bulk apply as BINLOG statements over
 * two connections.
 * Invariant: nothing here writes to the target before pitr_apply_send, and
 * pitr_apply_send writes with sql_log_bin=0 only. */
#ifndef TM_RESTORE_PITR_APPLY_H
#define TM_RESTORE_PITR_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "restore/pitr/pitr_net.h"
#include "restore/pitr/rst_pitr.h"

/* The restored databases: the names in the archived events and the names
 * they have on the target (the --target-db rename). */
typedef struct PitrApplyDbs {
    size_t n;
    char from[16][PITR_NET_NAME_MAX];
    char to[16][PITR_NET_NAME_MAX];
} PitrApplyDbs;

/* The item's databases through target_db; ERR_INVALID when there are more
 * than 16 or a rename of a multi-database snapshot is asked. */
int pitr_apply_dbs(const json_t *item, const char *target_db, PitrApplyDbs *out, Err *err);

/* Whether the target's account may run BINLOG statements and turn
 * sql_log_bin off (no-op probes, nothing changes). *ok false: reason says
 * what is missing and the GRANT that gives it. Errors: connection only. */
int pitr_apply_check_privileges(const MdbConn *conn, bool *ok, char *reason, size_t cap, Err *err);

/* After the load: false with the reason when a foreign key of (or into) a
 * restored database has a DELETE_RULE or UPDATE_RULE other than RESTRICT/NO
 * ACTION (the server applies those changes itself, unlogged). */
int pitr_apply_check_fks(const MdbConn *conn, const PitrApplyDbs *dbs, bool *ok, char *reason,
                         size_t cap, Err *err);

typedef struct PitrFoldStats {
    uint64_t transactions;    /* groups folded (the ones applied) */
    uint64_t bytes;           /* event bytes read */
    size_t max_rows_event;    /* the largest rows event of a restored table */
    double seconds;
} PitrFoldStats;

/* Read the archive from plan->snap_pos and fold every transaction after
 * the snapshot's position up to the one that makes the state
 * plan->target_gtid. *out (on success) is finished, ready to emit; the
 * caller closes it. ERR_UNSUPPORTED: the range cannot be folded (err names
 * the event); the caller falls back. */
int pitr_apply_fold(Repo *r, const BinlogCatalog *c, const RstPitrPlan *plan, const MdbConn *conn,
                    const PitrApplyDbs *dbs, const char *tmpdir, bool progress, PitrNet **out,
                    PitrFoldStats *st, Err *err);

/* Whether the largest rows event fits a BINLOG statement under the target's
 * max_allowed_packet; *ok false with the reason otherwise. */
int pitr_apply_check_packet(const MdbConn *conn, size_t max_rows_event, bool *ok, char *reason,
                            size_t cap, Err *err);

typedef struct PitrApplyStats {
    uint64_t rows_written, rows_deleted, rows_updated, ordered_rows;
    uint64_t split_tables;            /* tables written in two shards at once */
    uint64_t tables, ordered_tables;
    uint64_t autoinc_raised;
    double seconds;
    char reached[RST_PITR_GTID_MAX];   /* gtid_slave_pos read back */
    uint64_t rows_applied, rows_total; /* rows committed of the range's (also when interrupted) */
} PitrApplyStats;

/* Apply n's changes to the target over two connections (sql_log_bin=0,
 * foreign_key_checks=0; every table's PREPARE phase, then the WRITE shards,
 * a table with over a quarter of the write bytes in two shards), raise AUTO_INCREMENT counters the range went past,
 * then SET GLOBAL gtid_slave_pos = target_gtid and read it back into
 * st->reached. On failure err names the table, the phase or shard, the
 * batch and the server's message; tables applied before stay applied.
 * Once rst_pitr_signal() is set: ERR_INTERRUPTED at the next batch, the
 * open transactions rolled back, err naming where each connection stopped
 * and the rows applied of the total. */
int pitr_apply_send(PitrNet *n, const MdbConn *conn, const char *target_gtid, bool progress,
                    PitrApplyStats *st, Err *err);

#endif

/* pitr_fold.h: the read of the archived range into the net-change fold
 * (restore/net) for the net apply path; inside restore/pitr only.
 * Invariant: nothing here writes to the target. */
#ifndef TM_RESTORE_PITR_FOLD_H
#define TM_RESTORE_PITR_FOLD_H

#include "restore/net/rst_net.h"
#include "restore/pitr/rst_pitr.h"

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
                    const RstNetDbs *dbs, const char *tmpdir, bool progress, RstNet **out,
                    PitrFoldStats *st, Err *err);

#endif

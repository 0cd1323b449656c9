/* pitr_qfilter.h: the event source the transaction path streams to the
 * target's replica, between the archive and rst_replay_run. The replica
 * filters by the tables a statement names (replicate_wild_do_table), which
 * lets a table-less statement about another database (CREATE PROCEDURE,
 * GRANT, ...) through: this filter turns the Query events of the range that
 * cannot concern a restored database into a no-op of the same length, and
 * refuses what the replica would get wrong: a statement naming the source
 * database explicitly under --target-db (replicate_rewrite_db rewrites only
 * the default database), an XA COMMIT whose XA PREPARE lies before the
 * snapshot's position. It also tracks the XA transactions prepared in the
 * range (pitr_qfilter_xa).
 * Invariant: only groups after the start state and at or before the target
 * state (per domain) are judged; every event keeps its length, so binlog
 * positions stay those of the archive. */
#ifndef TM_RESTORE_PITR_QFILTER_H
#define TM_RESTORE_PITR_QFILTER_H

#include "restore/net/rst_net.h"
#include "restore/replay/rst_replay.h"

typedef struct PitrQFilter PitrQFilter;

/* dbs is copied; next/next_ctx are borrowed until close. start and target
 * are GTID states ("d-s-n,..."). */
int pitr_qfilter_open(const RstNetDbs *dbs, const char *start, const char *target, RstEventNext next,
                      void *next_ctx, PitrQFilter **out, Err *err);
/* RstEventNext; ctx is the PitrQFilter. */
int pitr_qfilter_next(void *ctx, const uint8_t **ev, size_t *len, Err *err);
/* The i-th XA transaction prepared in the range so far, in stream order:
 * its id as logged, the GTID of its XA PREPARE group and of the group that
 * ended it ("" = none sent; at most the last 4096 ended ones are kept),
 * borrowed; false past the last. Whether the target applied either is its
 * gtid_slave_pos's business: the stream runs ahead of the SQL thread. */
bool pitr_qfilter_xa(const PitrQFilter *f, size_t i, const char **xid, const char **gtid, const char **ended);
/* XA COMMITs of XA transactions prepared before the snapshot that touch no
 * restored database (RstPitrRangeInfo.xa_noop: ids, one a line; borrowed,
 * must outlive f): sent as no-ops instead of refused. */
void pitr_qfilter_xa_noop(PitrQFilter *f, const char *ids);
void pitr_qfilter_close(PitrQFilter *f);   /* accepts NULL */

#endif

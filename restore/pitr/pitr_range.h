/* pitr_range.h: what the plan's scan learns about the replayed range that
 * the replay cannot handle or the target must allow, so a restore refuses
 * before anything is loaded (and --plan says it): the largest event (the
 * target's slave_max_allowed_packet), an XA COMMIT of a transaction
 * prepared before the snapshot's position, the first statement naming a
 * restored database explicitly (which --target-db cannot rename).
 * Invariant: only groups the replay applies (completed in the counted
 * range) are recorded; what the scan cannot read (a compressed Query, more
 * than PITR_RANGE_XA_MAX open XA transactions) is left to the replay's own
 * filter (pitr_qfilter.c), which refuses the same things when it meets them. */
#ifndef TM_RESTORE_PITR_RANGE_H
#define TM_RESTORE_PITR_RANGE_H

#include "restore/pitr/pitr_int.h"
#include "restore/net/rst_net.h"

#define PITR_RANGE_XA_MAX 32

typedef struct PitrRange {
    const json_t *item;                 /* the snapshot's database item (borrowed) */
    RstPitrRangeInfo info;                /* what the completed groups showed */
    RstPitrRangeInfo grp;                 /* the group in progress (merged at its end) */
    char xa[PITR_RANGE_XA_MAX][RST_NET_SQL_XID_MAX];   /* prepared in the range, not ended */
    size_t nxa;
    bool xa_overflow;
    char grp_prepared[RST_NET_SQL_XID_MAX];/* the group in progress prepares this XA */
    char grp_ended[RST_NET_SQL_XID_MAX];   /* ... or commits / rolls back this one */
    bool grp_rollback;                  /* grp_ended is rolled back */
    bool grp_touches;                   /* a group before the snapshot touches a restored database */
    struct {
        char xid[RST_NET_SQL_XID_MAX];
        bool touches;                   /* its Table_maps or statements name a restored database */
    } pre[PITR_RANGE_XA_MAX];           /* XA prepared before the snapshot and not ended there, in
                                           the segments scanned before it (pitr_plan.c) */
    size_t npre;
} PitrRange;

/* Start a scan from a snapshot whose database item is item. */
void pitr_range_begin(PitrRange *rg, const json_t *item);
/* One event of the scan: f and g as pitr_group_feed left them; counts: the
 * group is in the replayed range. */
void pitr_range_feed(PitrRange *rg, const PitrGroup *g, PitrFeed f, bool counts, const uint8_t *ev, size_t len);

#endif

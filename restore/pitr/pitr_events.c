/* pitr_events.c: the transaction tracker of the plan and the search (where
 * a GTID group begins and ends).
 * Invariant: group boundaries are decided by mdb_event_ends_group, as the
 * replay source (restore/replay/rst_srcdump.c) decides them, so a position
 * the plan computes is one the replay can stop at. */
#include "restore/pitr/pitr_int.h"

static void state_set(MdbGtidSet *s, const MdbGtid *g)
{
    mdb_gtid_set_update(s, g);
}

int pitr_group_feed(PitrGroup *g, const uint8_t *ev, size_t len, PitrFeed *out, Err *err)
{
    uint8_t type = ev[4];
    size_t end;
    int64_t ts = (int64_t)mdb_le32(ev);

    if (type == MDB_EV_FORMAT_DESC) {
        g->crc = mdb_fd_has_crc(ev, len);
        *out = PITR_FEED_OTHER;
        return 0;
    }
    end = pitr_body_end(g, len);
    if (type == MDB_EV_GTID) {
        uint8_t flags2 = 0;
        if (mdb_event_gtid(ev, end, &g->gtid, &flags2, err)) return err->code;
        g->standalone = (flags2 & MDB_GTID_FL_STANDALONE) != 0;
        g->in_group = true;
        g->max_time = ts;
        *out = PITR_FEED_BEGIN;
        return 0;
    }
    if (!g->in_group) {
        *out = PITR_FEED_OTHER;
        return 0;
    }
    if (ts > g->max_time) g->max_time = ts;
    if (mdb_event_ends_group(type, ev, end, g->standalone)) {
        g->in_group = false;
        state_set(&g->state, &g->gtid);
        *out = PITR_FEED_END;
    } else {
        *out = PITR_FEED_INSIDE;
    }
    return 0;
}

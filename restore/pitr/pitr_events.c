/* pitr_events.c: the transaction tracker of the plan and the search (where
 * a GTID group begins and ends) and GTID state arithmetic.
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
        g->crc = len >= MDB_HDR_LEN + 5 && ev[len - 5] == 1;
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

void pitr_gtid_set_merge(MdbGtidSet *a, const MdbGtidSet *b)
{
    for (size_t i = 0; i < b->n; i++) {
        bool found = false;
        for (size_t j = 0; j < a->n; j++) {
            if (a->g[j].domain != b->g[i].domain) continue;
            found = true;
            if (b->g[i].seq > a->g[j].seq) a->g[j] = b->g[i];
        }
        if (!found) mdb_gtid_set_update(a, &b->g[i]);
    }
}

static uint64_t seq_of(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

bool pitr_gtid_set_le(const MdbGtidSet *a, const MdbGtidSet *b)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->g[i].seq > seq_of(b, a->g[i].domain)) return false;
    return true;
}

bool pitr_gtid_set_eq(const MdbGtidSet *a, const MdbGtidSet *b)
{
    return pitr_gtid_set_le(a, b) && pitr_gtid_set_le(b, a);
}

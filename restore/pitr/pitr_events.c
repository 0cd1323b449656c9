/* pitr_events.c: reading event bytes for the plan and the search: where a
 * transaction (GTID group) begins and ends, Query event text, GTID state
 * arithmetic.
 * Invariant: group boundaries are decided exactly as the replay source
 * decides them (restore/replay/rst_srcdump.c), so a position the plan
 * computes is one the replay can stop at. */
#include <string.h>
#include <strings.h>

#include "restore/pitr/pitr_int.h"

static bool part_of_group(uint8_t type)
{
    /* GTID, Intvar, Rand, User_var, Table_map, Annotate_rows */
    return type == MDB_EV_GTID || type == 5 || type == 13 || type == 14 ||
           type == MDB_EV_TABLE_MAP || type == MDB_EV_ANNOTATE_ROWS;
}

bool pitr_query_text(const uint8_t *ev, size_t end, const char **db, size_t *dblen,
                     const char **q, size_t *qlen)
{
    size_t p = MDB_HDR_LEN, status_len, dl;
    if (end < p + 13) return false;
    dl = ev[p + 8];
    status_len = mdb_le16(ev + p + 11);
    p += 13 + status_len;
    if (p + dl + 1 > end) return false;
    *db = (const char *)ev + p;
    *dblen = dl;
    p += dl + 1;
    *q = (const char *)ev + p;
    *qlen = end - p;
    return true;
}

static bool is_commit_rollback(const uint8_t *ev, size_t end)
{
    const char *db, *q;
    size_t dl, ql;
    if (!pitr_query_text(ev, end, &db, &dl, &q, &ql)) return false;
    return (ql == 6 && !strncasecmp(q, "COMMIT", 6)) || (ql == 8 && !strncasecmp(q, "ROLLBACK", 8));
}

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
        if (end < MDB_HDR_LEN + 13) return err_set(err, ERR_CORRUPT, "short GTID event (%zu bytes)", len);
        g->gtid.seq = mdb_le64(ev + MDB_HDR_LEN);
        g->gtid.domain = mdb_le32(ev + MDB_HDR_LEN + 8);
        g->gtid.server = mdb_le32(ev + 5);
        g->standalone = (ev[MDB_HDR_LEN + 12] & MDB_GTID_FL_STANDALONE) != 0;
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
    bool ends = g->standalone ? !part_of_group(type)
                              : type == MDB_EV_XID || type == MDB_EV_XA_PREPARE ||
                                    (type == MDB_EV_QUERY && is_commit_rollback(ev, end));
    if (ends) {
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

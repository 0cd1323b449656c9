/* pitr_fold.c: the read of the archived range into the net-change fold
 * (restore/net) with the transaction tracking that decides where it ends.
 * Invariant: nothing here writes to the target; a range stops exactly after
 * the transaction whose completion makes the GTID state plan->target_gtid,
 * and groups at or before the snapshot's state are skipped as a replica
 * connecting at that state skips them. The read stops at the next event
 * once rst_pitr_signal() is set. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/common/clock.h"
#include "engine/common/progress.h"
#include "restore/pitr/pitr_fold.h"
#include "restore/pitr/pitr_int.h"

static bool is_rows_event(uint8_t t)
{
    return (t >= MDB_EV_WRITE_V1 && t <= MDB_EV_DELETE_V1) || (t >= MDB_EV_WRITE_V2 && t <= MDB_EV_DELETE_V2) ||
           (t >= MDB_EV_WRITE_COMP_V1 && t <= MDB_EV_DELETE_COMP_V2);
}

static uint64_t seq_in(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

int pitr_apply_fold(Repo *r, const BinlogCatalog *c, const RstPitrPlan *plan, const MdbConn *conn,
                    const RstNetDbs *dbs, const char *tmpdir, bool progress, RstNet **out,
                    PitrFoldStats *st, Err *err)
{
    RstPitrSource *src = NULL;
    RstNet *n = NULL;
    Progress *pg = NULL;
    RstNetDescriber *dx = NULL;
    PitrGroup g;
    MdbGtidSet state, target;
    char file[BINLOG_FILE_MAX];
    bool skip = false, reached;
    double t0 = clock_mono_s();
    int rc;

    *out = NULL;
    memset(st, 0, sizeof st[0]);
    memset(&g, 0, sizeof g);
    rc = mdb_gtid_set_parse(plan->snap_gtid, &state, err);
    if (!rc) rc = mdb_gtid_set_parse(plan->target_gtid, &target, err);
    if (rc) return err_wrap(err, "net apply: GTID positions of the plan");
    reached = mdb_gtid_set_eq(&state, &target);
    snprintf(file, sizeof file, "%s", binlog_catalog_at(c, plan->seg_from)->file);

    rc = rst_net_describer_open(conn, dbs, &dx, err);
    if (rc) goto out;
    rc = rst_net_open(tmpdir, rst_net_describe, dx, &n, err);
    if (rc) goto out;
    rc = rst_pitr_source_open(r, c, plan->seg_from, plan->seg_to, plan->snap_pos, &src, err);
    if (rc) {
        err_wrap(err, "net apply: read the archive");
        goto out;
    }
    pg = progress_new("read+fold", plan->seg_bytes, 0, progress);
    while (!reached) {
        const uint8_t *ev = NULL;
        size_t len = 0;
        PitrFeed f;
        uint64_t pos;
        if (rst_pitr_signal()) {   /* docs/OPERATIONS.md "Interrupting a restore" */
            rc = err_set(err, ERR_INTERRUPTED, "read+fold stopped in %s after %" PRIu64 " transactions "
                         "(%.1f of %.1f MB of the range read); nothing beyond the load was written", file,
                         st->transactions, (double)st->bytes / 1e6, (double)plan->seg_bytes / 1e6);
            goto out;
        }
        rc = rst_pitr_source_next(src, &ev, &len, err);
        if (rc) {
            err_wrap(err, "net apply: read the archive");
            goto out;
        }
        if (!ev) {
            rc = err_set(err, ERR_CORRUPT, "net apply: the archive ended before the target %s", plan->target_gtid);
            goto out;
        }
        st->bytes += len;
        if (len < MDB_HDR_LEN) {
            rc = err_set(err, ERR_CORRUPT, "net apply: short event (%zu bytes) in %s", len, file);
            goto out;
        }
        pos = mdb_le32(ev + 13) >= len ? mdb_le32(ev + 13) - len : 0;
        rc = pitr_group_feed(&g, ev, len, &f, err);
        if (rc) {
            err_wrap(err, "%s:%" PRIu64, file, pos);
            goto out;
        }
        if (f == PITR_FEED_BEGIN) skip = g.gtid.seq <= seq_in(&state, g.gtid.domain);
        if (!(skip && f != PITR_FEED_OTHER)) {
            if (is_rows_event(ev[4]) && len > st->max_rows_event) st->max_rows_event = len;
            rc = rst_net_feed(n, file, pos, ev, len, err);
            if (rc) goto out;
        }
        if (ev[4] == MDB_EV_ROTATE) {
            size_t end = pitr_body_end(&g, len);
            if (end > MDB_HDR_LEN + 8 && end - MDB_HDR_LEN - 8 < sizeof file)
                snprintf(file, sizeof file, "%.*s", (int)(end - MDB_HDR_LEN - 8), (const char *)ev + MDB_HDR_LEN + 8);
        }
        if (f == PITR_FEED_END && !skip) {
            mdb_gtid_set_update(&state, &g.gtid);
            st->transactions++;
            reached = mdb_gtid_set_eq(&state, &target);
        }
        if (f == PITR_FEED_END) skip = false;
        progress_add(pg, len, f == PITR_FEED_END ? 1 : 0);
    }
    rc = rst_net_finish(n, err);
    if (rc) goto out;
    *out = n;
    n = NULL;
out:
    progress_done(pg);
    rst_pitr_source_close(src);
    rst_net_close(n);
    rst_net_describer_close(dx);
    st->seconds = clock_mono_s() - t0;
    return rc;
}

/* pitr_archive_end.c: a time target past the last archived transaction.
 * The archive alone cannot tell "nothing was committed after its end" from
 * "the follower stopped and missed it"; the follower's status.json can: its
 * `heartbeat` record says that at wall time X the followed server had sent
 * everything up to file:position (docs/FORMAT.md). When that position is the
 * archive's end and X is past the target's second (with a margin), nothing
 * committed up to the target is missing. Otherwise the plan refuses, naming
 * the archive's end, the follower's state and the ways on, unless the
 * operator accepted the loss (--accept-archive-end): then the verdict says so.
 * Invariant: never "proven" without a heartbeat at the archive's exact end
 * (same server, file and position) heard at least PITR_END_MARGIN_S seconds
 * after the target's second began. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "restore/pitr/pitr_int.h"

/* A transaction stamped T commits within T's second; the heartbeat must be
 * heard after that second is over, plus one for the commit itself and the
 * clocks of the source and the follower's host. */
#define PITR_END_MARGIN_S 2
/* binlog status's rule: a status not rewritten for this long is a dead follower */
#define PITR_STATUS_STALE_S 30

/* "running (streaming, connected)" / "not running (state stopped, last update ...)" */
static void describe_follower(const json_t *st, char *out, size_t cap)
{
    const char *state = json_string_value(json_object_get(st, "state"));
    json_int_t pid = json_integer_value(json_object_get(st, "pid"));
    json_int_t upd = json_integer_value(json_object_get(st, "updated"));
    bool alive = pid > 0 && kill((pid_t)pid, 0) == 0 && state && strcmp(state, "stopped") != 0 &&
                 strcmp(state, "gap") != 0 && strcmp(state, "error") != 0 &&
                 (int64_t)time(NULL) - (int64_t)upd <= PITR_STATUS_STALE_S;
    char t[80];
    rst_pitr_time_format((int64_t)upd, t, sizeof t);
    snprintf(out, cap, "the follower is %s (state %s, status updated %s%s)",
             alive ? "running" : "not running", state ? state : "?", t,
             alive && json_is_true(json_object_get(st, "connected")) ? ", connected" : "");
}

/* Whether the status proves the archive complete up to q->time; why in out. */
static bool proven(const BinlogCatalog *c, const RstPitrRequest *q, char *out, size_t cap)
{
    const BinlogSegInfo *last = binlog_catalog_at(c, binlog_catalog_count(c) - 1);
    json_t *st = NULL;
    const json_t *hb;
    char who[400], t[80];
    bool ok = false;
    Err e;

    err_clear(&e);
    if (!q->spool_dir) {
        snprintf(out, cap, "no follower spool is configured here (spool_dir), so no follower status "
                 "can show it");
        return false;
    }
    if (binlog_status_read(q->spool_dir, q->instance, &st, &e)) {
        snprintf(out, cap, "%.900s: the follower runs on another host or never ran here", e.msg);
        return false;
    }
    describe_follower(st, who, sizeof who);
    hb = json_object_get(st, "heartbeat");
    if (!json_is_object(hb)) {
        snprintf(out, cap, "%s and recorded no heartbeat of the server (it never caught up, or it "
                 "is an older tidemark)", who);
    } else {
        int64_t x = (int64_t)json_integer_value(json_object_get(hb, "time"));
        const char *f = json_string_value(json_object_get(hb, "file"));
        const char *id = json_string_value(json_object_get(hb, "identity"));
        uint64_t pos = (uint64_t)json_integer_value(json_object_get(hb, "position"));
        rst_pitr_time_format(x, t, sizeof t);
        if (!f || strcmp(f, last->file) != 0 || pos != last->end || (id && id[0] && strcmp(id, last->identity) != 0))
            snprintf(out, cap, "%s; the server's binlog end it last heard of, at %s, was %s:%" PRIu64
                     "%s%s, not the archive's end %s:%" PRIu64 " (not archived yet, or another server)",
                     who, t, f ? f : "?", pos, id && id[0] ? " on " : "", id ? id : "", last->file, last->end);
        else if (x < q->time + PITR_END_MARGIN_S)
            snprintf(out, cap, "%s; it last heard that the server had nothing past the archive's end at %s, "
                     "before the target (it must be at least %d s after it)", who, t, PITR_END_MARGIN_S);
        else {
            snprintf(out, cap, "the follower heard at %s that the server had nothing past the archive's "
                     "end %s:%" PRIu64, t, last->file, last->end);
            ok = true;
        }
    }
    json_decref(st);
    return ok;
}

int pitr_archive_end_check(const BinlogCatalog *c, const RstPitrRequest *q, RstPitrPlan *p,
                           const char *newer_snap, Err *err)
{
    const BinlogSegInfo *last = binlog_catalog_at(c, binlog_catalog_count(c) - 1);
    char why[1200], ts[80], te[80], lastx[200], ways[600];

    rst_pitr_time_format(q->time, ts, sizeof ts);
    rst_pitr_time_format(p->archive_end_time, te, sizeof te);
    if (proven(c, q, why, sizeof why)) {
        p->archive_end = RST_PITR_END_PROVEN;
        snprintf(p->archive_end_why, sizeof p->archive_end_why, "the archive ends at %s (GTID %.200s) and %.600s, "
                 "after the target: nothing committed up to the target is missing", te,
                 p->archive_end_gtid, why);
        return 0;
    }
    if (p->last_gtid[0])
        snprintf(lastx, sizeof lastx, "last archived transaction %s stamped %s", p->last_gtid, te);
    else
        snprintf(lastx, sizeof lastx, "nothing archived after snapshot %.12s; last event stamped %s",
                 p->snap_hex, te);
    if (q->accept_archive_end) {
        p->archive_end = RST_PITR_END_ACCEPTED;
        snprintf(p->archive_end_why, sizeof p->archive_end_why, "the target %s is past the archive's end "
                 "(%s, GTID %.200s) and nothing proves that no transaction was committed after it: %.400s; "
                 "--accept-archive-end: the result stops at the archive's end, whatever was committed "
                 "after it is NOT restored", ts, lastx, p->archive_end_gtid, why);
        return 0;
    }
    if (p->last_gtid[0])
        snprintf(ways, sizeof ways, "restore exactly to the archive's end with --to-gtid %s", p->last_gtid);
    else
        snprintf(ways, sizeof ways, "restore snapshot %.12s alone with --snapshot %.12s", p->snap_hex,
                 p->snap_hex);
    if (newer_snap)
        snprintf(ways + strlen(ways), sizeof ways - strlen(ways), ", or the newer snapshot %.12s (its "
                 "position is not archived) with --snapshot %.12s", newer_snap, newer_snap);
    return err_set(err, ERR_GAP, "the target %s is past the end of the binlog archive of instance %s "
                   "(%s, at %s:%" PRIu64 ") and nothing proves that no transaction was committed in "
                   "between: %.700s. Ways on: %s; or start the follower, let it catch up (`tidemark binlog "
                   "status`) and run this again; or accept losing what may have been committed after "
                   "%s with --accept-archive-end", ts, q->instance, lastx, last->file, last->end, why,
                   ways, te);
}

/* inst_status.c: the binlog archive of an instance as monitoring sees it:
 * the recoverable window (after the last break of the chain), gaps, the
 * follower's liveness and its alarms (binlog status, the daemon).
 * Invariant: all is well only on positive evidence: a follower that does
 * not run, one cut from its server and a broken chain are each an alarm. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/instance/inst_int.h"

static void gtid_list(const MdbGtidSet *s, char *g, size_t cap)
{
    size_t k = 0;
    for (size_t d = 0; d < s->n && k < cap; d++)
        k += (size_t)snprintf(g + k, cap - k, "%s%u-%u-%" PRIu64, d ? "," : "", s->g[d].domain,
                              s->g[d].server, s->g[d].seq);
    if (k == 0) g[0] = '\0';
}

/* The recoverable window ends at the last entry; it starts after the last
 * break in the chain (gap[] says where it broke). */
static void window(const BinlogCatalog *cat, InstBinlogStatus *st)
{
    size_t n = binlog_catalog_count(cat), from = 0;
    InstBinlogWindow *w = &st->window;
    char why[400];

    st->gap[0] = '\0';
    if (!n) return;
    for (size_t i = 1; i < n; i++) {
        if (!binlog_catalog_connects(cat, i, why, sizeof why)) {
            const BinlogSegInfo *p = binlog_catalog_at(cat, i - 1), *s = binlog_catalog_at(cat, i);
            char t1[32], t2[32];
            from = i;
            binlog_time_format(p->last_time, t1, sizeof t1);
            binlog_time_format(s->first_time, t2, sizeof t2);
            snprintf(st->gap, sizeof st->gap,
                     "point-in-time recovery broken between %s UTC (%s:%" PRIu64 ") and %s UTC (%s:%" PRIu64
                     "): %s", t1, p->file, p->end, t2, s->file, s->start, why);
        }
    }
    const BinlogSegInfo *a = binlog_catalog_at(cat, from), *b = binlog_catalog_at(cat, n - 1);
    st->has_window = true;
    binlog_time_format(a->first_time, w->from_utc, sizeof w->from_utc);
    binlog_time_format(b->last_time, w->to_utc, sizeof w->to_utc);
    w->from = a->first_time;
    w->to = b->last_time;
    snprintf(w->from_position, sizeof w->from_position, "%s", a->file);
    w->from_start = a->start;
    mdb_gtid_set_format(&a->gtid_first, w->from_gtid, sizeof w->from_gtid);
    snprintf(w->to_position, sizeof w->to_position, "%s", b->file);
    w->to_end = b->end;
    gtid_list(&b->gtid_state, w->to_gtid, sizeof w->to_gtid);
}

static void alarm_add(InstBinlogStatus *st, const char *a)
{
    if (st->nalarms < INST_ALARMS_MAX) st->alarms[st->nalarms++] = a;
}

int inst_binlog_status(Inst *in, Repo *r, InstBinlogStatus *out, Err *err)
{
    BinlogCatalog *cat = NULL;
    const BinlogSegInfo *last;
    const char *alarm;
    time_t now;
    Err se;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = inst_need_name(in, err))) return rc;
    out->instance = in->name;
    err_clear(&se);
    if (binlog_status_read(in->spool, in->name, &out->follower, &se) != 0) out->follower = json_null();
    if ((rc = binlog_catalog_load(r, in->name, &cat, err))) goto out;

    now = time(NULL);
    out->running = binlog_follower_running(out->follower, in->spool, in->name, now, out->down, sizeof out->down);
    out->reaches = !out->running || binlog_follower_connected(out->follower, in->name, now, out->cut, sizeof out->cut);
    out->connected = out->running && json_is_true(json_object_get(out->follower, "connected"));
    alarm = json_string_value(json_object_get(out->follower, "alarm"));
    window(cat, out);
    out->segments = binlog_catalog_count(cat);
    last = out->segments ? binlog_catalog_at(cat, out->segments - 1) : NULL;
    if (last) {
        mdb_gtid_set_format(&last->gtid_state, out->last_gtid, sizeof out->last_gtid);
        out->last_time = last->last_time;
    }
    out->problem = alarm               ? alarm
                   : out->gap[0]       ? out->gap
                   : !out->running     ? out->down
                   : !out->reaches     ? out->cut
                                       : NULL;
    /* every alarm: the follower's (gap, spool full), the chain's, and a
     * follower that does not run (nothing new is archived) */
    if (alarm) alarm_add(out, alarm);
    if (out->gap[0] && (!alarm || strcmp(alarm, out->gap) != 0)) alarm_add(out, out->gap);
    if (!out->running) alarm_add(out, out->down);
    if (!out->reaches) alarm_add(out, out->cut);
    out->is_gap = out->gap[0] || (alarm && strstr(alarm, "point-in-time recovery broken"));
    binlog_catalog_load_stats(cat, &out->catalog_objects, &out->catalog_compacts, &out->compacted_to);
out:
    binlog_catalog_free(cat);
    if (rc) inst_binlog_status_free(out);
    return rc;
}

void inst_binlog_status_free(InstBinlogStatus *st)
{
    if (!st) return;
    json_decref(st->follower);
    st->follower = NULL;
    st->alarms[0] = NULL;
    st->nalarms = 0;
    st->problem = NULL;
}

static json_t *window_json(const InstBinlogStatus *st)
{
    const InstBinlogWindow *w = &st->window;
    if (!st->has_window) return json_null();
    return json_pack("{s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:s, s:s, s:I}", "from_utc", w->from_utc,
                     "to_utc", w->to_utc, "from", (json_int_t)w->from, "to", (json_int_t)w->to,
                     "from_position", w->from_position, "from_start", (json_int_t)w->from_start,
                     "from_gtid", w->from_gtid, "to_position", w->to_position, "to_gtid", w->to_gtid,
                     "to_end", (json_int_t)w->to_end);
}

/* A member of the follower's status file while there is one (and, for the
 * lag, while it runs), else null. */
static json_t *follower_value(const InstBinlogStatus *st, const char *key, bool while_running)
{
    if (!json_is_object(st->follower) || (while_running && !st->running)) return json_null();
    return json_incref(json_object_get(st->follower, key));
}

json_t *inst_binlog_status_json(const InstBinlogStatus *st)
{
    json_t *out, *alarms = json_array();
    for (size_t i = 0; i < st->nalarms; i++) json_array_append_new(alarms, json_string(st->alarms[i]));
    out = json_pack("{s:s, s:b, s:b, s:I, s:o, s:s?}", "instance", st->instance, "running", st->running,
                    "connected", st->connected, "segments", (json_int_t)st->segments, "window",
                    window_json(st), "alarm", st->problem);
    if (!out) {
        json_decref(alarms);
        return NULL;
    }
    json_object_set_new(out, "lag_seconds", follower_value(st, "lag_seconds", true));
    json_object_set_new(out, "lag_bytes", follower_value(st, "lag_bytes", true));
    json_object_set_new(out, "spool_bytes", follower_value(st, "spool_bytes", false));
    json_object_set_new(out, "spool_max", follower_value(st, "spool_max", false));
    json_object_set_new(out, "last_archived_gtid", json_string(st->last_gtid));
    json_object_set_new(out, "last_archived_time", json_integer(st->last_time));
    json_object_set_new(out, "alarms", alarms);
    json_object_set_new(out, "catalog",
                        json_pack("{s:I, s:I, s:I}", "objects_read", (json_int_t)st->catalog_objects,
                                  "compacts", (json_int_t)st->catalog_compacts, "compacted_to",
                                  (json_int_t)st->compacted_to));
    json_object_set_new(out, "follower", json_incref(st->follower));
    return out;
}

int inst_binlog_status_verdict(const InstBinlogStatus *st, Err *err)
{
    /* a broken chain and a follower that does not run are ERR_GAP (exit 6:
     * the archive does not reach the present); a running follower cut from
     * its server for long is ERR_NET (4); another alarm of a running
     * follower (spool full) is ERR_NOSPACE (7) */
    if (st->is_gap) return err_set(err, ERR_GAP, "%s", st->gap[0] ? st->gap : st->problem);
    if (!st->running) return err_set(err, ERR_GAP, "%s", st->down);
    if (!st->reaches) return err_set(err, ERR_NET, "%s", st->cut);
    if (st->problem) return err_set(err, ERR_NOSPACE, "%s", st->problem);
    return 0;
}

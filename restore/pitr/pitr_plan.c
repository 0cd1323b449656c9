/* pitr_plan.c: from a request (time, GTID, before-GTID, snapshot) to a
 * plan: the newest usable snapshot at or before the target, the exact GTID
 * state to replay to, the segments, the bytes, an estimate, or a refusal.
 *
 * Resolution reads the archive from the snapshot's binlog position (its
 * segment found by file:pos) with the same group boundaries as the replay:
 *   TIME:        stop before the first group carrying a timestamp > T;
 *   GTID:        stop after the group G;
 *   BEFORE_GTID: stop before the group G.
 * A snapshot is too new when its position is past the target (a group
 * before its position is stamped after T, or its GTID in G's domain is at
 * or past G): the next older one is tried. One exactly at G in G's domain is
 * used as is only when G is the last transaction before its position (with
 * several GTID domains it may be past G in another one: snap_at_gtid).
 * The target is always the full GTID state (every domain) of the binlog
 * prefix, which the replay gets as its UNTIL position.
 * Invariant: nothing here writes anywhere; every segment the replay will
 * read has been read and hash-checked once the plan is returned. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/common/log.h"
#include "restore/db/rst_db.h"
#include "restore/pitr/pitr_int.h"
#include "restore/pitr/pitr_range.h"

/* ---- the scan ------------------------------------------------------------- */

typedef struct Scan {
    const RstPitrRequest *req;
    const BinlogCatalog *c;
    size_t first;
    uint64_t start_pos;
    PitrGroup g;
    bool group_counts;         /* the open group started at or after start_pos */
    bool target_group;         /* GTID: the open group is G */
    bool stopped, found, too_new, passed;
    MdbGtid passed_by;
    int64_t pre_time;          /* TIME: max timestamp of the last group before start_pos */
    MdbGtidSet target;
    uint64_t tx, bytes;
    char last_gtid[64], next_gtid[64];
    int64_t last_time, next_time;
    uint64_t last_end;
    char last_file[BINLOG_FILE_MAX];
    size_t last_seg;
    size_t cur_seg;
    PitrRange range;           /* what the replay must refuse (pitr_range.h) */
} Scan;

static size_t seg_index(const BinlogCatalog *c, const BinlogSegInfo *s)
{
    return (size_t)(s - binlog_catalog_at(c, 0));
}

static int scan_event(void *ctx, const BinlogSegInfo *seg, uint64_t pos, const uint8_t *ev,
                      size_t len, Err *err)
{
    Scan *s = ctx;
    const RstPitrRequest *q = s->req;
    size_t idx = seg_index(s->c, seg);
    PitrFeed f;
    int64_t ts = (int64_t)mdb_le32(ev);
    int rc;

    if (idx != s->cur_seg || pos == seg->start) {
        s->cur_seg = idx;
        s->g.crc = seg->checksum_alg == 1;
    }
    rc = pitr_group_feed(&s->g, ev, len, &f, err);
    if (rc) return rc;
    if (f == PITR_FEED_BEGIN) {
        s->group_counts = !(idx < s->first || (idx == s->first && pos < s->start_pos));
        s->target_group = false;
        if (s->group_counts && (q->kind == RST_PITR_GTID || q->kind == RST_PITR_BEFORE_GTID) &&
            s->g.gtid.domain == q->gtid.domain) {
            if (s->g.gtid.seq == q->gtid.seq && s->g.gtid.server == q->gtid.server) {
                if (q->kind == RST_PITR_BEFORE_GTID) {
                    s->found = s->stopped = true;
                    mdb_gtid_format(&s->g.gtid, s->next_gtid, sizeof s->next_gtid);
                    s->next_time = ts;
                    return RST_PITR_STOP;
                }
                s->target_group = true;
            } else if (s->g.gtid.seq >= q->gtid.seq) {
                s->passed = s->stopped = true;
                s->passed_by = s->g.gtid;
                return RST_PITR_STOP;
            }
        }
    }
    pitr_range_feed(&s->range, &s->g, f, s->group_counts, ev, len);
    if (q->kind == RST_PITR_TIME && s->g.in_group && !s->group_counts && ts > s->pre_time)
        s->pre_time = ts;
    if (q->kind == RST_PITR_TIME && s->group_counts && (f == PITR_FEED_BEGIN || f == PITR_FEED_INSIDE ||
                                                        f == PITR_FEED_END) && ts > q->time) {
        s->found = s->stopped = true;
        mdb_gtid_format(&s->g.gtid, s->next_gtid, sizeof s->next_gtid);
        s->next_time = ts;
        return RST_PITR_STOP;
    }
    if (f == PITR_FEED_END) {
        if (!s->group_counts) {
            if (q->kind == RST_PITR_TIME) s->pre_time = s->g.max_time;   /* the last one wins */
            mdb_gtid_set_merge(&s->target, &s->g.state);
            return 0;
        }
        s->tx++;
        mdb_gtid_set_merge(&s->target, &s->g.state);
        mdb_gtid_format(&s->g.gtid, s->last_gtid, sizeof s->last_gtid);
        s->last_time = s->g.max_time;
        s->last_end = pos + len;
        snprintf(s->last_file, sizeof s->last_file, "%s", seg->file);
        s->last_seg = idx;
        if (s->target_group) {
            s->found = s->stopped = true;
            return RST_PITR_STOP;
        }
    }
    return 0;
}

/* The last index reachable from `from` without a break in the chain. */
static size_t chain_end(const BinlogCatalog *c, size_t from, char *why, size_t cap)
{
    size_t n = binlog_catalog_count(c), i;
    why[0] = 0;
    for (i = from + 1; i < n; i++)
        if (!binlog_catalog_connects(c, i, why, cap)) break;
    return i - 1;
}

static int gap_error(const BinlogCatalog *c, size_t brk, const char *why, Err *err)
{
    const BinlogSegInfo *p = binlog_catalog_at(c, brk - 1), *s = binlog_catalog_at(c, brk);
    char t1[80], t2[80];
    rst_pitr_time_format(p->last_time, t1, sizeof t1);
    rst_pitr_time_format(s->first_time, t2, sizeof t2);
    return err_set(err, ERR_GAP,
                   "the binlog archive has a gap between %s (%s:%" PRIu64 ") and %s (%s:%" PRIu64
                   "): %s; a target after the gap cannot be reached from this snapshot",
                   t1, p->file, p->end, t2, s->file, s->start, why);
}

#define PITR_XA_LOOKBACK 4   /* segments read before the snapshot's, for XA PREPAREs */

/* Scan from snapshot sn; 0 with s filled (s->too_new set when the
 * snapshot is past the target), or a refusal. */
static int scan_from(Repo *r, const BinlogCatalog *c, const RstPitrRequest *q, const PitrSnap *sn,
                     Scan *s, size_t *out_end, Err *err)
{
    size_t first, end, gi = 0, back;
    char why[400], why_back[400];
    int rc;

    memset(s, 0, sizeof *s);
    pitr_range_begin(&s->range, sn->item);
    s->req = q;
    s->c = c;
    s->start_pos = sn->pos;
    s->target = sn->gtid;
    s->cur_seg = (size_t)-1;
    rc = binlog_catalog_find_pos(c, sn->file, sn->pos, &first, err);
    if (rc)
        return err_set(err, ERR_NOTFOUND, "the binlog archive does not hold snapshot %.12s's position "
                       "%s:%" PRIu64 " (the follower started later, or its segments were removed)",
                       sn->hex, sn->file, sn->pos);
    s->first = first;
    end = chain_end(c, first, why, sizeof why);
    if (q->kind == RST_PITR_GTID || q->kind == RST_PITR_BEFORE_GTID) {
        rc = binlog_catalog_find_gtid(c, &q->gtid, &gi, err);
        if (rc) return rc;
        if (gi > end) return gap_error(c, end + 1, why, err);
        if (gi < first) gi = first;
        end = gi;
    }
    /* a few connected segments before the snapshot's too: what they hold
     * counts for nothing but the XA transactions prepared there, whose XA
     * COMMIT in the range is a no-op when they touch no restored database
     * (pitr_range.c) */
    for (back = first; back > 0 && first - back < PITR_XA_LOOKBACK; back--)
        if (!binlog_catalog_connects(c, back, why_back, sizeof why_back)) break;
    rc = rst_pitr_walk(r, c, back, end, scan_event, s, err);
    if (rc) return err_wrap(err, "read the binlog archive");
    if (q->kind == RST_PITR_TIME && s->pre_time > q->time) s->too_new = true;
    *out_end = end;
    if (s->found) return 0;
    if (q->kind == RST_PITR_TIME) {
        if (end + 1 < binlog_catalog_count(c)) return gap_error(c, end + 1, why, err);
        return 0;   /* every archived transaction is at or before T */
    }
    {
        char gs[64];
        mdb_gtid_format(&q->gtid, gs, sizeof gs);
        if (s->passed) {
            char ps[64];
            mdb_gtid_format(&s->passed_by, ps, sizeof ps);
            return err_set(err, ERR_NOTFOUND, "GTID %s is not in the binlog archive (at that point "
                           "of domain %u the archive holds %s)", gs, q->gtid.domain, ps);
        }
        return err_set(err, ERR_NOTFOUND, "GTID %s is not in the binlog archive", gs);
    }
}

/* ---- is a snapshot exactly at G? ------------------------------------------ */

typedef struct AtScan {
    const BinlogCatalog *c;
    MdbGtid g;
    size_t snap_seg, cur_seg;
    uint64_t snap_pos;
    PitrGroup grp;
    bool seen_g, stopped, at;
} AtScan;

static int at_event(void *ctx, const BinlogSegInfo *seg, uint64_t pos, const uint8_t *ev,
                    size_t len, Err *err)
{
    AtScan *a = ctx;
    size_t idx = seg_index(a->c, seg);
    PitrFeed f;
    int rc;

    if (idx != a->cur_seg || pos == seg->start) {
        a->cur_seg = idx;
        a->grp.crc = seg->checksum_alg == 1;
    }
    if (idx > a->snap_seg || (idx == a->snap_seg && pos >= a->snap_pos)) {
        a->at = a->seen_g;   /* the snapshot's position, nothing begun after G */
        a->stopped = true;
        return RST_PITR_STOP;
    }
    rc = pitr_group_feed(&a->grp, ev, len, &f, err);
    if (rc || f != PITR_FEED_BEGIN) return rc;
    if (a->seen_g) {         /* a transaction between G and the snapshot */
        a->stopped = true;
        return RST_PITR_STOP;
    }
    a->seen_g = a->grp.gtid.domain == a->g.domain && a->grp.gtid.server == a->g.server &&
                a->grp.gtid.seq == a->g.seq;
    return 0;
}

/* Snapshot sn holds G's seq_no in G's domain, so its position is at or after
 * G; with other domains in its position it may be past G in those. *out is
 * true when G is the last transaction before sn's position (read from G's
 * segment until the next transaction begins); false when another one comes
 * between, or the archive cannot tell (not archived, a gap). */
static int snap_at_gtid(Repo *r, const BinlogCatalog *c, const PitrSnap *sn, const MdbGtid *g,
                        bool *out, Err *err)
{
    AtScan a;
    size_t gi, end;
    char why[400];
    Err e;
    int rc;

    *out = false;
    memset(&a, 0, sizeof a);
    a.c = c;
    a.g = *g;
    a.snap_pos = sn->pos;
    a.cur_seg = (size_t)-1;
    err_clear(&e);
    if (binlog_catalog_find_gtid(c, g, &gi, &e) || binlog_catalog_find_pos(c, sn->file, sn->pos, &a.snap_seg, &e) ||
        gi > a.snap_seg)
        return 0;
    end = chain_end(c, gi, why, sizeof why);
    if (end > a.snap_seg) end = a.snap_seg;
    rc = rst_pitr_walk(r, c, gi, end, at_event, &a, err);
    if (rc) return err_wrap(err, "read the binlog archive up to snapshot %.12s's position", sn->hex);
    *out = a.stopped ? a.at : a.seen_g && end == a.snap_seg;
    return 0;
}

static uint64_t seq_in(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

/* One line appended to a fixed buffer of lines (cut when full). */
static void add_line(char *buf, size_t cap, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void add_line(char *buf, size_t cap, const char *fmt, va_list ap)
{
    size_t n = strlen(buf);
    if (n + 2 < cap) vsnprintf(buf + n, cap - n, fmt, ap);
    n = strlen(buf);
    if (n + 1 < cap) strcat(buf, "\n");
}

static void note(RstPitrPlan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(RstPitrPlan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_line(p->notes, sizeof p->notes, fmt, ap);
    va_end(ap);
}

static void warn(RstPitrPlan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(RstPitrPlan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_line(p->warnings, sizeof p->warnings, fmt, ap);
    va_end(ap);
}

/* A snapshot whose position holds exactly G (domain, server and seq_no):
 * G is then the last transaction before that position in G's domain, so
 * the snapshot can be the target even when G itself is not archived (the
 * follower started at that snapshot's coordinates). */
static bool snap_is_at(const PitrSnap *sn, const MdbGtid *g)
{
    for (size_t i = 0; i < sn->gtid.n; i++) {
        const MdbGtid *h = &sn->gtid.g[i];
        if (h->domain == g->domain && h->server == g->server && h->seq == g->seq) return true;
    }
    return false;
}

static bool snap_holds(const PitrSnapList *l, const MdbGtid *g)
{
    for (size_t k = 0; k < l->n; k++)
        if (snap_is_at(&l->v[k], g)) return true;
    return false;
}

static void fill_from_snap(RstPitrPlan *p, PitrSnap *sn)
{
    snprintf(p->snap_hex, sizeof p->snap_hex, "%s", sn->hex);
    p->manifest = sn->m;
    sn->m = NULL;
    p->item = rst_db_item(p->manifest);
    snprintf(p->snap_time, sizeof p->snap_time, "%s", sn->time_s);
    snprintf(p->snap_file, sizeof p->snap_file, "%s", sn->file);
    p->snap_pos = sn->pos;
    snprintf(p->snap_gtid, sizeof p->snap_gtid, "%s", sn->gtid_s);
    p->db_bytes = (uint64_t)json_integer_value(json_object_get(p->item, "bytes"));
    p->db_rows = (uint64_t)json_integer_value(json_object_get(p->item, "rows"));
}

int rst_pitr_plan(Repo *r, const BinlogCatalog *c, const RstPitrRequest *q,
                  const RstPitrRates *rates, RstPitrPlan *p, Err *err)
{
    PitrSnapList sl = {.instance = q->instance};
    Scan s = {0};
    char gs[64], ts[80], newer[ID_HEX_LEN + 1] = "";
    size_t pick = (size_t)-1, n, end = 0;
    int64_t now = q->now ? q->now : (int64_t)time(NULL);
    int rc = 0;

    memset(p, 0, sizeof *p);
    p->kind = q->kind;
    p->rates = *rates;
    rc = pitr_snaps_load(r, &sl, err);
    if (rc) goto out;
    if (!sl.n) {
        rc = err_set(err, ERR_NOTFOUND, "instance %s has no snapshot with a database and binlog "
                     "coordinates (tidemark backup first)", q->instance);
        goto out;
    }
    n = binlog_catalog_count(c);
    if (n) {
        const BinlogSegInfo *last = binlog_catalog_at(c, n - 1);
        p->archive_end_time = last->last_time;
        mdb_gtid_set_format(&last->gtid_state, p->archive_end_gtid, sizeof p->archive_end_gtid);
    }
    if (q->snapshot) {
        Id id;
        json_t *m = NULL;
        char hex[ID_HEX_LEN + 1];
        rc = repo_snapshot_find(r, q->snapshot, &(RepoSnapFilter){.instance = q->instance, .item_kind = "mariadb"}, &m, &id, err);
        if (rc) goto out;
        json_decref(m);
        id_hex(&id, hex);
        for (size_t i = 0; i < sl.n; i++)
            if (!strcmp(sl.v[i].hex, hex)) pick = i;
        if (pick == (size_t)-1) {
            rc = err_set(err, ERR_NOTFOUND, "snapshot %.12s has no database item with binlog "
                         "coordinates for instance %s", hex, q->instance);
            goto out;
        }
    }
    if (q->kind == RST_PITR_SNAPSHOT) {
        if (pick == (size_t)-1) {
            rc = err_set(err, ERR_INVALID, "which snapshot? give --snapshot ID, or a target (--to, --to-gtid, --before-gtid)");
            goto out;
        }
        fill_from_snap(p, &sl.v[pick]);
        snprintf(p->target_gtid, sizeof p->target_gtid, "%s", p->snap_gtid);
        goto estimate;
    }
    if (!n) {
        rc = err_set(err, ERR_NOTFOUND, "instance %s has no archived binlog (is `tidemark binlog "
                     "follow` running?)", q->instance);
        goto out;
    }

    /* refusals that need no reading */
    if (q->kind == RST_PITR_TIME) {
        rst_pitr_time_format(q->time, ts, sizeof ts);
        if (q->time > now) {
            char nows[80];
            rst_pitr_time_format(now, nows, sizeof nows);
            rc = err_set(err, ERR_INVALID, "the target %s is in the future (now: %s)", ts, nows);
            goto out;
        }
        if (q->time < sl.v[0].time) {
            rc = err_set(err, ERR_NOTFOUND, "the target %s is before the oldest snapshot of instance "
                         "%s (%.12s, %s): nothing to restore from", ts, q->instance, sl.v[0].hex,
                         sl.v[0].time_s);
            goto out;
        }
    } else {
        size_t gi;
        mdb_gtid_format(&q->gtid, gs, sizeof gs);
        bool archived = binlog_catalog_find_gtid(c, &q->gtid, &gi, err) == 0;
        if (!archived && q->kind == RST_PITR_GTID && snap_holds(&sl, &q->gtid)) {
            err_clear(err);   /* a snapshot exactly at G: the choice below decides */
        } else if (!archived) {
            uint64_t oldest = seq_in(&sl.v[0].gtid, q->gtid.domain);
            if (oldest && q->gtid.seq <= oldest)
                rc = err_set(err, ERR_NOTFOUND, "GTID %s is before the oldest snapshot of instance %s "
                             "(%.12s at %s): nothing to restore from", gs, q->instance, sl.v[0].hex,
                             sl.v[0].gtid_s);
            else
                rc = err_set(err, ERR_NOTFOUND, "GTID %s is not in the binlog archive of instance %s "
                             "(archived up to %s; `tidemark binlog search` lists the archived "
                             "transactions, `tidemark binlog status` says whether the follower is "
                             "behind)", gs, q->instance, p->archive_end_gtid);
            goto out;
        }
    }

    /* newest snapshot first, until one is at or before the target */
    {
        Err first_err;
        bool tried = false;
        err_clear(&first_err);
        newer[0] = 0;
        for (size_t k = sl.n; k-- > 0;) {
            PitrSnap *sn = &sl.v[k];
            if (pick != (size_t)-1 && k != pick) continue;
            if (q->kind == RST_PITR_TIME && sn->time > q->time) continue;
            if (q->kind == RST_PITR_GTID && seq_in(&sn->gtid, q->gtid.domain) > q->gtid.seq) continue;
            if (q->kind == RST_PITR_BEFORE_GTID && seq_in(&sn->gtid, q->gtid.domain) >= q->gtid.seq)
                continue;
            if (q->kind == RST_PITR_GTID && seq_in(&sn->gtid, q->gtid.domain) == q->gtid.seq) {
                /* at G in G's domain; with one domain that is exactly at G, with
                 * several it may be past G in another domain */
                bool at = sn->gtid.n == 1;
                if (!snap_is_at(sn, &q->gtid)) {
                    rc = err_set(err, ERR_NOTFOUND, "GTID %s is not in the history of instance %s: "
                                 "snapshot %.12s's position holds %s (another server_id at that "
                                 "seq_no)", gs, q->instance, sn->hex, sn->gtid_s);
                    goto out;
                }
                if (!at && (rc = snap_at_gtid(r, c, sn, &q->gtid, &at, err))) goto out;
                if (!at) {
                    note(p, "snapshot %.12s was skipped: its position %s holds %s but is past it "
                            "in another GTID domain (or the archive cannot show it is not)", sn->hex,
                         sn->gtid_s, gs);
                    continue;
                }
                memset(&s, 0, sizeof s);
                s.target = sn->gtid;
                s.found = true;
                pick = k;
                break;
            }
            tried = true;
            Err e;
            err_clear(&e);
            rc = scan_from(r, c, q, sn, &s, &end, &e);
            if (rc == ERR_NOTFOUND && strstr(e.msg, "does not hold snapshot")) {
                if (!first_err.code) {
                    first_err = e;
                    snprintf(newer, sizeof newer, "%s", sn->hex);
                }
                continue;   /* an older snapshot may be in the archive */
            }
            if (rc) {
                *err = e;
                goto out;
            }
            if (s.too_new) {
                note(p, "snapshot %.12s was skipped: transactions before its position are stamped "
                        "after the target", sn->hex);
                continue;
            }
            pick = k;
            break;
        }
        if (pick == (size_t)-1 || (q->snapshot && !s.found && q->kind != RST_PITR_TIME)) {
            if (first_err.code) *err = first_err;
            else if (q->snapshot)
                err_set(err, ERR_INVALID, "snapshot %s is after the target", q->snapshot);
            else
                err_set(err, ERR_NOTFOUND, "no snapshot of instance %s is at or before the target "
                        "(oldest: %.12s, %s, GTID %s)", q->instance, sl.v[0].hex, sl.v[0].time_s,
                        sl.v[0].gtid_s);
            rc = err->code;
            goto out;
        }
        (void)tried;
    }
    fill_from_snap(p, &sl.v[pick]);
    p->range = s.range.info;
    mdb_gtid_set_format(&s.target, p->target_gtid, sizeof p->target_gtid);
    p->transactions = s.tx;
    snprintf(p->last_gtid, sizeof p->last_gtid, "%s", s.last_gtid);
    p->last_time = s.last_time;
    p->last_end_pos = s.last_end;
    snprintf(p->last_file, sizeof p->last_file, "%s", s.last_file);
    snprintf(p->next_gtid, sizeof p->next_gtid, "%s", s.next_gtid);
    p->next_time = s.next_time;
    if (s.tx) {
        p->replay = true;
        p->seg_from = s.first;
        p->seg_to = s.last_seg;
        p->segments = p->seg_to - p->seg_from + 1;
        for (size_t i = p->seg_from; i <= p->seg_to; i++) p->seg_bytes += binlog_catalog_at(c, i)->size;
    }
    if (q->kind == RST_PITR_TIME && !s.found) {
        /* every archived transaction is at or before T: complete only if nothing came after */
        rc = pitr_archive_end_check(c, q, p, newer[0] ? newer : NULL, err);
        if (rc) goto out;
        if (p->archive_end == RST_PITR_END_PROVEN) note(p, "%s", p->archive_end_why);
        else warn(p, "%s", p->archive_end_why);
    }
    /* a later snapshot exactly at the target: the result can be proven against its hashes */
    for (size_t k = 0; k < sl.n; k++) {
        if (k == pick) continue;
        MdbGtidSet t = s.target;
        if (mdb_gtid_set_eq(&sl.v[k].gtid, &t)) snprintf(p->later_snapshot, sizeof p->later_snapshot, "%s", sl.v[k].hex);
    }

estimate:
    {
        const RstPitrRates *rt = &p->rates;
        p->est_load_s = rt->load_bytes_s > 0 ? (double)p->db_bytes / rt->load_bytes_s : 0;
        p->est_verify_s = rt->verify_bytes_s > 0 ? (double)p->db_bytes / rt->verify_bytes_s : 0;
        if (p->replay) {
            double a = rt->replay_tx_s > 0 ? (double)p->transactions / rt->replay_tx_s : 0;
            double b = rt->replay_bytes_s > 0 ? (double)p->seg_bytes / rt->replay_bytes_s : 0;
            p->est_replay_s = a > b ? a : b;
            p->est_net_s = rt->net_bytes_s > 0 ? (double)p->seg_bytes / rt->net_bytes_s : 0;
        }
    }
    rc = 0;
out:
    pitr_snaps_free(&sl);
    if (rc) rst_pitr_plan_free(p);
    return rc;
}

void rst_pitr_plan_free(RstPitrPlan *p)
{
    if (!p) return;
    json_decref(p->manifest);
    p->manifest = NULL;
    p->item = NULL;
}

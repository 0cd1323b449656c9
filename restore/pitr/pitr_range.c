/* pitr_range.c: the plan's scan records what the replay must refuse or the
 * target must allow (pitr_range.h), and rst_pitr_range_check refuses it
 * before anything is loaded. */
#include <ctype.h>
#include <inttypes.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "restore/pitr/pitr_range.h"

void pitr_range_begin(PitrRange *rg, const json_t *item)
{
    memset(rg, 0, sizeof *rg);
    rg->item = item;
}

typedef struct NameHit {
    const json_t *item;
    char db[RST_NET_SQL_XID_MAX];
} NameHit;

static int restored_name(void *ctx, const char *name, size_t len)
{
    NameHit *h = ctx;
    const json_t *jd;
    size_t i;
    json_array_foreach(json_object_get(h->item, "databases"), i, jd) {
        const char *n = json_string_value(json_object_get(jd, "name"));
        if (n && strlen(n) == len && !memcmp(n, name, len)) {
            snprintf(h->db, sizeof h->db, "%s", n);
            return 1;
        }
    }
    return 0;
}

typedef struct Cross {
    const json_t *item;
    char to[RST_NET_SQL_XID_MAX], from[RST_NET_SQL_XID_MAX];
    bool move;
} Cross;

static bool is_restored(const json_t *item, const char *db)
{
    NameHit h = {item, ""};
    return restored_name(&h, db, strlen(db)) != 0;
}

/* A move between a restored and a non-restored database, or a copy into a
 * restored one from a non-restored one: the replica filter lets it through
 * (it names a restored table) and the target lacks the other side. */
static int crossing(void *ctx, const char *to, const char *from, bool move)
{
    Cross *c = ctx;
    bool rt = is_restored(c->item, to), rf = is_restored(c->item, from);
    if (move ? rt == rf : !rt || rf) return 0;
    snprintf(c->to, sizeof c->to, "%.64s", to);
    snprintf(c->from, sizeof c->from, "%.64s", from);
    c->move = move;
    return 1;
}

static void on_crossing(PitrRange *rg, const PitrGroup *g, const char *db, size_t dl, const char *q, size_t ql)
{
    char dflt[256], gs[64], text[96];
    Cross c = {rg->item, "", "", false};
    const char *in, *out;
    if (rg->grp.crossing[0] || rg->info.crossing[0]) return;
    snprintf(dflt, sizeof dflt, "%.*s", (int)(dl < 255 ? dl : 255), db ? db : "");
    if (!rst_net_sql_moves(q, ql, dflt, crossing, &c)) return;
    in = is_restored(rg->item, c.to) ? c.to : c.from;
    out = in == c.to ? c.from : c.to;
    mdb_gtid_format(&g->gtid, gs, sizeof gs);
    rst_net_sql_snippet(q, ql, text, sizeof text);
    snprintf(rg->grp.crossing, sizeof rg->grp.crossing, "the statement of GTID %s %s restored database `%.64s` "
             "%s database `%.64s`, which is not restored (%s): the target would lack `%.64s` (its replica would "
             "stop with error 1025 or 1146); restore both databases together (`databases = %.64s %.64s` in the "
             "instance)", gs, c.move ? "moves a table between" : "copies into", in, c.move ? "and" : "from", out, text, out, in, out);
}

/* ALTER SEQUENCE: the table filter the replica needs (replicate_wild_do_table)
 * skips a statement that updates no table, and ALTER SEQUENCE updates none,
 * so the replica would leave the sequence as it was (mariadb-binlog | mariadb
 * applies it): refused when it concerns a restored database. */
static bool is_alter_sequence(const char *q, size_t ql)
{
    size_t i = 0;
    while (i < ql && isspace((unsigned char)q[i])) i++;
    if (ql - i < 5 || strncasecmp(q + i, "ALTER", 5)) return false;
    i += 5;
    if (i >= ql || !isspace((unsigned char)q[i])) return false;
    while (i < ql && isspace((unsigned char)q[i])) i++;
    return ql - i > 8 && !strncasecmp(q + i, "SEQUENCE", 8) && isspace((unsigned char)q[i + 8]);
}

static void on_alter_sequence(PitrRange *rg, const PitrGroup *g, const char *db, size_t dl, const char *q,
                              size_t ql)
{
    char dflt[256], gs[64], text[96];
    NameHit h = {rg->item, ""};
    if (rg->grp.crossing[0] || rg->info.crossing[0] || !is_alter_sequence(q, ql)) return;
    snprintf(dflt, sizeof dflt, "%.*s", (int)(dl < 255 ? dl : 255), db ? db : "");
    if (!is_restored(rg->item, dflt) && !rst_net_sql_names(q, ql, restored_name, &h)) return;
    mdb_gtid_format(&g->gtid, gs, sizeof gs);
    rst_net_sql_snippet(q, ql, text, sizeof text);
    snprintf(rg->grp.crossing, sizeof rg->grp.crossing, "the statement of GTID %s alters a sequence of a "
             "restored database (%s): the replay's table filter (replicate_wild_do_table) makes the target's "
             "replica skip a statement that updates no table, so the sequence would stay as it was; restore "
             "from a snapshot taken after it", gs, text);
}

static void on_query(PitrRange *rg, const PitrGroup *g, const uint8_t *ev, size_t len)
{
    const char *db, *q;
    size_t dl, ql;
    char xid[RST_NET_SQL_XID_MAX], gs[64], text[96];
    NameHit h = {rg->item, ""};
    if (ev[4] == MDB_EV_EXECUTE_LOAD_QUERY) {
        if (!rst_net_sql_load_query_text(ev, pitr_body_end(g, len), &db, &dl, &q, &ql)) return;
    } else if (!mdb_query_text(ev, pitr_body_end(g, len), &db, &dl, &q, &ql)) {
        return;
    }
    switch (rst_net_sql_kind(q, ql, xid, sizeof xid)) {
    case RST_NET_SQL_XA_COMMIT:
    case RST_NET_SQL_XA_ROLLBACK:
        snprintf(rg->grp_ended, sizeof rg->grp_ended, "%s", xid);
        rg->grp_rollback = rst_net_sql_kind(q, ql, NULL, 0) == RST_NET_SQL_XA_ROLLBACK;
        return;
    case RST_NET_SQL_OTHER:
        break;
    default:   /* transaction control, accounts (no-ops in the replay), temporary tables */
        return;
    }
    on_crossing(rg, g, db, dl, q, ql);
    on_alter_sequence(rg, g, db, dl, q, ql);
    if (rg->grp.named_db[0] || rg->info.named_db[0] || !rst_net_sql_names(q, ql, restored_name, &h)) return;
    mdb_gtid_format(&g->gtid, gs, sizeof gs);
    rst_net_sql_snippet(q, ql, text, sizeof text);
    snprintf(rg->grp.named_db, sizeof rg->grp.named_db, "the statement of GTID %s names database `%.64s` "
             "explicitly (%s)", gs, h.db, text);
}

/* xid of an XA_prepare event: the same form as pitr_qfilter's */
static void prepared_id(const PitrGroup *g, const uint8_t *ev, size_t len, char *out, size_t cap)
{
    const uint8_t *p = ev + MDB_HDR_LEN;
    size_t end = pitr_body_end(g, len), k;
    uint32_t gl, bl;
    out[0] = 0;
    if (end < MDB_HDR_LEN + 13) return;
    gl = mdb_le32(p + 5);
    bl = mdb_le32(p + 9);
    if (gl > 64 || bl > 64 || MDB_HDR_LEN + 13 + (size_t)gl + bl > end || cap < 2 * (gl + bl) + 32) return;
    k = (size_t)snprintf(out, cap, "X'");
    for (uint32_t i = 0; i < gl; i++) k += (size_t)snprintf(out + k, cap - k, "%02X", p[13 + i]);
    k += (size_t)snprintf(out + k, cap - k, "',X'");
    for (uint32_t i = 0; i < bl; i++) k += (size_t)snprintf(out + k, cap - k, "%02X", p[13 + gl + i]);
    snprintf(out + k, cap - k, "',%ld", (long)(int32_t)mdb_le32(p + 1));
}

/* Before the snapshot: whether an XA transaction's prepare group touches a
 * restored database (a Table_map or a statement naming one, or under one as
 * default; a compressed statement counts as touching). */
static void pre_feed(PitrRange *rg, const PitrGroup *g, PitrFeed f, const uint8_t *ev, size_t len)
{
    size_t end = pitr_body_end(g, len);
    NameHit h = {rg->item, ""};
    const char *db, *q;
    size_t dl, ql;
    if (ev[4] == MDB_EV_TABLE_MAP && end > MDB_HDR_LEN + 9) {
        dl = ev[MDB_HDR_LEN + 8];
        if (MDB_HDR_LEN + 9 + dl > end || restored_name(&h, (const char *)ev + MDB_HDR_LEN + 9, dl)) rg->grp_touches = true;
    } else if (ev[4] == MDB_EV_QUERY || ev[4] == MDB_EV_EXECUTE_LOAD_QUERY) {
        bool ok = ev[4] == MDB_EV_QUERY ? mdb_query_text(ev, end, &db, &dl, &q, &ql)
                                         : rst_net_sql_load_query_text(ev, end, &db, &dl, &q, &ql);
        if (!ok) {
            rg->grp_touches = true;
        } else {
            char xid[RST_NET_SQL_XID_MAX];
            RstNetSqlKind k = rst_net_sql_kind(q, ql, xid, sizeof xid);
            if (k == RST_NET_SQL_XA_COMMIT || k == RST_NET_SQL_XA_ROLLBACK)   /* ended before the snapshot */
                for (size_t i = 0; i < rg->npre; i++)
                    if (!strcasecmp(rg->pre[i].xid, xid)) {
                        rg->pre[i] = rg->pre[--rg->npre];
                        break;
                    }
            if ((k == RST_NET_SQL_OTHER || k == RST_NET_SQL_TEMP_TABLE) &&
                (restored_name(&h, db, dl) || rst_net_sql_names(q, ql, restored_name, &h)))
                rg->grp_touches = true;
        }
    } else if (ev[4] == MDB_EV_QUERY_COMPRESSED) {
        rg->grp_touches = true;
    } else if (ev[4] == MDB_EV_XA_PREPARE) {
        prepared_id(g, ev, len, rg->grp_prepared, sizeof rg->grp_prepared);
    }
    if (f == PITR_FEED_END && rg->grp_prepared[0] && rg->npre < PITR_RANGE_XA_MAX) {
        snprintf(rg->pre[rg->npre].xid, sizeof rg->pre[rg->npre].xid, "%s", rg->grp_prepared);
        rg->pre[rg->npre++].touches = rg->grp_touches;
    }
}

/* An XA COMMIT of an XA prepared before the snapshot: a no-op for this
 * restore when its prepare group was seen and touches no restored
 * database (xid added to a->xa_noop); false: refuse it. */
static bool noop_commit(PitrRange *rg, RstPitrRangeInfo *a, const char *xid)
{
    size_t k = strlen(a->xa_noop), n = strlen(xid);
    for (size_t i = 0; i < rg->npre; i++) {
        if (strcasecmp(rg->pre[i].xid, xid)) continue;
        if (rg->pre[i].touches || k + n + 2 > sizeof a->xa_noop) return false;
        snprintf(a->xa_noop + k, sizeof a->xa_noop - k, "%s\n", xid);
        return true;
    }
    return false;
}

static void group_end(PitrRange *rg, const PitrGroup *g)
{
    RstPitrRangeInfo *a = &rg->info, *b = &rg->grp;
    if (b->max_event > a->max_event) {
        a->max_event = b->max_event;
        snprintf(a->max_event_gtid, sizeof a->max_event_gtid, "%s", b->max_event_gtid);
    }
    if (!a->named_db[0] && b->named_db[0]) snprintf(a->named_db, sizeof a->named_db, "%s", b->named_db);
    if (!a->crossing[0] && b->crossing[0]) snprintf(a->crossing, sizeof a->crossing, "%s", b->crossing);
    if (rg->grp_prepared[0]) {
        if (rg->nxa < PITR_RANGE_XA_MAX) snprintf(rg->xa[rg->nxa++], RST_NET_SQL_XID_MAX, "%s", rg->grp_prepared);
        else rg->xa_overflow = true;
    }
    if (rg->grp_ended[0]) {
        bool rollback = rg->grp_rollback;
        const char *xid = rg->grp_ended;
        size_t i;
        for (i = 0; i < rg->nxa; i++)
            if (!strcasecmp(rg->xa[i], xid)) break;
        if (i < rg->nxa) {
            memmove(rg->xa[i], rg->xa[--rg->nxa], RST_NET_SQL_XID_MAX);
        } else if (!rollback && !rg->xa_overflow && !a->xa_orphan[0] && !noop_commit(rg, a, xid)) {
            char gs[64];
            mdb_gtid_format(&g->gtid, gs, sizeof gs);
            snprintf(a->xa_orphan, sizeof a->xa_orphan, "XA COMMIT %.400s (GTID %s)", xid, gs);
        }
    }
    memset(b, 0, sizeof *b);
    rg->grp_prepared[0] = rg->grp_ended[0] = 0;
}

void pitr_range_feed(PitrRange *rg, const PitrGroup *g, PitrFeed f, bool counts, const uint8_t *ev, size_t len)
{
    if (f == PITR_FEED_BEGIN) {
        memset(&rg->grp, 0, sizeof rg->grp);
        rg->grp_prepared[0] = rg->grp_ended[0] = 0;
        rg->grp_touches = false;
    }
    if (f == PITR_FEED_OTHER) return;
    if (!counts) {
        pre_feed(rg, g, f, ev, len);
        return;
    }
    if (len > rg->grp.max_event) {
        rg->grp.max_event = len;
        mdb_gtid_format(&g->gtid, rg->grp.max_event_gtid, sizeof rg->grp.max_event_gtid);
    }
    if (ev[4] == MDB_EV_QUERY || ev[4] == MDB_EV_EXECUTE_LOAD_QUERY) on_query(rg, g, ev, len);
    if (ev[4] == MDB_EV_XA_PREPARE) prepared_id(g, ev, len, rg->grp_prepared, sizeof rg->grp_prepared);
    if (f == PITR_FEED_END) group_end(rg, g);
}

int rst_pitr_range_check(const MdbConn *conn, const RstPitrPlan *plan, const char *target_db, bool replica,
                         Err *err)
{
    const RstPitrRangeInfo *ri = &plan->range;
    MYSQL *m = NULL;
    char *v = NULL;
    uint64_t pkt, need;
    int rc;

    if (!plan->replay) return 0;
    if (ri->xa_orphan[0])
        return err_set(err, ERR_UNSUPPORTED, "%s commits an XA transaction prepared before snapshot %.12s's "
                       "position: its changes are in neither the snapshot nor the replayed range (the target "
                       "would fail with XAER_NOTA); restore to a point before it, or from a snapshot taken "
                       "after it", ri->xa_orphan, plan->snap_hex);
    if (ri->crossing[0])
        return err_set(err, ERR_UNSUPPORTED, "%s, or to a point before it", ri->crossing);
    if (target_db && ri->named_db[0]) {
        const json_t *dbs = json_object_get(plan->item, "databases");
        const char *from = json_string_value(json_object_get(json_array_get(dbs, 0), "name"));
        if (from && strcmp(from, target_db))
            return err_set(err, ERR_UNSUPPORTED, "%s: --target-db %s renames only statements that use "
                           "the default database "
                           "(replicate_rewrite_db); restore under the original name, or to a point before it",
                           ri->named_db, target_db);
    }
    if (!replica) return 0;
    rc = mdb_connect(conn, MDB_CONNECT_CLIENT, MDB_CLIENT_TIMEOUT_S, &m, err);
    if (!rc) rc = mdb_value(m, "SELECT @@global.slave_max_allowed_packet", &v, err);
    if (rc) {
        err_wrap(err, "target server: read slave_max_allowed_packet");
        goto out;
    }
    pkt = v ? strtoull(v, NULL, 10) : 0;
    need = ri->max_event + 1024;   /* the event, its packet header and the OK byte, with room */
    if (need > pkt)
        rc = err_set(err, ERR_INVALID, "the range holds an event of %" PRIu64 " bytes (GTID %s), larger than "
                     "the target's slave_max_allowed_packet (%" PRIu64 "): its replica would stop with error "
                     "1153; SET GLOBAL slave_max_allowed_packet = %" PRIu64 " on the target allows it",
                     ri->max_event, ri->max_event_gtid, pkt, (need + 1023) / 1024 * 1024);
out:
    free(v);
    mdb_close(m);
    return rc;
}

/* pitr_qfilter.c: judge each Query event of the replayed range before the
 * replica sees it (pitr_qfilter.h). A Query is sent as it is when its
 * default database is restored or its text names a restored database;
 * transaction control always; account management and everything else is
 * turned into `DO 0` padded with blanks (same length, fresh CRC32). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "restore/pitr/pitr_int.h"
#include "restore/pitr/pitr_qfilter.h"

/* An XA transaction prepared in the range; ended: the GTID of its XA
 * COMMIT / XA ROLLBACK when the stream has sent one ("" = none). Ended ones
 * are kept (up to XA_KEEP_ENDED) because the replica may stop before it
 * applies what the stream sent. */
typedef struct OpenXa {
    char xid[RST_NET_SQL_XID_MAX];
    char gtid[64];
    char ended[64];
} OpenXa;
#define XA_KEEP_ENDED 4096

struct PitrQFilter {
    RstNetDbs dbs;
    bool renamed;
    MdbGtidSet start, target;
    RstEventNext next;
    void *next_ctx;
    PitrGroup g;
    bool counts;                    /* the group in progress is judged */
    char pending[RST_NET_SQL_XID_MAX]; /* XA START of the group in progress */
    OpenXa *open;
    size_t nopen, cap;
    const char *xa_noop;            /* XA COMMITs to neutralize, one id a line (borrowed) */
    Buf out, unz;
};

static uint64_t seq_in(const MdbGtidSet *s, uint32_t domain)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->g[i].domain == domain) return s->g[i].seq;
    return 0;
}

int pitr_qfilter_open(const RstNetDbs *dbs, const char *start, const char *target, RstEventNext next,
                      void *next_ctx, PitrQFilter **out, Err *err)
{
    PitrQFilter *f = calloc(1, sizeof *f);
    int rc;
    *out = NULL;
    if (!f) return err_set(err, ERR_NOMEM, "replay filter");
    f->dbs = *dbs;
    for (size_t i = 0; i < dbs->n; i++)
        if (strcmp(dbs->from[i], dbs->to[i])) f->renamed = true;
    f->next = next;
    f->next_ctx = next_ctx;
    buf_init(&f->out, MDB_INFLATE_MAX + 4096);
    buf_init(&f->unz, MDB_INFLATE_MAX + 4096);
    rc = mdb_gtid_set_parse(start, &f->start, err);
    if (!rc) rc = mdb_gtid_set_parse(target, &f->target, err);
    if (rc) {
        pitr_qfilter_close(f);
        return err_wrap(err, "replay filter: GTID positions");
    }
    *out = f;
    return 0;
}

void pitr_qfilter_close(PitrQFilter *f)
{
    if (!f) return;
    buf_free(&f->out);
    buf_free(&f->unz);
    free(f->open);
    free(f);
}

bool pitr_qfilter_xa(const PitrQFilter *f, size_t i, const char **xid, const char **gtid, const char **ended)
{
    if (i >= f->nopen) return false;
    *xid = f->open[i].xid;
    *gtid = f->open[i].gtid;
    *ended = f->open[i].ended;
    return true;
}


void pitr_qfilter_xa_noop(PitrQFilter *f, const char *ids) { f->xa_noop = ids; }

static bool is_noop_commit(const PitrQFilter *f, const char *xid)
{
    size_t n = strlen(xid);
    for (const char *p = f->xa_noop; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncasecmp(p, xid, n)) return true;
        p += l + (e ? 1 : 0);
    }
    return false;
}

static bool restored(const PitrQFilter *f, const char *db, size_t dl)
{
    for (size_t i = 0; i < f->dbs.n; i++)
        if (strlen(f->dbs.from[i]) == dl && !memcmp(f->dbs.from[i], db, dl)) return true;
    return false;
}

static int named_restored(void *ctx, const char *name, size_t len)
{
    return restored(ctx, name, len);
}

/* The id of an XA_prepare event as the server writes it in XA COMMIT:
 * X'<gtrid hex>',X'<bqual hex>',<formatID> (body: one_phase, formatID,
 * gtrid and bqual lengths, their bytes). */
static bool xa_prepare_id(const uint8_t *ev, size_t end, char *out, size_t cap)
{
    const uint8_t *p = ev + MDB_HDR_LEN;
    uint32_t fmt, gl, bl;
    size_t k;
    if (end < MDB_HDR_LEN + 13) return false;
    fmt = mdb_le32(p + 1);
    gl = mdb_le32(p + 5);
    bl = mdb_le32(p + 9);
    if (gl > 64 || bl > 64 || MDB_HDR_LEN + 13 + (size_t)gl + bl > end || cap < 2 * (gl + bl) + 32) return false;
    k = (size_t)snprintf(out, cap, "X'");
    for (uint32_t i = 0; i < gl; i++) k += (size_t)snprintf(out + k, cap - k, "%02X", p[13 + i]);
    k += (size_t)snprintf(out + k, cap - k, "',X'");
    for (uint32_t i = 0; i < bl; i++) k += (size_t)snprintf(out + k, cap - k, "%02X", p[13 + gl + i]);
    snprintf(out + k, cap - k, "',%ld", (long)(int32_t)fmt);
    return true;
}

static int find_open(const PitrQFilter *f, const char *xid)
{
    for (size_t i = 0; i < f->nopen; i++)
        if (!f->open[i].ended[0] && !strcasecmp(f->open[i].xid, xid)) return (int)i;
    return -1;
}

/* Mark entry k ended by the group in progress; forget the oldest ended
 * entry past XA_KEEP_ENDED. */
static void end_open(PitrQFilter *f, size_t k)
{
    size_t ended = 0, oldest = f->nopen;
    mdb_gtid_format(&f->g.gtid, f->open[k].ended, sizeof f->open[k].ended);
    for (size_t i = 0; i < f->nopen; i++)
        if (f->open[i].ended[0] && ended++ == 0) oldest = i;
    if (ended > XA_KEEP_ENDED) {
        memmove(&f->open[oldest], &f->open[oldest + 1], (f->nopen - oldest - 1) * sizeof *f->open);
        f->nopen--;
    }
}

static int add_open(PitrQFilter *f, const char *xid, Err *err)
{
    if (f->nopen == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        OpenXa *v = realloc(f->open, cap * sizeof *v);
        if (!v) return err_set(err, ERR_NOMEM, "replay filter: XA transactions");
        f->open = v;
        f->cap = cap;
    }
    snprintf(f->open[f->nopen].xid, sizeof f->open[f->nopen].xid, "%s", xid);
    mdb_gtid_format(&f->g.gtid, f->open[f->nopen].gtid, sizeof f->open[f->nopen].gtid);
    f->open[f->nopen].ended[0] = 0;
    f->nopen++;
    return 0;
}

/* The event with its statement replaced by DO 0 and blanks (a compressed
 * Query becomes a plain one: same layout, the record's bytes overwritten). */
static int neutralize(PitrQFilter *f, const uint8_t **ev, size_t *len, size_t text_off, Err *err)
{
    size_t end = f->g.crc ? *len - 4 : *len;
    uint8_t *e;
    int rc;
    if (end < text_off + 4) return 0;   /* too short to be anything but transaction control */
    buf_reset(&f->out);
    if ((rc = buf_append(&f->out, *ev, *len, err))) return rc;
    e = f->out.data;
    e[4] = MDB_EV_QUERY;
    memset(e + text_off, ' ', end - text_off);
    memcpy(e + text_off, "DO 0", 4);
    if (f->g.crc) {
        uint32_t c = (uint32_t)crc32(0L, e, (uInt)(*len - 4));
        e[*len - 4] = (uint8_t)c;
        e[*len - 3] = (uint8_t)(c >> 8);
        e[*len - 2] = (uint8_t)(c >> 16);
        e[*len - 1] = (uint8_t)(c >> 24);
    }
    *ev = e;
    return 0;
}

/* Under --target-db: ERR_UNSUPPORTED when the statement names the source
 * database explicitly (replicate_rewrite_db cannot rename it). */
static int refuse_renamed(PitrQFilter *f, const char *q, size_t ql, Err *err)
{
    char gs[64], text[96];
    if (!f->renamed) return 0;
    for (size_t i = 0; i < f->dbs.n; i++) {
        if (!strcmp(f->dbs.from[i], f->dbs.to[i]) || !rst_net_sql_names_db(q, ql, f->dbs.from[i])) continue;
        mdb_gtid_format(&f->g.gtid, gs, sizeof gs);
        rst_net_sql_snippet(q, ql, text, sizeof text);
        return err_set(err, ERR_UNSUPPORTED, "the statement of GTID %s names database `%s` explicitly "
                       "(%s): replicate_rewrite_db renames only the default database, so under "
                       "--target-db %s the target would skip or misplace it; restore under the "
                       "original name, or to a point before %s", gs, f->dbs.from[i], text, f->dbs.to[i], gs);
    }
    return 0;
}

static int on_query(PitrQFilter *f, const uint8_t **ev, size_t *len, Err *err)
{
    const uint8_t *plain = *ev;
    size_t plen = *len, end;
    const char *db, *q;
    size_t dl, ql;
    char xid[RST_NET_SQL_XID_MAX], gs[64];
    uint8_t type = (*ev)[4];
    RstNetSqlKind kind;
    int rc, k;

    if (type == MDB_EV_QUERY_COMPRESSED) {
        rc = mdb_event_inflate(*ev, *len, f->g.crc, &f->unz, &type, err);
        if (rc) return rc;
        plain = f->unz.data;
        plen = f->unz.len;
    }
    end = f->g.crc ? plen - 4 : plen;
    if (!mdb_query_text(plain, end, &db, &dl, &q, &ql)) return err_set(err, ERR_CORRUPT, "Query does not parse");
    mdb_gtid_format(&f->g.gtid, gs, sizeof gs);
    kind = rst_net_sql_kind(q, ql, xid, sizeof xid);
    switch (kind) {
    case RST_NET_SQL_TXN:
    case RST_NET_SQL_XA_END:
    case RST_NET_SQL_XA_PREPARE:
    case RST_NET_SQL_XA_COMMIT_1PC:
        return 0;
    case RST_NET_SQL_XA_START:
        snprintf(f->pending, sizeof f->pending, "%s", xid);
        return 0;
    case RST_NET_SQL_XA_COMMIT:
        if ((k = find_open(f, xid)) >= 0) {
            end_open(f, (size_t)k);
            return 0;
        }
        /* prepared before the snapshot, touching no restored database
         * (pitr_range.c read its prepare group): nothing to commit here */
        if (xid[0] && is_noop_commit(f, xid)) return neutralize(f, ev, len, (size_t)((const uint8_t *)q - plain), err);
        return err_set(err, ERR_UNSUPPORTED, "XA COMMIT %s (GTID %s) commits an XA transaction prepared "
                       "before the snapshot's position: its changes are in neither the snapshot nor the "
                       "replayed range (the target would fail with XAER_NOTA); restore to a point before "
                       "%s, or from a snapshot taken after it", xid, gs, gs);
    case RST_NET_SQL_XA_ROLLBACK:
        if ((k = find_open(f, xid)) >= 0) {
            end_open(f, (size_t)k);
            return 0;
        }
        /* prepared before the snapshot: its changes were never in it, so
         * rolling it back changes nothing the restore holds */
        return neutralize(f, ev, len, (size_t)((const uint8_t *)q - plain), err);
    case RST_NET_SQL_ACCOUNT:
        return neutralize(f, ev, len, (size_t)((const uint8_t *)q - plain), err);
    case RST_NET_SQL_OTHER:
    case RST_NET_SQL_TEMP_TABLE:
        break;
    }
    /* a temporary table lives in the replica's session only: one named under
     * the source database is skipped by the replica's filter, which changes
     * nothing the restore holds */
    if (kind != RST_NET_SQL_TEMP_TABLE && (rc = refuse_renamed(f, q, ql, err))) return rc;
    if (restored(f, db, dl) || rst_net_sql_names(q, ql, named_restored, f)) return 0;
    return neutralize(f, ev, len, (size_t)((const uint8_t *)q - plain), err);
}

int pitr_qfilter_next(void *ctx, const uint8_t **ev, size_t *len, Err *err)
{
    PitrQFilter *f = ctx;
    PitrFeed fd;
    uint8_t type;
    int rc = f->next(f->next_ctx, ev, len, err);
    if (rc || !*ev) return rc;
    if (*len < MDB_HDR_LEN) return 0;   /* the replay source refuses it */
    type = (*ev)[4];
    rc = pitr_group_feed(&f->g, *ev, *len, &fd, err);
    if (rc) return err_wrap(err, "replay filter");
    if (fd == PITR_FEED_BEGIN) {
        uint64_t s0 = seq_in(&f->start, f->g.gtid.domain), t = seq_in(&f->target, f->g.gtid.domain);
        f->counts = f->g.gtid.seq > s0 && f->g.gtid.seq <= t;
        f->pending[0] = 0;
    }
    if (!f->counts || (fd != PITR_FEED_INSIDE && fd != PITR_FEED_END)) return 0;
    if (type == MDB_EV_XA_PREPARE) {
        char xid[RST_NET_SQL_XID_MAX];
        if (!xa_prepare_id(*ev, f->g.crc ? *len - 4 : *len, xid, sizeof xid)) {
            if (!f->pending[0]) return err_set(err, ERR_CORRUPT, "replay filter: an XA_prepare event does not parse");
            snprintf(xid, sizeof xid, "%s", f->pending);
        }
        f->pending[0] = 0;
        return add_open(f, xid, err);
    }
    if (type == MDB_EV_EXECUTE_LOAD_QUERY) {   /* LOAD DATA: sent as it is (the table filter judges it) */
        const char *db, *q;
        size_t dl, ql;
        if (!rst_net_sql_load_query_text(*ev, f->g.crc ? *len - 4 : *len, &db, &dl, &q, &ql))
            return err_set(err, ERR_CORRUPT, "replay filter: an Execute_load_query event does not parse");
        return refuse_renamed(f, q, ql, err);
    }
    if (type != MDB_EV_QUERY && type != MDB_EV_QUERY_COMPRESSED) return 0;
    return on_query(f, ev, len, err);
}

/* pitr_search.c: `binlog search`: walk archived segments and describe
 * each transaction: GTID, commit time, tables with row counts per kind
 * (from Table_map + Write/Update/Delete_rows v1/v2), statement text (Query
 * events, Annotate_rows), so the operator can find the bad transaction.
 * Compressed events (log_bin_compress) are inflated first (mdb_event_inflate)
 * and read like the plain ones.
 * Invariant: read-only; a part it cannot decode (an unknown column type or
 * compression algorithm) is reported as such, never guessed; a compressed
 * event that does not inflate is ERR_CORRUPT naming its file:pos. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "restore/pitr/pitr_int.h"

#define MAX_MAPS 64
#define MAX_TABLES 64
#define TEXT_MAX 2000

typedef struct Map {
    uint64_t id;
    char name[200];
    Buf ev;
} Map;

typedef struct TabCount {
    char name[200];
    uint64_t ins, upd, del;
    bool unknown;
} TabCount;

typedef struct Search {
    const RstSearchQuery *q;
    const BinlogCatalog *c;
    RstSearchFn fn;
    void *ctx;
    PitrGroup g;
    size_t cur_seg;
    /* the transaction being read */
    bool open;
    char file[BINLOG_FILE_MAX];
    uint64_t pos;
    unsigned types;
    Map maps[MAX_MAPS];
    size_t nmaps;
    TabCount tabs[MAX_TABLES];
    size_t ntabs;
    json_t *stmts;
    bool stmt_match_table;     /* a statement names the --table */
    bool grep_hit;
    uint64_t scanned;
    bool past_until;
    Buf plain;                 /* a compressed event, uncompressed (reused) */
} Search;

static TabCount *tab(Search *s, const char *name)
{
    for (size_t i = 0; i < s->ntabs; i++)
        if (!strcmp(s->tabs[i].name, name)) return &s->tabs[i];
    if (s->ntabs == MAX_TABLES) return &s->tabs[MAX_TABLES - 1];
    TabCount *t = &s->tabs[s->ntabs++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

static bool word_in(const char *text, size_t len, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; wl && i + wl <= len; i++) {
        if (strncasecmp(text + i, w, wl) != 0) continue;
        bool l = i == 0 || !(isalnum((unsigned char)text[i - 1]) || text[i - 1] == '_');
        bool r = i + wl == len || !(isalnum((unsigned char)text[i + wl]) || text[i + wl] == '_');
        if (l && r) return true;
    }
    return false;
}

static bool contains_ci(const char *h, size_t hl, const char *n)
{
    size_t nl = strlen(n);
    for (size_t i = 0; nl && i + nl <= hl; i++)
        if (!strncasecmp(h + i, n, nl)) return true;
    return false;
}

static bool table_matches(const char *q, const char *name)
{
    const char *dot = strchr(q, '.');
    if (dot) return !strcmp(q, name);
    const char *nd = strchr(name, '.');
    return !strcmp(nd ? nd + 1 : name, q);
}

static void reset_tx(Search *s)
{
    s->open = false;
    s->types = 0;
    for (size_t i = 0; i < s->nmaps; i++) buf_free(&s->maps[i].ev);
    s->nmaps = 0;
    s->ntabs = 0;
    json_decref(s->stmts);
    s->stmts = NULL;
    s->stmt_match_table = false;
    s->grep_hit = false;
}

static void add_text(Search *s, const char *t, size_t len)
{
    const char *tq = s->q->table;
    if (!s->stmts) s->stmts = json_array();
    if (len > TEXT_MAX) {
        char *cut = strndup(t, TEXT_MAX);
        if (cut) {
            json_array_append_new(s->stmts, json_sprintf("%s...", cut));
            free(cut);
        }
    } else {
        json_array_append_new(s->stmts, json_stringn(t, len));
    }
    if (s->q->grep && contains_ci(t, len, s->q->grep)) s->grep_hit = true;
    if (tq) {
        const char *dot = strchr(tq, '.');
        if (word_in(t, len, dot ? dot + 1 : tq)) s->stmt_match_table = true;
    }
}

static unsigned classify(const char *q, size_t len)
{
    static const struct { const char *w; unsigned t; } kw[] = {
        {"INSERT", RST_SEARCH_INSERT}, {"REPLACE", RST_SEARCH_INSERT}, {"LOAD", RST_SEARCH_INSERT},
        {"UPDATE", RST_SEARCH_UPDATE}, {"DELETE", RST_SEARCH_DELETE}, {"CREATE", RST_SEARCH_DDL},
        {"ALTER", RST_SEARCH_DDL}, {"DROP", RST_SEARCH_DDL}, {"RENAME", RST_SEARCH_DDL},
        {"TRUNCATE", RST_SEARCH_DDL},
    };
    while (len && (isspace((unsigned char)*q) || *q == '(')) q++, len--;
    /* skip a leading comment */
    if (len > 2 && q[0] == '/' && q[1] == '*') {
        const char *e = memmem(q, len, "*/", 2);
        if (e) {
            len -= (size_t)(e + 2 - q);
            q = e + 2;
            while (len && isspace((unsigned char)*q)) q++, len--;
        }
    }
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        size_t wl = strlen(kw[i].w);
        if (len >= wl && !strncasecmp(q, kw[i].w, wl)) return kw[i].t;
    }
    return 0;
}

static int emit(Search *s, int64_t t, uint64_t end_pos, Err *err)
{
    const RstSearchQuery *q = s->q;
    bool table_hit = !q->table || s->stmt_match_table;
    char gs[64], ts[40];
    json_t *tx, *tabs, *types;
    int rc;

    if (q->since && t < q->since) return 0;
    if (q->until && t > q->until) return 0;
    if (q->types && !(s->types & q->types)) return 0;
    for (size_t i = 0; q->table && i < s->ntabs; i++)
        if (table_matches(q->table, s->tabs[i].name)) table_hit = true;
    if (!table_hit) return 0;
    if (q->grep && !s->grep_hit) {
        bool hit = false;
        for (size_t i = 0; i < s->ntabs; i++) hit |= contains_ci(s->tabs[i].name, strlen(s->tabs[i].name), q->grep);
        if (!hit) return 0;
    }
    mdb_gtid_format(&s->g.gtid, gs, sizeof gs);
    binlog_time_format(t, ts, sizeof ts);
    tabs = json_array();
    for (size_t i = 0; i < s->ntabs; i++) {
        TabCount *tc = &s->tabs[i];
        json_t *o = json_pack("{s:s,s:I,s:I,s:I}", "name", tc->name, "insert", (json_int_t)tc->ins,
                              "update", (json_int_t)tc->upd, "delete", (json_int_t)tc->del);
        if (tc->unknown) json_object_set_new(o, "rows_unknown", json_true());
        json_array_append_new(tabs, o);
    }
    types = json_array();
    if (s->types & RST_SEARCH_INSERT) json_array_append_new(types, json_string("insert"));
    if (s->types & RST_SEARCH_UPDATE) json_array_append_new(types, json_string("update"));
    if (s->types & RST_SEARCH_DELETE) json_array_append_new(types, json_string("delete"));
    if (s->types & RST_SEARCH_DDL) json_array_append_new(types, json_string("ddl"));
    tx = json_pack("{s:s,s:I,s:s,s:s,s:I,s:I,s:o,s:o,s:o}", "gtid", gs, "time", (json_int_t)t, "time_utc",
                   ts, "file", s->file, "pos", (json_int_t)s->pos, "end_pos", (json_int_t)end_pos,
                   "types", types, "tables", tabs, "statements", s->stmts ? json_incref(s->stmts) : json_array());
    if (!tx) return err_set(err, ERR_NOMEM, "search result");
    rc = s->fn(s->ctx, tx, err);
    json_decref(tx);
    return rc ? RST_PITR_STOP : 0;
}

static void on_rows(Search *s, const uint8_t *ev, size_t end, uint8_t type)
{
    /* a rows event too short for its table id counts as not decoded */
    uint64_t id = end >= MDB_HDR_LEN + 8 ? mdb_le48(ev + MDB_HDR_LEN) : UINT64_MAX, rows = 0;
    Map *m = NULL;
    bool compressed = type >= MDB_EV_WRITE_COMP_V1 && type <= MDB_EV_DELETE_COMP_V2;
    unsigned kind;
    switch (type) {
    case MDB_EV_WRITE_V1: case MDB_EV_WRITE_V2: case MDB_EV_WRITE_COMP_V1: case MDB_EV_WRITE_COMP_V2:
        kind = RST_SEARCH_INSERT; break;
    case MDB_EV_UPDATE_V1: case MDB_EV_UPDATE_V2: case MDB_EV_UPDATE_COMP_V1: case MDB_EV_UPDATE_COMP_V2:
        kind = RST_SEARCH_UPDATE; break;
    default: kind = RST_SEARCH_DELETE; break;
    }
    s->types |= kind;
    for (size_t i = 0; i < s->nmaps; i++)
        if (s->maps[i].id == id) m = &s->maps[i];
    TabCount *tc = tab(s, m ? m->name : "?");
    Err e;
    if (!m || compressed || mdb_rows_count(m->ev.data, m->ev.len, ev, end, type, &rows, &e)) {
        tc->unknown = true;
        rows = 0;
    }
    if (kind == RST_SEARCH_INSERT) tc->ins += rows;
    else if (kind == RST_SEARCH_UPDATE) tc->upd += rows;
    else tc->del += rows;
}

static void on_table_map(Search *s, const uint8_t *ev, size_t end)
{
    const uint8_t *p = ev + MDB_HDR_LEN + 8;
    char name[200];
    if (end < MDB_HDR_LEN + 10 || s->nmaps == MAX_MAPS) return;
    size_t dl = p[0];
    if (p + 1 + dl + 2 > ev + end) return;
    size_t tl = p[1 + dl + 1];
    if (p + 1 + dl + 2 + tl > ev + end) return;
    snprintf(name, sizeof name, "%.*s.%.*s", (int)dl, (const char *)p + 1, (int)tl, (const char *)p + dl + 3);
    Map *m = &s->maps[s->nmaps++];
    m->id = mdb_le48(ev + MDB_HDR_LEN);
    snprintf(m->name, sizeof m->name, "%s", name);
    buf_init(&m->ev, (size_t)1 << 24);
    Err e;
    buf_append(&m->ev, ev, end, &e);
    tab(s, name);
}

static int search_event(void *ctx, const BinlogSegInfo *seg, uint64_t pos, const uint8_t *ev,
                        size_t len, Err *err)
{
    Search *s = ctx;
    size_t idx = (size_t)(seg - binlog_catalog_at(s->c, 0)), end;
    const size_t raw_len = len;
    uint8_t type = ev[4];
    PitrFeed f;
    int rc;
    if (idx != s->cur_seg) {
        s->cur_seg = idx;
        s->g.crc = seg->checksum_alg == 1;
    }
    rc = pitr_group_feed(&s->g, ev, len, &f, err);
    if (rc) return rc;
    end = pitr_body_end(&s->g, len);
    if (f == PITR_FEED_BEGIN) {
        reset_tx(s);
        s->open = true;
        s->scanned++;
        snprintf(s->file, sizeof s->file, "%s", seg->file);
        s->pos = pos;
        return 0;
    }
    if (!s->open || f == PITR_FEED_OTHER) return 0;
    if (mdb_event_is_compressed(type)) {
        Err e;
        err_clear(&e);
        rc = mdb_event_inflate(ev, len, s->g.crc, &s->plain, &type, &e);
        if (rc == ERR_UNSUPPORTED) {
            /* an algorithm we do not know: listed as not decoded below */
        } else if (rc) {
            *err = e;
            return err_wrap(err, "binlog search: event at %s:%" PRIu64, seg->file, pos);
        } else {
            ev = s->plain.data;
            len = s->plain.len;
            end = pitr_body_end(&s->g, len);
        }
    }
    switch (type) {
    case MDB_EV_TABLE_MAP: on_table_map(s, ev, end); break;
    case MDB_EV_ANNOTATE_ROWS: add_text(s, (const char *)ev + MDB_HDR_LEN, end - MDB_HDR_LEN); break;
    case MDB_EV_QUERY_COMPRESSED: add_text(s, "(compressed statement, not decoded)", 35); break;
    case MDB_EV_QUERY: {
        const char *db, *q;
        size_t dl, ql;
        if (!mdb_query_text(ev, end, &db, &dl, &q, &ql)) break;
        if ((ql == 5 && !strncasecmp(q, "BEGIN", 5)) || (ql == 6 && !strncasecmp(q, "COMMIT", 6))) break;
        unsigned k = classify(q, ql);
        if (s->g.standalone && !k) k = RST_SEARCH_DDL;   /* GRANT, SET PASSWORD, ... */
        s->types |= k;
        add_text(s, q, ql);
        break;
    }
    default:
        if ((type >= MDB_EV_WRITE_V1 && type <= MDB_EV_DELETE_V1) ||
            (type >= MDB_EV_WRITE_V2 && type <= MDB_EV_DELETE_V2) ||
            (type >= MDB_EV_WRITE_COMP_V1 && type <= MDB_EV_DELETE_COMP_V2))
            on_rows(s, ev, end, type);
        break;
    }
    if (f == PITR_FEED_END) {
        int64_t t = s->g.max_time;
        rc = emit(s, t, pos + raw_len, err);
        s->open = false;
        if (rc) return rc;
        if (s->q->until && t > s->q->until + 300) return RST_PITR_STOP;   /* well past the window */
    }
    return 0;
}

static int search_catalog(Repo *r, const BinlogCatalog *c, const RstSearchQuery *q, RstSearchFn fn,
                          void *ctx, uint64_t *out_scanned, Err *err)
{
    Search s;
    size_t n = binlog_catalog_count(c), from = 0;
    int rc;
    if (!n) return 0;
    memset(&s, 0, sizeof s);
    s.q = q;
    s.c = c;
    s.fn = fn;
    s.ctx = ctx;
    s.cur_seg = (size_t)-1;
    buf_init(&s.plain, MDB_INFLATE_MAX + ((size_t)1 << 20));
    if (q->since) {
        Err e;
        err_clear(&e);
        if (binlog_catalog_find_time(c, q->since, &from, &e)) return 0;   /* all before since */
        /* a group may start in the segment before */
        if (from > 0) from--;
    }
    rc = rst_pitr_walk(r, c, from, n - 1, search_event, &s, err);
    reset_tx(&s);
    buf_free(&s.plain);
    if (out_scanned) *out_scanned = s.scanned;
    return rc;
}

int rst_pitr_search(Repo *r, const char *instance, const RstSearchQuery *q, RstSearchFn fn, void *ctx,
                    uint64_t *out_scanned, Err *err)
{
    BinlogCatalog *c = NULL;
    int rc;
    if ((rc = repo_lock(r, false, err))) return rc;
    if ((rc = binlog_catalog_load(r, instance, &c, err))) return rc;
    if (!binlog_catalog_count(c))
        rc = err_set(err, ERR_NOTFOUND, "instance %s has no archived binlog", instance);
    else
        rc = search_catalog(r, c, q, fn, ctx, out_scanned, err);
    binlog_catalog_free(c);
    return rc;
}

/* net_map.c: which tables and databases the fold works on: a
 * Table_map binds its table id to a (db, table) known by name (the define
 * callback asked once), a Query's default database is asked about once.
 * Invariant: a restored table's column definitions (types, metadata,
 * NULL-ability) stay the same over the range, else the range is refused:
 * the images kept are only valid under the Table_map that is emitted. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "restore/net/net_int.h"

static uint64_t name_hash(const uint8_t *db, size_t dl, const uint8_t *t, size_t tl)
{
    uint8_t b[2 * RST_NET_NAME_MAX + 1];
    memcpy(b, db, dl);
    b[dl] = 0;
    memcpy(b + dl + 1, t, tl);
    return net_hash(b, dl + 1 + tl);
}

static bool name_eq(const NetTable *t, const uint8_t *db, size_t dl, const uint8_t *tb, size_t tl)
{
    return strlen(t->info.db) == dl && !memcmp(t->info.db, db, dl) && strlen(t->info.table) == tl &&
           !memcmp(t->info.table, tb, tl);
}

static int names_rehash(RstNet *n, Err *err)
{
    size_t cap = n->names_cap ? n->names_cap * 2 : 64;
    uint32_t *s = calloc(cap, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "net change: table names");
    for (size_t i = 0; i < n->ntabs; i++) {
        const NetTable *t = n->tabs[i];
        size_t j = name_hash((const uint8_t *)t->info.db, strlen(t->info.db),
                             (const uint8_t *)t->info.table, strlen(t->info.table)) & (cap - 1);
        while (s[j]) j = (j + 1) & (cap - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(n->names);
    n->names = s;
    n->names_cap = cap;
    return 0;
}

static int ids_set(RstNet *n, uint64_t id, size_t tab, Err *err)
{
    if ((n->nids + 1) * 2 > n->ids_cap) {
        size_t cap = n->ids_cap ? n->ids_cap * 2 : 64;
        NetId *s = calloc(cap, sizeof *s);
        if (!s) return err_set(err, ERR_NOMEM, "net change: table ids");
        for (size_t i = 0; i < n->ids_cap; i++) {
            if (!n->ids[i].tab) continue;
            size_t j = net_hash(&n->ids[i].id, 8) & (cap - 1);
            while (s[j].tab) j = (j + 1) & (cap - 1);
            s[j] = n->ids[i];
        }
        free(n->ids);
        n->ids = s;
        n->ids_cap = cap;
    }
    size_t j = net_hash(&id, 8) & (n->ids_cap - 1);
    while (n->ids[j].tab && n->ids[j].id != id) j = (j + 1) & (n->ids_cap - 1);
    if (!n->ids[j].tab) n->nids++;
    n->ids[j].id = id;
    n->ids[j].tab = (uint32_t)tab + 1;
    return 0;
}

NetTable *net_table_by_id(const RstNet *n, uint64_t id)
{
    if (!n->ids_cap) return NULL;
    size_t j = net_hash(&id, 8) & (n->ids_cap - 1);
    while (n->ids[j].tab) {
        if (n->ids[j].id == id) return n->tabs[n->ids[j].tab - 1];
        j = (j + 1) & (n->ids_cap - 1);
    }
    return NULL;
}

static int def_check(const NetTable *t, uint64_t ncols, Err *err)
{
    const RstNetTableDef *d = &t->info.def;
    if (d->ncols != ncols)
        return err_set(err, ERR_UNSUPPORTED, "table `%s`.`%s`: the binlog has %" PRIu64 " columns, the "
                       "target %" PRIu32, t->info.db, t->info.table, ncols, d->ncols);
    if (d->autoinc >= 0 && (uint64_t)d->autoinc >= ncols)
        return err_set(err, ERR_INVALID, "table `%s`.`%s`: AUTO_INCREMENT column %" PRId32 " of %" PRIu64,
                       t->info.db, t->info.table, d->autoinc, ncols);
    if (!d->fold) return 0;
    if (d->npk < 1 || d->npk > RST_NET_PK_MAX)
        return err_set(err, ERR_INVALID, "table `%s`.`%s`: %" PRIu32 " primary key columns to fold on",
                       t->info.db, t->info.table, d->npk);
    for (uint32_t i = 0; i < d->npk; i++)
        if (d->pk[i] >= ncols)
            return err_set(err, ERR_INVALID, "table `%s`.`%s`: primary key column %" PRIu32 " of %" PRIu64,
                           t->info.db, t->info.table, d->pk[i], ncols);
    if (d->uniq_unknown) return 0;
    if (d->nuniq > RST_NET_UNIQ_MAX)
        return err_set(err, ERR_INVALID, "table `%s`.`%s`: %" PRIu32 " unique-key columns (at most %d, "
                       "else uniq_unknown)", t->info.db, t->info.table, d->nuniq, RST_NET_UNIQ_MAX);
    for (uint32_t i = 0; i < d->nuniq; i++)
        if (d->uniq[i] >= ncols)
            return err_set(err, ERR_INVALID, "table `%s`.`%s`: unique-key column %" PRIu32 " of %" PRIu64,
                           t->info.db, t->info.table, d->uniq[i], ncols);
    return 0;
}

/* Keep ev (a Table_map, end bytes without checksum) as t's latest map. */
static int table_keep_map(NetTable *t, const uint8_t *ev, size_t end, Err *err)
{
    uint8_t *m = malloc(end);
    if (!m) return err_set(err, ERR_NOMEM, "table map of %zu bytes", end);
    memcpy(m, ev, end);
    if (mdb_cols_parse(m, end, t->cols)) {
        free(m);
        return err_set(err, ERR_CORRUPT, "Table_map does not parse");
    }
    free(t->tmap);
    t->tmap = m;
    t->tmap_len = end;
    return 0;
}

int net_on_table_map(RstNet *n, const uint8_t *ev, size_t end, Err *err)
{
    static __thread MdbCols c;
    uint64_t id;
    NetTable *t;
    int rc;

    if (end < MDB_HDR_LEN + 8) return err_set(err, ERR_CORRUPT, "short Table_map (%zu bytes)", end);
    id = mdb_le48(ev + MDB_HDR_LEN);
    t = net_table_by_id(n, id);
    /* the usual case: the same map again */
    if (t && t->info.def.restore && t->tmap_len == end &&
        !memcmp(t->tmap + MDB_HDR_LEN, ev + MDB_HDR_LEN, end - MDB_HDR_LEN))
        return 0;
    if (mdb_cols_parse(ev, end, &c)) return err_set(err, ERR_CORRUPT, "Table_map does not parse");
    if (c.db_len >= RST_NET_NAME_MAX || c.table_len >= RST_NET_NAME_MAX || c.table_len == 0)
        return err_set(err, ERR_CORRUPT, "Table_map: table name of %zu bytes", c.table_len);
    t = NULL;
    size_t slot = 0;
    if (n->names_cap) {
        slot = name_hash(c.db, c.db_len, c.table, c.table_len) & (n->names_cap - 1);
        while (n->names[slot]) {
            NetTable *x = n->tabs[n->names[slot] - 1];
            if (name_eq(x, c.db, c.db_len, c.table, c.table_len)) {
                t = x;
                break;
            }
            slot = (slot + 1) & (n->names_cap - 1);
        }
    }
    if (!t) {
        size_t idx = n->ntabs;
        if ((n->ntabs + 1) * 2 > n->names_cap && (rc = names_rehash(n, err))) return rc;
        if ((rc = net_grow((void **)&n->tabs, &n->cap_tabs, n->ntabs + 1, sizeof *n->tabs, err))) return rc;
        t = calloc(1, sizeof *t);
        if (!t) return err_set(err, ERR_NOMEM, "net change: table");
        t->index = (uint32_t)idx;
        n->tabs[n->ntabs++] = t;
        memcpy(t->info.db, c.db, c.db_len);
        memcpy(t->info.table, c.table, c.table_len);
        slot = name_hash(c.db, c.db_len, c.table, c.table_len) & (n->names_cap - 1);
        while (n->names[slot]) slot = (slot + 1) & (n->names_cap - 1);
        n->names[slot] = (uint32_t)idx + 1;
        t->info.def.autoinc = -1;
        rc = n->define(n->ctx, t->info.db, t->info.table, &t->info.def, err);
        if (rc) return err_wrap(err, "table `%s`.`%s`", t->info.db, t->info.table);
        if (t->info.def.restore) {
            if ((rc = def_check(t, c.n, err))) return rc;
            t->cols = malloc(sizeof *t->cols);
            if (!t->cols) return err_set(err, ERR_NOMEM, "net change: columns");
            if ((rc = table_keep_map(t, ev, end, err))) return rc;
            if ((rc = net_grow((void **)&n->pub, &n->cap_pub, n->npub + 1, sizeof *n->pub, err))) return rc;
            n->pub[n->npub++] = idx;
        }
    } else if (t->info.def.restore) {
        const MdbCols *o = t->cols;
        if (o->cols_end - o->cols_off != c.cols_end - c.cols_off ||
            memcmp(t->tmap + o->cols_off, ev + c.cols_off, c.cols_end - c.cols_off))
            return err_set(err, ERR_UNSUPPORTED, "table `%s`.`%s`: its columns change within the range "
                           "(a table definition change)", t->info.db, t->info.table);
        if ((rc = table_keep_map(t, ev, end, err))) return rc;
    }
    return ids_set(n, id, t->index, err);
}

int net_db_restored(RstNet *n, const char *db, size_t dl, bool *out, Err *err)
{
    RstNetTableDef d;
    int rc;
    if (dl >= RST_NET_NAME_MAX) return err_set(err, ERR_CORRUPT, "Query: database name of %zu bytes", dl);
    for (size_t i = 0; i < n->ndbs; i++)
        if (strlen(n->dbs[i].name) == dl && !memcmp(n->dbs[i].name, db, dl)) {
            *out = n->dbs[i].restore;
            return 0;
        }
    if ((rc = net_grow((void **)&n->dbs, &n->cap_dbs, n->ndbs + 1, sizeof *n->dbs, err))) return rc;
    NetDb *x = &n->dbs[n->ndbs];
    memset(x, 0, sizeof *x);
    memcpy(x->name, db, dl);
    memset(&d, 0, sizeof d);
    d.autoinc = -1;
    rc = n->define(n->ctx, x->name, "", &d, err);
    if (rc) return err_wrap(err, "database `%s`", x->name);
    x->restore = d.restore;
    n->ndbs++;
    *out = d.restore;
    return 0;
}

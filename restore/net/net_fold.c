/* net_fold.c: the net-change fold of a range of row events (see
 * rst_net.h): events are read one by one, each row of a fold table lands
 * on its primary-key entry (first before-image, last after-image, both in
 * the unlinked image file), each row event of an ordered table is kept
 * whole; anything else that changes data refuses the range.
 * Invariant: an entry's start is set once, at its first touch, and only by
 * a before-image; its end follows every later touch (a delete clears it). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "restore/net/net_int.h"

#define NET_WBUF ((size_t)1 << 20)
#define NET_KEY_MAX ((size_t)1 << 20)

uint64_t net_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0x9e3779b97f4a7c15u ^ (n * 0xff51afd7ed558ccdu), w;
    while (n >= 8) {
        memcpy(&w, b, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
        h ^= h >> 31;
        b += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, b, n);
    h = (h ^ w) * 0x9e3779b97f4a7c15u;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9u;
    return h ^ (h >> 32);
}

int net_pread(const RstNet *n, uint64_t off, void *dst, size_t len, Err *err)
{
    uint8_t *d = dst;
    while (len) {
        ssize_t r = pread(n->fd, d, len, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return err_sys(err, errno, "read the net-change image file at %" PRIu64, off);
        if (r == 0) return err_set(err, ERR_IO, "net-change image file ends before %" PRIu64, off);
        d += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* ---- the image file ---- */

static int file_flush(RstNet *n, Err *err)
{
    size_t done = 0;
    while (done < n->wlen) {
        ssize_t w = pwrite(n->fd, n->wbuf + done, n->wlen - done, (off_t)(n->wpos + done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return err_sys(err, errno, "write the net-change image file");
        done += (size_t)w;
    }
    n->wpos += n->wlen;
    n->wlen = 0;
    return 0;
}

/* Append len bytes; *off = where they are in the file. */
static int file_put(RstNet *n, const void *p, size_t len, uint64_t *off, Err *err)
{
    int rc;
    if (n->wlen + len > NET_WBUF) {
        rc = file_flush(n, err);
        if (rc) return rc;
    }
    *off = n->wpos + n->wlen;
    n->st.image_bytes += len;
    if (len > NET_WBUF) {
        const uint8_t *s = p;
        size_t done = 0;
        while (done < len) {
            ssize_t w = pwrite(n->fd, s + done, len - done, (off_t)(n->wpos + done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return err_sys(err, errno, "write the net-change image file");
            done += (size_t)w;
        }
        n->wpos += len;
        return 0;
    }
    memcpy(n->wbuf + n->wlen, p, len);
    n->wlen += len;
    return 0;
}

int net_grow(void **v, size_t *cap, size_t need, size_t elem, Err *err)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *p = realloc(*v, c * elem);
    if (!p) return err_set(err, ERR_NOMEM, "net change: %zu items of %zu bytes", c, elem);
    *v = p;
    *cap = c;
    return 0;
}

/* ---- fold ---- */

static int entries_rehash(RstNet *n, Err *err)
{
    size_t cap = n->slots_cap ? n->slots_cap * 2 : 1024;
    uint64_t *s = calloc(cap, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "net change: key table of %zu slots", cap);
    for (size_t i = 0; i < n->slots_cap; i++) {
        uint64_t v = n->slots[i];
        if (!v) continue;
        const NetEntry *e = &n->ents[(uint32_t)v - 1];
        size_t j = net_hash(n->keys + e->key_off, e->key_len) & (cap - 1);
        while (s[j]) j = (j + 1) & (cap - 1);
        s[j] = v;
    }
    free(n->slots);
    n->slots = s;
    n->slots_cap = cap;
    return 0;
}

/* The entry of the key in n->key (created at its first touch). */
static int entry_get(RstNet *n, NetTable *t, uint32_t ti, NetEntry **out, bool *fresh, Err *err)
{
    const uint8_t *k = n->key.data;
    size_t kl = n->key.len;
    int rc;
    if ((n->nents + 1) * 2 > n->slots_cap && (rc = entries_rehash(n, err))) return rc;
    uint64_t h = net_hash(k, kl), tag = (h >> 32) << 32;
    size_t j = h & (n->slots_cap - 1);
    while (n->slots[j]) {
        uint64_t v = n->slots[j];
        if ((v & 0xffffffff00000000u) == tag) {
            NetEntry *e = &n->ents[(uint32_t)v - 1];
            if (e->key_len == kl && !memcmp(n->keys + e->key_off, k, kl)) {
                *out = e;
                *fresh = false;
                return 0;
            }
        }
        j = (j + 1) & (n->slots_cap - 1);
    }
    if (n->nents >= UINT32_MAX - 1) return err_set(err, ERR_NOMEM, "net change: over 4 billion keys");
    if ((rc = net_grow((void **)&n->ents, &n->cap_ents, n->nents + 1, sizeof *n->ents, err)) ||
        (rc = net_grow((void **)&n->keys, &n->keys_cap, n->keys_len + kl, 1, err)) ||
        (rc = net_grow((void **)&t->order, &t->cap_order, t->norder + 1, sizeof *t->order, err)))
        return rc;
    NetEntry *e = &n->ents[n->nents];
    memset(e, 0, sizeof *e);
    e->key_off = n->keys_len;
    e->key_len = (uint32_t)kl;
    e->table = ti;
    memcpy(n->keys + n->keys_len, k, kl);
    n->keys_len += kl;
    t->order[t->norder++] = (uint32_t)n->nents;
    n->slots[j] = tag | ((uint64_t)n->nents + 1);
    n->nents++;
    n->st.keys++;
    t->info.keys++;
    *out = e;
    *fresh = true;
    return 0;
}

/* Key of an image whose columns are in f: table index, then each primary
 * key column's length (4 bytes) and bytes. */
static int key_build(RstNet *n, const NetTable *t, uint32_t ti, const uint8_t *img, const MdbField *f,
                     Err *err)
{
    uint8_t b4[4];
    int rc;
    buf_reset(&n->key);
    memcpy(b4, &ti, 4);
    if ((rc = buf_append(&n->key, b4, 4, err))) return rc;
    for (uint32_t i = 0; i < t->info.def.npk; i++) {
        const MdbField *x = &f[t->info.def.pk[i]];
        if (x->len == MDB_FIELD_NONE)
            return err_set(err, ERR_CORRUPT, "table `%s`.`%s`: primary key column %" PRIu32 " is NULL "
                           "in a row image", t->info.db, t->info.table, t->info.def.pk[i]);
        memcpy(b4, &x->len, 4);
        if ((rc = buf_append(&n->key, b4, 4, err)) || (rc = buf_append(&n->key, img + x->off, x->len, err)))
            return err_wrap(err, "table `%s`.`%s`: primary key", t->info.db, t->info.table);
    }
    return 0;
}

/* The AUTO_INCREMENT column's value in a written image. */
static void autoinc_note(NetTable *t, const uint8_t *img, const MdbField *f)
{
    const RstNetTableDef *d = &t->info.def;
    if (d->autoinc < 0) return;
    const MdbField *x = &f[d->autoinc];
    uint32_t l = x->len;
    if (l != 1 && l != 2 && l != 3 && l != 4 && l != 8) return;
    uint64_t v = 0;
    for (uint32_t i = 0; i < l; i++) v |= (uint64_t)img[x->off + i] << (8 * i);
    if (!d->autoinc_unsigned && l < 8 && (v >> (8 * l - 1)) & 1) return;   /* negative */
    if (!d->autoinc_unsigned && l == 8 && (v >> 63)) return;
    if (v == 0) return;
    if (!t->info.autoinc_seen || v > t->info.autoinc_max) t->info.autoinc_max = v;
    t->info.autoinc_seen = true;
}

static int image_put(RstNet *n, const uint8_t *img, size_t len, uint64_t *off, uint32_t *olen,
                     uint64_t *hash, Err *err)
{
    int rc = file_put(n, img, len, off, err);
    if (rc) return rc;
    *olen = (uint32_t)len;
    *hash = net_hash(img, len);
    return 0;
}

static int fold_before(RstNet *n, NetTable *t, uint32_t ti, const uint8_t *img, size_t len,
                       const MdbField *f, Err *err)
{
    NetEntry *e;
    bool fresh;
    int rc = key_build(n, t, ti, img, f, err);
    if (!rc) rc = entry_get(n, t, ti, &e, &fresh, err);
    if (rc) return rc;
    if (fresh) rc = image_put(n, img, len, &e->start_off, &e->start_len, &e->start_hash, err);
    e->end_len = 0;
    return rc;
}

static int fold_after(RstNet *n, NetTable *t, uint32_t ti, const uint8_t *img, size_t len,
                      const MdbField *f, Err *err)
{
    NetEntry *e;
    bool fresh;
    int rc = key_build(n, t, ti, img, f, err);
    if (!rc) rc = entry_get(n, t, ti, &e, &fresh, err);
    if (rc) return rc;
    autoinc_note(t, img, f);
    return image_put(n, img, len, &e->end_off, &e->end_len, &e->end_hash, err);
}

static bool all_ones(const uint8_t *bm, uint64_t ncols)
{
    for (uint64_t i = 0; i < ncols; i++)
        if (!((bm[i / 8] >> (i % 8)) & 1)) return false;
    return true;
}

static uint64_t bits(const uint8_t *bm, uint64_t ncols)
{
    uint64_t k = 0;
    for (uint64_t i = 0; i < ncols; i++) k += (bm[i / 8] >> (i % 8)) & 1;
    return k;
}

static int walk_error(const NetTable *t, int w, Err *err)
{
    if (w == -2)
        return err_set(err, ERR_UNSUPPORTED, "table `%s`.`%s`: a column type the row walk cannot size",
                       t->info.db, t->info.table);
    return err_set(err, ERR_CORRUPT, "table `%s`.`%s`: a row image runs past its event", t->info.db,
                   t->info.table);
}

static int on_rows(RstNet *n, const uint8_t *ev, size_t end, uint8_t type, Err *err)
{
    const uint8_t *p, *e = ev + end, *bm1, *bm2 = NULL;
    uint64_t ncols, np1, np2 = 0, rows = 0;
    bool v2 = type >= MDB_EV_WRITE_V2, upd = type == MDB_EV_UPDATE_V1 || type == MDB_EV_UPDATE_V2;
    bool del = type == MDB_EV_DELETE_V1 || type == MDB_EV_DELETE_V2;
    int rc, w;

    if (end < MDB_HDR_LEN + 8) return err_set(err, ERR_CORRUPT, "short rows event (%zu bytes)", end);
    NetTable *t = net_table_by_id(n, mdb_le48(ev + MDB_HDR_LEN));
    if (!t) {
        /* the server's end-of-statement marker for no table carries STMT_END_F */
        if (mdb_le16(ev + MDB_HDR_LEN + 6) & NET_STMT_END_F) return 0;
        return err_set(err, ERR_CORRUPT, "rows event for table id %" PRIu64 " without a Table_map",
                       mdb_le48(ev + MDB_HDR_LEN));
    }
    if (!t->info.def.restore) return 0;
    uint32_t ti = t->index;
    p = ev + MDB_HDR_LEN + 8;
    if (v2) {
        if (e - p < 2 || mdb_le16(p) < 2 || (long)mdb_le16(p) > e - p)
            return err_set(err, ERR_CORRUPT, "rows event: bad extra data length");
        p += mdb_le16(p);
    }
    if (mdb_packed(&p, e, &ncols) || ncols != t->cols->n)
        return err_set(err, ERR_CORRUPT, "table `%s`.`%s`: rows event column count differs from its "
                       "Table_map", t->info.db, t->info.table);
    size_t bl = (size_t)(ncols + 7) / 8;
    if ((size_t)(e - p) < bl * (upd ? 2 : 1)) return err_set(err, ERR_CORRUPT, "short rows event");
    bm1 = p;
    p += bl;
    if (upd) {
        bm2 = p;
        p += bl;
    }
    /* an image of no column is no bytes: the walk below would not advance */
    np1 = bits(bm1, ncols);
    if (upd) np2 = bits(bm2, ncols);
    if (!np1 || (upd && !np2))
        return err_set(err, ERR_CORRUPT, "table `%s`.`%s`: rows event type %u with no column in its "
                       "row image", t->info.db, t->info.table, type);
    n->st.row_events++;
    n->tx_rows = true;
    if (!t->info.def.fold) {
        while (p < e) {
            const uint8_t *img = p;
            if ((w = mdb_row_image(t->cols, bm1, np1, &p, e, n->fa))) return walk_error(t, w, err);
            if (!del && !upd) autoinc_note(t, img, n->fa);
            if (upd) {
                img = p;
                if ((w = mdb_row_image(t->cols, bm2, np2, &p, e, n->fa))) return walk_error(t, w, err);
                autoinc_note(t, img, n->fa);
            }
            rows++;
        }
        NetEvent *x;
        if ((rc = net_grow((void **)&t->evs, &t->cap_evs, t->nevs + 1, sizeof *t->evs, err))) return rc;
        x = &t->evs[t->nevs];
        if ((rc = file_put(n, ev, end, &x->off, err))) return rc;
        x->len = (uint32_t)end;
        x->rows = (uint32_t)rows;
        t->nevs++;
        t->info.ordered_events++;
        t->info.ordered_rows += rows;
        t->info.emit_bytes += end + 4;
        n->st.rows += rows;
        return 0;
    }
    if (!all_ones(bm1, ncols) || (upd && !all_ones(bm2, ncols)))
        return err_set(err, ERR_UNSUPPORTED, "table `%s`.`%s`: not a full row image "
                       "(binlog_row_image=FULL is needed to fold by primary key)", t->info.db, t->info.table);
    while (p < e) {
        const uint8_t *img = p;
        if ((w = mdb_row_image(t->cols, bm1, ncols, &p, e, n->fa))) return walk_error(t, w, err);
        if (upd) {
            const uint8_t *img2 = p;
            if ((w = mdb_row_image(t->cols, bm2, ncols, &p, e, n->fb))) return walk_error(t, w, err);
            if ((rc = fold_before(n, t, ti, img, (size_t)(img2 - img), n->fa, err)) ||
                (rc = fold_after(n, t, ti, img2, (size_t)(p - img2), n->fb, err)))
                return rc;
        } else if (del) {
            if ((rc = fold_before(n, t, ti, img, (size_t)(p - img), n->fa, err))) return rc;
        } else {
            if ((rc = fold_after(n, t, ti, img, (size_t)(p - img), n->fa, err))) return rc;
        }
        rows++;
    }
    n->st.rows += rows;
    return 0;
}

/* ---- statements ---- */

static bool word_is(const char *q, size_t ql, const char *w)
{
    size_t wl = strlen(w);
    return ql >= wl && !strncasecmp(q, w, wl) && (ql == wl || q[wl] == ' ' || q[wl] == '\t' ||
                                                  q[wl] == '\n' || q[wl] == '\r' || q[wl] == '`');
}

typedef struct NamedCtx {
    RstNet *n;
    Err *err;
    int rc;
    char name[RST_NET_NAME_MAX];
} NamedCtx;

/* rst_net_sql_names callback: 1 when name is a restored database, -1 on an
 * error of the define callback (in rc/err). */
static int named_restored(void *ctx, const char *name, size_t len)
{
    NamedCtx *c = ctx;
    bool r = false;
    if (len >= RST_NET_NAME_MAX) return 0;   /* not a database name */
    if ((c->rc = net_db_restored(c->n, name, len, &r, c->err))) return -1;
    if (r) snprintf(c->name, sizeof c->name, "%s", name);
    return r ? 1 : 0;
}

/* A statement (a Query's, or LOAD DATA's of an Execute_load_query): 0 when
 * it changes nothing restored (transaction control, another database). */
static int on_statement(RstNet *n, const char *db, size_t dl, const char *q, size_t ql, Err *err)
{
    RstNetSqlKind kind;
    bool restored = true;
    char text[96];
    int rc;
    while (ql && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++, ql--;
    while (ql && (q[ql - 1] == ' ' || q[ql - 1] == '\t' || q[ql - 1] == '\n' || q[ql - 1] == '\r' ||
                  q[ql - 1] == ';' || q[ql - 1] == 0))
        ql--;
    if ((ql == 5 && !strncasecmp(q, "BEGIN", 5)) || (ql == 6 && !strncasecmp(q, "COMMIT", 6)) ||
        word_is(q, ql, "SAVEPOINT"))
        return 0;
    /* a ROLLBACK in the binlog undoes the transactional part of what
     * precedes it (its non-transactional changes stay): not a net change */
    if (word_is(q, ql, "ROLLBACK")) {
        if (!n->tx_rows) return 0;
        rst_net_sql_snippet(q, ql, text, sizeof text);
        return err_set(err, ERR_UNSUPPORTED, "a transaction that changed restored tables ends with: %s", text);
    }
    /* XA: its transaction may span the snapshot's position (prepared before,
     * committed after), whatever database is selected */
    kind = rst_net_sql_kind(q, ql, NULL, 0);
    if (kind >= RST_NET_SQL_XA_START && kind <= RST_NET_SQL_XA_ROLLBACK) {
        rst_net_sql_snippet(q, ql, text, sizeof text);
        return err_set(err, ERR_UNSUPPORTED, "an XA transaction is not a net change: %s", text);
    }
    if ((rc = net_db_restored(n, db, dl, &restored, err))) return rc;
    if (!restored) {
        /* a statement naming a restored database from another (or no)
         * default database: ALTER TABLE c5.t1 under USE other */
        NamedCtx nc = {n, err, 0, ""};
        if ((rc = rst_net_sql_names(q, ql, named_restored, &nc)) < 0) return nc.rc;
        if (!rc) return 0;
        rst_net_sql_snippet(q, ql, text, sizeof text);
        return err_set(err, ERR_UNSUPPORTED, "a statement naming restored database `%s` is not a row "
                       "change: %s", nc.name, text);
    }
    rst_net_sql_snippet(q, ql, text, sizeof text);
    return err_set(err, ERR_UNSUPPORTED, "a statement on restored database `%.*s` is not a row change: %s",
                   (int)dl, db, text);
}

static int on_query(RstNet *n, const uint8_t *ev, size_t end, Err *err)
{
    const char *db, *q;
    size_t dl, ql;
    if (!mdb_query_text(ev, end, &db, &dl, &q, &ql)) return err_set(err, ERR_CORRUPT, "Query does not parse");
    return on_statement(n, db, dl, q, ql, err);
}

/* LOAD DATA written as a statement: its file's blocks came before (held
 * back as context), the statement judges them */
static int on_load_query(RstNet *n, const uint8_t *ev, size_t end, Err *err)
{
    const char *db, *q;
    size_t dl, ql;
    if (!rst_net_sql_load_query_text(ev, end, &db, &dl, &q, &ql))
        return err_set(err, ERR_CORRUPT, "Execute_load_query does not parse");
    return on_statement(n, db, dl, q, ql, err);
}

/* ---- events ---- */

static const char *type_name(uint8_t t)
{
    switch (t) {
    case MDB_EV_INTVAR: return "Intvar";
    case MDB_EV_APPEND_BLOCK: return "Append_block";
    case MDB_EV_DELETE_FILE: return "Delete_file";
    case MDB_EV_RAND: return "Rand";
    case MDB_EV_USER_VAR: return "User_var";
    case MDB_EV_BEGIN_LOAD_QUERY: return "Begin_load_query";
    case MDB_EV_EXECUTE_LOAD_QUERY: return "Execute_load_query";
    case MDB_EV_INCIDENT: return "Incident";
    case MDB_EV_XA_PREPARE: return "XA_prepare";
    case MDB_EV_START_ENCRYPTION: return "Start_encryption";
    default: return "unknown";
    }
}

static int on_format_desc(RstNet *n, const uint8_t *ev, size_t len, Err *err)
{
    bool crc = mdb_fd_has_crc(ev, len);
    if (len < MDB_HDR_LEN + 57) return err_set(err, ERR_CORRUPT, "short Format_description (%zu bytes)", len);
    n->crc = crc;
    if (n->fdesc) return 0;
    n->fdesc = malloc(len);
    if (!n->fdesc) return err_set(err, ERR_NOMEM, "Format_description");
    memcpy(n->fdesc, ev, len);
    n->fdesc_len = len;
    n->fdesc_crc = crc;
    n->server_id = mdb_le32(ev + 5) ? mdb_le32(ev + 5) : 1;
    return 0;
}

static int feed(RstNet *n, const uint8_t *ev, size_t len, Err *err)
{
    uint8_t type;
    size_t end;
    int rc;

    if (len < MDB_HDR_LEN) return err_set(err, ERR_CORRUPT, "event of %zu bytes", len);
    if (mdb_le32(ev + 9) != len)
        return err_set(err, ERR_CORRUPT, "event length %" PRIu32 " in its header, %zu bytes given",
                       mdb_le32(ev + 9), len);
    type = ev[4];
    n->st.events++;
    if (type == MDB_EV_FORMAT_DESC) return on_format_desc(n, ev, len, err);
    if (!n->fdesc)
        return err_set(err, ERR_INVALID, "event type %u before any Format_description", type);
    n->timestamp = mdb_le32(ev);
    if (n->crc && len < MDB_HDR_LEN + 4) return err_set(err, ERR_CORRUPT, "event of %zu bytes has no checksum", len);
    if (mdb_event_is_compressed(type)) {
        rc = mdb_event_inflate(ev, len, n->crc, &n->unz, &type, err);
        if (rc) return rc;
        ev = n->unz.data;
        len = n->unz.len;
    }
    end = n->crc ? len - 4 : len;
    /* Intvar, Rand and User_var carry the context of the Query that follows
     * them, Begin_load_query and Append_block the file of the LOAD DATA
     * that follows them: judged by that statement (one on a database that
     * is not restored changes nothing here), refused when anything else
     * follows */
    if (type == MDB_EV_INTVAR || type == MDB_EV_RAND || type == MDB_EV_USER_VAR ||
        type == MDB_EV_BEGIN_LOAD_QUERY ||
        (type == MDB_EV_APPEND_BLOCK && n->ctx_event == MDB_EV_BEGIN_LOAD_QUERY)) {
        if (type != MDB_EV_APPEND_BLOCK) n->ctx_event = type;
        return 0;
    }
    if (n->ctx_event) {
        uint8_t t = n->ctx_event;
        n->ctx_event = 0;
        if (type == MDB_EV_EXECUTE_LOAD_QUERY) return on_load_query(n, ev, end, err);
        if (type != MDB_EV_QUERY || t == MDB_EV_BEGIN_LOAD_QUERY)
            return err_set(err, ERR_UNSUPPORTED, "event type %u (%s) is not a row change", t, type_name(t));
    }
    switch (type) {
    case MDB_EV_GTID:
        n->st.transactions++;
        n->tx_rows = false;
        return 0;
    case MDB_EV_QUERY:
        return on_query(n, ev, end, err);
    case MDB_EV_TABLE_MAP:
        return net_on_table_map(n, ev, end, err);
    case MDB_EV_WRITE_V1: case MDB_EV_UPDATE_V1: case MDB_EV_DELETE_V1:
    case MDB_EV_WRITE_V2: case MDB_EV_UPDATE_V2: case MDB_EV_DELETE_V2:
        return on_rows(n, ev, end, type, err);
    case MDB_EV_STOP: case MDB_EV_ROTATE: case MDB_EV_XID: case MDB_EV_HEARTBEAT:
    case MDB_EV_IGNORABLE: case MDB_EV_ROWS_QUERY: case MDB_EV_ANNOTATE_ROWS:
    case MDB_EV_CHECKPOINT: case MDB_EV_GTID_LIST:
        return 0;
    default:
        if (!strcmp(type_name(type), "unknown") && (mdb_le16(ev + 17) & 0x0080u))
            return 0;   /* LOG_EVENT_IGNORABLE_F: the server skips it too */
        return err_set(err, ERR_UNSUPPORTED, "event type %u (%s) is not a row change", type, type_name(type));
    }
}

int rst_net_feed(RstNet *n, const char *file, uint64_t pos, const uint8_t *ev, size_t len, Err *err)
{
    if (n->failed || n->finished)
        return err_set(err, ERR_INVALID, "net change: feed after %s", n->failed ? "an error" : "finish");
    int rc = feed(n, ev, len, err);
    if (rc) {
        n->failed = true;
        return err_wrap(err, "%s:%" PRIu64, file ? file : "binlog", pos);
    }
    return 0;
}

/* ---- life cycle ---- */

int rst_net_open(const char *tmpdir, RstNetDefineFn define, void *ctx, RstNet **out, Err *err)
{
    char path[4096];
    RstNet *n;
    int rc = 0;

    *out = NULL;
    if (!tmpdir) tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    if ((size_t)snprintf(path, sizeof path, "%s/tidemark-net-XXXXXX", tmpdir) >= sizeof path)
        return err_set(err, ERR_INVALID, "temporary directory path too long: %s", tmpdir);
    n = calloc(1, sizeof *n);
    if (!n) return err_set(err, ERR_NOMEM, "net change");
    n->fd = -1;
    n->define = define;
    n->ctx = ctx;
    buf_init(&n->unz, MDB_INFLATE_MAX + 4096);
    buf_init(&n->key, NET_KEY_MAX);
    n->wbuf = malloc(NET_WBUF);
    n->fa = malloc(MDB_COLS_MAX * sizeof *n->fa);
    n->fb = malloc(MDB_COLS_MAX * sizeof *n->fb);
    if (!n->wbuf || !n->fa || !n->fb) {
        rc = err_set(err, ERR_NOMEM, "net change buffers");
        goto out;
    }
    n->fd = mkostemp(path, O_CLOEXEC);
    if (n->fd < 0) {
        rc = err_sys(err, errno, "create a temporary file in %s", tmpdir);
        goto out;
    }
    unlink(path);
    *out = n;
out:
    if (rc) rst_net_close(n);
    return rc;
}

/* Bytes of one emitted Table_map of t, and of a rows event's header
 * (bitmaps: 1, or 2 for Update_rows), checksums included. */
static uint64_t map_bytes(const RstNet *n, const NetTable *t)
{
    const char *db = t->info.def.target_db[0] ? t->info.def.target_db : t->info.db;
    return MDB_HDR_LEN + 8 + 1 + strlen(db) + 1 + 1 + t->cols->table_len + 1 + (t->tmap_len - t->cols->cols_off) +
           (n->fdesc_crc ? 4 : 0);
}

static uint64_t rows_hdr_bytes(const RstNet *n, const NetTable *t, unsigned bitmaps)
{
    uint64_t nc = t->cols->n;
    return MDB_HDR_LEN + 8 + (nc < 251 ? 1 : 3) + bitmaps * ((nc + 7) / 8) + (n->fdesc_crc ? 4 : 0);
}

/* Read an image of the file into b (b->len stays 0). */
static int image_read(const RstNet *n, uint64_t off, uint32_t len, Buf *b, Err *err)
{
    int rc;
    buf_reset(b);
    if ((rc = buf_reserve(b, len, err))) return rc;
    return net_pread(n, off, b->data, len, err);
}

/* Whether every unique-key column of t is identical (bytes and NULL-ness)
 * in the start and end images of e, read into a and b. */
static int uniq_same(RstNet *n, const NetTable *t, const NetEntry *e, const Buf *a, const Buf *b, bool *out,
                     Err *err)
{
    uint8_t ones[MDB_COLS_MAX / 8];
    const uint8_t *pa = a->data, *pb = b->data;
    const RstNetTableDef *d = &t->info.def;
    uint64_t nc = t->cols->n;

    memset(ones, 0xff, sizeof ones);
    if (mdb_row_image(t->cols, ones, nc, &pa, a->data + e->start_len, n->fa) ||
        mdb_row_image(t->cols, ones, nc, &pb, b->data + e->end_len, n->fb))
        return err_set(err, ERR_CORRUPT, "table `%s`.`%s`: a kept row image does not parse", t->info.db,
                       t->info.table);
    *out = true;
    for (uint32_t i = 0; i < d->nuniq && *out; i++) {
        const MdbField *x = &n->fa[d->uniq[i]], *y = &n->fb[d->uniq[i]];
        if (x->len != y->len)
            *out = false;
        else if (x->len != MDB_FIELD_NONE && memcmp(a->data + x->off, b->data + y->off, x->len))
            *out = false;
    }
    return 0;
}

/* Decide what emission does with each key of fold table t (NetEntry.kind),
 * list the keys to write, count rows and bytes per phase. */
static int table_plan(RstNet *n, NetTable *t, Buf *a, Buf *b, Err *err)
{
    RstNetTableInfo *in = &t->info;
    uint64_t del = 0, upd = 0, wr = 0;
    int rc;

    if (!in->def.fold) {
        in->prepare_bytes = in->emit_bytes;
        return 0;
    }
    size_t cap = 0;
    if (t->norder && (rc = net_grow((void **)&t->wlist, &cap, t->norder, sizeof *t->wlist, err))) return rc;
    for (size_t i = 0; i < t->norder; i++) {
        NetEntry *e = &n->ents[t->order[i]];
        bool read = false, same = false;
        if (!e->start_len) {
            e->kind = e->end_len ? NET_K_WRITE : NET_K_NONE;
        } else if (!e->end_len) {
            e->kind = NET_K_DELETE;
        } else {
            if (e->start_len == e->end_len && e->start_hash == e->end_hash) {
                if ((rc = image_read(n, e->start_off, e->start_len, a, err)) ||
                    (rc = image_read(n, e->end_off, e->end_len, b, err)))
                    return rc;
                read = true;
                if (!memcmp(a->data, b->data, e->start_len)) {
                    e->kind = NET_K_NONE;
                    continue;
                }
            }
            if (in->def.uniq_unknown) {
                e->kind = NET_K_DW;
            } else if (!in->def.nuniq) {
                e->kind = NET_K_UPDATE;
            } else {
                if (!read && ((rc = image_read(n, e->start_off, e->start_len, a, err)) ||
                              (rc = image_read(n, e->end_off, e->end_len, b, err))))
                    return rc;
                if ((rc = uniq_same(n, t, e, a, b, &same, err))) return rc;
                e->kind = same ? NET_K_UPDATE : NET_K_DW;
            }
        }
        switch (e->kind) {
        case NET_K_DELETE:
            in->rows_delete++;
            del += e->start_len;
            break;
        case NET_K_WRITE:
            in->rows_write++;
            wr += e->end_len;
            t->wlist[t->nwlist++] = t->order[i];
            break;
        case NET_K_DW:
            in->rows_delete++;
            in->rows_write++;
            del += e->start_len;
            wr += e->end_len;
            t->wlist[t->nwlist++] = t->order[i];
            break;
        case NET_K_UPDATE:
            in->rows_update++;
            upd += (uint64_t)e->start_len + e->end_len;
            break;
        default:
            break;
        }
    }
    /* one batch per kind (deletes, updates, writes) at the least */
    if (in->rows_delete) in->prepare_bytes += map_bytes(n, t) + rows_hdr_bytes(n, t, 1) + del;
    if (in->rows_update) in->prepare_bytes += map_bytes(n, t) + rows_hdr_bytes(n, t, 2) + upd;
    if (in->rows_write) in->write_bytes = map_bytes(n, t) + rows_hdr_bytes(n, t, 1) + wr;
    in->emit_bytes = in->prepare_bytes + in->write_bytes;
    return 0;
}

int rst_net_finish(RstNet *n, Err *err)
{
    int rc;
    if (n->failed || n->finished)
        return err_set(err, ERR_INVALID, "net change: finish after %s", n->failed ? "an error" : "finish");
    rc = file_flush(n, err);
    if (rc) {
        n->failed = true;
        return rc;
    }
    Buf a, b;
    buf_init(&a, MDB_INFLATE_MAX);
    buf_init(&b, MDB_INFLATE_MAX);
    for (size_t i = 0; i < n->npub && !rc; i++) {
        NetTable *t = n->tabs[n->pub[i]];
        if ((rc = table_plan(n, t, &a, &b, err))) rc = err_wrap(err, "table `%s`.`%s`", t->info.db, t->info.table);
    }
    buf_free(&a);
    buf_free(&b);
    if (rc) {
        n->failed = true;
        return rc;
    }
    n->finished = true;
    return 0;
}

size_t rst_net_table_count(const RstNet *n) { return n->npub; }

const RstNetTableInfo *rst_net_table(const RstNet *n, size_t i)
{
    return i < n->npub ? &n->tabs[n->pub[i]]->info : NULL;
}

void rst_net_stats(const RstNet *n, RstNetStats *out) { *out = n->st; }

const uint8_t *rst_net_format_desc(const RstNet *n, size_t *len)
{
    *len = n->fdesc_len;
    return n->fdesc;
}

void rst_net_close(RstNet *n)
{
    if (!n) return;
    if (n->fd >= 0) close(n->fd);
    for (size_t i = 0; i < n->ntabs; i++) {
        NetTable *t = n->tabs[i];
        free(t->tmap);
        free(t->cols);
        free(t->order);
        free(t->wlist);
        free(t->evs);
        free(t);
    }
    free(n->tabs);
    free(n->names);
    free(n->ids);
    free(n->pub);
    free(n->dbs);
    free(n->ents);
    free(n->slots);
    free(n->keys);
    free(n->fdesc);
    free(n->wbuf);
    free(n->fa);
    free(n->fb);
    buf_free(&n->unz);
    buf_free(&n->key);
    free(n);
}

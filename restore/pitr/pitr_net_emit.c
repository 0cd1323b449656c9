/* pitr_net_emit.c: a folded table back to row events, in batches the
 * target applies as BINLOG statements: Table_map (database renamed, our
 * table id) then rows events, NO_FOREIGN_KEY_CHECKS_F on each, STMT_END_F
 * on the batch's last one.
 * Invariant: only reads the PitrNet (pread on its image file), so calls
 * for different tables may run at once. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "restore/pitr/pitr_net_int.h"

typedef struct Batch {
    const PitrNet *n;
    const NetTable *t;
    size_t max;
    PitrNetBatchFn fn;
    void *ctx;
    Buf b;                 /* the batch */
    size_t last;           /* offset of the last event begun (0: none) */
    bool open;             /* a rows event of ours is being filled */
    uint64_t rows;
    uint64_t table_id;
} Batch;

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static void put48(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put16(p + 4, (uint32_t)(v >> 32));
}

static void header(const PitrNet *n, uint8_t *h, uint8_t type)
{
    put32(h, n->timestamp);
    h[4] = type;
    put32(h + 5, n->server_id);
    put32(h + 9, 0);            /* length, set when the event is closed */
    put32(h + 13, 0);
    put16(h + 17, 0);
}

/* Set the length of the event at off (ending at the buffer's end, without
 * checksum yet), append its CRC32 when the Format_description says so. */
static int event_close(Batch *bt, size_t off, Err *err)
{
    size_t len = bt->b.len - off + (bt->n->fdesc_crc ? 4 : 0);
    if (len > UINT32_MAX) return err_set(err, ERR_NOMEM, "an event of %zu bytes", len);
    put32(bt->b.data + off + 9, (uint32_t)len);
    if (!bt->n->fdesc_crc) return 0;
    uint8_t c[4];
    put32(c, (uint32_t)crc32(0L, bt->b.data + off, (uInt)(len - 4)));
    return buf_append(&bt->b, c, 4, err);
}

/* The Table_map that opens every batch. */
static int table_map(Batch *bt, Err *err)
{
    const NetTable *t = bt->t;
    const PitrCols *c = t->cols;
    const char *db = t->info.def.target_db[0] ? t->info.def.target_db : t->info.db;
    size_t dl = strlen(db), off = bt->b.len;
    uint8_t h[PITR_HDR + 8];
    int rc;

    header(bt->n, h, PITR_EV_TABLE_MAP);
    memcpy(h + PITR_HDR, t->tmap + PITR_HDR, 8);
    put48(h + PITR_HDR, bt->table_id);
    uint8_t l = (uint8_t)dl, z = 0, tl = (uint8_t)c->table_len;
    if ((rc = buf_append(&bt->b, h, sizeof h, err)) || (rc = buf_append(&bt->b, &l, 1, err)) ||
        (rc = buf_append(&bt->b, db, dl, err)) || (rc = buf_append(&bt->b, &z, 1, err)) ||
        (rc = buf_append(&bt->b, &tl, 1, err)) || (rc = buf_append(&bt->b, c->table, c->table_len, err)) ||
        (rc = buf_append(&bt->b, &z, 1, err)) ||
        (rc = buf_append(&bt->b, t->tmap + c->cols_off, t->tmap_len - c->cols_off, err)))
        return rc;
    return event_close(bt, off, err);
}

/* Send the batch: STMT_END_F on its last event (its CRC32 redone). */
static int batch_flush(Batch *bt, Err *err)
{
    int rc;
    if (!bt->last) return 0;
    if (bt->open) {
        if ((rc = event_close(bt, bt->last, err))) return rc;
        bt->open = false;
    }
    uint8_t *ev = bt->b.data + bt->last;
    size_t len = pitr_get32(ev + 9);
    put16(ev + PITR_HDR + 6, pitr_get16(ev + PITR_HDR + 6) | NET_STMT_END_F);
    if (bt->n->fdesc_crc) put32(ev + len - 4, (uint32_t)crc32(0L, ev, (uInt)(len - 4)));
    rc = bt->fn(bt->ctx, bt->b.data, bt->b.len, bt->rows, err);
    buf_reset(&bt->b);
    bt->last = 0;
    bt->rows = 0;
    return rc;
}

/* Room for `more` bytes (plus the checksum of the event in progress) in
 * this batch; else send it first. A batch always takes its first event. */
static int batch_room(Batch *bt, size_t more, Err *err)
{
    size_t crc = bt->n->fdesc_crc ? 4 : 0;
    if (bt->last && bt->b.len + more + crc > bt->max) return batch_flush(bt, err);
    return 0;
}

/* One row image into a rows event of type (Write or Delete v1). */
static int add_row(Batch *bt, uint8_t type, const uint8_t *img, size_t len, Err *err)
{
    const NetTable *t = bt->t;
    uint64_t ncols = t->cols->n;
    int rc;

    if (bt->open && bt->b.data[bt->last + 4] != type) {
        if ((rc = batch_flush(bt, err))) return rc;
    }
    if (bt->open && (rc = batch_room(bt, len, err))) return rc;
    if (!bt->last && (rc = table_map(bt, err))) return rc;
    if (!bt->open) {
        uint8_t h[PITR_HDR + 8 + 9], bm[PITR_COLS_MAX / 8];
        size_t hl = PITR_HDR + 8, bl = (size_t)(ncols + 7) / 8;
        header(bt->n, h, type);
        put48(h + PITR_HDR, bt->table_id);
        put16(h + PITR_HDR + 6, NET_NO_FK_F);
        if (ncols < 251) {
            h[hl++] = (uint8_t)ncols;
        } else {
            h[hl++] = 252;
            put16(h + hl, (uint32_t)ncols);
            hl += 2;
        }
        memset(bm, 0, bl);
        for (uint64_t i = 0; i < ncols; i++) bm[i / 8] |= (uint8_t)(1u << (i % 8));
        bt->last = bt->b.len;
        bt->open = true;
        if ((rc = buf_append(&bt->b, h, hl, err)) || (rc = buf_append(&bt->b, bm, bl, err))) return rc;
    }
    if ((rc = buf_append(&bt->b, img, len, err))) return rc;
    bt->rows++;
    return 0;
}

/* Start and end images of e are the same bytes. */
static int same_images(const PitrNet *n, const NetEntry *e, Buf *a, Buf *b, bool *out, Err *err)
{
    int rc;
    *out = false;
    if (!e->start_len || !e->end_len || e->start_len != e->end_len || e->start_hash != e->end_hash)
        return 0;
    buf_reset(a);
    buf_reset(b);
    if ((rc = buf_reserve(a, e->start_len, err)) || (rc = buf_reserve(b, e->end_len, err)) ||
        (rc = pitr_net_pread(n, e->start_off, a->data, e->start_len, err)) ||
        (rc = pitr_net_pread(n, e->end_off, b->data, e->end_len, err)))
        return rc;
    *out = !memcmp(a->data, b->data, e->start_len);
    return 0;
}

static int emit_fold(Batch *bt, Err *err)
{
    const PitrNet *n = bt->n;
    const NetTable *t = bt->t;
    Buf a, b;
    int rc = 0;
    bool same;

    buf_init(&a, PITR_UNCOMPRESS_MAX);
    buf_init(&b, PITR_UNCOMPRESS_MAX);
    for (int phase = 0; phase < 2 && !rc; phase++) {
        uint8_t type = phase == 0 ? PITR_EV_DELETE_V1 : PITR_EV_WRITE_V1;
        for (size_t i = 0; i < t->norder; i++) {
            const NetEntry *e = &n->ents[t->order[i]];
            uint32_t len = phase == 0 ? e->start_len : e->end_len;
            uint64_t off = phase == 0 ? e->start_off : e->end_off;
            if (!len) continue;
            if ((rc = same_images(n, e, &a, &b, &same, err))) break;
            if (same) continue;
            buf_reset(&a);
            if ((rc = buf_reserve(&a, len, err)) || (rc = pitr_net_pread(n, off, a.data, len, err)) ||
                (rc = add_row(bt, type, a.data, len, err)))
                break;
        }
    }
    if (!rc) rc = batch_flush(bt, err);
    buf_free(&a);
    buf_free(&b);
    return rc;
}

static int emit_ordered(Batch *bt, Err *err)
{
    const PitrNet *n = bt->n;
    const NetTable *t = bt->t;
    size_t crc = n->fdesc_crc ? 4 : 0;
    int rc = 0;

    for (size_t i = 0; i < t->nevs && !rc; i++) {
        const NetEvent *x = &t->evs[i];
        if ((rc = batch_room(bt, x->len, err))) break;
        if (!bt->last && (rc = table_map(bt, err))) break;
        size_t off = bt->b.len;
        if ((rc = buf_reserve(&bt->b, x->len + crc, err))) break;
        if ((rc = pitr_net_pread(n, x->off, bt->b.data + off, x->len, err))) break;
        bt->b.len += x->len;
        uint8_t *ev = bt->b.data + off;
        put48(ev + PITR_HDR, bt->table_id);
        put16(ev + PITR_HDR + 6, (pitr_get16(ev + PITR_HDR + 6) & ~NET_STMT_END_F) | NET_NO_FK_F);
        put32(ev + 13, 0);
        bt->last = off;
        if ((rc = event_close(bt, off, err))) break;
        bt->rows += x->rows;
    }
    if (!rc) rc = batch_flush(bt, err);
    return rc;
}

int pitr_net_emit(PitrNet *n, size_t table, size_t max_bytes, PitrNetBatchFn fn, void *ctx, Err *err)
{
    Batch bt;
    int rc;

    if (!n->finished) return err_set(err, ERR_INVALID, "net change: emit before finish");
    if (table >= n->npub) return err_set(err, ERR_INVALID, "net change: no table %zu", table);
    memset(&bt, 0, sizeof bt);
    bt.n = n;
    bt.t = n->tabs[n->pub[table]];
    bt.max = max_bytes;
    bt.fn = fn;
    bt.ctx = ctx;
    bt.table_id = table + 1;
    buf_init(&bt.b, (size_t)2 * PITR_UNCOMPRESS_MAX);
    rc = bt.t->info.def.fold ? emit_fold(&bt, err) : emit_ordered(&bt, err);
    buf_free(&bt.b);
    if (rc) return err_wrap(err, "emit table `%s`.`%s`", bt.t->info.db, bt.t->info.table);
    return 0;
}

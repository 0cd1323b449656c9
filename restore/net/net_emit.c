/* net_emit.c: a folded table back to row events, in batches the
 * target applies as BINLOG statements: Table_map (database renamed, our
 * table id) then rows events, NO_FOREIGN_KEY_CHECKS_F on each, STMT_END_F
 * on the batch's last one. Two phases: prepare (Delete_rows, then
 * Update_rows; an ordered table's events) and write (Write_rows, a shard
 * of the table's list of keys to write), as rst_net_finish planned them.
 * Invariant: only reads the RstNet (pread on its image file), so calls
 * for different (table, phase, shard) may run at once. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "restore/net/net_int.h"

typedef struct Batch {
    const RstNet *n;
    const NetTable *t;
    size_t max;
    RstNetBatchFn fn;
    void *ctx;
    Buf b;                 /* the batch */
    size_t last;           /* offset of the last event begun (0: none) */
    bool open;             /* a rows event of ours is being filled */
    uint64_t rows;
    uint64_t table_id;
} Batch;

static void header(const RstNet *n, uint8_t *h, uint8_t type)
{
    mdb_put_le32(h, n->timestamp);
    h[4] = type;
    mdb_put_le32(h + 5, n->server_id);
    mdb_put_le32(h + 9, 0);            /* length, set when the event is closed */
    mdb_put_le32(h + 13, 0);
    mdb_put_le16(h + 17, 0);
}

/* Set the length of the event at off (ending at the buffer's end, without
 * checksum yet), append its CRC32 when the Format_description says so. */
static int event_close(Batch *bt, size_t off, Err *err)
{
    size_t len = bt->b.len - off + (bt->n->fdesc_crc ? 4 : 0);
    if (len > UINT32_MAX) return err_set(err, ERR_NOMEM, "an event of %zu bytes", len);
    mdb_put_le32(bt->b.data + off + 9, (uint32_t)len);
    if (!bt->n->fdesc_crc) return 0;
    uint8_t c[4];
    mdb_put_le32(c, (uint32_t)crc32(0L, bt->b.data + off, (uInt)(len - 4)));
    return buf_append(&bt->b, c, 4, err);
}

/* The Table_map that opens every batch. */
static int table_map(Batch *bt, Err *err)
{
    const NetTable *t = bt->t;
    const MdbCols *c = t->cols;
    const char *db = t->info.def.target_db[0] ? t->info.def.target_db : t->info.db;
    size_t dl = strlen(db), off = bt->b.len;
    uint8_t h[MDB_HDR_LEN + 8];
    int rc;

    header(bt->n, h, MDB_EV_TABLE_MAP);
    memcpy(h + MDB_HDR_LEN, t->tmap + MDB_HDR_LEN, 8);
    mdb_put_le48(h + MDB_HDR_LEN, bt->table_id);
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
    size_t len = mdb_le32(ev + 9);
    mdb_put_le16(ev + MDB_HDR_LEN + 6, (uint16_t)(mdb_le16(ev + MDB_HDR_LEN + 6) | NET_STMT_END_F));
    if (bt->n->fdesc_crc) mdb_put_le32(ev + len - 4, (uint32_t)crc32(0L, ev, (uInt)(len - 4)));
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

/* One row into a rows event of type (Write or Delete v1: img; Update v1:
 * img then img2, the before and after images). */
static int add_row(Batch *bt, uint8_t type, const uint8_t *img, size_t len, const uint8_t *img2, size_t len2,
                   Err *err)
{
    const NetTable *t = bt->t;
    uint64_t ncols = t->cols->n;
    int rc;

    if (bt->open && bt->b.data[bt->last + 4] != type) {
        if ((rc = batch_flush(bt, err))) return rc;
    }
    if (bt->open && (rc = batch_room(bt, len + len2, err))) return rc;
    if (!bt->last && (rc = table_map(bt, err))) return rc;
    if (!bt->open) {
        uint8_t h[MDB_HDR_LEN + 8 + 9], bm[MDB_COLS_MAX / 8];
        size_t hl = MDB_HDR_LEN + 8, bl = (size_t)(ncols + 7) / 8;
        header(bt->n, h, type);
        mdb_put_le48(h + MDB_HDR_LEN, bt->table_id);
        mdb_put_le16(h + MDB_HDR_LEN + 6, NET_NO_FK_F);
        if (ncols < 251) {
            h[hl++] = (uint8_t)ncols;
        } else {
            h[hl++] = 252;
            mdb_put_le16(h + hl, (uint16_t)ncols);
            hl += 2;
        }
        memset(bm, 0, bl);
        for (uint64_t i = 0; i < ncols; i++) bm[i / 8] |= (uint8_t)(1u << (i % 8));
        bt->last = bt->b.len;
        bt->open = true;
        if ((rc = buf_append(&bt->b, h, hl, err)) || (rc = buf_append(&bt->b, bm, bl, err))) return rc;
        if (type == MDB_EV_UPDATE_V1 && (rc = buf_append(&bt->b, bm, bl, err))) return rc;
    }
    if ((rc = buf_append(&bt->b, img, len, err))) return rc;
    if (img2 && (rc = buf_append(&bt->b, img2, len2, err))) return rc;
    bt->rows++;
    return 0;
}

/* Read an image of the file into a (a->len stays 0). */
static int image_read(const RstNet *n, uint64_t off, uint32_t len, Buf *a, Err *err)
{
    int rc;
    buf_reset(a);
    if ((rc = buf_reserve(a, len, err))) return rc;
    return net_pread(n, off, a->data, len, err);
}

/* Prepare phase of a fold table: the Delete_rows of start images, then
 * the Update_rows (start -> end), each in first-touch order. */
static int emit_prepare(Batch *bt, Err *err)
{
    const RstNet *n = bt->n;
    const NetTable *t = bt->t;
    Buf a, b;
    int rc = 0;

    buf_init(&a, MDB_INFLATE_MAX);
    buf_init(&b, MDB_INFLATE_MAX);
    for (size_t i = 0; i < t->norder && !rc; i++) {
        const NetEntry *e = &n->ents[t->order[i]];
        if (e->kind != NET_K_DELETE && e->kind != NET_K_DW) continue;
        if (!(rc = image_read(n, e->start_off, e->start_len, &a, err)))
            rc = add_row(bt, MDB_EV_DELETE_V1, a.data, e->start_len, NULL, 0, err);
    }
    for (size_t i = 0; i < t->norder && !rc; i++) {
        const NetEntry *e = &n->ents[t->order[i]];
        if (e->kind != NET_K_UPDATE) continue;
        if (!(rc = image_read(n, e->start_off, e->start_len, &a, err)) &&
            !(rc = image_read(n, e->end_off, e->end_len, &b, err)))
            rc = add_row(bt, MDB_EV_UPDATE_V1, a.data, e->start_len, b.data, e->end_len, err);
    }
    if (!rc) rc = batch_flush(bt, err);
    buf_free(&a);
    buf_free(&b);
    return rc;
}

/* Write phase of a fold table: the Write_rows of end images of the keys
 * in [lo, hi) of its list of keys to write. */
static int emit_write(Batch *bt, size_t lo, size_t hi, Err *err)
{
    const RstNet *n = bt->n;
    const NetTable *t = bt->t;
    Buf a;
    int rc = 0;

    buf_init(&a, MDB_INFLATE_MAX);
    for (size_t i = lo; i < hi && !rc; i++) {
        const NetEntry *e = &n->ents[t->wlist[i]];
        if (!(rc = image_read(n, e->end_off, e->end_len, &a, err)))
            rc = add_row(bt, MDB_EV_WRITE_V1, a.data, e->end_len, NULL, 0, err);
    }
    if (!rc) rc = batch_flush(bt, err);
    buf_free(&a);
    return rc;
}

static int emit_ordered(Batch *bt, Err *err)
{
    const RstNet *n = bt->n;
    const NetTable *t = bt->t;
    size_t crc = n->fdesc_crc ? 4 : 0;
    int rc = 0;

    for (size_t i = 0; i < t->nevs && !rc; i++) {
        const NetEvent *x = &t->evs[i];
        if ((rc = batch_room(bt, x->len, err))) break;
        if (!bt->last && (rc = table_map(bt, err))) break;
        size_t off = bt->b.len;
        if ((rc = buf_reserve(&bt->b, x->len + crc, err))) break;
        if ((rc = net_pread(n, x->off, bt->b.data + off, x->len, err))) break;
        bt->b.len += x->len;
        uint8_t *ev = bt->b.data + off;
        mdb_put_le48(ev + MDB_HDR_LEN, bt->table_id);
        mdb_put_le16(ev + MDB_HDR_LEN + 6,
                     (uint16_t)((mdb_le16(ev + MDB_HDR_LEN + 6) & ~NET_STMT_END_F) | NET_NO_FK_F));
        mdb_put_le32(ev + 13, 0);
        bt->last = off;
        if ((rc = event_close(bt, off, err))) break;
        bt->rows += x->rows;
    }
    if (!rc) rc = batch_flush(bt, err);
    return rc;
}

int rst_net_emit_phase(RstNet *n, size_t table, RstNetPhase phase, unsigned shard, unsigned nshards,
                       size_t max_bytes, RstNetBatchFn fn, void *ctx, Err *err)
{
    Batch bt;
    int rc;

    if (!n->finished) return err_set(err, ERR_INVALID, "net change: emit before finish");
    if (table >= n->npub) return err_set(err, ERR_INVALID, "net change: no table %zu", table);
    if (phase != RST_NET_PHASE_PREPARE && phase != RST_NET_PHASE_WRITE)
        return err_set(err, ERR_INVALID, "net change: no emission phase %d", (int)phase);
    if (!nshards || shard >= nshards)
        return err_set(err, ERR_INVALID, "net change: shard %u of %u", shard, nshards);
    memset(&bt, 0, sizeof bt);
    bt.n = n;
    bt.t = n->tabs[n->pub[table]];
    bt.max = max_bytes;
    bt.fn = fn;
    bt.ctx = ctx;
    bt.table_id = table + 1;
    /* the prepare phase is not split: shard 0 emits it all */
    if (phase == RST_NET_PHASE_PREPARE && shard) return 0;
    if (phase == RST_NET_PHASE_WRITE && !bt.t->info.def.fold) return 0;
    buf_init(&bt.b, (size_t)2 * MDB_INFLATE_MAX);
    if (!bt.t->info.def.fold) {
        rc = emit_ordered(&bt, err);
    } else if (phase == RST_NET_PHASE_PREPARE) {
        rc = emit_prepare(&bt, err);
    } else {
        size_t nw = bt.t->nwlist;
        rc = emit_write(&bt, (size_t)((uint64_t)nw * shard / nshards),
                        (size_t)((uint64_t)nw * (shard + 1) / nshards), err);
    }
    buf_free(&bt.b);
    if (rc)
        return err_wrap(err, "emit table `%s`.`%s` (%s, shard %u of %u)", bt.t->info.db, bt.t->info.table,
                        phase == RST_NET_PHASE_PREPARE ? "prepare" : "write", shard, nshards);
    return 0;
}

int rst_net_emit(RstNet *n, size_t table, size_t max_bytes, RstNetBatchFn fn, void *ctx, Err *err)
{
    int rc = rst_net_emit_phase(n, table, RST_NET_PHASE_PREPARE, 0, 1, max_bytes, fn, ctx, err);
    if (!rc) rc = rst_net_emit_phase(n, table, RST_NET_PHASE_WRITE, 0, 1, max_bytes, fn, ctx, err);
    return rc;
}

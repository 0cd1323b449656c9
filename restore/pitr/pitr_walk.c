/* pitr_walk.c: every event of a range of archived segments, in order,
 * through a callback (plan and search), each segment checked against its
 * catalog entry (size and BLAKE2b-256) once read to its end.
 * Invariant: an event is handed over only whole; bytes left over at the
 * end of a segment are ERR_CORRUPT (a segment holds whole events). */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "restore/pitr/pitr_int.h"

#define EVENT_MAX ((size_t)1 << 31)

typedef struct Walk {
    const BinlogSegInfo *seg;
    RstPitrEventFn fn;
    void *ctx;
    Buf pending;
    size_t off;
    uint64_t pos, bytes;
    crypto_generichash_state hs;
    bool stopped;
} Walk;

static int on_chunk(void *ctx, const void *data, size_t len, Err *err)
{
    Walk *w = ctx;
    int rc;
    crypto_generichash_update(&w->hs, data, len);
    w->bytes += len;
    if (w->off) {
        memmove(w->pending.data, w->pending.data + w->off, w->pending.len - w->off);
        w->pending.len -= w->off;
        w->off = 0;
    }
    rc = buf_append(&w->pending, data, len, err);
    if (rc) return err_wrap(err, "binlog event buffer");
    while (w->pending.len - w->off >= MDB_HDR_LEN) {
        const uint8_t *ev = w->pending.data + w->off;
        uint32_t evlen = mdb_le32(ev + 9);
        if (evlen < MDB_HDR_LEN)
            return err_set(err, ERR_CORRUPT, "segment %" PRIu64 ": event at %s:%" PRIu64
                           " has a length of %u bytes", w->seg->seq, w->seg->file, w->pos, evlen);
        if (w->pending.len - w->off < evlen) break;
        rc = w->fn(w->ctx, w->seg, w->pos, ev, evlen, err);
        if (rc == RST_PITR_STOP) {
            w->stopped = true;
            return err_set(err, ERR_INTERRUPTED, "walk stopped");
        }
        if (rc) return rc;
        w->off += evlen;
        w->pos += evlen;
    }
    return 0;
}

int rst_pitr_walk(Repo *r, const BinlogCatalog *c, size_t from, size_t to, RstPitrEventFn fn,
                  void *ctx, Err *err)
{
    Walk w;
    int rc = 0;
    memset(&w, 0, sizeof w);
    buf_init(&w.pending, EVENT_MAX);
    w.fn = fn;
    w.ctx = ctx;
    for (size_t i = from; i <= to && i < binlog_catalog_count(c); i++) {
        uint8_t h[32];
        w.seg = binlog_catalog_at(c, i);
        w.pos = w.seg->start;
        w.bytes = 0;
        w.off = 0;
        w.pending.len = 0;
        crypto_generichash_init(&w.hs, NULL, 0, sizeof h);
        rc = binlog_segment_read(r, w.seg, on_chunk, &w, err);
        if (w.stopped) {
            err_clear(err);
            rc = 0;
            break;
        }
        if (rc) break;
        crypto_generichash_final(&w.hs, h, sizeof h);
        if (w.pending.len != w.off) {
            rc = err_set(err, ERR_CORRUPT, "segment %" PRIu64 " (%s:%" PRIu64 ") ends inside an event",
                         w.seg->seq, w.seg->file, w.seg->start);
            break;
        }
        if (w.bytes != w.seg->size || memcmp(h, w.seg->hash, sizeof h) != 0) {
            rc = err_set(err, ERR_CORRUPT, "segment %" PRIu64 " (%s:%" PRIu64 ") read back differs "
                         "from its catalog entry (%" PRIu64 " of %" PRIu64 " bytes)", w.seg->seq,
                         w.seg->file, w.seg->start, w.bytes, w.seg->size);
            break;
        }
    }
    buf_free(&w.pending);
    return rc;
}

/* pitr_source.c: the archive as a replay event source (RstEventNext). A
 * reader thread reads segments (repo_stream_read prefetches and decrypts)
 * into a bounded queue of chunks; the replay source's thread pulls whole
 * events out of it, in binlog-file form.
 *
 * Queue items: SEG (a segment starts), DATA (plaintext bytes), DONE (no
 * more segments), FAIL (the reader's error). The reader blocks while more
 * than QUEUE_MAX bytes wait; close sets `stop` and wakes it.
 * Invariants: the first file starts with its Format_description (the
 * segment's own first event, or the catalog's copy when the segment starts
 * later in the file); each segment's bytes are checked against its
 * catalog hash before the next segment is handed over. */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "restore/pitr/pitr_int.h"

#define QUEUE_MAX ((size_t)32 << 20)

typedef enum { IT_SEG, IT_DATA, IT_DONE, IT_FAIL } ItemKind;

typedef struct Item {
    struct Item *next;
    ItemKind kind;
    size_t seg;       /* IT_SEG */
    size_t len;       /* IT_DATA */
    uint8_t data[];
} Item;

struct RstPitrSource {
    Repo *r;
    const BinlogCatalog *c;
    size_t from, to;
    uint64_t start_pos;
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    Item *head, *tail;
    size_t queued;
    bool stop;
    Err fail;
    /* reader side */
    crypto_generichash_state hs;
    uint64_t seg_bytes;
    /* consumer side */
    const BinlogSegInfo *seg;
    Buf pending;
    size_t off;
    uint64_t pos;
    bool emit_fd;
    bool done;
    bool finished;    /* the reader's DONE or FAIL item was taken */
};

static void push(RstPitrSource *s, Item *it)
{
    pthread_mutex_lock(&s->mu);
    while (!s->stop && it->kind == IT_DATA && s->queued > QUEUE_MAX) pthread_cond_wait(&s->cv, &s->mu);
    it->next = NULL;
    if (s->tail) s->tail->next = it;
    else s->head = it;
    s->tail = it;
    if (it->kind == IT_DATA) s->queued += it->len;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int push_kind(RstPitrSource *s, ItemKind k, size_t seg)
{
    Item *it = calloc(1, sizeof *it);
    if (!it) return -1;
    it->kind = k;
    it->seg = seg;
    push(s, it);
    return 0;
}

static int on_chunk(void *ctx, const void *data, size_t len, Err *err)
{
    RstPitrSource *s = ctx;
    Item *it;
    if (s->stop) return err_set(err, ERR_INTERRUPTED, "replay source closed");
    it = malloc(sizeof *it + len);
    if (!it) return err_set(err, ERR_NOMEM, "archive read queue");
    it->kind = IT_DATA;
    it->len = len;
    memcpy(it->data, data, len);
    crypto_generichash_update(&s->hs, data, len);
    s->seg_bytes += len;
    push(s, it);
    return 0;
}

static void *reader(void *arg)
{
    RstPitrSource *s = arg;
    Err err;
    err_clear(&err);
    for (size_t i = s->from; i <= s->to && !s->stop; i++) {
        const BinlogSegInfo *si = binlog_catalog_at(s->c, i);
        uint8_t h[32];
        if (push_kind(s, IT_SEG, i)) {
            err_set(&err, ERR_NOMEM, "archive read queue");
            goto fail;
        }
        crypto_generichash_init(&s->hs, NULL, 0, sizeof h);
        s->seg_bytes = 0;
        if (binlog_segment_read(s->r, si, on_chunk, s, &err)) goto fail;
        crypto_generichash_final(&s->hs, h, sizeof h);
        if (s->seg_bytes != si->size || memcmp(h, si->hash, sizeof h) != 0) {
            err_set(&err, ERR_CORRUPT, "segment %" PRIu64 " (%s:%" PRIu64 ") read back differs from "
                    "its catalog entry", si->seq, si->file, si->start);
            goto fail;
        }
    }
    push_kind(s, IT_DONE, 0);
    return NULL;
fail:
    pthread_mutex_lock(&s->mu);
    s->fail = err;
    pthread_mutex_unlock(&s->mu);
    push_kind(s, IT_FAIL, 0);
    return NULL;
}

int rst_pitr_source_open(Repo *r, const BinlogCatalog *c, size_t from, size_t to,
                         uint64_t start_pos, RstPitrSource **out, Err *err)
{
    RstPitrSource *s;
    if (from > to || to >= binlog_catalog_count(c))
        return err_set(err, ERR_INVALID, "archive source: bad segment range %zu..%zu", from, to);
    s = calloc(1, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "archive source");
    s->r = r;
    s->c = c;
    s->from = from;
    s->to = to;
    s->start_pos = start_pos;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    buf_init(&s->pending, (size_t)1 << 31);
    if (pthread_create(&s->th, NULL, reader, s) != 0) {
        rst_pitr_source_close(s);
        return err_set(err, ERR_NOMEM, "archive source: cannot start the reader thread");
    }
    s->started = true;
    *out = s;
    return 0;
}

static Item *pop(RstPitrSource *s)
{
    Item *it;
    pthread_mutex_lock(&s->mu);
    while (!s->head) pthread_cond_wait(&s->cv, &s->mu);
    it = s->head;
    s->head = it->next;
    if (!s->head) s->tail = NULL;
    if (it->kind == IT_DATA) s->queued -= it->len;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return it;
}

/* A new segment: does it start a file whose Format_description we must send? */
static int begin_segment(RstPitrSource *s, size_t idx, Err *err)
{
    const BinlogSegInfo *si = binlog_catalog_at(s->c, idx);
    /* against the segment just read (s->seg): a file's head sealed alone (a
     * rotation on an idle server) and then its next segment is one file */
    bool new_file = !s->seg || strcmp(si->file, s->seg->file) != 0 ||
                    si->link == BINLOG_LINK_START || si->link == BINLOG_LINK_GTID;
    if (s->pending.len != s->off)
        return err_set(err, ERR_CORRUPT, "segment %" PRIu64 " (%s) ends inside an event",
                       s->seg ? s->seg->seq : 0, s->seg ? s->seg->file : "?");
    s->seg = si;
    s->pos = si->start;
    s->pending.len = 0;
    s->off = 0;
    if (new_file && si->start > 4) {
        if (!si->fd_len)
            return err_set(err, ERR_CORRUPT, "segment %" PRIu64 " starts %s at %" PRIu64
                           " without the file's Format_description", si->seq, si->file, si->start);
        s->emit_fd = true;
    }
    return 0;
}

int rst_pitr_source_next(void *ctx, const uint8_t **ev, size_t *len, Err *err)
{
    RstPitrSource *s = ctx;
    int rc;
    *ev = NULL;
    *len = 0;
    for (;;) {
        if (s->done) return 0;
        if (s->emit_fd) {
            s->emit_fd = false;
            *ev = s->seg->fd;
            *len = s->seg->fd_len;
            return 0;
        }
        if (s->seg && s->pending.len - s->off >= MDB_HDR_LEN) {
            const uint8_t *e = s->pending.data + s->off;
            uint32_t elen = mdb_le32(e + 9);
            if (elen < MDB_HDR_LEN)
                return err_set(err, ERR_CORRUPT, "segment %" PRIu64 ": event at %s:%" PRIu64
                               " has a length of %u bytes", s->seg->seq, s->seg->file, s->pos, elen);
            if (s->pending.len - s->off >= elen) {
                uint64_t at = s->pos;
                s->off += elen;
                s->pos += elen;
                /* the first segment: only its Format_description before the snapshot position */
                if (s->seg == binlog_catalog_at(s->c, s->from) && at < s->start_pos &&
                    e[4] != MDB_EV_FORMAT_DESC)
                    continue;
                *ev = e;
                *len = elen;
                return 0;
            }
        }
        Item *it = pop(s);
        switch (it->kind) {
        case IT_SEG:
            rc = begin_segment(s, it->seg, err);
            free(it);
            if (rc) return rc;
            break;
        case IT_DATA:
            if (s->off) {
                memmove(s->pending.data, s->pending.data + s->off, s->pending.len - s->off);
                s->pending.len -= s->off;
                s->off = 0;
            }
            rc = buf_append(&s->pending, it->data, it->len, err);
            free(it);
            if (rc) return err_wrap(err, "binlog event buffer");
            break;
        case IT_DONE:
            free(it);
            s->finished = true;
            if (s->pending.len != s->off)
                return err_set(err, ERR_CORRUPT, "segment %" PRIu64 " (%s) ends inside an event",
                               s->seg ? s->seg->seq : 0, s->seg ? s->seg->file : "?");
            s->done = true;
            return 0;
        case IT_FAIL:
        default:
            free(it);
            s->finished = true;
            pthread_mutex_lock(&s->mu);
            *err = s->fail;
            pthread_mutex_unlock(&s->mu);
            return err_wrap(err, "read the binlog archive");
        }
    }
}

void rst_pitr_source_close(RstPitrSource *s)
{
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        /* the reader may be blocked in push: drain until it has finished */
        while (!s->finished) {
            Item *it = pop(s);
            ItemKind k = it->kind;
            free(it);
            s->finished = k == IT_DONE || k == IT_FAIL;
        }
        pthread_join(s->th, NULL);
    }
    while (s->head) {
        Item *n = s->head->next;
        free(s->head);
        s->head = n;
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    buf_free(&s->pending);
    free(s);
}
